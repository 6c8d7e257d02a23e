//! Latency and gas per millisecond of the AIVM publishing and inference precompiles, called the
//! way the `ModelRegistry` calls them (caller = the registry), on the shipped digits MLP with its
//! LoRA adapter and on a synthetic model of 4 layers of 1024 with rank-16 adapters on every
//! layer.
//!
//! Besides criterion's report, it prints per precompile: the gas the formula charges, the
//! median latency, gas per millisecond, and how long a 30M-gas block made only of such calls
//! would take. Figures are printed, never asserted. They calibrate the gas constants in
//! `aivm/src/precompiles/{inference,verify,store_chunk}.rs` (see `docs/aivm-precompiles.md`).
//! Run: `cargo bench -p temporis-aivm --bench precompiles`.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::sol_types::SolCall;
use alloy_primitives::{B256, U256};
use criterion::{Criterion, criterion_group, criterion_main};
use temporis_aivm::model::adapter::LoraQuant;
use temporis_aivm::model::{
    Activation, AdapterConfig, AdapterFiles, Architecture, FORMAT_VERSION, LayerConfig, LinearConfig,
    LinearWeights, LoraWeights, Model, ModelConfig, ModelFiles, verify::make_test_vector,
};
use temporis_aivm::precompiles::abi::IAivmPrecompiles;
use temporis_aivm::precompiles::inference::Inference;
use temporis_aivm::precompiles::store::ModelStore;
use temporis_aivm::precompiles::store_chunk::StoreChunk;
use temporis_aivm::precompiles::verify::Verify;
use temporis_aivm::precompiles::{AivmPrecompile, MODEL_REGISTRY_ADDRESS, PrecompileCall, PrecompileOutcome};
use temporis_aivm::quant::Requant;
use temporis_aivm::{Adapter, pack::DEFAULT_CHUNK_SIZE};

const BLOCK_GAS: f64 = 30_000_000.0;

fn lcg(n: usize, seed: u64) -> Vec<i8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 56) as i8
        })
        .collect()
}

/// 4 layers of 1024 (ReLU between), with a test vector; and a rank-16 adapter on all 4.
fn synthetic() -> (ModelFiles, AdapterFiles) {
    let n = 4;
    let layers: Vec<LayerConfig> = (0..n)
        .map(|i| {
            LayerConfig::Linear(LinearConfig {
                name: format!("fc{}", i + 1),
                in_features: 1024,
                out_features: 1024,
                bias: true,
                activation: if i + 1 == n { Activation::None } else { Activation::Relu },
                requant: Requant::new(1 << 30, 44).unwrap(),
            })
        })
        .collect();
    let mut config = ModelConfig {
        format_version: FORMAT_VERSION,
        name: "synthetic-4x1024".into(),
        architecture: Architecture::Mlp,
        input_features: 1024,
        layers,
        test_vectors: Vec::new(),
        metadata: BTreeMap::new(),
    };
    let weights: Vec<LinearWeights> = (0..n)
        .map(|i| LinearWeights { weight: lcg(1024 * 1024, 10 + i as u64), bias: Some(vec![7; 1024]) })
        .collect();
    let model = Model::from_parts(&config, &weights).unwrap();
    config.test_vectors = vec![make_test_vector(&model, None, &lcg(1024, 99)).unwrap()];
    let files = ModelFiles::encode(&config, &weights);
    let model = Model::from_files(&files).unwrap();

    let r = 16;
    let mut quant = BTreeMap::new();
    let mut lw = BTreeMap::new();
    for i in 0..n {
        let t = format!("fc{}", i + 1);
        quant.insert(
            t.clone(),
            LoraQuant {
                a_requant: Requant::new(1 << 30, 40).unwrap(),
                scale: Requant::new(1 << 30, 32).unwrap(),
            },
        );
        lw.insert(t, LoraWeights { a: lcg(r * 1024, 50 + i as u64), b: lcg(1024 * r, 60 + i as u64) });
    }
    let mut aconfig = AdapterConfig::new(&model, r, (2 * r) as f64, quant.clone());
    let adapter = Adapter::from_parts(&aconfig, &lw, &model).unwrap();
    aconfig.temporis.test_vectors = vec![make_test_vector(&model, Some(&adapter), &lcg(1024, 98)).unwrap()];
    let afiles = AdapterFiles::encode(&aconfig, &lw, &model).unwrap();
    (files, afiles)
}

fn shipped() -> (ModelFiles, AdapterFiles) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    (
        ModelFiles::read(&dir.join("digits-mlp")).unwrap(),
        AdapterFiles::read(&dir.join("digits-mlp-translate-lora")).unwrap(),
    )
}

fn call(input: &[u8]) -> PrecompileCall<'_> {
    PrecompileCall {
        input,
        gas_limit: u64::MAX / 2,
        caller: MODEL_REGISTRY_ADDRESS,
        value: U256::ZERO,
        is_static: false,
    }
}

