// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RLPWriter} from "./RLPWriter.sol";

/// @notice Test-only storage tries small enough to build in Solidity.
library TrieHelper {
    /// @notice A secure storage trie holding only `slot = value`: its root and the proof of `slot`.
    /// @dev The trie is a single leaf `[hp(keccak256(slot), leaf), rlp(value)]`; with 64 nibbles the
    ///      hex-prefix is the byte 0x20 followed by the 32 key bytes.
    function singleLeaf(bytes32 slot, uint256 value) internal pure returns (bytes32 root, bytes[] memory proof) {
        bytes memory path = abi.encodePacked(bytes1(0x20), keccak256(abi.encodePacked(slot)));
        bytes memory leaf =
            RLPWriter.writeList(RLPWriter.writeBytes(path), RLPWriter.writeBytes(RLPWriter.writeUint(value)));
        proof = new bytes[](1);
        proof[0] = leaf;
        root = keccak256(leaf);
    }
}
