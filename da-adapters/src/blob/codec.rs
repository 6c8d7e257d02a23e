//! The blob field-element encoding: arbitrary bytes into 1..N EIP-4844 blobs and back.
//!
//! A blob is 4096 field elements of 32 big-endian bytes, each of which must be below the BLS12-381
//! scalar modulus (`0x73ed…0001`, just under 2^255). A field element whose top two bits are zero
//! is always below it, so every field element carries 254 free bits: 31 whole bytes in bytes
//! `1..32` and 6 bits in the low bits of byte 0.
//!
//! # One blob: the OP Stack encoding, version 0
//!
//! This is the encoding of the OP Stack batcher and derivation pipeline (`op-service/eth/blob.go`,
//! kona's `BlobData`), so a Temporis blob reads with their decoders and theirs with ours.
//!
//! Prepend a 4-byte header to the data, `version (0x00) ‖ len (3 bytes, big-endian)`, and pad
//! the result with zeros to 1024 × 127 = 130 048 bytes. The blob is 1024 rounds of 4 field
//! elements; round `r` carries bytes `127r .. 127r + 127` of that stream, `c[0..127]`:
//!
//! ```text
//! fe0 = A ‖ c[0..31]      A = x & 0x3f                       x = c[31]
//! fe1 = B ‖ c[32..63]     B = (y & 0x0f) | (x & 0xc0) >> 2   y = c[63]
//! fe2 = C ‖ c[64..95]     C = z & 0x3f                       z = c[95]
//! fe3 = D ‖ c[96..127]    D = (z & 0xc0) >> 2 | (y & 0xf0) >> 4
//! ```
//!
//! so the three bytes `x, y, z` are spread as four 6-bit values over the four top bytes. The
//! version lands in blob byte 1 and the length in bytes 2..5; a blob holds at most
//! [`MAX_BLOB_DATA_SIZE`] = 130 048 − 4 = 130 044 bytes.
//!
//! The map from (header, padded data) to blobs with clear top bits is a bijection (both sides
//! are 4096 × 254 bits), so decoding is strict: [`decode_blob`] rejects a field element with a
//! top bit set, another version, a length above the maximum, and any non-zero bit after the
//! data (OP's "extraneous data" check). A blob therefore has exactly one decoding and every byte
//! string exactly one blob.
//!
//! # Many blobs
//!
//! Data above one blob's capacity is cut into chunks of [`MAX_BLOB_DATA_SIZE`] bytes, each
//! encoded on its own as above (as the OP batcher puts one frame in each blob): every blob but
//! the last is full, the last holds the rest, and empty data is one blob of length 0. [`decode`]
//! enforces that shape (a short blob before the last is an error), so the multi-blob encoding is
//! canonical too: `encode(decode(blobs)) == blobs` whenever `decode` succeeds.

use alloy::eips::eip4844::{BYTES_PER_BLOB, Blob};

/// Field elements in a blob.
pub const FIELD_ELEMENTS_PER_BLOB: usize = 4096;
/// Bytes in a field element.
pub const BYTES_PER_FIELD_ELEMENT: usize = 32;
/// The encoding version this codec writes and reads (blob byte 1).
pub const ENCODING_VERSION: u8 = 0;
/// Most data bytes one blob holds: 1024 rounds of 127 bytes, less the 4-byte header.
pub const MAX_BLOB_DATA_SIZE: usize = ROUNDS * ROUND_BYTES - HEADER_LEN;

/// Rounds of 4 field elements in a blob.
const ROUNDS: usize = FIELD_ELEMENTS_PER_BLOB / 4;
/// Payload bytes a round carries: 4 × 31 whole bytes + 4 × 6 bits.
const ROUND_BYTES: usize = 127;
/// Version byte and 3-byte length.
const HEADER_LEN: usize = 4;
/// The two top bits of a field element's first byte, always zero in an encoded blob.
const TOP_BITS: u8 = 0b1100_0000;

