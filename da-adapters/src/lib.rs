#![doc = include_str!("../README.md")]

pub mod blob;
pub mod calldata;
pub mod cli;
mod error;
pub mod filecoin;
pub mod http;
pub mod local;
pub mod near;
pub mod replicated;
pub mod server;

pub use blob::BlobBackend;
pub use calldata::CalldataBackend;
pub use error::{DaError, Result};
pub use filecoin::FilecoinBackend;
pub use http::AltDaClient;
pub use local::LocalBackend;
pub use near::NearBackend;
pub use replicated::ReplicatedBackend;

use alloy_primitives::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use temporis_protocol::commitment::Commitment;

/// A data-availability backend.
pub trait DaBackend: Send + Sync {
    /// Stores `data` and returns the commitment under which it can be fetched.
    fn put(&self, data: Bytes) -> impl Future<Output = Result<Commitment>> + Send;

    /// Fetches the bytes named by `commitment`, verified against it.
    fn get(&self, commitment: &Commitment) -> impl Future<Output = Result<Bytes>> + Send;

    /// Stores a blob that arrives in pieces (an HTTP body), refusing it with
    /// [`DaError::TooLarge`] as soon as it passes `limit` bytes. The default gathers the pieces
    /// and calls [`DaBackend::put`]; a backend that can write bytes as they arrive (the local
    /// store) overrides it, so that a large body is never held in memory whole.
    fn put_stream(&self, body: BlobStream, limit: usize) -> impl Future<Output = Result<Commitment>> + Send {
        async move {
            let data = collect_stream(body, limit).await?;
            self.put(data).await
        }
    }

    /// The parts of this backend that failed their last operation, each with the reason; empty
    /// when all is well. Only backends made of parts (the replicated one) have any.
    fn degraded(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A blob arriving in pieces, for [`DaBackend::put_stream`].
pub type BlobStream = Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Gathers `body` into one buffer, failing once it passes `limit` bytes.
pub async fn collect_stream(mut body: BlobStream, limit: usize) -> Result<Bytes> {
    use futures_util::StreamExt;
    let mut data = Vec::new();
    while let Some(piece) = body.next().await {
        let piece =
            piece.map_err(|e| DaError::Io { op: "reading", path: "request body".into(), source: e })?;
        if data.len() + piece.len() > limit {
            return Err(DaError::TooLarge { size: data.len() + piece.len(), limit });
        }
        data.extend_from_slice(&piece);
    }
    Ok(data.into())
}

/// A boxed future, as [`DynDaBackend`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe form of [`DaBackend`], implemented for every backend, so that a backend can
/// be chosen at run time (by the `temporis-da` server's `--backend`, or as a replica).
pub trait DynDaBackend: Send + Sync {
    /// [`DaBackend::put`], boxed.
    fn put_dyn(&self, data: Bytes) -> BoxFuture<'_, Result<Commitment>>;
    /// [`DaBackend::get`], boxed.
    fn get_dyn<'a>(&'a self, commitment: &'a Commitment) -> BoxFuture<'a, Result<Bytes>>;
    /// [`DaBackend::put_stream`], boxed.
    fn put_stream_dyn(&self, body: BlobStream, limit: usize) -> BoxFuture<'_, Result<Commitment>>;
    /// [`DaBackend::degraded`].
    fn degraded_dyn(&self) -> Vec<String>;
}

impl<T: DaBackend> DynDaBackend for T {
    fn put_dyn(&self, data: Bytes) -> BoxFuture<'_, Result<Commitment>> {
        Box::pin(self.put(data))
    }

    fn get_dyn<'a>(&'a self, commitment: &'a Commitment) -> BoxFuture<'a, Result<Bytes>> {
        Box::pin(self.get(commitment))
    }

    fn put_stream_dyn(&self, body: BlobStream, limit: usize) -> BoxFuture<'_, Result<Commitment>> {
        Box::pin(self.put_stream(body, limit))
    }

    fn degraded_dyn(&self) -> Vec<String> {
        self.degraded()
    }
}

/// A backend chosen at run time: any [`DaBackend`] behind an `Arc`. Cloning is cheap.
#[derive(Clone)]
pub struct AnyBackend(Arc<dyn DynDaBackend>);

impl AnyBackend {
    /// Boxes `backend`.
    pub fn new(backend: impl DaBackend + 'static) -> Self {
        Self(Arc::new(backend))
    }
}

impl std::fmt::Debug for AnyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnyBackend")
    }
}

impl DaBackend for AnyBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        self.0.put_dyn(data).await
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        self.0.get_dyn(commitment).await
    }

    async fn put_stream(&self, body: BlobStream, limit: usize) -> Result<Commitment> {
        self.0.put_stream_dyn(body, limit).await
    }

    fn degraded(&self) -> Vec<String> {
        self.0.degraded_dyn()
    }
}
