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
        /// Size given (for a blob refused while it arrives: the bytes seen so far, past the limit).
        size: usize,
        /// Limit of the backend.
        limit: usize,
    },
    /// The backend cannot serve this kind of commitment (e.g. a generic commitment of another
    /// DA layer given to the local store).
    #[error("backend {backend} does not serve commitment {commitment:?}")]
    UnsupportedCommitment {
        /// The backend's name.
        backend: &'static str,
        /// The commitment.
        commitment: Commitment,
    },
    /// A storage I/O failure.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A blocking storage task could not be joined (it panicked or the runtime shut down).
    #[error("storage task failed: {0}")]
    Task(String),
    /// The DA chain's JSON-RPC failed or refused the transaction.
    #[error("{backend}: {msg}")]
    Chain {
        /// The backend's name.
        backend: &'static str,
        /// What failed.
        msg: String,
    },
    /// A backend's own encoding or protocol was violated (a malformed CID, a transaction that is
    /// not a blob submission, an answer a node should never give).
    #[error("{backend}: {msg}")]
    Malformed {
        /// The backend's name.
        backend: &'static str,
        /// What is wrong.
        msg: String,
    },
    /// Too few replicas of a replicated backend stored a blob, or none could serve it.
    #[error("replicated: {written} of the {wanted} replicas needed succeeded ({failures})")]
    Replication {
        /// Replicas that succeeded.
        written: usize,
        /// Replicas that had to.
        wanted: usize,
        /// Each failed replica with its error.
        failures: String,
    },
    /// A backend is configured wrongly (a missing flag, a bad key).
    #[error("DA configuration: {0}")]
    Config(String),
    /// A malformed commitment.
    #[error(transparent)]
    Commitment(#[from] temporis_protocol::ProtocolError),
}

/// Result with [`DaError`].
pub type Result<T, E = DaError> = core::result::Result<T, E>;
