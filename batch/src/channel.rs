//! Channels: a compressed batch cut into frames, and the reader that puts them back together.

use crate::{
    Batch, BatchError, DecodeLimits, Result,
    compression::decompress,
    frame::{ChannelId, DERIVATION_VERSION, FRAME_OVERHEAD, Frame, parse_payload},
};
use alloy_primitives::keccak256;
use std::collections::{HashSet, VecDeque};
use tracing::{debug, warn};

/// How many closed channel ids a reader remembers, to refuse a channel posted twice.
const REMEMBERED_CHANNELS: usize = 4096;

/// A channel: `compression ‖ compressed batch body`, with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// `keccak256(data)[..16]`: derived from the content, so that the same batch posted twice
    /// (a batcher restarted before it saw its post land) is the same channel and is read once.
    pub id: ChannelId,
    /// The channel bytes.
    pub data: Vec<u8>,
}

impl Channel {
    /// A channel over `data`, with its content-derived id.
    pub fn new(data: Vec<u8>) -> Self {
        let mut id = [0u8; 16];
        id.copy_from_slice(&keccak256(&data)[..16]);
        Self { id: ChannelId(id), data }
    }

    /// Cuts the channel into DA payloads of at most `max_payload_size` bytes, each
    /// `0x00 ‖ one frame`, in posting order.
    pub fn payloads(&self, max_payload_size: usize) -> Result<Vec<Vec<u8>>> {
        let chunk = max_payload_size
            .checked_sub(1 + FRAME_OVERHEAD)
            .filter(|c| *c > 0)
            .ok_or(BatchError::Config("max_payload_size must leave room for frame data (> 24 bytes)"))?;
        let frames = self.data.len().div_ceil(chunk).max(1);
        if frames > usize::from(u16::MAX) + 1 {
            return Err(BatchError::TooManyFrames { frames, max: usize::from(u16::MAX) + 1 });
        }
        let mut out = Vec::with_capacity(frames);
        for (i, data) in self.data.chunks(chunk).enumerate() {
            let mut payload = Vec::with_capacity(1 + FRAME_OVERHEAD + data.len());
            payload.push(DERIVATION_VERSION);
            Frame { channel_id: self.id, number: i as u16, data, is_last: i + 1 == frames }
                .write(&mut payload);
            out.push(payload);
        }
        Ok(out)
    }
}

/// A channel that has some of its frames.
#[derive(Debug)]
struct Pending {
    id: ChannelId,
    next: u16,
    data: Vec<u8>,
}

/// Reassembles channels from DA payloads fed in L1 order and yields their batches.
///
/// Rules (see `docs/batch-format.md`, "Reading channels"):
/// - a payload is parsed whole first; a malformed one is refused with no effect;
/// - a channel's frames must come in order (0, 1, 2, …): a frame ahead of the next expected one
///   is refused ([`BatchError::FrameOutOfOrder`]), one already received is refused
///   ([`BatchError::DuplicateFrame`]), and the channel stays open, waiting for the right one;
/// - frames of different channels may interleave; at most `max_open_channels` are open, and
///   opening one more drops the oldest (so an abandoned channel cannot block the reader);
/// - a channel over `max_channel_size` is dropped; its batch must decompress within
///   `max_decompressed_size`; a channel already read is not read again.
///
/// When one frame of a payload is refused, the others are still applied; a batch that another
/// frame of the same payload completed is kept and returned by the next call to
/// [`ChannelReader::push`] or [`ChannelReader::take_ready`], never lost.
#[derive(Debug)]
pub struct ChannelReader {
    limits: DecodeLimits,
    open: VecDeque<Pending>,
    read: HashSet<ChannelId>,
    read_order: VecDeque<ChannelId>,
    ready: Vec<Batch>,
}

impl ChannelReader {
    /// A reader with these limits.
    pub fn new(limits: DecodeLimits) -> Self {
        Self {
            limits,
            open: VecDeque::new(),
            read: HashSet::new(),
            read_order: VecDeque::new(),
            ready: Vec::new(),
        }
    }

