//! The crate's error type.

/// Errors of the indexer.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result with [`IndexerError`].
pub type Result<T, E = IndexerError> = core::result::Result<T, E>;
