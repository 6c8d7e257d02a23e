//! Frames and DA payloads (the OP Stack layout).
//!
//! ```text
//! payload = derivation_version (0x00) ‖ frame ‖ frame ‖ …
//! frame   = channel_id (16) ‖ frame_number (u16 BE) ‖ frame_data_length (u32 BE) ‖ frame_data ‖ is_last (u8)
//! ```

use crate::{BatchError, Result};
use std::fmt;

/// Derivation version byte at the head of a DA payload.
pub const DERIVATION_VERSION: u8 = 0x00;
/// Bytes a frame adds around its data: id 16, number 2, length 4, is_last 1.
pub const FRAME_OVERHEAD: usize = 16 + 2 + 4 + 1;

/// A channel id: 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub [u8; 16]);

impl fmt::Debug for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One frame: a piece of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The channel the frame belongs to.
    pub channel_id: ChannelId,
    /// Position in the channel, from 0.
    pub number: u16,
    /// The piece of channel data.
    pub data: &'a [u8],
    /// Whether this is the channel's last frame.
    pub is_last: bool,
}

impl Frame<'_> {
    /// Appends the frame's wire bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.number.to_be_bytes());
        // Frames are built from payload-bounded slices, far under 4 GiB.
        out.extend_from_slice(&(self.data.len() as u32).to_be_bytes());
        out.extend_from_slice(self.data);
        out.push(u8::from(self.is_last));
    }
}

/// Splits a DA payload into its frames. All or nothing: a payload with any malformed frame
/// yields no frame at all (as OP's derivation drops the whole L1 tx).
pub fn parse_payload(payload: &[u8]) -> Result<Vec<Frame<'_>>> {
    let (&version, mut rest) = payload.split_first().ok_or(BatchError::EmptyPayload)?;
    if version != DERIVATION_VERSION {
        return Err(BatchError::UnknownDerivationVersion(version));
    }
    if rest.is_empty() {
        return Err(BatchError::NoFrames);
    }
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let index = frames.len();
        let truncated = |needed: usize, left: usize| BatchError::TruncatedFrame { index, needed, left };
        if rest.len() < FRAME_OVERHEAD {
            return Err(truncated(FRAME_OVERHEAD, rest.len()));
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&rest[..16]);
        let number = u16::from_be_bytes([rest[16], rest[17]]);
        let len = u32::from_be_bytes([rest[18], rest[19], rest[20], rest[21]]) as usize;
        let needed = FRAME_OVERHEAD.saturating_add(len);
        if rest.len() < needed {
            return Err(truncated(needed, rest.len()));
        }
        let data = &rest[22..22 + len];
        let is_last = match rest[22 + len] {
            0 => false,
            1 => true,
            value => return Err(BatchError::BadIsLast { index, value }),
        };
        frames.push(Frame { channel_id: ChannelId(id), number, data, is_last });
        rest = &rest[needed..];
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_bytes() {
        let mut out = vec![DERIVATION_VERSION];
        Frame { channel_id: ChannelId([0xab; 16]), number: 2, data: b"xyz", is_last: true }.write(&mut out);
        assert_eq!(out.len(), 1 + FRAME_OVERHEAD + 3);
        assert_eq!(&out[17..23], &[0, 2, 0, 0, 0, 3]);
        assert_eq!(&out[23..], b"xyz\x01");
        let frames = parse_payload(&out).unwrap();
        assert_eq!(
            frames,
            vec![Frame { channel_id: ChannelId([0xab; 16]), number: 2, data: b"xyz", is_last: true }]
        );
    }

    #[test]
    fn malformed_payloads() {
        assert_eq!(parse_payload(&[]), Err(BatchError::EmptyPayload));
        assert_eq!(parse_payload(&[1]), Err(BatchError::UnknownDerivationVersion(1)));
        assert_eq!(parse_payload(&[0]), Err(BatchError::NoFrames));
        let mut out = vec![0];
        Frame { channel_id: ChannelId([1; 16]), number: 0, data: b"ab", is_last: false }.write(&mut out);
        let mut bad = out.clone();
        *bad.last_mut().unwrap() = 2;
        assert_eq!(parse_payload(&bad), Err(BatchError::BadIsLast { index: 0, value: 2 }));
        assert!(matches!(
            parse_payload(&out[..out.len() - 1]),
            Err(BatchError::TruncatedFrame { index: 0, .. })
        ));
        // A length field pointing past the end (u32::MAX) must not overflow.
        let mut huge = out.clone();
        huge[19..23].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse_payload(&huge), Err(BatchError::TruncatedFrame { .. })));
    }
}
