//! Channel compression: none, brotli or zstd, named by the first byte of the channel.
//!
//! Decompression is streamed and stops one byte past the configured limit, so a small channel
//! that would inflate to gigabytes (a decompression bomb) costs at most `limit + 1` bytes of
//! memory and is refused with [`BatchError::DecompressedTooLarge`].

use crate::{BatchError, Result};
use std::io::{Read, Write};

/// Channel compression byte of an uncompressed channel.
pub const COMPRESSION_NONE: u8 = 0x00;
/// Channel compression byte of a brotli channel.
pub const COMPRESSION_BROTLI: u8 = 0x01;
/// Channel compression byte of a zstd channel.
pub const COMPRESSION_ZSTD: u8 = 0x02;

/// Largest brotli window (log2 bytes): 24 is brotli's largest standard window (16 MiB), so
/// repeats (addresses, calldata shapes) are found across a whole channel.
const BROTLI_MAX_LGWIN: u32 = 24;
/// Smallest window we ask for: below the input size a window only costs matches; above it,
/// it only costs the encoder time to set up (a 16 MiB window for a 20 KB batch).
const BROTLI_MIN_LGWIN: u32 = 16;

/// How a channel is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Stored as is (tests, debugging, tiny batches).
    None,
    /// Brotli at a quality level 0..=11.
    Brotli {
        /// Quality 0 (fastest) ..= 11 (smallest).
        level: u32,
    },
    /// Zstandard at a level 1..=22.
    Zstd {
        /// Level 1 (fastest) ..= 22 (smallest).
        level: i32,
    },
}

impl Compression {
    /// The default, chosen by measurement on the benchmark corpora (`docs/batch-format.md`,
    /// "Compression"): brotli 10 posts the fewest bytes on all three corpora together with
    /// brotli 11 (within 0.2 %), 1–2 % fewer than zstd 19–22 and 2–3 % fewer than zstd 3,
    /// and encodes two to three times faster than brotli 11.
    pub const DEFAULT: Self = Self::Brotli { level: 10 };

    /// The channel's compression byte.
    pub const fn id(self) -> u8 {
        match self {
            Self::None => COMPRESSION_NONE,
            Self::Brotli { .. } => COMPRESSION_BROTLI,
            Self::Zstd { .. } => COMPRESSION_ZSTD,
        }
    }

    /// The algorithm's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Brotli { .. } => "brotli",
            Self::Zstd { .. } => "zstd",
        }
    }

    /// Checks the level is in the algorithm's range.
    pub fn validate(self) -> Result<()> {
        match self {
            Self::None => Ok(()),
            Self::Brotli { level } if level <= 11 => Ok(()),
            Self::Zstd { level } if (1..=22).contains(&level) => Ok(()),
            Self::Brotli { .. } => Err(BatchError::Config("brotli quality must be 0..=11")),
            Self::Zstd { .. } => Err(BatchError::Config("zstd level must be 1..=22")),
        }
    }

    /// `id ‖ compressed(data)`: the channel bytes.
    pub fn compress(self, data: &[u8]) -> Result<Vec<u8>> {
        self.validate()?;
        let mut out = Vec::with_capacity(data.len() / 2 + 16);
        out.push(self.id());
        let err = |e: std::io::Error| BatchError::Compress { algo: self.name(), reason: e.to_string() };
        match self {
            Self::None => out.extend_from_slice(data),
            Self::Brotli { level } => {
                // The smallest window that holds the whole input: the same output as the
                // largest window, without its set-up cost on small batches.
                let lgwin =
                    (usize::BITS - data.len().leading_zeros()).clamp(BROTLI_MIN_LGWIN, BROTLI_MAX_LGWIN);
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, level, lgwin);
                w.write_all(data).map_err(err)?;
                w.flush().map_err(err)?;
            }
            Self::Zstd { level } => {
                let mut w = zstd::stream::write::Encoder::new(&mut out, level).map_err(err)?;
                // The content size in the frame header lets a reader see a bomb before it
                // inflates anything; the limit below is what actually protects.
                w.set_pledged_src_size(Some(data.len() as u64)).map_err(err)?;
                w.write_all(data).map_err(err)?;
                w.finish().map_err(err)?;
            }
        }
        Ok(out)
    }
}

/// Inflates channel bytes (`id ‖ compressed`) into at most `max` bytes.
pub fn decompress(channel: &[u8], max: usize) -> Result<Vec<u8>> {
    let (&id, body) = channel.split_first().ok_or(BatchError::EmptyChannel)?;
    match id {
        COMPRESSION_NONE if body.len() > max => Err(BatchError::DecompressedTooLarge { max }),
        COMPRESSION_NONE => Ok(body.to_vec()),
        COMPRESSION_BROTLI => brotli_decompress(body, max),
        // zstd's decoder refuses windows over 2^27 by default, which bounds its own memory.
        COMPRESSION_ZSTD => zstd_decompress(body, max),
        other => Err(BatchError::UnknownCompression(other)),
    }
}

