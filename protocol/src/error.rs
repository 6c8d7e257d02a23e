//! The crate's error type.

/// Decoding failures of protocol encodings. Each names what was wrong, so that a follower or a DA
/// server can report it as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The input ended before the encoding was complete.
    #[error("{what}: need at least {needed} bytes, got {got}")]
    TooShort {
        /// Which encoding was being decoded.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// A keccak commitment must be exactly 33 bytes.
    #[error("keccak256 commitment must be 33 bytes (0x00 ‖ hash), got {0}")]
    KeccakCommitmentLength(usize),
    /// The commitment type byte is neither 0x00 (keccak) nor 0x01 (generic).
    #[error("unknown Alt-DA commitment type 0x{0:02x} (expected 0x00 keccak256 or 0x01 generic)")]
    UnknownCommitmentType(u8),
    /// A generic commitment carried no payload.
    #[error("generic commitment for DA layer 0x{0:02x} has an empty payload")]
    EmptyGenericPayload(u8),
    /// The batch-inbox payload does not start with the Alt-DA derivation version byte.
    #[error("batch inbox payload version 0x{0:02x} is not Alt-DA (0x01)")]
    InboxVersion(u8),
    /// A deposit event carried an opaque-data version we do not know.
    #[error("deposit opaque data has unsupported version {0}")]
    DepositVersion(u64),
    /// The `isCreation` byte of a deposit was neither 0 nor 1.
    #[error("deposit isCreation byte must be 0 or 1, got {0}")]
    DepositCreationFlag(u8),
    /// A deposit minting more than 2¹²⁸ − 1 wei (the portal mints `msg.value`, which never does).
    #[error("deposit mint {0} does not fit in 128 bits")]
    DepositMintTooLarge(alloy_primitives::U256),
    /// Calldata that is not `setL1BlockValuesEcotone()`'s.
    #[error("not setL1BlockValuesEcotone calldata: {0}")]
    L1InfoCalldata(&'static str),
    /// User deposits given for a block that does not start its epoch.
    #[error(
        "{count} user deposits given for an L2 block with sequence number {seq} (only the first block of an epoch carries them)"
    )]
    DepositsOutsideEpochStart {
        /// How many deposits.
        count: usize,
        /// The block's sequence number in its epoch.
        seq: u64,
    },
}

/// Result with [`ProtocolError`].
pub type Result<T, E = ProtocolError> = core::result::Result<T, E>;
