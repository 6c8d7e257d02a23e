//! Multiply-accumulates per second of the three ways to compute `X · Wᵀ` on int8 data:
//!
//! - `exact_i8`: [`ExactMatmul::forward`], int8 in, int32 out, exact (input conversion, the
//!   ≤ 1024-long k-chunks and the int32 sum of the chunks included);
//! - `candle_f32`: candle's plain f32 matmul of the same shapes on tensors already built (the
//!   ceiling the exact path is measured against; it is not exact past k = 1024);
//! - `naive_i8`: [`reference::matmul`], the plain integer triple loop.
//!
//! Throughput is reported in elements/s where one element is one multiply-accumulate.
//! Run: `cargo bench -p temporis-aivm --bench kernels` (`RAYON_NUM_THREADS` sets candle's threads).
#![allow(missing_docs)]

use candle_core::{Device, Tensor};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::{hint::black_box, time::Duration};
use temporis_aivm::kernels::{ExactMatmul, reference};

/// `(rows, k, out)`: one input vector (what a precompile call runs), a batch, a long reduction
/// (4 chunks), a small layer like the shipped MLP's.
const SHAPES: &[(usize, usize, usize)] =
    &[(1, 1024, 1024), (64, 1024, 1024), (64, 4096, 1024), (256, 64, 32)];

fn data(n: usize, seed: u64) -> Vec<i8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 56) as i8
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for &(rows, k, out) in SHAPES {
        let x = data(rows * k, 1);
        let w = data(out * k, 2);
        let id = format!("{rows}x{k}x{out}");
        g.throughput(Throughput::Elements((rows * k * out) as u64));

        let exact = ExactMatmul::new(&w, out, k, &Device::Cpu).unwrap();
        g.bench_with_input(BenchmarkId::new("exact_i8", &id), &x, |b, x| {
            b.iter(|| black_box(exact.forward(black_box(x), rows).unwrap()))
        });

        let xf =
            Tensor::from_vec(x.iter().map(|&v| f32::from(v)).collect::<Vec<_>>(), (rows, k), &Device::Cpu)
                .unwrap();
        let wt =
            Tensor::from_vec(w.iter().map(|&v| f32::from(v)).collect::<Vec<_>>(), (out, k), &Device::Cpu)
                .unwrap()
                .t()
                .unwrap()
                .contiguous()
                .unwrap();
        g.bench_function(BenchmarkId::new("candle_f32", &id), |b| {
            b.iter(|| black_box(black_box(&xf).matmul(black_box(&wt)).unwrap()))
        });

        g.bench_with_input(BenchmarkId::new("naive_i8", &id), &x, |b, x| {
            b.iter(|| black_box(reference::matmul(black_box(x), rows, &w, out, k).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
