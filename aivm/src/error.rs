//! The crate's error type.

/// Errors of the AIVM.
#[derive(Debug, thiserror::Error)]
pub enum AivmError {
    /// The address is not an AIVM precompile.
    #[error("{0} is not in the AIVM precompile range 0x…0a00–0x…0aff")]
    NotAnAivmPrecompile(alloy_primitives::Address),
    /// Two AIVM precompiles were registered at one address.
    #[error("AIVM precompile address {address} is already taken by {by}")]
    PrecompileAddressTaken {
        /// The address.
        address: alloy_primitives::Address,
        /// Name of the precompile registered there first.
        by: &'static str,
    },
    /// A genesis file could not be read.
    #[error("bad genesis: {0}")]
    Genesis(String),
    /// Block execution failed.
    #[error(transparent)]
    Exec(#[from] crate::stf::ExecError),
    /// A model or adapter is invalid, or inference failed.
    #[error(transparent)]
    Model(#[from] Box<crate::model::ModelError>),
}

/// Result with [`AivmError`].
pub type Result<T, E = AivmError> = core::result::Result<T, E>;