fn gas_of(o: &PrecompileOutcome) -> u64 {
    match o {
        PrecompileOutcome::Success { gas_used, .. } => *gas_used,
        other => panic!("precompile failed: {other:?}"),
    }
}

/// Median wall time of `f` over `n` runs.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..n)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[n / 2]
}

fn report(what: &str, gas: u64, latency: Duration) {
    let ms = latency.as_secs_f64() * 1e3;
    let per_ms = gas as f64 / ms;
    let block = BLOCK_GAS / gas as f64 * latency.as_secs_f64();
    println!(
        "{what:<44} gas {gas:>10}  latency {:>10.1} µs  {per_ms:>12.0} gas/ms  30M-gas block of these: {block:>6.3} s",
        ms * 1e3
    );
}

/// Stores the chunks of both files and returns the VERIFY input.
fn publish(store: &ModelStore, kind: u8, parent: B256, id: B256, files: [&[u8]; 2]) -> Vec<u8> {
    let (hashes, config_chunks) = store.put_files(files, DEFAULT_CHUNK_SIZE).unwrap();
    IAivmPrecompiles::verifyCall {
        contentId: id,
        kind,
        parent,
        configChunks: config_chunks,
        chunkHashes: hashes,
    }
    .abi_encode()
}

fn precompiles(c: &mut Criterion) {
    let mut g = c.benchmark_group("precompiles");
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));

    // STORE_CHUNK of one default-size chunk.
    let sc = StoreChunk::new(Arc::new(ModelStore::in_memory()));
    let data = lcg(DEFAULT_CHUNK_SIZE, 3).into_iter().map(|v| v as u8).collect::<Vec<_>>();
    let input = IAivmPrecompiles::storeChunkCall { data: data.into() }.abi_encode();
    let gas = gas_of(&sc.call(&call(&input)));
    report("STORE_CHUNK 24 KiB (in memory)", gas, median(51, || drop(black_box(sc.call(&call(&input))))));
    let tmp = std::env::temp_dir().join(format!("aivm-bench-store-{}", std::process::id()));
    let disk = StoreChunk::new(Arc::new(ModelStore::open(&tmp).unwrap()));
    let mut n = 0u8;
    report(
        "STORE_CHUNK 24 KiB (new chunk, on disk)",
        gas,
        median(21, || {
            n = n.wrapping_add(1);
            let mut d = lcg(DEFAULT_CHUNK_SIZE, 3).into_iter().map(|v| v as u8).collect::<Vec<_>>();
            d[0] = n;
            d[1] = (n as u64 * 7) as u8;
            let input = IAivmPrecompiles::storeChunkCall { data: d.into() }.abi_encode();
            drop(black_box(disk.call(&call(&input))));
        }),
    );
    let _ = std::fs::remove_dir_all(&tmp);
    g.bench_function("store_chunk_24KiB", |b| b.iter(|| black_box(sc.call(&call(&input)))));

    for (name, (mf, af)) in [("shipped digits MLP", shipped()), ("synthetic 4x1024", synthetic())] {
        let store = Arc::new(ModelStore::in_memory());
        let verify = Verify::new(store.clone());
        let (mid, aid) = (mf.id(), af.id());
        let vm = publish(&store, 1, B256::ZERO, mid, [&mf.config, &mf.weights]);
        let gas = gas_of(&verify.call(&call(&vm)));
        report(
            &format!("VERIFY model {name} ({} B)", mf.config.len() + mf.weights.len()),
            gas,
            median(5, || drop(black_box(verify.call(&call(&vm))))),
        );
        let va = publish(&store, 2, mid, aid, [&af.config, &af.weights]);
        let gas = gas_of(&verify.call(&call(&va)));
        report(
            &format!("VERIFY adapter {name} ({} B)", af.config.len() + af.weights.len()),
            gas,
            median(5, || drop(black_box(verify.call(&call(&va))))),
        );

        let inference = Inference::new(store.clone());
        let width = Model::from_files(&mf).unwrap().input_features();
        let x = lcg(width, 5);
        for (label, adapter) in [("", B256::ZERO), (" + LoRA", aid)] {
            let input = IAivmPrecompiles::inferCall { model: mid, adapter, input: x.clone() }.abi_encode();
            let gas = gas_of(&inference.call(&call(&input)));
            report(
                &format!("INFERENCE {name}{label}"),
                gas,
                median(31, || drop(black_box(inference.call(&call(&input))))),
            );
            let id = format!("infer {name}{label}");
            g.bench_function(id, |b| b.iter(|| black_box(inference.call(&call(&input)))));
        }
    }
    g.finish();
}

criterion_group!(benches, precompiles);
criterion_main!(benches);
