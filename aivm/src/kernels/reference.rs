//! The reference kernels: the definition of every integer operation of the consensus path,
//! written as plainly as possible. The fast path ([`super::ExactMatmul`]) is tested against it
//! bit for bit.

use super::{KernelError, check_dim, check_len};

/// `Y[i][o] = Σ_j X[i][j] · W[o][j]` in i32, with `X` `[rows, k]` and `W` `[out, k]` row-major.
///
/// No overflow is possible: `k ≤ 2^16`, so `|Y| ≤ 2^16 · 2^14 = 2^30`.
pub fn matmul(x: &[i8], rows: usize, w: &[i8], out: usize, k: usize) -> Result<Vec<i32>, KernelError> {
    check_dim("k", k)?;
    check_dim("out", out)?;
    check_len("x", x.len(), rows, k)?;
    check_len("w", w.len(), out, k)?;
    let mut y = vec![0i32; rows * out];
    for i in 0..rows {
        for o in 0..out {
            let mut acc = 0i32;
            for j in 0..k {
                acc += i32::from(x[i * k + j]) * i32::from(w[o * k + j]);
            }
            y[i * out + o] = acc;
        }
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_by_hand() {
        // X = [[1, 2, 3], [-1, 0, 127]], W = [[1, 0, -1], [2, 2, 2]]
        let y = matmul(&[1, 2, 3, -1, 0, 127], 2, &[1, 0, -1, 2, 2, 2], 2, 3).unwrap();
        assert_eq!(y, vec![-2, 12, -128, 252]);
    }

    #[test]
    fn extreme_values() {
        let k = 4096;
        let x = vec![-128i8; k];
        let w = vec![-128i8; k];
        assert_eq!(matmul(&x, 1, &w, 1, k).unwrap(), vec![4096 * 16384]);
    }

    #[test]
    fn shape_errors() {
        assert!(matches!(matmul(&[1, 2], 1, &[1, 2, 3], 1, 3), Err(KernelError::Length { what: "x", .. })));
        assert!(matches!(matmul(&[], 0, &[], 0, 0), Err(KernelError::Dimension { what: "k", .. })));
        assert!(matches!(
            matmul(&[1], 1, &[1], 1, super::super::MAX_FEATURES + 1),
            Err(KernelError::Dimension { .. })
        ));
    }
}
