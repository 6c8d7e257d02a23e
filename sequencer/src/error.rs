//! The crate's error type.

/// Errors of the sequencer.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A bad configuration.
    #[error("config: {0}")]
    Config(String),
    /// A bad genesis file.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The chain store failed or holds inconsistent data.
    #[error("chain store: {0}")]
    Store(String),
    /// Bad L1 input (an L1 epoch that does not follow the previous one, a deposit log that does
    /// not decode).
    #[error("L1 input: {0}")]
    L1(String),
    /// A derived batch or block does not extend the chain (follower).
    #[error("derivation: {0}")]
    Derivation(String),
    /// A safe or finalized head the pipeline set does not fit the chain.
    #[error("sync status: {0}")]
    SyncStatus(String),
    /// State at a past block that the node cannot rebuild.
    #[error("historical state unavailable: {0}")]
    HistoricalState(String),
    /// Block execution failed (a bug, not the input's fault: invalid transactions are skipped).
    #[error("execution: {0}")]
    Execution(String),
}

/// Result with [`SequencerError`].
pub type Result<T, E = SequencerError> = core::result::Result<T, E>;
