//! The crate's one error type.

/// Result alias of this crate.
pub type Result<T, E = BatchError> = core::result::Result<T, E>;

/// Everything that can go wrong while encoding a batch or reading channels back.
///
/// Decoding errors are the answer to untrusted input (DA payloads anyone could have posted):
/// each names what was wrong and where, and none of them leaves the [`crate::ChannelReader`] in
/// a state it cannot go on from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    // ------------------------------------------------------------------ batch content (encode)
    /// A batch must hold at least one block.
    #[error("a batch must hold at least one block")]
    EmptyBatch,
    /// Block numbers must follow each other.
    #[error("block {got} follows block {prev}: batch blocks must be consecutive")]
    NonConsecutiveBlocks {
        /// Number of the previous block.
        prev: u64,
        /// Number of the offending block.
        got: u64,
    },
    /// Timestamps may not go down.
    #[error("block {number} has timestamp {timestamp}, before its parent's {parent_timestamp}")]
    TimestampDecreases {
        /// The block.
        number: u64,
        /// Its timestamp.
        timestamp: u64,
        /// The previous block's timestamp.
        parent_timestamp: u64,
    },
    /// The L1 origin moves by 0 or 1 per block.
    #[error("block {number} moves the L1 origin from {parent_origin} to {origin}: only +0 or +1 allowed")]
    BadOriginStep {
        /// The block.
        number: u64,
        /// Its L1 origin number.
        origin: u64,
        /// The previous block's L1 origin number.
        parent_origin: u64,
    },
    /// Deposits (0x7E) are derived from L1, never batched.
    #[error("tx {index} of block {block} is a deposit (0x7E): deposits are derived from L1, not batched")]
    DepositTx {
        /// Block number.
        block: u64,
        /// Index of the tx in the block's batched txs.
        index: usize,
    },
    /// Blob transactions cannot be executed on the L2.
    #[error("tx {index} of block {block} is an EIP-4844 blob tx, which the L2 does not accept")]
    BlobTx {
        /// Block number.
        block: u64,
        /// Index of the tx in the block's batched txs.
        index: usize,
    },
    /// The tx bytes are not a transaction alloy can decode.
    #[error("tx {index} of block {block} is not a valid EIP-2718 transaction: {reason}")]
    InvalidTx {
        /// Block number.
        block: u64,
        /// Index of the tx.
        index: usize,
        /// alloy's decoding error.
        reason: String,
    },
    /// The tx decodes, but its canonical re-encoding differs from the given bytes, so the
    /// batch could not give the same bytes (and hash) back.
    #[error("tx {index} of block {block} is not canonically encoded: it would not round-trip")]
    NonCanonicalTx {
        /// Block number.
        block: u64,
        /// Index of the tx.
        index: usize,
    },
    /// A tx (or an authorization) names a chain other than the configured one.
    #[error("tx {index} of block {block} is for chain {got}, the batch is for chain {expected}")]
    WrongChainId {
        /// Block number.
        block: u64,
        /// Index of the tx.
        index: usize,
        /// The configured chain id.
        expected: u64,
        /// The tx's chain id.
        got: u64,
    },

    // ------------------------------------------------------------------ configuration
    /// A configuration value that cannot work.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// The channel needs more frames than a u16 frame number can count.
    #[error("the channel needs {frames} frames, more than the {max} a frame number can count")]
    TooManyFrames {
        /// Frames needed.
        frames: usize,
        /// The maximum.
        max: usize,
    },
    /// The batch is over a bound of the channel configuration (`what` names it); readers with
    /// the same limits would drop it, so the batcher must cut smaller batches.
    #[error("batch {what} is {size} bytes, over the {max}-byte limit")]
    BatchTooLarge {
        /// `"body"` (before compression) or `"channel"` (after).
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A compressor failed (an I/O error of the in-memory writer; not expected).
    #[error("{algo} compression failed: {reason}")]
    Compress {
        /// Algorithm.
        algo: &'static str,
        /// The error.
        reason: String,
    },

    // ------------------------------------------------------------------ payloads and frames
    /// A DA payload must start with a derivation version byte.
    #[error("empty DA payload")]
    EmptyPayload,
    /// Unknown derivation version byte at the head of a DA payload.
    #[error("unknown derivation version {0:#04x} (expected 0x00)")]
    UnknownDerivationVersion(u8),
    /// A payload with a version byte and no frame.
    #[error("DA payload holds no frame")]
    NoFrames,
    /// A frame ends before its fixed fields or its data do.
    #[error("frame {index} of the payload is truncated: {needed} bytes needed, {left} left")]
    TruncatedFrame {
        /// Index of the frame in the payload.
        index: usize,
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes left in the payload.
        left: usize,
    },
    /// The `is_last` byte must be 0 or 1.
    #[error("frame {index} of the payload has is_last = {value:#04x} (0 or 1 allowed)")]
    BadIsLast {
        /// Index of the frame in the payload.
        index: usize,
        /// The byte.
        value: u8,
    },
    /// A frame arrived out of order (we accept a channel's frames only in order).
    #[error("channel {channel}: frame {got} arrived, frame {expected} was expected next")]
    FrameOutOfOrder {
        /// Channel id, hex.
        channel: String,
        /// The frame number we wait for.
        expected: u16,
        /// The frame number that came.
        got: u16,
    },
    /// A frame that was already received.
    #[error("channel {channel}: frame {frame} received twice")]
    DuplicateFrame {
        /// Channel id, hex.
        channel: String,
        /// The frame number.
        frame: u16,
    },
    /// A frame of a channel that was already closed and read.
    #[error("channel {channel} was already read; frame {frame} is ignored")]
    ChannelAlreadyRead {
        /// Channel id, hex.
        channel: String,
        /// The frame number.
        frame: u16,
    },
    /// A channel grew past the configured maximum size; it is dropped.
    #[error("channel {channel} is over {max} bytes; dropped")]
    ChannelTooLarge {
        /// Channel id, hex.
        channel: String,
        /// The limit.
        max: usize,
    },

    // ------------------------------------------------------------------ channel content
    /// An empty channel has no compression byte.
    #[error("empty channel")]
    EmptyChannel,
    /// Unknown compression byte at the head of a channel.
    #[error("unknown channel compression {0:#04x}")]
    UnknownCompression(u8),
    /// The compressed stream is corrupt.
    #[error("{algo} decompression failed: {reason}")]
    Decompress {
        /// Algorithm.
        algo: &'static str,
        /// The error.
        reason: String,
    },
    /// The channel decompresses to more than the configured maximum (a decompression bomb, or
    /// a batch bigger than this node accepts).
    #[error("channel decompresses to more than {max} bytes")]
    DecompressedTooLarge {
        /// The limit.
        max: usize,
    },
    /// Unknown batch version byte.
    #[error("unknown batch version {0:#04x}")]
    UnknownBatchVersion(u8),
    /// The batch body ends early.
    #[error("batch truncated while reading {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A varint that does not fit its type or is not in its shortest form.
    #[error("bad varint in {field}")]
    BadVarint {
        /// The field being read.
        field: &'static str,
    },
    /// A value that the layout rules out (a bit set that must be clear, a count over a limit, …).
    #[error("invalid batch field {field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Bytes after the end of the batch.
    #[error("{0} trailing bytes after the batch")]
    TrailingBytes(usize),
}
