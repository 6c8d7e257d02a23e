//! The crate's error type.

/// Errors of the sequencer.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Result with [`SequencerError`].
pub type Result<T, E = SequencerError> = core::result::Result<T, E>;
