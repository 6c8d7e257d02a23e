//! The crate's error type.

/// Errors of the prover.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result with [`ProverError`].
pub type Result<T, E = ProverError> = core::result::Result<T, E>;
