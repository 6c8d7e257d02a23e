//! `config.json`: the architecture, shapes and integer quantization parameters of a model.
//!
//! The format is written up in `docs/aivm-model-format.md`. It is versioned
//! (`format_version`) and its `layers` list holds typed entries (`"type": "linear"`), so that
//! later layer kinds (the integer layer norm, softmax and GELU of an I-BERT-style transformer)
//! are new entries, not a new format.

use super::error::{ModelError, ModelResult};
use crate::{kernels::MAX_FEATURES, quant::Requant};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The `format_version` this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Largest number of weights (and biases) a model, or an adapter, may have: 2^26, i.e. 64 MiB of
/// int8 (and 256 MiB once prepared as f32 for the fast kernel). It bounds what a config taken
/// from untrusted bytes can make a node allocate.
pub const MAX_PARAMETERS: u64 = 1 << 26;

/// File name of a model's config inside its directory.
pub const CONFIG_FILE: &str = "config.json";
/// File name of a model's weights inside its directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// A model's `config.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Version of this format; [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Human-readable name (not part of any check).
    pub name: String,
    /// The architecture family.
    pub architecture: Architecture,
    /// Width of the int8 input vector.
    pub input_features: usize,
    /// The layers, applied in order.
    pub layers: Vec<LayerConfig>,
    /// Inputs with their declared results; `verify` recomputes them.
    #[serde(default)]
    pub test_vectors: Vec<TestVector>,
    /// Free-form, informative data (source, license, float scales for users who quantize their
    /// inputs). Never read by the engine.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// Architecture families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// A stack of int8 linear layers with ReLU between them.
    Mlp,
}

/// One entry of `layers`, tagged by `"type"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerConfig {
    /// `y = requant(W·x + b)`, optionally followed by ReLU.
    Linear(LinearConfig),
}

impl LayerConfig {
    /// The layer's name (the prefix of its tensors and what adapters target).
    pub fn name(&self) -> &str {
        match self {
            Self::Linear(l) => &l.name,
        }
    }
}

/// A linear layer: weight `[out_features, in_features]` int8, bias `[out_features]` int32.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearConfig {
    /// Name; tensors are `{name}.weight` and `{name}.bias`.
    pub name: String,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
    /// Whether `{name}.bias` exists (int32, in the accumulator's scale).
    pub bias: bool,
    /// Activation folded into the requantization clamp.
    pub activation: Activation,
    /// Accumulator → int8 output.
    pub requant: Requant,
}

/// Activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Identity: clamp to `[-128, 127]`.
    None,
    /// ReLU: clamp to `[0, 127]`.
    Relu,
}

/// An input and the results the files must reproduce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestVector {
    /// Input, `input_features` int8 values.
    pub input: Vec<i8>,
    /// The last layer's int8 output.
    pub output: Vec<i8>,
    /// The last layer's int32 accumulator before requantization.
    pub logits: Vec<i32>,
    /// Index of the largest logit (the first one on ties).
    pub argmax: usize,
}

impl ModelConfig {
    /// Parses and checks a `config.json`.
    pub fn from_json(bytes: &[u8]) -> ModelResult<Self> {
        let config: Self = serde_json::from_slice(bytes)
            .map_err(|source| ModelError::ConfigJson { file: CONFIG_FILE, source })?;
        config.check()?;
        Ok(config)
    }

    /// The canonical JSON encoding (pretty, with a final newline) that tools write.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a config always serializes");
        v.push(b'\n');
        v
    }

    /// Checks everything that can be checked without the weights: version, names, dimensions,
    /// the chain of widths, requantization parameters.
    pub fn check(&self) -> ModelResult<()> {
        if self.format_version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormatVersion {
                file: CONFIG_FILE,
                found: self.format_version,
                supported: FORMAT_VERSION,
            });
        }
        check_dimension("input_features", self.input_features)?;
        if self.layers.is_empty() {
            return Err(ModelError::NoLayers);
        }
        let mut names = HashSet::new();
        let mut width = self.input_features;
        let mut parameters = 0u64;
        for layer in &self.layers {
            let LayerConfig::Linear(l) = layer;
            check_layer_name(&l.name)?;
            if !names.insert(l.name.as_str()) {
                return Err(ModelError::DuplicateLayerName(l.name.clone()));
            }
            check_dimension(&format!("layer {:?} in_features", l.name), l.in_features)?;
            check_dimension(&format!("layer {:?} out_features", l.name), l.out_features)?;
            if l.in_features != width {
                return Err(ModelError::LayerChain {
                    layer: l.name.clone(),
                    expected: width,
                    found: l.in_features,
                });
            }
            l.requant.check().map_err(|source| ModelError::Requant {
                what: format!("layer {:?} requant", l.name),
                source,
            })?;
            width = l.out_features;
            parameters += (l.in_features as u64 + u64::from(l.bias)) * l.out_features as u64;
        }
        if parameters > MAX_PARAMETERS {
            return Err(ModelError::TooLarge { what: "model", parameters, max: MAX_PARAMETERS });
        }
        Ok(())
    }

    /// Width of the model's output.
    pub fn output_features(&self) -> usize {
        match self.layers.last() {
            Some(LayerConfig::Linear(l)) => l.out_features,
            None => 0,
        }
    }

    /// The linear layer called `name`, if any.
    pub fn linear(&self, name: &str) -> Option<&LinearConfig> {
        self.layers.iter().map(|LayerConfig::Linear(l)| l).find(|l| l.name == name)
    }
}

