// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RLPItem, RLPReader} from "./RLPReader.sol";

/// @title MerkleTrie
/// @notice Verifies Merkle-Patricia trie proofs in the form `eth_getProof` returns them: the list of
///         RLP-encoded nodes on the path from the root to the key, each referenced by its parent
///         through keccak256. Nodes shorter than 32 bytes are embedded in their parent (inline) and
///         are not separate proof elements; they are followed in place.
/// @dev Node kinds (Yellow Paper, appendix D):
///        branch    = [c0, …, c15, value]   (17 items)
///        extension = [hp(path, false), child]
///        leaf      = [hp(path, true), value]
///      where a child reference is either the empty string (no child), a 32-byte string (keccak of
///      the child's encoding, which is then the next proof element) or the child itself as an
///      embedded list shorter than 32 bytes, and hp is the hex-prefix encoding
///      (flag nibble 0/1 = extension even/odd, 2/3 = leaf even/odd; even paths pad a zero nibble).
///      A proof must be used up exactly: extra elements are rejected.
library MerkleTrie {
    /// @notice Root of the empty trie, keccak256(0x80).
    bytes32 internal constant EMPTY_TRIE_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

    uint256 private constant BRANCH_ITEMS = 17;
    uint256 private constant SHORT_ITEMS = 2;

    uint256 private constant REF_EMPTY = 0;
    uint256 private constant REF_HASH = 1;
    uint256 private constant REF_INLINE = 2;

    /// @notice The proof has no nodes.
    error MerkleTrie_EmptyProof();
    /// @notice Proof element `proofIndex` does not hash to the reference its parent (or the root) holds.
    error MerkleTrie_InvalidNodeHash(uint256 proofIndex, bytes32 expected, bytes32 actual);
    /// @notice The path continues through a hashed child but the proof has no more elements.
    error MerkleTrie_ProofTooShort(uint256 proofLength);
    /// @notice The key was resolved after `used` elements but the proof has `proofLength`.
    error MerkleTrie_ProofTooLong(uint256 used, uint256 proofLength);
    /// @notice A node that is neither a branch (17 items) nor an extension/leaf (2 items).
    error MerkleTrie_InvalidNodeLength(uint256 items);
    /// @notice A node that is not a list.
    error MerkleTrie_NodeNotAList();
    /// @notice An extension or leaf with an empty path string.
    error MerkleTrie_EmptyPath();
    /// @notice A hex-prefix byte whose flag is above 3, or an even path whose pad nibble is not 0.
    error MerkleTrie_InvalidPathPrefix(uint8 firstByte);
    /// @notice An extension with no nibbles.
    error MerkleTrie_EmptyExtension();
    /// @notice An extension whose child reference is empty.
    error MerkleTrie_MissingExtensionChild();
    /// @notice A child reference string that is neither empty nor 32 bytes.
    error MerkleTrie_InvalidChildReference(uint256 length);
    /// @notice An embedded (inline) child node of 32 bytes or more (it must be hashed).
    error MerkleTrie_InvalidInlineNode(uint256 length);
    /// @notice A leaf whose value is empty (tries never store empty values).
    error MerkleTrie_EmptyLeafValue();
    /// @notice The proof is valid but shows that the key is not in the trie.
    error MerkleTrie_KeyNotFound();

    /// @notice The value stored under `_key`; reverts with {MerkleTrie_KeyNotFound} if the proof
    ///         shows the key absent, and with another error if the proof is malformed.
    function get(bytes memory _key, bytes[] memory _proof, bytes32 _root) internal pure returns (bytes memory value) {
        bool exists;
        (exists, value) = find(_key, _proof, _root);
        if (!exists) revert MerkleTrie_KeyNotFound();
    }

    /// @notice Walks `_proof` from `_root` along `_key`.
    /// @return exists Whether the key is in the trie (false for a valid proof of absence).
    /// @return value  The stored value (empty when absent).
    function find(bytes memory _key, bytes[] memory _proof, bytes32 _root)
        internal
        pure
        returns (bool exists, bytes memory value)
    {
        if (_proof.length == 0) revert MerkleTrie_EmptyProof();

        uint256 keyPtr;
        assembly ("memory-safe") {
            keyPtr := add(_key, 32)
        }
        uint256 keyNibbles = _key.length * 2;
        uint256 keyIndex; // nibbles of the key consumed so far
        uint256 proofIndex; // next proof element to read

        RLPItem node;
        bytes32 nodeHash = _root;
        bool hashed = true; // whether the next node is a proof element (else `node` is inline)

        while (true) {
            if (hashed) {
                if (proofIndex == _proof.length) revert MerkleTrie_ProofTooShort(_proof.length);
                bytes memory encoded = _proof[proofIndex];
                bytes32 actual = keccak256(encoded);
                if (actual != nodeHash) revert MerkleTrie_InvalidNodeHash(proofIndex, nodeHash, actual);
                node = RLPReader.toItem(encoded);
                ++proofIndex;
                if (!RLPReader.isList(node)) {
                    // Only the empty trie's root (0x80) is a string; it holds nothing.
                    if (proofIndex == 1 && nodeHash == EMPTY_TRIE_ROOT) break;
                    revert MerkleTrie_NodeNotAList();
                }
            }

            RLPItem[] memory items = RLPReader.readList(node);

            if (items.length == BRANCH_ITEMS) {
                if (keyIndex == keyNibbles) {
                    // The key ends at this branch: its value slot answers (empty = absent).
                    value = RLPReader.readBytes(items[16]);
                    exists = value.length != 0;
                    break;
                }
                RLPItem child = items[_nibble(keyPtr, keyIndex)];
                ++keyIndex;
                uint256 ref;
                (ref, nodeHash) = _childRef(child);
                if (ref == REF_EMPTY) break;
                hashed = ref == REF_HASH;
                node = child;
            } else if (items.length == SHORT_ITEMS) {
                (bool leaf, bool matches, uint256 pathNibbles) = _readPath(items[0], keyPtr, keyIndex, keyNibbles);

                if (leaf) {
                    // Leaf: the key is here only if the path is exactly the rest of the key.
                    if (matches && keyIndex + pathNibbles == keyNibbles) {
                        value = RLPReader.readBytes(items[1]);
                        if (value.length == 0) revert MerkleTrie_EmptyLeafValue();
                        exists = true;
                    }
                    break;
                }
                // Extension.
                if (pathNibbles == 0) revert MerkleTrie_EmptyExtension();
                if (!matches) break;
                keyIndex += pathNibbles;
                uint256 ref;
                (ref, nodeHash) = _childRef(items[1]);
                if (ref == REF_EMPTY) revert MerkleTrie_MissingExtensionChild();
                hashed = ref == REF_HASH;
                node = items[1];
            } else {
                revert MerkleTrie_InvalidNodeLength(items.length);
            }
        }

        if (proofIndex != _proof.length) revert MerkleTrie_ProofTooLong(proofIndex, _proof.length);
    }

    /// @notice {find} in a secure trie, where the path of `_key` is keccak256(_key).
    function findSecure(bytes memory _key, bytes[] memory _proof, bytes32 _root)
        internal
        pure
        returns (bool exists, bytes memory value)
    {
        return find(abi.encodePacked(keccak256(_key)), _proof, _root);
    }

    /// @notice The value of storage slot `_slot` in an account whose storage root is `_storageRoot`,
    ///         proven by `_proof` (one entry of `eth_getProof`'s `storageProof[].proof`). A proof of
    ///         absence gives 0, as the EVM would read.
    function getStorageValue(bytes32 _slot, bytes[] memory _proof, bytes32 _storageRoot)
        internal
        pure
        returns (uint256)
    {
        (bool exists, bytes memory encoded) = findSecure(abi.encodePacked(_slot), _proof, _storageRoot);
        if (!exists) return 0;
        // Storage trie values are the RLP encoding of the slot value as a minimal integer.
        return RLPReader.readUint(RLPReader.toItem(encoded));
    }

    /// @dev Decodes the hex-prefix path of a leaf or extension and matches it against the key from
    ///      nibble `keyIndex`.
    /// @return leaf        Whether the node is a leaf.
    /// @return matches     Whether the path's nibbles equal the key's next nibbles.
    /// @return pathNibbles Number of nibbles in the path.
    function _readPath(RLPItem pathItem, uint256 keyPtr, uint256 keyIndex, uint256 keyNibbles)
        private
        pure
        returns (bool leaf, bool matches, uint256 pathNibbles)
    {
        (uint256 pathPtr, uint256 pathLength) = RLPReader.readStringPayload(pathItem);
        if (pathLength == 0) revert MerkleTrie_EmptyPath();
        uint256 first;
        assembly ("memory-safe") {
            first := byte(0, mload(pathPtr))
        }
        uint256 flag = first >> 4;
        if (flag > 3 || (flag & 1 == 0 && first & 0x0f != 0)) {
            // `first` is one byte (`byte(0, …)`): the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            revert MerkleTrie_InvalidPathPrefix(uint8(first));
        }
        leaf = flag >= 2;
        // Odd paths use the low nibble of the first byte; even ones skip the whole byte.
        uint256 skip = flag & 1 == 1 ? 1 : 2;
        pathNibbles = pathLength * 2 - skip;
        matches = keyIndex + pathNibbles <= keyNibbles && _equalNibbles(pathPtr, skip, keyPtr, keyIndex, pathNibbles);
    }

    /// @dev Whether `n` nibbles at nibble offset `a` of the bytes at `aPtr` equal those at nibble
    ///      offset `b` of the bytes at `bPtr`. When both offsets have the same parity (always the case
    ///      for a leaf that matches a fixed-length key) the bytes are compared a word at a time.
    function _equalNibbles(uint256 aPtr, uint256 a, uint256 bPtr, uint256 b, uint256 n) private pure returns (bool) {
        if ((a ^ b) & 1 == 1) {
            for (uint256 j; j < n; ++j) {
                if (_nibble(aPtr, a + j) != _nibble(bPtr, b + j)) return false;
            }
            return true;
        }
        if (n == 0) return true;
        if (a & 1 == 1) {
            if (_nibble(aPtr, a) != _nibble(bPtr, b)) return false;
            // Unchecked: n >= 1 here, and the offsets stay far below 2^256.
            unchecked {
                ++a;
                ++b;
                --n;
            }
        }
        bool equal = true;
        assembly ("memory-safe") {
            let pa := add(aPtr, shr(1, a))
            let pb := add(bPtr, shr(1, b))
            let count := shr(1, n) // whole bytes
            for { let i := 0 } lt(i, count) { i := add(i, 32) } {
                let x := mload(add(pa, i))
                let y := mload(add(pb, i))
                let rest := sub(count, i)
                if lt(rest, 32) {
                    let drop := shl(3, sub(32, rest))
                    x := shr(drop, x)
                    y := shr(drop, y)
                }
                if iszero(eq(x, y)) {
                    equal := 0
                    break
                }
            }
            // An odd count leaves the high nibble of one more byte.
            if and(equal, and(n, 1)) {
                equal := eq(shr(4, byte(0, mload(add(pa, count)))), shr(4, byte(0, mload(add(pb, count)))))
            }
        }
        return equal;
    }

    /// @dev Kind and hash of a child reference.
    function _childRef(RLPItem _ref) private pure returns (uint256 kind, bytes32 hash) {
        (uint256 offset, uint256 length, bool list) = RLPReader.decodeHeader(_ref);
        if (list) {
            uint256 size = RLPReader.length(_ref);
            if (size >= 32) revert MerkleTrie_InvalidInlineNode(size);
            return (REF_INLINE, bytes32(0));
        }
        if (length == 0) return (REF_EMPTY, bytes32(0));
        if (length != 32) revert MerkleTrie_InvalidChildReference(length);
        uint256 ptr = RLPReader.memPtr(_ref) + offset;
        assembly ("memory-safe") {
            hash := mload(ptr)
        }
        return (REF_HASH, hash);
    }

    /// @dev Nibble `_i` (high nibble first) of the bytes at `_ptr`.
    function _nibble(uint256 _ptr, uint256 _i) private pure returns (uint256 n) {
        assembly ("memory-safe") {
            let b := byte(0, mload(add(_ptr, shr(1, _i))))
            // Even index: high nibble (shift 4); odd: low nibble.
            n := and(shr(shl(2, iszero(and(_i, 1))), b), 0xf)
        }
    }
}
