// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only RLP encoder: builds inputs for the RLPReader and MerkleTrie tests.
library RLPWriter {
    /// @notice RLP of the byte string `b`.
    function writeBytes(bytes memory b) internal pure returns (bytes memory) {
        if (b.length == 1 && uint8(b[0]) < 0x80) return b;
        return bytes.concat(header(b.length, 0x80), b);
    }

    /// @notice RLP of the list whose items are the already-encoded `items`.
    function writeList(bytes[] memory items) internal pure returns (bytes memory body) {
        for (uint256 i; i < items.length; ++i) {
            body = bytes.concat(body, items[i]);
        }
        return bytes.concat(header(body.length, 0xc0), body);
    }

    /// @notice RLP of a two-item list.
    function writeList(bytes memory a, bytes memory b) internal pure returns (bytes memory) {
        bytes[] memory items = new bytes[](2);
        items[0] = a;
        items[1] = b;
        return writeList(items);
    }

    /// @notice RLP of `v` as a minimal big-endian integer.
    function writeUint(uint256 v) internal pure returns (bytes memory) {
        return writeBytes(minimalBytes(v));
    }

    /// @notice `v` big-endian without leading zero bytes (empty for 0).
    function minimalBytes(uint256 v) internal pure returns (bytes memory out) {
        uint256 n;
        for (uint256 x = v; x != 0; x >>= 8) {
            ++n;
        }
        out = new bytes(n);
        for (uint256 i; i < n; ++i) {
            out[n - 1 - i] = bytes1(uint8(v >> (8 * i)));
        }
    }

    /// @notice Header for a payload of `len` bytes; `offset` is 0x80 (string) or 0xc0 (list).
    function header(uint256 len, uint8 offset) internal pure returns (bytes memory) {
        if (len < 56) return abi.encodePacked(uint8(offset + len));
        bytes memory lenBytes = minimalBytes(len);
        return bytes.concat(abi.encodePacked(uint8(offset + 55 + lenBytes.length)), lenBytes);
    }
}
