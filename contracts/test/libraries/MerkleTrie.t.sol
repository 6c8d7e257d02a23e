// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleTrie} from "../../src/libraries/MerkleTrie.sol";
import {RLPItem, RLPReader} from "../../src/libraries/RLPReader.sol";
import {Fixture, FixtureWithdrawal} from "../helpers/Fixture.sol";
import {RLPWriter} from "../helpers/RLPWriter.sol";
import {TrieHelper} from "../helpers/TrieHelper.sol";
import {Test} from "../utils/Test.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @notice Exposes MerkleTrie so that reverts happen one call below the test.
contract MerkleTrieHarness {
    function find(bytes memory key, bytes[] memory proof, bytes32 root) external pure returns (bool, bytes memory) {
        return MerkleTrie.find(key, proof, root);
    }

    function get(bytes memory key, bytes[] memory proof, bytes32 root) external pure returns (bytes memory) {
        return MerkleTrie.get(key, proof, root);
    }

    function findSecure(bytes memory key, bytes[] memory proof, bytes32 root)
        external
        pure
        returns (bool, bytes memory)
    {
        return MerkleTrie.findSecure(key, proof, root);
    }

    function getStorageValue(bytes32 slot, bytes[] memory proof, bytes32 root) external pure returns (uint256) {
        return MerkleTrie.getStorageValue(slot, proof, root);
    }
}

