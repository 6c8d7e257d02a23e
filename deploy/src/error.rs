//! The crate's error type.

/// Errors of deployment and the devnet.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Anvil could not be started.
    #[error("could not start anvil ({path}): {source}")]
    Anvil {
        /// The anvil binary used.
        path: String,
        /// What failed.
        #[source]
        source: alloy::node_bindings::NodeError,
    },
    /// A contract deployment or a configuration call failed.
    #[error("deploying {contract}: {source}")]
    Contract {
        /// Which contract.
        contract: &'static str,
        /// What failed.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// A transaction was sent but did not confirm successfully.
    #[error("{what}: {source}")]
    Pending {
        /// Which step.
        what: &'static str,
        /// What failed.
        #[source]
        source: Box<alloy::providers::PendingTransactionError>,
    },
    /// A transaction was mined but reverted.
    #[error("{what}: transaction {tx} reverted")]
    Reverted {
        /// Which step.
        what: &'static str,
        /// Its hash.
        tx: alloy::primitives::B256,
    },
    /// A flow ran, but its effect on chain is not what it should be.
    #[error("check failed: {0}")]
    Check(String),
    /// An RPC call failed.
    #[error("L1 RPC: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// The data directory could not be written.
    #[error("data directory {path}: {source}")]
    Datadir {
        /// The path.
        path: std::path::PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// A devnet service could not be started.
    #[error("could not start {name} ({path}): {source}")]
    Spawn {
        /// Which service.
        name: &'static str,
        /// The binary.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// JSON encoding of the address manifest.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Result with [`DeployError`].
pub type Result<T, E = DeployError> = core::result::Result<T, E>;
