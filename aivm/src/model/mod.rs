//! Models and adapters: the file format, its checks, and the loaded form the engine runs.
//!
//! A model is a directory (or, on chain, the same two byte strings) holding
//! [`CONFIG_FILE`] (`config.json`, see [`ModelConfig`]) and [`WEIGHTS_FILE`]
//! (`model.safetensors`: `{layer}.weight` int8 `[out, in]`, `{layer}.bias` int32 `[out]`).
//! An adapter is a PEFT LoRA directory ([`ADAPTER_CONFIG_FILE`], [`ADAPTER_WEIGHTS_FILE`]); see
//! [`adapter`]. Both are identified by a content hash ([`Model::id`], [`Adapter::id`]).

pub mod adapter;
pub mod config;
mod error;
pub(crate) mod tensors;
pub mod verify;

pub use self::{
    adapter::{ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, Adapter, AdapterConfig, AdapterFiles, LoraWeights},
    config::{
        Activation, Architecture, CONFIG_FILE, FORMAT_VERSION, LayerConfig, LinearConfig, ModelConfig,
        TestVector, WEIGHTS_FILE,
    },
    error::{ModelError, ModelResult},
};

use self::tensors::{OwnedTensor, TensorFile};
use crate::kernels::ExactMatmul;
use alloy_primitives::{B256, keccak256};
use candle_core::Device;
use std::path::Path;

/// Domain tag of a model id.
const MODEL_ID_TAG: &[u8] = b"temporis-aivm/model/v1";

/// The content id of a model: `keccak256("temporis-aivm/model/v1" ‖ keccak256(config.json) ‖
/// keccak256(model.safetensors))`. It does not depend on how the files are chunked for
/// publication.
pub fn model_id(config_json: &[u8], weights: &[u8]) -> B256 {
    tagged_id(MODEL_ID_TAG, config_json, weights)
}

pub(crate) fn tagged_id(tag: &[u8], config_json: &[u8], weights: &[u8]) -> B256 {
    let mut pre = Vec::with_capacity(tag.len() + 64);
    pre.extend_from_slice(tag);
    pre.extend_from_slice(keccak256(config_json).as_slice());
    pre.extend_from_slice(keccak256(weights).as_slice());
    keccak256(pre)
}

pub(crate) fn read_file(dir: &Path, name: &str) -> ModelResult<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|source| ModelError::Io { path, source })
}

pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> ModelResult<()> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io { path: dir.to_owned(), source })?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| ModelError::Io { path, source })
}

/// The weights of one linear layer, as a tool builds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinearWeights {
    /// `[out_features, in_features]`, row-major.
    pub weight: Vec<i8>,
    /// `[out_features]`, present iff the layer declares `bias: true`.
    pub bias: Option<Vec<i32>>,
}

/// The two files of a model, as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFiles {
    /// `config.json`.
    pub config: Vec<u8>,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
}

impl ModelFiles {
    /// Encodes a config and its layers' weights (in the order of `config.layers`).
    pub fn encode(config: &ModelConfig, weights: &[LinearWeights]) -> Self {
        let mut tensors = Vec::new();
        for (LayerConfig::Linear(l), w) in config.layers.iter().zip(weights) {
            tensors.push((
                format!("{}.weight", l.name),
                OwnedTensor::I8(vec![l.out_features, l.in_features], w.weight.clone()),
            ));
            if let Some(b) = &w.bias {
                tensors.push((format!("{}.bias", l.name), OwnedTensor::I32(vec![l.out_features], b.clone())));
            }
        }
        Self { config: config.to_json(), weights: tensors::serialize(tensors) }
    }

    /// Reads `config.json` and `model.safetensors` from `dir`.
    pub fn read(dir: &Path) -> ModelResult<Self> {
        Ok(Self { config: read_file(dir, CONFIG_FILE)?, weights: read_file(dir, WEIGHTS_FILE)? })
    }

    /// Writes both files into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> ModelResult<()> {
        write_file(dir, CONFIG_FILE, &self.config)?;
        write_file(dir, WEIGHTS_FILE, &self.weights)
    }

    /// [`model_id`] of these files.
    pub fn id(&self) -> B256 {
        model_id(&self.config, &self.weights)
    }
}

/// A linear layer ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Linear {
    pub(crate) config: LinearConfig,
    pub(crate) weight: Vec<i8>,
    /// Zeros when the layer has no bias.
    pub(crate) bias: Vec<i32>,
    pub(crate) kernel: ExactMatmul,
}

/// A checked model, ready for [`crate::engine::infer`].
#[derive(Clone, Debug)]
pub struct Model {
    config: ModelConfig,
    pub(crate) layers: Vec<Linear>,
    id: B256,
}

impl Model {
    /// Loads and checks the model in `dir` (test vectors are not run; see [`verify`]).
    pub fn load(dir: &Path) -> ModelResult<Self> {
        Self::from_files(&ModelFiles::read(dir)?)
    }

    /// Parses and checks a model from its two files' bytes (as reassembled from chain chunks).
    pub fn from_files(files: &ModelFiles) -> ModelResult<Self> {
        let config = ModelConfig::from_json(&files.config)?;
        let mut st = TensorFile::parse(WEIGHTS_FILE, &files.weights)?;
        let mut layers = Vec::with_capacity(config.layers.len());
        for LayerConfig::Linear(l) in &config.layers {
            let weight = st.i8(&format!("{}.weight", l.name), &[l.out_features, l.in_features])?;
            let bias = if l.bias {
                st.i32(&format!("{}.bias", l.name), &[l.out_features])?
            } else {
                vec![0; l.out_features]
            };
            let kernel = ExactMatmul::new(&weight, l.out_features, l.in_features, &Device::Cpu)?;
            layers.push(Linear { config: l.clone(), weight, bias, kernel });
        }
        st.finish()?;
        let id = files.id();
        tracing::debug!(target: "aivm::model", %id, name = %config.name, layers = layers.len(), "model loaded");
        Ok(Self { config, layers, id })
    }

    /// Builds a model in memory from a config and weights (through the file encoding, so the
    /// result is exactly what [`ModelFiles::write`] then [`Model::load`] would give).
    pub fn from_parts(config: &ModelConfig, weights: &[LinearWeights]) -> ModelResult<Self> {
        Self::from_files(&ModelFiles::encode(config, weights))
    }

    /// The content id ([`model_id`]).
    pub const fn id(&self) -> B256 {
        self.id
    }

    /// The config.
    pub const fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Width of the input vector.
    pub const fn input_features(&self) -> usize {
        self.config.input_features
    }

    /// The weights of every layer, in order.
    pub fn weights(&self) -> Vec<LinearWeights> {
        self.layers
            .iter()
            .map(|l| LinearWeights { weight: l.weight.clone(), bias: l.config.bias.then(|| l.bias.clone()) })
            .collect()
    }
}
