// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title FastLZ
/// @notice The length of data compressed by FastLZ level 1, as the OP Stack's Fjord L1 data fee
///         counts it: the output length of Solady's `LibZip.flzCompress`, of op-geth's
///         `FlzCompressLen` and of the `op-alloy-flz` crate's `flz_compress_len`, which the
///         Temporis STF charges with (`aivm/src/l1fee.rs`). Only the length is computed; no output
///         is written.
/// @dev The compressor walks the input with a hash table of the last position of every 3-byte
///      sequence (8192 buckets keyed by a multiplicative hash of the little-endian 24-bit value).
///      A sequence seen at most 8191 bytes back is a match: its literals before it cost one header
///      byte per run of up to 32 plus the bytes themselves, the match costs 2 bytes (3 for a long
///      length) plus 3 more per 262 bytes of length. No match starts in the last 13 bytes or
///      reaches into the last 4.
///      The bucket entries must follow the reference exactly, collisions included, since a
///      different table gives a different length: entries start at 0 (so position 0 is every
///      bucket's first candidate), and each holds the latest position stored in it.
///      The table is 8192 big-endian uint32 entries (32 KiB) in free memory past the free memory
///      pointer, which is left where it was: the table is scratch space, dead once the function
///      returns.
library FastLZ {
    /// @notice Bytes of the hash table: 8192 entries of 4 bytes.
    uint256 internal constant HASH_TABLE_BYTES = 0x8000;

    /// @notice The length of `data` compressed by FastLZ level 1.
    /// @param data The bytes to compress.
    /// @return size The compressed length in bytes.
    function flzCompressLen(bytes memory data) internal pure returns (uint256 size) {
        assembly ("memory-safe") {
            // The 24-bit little-endian value of the 3 bytes at memory address `p`.
            function u24(p) -> v {
                let w := shr(232, mload(p)) // b0 << 16 | b1 << 8 | b2
                v := or(or(shr(16, w), and(w, 0xff00)), shl(16, and(w, 0xff)))
            }

            // The bucket of a 24-bit value: bits 19..32 of its product with 2654435769.
            function bucket(v) -> h {
                h := and(shr(19, mul(v, 2654435769)), 0x1fff)
            }

            // Sets entry `h` (the top 4 bytes of the word at ht + 4h) to `v`, keeping the 28
            // bytes that follow it (other entries, or memory past the table that the word
            // overlaps for the last buckets).
            function setEntry(ht, h, v) {
                let p := add(ht, shl(2, h))
                mstore(p, or(and(mload(p), shr(32, not(0))), shl(224, v)))
            }

            // Cost of `r` literal bytes: a header byte per run of up to 32, and the bytes.
            function literals(r, s) -> out {
                out := add(s, mul(0x21, div(r, 0x20)))
                let rest := mod(r, 0x20)
                if rest { out := add(out, add(rest, 1)) }
            }

            // Cost of a match of length code `l` (matched bytes - 2): 3 bytes per 262 of
            // length, then 2 bytes for a short remainder (< 6), 3 for a longer one.
            function matchCost(l, s) -> out {
                l := sub(l, 1)
                out := add(s, mul(3, div(l, 262)))
                switch lt(mod(l, 262), 6)
                case 1 { out := add(out, 2) }
                default { out := add(out, 3) }
            }

            // The reference's comparison of the bytes at `p` and `q`, at most `e` of them
            // (e > 0): the index of the first difference plus one, or `e` when the first `e`
            // bytes agree. Compares a word at a time; bytes read past `e` only decide where
            // the first difference is, and the result is capped at `e`.
            function compare(p, q, e) -> l {
                for {} lt(l, e) {} {
                    let x := xor(mload(add(p, l)), mload(add(q, l)))
                    if x {
                        let k := 0
                        for {} iszero(byte(k, x)) { k := add(k, 1) } {}
                        l := add(l, add(k, 1))
                        if gt(l, e) { l := e }
                        leave
                    }
                    l := add(l, 0x20)
                }
                l := e
            }

            let n := mload(data)
            let src := add(data, 0x20)
            let ht := mload(0x40)
            // Zero the table: copying from past the end of the calldata writes zeros.
            calldatacopy(ht, calldatasize(), HASH_TABLE_BYTES)

            let limit := 0
            if gt(n, 12) { limit := sub(n, 13) }
            let idx := 2
            let anchor := 0
            let r := 0
            let keep := shr(32, not(0))
            for {} lt(idx, limit) {} {
                // Find the next match: store each position in its bucket, and stop at one
                // whose bucket held an earlier position with the same 3 bytes, close enough.
                // This loop runs once per input byte outside matches: `u24`, `bucket` and the
                // table's read and write are written out in it, and the 3-byte comparison is made on
                // the big-endian values, which are equal exactly when the little-endian ones are.
                for {} 1 {} {
                    let be := shr(232, mload(add(src, idx)))
                    let seq := or(or(shr(16, be), and(be, 0xff00)), shl(16, and(be, 0xff)))
                    let p := add(ht, shl(2, and(shr(19, mul(seq, 2654435769)), 0x1fff)))
                    let word := mload(p)
                    r := shr(224, word)
                    mstore(p, or(and(word, keep), shl(224, idx)))
                    let distance := sub(idx, r)
                    if iszero(lt(idx, limit)) { break }
                    idx := add(idx, 1)
                    if lt(distance, 8192) { if eq(be, shr(232, mload(add(src, r)))) { break } }
                }
                if iszero(lt(idx, limit)) { break }
                idx := sub(idx, 1)
                if gt(idx, anchor) { size := literals(sub(idx, anchor), size) }
                // Extend the match past its 3 bytes, up to 9 bytes past the limit (n - 4).
                let len := compare(add(src, add(r, 3)), add(src, add(idx, 3)), add(sub(limit, idx), 6))
                size := matchCost(len, size)
                // Store the two positions after the match, and go on after them.
                idx := add(idx, len)
                setEntry(ht, bucket(u24(add(src, idx))), idx)
                idx := add(idx, 1)
                setEntry(ht, bucket(u24(add(src, idx))), idx)
                idx := add(idx, 1)
                anchor := idx
            }
            size := literals(sub(n, anchor), size)
        }
    }
}