contract MerkleTrieTest is Test {
    MerkleTrieHarness internal h;
    string internal json;
    bytes32 internal storageRoot;

    function setUp() public {
        h = new MerkleTrieHarness();
        json = Fixture.load();
        storageRoot = vm.parseJsonBytes32(json, ".messagePasserStorageRoot");
    }

    // ---------------------------------------------------------------- real proofs (anvil)

    function test_getStorageValue_realProofs_succeeds() public view {
        uint256 n = Fixture.withdrawalCount(json);
        vm.assertGe(n, 10);
        for (uint256 i; i < n; ++i) {
            FixtureWithdrawal memory w = Fixture.withdrawal(json, i);
            vm.assertEq(h.getStorageValue(w.slot, w.proof, storageRoot), 1, "sentMessages slot is 1");
        }
    }

    function test_getStorageValue_realProofThroughExtension_succeeds() public view {
        vm.assertGt(vm.parseJsonUint(json, ".extensionProofs"), 0);
        // Find a proof with a short node before its last one: an extension node.
        uint256 n = Fixture.withdrawalCount(json);
        bool found;
        for (uint256 i; i < n && !found; ++i) {
            FixtureWithdrawal memory w = Fixture.withdrawal(json, i);
            for (uint256 j; j + 1 < w.proof.length; ++j) {
                RLPItem[] memory items = _items(w.proof[j]);
                if (items.length == 2) {
                    found = true;
                    vm.assertEq(h.getStorageValue(w.slot, w.proof, storageRoot), 1);
                }
            }
        }
        vm.assertTrue(found, "fixture has an extension node");
    }

    function test_getStorageValue_realProofOfAbsence_succeeds() public view {
        FixtureWithdrawal memory w = Fixture.entry(json, ".unsent");
        vm.assertEq(h.getStorageValue(w.slot, w.proof, storageRoot), 0);
        (bool exists, bytes memory value) = h.findSecure(abi.encodePacked(w.slot), w.proof, storageRoot);
        vm.assertFalse(exists);
        vm.assertEq(value.length, 0);
    }

    function test_getStorageValue_realProofOfTwo_succeeds() public view {
        FixtureWithdrawal memory w = Fixture.entry(json, ".wrongValue");
        vm.assertEq(w.storedValue, 2);
        vm.assertEq(h.getStorageValue(w.slot, w.proof, storageRoot), 2);
    }

    /// The account proof ties the storage root to the block's state root: the fixture is one
    /// consistent state, and the verifier handles the (larger) state trie too.
    function test_findSecure_realAccountProof_succeeds() public view {
        bytes32 stateRoot = vm.parseJsonBytes32(json, ".stateRoot");
        address passer = vm.parseJsonAddress(json, ".messagePasser");
        bytes[] memory proof = vm.parseJsonBytesArray(json, ".accountProof");
        (bool exists, bytes memory account) = h.findSecure(abi.encodePacked(passer), proof, stateRoot);
        vm.assertTrue(exists);
        // account = [nonce, balance, storageRoot, codeHash]
        RLPItem[] memory fields = RLPReader.readList(RLPReader.toItem(account));
        vm.assertEq(fields.length, 4);
        vm.assertEq(bytes32(RLPReader.readBytes(fields[2])), storageRoot);
        // The passer holds the ETH of the hand-made withdrawals: 1 + 0.5 + 2 + 3 ether + 123456789 wei.
        vm.assertEq(RLPReader.readUint(fields[1]), 6.5 ether + 123456789);
    }

    function test_get_realProofKeyAbsent_reverts() public {
        FixtureWithdrawal memory w = Fixture.entry(json, ".unsent");
        vm.expectRevert(MerkleTrie.MerkleTrie_KeyNotFound.selector);
        h.get(abi.encodePacked(keccak256(abi.encodePacked(w.slot))), w.proof, storageRoot);
    }

    function test_get_tamperedMiddleNode_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        bytes32 expected = keccak256(w.proof[1]);
        w.proof[1][40] ^= 0x01;
        vm.expectRevert(
            abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidNodeHash.selector, 1, expected, keccak256(w.proof[1]))
        );
        h.getStorageValue(w.slot, w.proof, storageRoot);
    }

    function test_get_tamperedRootNode_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        w.proof[0][100] ^= 0x80;
        vm.expectRevert(
            abi.encodeWithSelector(
                MerkleTrie.MerkleTrie_InvalidNodeHash.selector, 0, storageRoot, keccak256(w.proof[0])
            )
        );
        h.getStorageValue(w.slot, w.proof, storageRoot);
    }

    function test_get_wrongRoot_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        vm.expectPartialRevert(MerkleTrie.MerkleTrie_InvalidNodeHash.selector);
        h.getStorageValue(w.slot, w.proof, keccak256("other root"));
    }

    function test_get_proofOfAnotherSlot_reverts() public {
        FixtureWithdrawal memory a = Fixture.withdrawal(json, 0);
        FixtureWithdrawal memory b = Fixture.withdrawal(json, 1);
        // b's path leaves a's at some branch: the next proof node is not the child b's key selects.
        vm.expectPartialRevert(MerkleTrie.MerkleTrie_InvalidNodeHash.selector);
        h.getStorageValue(b.slot, a.proof, storageRoot);
    }

    function test_get_proofTooShort_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        bytes[] memory shorter = new bytes[](w.proof.length - 1);
        for (uint256 i; i < shorter.length; ++i) {
            shorter[i] = w.proof[i];
        }
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_ProofTooShort.selector, shorter.length));
        h.getStorageValue(w.slot, shorter, storageRoot);
    }

    function test_get_proofTooLong_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        bytes[] memory longer = new bytes[](w.proof.length + 1);
        for (uint256 i; i < w.proof.length; ++i) {
            longer[i] = w.proof[i];
        }
        longer[w.proof.length] = w.proof[0];
        vm.expectRevert(
            abi.encodeWithSelector(MerkleTrie.MerkleTrie_ProofTooLong.selector, w.proof.length, longer.length)
        );
        h.getStorageValue(w.slot, longer, storageRoot);
    }

    function test_get_emptyProof_reverts() public {
        vm.expectRevert(MerkleTrie.MerkleTrie_EmptyProof.selector);
        h.getStorageValue(bytes32(0), new bytes[](0), storageRoot);
    }

    /// Any one-byte change anywhere in a real proof is rejected.
    function testFuzz_get_tamperedRealProof_reverts(uint256 which, uint256 node, uint256 offset, uint8 delta) public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, bound(which, 0, Fixture.withdrawalCount(json) - 1));
        node = bound(node, 0, w.proof.length - 1);
        offset = bound(offset, 0, w.proof[node].length - 1);
        delta = uint8(bound(delta, 1, 255));
        w.proof[node][offset] = bytes1(uint8(w.proof[node][offset]) ^ delta);
        vm.expectPartialRevert(MerkleTrie.MerkleTrie_InvalidNodeHash.selector);
        h.getStorageValue(w.slot, w.proof, storageRoot);
    }

    // ---------------------------------------------------------------- inline nodes (ethereum/tests tries)

    function test_get_inlineNodeTries_succeeds() public view {
        string memory tries = vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/inline_tries.json"));
        for (uint256 t; t < 3; ++t) {
            string memory base = string.concat(".tries[", Strings.toString(t), "]");
            bytes32 root = vm.parseJsonBytes32(tries, string.concat(base, ".root"));
            for (uint256 i;; ++i) {
                string memory k = string.concat(base, ".present[", Strings.toString(i), "]");
                if (!_has(tries, string.concat(k, ".key"))) break;
                bytes memory value = h.get(
                    vm.parseJsonBytes(tries, string.concat(k, ".key")),
                    vm.parseJsonBytesArray(tries, string.concat(k, ".proof")),
                    root
                );
                vm.assertEq(value, vm.parseJsonBytes(tries, string.concat(k, ".value")));
            }
            for (uint256 i;; ++i) {
                string memory k = string.concat(base, ".absent[", Strings.toString(i), "]");
                if (!_has(tries, string.concat(k, ".key"))) break;
                (bool exists,) = h.find(
                    vm.parseJsonBytes(tries, string.concat(k, ".key")),
                    vm.parseJsonBytesArray(tries, string.concat(k, ".proof")),
                    root
                );
                vm.assertFalse(exists);
            }
        }
    }

    /// "horse" in the puppy trie: root branch's child is an inline leaf (no second proof element).
    function test_get_inlineLeaf_succeeds() public view {
        string memory tries = vm.readFile(string.concat(vm.projectRoot(), "/test/fixtures/inline_tries.json"));
        bytes[] memory proof = vm.parseJsonBytesArray(tries, ".tries[0].present[1].proof");
        vm.assertEq(vm.parseJsonBytes(tries, ".tries[0].present[1].key"), bytes("horse"));
        vm.assertEq(proof.length, 2);
        vm.assertEq(h.get(bytes("horse"), proof, vm.parseJsonBytes32(tries, ".tries[0].root")), bytes("stallion"));
    }

    function test_get_inlineNodeTooLong_reverts() public {
        // Root branch whose child 0 is an embedded list of 32 bytes (which must be hashed instead).
        bytes memory big = RLPWriter.writeList(RLPWriter.writeBytes(hex"20"), RLPWriter.writeBytes(new bytes(29)));
        vm.assertEq(big.length, 32);
        bytes[] memory proof = _one(_branch(0, big));
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidInlineNode.selector, 32));
        h.get(hex"00", proof, keccak256(proof[0]));
    }

    // ---------------------------------------------------------------- malformed nodes (synthetic)

    function test_find_emptyTrie_succeeds() public view {
        (bool exists, bytes memory value) = h.find(hex"1234", _one(hex"80"), MerkleTrie.EMPTY_TRIE_ROOT);
        vm.assertFalse(exists);
        vm.assertEq(value.length, 0);
    }

    function test_find_stringNode_reverts() public {
        bytes[] memory proof = _one(hex"83646f67");
        vm.expectRevert(MerkleTrie.MerkleTrie_NodeNotAList.selector);
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_threeItemNode_reverts() public {
        bytes[] memory items = new bytes[](3);
        items[0] = hex"01";
        items[1] = hex"02";
        items[2] = hex"03";
        bytes[] memory proof = _one(RLPWriter.writeList(items));
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidNodeLength.selector, 3));
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_emptyPath_reverts() public {
        bytes[] memory proof = _one(RLPWriter.writeList(hex"80", hex"01"));
        vm.expectRevert(MerkleTrie.MerkleTrie_EmptyPath.selector);
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_pathFlagAboveThree_reverts() public {
        bytes[] memory proof = _one(RLPWriter.writeList(RLPWriter.writeBytes(hex"4012"), hex"01"));
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidPathPrefix.selector, uint8(0x40)));
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_evenPathWithNonZeroPad_reverts() public {
        bytes[] memory proof = _one(RLPWriter.writeList(RLPWriter.writeBytes(hex"2512"), hex"01"));
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidPathPrefix.selector, uint8(0x25)));
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_emptyExtension_reverts() public {
        bytes[] memory proof = _one(RLPWriter.writeList(hex"00", RLPWriter.writeBytes(bytes.concat(keccak256("x")))));
        vm.expectRevert(MerkleTrie.MerkleTrie_EmptyExtension.selector);
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_extensionWithoutChild_reverts() public {
        // Extension with odd path [1] matching key nibble 1, and an empty child reference.
        bytes[] memory proof = _one(RLPWriter.writeList(hex"11", hex"80"));
        vm.expectRevert(MerkleTrie.MerkleTrie_MissingExtensionChild.selector);
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_badChildReference_reverts() public {
        bytes[] memory proof = _one(_branch(1, RLPWriter.writeBytes(hex"0102030405")));
        vm.expectRevert(abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidChildReference.selector, 5));
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_emptyLeafValue_reverts() public {
        bytes[] memory proof = _one(RLPWriter.writeList(RLPWriter.writeBytes(hex"2012"), hex"80"));
        vm.expectRevert(MerkleTrie.MerkleTrie_EmptyLeafValue.selector);
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_malformedNodeRlp_reverts() public {
        // A list header announcing more bytes than the node has.
        bytes[] memory proof = _one(hex"c50102");
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 6, 3));
        h.find(hex"12", proof, keccak256(proof[0]));
    }

    function test_find_branchValueAtKeyEnd_succeeds() public view {
        // A branch holding a value for the empty key.
        bytes[] memory proof = _one(_branchWithValue(RLPWriter.writeBytes(bytes("v"))));
        (bool exists, bytes memory value) = h.find(hex"", proof, keccak256(proof[0]));
        vm.assertTrue(exists);
        vm.assertEq(value, bytes("v"));
    }

    function test_find_emptyBranchChild_succeeds() public view {
        bytes[] memory proof = _one(_branch(3, RLPWriter.writeBytes(bytes.concat(keccak256("c")))));
        (bool exists,) = h.find(hex"12", proof, keccak256(proof[0]));
        vm.assertFalse(exists);
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_getStorageValue_singleLeaf_succeeds(bytes32 slot, uint256 value) public view {
        vm.assume(value != 0);
        (bytes32 root, bytes[] memory proof) = TrieHelper.singleLeaf(slot, value);
        vm.assertEq(h.getStorageValue(slot, proof, root), value);
    }

    function testFuzz_getStorageValue_singleLeafOtherSlot_isAbsent(bytes32 slot, bytes32 other) public view {
        vm.assume(slot != other);
        (bytes32 root, bytes[] memory proof) = TrieHelper.singleLeaf(slot, 1);
        vm.assertEq(h.getStorageValue(other, proof, root), 0);
    }

    // ---------------------------------------------------------------- helpers

    function _items(bytes memory node) internal pure returns (RLPItem[] memory) {
        return RLPReader.readList(RLPReader.toItem(node));
    }

    function _one(bytes memory node) internal pure returns (bytes[] memory proof) {
        proof = new bytes[](1);
        proof[0] = node;
    }

    /// A branch with one child reference (already encoded) at `nibble`, no value.
    function _branch(uint256 nibble, bytes memory child) internal pure returns (bytes memory) {
        bytes[] memory items = new bytes[](17);
        for (uint256 i; i < 17; ++i) {
            items[i] = i == nibble ? child : bytes(hex"80");
        }
        return RLPWriter.writeList(items);
    }

    function _branchWithValue(bytes memory value) internal pure returns (bytes memory) {
        bytes[] memory items = new bytes[](17);
        for (uint256 i; i < 16; ++i) {
            items[i] = hex"80";
        }
        items[16] = value;
        return RLPWriter.writeList(items);
    }

    function _has(string memory j, string memory key) internal view returns (bool) {
        try this.parseBytes(j, key) returns (bytes memory) {
            return true;
        } catch {
            return false;
        }
    }

    function parseBytes(string memory j, string memory key) external pure returns (bytes memory) {
        return vm.parseJsonBytes(j, key);
    }
}
