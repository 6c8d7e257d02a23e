#![doc = include_str!("../README.md")]

pub mod config;
mod error;
pub mod evm;
pub mod genesis;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod proof;
pub mod rollup;
pub mod rpc;
pub mod services;
pub mod snapshot;
pub mod store;
pub mod trace;

pub use config::{Cli, Config};
pub use error::{Result, SequencerError};
pub use node::Node;
