#![doc = include_str!("../README.md")]

pub mod blob;
pub mod calldata;
mod error;
pub mod filecoin;
pub mod local;
pub mod near;
pub mod replicated;
pub mod server;

pub use calldata::CalldataBackend;
pub use error::{DaError, Result};
pub use filecoin::FilecoinBackend;
pub use local::LocalBackend;

use alloy_primitives::Bytes;
use std::future::Future;
use temporis_protocol::commitment::Commitment;

/// A data-availability backend.
pub trait DaBackend: Send + Sync {
    /// Stores `data` and returns the commitment under which it can be fetched.
    fn put(&self, data: Bytes) -> impl Future<Output = Result<Commitment>> + Send;

    /// Fetches the bytes named by `commitment`, verified against it.
    fn get(&self, commitment: &Commitment) -> impl Future<Output = Result<Bytes>> + Send;
}
