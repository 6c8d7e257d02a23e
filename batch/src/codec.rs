//! Byte-level primitives of the batch body: unsigned LEB128 varints, fixed-size fields and
//! bit lists, written to a `Vec<u8>` and read from a bounds-checked cursor.
//!
//! Varints must be in their shortest form (no trailing `0x80` groups, no final zero group
//! after the first): a value then has exactly one encoding, so a decoded batch re-encodes to
//! the same bytes and two batchers cannot disagree on the bytes of the same batch.

use crate::{BatchError, Result};
use alloy_primitives::{Address, B256, U256};

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` (up to 128 bits) as an unsigned LEB128 varint.
pub(crate) fn put_uvarint_u128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a 256-bit value as an unsigned LEB128 varint (at most 37 bytes).
pub(crate) fn put_uvarint_u256(out: &mut Vec<u8>, v: U256) {
    if v <= U256::from(u128::MAX) {
        return put_uvarint_u128(out, v.to::<u128>());
    }
    let mut v = v;
    let low = U256::from(0x7fu8);
    while v >= U256::from(0x80u8) {
        out.push((v & low).to::<u8>() | 0x80);
        v >>= 7;
    }
    out.push(v.to::<u8>());
}

/// Packs `bits` into bytes, least significant bit first.
pub(crate) fn put_bits(out: &mut Vec<u8>, bits: &[bool]) {
    for chunk in bits.chunks(8) {
        let mut byte = 0u8;
        for (i, &b) in chunk.iter().enumerate() {
            byte |= u8::from(b) << i;
        }
        out.push(byte);
    }
}

/// A bounds-checked reader over a batch body; every read names the field it reads so that an
/// error says where the input went wrong.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    pub(crate) const fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(BatchError::Truncated { field });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.bytes(1, field)?[0])
    }

    pub(crate) fn b256(&mut self, field: &'static str) -> Result<B256> {
        Ok(B256::from_slice(self.bytes(32, field)?))
    }

    pub(crate) fn u256_fixed(&mut self, field: &'static str) -> Result<U256> {
        Ok(U256::from_be_slice(self.bytes(32, field)?))
    }

    pub(crate) fn address(&mut self, field: &'static str) -> Result<Address> {
        Ok(Address::from_slice(self.bytes(20, field)?))
    }

    /// Reads a varint of at most `max_bits` bits, in shortest form.
    fn uvarint_bits(&mut self, max_bits: u32, field: &'static str) -> Result<U256> {
        let mut value = U256::ZERO;
        let mut shift = 0u32;
        loop {
            let byte = self.u8(field)?;
            let group = U256::from(byte & 0x7f);
            // The group must fit in what is left of `max_bits`.
            if shift >= max_bits || (shift > 0 && group >> (max_bits - shift) != U256::ZERO) {
                return Err(BatchError::BadVarint { field });
            }
            value |= group << shift as usize;
            if byte & 0x80 == 0 {
                // A zero last group after the first is a non-shortest encoding.
                if byte == 0 && shift > 0 {
                    return Err(BatchError::BadVarint { field });
                }
                return Ok(value);
            }
            shift += 7;
        }
    }

    pub(crate) fn uvarint(&mut self, field: &'static str) -> Result<u64> {
        // Fast path for the common one-byte case.
        if let Some(&b) = self.buf.first()
            && b < 0x80
        {
            self.buf = &self.buf[1..];
            return Ok(u64::from(b));
        }
        Ok(self.uvarint_bits(64, field)?.to::<u64>())
    }

    pub(crate) fn uvarint_u128(&mut self, field: &'static str) -> Result<u128> {
        Ok(self.uvarint_bits(128, field)?.to::<u128>())
    }

    pub(crate) fn uvarint_u256(&mut self, field: &'static str) -> Result<U256> {
        self.uvarint_bits(256, field)
    }

    /// Reads a count and checks it against a bound the caller derives from the input
    /// (typically the bytes left, as each counted item takes at least one byte), so that a
    /// forged count cannot make the decoder allocate more than the input justifies.
    pub(crate) fn count(&mut self, max: usize, field: &'static str) -> Result<usize> {
        let n = self.uvarint(field)?;
        if n > max as u64 {
            return Err(BatchError::InvalidField {
                field,
                reason: format!("count {n} over the bound {max}"),
            });
        }
        Ok(n as usize)
    }

    /// Reads `n` bits packed least significant bit first; unused high bits of the last byte
    /// must be zero (one encoding per value).
    pub(crate) fn bits(&mut self, n: usize, field: &'static str) -> Result<Vec<bool>> {
        let bytes = self.bytes(n.div_ceil(8), field)?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(bytes[i / 8] >> (i % 8) & 1 == 1);
        }
        if !n.is_multiple_of(8) && bytes[n / 8] >> (n % 8) != 0 {
            return Err(BatchError::InvalidField { field, reason: "padding bits set".into() });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn varint_known_values() {
        for (v, bytes) in [
            (0u64, vec![0x00]),
            (1, vec![0x01]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (300, vec![0xac, 0x02]),
            (u64::MAX, vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
        ] {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            assert_eq!(out, bytes, "{v}");
            assert_eq!(Reader::new(&bytes).uvarint("t").unwrap(), v);
        }
    }

    #[test]
    fn varint_rejects_overlong_and_overflow() {
        // 0 written in two bytes.
        assert!(matches!(Reader::new(&[0x80, 0x00]).uvarint("t"), Err(BatchError::BadVarint { .. })));
        // 2^64 does not fit a u64.
        let mut out = Vec::new();
        put_uvarint_u128(&mut out, 1u128 << 64);
        assert!(matches!(Reader::new(&out).uvarint("t"), Err(BatchError::BadVarint { .. })));
        assert_eq!(Reader::new(&out).uvarint_u128("t").unwrap(), 1u128 << 64);
        // Truncated.
        assert!(matches!(Reader::new(&[0x80]).uvarint("t"), Err(BatchError::Truncated { .. })));
        // Endless continuation.
        assert!(matches!(Reader::new(&[0xff; 40]).uvarint_u256("t"), Err(BatchError::BadVarint { .. })));
    }

    #[test]
    fn bits_padding_must_be_zero() {
        assert_eq!(Reader::new(&[0b101]).bits(3, "t").unwrap(), vec![true, false, true]);
        assert!(Reader::new(&[0b1101]).bits(3, "t").is_err());
    }

    proptest! {
        #[test]
        fn varint_u256_round_trip(limbs in any::<[u64; 4]>()) {
            let v = U256::from_limbs(limbs);
            let mut out = Vec::new();
            put_uvarint_u256(&mut out, v);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.uvarint_u256("t").unwrap(), v);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn varint_u64_round_trip(v in any::<u64>()) {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            prop_assert_eq!(Reader::new(&out).uvarint("t").unwrap(), v);
        }

        #[test]
        fn bits_round_trip(bits in proptest::collection::vec(any::<bool>(), 0..40)) {
            let mut out = Vec::new();
            put_bits(&mut out, &bits);
            prop_assert_eq!(Reader::new(&out).bits(bits.len(), "t").unwrap(), bits);
        }
    }
}