/// Why bytes could not be encoded into blobs or blobs decoded into bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobCodecError {
    /// More data than the allowed number of blobs holds.
    #[error("{size} bytes do not fit in {max_blobs} blobs ({limit} bytes)")]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// Most bytes that fit.
        limit: usize,
        /// Blobs allowed.
        max_blobs: usize,
    },
    /// No blobs were given to decode.
    #[error("no blobs to decode")]
    NoBlobs,
    /// A field element has one of its two top bits set (it is not a value this encoding writes,
    /// and may not even be below the BLS modulus).
    #[error("blob {blob}: field element {index} has a top bit set (first byte {byte:#04x})")]
    InvalidFieldElement {
        /// Blob index.
        blob: usize,
        /// Field element index in the blob.
        index: usize,
        /// Its first byte.
        byte: u8,
    },
    /// The version byte is not [`ENCODING_VERSION`].
    #[error("blob {blob}: encoding version {version}, expected {ENCODING_VERSION}")]
    Version {
        /// Blob index.
        blob: usize,
        /// Version found.
        version: u8,
    },
    /// The length field exceeds [`MAX_BLOB_DATA_SIZE`].
    #[error("blob {blob}: length {len} exceeds the maximum {MAX_BLOB_DATA_SIZE}")]
    Length {
        /// Blob index.
        blob: usize,
        /// Length found.
        len: usize,
    },
    /// A non-zero bit after the data's end (the encoding would not be unique otherwise).
    #[error("blob {blob}: non-zero data after the {len}-byte payload (at payload offset {offset})")]
    ExtraneousData {
        /// Blob index.
        blob: usize,
        /// The payload length the blob declares.
        len: usize,
        /// Offset, in the decoded payload stream, of the first non-zero byte past `len`.
        offset: usize,
    },
    /// A blob before the last one is not full, so the blobs are not this codec's chunking.
    #[error("blob {blob} of {count} holds {len} bytes; all but the last must hold {MAX_BLOB_DATA_SIZE}")]
    ShortChunk {
        /// Blob index.
        blob: usize,
        /// Blobs given.
        count: usize,
        /// Its length.
        len: usize,
    },
    /// The last of several blobs is empty (it would have been left out).
    #[error("the last of {count} blobs is empty")]
    EmptyLastChunk {
        /// Blobs given.
        count: usize,
    },
}

/// How many blobs [`encode`] makes of `len` bytes: at least one, then one per
/// [`MAX_BLOB_DATA_SIZE`] bytes.
pub const fn blobs_needed(len: usize) -> usize {
    if len == 0 { 1 } else { len.div_ceil(MAX_BLOB_DATA_SIZE) }
}

/// Encodes `data` into as few blobs as hold it, at most `max_blobs`.
pub fn encode(data: &[u8], max_blobs: usize) -> Result<Vec<Blob>, BlobCodecError> {
    let limit = max_blobs.saturating_mul(MAX_BLOB_DATA_SIZE);
    if data.len() > limit || max_blobs == 0 {
        return Err(BlobCodecError::TooLarge { size: data.len(), limit, max_blobs });
    }
    let mut blobs = vec![Blob::ZERO; blobs_needed(data.len())];
    // `chunks` yields nothing for empty data; the one all-zero blob is then already its
    // encoding (version 0, length 0, no payload).
    for (blob, chunk) in blobs.iter_mut().zip(data.chunks(MAX_BLOB_DATA_SIZE)) {
        encode_into(chunk, blob);
    }
    Ok(blobs)
}

/// Encodes at most [`MAX_BLOB_DATA_SIZE`] bytes into one blob.
pub fn encode_blob(data: &[u8]) -> Result<Blob, BlobCodecError> {
    if data.len() > MAX_BLOB_DATA_SIZE {
        return Err(BlobCodecError::TooLarge { size: data.len(), limit: MAX_BLOB_DATA_SIZE, max_blobs: 1 });
    }
    let mut blob = Blob::ZERO;
    encode_into(data, &mut blob);
    Ok(blob)
}

