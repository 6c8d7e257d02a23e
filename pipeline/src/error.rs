//! The crate's error type.

use alloy::primitives::B256;

/// What an [`OutputSource`](crate::proposer::OutputSource) or
/// [`BlockSource`](crate::batcher::BlockSource) implementation fails with (the node's own error,
/// boxed).
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the pipeline services.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// An L1 JSON-RPC call failed.
    #[error("L1 RPC: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// A contract read failed.
    #[error("{what}: {source}")]
    Contract {
        /// Which call.
        what: &'static str,
        /// What failed.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// The L1 node does not have a block it reported (it is behind, or reorganising).
    #[error("L1 block {0} not found")]
    MissingBlock(u64),
    /// An L1 reorg goes deeper than the blocks the watcher remembers: what was built on them
    /// cannot be unwound here.
    #[error(
        "L1 reorg deeper than the remembered blocks: block {number} was handed out as {handed}, \
         the canonical chain has {canonical} there (zero: no block)"
    )]
    ReorgTooDeep {
        /// Height of the oldest mismatch found.
        number: u64,
        /// Hash handed out at that height.
        handed: B256,
        /// Canonical hash at that height (zero when the chain is shorter).
        canonical: B256,
    },
    /// A log the L1 returned is not what the contract emits.
    #[error("bad log in L1 block {block}: {reason}")]
    BadLog {
        /// The L1 block.
        block: u64,
        /// Why.
        reason: String,
    },
    /// An L1 transaction could not be sent or confirmed.
    #[error(transparent)]
    Tx(#[from] crate::l1::txmgr::TxError),
    /// The node behind a source trait failed.
    #[error("source: {0}")]
    Source(SourceError),
    /// The batcher's state file could not be read or written.
    #[error("batcher state {}: {reason}", path.display())]
    State {
        /// The file.
        path: std::path::PathBuf,
        /// What failed.
        reason: String,
    },
    /// A DA put or get failed.
    #[error("DA: {what}: {source}")]
    Da {
        /// What was being done.
        what: String,
        /// What failed.
        #[source]
        source: temporis_da_adapters::DaError,
    },
    /// A batch could not be encoded.
    #[error("batch encoding: {0}")]
    Batch(#[from] temporis_batch::BatchError),
    /// A withdrawal cannot be proven or finalized as asked.
    #[error("withdrawal: {0}")]
    Withdrawal(String),
    /// A configuration value is unusable.
    #[error("configuration: {0}")]
    Config(String),
}

/// Result with [`PipelineError`].
pub type Result<T, E = PipelineError> = core::result::Result<T, E>;

/// Maps a contract-call failure to [`PipelineError::Contract`] naming the call.
pub(crate) fn contract_err(what: &'static str) -> impl FnOnce(alloy::contract::Error) -> PipelineError {
    move |source| PipelineError::Contract { what, source: Box::new(source) }
}