pub(crate) fn check_dimension(what: &str, value: usize) -> ModelResult<()> {
    if value == 0 || value > MAX_FEATURES {
        return Err(ModelError::Dimension { what: what.to_owned(), value, max: MAX_FEATURES });
    }
    Ok(())
}

fn check_layer_name(name: &str) -> ModelResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok { Ok(()) } else { Err(ModelError::InvalidLayerName(name.to_owned())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> serde_json::Value {
        serde_json::json!({
            "format_version": 1,
            "name": "tiny",
            "architecture": "mlp",
            "input_features": 4,
            "layers": [
                { "type": "linear", "name": "fc1", "in_features": 4, "out_features": 3, "bias": true,
                  "activation": "relu", "requant": { "multiplier": 1, "shift": 2 } },
                { "type": "linear", "name": "fc2", "in_features": 3, "out_features": 2, "bias": false,
                  "activation": "none", "requant": { "multiplier": 3, "shift": 4 } }
            ]
        })
    }

    fn parse(v: &serde_json::Value) -> ModelResult<ModelConfig> {
        ModelConfig::from_json(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn parses_and_roundtrips() {
        let c = parse(&sample()).unwrap();
        assert_eq!(c.output_features(), 2);
        assert_eq!(c.linear("fc2").unwrap().requant, Requant { multiplier: 3, shift: 4 });
        assert_eq!(ModelConfig::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn each_defect_has_its_error() {
        let mut v = sample();
        v["format_version"] = 2.into();
        assert!(matches!(parse(&v), Err(ModelError::UnsupportedFormatVersion { found: 2, .. })));

        let mut v = sample();
        v["layers"][1]["in_features"] = 5.into();
        assert!(matches!(parse(&v), Err(ModelError::LayerChain { expected: 3, found: 5, .. })));

        let mut v = sample();
        v["layers"][1]["name"] = "fc1".into();
        assert!(matches!(parse(&v), Err(ModelError::DuplicateLayerName(_))));

        let mut v = sample();
        v["layers"][0]["name"] = "a b".into();
        assert!(matches!(parse(&v), Err(ModelError::InvalidLayerName(_))));

        let mut v = sample();
        v["layers"][0]["requant"]["multiplier"] = 0.into();
        assert!(matches!(parse(&v), Err(ModelError::Requant { .. })));

        let mut v = sample();
        v["layers"] = serde_json::json!([]);
        assert!(matches!(parse(&v), Err(ModelError::NoLayers)));

        let mut v = sample();
        v["input_features"] = 65536.into();
        v["layers"][0]["in_features"] = 65536.into();
        v["layers"][0]["out_features"] = 2048.into();
        v["layers"][1]["in_features"] = 2048.into();
        assert!(matches!(parse(&v), Err(ModelError::TooLarge { what: "model", .. })));

        let mut v = sample();
        v["input_features"] = 0.into();
        assert!(matches!(parse(&v), Err(ModelError::Dimension { .. })));

        let mut v = sample();
        v["layers"][0]["type"] = "attention".into();
        assert!(matches!(parse(&v), Err(ModelError::ConfigJson { .. })));

        let mut v = sample();
        v["extra"] = 1.into();
        assert!(matches!(parse(&v), Err(ModelError::ConfigJson { .. })));

        assert!(matches!(ModelConfig::from_json(b"{"), Err(ModelError::ConfigJson { .. })));
    }
}