/// Decodes blobs written by [`encode`], checking each blob and the chunking.
pub fn decode(blobs: &[Blob]) -> Result<Vec<u8>, BlobCodecError> {
    let count = blobs.len();
    if count == 0 {
        return Err(BlobCodecError::NoBlobs);
    }
    let mut out = Vec::with_capacity(count * MAX_BLOB_DATA_SIZE);
    for (i, blob) in blobs.iter().enumerate() {
        let chunk = decode_indexed(blob, i)?;
        let last = i + 1 == count;
        if !last && chunk.len() != MAX_BLOB_DATA_SIZE {
            return Err(BlobCodecError::ShortChunk { blob: i, count, len: chunk.len() });
        }
        if last && count > 1 && chunk.is_empty() {
            return Err(BlobCodecError::EmptyLastChunk { count });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Decodes one blob.
pub fn decode_blob(blob: &Blob) -> Result<Vec<u8>, BlobCodecError> {
    decode_indexed(blob, 0)
}

/// Writes the encoding of `data` (at most [`MAX_BLOB_DATA_SIZE`] bytes, checked by the callers)
/// into `blob`, which must be zero.
fn encode_into(data: &[u8], blob: &mut Blob) {
    debug_assert!(data.len() <= MAX_BLOB_DATA_SIZE);
    let len = data.len() as u32;
    let header = [ENCODING_VERSION, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    // Byte `i` of the stream `header ‖ data ‖ zeros`.
    let stream = |i: usize| -> u8 {
        if i < HEADER_LEN { header[i] } else { data.get(i - HEADER_LEN).copied().unwrap_or(0) }
    };
    let used = HEADER_LEN + data.len();
    for round in 0..used.div_ceil(ROUND_BYTES) {
        let c = round * ROUND_BYTES;
        let fe = &mut blob[round * 4 * BYTES_PER_FIELD_ELEMENT..(round + 1) * 4 * BYTES_PER_FIELD_ELEMENT];
        // The 31-byte bodies: c[0..31], c[32..63], c[64..95], c[96..127].
        for k in 0..4 {
            for j in 0..31 {
                fe[k * 32 + 1 + j] = stream(c + k * 32 + j);
            }
        }
        let (x, y, z) = (stream(c + 31), stream(c + 63), stream(c + 95));
        fe[0] = x & 0b0011_1111;
        fe[32] = (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2);
        fe[64] = z & 0b0011_1111;
        fe[96] = ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4);
    }
}

/// Decodes one blob, `index` naming it in errors.
fn decode_indexed(blob: &Blob, index: usize) -> Result<Vec<u8>, BlobCodecError> {
    debug_assert_eq!(blob.len(), BYTES_PER_BLOB);
    // Every field element, including those past the data, must have clear top bits: checked
    // first, so that the other errors speak of a well-formed blob.
    if let Some(fe) = blob.chunks_exact(BYTES_PER_FIELD_ELEMENT).position(|fe| fe[0] & TOP_BITS != 0) {
        return Err(BlobCodecError::InvalidFieldElement {
            blob: index,
            index: fe,
            byte: blob[fe * BYTES_PER_FIELD_ELEMENT],
        });
    }
    // Rebuild the whole 130 048-byte stream: it is cheap, and checking that everything after
    // the payload is zero is then one scan.
    let mut stream = vec![0u8; ROUNDS * ROUND_BYTES];
    for (round, (fe, c)) in
        blob.chunks_exact(4 * BYTES_PER_FIELD_ELEMENT).zip(stream.chunks_exact_mut(ROUND_BYTES)).enumerate()
    {
        debug_assert!(round < ROUNDS);
        for k in 0..4 {
            c[k * 32..k * 32 + 31].copy_from_slice(&fe[k * 32 + 1..k * 32 + 32]);
        }
        let (a, b, cc, d) = (fe[0], fe[32], fe[64], fe[96]);
        c[31] = (a & 0b0011_1111) | ((b & 0b0011_0000) << 2);
        c[63] = (b & 0b0000_1111) | ((d & 0b0000_1111) << 4);
        c[95] = (cc & 0b0011_1111) | ((d & 0b0011_0000) << 2);
    }
    if stream[0] != ENCODING_VERSION {
        return Err(BlobCodecError::Version { blob: index, version: stream[0] });
    }
    let len = usize::from(stream[1]) << 16 | usize::from(stream[2]) << 8 | usize::from(stream[3]);
    if len > MAX_BLOB_DATA_SIZE {
        return Err(BlobCodecError::Length { blob: index, len });
    }
    let payload = &stream[HEADER_LEN..];
    if let Some(extra) = payload[len..].iter().position(|&b| b != 0) {
        return Err(BlobCodecError::ExtraneousData { blob: index, len, offset: len + extra });
    }
    Ok(payload[..len].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_is_ops() {
        // OP's `MaxBlobDataSize = (4*31+3)*1024 - 4`.
        assert_eq!(MAX_BLOB_DATA_SIZE, (4 * 31 + 3) * 1024 - 4);
        assert_eq!(MAX_BLOB_DATA_SIZE, 130_044);
        assert_eq!(FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT, BYTES_PER_BLOB);
    }
}
