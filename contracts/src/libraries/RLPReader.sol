// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A view of one RLP item in memory, packed in one word: `(ptr << 128) | length`, where
///         `ptr` is the memory address of the item's first byte (its header) and `length` the size
///         of its whole encoding.
/// @dev Items point into the buffer they were read from; nothing is copied until a caller asks for
///      bytes ({RLPReader.readBytes}). A value type keeps `RLPItem[]` a plain word array: reading a
///      17-item trie branch allocates 18 words, not 17 structs.
type RLPItem is uint256;

/// @title RLPReader
/// @notice A strict reader of Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B).
///         Non-canonical encodings (a single byte below 0x80 wrapped in a string header, long-form
///         lengths under 56, lengths with leading zero bytes, integers with leading zero bytes) and
///         trailing bytes are rejected, so that every accepted encoding has exactly one meaning.
library RLPReader {
    /// @notice An item with no bytes at all.
    error RLPReader_EmptyItem();
    /// @notice The header announces more bytes than the buffer holds.
    error RLPReader_ItemOutOfBounds(uint256 required, uint256 available);
    /// @notice `0x81 b` with `b < 0x80`: the byte must be encoded as itself.
    error RLPReader_NonCanonicalSingleByte(uint8 value);
    /// @notice A long-form length under 56 or with leading zero bytes.
    error RLPReader_NonCanonicalLength(uint256 length);
    /// @notice A string where a list was expected.
    error RLPReader_NotAList();
    /// @notice A list where a string was expected.
    error RLPReader_NotAString();
    /// @notice The item's encoding ends before the buffer does.
    error RLPReader_TrailingBytes(uint256 used, uint256 length);
    /// @notice An integer of more than 32 bytes.
    error RLPReader_UintTooLong(uint256 length);
    /// @notice An integer with a leading zero byte.
    error RLPReader_UintLeadingZero();

    uint256 private constant LENGTH_MASK = type(uint128).max;

    // Error codes of `_header`'s assembly, turned into the named errors above by `_fail`.
    uint256 private constant ERR_EMPTY = 1;
    uint256 private constant ERR_OUT_OF_BOUNDS = 2;
    uint256 private constant ERR_SINGLE_BYTE = 3;
    uint256 private constant ERR_LENGTH = 4;

    /// @notice Wraps a whole buffer as one item (its header is checked when it is read).
    function toItem(bytes memory _in) internal pure returns (RLPItem item) {
        if (_in.length == 0) revert RLPReader_EmptyItem();
        assembly ("memory-safe") {
            item := or(shl(128, add(_in, 32)), mload(_in))
        }
    }

    /// @notice Memory address of the item's first byte.
    function memPtr(RLPItem _item) internal pure returns (uint256) {
        return RLPItem.unwrap(_item) >> 128;
    }

    /// @notice Size of the item's whole encoding.
    function length(RLPItem _item) internal pure returns (uint256) {
        return RLPItem.unwrap(_item) & LENGTH_MASK;
    }

    /// @notice Whether `_item` is a list (header byte >= 0xc0).
    function isList(RLPItem _item) internal pure returns (bool list) {
        if (length(_item) == 0) revert RLPReader_EmptyItem();
        uint256 ptr = memPtr(_item);
        assembly ("memory-safe") {
            list := iszero(lt(byte(0, mload(ptr)), 0xc0))
        }
    }

    /// @notice Decodes the header of `_item`.
    /// @return offset  Bytes of header before the payload.
    /// @return len     Bytes of payload.
    /// @return list    Whether the item is a list.
    function decodeHeader(RLPItem _item) internal pure returns (uint256 offset, uint256 len, bool list) {
        return _header(memPtr(_item), length(_item));
    }

    /// @notice The items of the list `_item`, which must span `_item` exactly.
    function readList(RLPItem _item) internal pure returns (RLPItem[] memory items) {
        uint256 ptr = memPtr(_item);
        (uint256 offset, uint256 len, bool list) = _header(ptr, length(_item));
        if (!list) revert RLPReader_NotAList();
        _checkExact(offset, len, length(_item));

        uint256 p = ptr + offset;
        uint256 end = p + len;
        uint256 count;
        // The array is built in place at the free memory pointer, one word per item, and claimed at
        // the end; `_header` allocates nothing in between (it only reads, or reverts).
        assembly ("memory-safe") {
            items := mload(0x40)
        }
        while (p < end) {
            // Fast path for what trie branches are made of: the empty string (0x80) and 32-byte
            // hashes (0xa0 ‖ 32 bytes), both canonical, that fit in the list.
            assembly ("memory-safe") {
                for {} lt(p, end) {} {
                    let size
                    switch byte(0, mload(p))
                    case 0x80 { size := 1 }
                    case 0xa0 { size := 33 }
                    if or(iszero(size), gt(size, sub(end, p))) { break }
                    count := add(count, 1)
                    mstore(add(items, shl(5, count)), or(shl(128, p), size))
                    p := add(p, size)
                }
            }
            if (p == end) break;
            // Any other item (or a hash that overruns the list) goes through the full checks.
            (uint256 o, uint256 l,) = _header(p, end - p);
            // Unchecked: count < payload length, and p + o + l <= end (checked by `_header`).
            unchecked {
                ++count;
                assembly ("memory-safe") {
                    mstore(add(items, shl(5, count)), or(shl(128, p), add(o, l)))
                }
                p += o + l;
            }
        }
        assembly ("memory-safe") {
            mstore(items, count)
            mstore(0x40, add(items, shl(5, add(count, 1))))
        }
    }

    /// @notice Memory address and length of the payload of the string `_item` (no copy).
    function readStringPayload(RLPItem _item) internal pure returns (uint256 ptr, uint256 len) {
        uint256 offset;
        bool list;
        ptr = memPtr(_item);
        (offset, len, list) = _header(ptr, length(_item));
        if (list) revert RLPReader_NotAString();
        _checkExact(offset, len, length(_item));
        ptr += offset;
    }

    /// @notice A copy of the payload of the string `_item`.
    function readBytes(RLPItem _item) internal pure returns (bytes memory out) {
        (uint256 ptr, uint256 len) = readStringPayload(_item);
        out = _copy(ptr, len);
    }

    /// @notice A copy of the whole encoding of `_item`, header included.
    function readRawBytes(RLPItem _item) internal pure returns (bytes memory out) {
        out = _copy(memPtr(_item), length(_item));
    }

    /// @notice The unsigned integer encoded by the string `_item` (big-endian, no leading zeros).
    function readUint(RLPItem _item) internal pure returns (uint256 value) {
        (uint256 ptr, uint256 len) = readStringPayload(_item);
        if (len > 32) revert RLPReader_UintTooLong(len);
        if (len == 0) return 0;
        assembly ("memory-safe") {
            value := shr(sub(256, shl(3, len)), mload(ptr))
        }
        // The first payload byte is the top byte of `value`.
        if (value >> ((len - 1) * 8) == 0) revert RLPReader_UintLeadingZero();
    }

    /// @dev Header of the item at `ptr` within `avail` bytes; checks that the payload fits.
    function _header(uint256 ptr, uint256 avail) private pure returns (uint256 offset, uint256 len, bool list) {
        uint256 err;
        uint256 arg;
        assembly ("memory-safe") {
            // One pass through a block that `break` leaves early.
            for {} 1 {} {
                if iszero(avail) {
                    err := ERR_EMPTY
                    break
                }
                let prefix := byte(0, mload(ptr))
                // A byte below 0x80 is its own encoding.
                if lt(prefix, 0x80) {
                    len := 1
                    break
                }
                // Short string: 0x80 + length.
                if lt(prefix, 0xb8) {
                    offset := 1
                    len := sub(prefix, 0x80)
                    if eq(len, 1) {
                        if lt(avail, 2) {
                            err := ERR_OUT_OF_BOUNDS
                            arg := 2
                            break
                        }
                        let b := byte(0, mload(add(ptr, 1)))
                        if lt(b, 0x80) {
                            err := ERR_SINGLE_BYTE
                            arg := b
                            break
                        }
                    }
                    break
                }
                // Short list: 0xc0 + length.
                if and(iszero(lt(prefix, 0xc0)), lt(prefix, 0xf8)) {
                    offset := 1
                    len := sub(prefix, 0xc0)
                    list := 1
                    break
                }
                // Long forms: 1..8 big-endian length bytes follow the prefix.
                let lenOfLen := sub(prefix, 0xb7)
                if iszero(lt(prefix, 0xf8)) {
                    lenOfLen := sub(prefix, 0xf7)
                    list := 1
                }
                offset := add(1, lenOfLen)
                if lt(avail, offset) {
                    err := ERR_OUT_OF_BOUNDS
                    arg := offset
                    break
                }
                let word := mload(add(ptr, 1))
                len := shr(sub(256, shl(3, lenOfLen)), word)
                if or(iszero(byte(0, word)), lt(len, 56)) {
                    err := ERR_LENGTH
                    arg := len
                }
                break
            }
            // No overflow: offset <= 9 and len < 2^64.
            if iszero(err) {
                if gt(add(offset, len), avail) {
                    err := ERR_OUT_OF_BOUNDS
                    arg := add(offset, len)
                }
            }
        }
        if (err != 0) _fail(err, arg, avail);
    }

    function _fail(uint256 err, uint256 arg, uint256 avail) private pure {
        if (err == ERR_EMPTY) revert RLPReader_EmptyItem();
        if (err == ERR_OUT_OF_BOUNDS) revert RLPReader_ItemOutOfBounds(arg, avail);
        // `arg` is the byte read by `byte(0, …)` here: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (err == ERR_SINGLE_BYTE) revert RLPReader_NonCanonicalSingleByte(uint8(arg));
        revert RLPReader_NonCanonicalLength(arg);
    }

    function _checkExact(uint256 offset, uint256 len, uint256 itemLength) private pure {
        if (offset + len != itemLength) revert RLPReader_TrailingBytes(offset + len, itemLength);
    }

    function _copy(uint256 src, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(out, 32), src, len)
        }
    }
}