    /// The reader's limits.
    pub const fn limits(&self) -> &DecodeLimits {
        &self.limits
    }

    /// Number of channels started and not yet complete.
    pub fn open_channels(&self) -> usize {
        self.open.len()
    }

    /// Batches completed during a call that returned an error.
    pub fn take_ready(&mut self) -> Vec<Batch> {
        std::mem::take(&mut self.ready)
    }

    /// Feeds one DA payload; returns the batches of the channels it completes (and any kept
    /// from an earlier call that returned an error).
    pub fn push(&mut self, payload: &[u8]) -> Result<Vec<Batch>> {
        let frames = parse_payload(payload)?;
        let mut first_err = None;
        for frame in frames {
            match self.add_frame(&frame) {
                Ok(Some(batch)) => self.ready.push(batch),
                Ok(None) => {}
                Err(e) => {
                    debug!(target: "batch::reader", channel = %frame.channel_id, frame = frame.number, %e, "frame refused");
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(self.take_ready()),
        }
    }

    fn add_frame(&mut self, frame: &Frame<'_>) -> Result<Option<Batch>> {
        let id = frame.channel_id;
        if self.read.contains(&id) {
            return Err(BatchError::ChannelAlreadyRead { channel: id.to_string(), frame: frame.number });
        }
        let pos = match self.open.iter().position(|p| p.id == id) {
            Some(pos) => {
                let expected = self.open[pos].next;
                if frame.number < expected {
                    return Err(BatchError::DuplicateFrame { channel: id.to_string(), frame: frame.number });
                }
                if frame.number > expected {
                    return Err(BatchError::FrameOutOfOrder {
                        channel: id.to_string(),
                        expected,
                        got: frame.number,
                    });
                }
                pos
            }
            None => {
                if frame.number != 0 {
                    return Err(BatchError::FrameOutOfOrder {
                        channel: id.to_string(),
                        expected: 0,
                        got: frame.number,
                    });
                }
                while self.open.len() >= self.limits.max_open_channels.max(1) {
                    if let Some(old) = self.open.pop_front() {
                        warn!(target: "batch::reader", channel = %old.id, frames = old.next, "too many open channels: dropping the oldest");
                    }
                }
                self.open.push_back(Pending { id, next: 0, data: Vec::new() });
                self.open.len() - 1
            }
        };
        let pending = &mut self.open[pos];
        if pending.data.len() + frame.data.len() > self.limits.max_channel_size {
            self.open.remove(pos);
            return Err(BatchError::ChannelTooLarge {
                channel: id.to_string(),
                max: self.limits.max_channel_size,
            });
        }
        pending.data.extend_from_slice(frame.data);
        if !frame.is_last {
            // A channel at frame 65535 that is not last can never complete.
            match pending.next.checked_add(1) {
                Some(n) => pending.next = n,
                None => {
                    self.open.remove(pos);
                    return Err(BatchError::TooManyFrames {
                        frames: usize::from(u16::MAX) + 2,
                        max: usize::from(u16::MAX) + 1,
                    });
                }
            }
            return Ok(None);
        }
        let Some(done) = self.open.remove(pos) else { return Ok(None) };
        self.remember(id);
        let body = decompress(&done.data, self.limits.max_decompressed_size)?;
        let batch = Batch::decode_body(&body, &self.limits.batch)?;
        debug!(target: "batch::reader", channel = %id, blocks = batch.blocks.len(), txs = batch.tx_count(), bytes = done.data.len(), "channel read");
        Ok(Some(batch))
    }

    fn remember(&mut self, id: ChannelId) {
        if self.read.insert(id) {
            self.read_order.push_back(id);
            if self.read_order.len() > REMEMBERED_CHANNELS
                && let Some(old) = self.read_order.pop_front()
            {
                self.read.remove(&old);
            }
        }
    }
}
