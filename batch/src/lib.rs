#![doc = include_str!("../README.md")]

mod batch;
mod channel;
mod codec;
pub mod compression;
mod config;
mod error;
pub mod frame;

pub use batch::{BATCH_VERSION, Batch, BatchBlock};
pub use channel::{Channel, ChannelReader};
pub use compression::Compression;
pub use config::{
    BatchConfig, ChannelConfig, DEFAULT_MAX_CHANNEL_SIZE, DEFAULT_MAX_DECOMPRESSED_SIZE,
    DEFAULT_MAX_OPEN_CHANNELS, DEFAULT_MAX_PAYLOAD_SIZE, DecodeLimits,
};
pub use error::{BatchError, Result};
pub use frame::{ChannelId, Frame};
