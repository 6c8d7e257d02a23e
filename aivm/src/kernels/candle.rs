//! The fast kernel: candle's f32 matmul on int8 values, cut along `k` so it stays exact.

use super::{EXACT_K_CHUNK, KernelError, check_dim, check_len};
use candle_core::{Device, Storage, Tensor};

/// A weight matrix `W` `[out, k]` (int8) prepared for exact products `X · Wᵀ` on a candle device.
///
/// `Wᵀ` is stored once, as f32, in row blocks of at most [`EXACT_K_CHUNK`] rows, so each call
/// only converts its input. See the [module docs](super) for why the result is exact.
#[derive(Clone, Debug)]
pub struct ExactMatmul {
    out: usize,
    k: usize,
    /// `Wᵀ[c·1024 .. (c+1)·1024, :]` as contiguous f32 `[≤1024, out]` tensors.
    chunks: Vec<Tensor>,
    device: Device,
}

impl ExactMatmul {
    /// Prepares `w` (`[out, k]`, row-major int8) on `device`.
    pub fn new(w: &[i8], out: usize, k: usize, device: &Device) -> Result<Self, KernelError> {
        check_dim("k", k)?;
        check_dim("out", out)?;
        check_len("w", w.len(), out, k)?;
        let wf: Vec<f32> = w.iter().map(|&v| f32::from(v)).collect();
        let wt = Tensor::from_vec(wf, (out, k), device)?.t()?;
        let mut chunks = Vec::with_capacity(k.div_ceil(EXACT_K_CHUNK));
        for start in (0..k).step_by(EXACT_K_CHUNK) {
            let len = EXACT_K_CHUNK.min(k - start);
            chunks.push(wt.narrow(0, start, len)?.contiguous()?);
        }
        Ok(Self { out, k, chunks, device: device.clone() })
    }

    /// Output width (`out`).
    pub const fn out_features(&self) -> usize {
        self.out
    }

    /// Reduction length (`k`).
    pub const fn in_features(&self) -> usize {
        self.k
    }

    /// `X · Wᵀ` for `X` `[rows, k]` int8 row-major: int32 `[rows, out]`, equal bit for bit to
    /// [`super::reference::matmul`].
    pub fn forward(&self, x: &[i8], rows: usize) -> Result<Vec<i32>, KernelError> {
        check_len("x", x.len(), rows, self.k)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let xf: Vec<f32> = x.iter().map(|&v| f32::from(v)).collect();
        let xt = Tensor::from_vec(xf, (rows, self.k), &self.device)?;
        let mut acc: Vec<i32> = Vec::new();
        for (c, wc) in self.chunks.iter().enumerate() {
            let xc = if self.chunks.len() == 1 {
                xt.clone()
            } else {
                xt.narrow(1, c * EXACT_K_CHUNK, wc.dim(0)?)?
            };
            let part = xc.matmul(wc)?;
            // Each element is an integer of magnitude ≤ 2^24: the casts are exact, and the sum of
            // the chunks (≤ 2^30 by MAX_FEATURES) fits an i32.
            with_f32s(&part, |vals| {
                if c == 0 {
                    acc = vals.iter().map(|&f| f as i32).collect();
                } else {
                    for (a, &f) in acc.iter_mut().zip(vals) {
                        *a += f as i32;
                    }
                }
            })?;
        }
        Ok(acc)
    }
}

/// Runs `f` on the elements of a contiguous f32 tensor: in place for CPU storage (no copy, which
/// matters for small products), through a copy for other devices.
fn with_f32s(t: &Tensor, f: impl FnOnce(&[f32])) -> candle_core::Result<()> {
    if t.is_contiguous() {
        let (storage, layout) = t.storage_and_layout();
        if let Storage::Cpu(cpu) = &*storage {
            let start = layout.start_offset();
            f(&cpu.as_slice::<f32>()?[start..start + t.elem_count()]);
            return Ok(());
        }
    }
    f(&t.flatten_all()?.to_vec1::<f32>()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::reference;
    use super::*;

    fn lcg(seed: &mut u64) -> i8 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 56) as i8
    }

    #[test]
    fn matches_reference_across_chunk_boundaries() {
        let mut seed = 7;
        for &(rows, out, k) in &[(1, 1, 1), (3, 5, 1023), (2, 4, 1024), (2, 3, 1025), (4, 7, 2049)] {
            let x: Vec<i8> = (0..rows * k).map(|_| lcg(&mut seed)).collect();
            let w: Vec<i8> = (0..out * k).map(|_| lcg(&mut seed)).collect();
            let fast = ExactMatmul::new(&w, out, k, &Device::Cpu).unwrap().forward(&x, rows).unwrap();
            assert_eq!(fast, reference::matmul(&x, rows, &w, out, k).unwrap(), "{rows}x{out}x{k}");
        }
    }

    /// Long reductions of odd products (127² = 16129): past 2^24 a single f32 sum would have to
    /// round; cut into ≤ 1024-long chunks it must not.
    #[test]
    fn adversarial_long_reduction_is_exact() {
        for k in [1040, 1041, 4096, 65536] {
            let mut x = vec![127i8; k];
            let w = vec![127i8; k];
            x[k - 1] = -127;
            let fast = ExactMatmul::new(&w, 1, k, &Device::Cpu).unwrap().forward(&x, 1).unwrap();
            assert_eq!(fast, vec![(k as i32 - 2) * 16129], "k = {k}");
            assert_eq!(fast, reference::matmul(&x, 1, &w, 1, k).unwrap());
        }
    }

    #[test]
    fn empty_batch_and_bad_length() {
        let m = ExactMatmul::new(&[1, 2, 3, 4], 2, 2, &Device::Cpu).unwrap();
        assert_eq!(m.forward(&[], 0).unwrap(), Vec::<i32>::new());
        assert!(matches!(m.forward(&[1, 2, 3], 1), Err(KernelError::Length { .. })));
    }
}
