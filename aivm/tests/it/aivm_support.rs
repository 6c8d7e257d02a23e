//! Builders of small models and adapters for the tests, and a temporary directory.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};
use temporis_aivm::{
    Model,
    model::{
        Activation, AdapterConfig, Architecture, FORMAT_VERSION, LayerConfig, LinearConfig, LinearWeights,
        LoraWeights, ModelConfig, adapter::LoraQuant,
    },
    quant::Requant,
};

/// A deterministic stream of bytes (64-bit LCG), so failures replay.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
    pub(crate) fn i8(&mut self) -> i8 {
        (self.next_u64() >> 56) as i8
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        (self.next_u64() >> 33) % n
    }
    pub(crate) fn i8s(&mut self, n: usize) -> Vec<i8> {
        (0..n).map(|_| self.i8()).collect()
    }
}

/// A config with linear layers of the given widths (`dims[0]` is the input), ReLU between them,
/// requantization factors drawn from `rng` in a range that keeps activations alive.
pub(crate) fn mlp_config(dims: &[usize], rng: &mut Lcg) -> ModelConfig {
    let n = dims.len() - 1;
    let layers = (0..n)
        .map(|i| {
            LayerConfig::Linear(LinearConfig {
                name: format!("fc{}", i + 1),
                in_features: dims[i],
                out_features: dims[i + 1],
                bias: i % 2 == 0,
                activation: if i + 1 == n { Activation::None } else { Activation::Relu },
                requant: Requant::new((1 << 20) + rng.below(1 << 20) as i32, 21 + rng.below(8) as u32)
                    .unwrap(),
            })
        })
        .collect();
    ModelConfig {
        format_version: FORMAT_VERSION,
        name: "test-mlp".into(),
        architecture: Architecture::Mlp,
        input_features: dims[0],
        layers,
        test_vectors: Vec::new(),
        metadata: BTreeMap::new(),
    }
}

/// Random weights for `config`.
pub(crate) fn random_weights(config: &ModelConfig, rng: &mut Lcg) -> Vec<LinearWeights> {
    config
        .layers
        .iter()
        .map(|LayerConfig::Linear(l)| LinearWeights {
            weight: rng.i8s(l.out_features * l.in_features),
            bias: l.bias.then(|| (0..l.out_features).map(|_| rng.below(20001) as i32 - 10000).collect()),
        })
        .collect()
}

/// A random model with the given widths.
pub(crate) fn random_model(dims: &[usize], seed: u64) -> Model {
    let mut rng = Lcg(seed);
    let config = mlp_config(dims, &mut rng);
    let weights = random_weights(&config, &mut rng);
    Model::from_parts(&config, &weights).unwrap()
}

/// A random rank-`r` adapter on the given layers of `base`.
pub(crate) fn random_adapter(
    base: &Model,
    targets: &[&str],
    r: usize,
    seed: u64,
) -> (AdapterConfig, BTreeMap<String, LoraWeights>) {
    let mut rng = Lcg(seed);
    let mut quant = BTreeMap::new();
    let mut weights = BTreeMap::new();
    for t in targets {
        let l = base.config().linear(t).unwrap();
        quant.insert(
            (*t).to_owned(),
            LoraQuant {
                a_requant: Requant::new((1 << 20) + rng.below(1 << 20) as i32, 25).unwrap(),
                scale: Requant::new((1 << 20) + rng.below(1 << 20) as i32, 20).unwrap(),
            },
        );
        weights.insert(
            (*t).to_owned(),
            LoraWeights { a: rng.i8s(r * l.in_features), b: rng.i8s(l.out_features * r) },
        );
    }
    (AdapterConfig::new(base, r, (2 * r) as f64, quant), weights)
}

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "temporis-aivm-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