/// Output is produced in steps of this many bytes, so memory follows the output, not a claim.
const OUT_STEP: usize = 64 * 1024;

/// One brotli stream, standard windows only (at most 2^24: the large-window extension would let
/// a stream make the decoder allocate up to 1 GiB of ring buffer), nothing after it.
fn brotli_decompress(input: &[u8], max: usize) -> Result<Vec<u8>> {
    use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode};
    let fail = |reason: &str| BatchError::Decompress { algo: "brotli", reason: reason.into() };
    let mut state = BrotliState::new_strict(
        HeapAlloc::<u8>::new(0),
        HeapAlloc::<u32>::new(0),
        HeapAlloc::<HuffmanCode>::new(HuffmanCode::default()),
    );
    let (mut avail_in, mut in_offset, mut total_out) = (input.len(), 0usize, 0usize);
    let mut out = Vec::new();
    let mut buf = vec![0u8; OUT_STEP];
    loop {
        let (mut avail_out, mut out_offset) = (buf.len(), 0usize);
        let result = BrotliDecompressStream(
            &mut avail_in,
            &mut in_offset,
            input,
            &mut avail_out,
            &mut out_offset,
            &mut buf,
            &mut total_out,
            &mut state,
        );
        if out.len() + out_offset > max {
            return Err(BatchError::DecompressedTooLarge { max });
        }
        out.extend_from_slice(&buf[..out_offset]);
        match result {
            BrotliResult::NeedsMoreOutput => {}
            BrotliResult::ResultSuccess if avail_in == 0 => return Ok(out),
            BrotliResult::ResultSuccess => return Err(fail("bytes after the end of the stream")),
            BrotliResult::NeedsMoreInput => return Err(fail("the stream ends early")),
            BrotliResult::ResultFailure => return Err(fail("corrupt stream")),
        }
    }
}

/// One zstd frame, nothing after it.
fn zstd_decompress(input: &[u8], max: usize) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| BatchError::Decompress { algo: "zstd", reason: e.to_string() };
    let mut decoder = zstd::stream::read::Decoder::with_buffer(input).map_err(fail)?.single_frame();
    let mut out = Vec::new();
    (&mut decoder).take(max as u64 + 1).read_to_end(&mut out).map_err(fail)?;
    if out.len() > max {
        return Err(BatchError::DecompressedTooLarge { max });
    }
    // With a buffered input, the decoder consumes exactly the frame's bytes.
    let rest = decoder.finish();
    if !rest.is_empty() {
        return Err(BatchError::Decompress {
            algo: "zstd",
            reason: format!("{} bytes after the frame", rest.len()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_algorithm() {
        let data: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for algo in [Compression::None, Compression::Brotli { level: 5 }, Compression::Zstd { level: 3 }] {
            let c = algo.compress(&data).unwrap();
            assert_eq!(c[0], algo.id());
            assert_eq!(decompress(&c, data.len()).unwrap(), data, "{algo:?}");
            assert_eq!(
                decompress(&c, data.len() - 1),
                Err(BatchError::DecompressedTooLarge { max: data.len() - 1 })
            );
        }
    }

    #[test]
    fn levels_are_checked() {
        assert!(Compression::Brotli { level: 12 }.compress(b"x").is_err());
        assert!(Compression::Zstd { level: 0 }.compress(b"x").is_err());
    }

    #[test]
    fn corrupt_streams_are_errors() {
        assert_eq!(decompress(&[], 10), Err(BatchError::EmptyChannel));
        assert_eq!(decompress(&[0x09, 1, 2], 10), Err(BatchError::UnknownCompression(0x09)));
        assert!(matches!(decompress(&[COMPRESSION_ZSTD, 1, 2, 3], 10), Err(BatchError::Decompress { .. })));
        for algo in [Compression::Brotli { level: 5 }, Compression::Zstd { level: 3 }] {
            let c = algo.compress(&[7u8; 1000]).unwrap();
            let mut cut = c.clone();
            cut.truncate(c.len() - 2);
            assert!(
                matches!(decompress(&cut, 10_000), Err(BatchError::Decompress { .. })),
                "{algo:?} truncated"
            );
            let mut longer = c.clone();
            longer.extend_from_slice(b"tail");
            assert!(
                matches!(decompress(&longer, 10_000), Err(BatchError::Decompress { .. })),
                "{algo:?} trailing bytes"
            );
        }
    }
}
