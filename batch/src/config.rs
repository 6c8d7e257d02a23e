//! Encoder configuration and decoder limits.

use crate::{BatchError, Compression, Result, frame::FRAME_OVERHEAD};

/// What a batch's body takes from the chain's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchConfig {
    /// The L2 chain id. Batches do not carry it: every replay-protected tx of a batch must be
    /// signed for this chain, the encoder refuses any other, and the decoder puts it back.
    pub chain_id: u64,
}

impl BatchConfig {
    /// The configuration of chain `chain_id`.
    pub const fn new(chain_id: u64) -> Self {
        Self { chain_id }
    }
}

/// Default bound of one DA payload: 120 000 bytes, which keeps a payload posted as Ethereum
/// calldata under geth's 128 KiB transaction size limit (the OP batcher's calldata default).
pub const DEFAULT_MAX_PAYLOAD_SIZE: usize = 120_000;
/// Default bound of a channel's (compressed) bytes: 16 MiB.
pub const DEFAULT_MAX_CHANNEL_SIZE: usize = 16 << 20;
/// Default bound of a channel's decompressed bytes (the batch body): 64 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 64 << 20;
/// Default number of channels a reader keeps open at once.
pub const DEFAULT_MAX_OPEN_CHANNELS: usize = 8;

/// How [`crate::Batch::encode`] builds a channel and cuts it into DA payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The chain the batch is for.
    pub batch: BatchConfig,
    /// Channel compression.
    pub compression: Compression,
    /// Most bytes of one DA payload (derivation version byte and frame overhead included).
    pub max_payload_size: usize,
    /// Most bytes of a channel; larger batches are refused, so that the encoder never makes a
    /// channel that readers with the default limits would drop.
    pub max_channel_size: usize,
    /// Most bytes of a batch body before compression (same reason).
    pub max_decompressed_size: usize,
}

impl ChannelConfig {
    /// The defaults for chain `chain_id`: [`Compression::DEFAULT`] and the `DEFAULT_*` bounds.
    pub const fn new(chain_id: u64) -> Self {
        Self {
            batch: BatchConfig::new(chain_id),
            compression: Compression::DEFAULT,
            max_payload_size: DEFAULT_MAX_PAYLOAD_SIZE,
            max_channel_size: DEFAULT_MAX_CHANNEL_SIZE,
            max_decompressed_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
        }
    }

    /// The same with another compression.
    pub const fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The same with another payload bound.
    pub const fn with_max_payload_size(mut self, max_payload_size: usize) -> Self {
        self.max_payload_size = max_payload_size;
        self
    }

    /// Checks the values can work together.
    pub fn validate(&self) -> Result<()> {
        self.compression.validate()?;
        if self.max_payload_size <= 1 + FRAME_OVERHEAD {
            return Err(BatchError::Config("max_payload_size must leave room for frame data (> 24 bytes)"));
        }
        Ok(())
    }
}

/// What a [`crate::ChannelReader`] accepts: the chain, and bounds on what untrusted DA payloads
/// can make it hold in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The chain the batches are for (it puts the chain id back into the txs).
    pub batch: BatchConfig,
    /// Most bytes of one channel's frames together; a channel that grows past it is dropped.
    pub max_channel_size: usize,
    /// Most bytes a channel may decompress to (zip-bomb bound).
    pub max_decompressed_size: usize,
    /// Most channels open (started, not yet closed) at once; opening one more drops the oldest.
    pub max_open_channels: usize,
}

impl DecodeLimits {
    /// The default limits for chain `chain_id`.
    pub const fn new(chain_id: u64) -> Self {
        Self {
            batch: BatchConfig::new(chain_id),
            max_channel_size: DEFAULT_MAX_CHANNEL_SIZE,
            max_decompressed_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
            max_open_channels: DEFAULT_MAX_OPEN_CHANNELS,
        }
    }
}
