//! The crate's error type.

use temporis_protocol::commitment::Commitment;

/// Errors of DA backends.
#[derive(Debug, thiserror::Error)]
pub enum DaError {
    /// No data is stored under the commitment.
    #[error("no data for commitment {0:?}")]
    NotFound(Commitment),
    /// The backend returned bytes that do not match the commitment.
    #[error("data returned for commitment {commitment:?} does not match it")]
    CommitmentMismatch {
        /// The commitment asked for.
        commitment: Commitment,
    },
    /// The blob is larger than the backend accepts.
    #[error("blob of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size given.
        size: usize,
        /// Limit of the backend.
        limit: usize,
    },
    /// A malformed commitment.
    #[error(transparent)]
    Commitment(#[from] temporis_protocol::ProtocolError),
}

/// Result with [`DaError`].
pub type Result<T, E = DaError> = core::result::Result<T, E>;
