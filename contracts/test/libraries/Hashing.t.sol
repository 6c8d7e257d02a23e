// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AddressAlias} from "../../src/libraries/AddressAlias.sol";
import {Hashing} from "../../src/libraries/Hashing.sol";
import {Types} from "../../src/libraries/Types.sol";
import {Fixture, FixtureWithdrawal} from "../helpers/Fixture.sol";
import {Test} from "../utils/Test.sol";

contract HashingTest is Test {
    /// The hashes cast computed in generate.sh (and the message passer agreed with on anvil).
    function test_hashWithdrawal_matchesFixture_succeeds() public view {
        string memory json = Fixture.load();
        for (uint256 i; i < Fixture.withdrawalCount(json); ++i) {
            FixtureWithdrawal memory w = Fixture.withdrawal(json, i);
            vm.assertEq(Hashing.hashWithdrawal(w.tx_), w.withdrawalHash);
            vm.assertEq(Hashing.withdrawalStorageSlot(w.withdrawalHash), w.slot);
        }
    }

    function testFuzz_hashWithdrawal_looseFieldsAgree(
        uint256 nonce,
        address sender,
        address target,
        uint256 value,
        uint256 gasLimit,
        bytes memory data
    ) public pure {
        Types.WithdrawalTransaction memory w = Types.WithdrawalTransaction(nonce, sender, target, value, gasLimit, data);
        bytes32 expected = keccak256(abi.encode(nonce, sender, target, value, gasLimit, data));
        vm.assertEq(Hashing.hashWithdrawal(w), expected);
        vm.assertEq(Hashing.hashWithdrawal(nonce, sender, target, value, gasLimit, data), expected);
    }

    /// Output root v0 = keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ latestBlockHash).
    function testFuzz_hashOutputRootProof_isConcatenationHash(bytes32 stateRoot, bytes32 storageRoot, bytes32 blockHash)
        public
        pure
    {
        Types.OutputRootProof memory p = Types.OutputRootProof(bytes32(0), stateRoot, storageRoot, blockHash);
        vm.assertEq(
            Hashing.hashOutputRootProof(p), keccak256(abi.encodePacked(bytes32(0), stateRoot, storageRoot, blockHash))
        );
    }

    function testFuzz_hashOutputRootProof_versionMatters(bytes32 version, bytes32 stateRoot) public pure {
        vm.assume(version != bytes32(0));
        vm.assertNotEq(
            Hashing.hashOutputRootProof(Types.OutputRootProof(version, stateRoot, bytes32(0), bytes32(0))),
            Hashing.hashOutputRootProof(Types.OutputRootProof(bytes32(0), stateRoot, bytes32(0), bytes32(0)))
        );
    }

    function test_hashOutputRootProof_knownVector_succeeds() public pure {
        // keccak256 of 128 zero bytes.
        vm.assertEq(
            Hashing.hashOutputRootProof(Types.OutputRootProof(0, 0, 0, 0)),
            0x012893657d8eb2efad4de0a91bcd0e39ad9837745dec3ea923737ea803fc8e3d
        );
    }

    /// opaqueData = mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data.
    function testFuzz_encodeDepositOpaqueData_layout(
        uint256 mint,
        uint256 value,
        uint64 gasLimit,
        bool isCreation,
        bytes memory data
    ) public view {
        bytes memory opaque = Hashing.encodeDepositOpaqueData(mint, value, gasLimit, isCreation, data);
        vm.assertEq(opaque.length, 73 + data.length);
        (uint256 m, uint256 v, uint64 g, bool c, bytes memory d) = this.splitOpaque(opaque);
        vm.assertEq(m, mint);
        vm.assertEq(v, value);
        vm.assertEq(uint256(g), uint256(gasLimit));
        vm.assertEq(c, isCreation);
        vm.assertEq(d, data);
    }

    function splitOpaque(bytes calldata o) external pure returns (uint256, uint256, uint64, bool, bytes memory) {
        return (uint256(bytes32(o[0:32])), uint256(bytes32(o[32:64])), uint64(bytes8(o[64:72])), o[72] == 0x01, o[73:]);
    }

    function test_applyL1ToL2Alias_knownVectors_succeeds() public pure {
        vm.assertEq(AddressAlias.applyL1ToL2Alias(address(0)), 0x1111000000000000000000000000000000001111);
        // Wraps modulo 2^160.
        vm.assertEq(
            AddressAlias.applyL1ToL2Alias(0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF),
            0x1111000000000000000000000000000000001110
        );
        vm.assertEq(AddressAlias.undoL1ToL2Alias(0x1111000000000000000000000000000000001111), address(0));
    }

    function testFuzz_alias_roundTrip(address a) public pure {
        vm.assertEq(AddressAlias.undoL1ToL2Alias(AddressAlias.applyL1ToL2Alias(a)), a);
        vm.assertNotEq(AddressAlias.applyL1ToL2Alias(a), a);
    }
}
