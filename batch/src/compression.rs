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

/// Brotli window (log2 bytes). 24 is brotli's largest standard window (16 MiB): batches are
/// compressed whole, and repeats (addresses, calldata shapes) are found across the channel.
const BROTLI_LGWIN: u32 = 24;

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
        let err = |e: std::io::Error| BatchError::Compress { algo: self, reason: e.to_string() };
        match self {
            Self::None => out.extend_from_slice(data),
            Self::Brotli { level } => {
                let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, level, BROTLI_LGWIN);
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
    let algo = match id {
        COMPRESSION_NONE => Compression::None,
        COMPRESSION_BROTLI => Compression::Brotli { level: 0 },
        COMPRESSION_ZSTD => Compression::Zstd { level: 1 },
        other => return Err(BatchError::UnknownCompression(other)),
    };
    let mut out = Vec::new();
    let limit = max as u64 + 1;
    let read = match algo {
        Compression::None => {
            if body.len() > max {
                return Err(BatchError::DecompressedTooLarge { max });
            }
            return Ok(body.to_vec());
        }
        Compression::Brotli { .. } => {
            brotli::Decompressor::new(body, 16 * 1024).take(limit).read_to_end(&mut out)
        }
        Compression::Zstd { .. } => match zstd::stream::read::Decoder::with_buffer(body) {
            // A single frame: data after it is refused below instead of being read as another.
            Ok(d) => d.single_frame().take(limit).read_to_end(&mut out),
            Err(e) => Err(e),
        },
    };
    read.map_err(|e| BatchError::Decompress { algo, reason: e.to_string() })?;
    if out.len() > max {
        return Err(BatchError::DecompressedTooLarge { max });
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
        let mut c = Compression::Brotli { level: 5 }.compress(&[7u8; 1000]).unwrap();
        c.truncate(c.len() - 2);
        assert!(matches!(decompress(&c, 10_000), Err(BatchError::Decompress { .. })));
    }
}
