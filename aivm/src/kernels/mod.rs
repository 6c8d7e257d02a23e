//! Integer-exact matrix kernels.
//!
//! Two implementations of one operation, `Y = X · Wᵀ` with `X` int8 `[rows, k]`, `W` int8
//! `[out, k]` (the PyTorch / safetensors layout of a linear layer) and `Y` int32 `[rows, out]`:
//!
//! - [`reference`](mod@reference): a plain triple loop in integers, the definition;
//! - [`ExactMatmul`]: candle's f32 matmul on the same integers, exact by construction (see
//!   below), fast on any backend candle has (CPU here; CUDA when built with it).
//!
//! **Why f32 is exact here.** Every product of two int8 values has magnitude ≤ 128² = 2^14, so a
//! sum of at most [`EXACT_K_CHUNK`] = 1024 of them has magnitude ≤ 2^24, and so has every partial
//! sum, whichever order and grouping (FMA or not, any vector width, any number of threads) the
//! matmul uses. Every integer of magnitude ≤ 2^24 is an f32, so no step ever rounds. Longer
//! reductions are cut into chunks of ≤ 1024 along `k`, and the per-chunk results (exact
//! integers) are added in i32.

mod candle;
pub mod reference;

pub use self::candle::ExactMatmul;

/// Longest reduction whose f32 sum of int8 × int8 products is exact in every order:
/// `1024 · 128² = 2^24`.
pub const EXACT_K_CHUNK: usize = 1024;

/// Largest `k` (and output width) a layer may have: keeps `k · 128²` plus an i32 bias well inside
/// i32 / i64 arithmetic (`2^16 · 2^14 = 2^30`).
pub const MAX_FEATURES: usize = 1 << 16;

/// A shape that does not fit the data given to a kernel.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// A buffer's length is not the product of the dimensions it was given with.
    #[error("{what} has {found} elements, expected {expected}")]
    Length {
        /// Which operand.
        what: &'static str,
        /// `rows · cols` of the declared shape.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },
    /// A dimension is zero or above [`MAX_FEATURES`].
    #[error("{what} is {value}, must be in 1..={MAX_FEATURES}")]
    Dimension {
        /// Which dimension.
        what: &'static str,
        /// Its value.
        value: usize,
    },
    /// The tensor backend failed (allocation, device).
    #[error("tensor backend: {0}")]
    Backend(#[from] Box<candle_core::Error>),
}

impl From<candle_core::Error> for KernelError {
    fn from(e: candle_core::Error) -> Self {
        Self::Backend(Box::new(e))
    }
}

pub(crate) fn check_dim(what: &'static str, value: usize) -> Result<(), KernelError> {
    if value == 0 || value > MAX_FEATURES {
        return Err(KernelError::Dimension { what, value });
    }
    Ok(())
}

pub(crate) fn check_len(what: &'static str, buf: usize, rows: usize, cols: usize) -> Result<(), KernelError> {
    let expected = rows.saturating_mul(cols);
    if buf != expected {
        return Err(KernelError::Length { what, expected, found: buf });
    }
    Ok(())
}
