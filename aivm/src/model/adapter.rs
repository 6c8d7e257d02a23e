//! LoRA adapters in the PEFT layout.
//!
//! An adapter directory holds `adapter_config.json` (PEFT's `LoraConfig` keys: `peft_type`,
//! `r`, `lora_alpha`, `target_modules`, …, plus a `temporis` object with the integer
//! parameters) and `adapter_model.safetensors` with, for each target `t`,
//! `base_model.model.{t}.lora_A.weight` int8 `[r, in]` and `base_model.model.{t}.lora_B.weight`
//! int8 `[out, r]`.
//!
//! For a targeted layer the engine computes, per input row (see `docs/aivm-kernels.md`):
//!
//! ```text
//! h   = A·x                         int32 [r]      exact
//! h8  = clamp(round(h · a_requant))  int8  [r]      the one intermediate requantization
//! u   = B·h8                        int32 [out]    exact
//! acc = W·x + bias + round(u · scale)              (i64, then saturated to i32)
//! ```
//!
//! `scale` is the integer multiplier/shift for `(lora_alpha / r) · s_B · s_h8 / (s_W · s_x)`:
//! PEFT's `alpha / r` factor times the ratio of the real scales, folded by the quantizer into one
//! integer factor. `lora_alpha` itself is kept for PEFT tools and is not read by the engine.

use super::{
    Model, ModelError, ModelResult,
    config::check_dimension,
    read_file, tagged_id, tensors,
    tensors::{OwnedTensor, TensorFile},
    write_file,
};
use crate::{
    kernels::ExactMatmul,
    model::config::{FORMAT_VERSION, MAX_PARAMETERS, TestVector},
    quant::Requant,
};
use alloy_primitives::B256;
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::Path};

/// File name of an adapter's config.
pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
/// File name of an adapter's weights.
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";

const ADAPTER_ID_TAG: &[u8] = b"temporis-aivm/adapter/v1";

/// `adapter_config.json`: PEFT's LoRA keys that matter here, the Temporis integer parameters,
/// and every other key PEFT writes, kept as they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdapterConfig {
    /// Must be `"LORA"`.
    pub peft_type: String,
    /// The rank.
    pub r: usize,
    /// PEFT's alpha (informative; the integer `scale` of each target includes `alpha / r`).
    pub lora_alpha: f64,
    /// Names of the base model's layers the adapter changes.
    pub target_modules: serde_json::Value,
    /// PEFT's bias mode; only `"none"` (adapters carry no bias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bias: Option<String>,
    /// Name of the base model (informative; the binding is `temporis.base_model_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model_name_or_path: Option<String>,
    /// The integer parameters.
    pub temporis: TemporisLora,
    /// All other keys (PEFT writes many); those that would change the computation are checked.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The `temporis` object of `adapter_config.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporisLora {
    /// Version of this format ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// [`Model::id`] of the base model.
    pub base_model_id: B256,
    /// Per target: the integer parameters.
    pub targets: BTreeMap<String, LoraQuant>,
    /// Inputs with the results of base + adapter.
    #[serde(default)]
    pub test_vectors: Vec<TestVector>,
}

/// Integer parameters of one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraQuant {
    /// `A·x` (int32) → int8, before `B`.
    pub a_requant: Requant,
    /// `B·h8` (int32) → the base accumulator's scale, `alpha / r` included.
    pub scale: Requant,
}

/// The two matrices of one target, as a tool builds them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoraWeights {
    /// `[r, in_features]`, row-major.
    pub a: Vec<i8>,
    /// `[out_features, r]`, row-major.
    pub b: Vec<i8>,
}

/// The two files of an adapter, as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterFiles {
    /// `adapter_config.json`.
    pub config: Vec<u8>,
    /// `adapter_model.safetensors`.
    pub weights: Vec<u8>,
}

fn tensor_names(target: &str) -> (String, String) {
    (format!("base_model.model.{target}.lora_A.weight"), format!("base_model.model.{target}.lora_B.weight"))
}

impl AdapterConfig {
    /// Parses `adapter_config.json` and checks what needs no base model.
    pub fn from_json(bytes: &[u8]) -> ModelResult<Self> {
        let c: Self = serde_json::from_slice(bytes)
            .map_err(|source| ModelError::ConfigJson { file: ADAPTER_CONFIG_FILE, source })?;
        c.check()?;
        Ok(c)
    }

    /// The canonical JSON encoding.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a config always serializes");
        v.push(b'\n');
        v
    }

    /// The target module names (checked, when the config is parsed, to be distinct strings).
    pub fn targets(&self) -> Vec<&str> {
        self.target_modules
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default()
    }

    fn check(&self) -> ModelResult<()> {
        if self.peft_type != "LORA" {
            return Err(ModelError::NotLora(self.peft_type.clone()));
        }
        if self.temporis.format_version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedFormatVersion {
                file: ADAPTER_CONFIG_FILE,
                found: self.temporis.format_version,
                supported: FORMAT_VERSION,
            });
        }
        check_dimension("adapter r", self.r)?;
        if let Some(bias) = &self.bias
            && bias != "none"
        {
            return Err(ModelError::UnsupportedPeftOption { key: "bias", value: format!("{bias:?}") });
        }
        // PEFT options that would change what is computed: refused unless at their neutral value.
        for (key, neutral) in [
            ("fan_in_fan_out", serde_json::json!(false)),
            ("use_rslora", serde_json::json!(false)),
            ("use_dora", serde_json::json!(false)),
            ("rank_pattern", serde_json::json!({})),
            ("alpha_pattern", serde_json::json!({})),
            ("layers_to_transform", serde_json::Value::Null),
            ("modules_to_save", serde_json::Value::Null),
        ] {
            if let Some(v) = self.other.get(key)
                && *v != neutral
                && !v.is_null()
            {
                return Err(ModelError::UnsupportedPeftOption { key: static_key(key), value: v.to_string() });
            }
        }
        let list = self.target_modules.as_array().ok_or(ModelError::InvalidTargetModules)?;
        if list.is_empty() || list.iter().any(|v| !v.is_string()) {
            return Err(ModelError::InvalidTargetModules);
        }
        let targets = self.targets();
        if targets.iter().collect::<std::collections::BTreeSet<_>>().len() != targets.len() {
            return Err(ModelError::InvalidTargetModules);
        }
        for t in &targets {
            if !self.temporis.targets.contains_key(*t) {
                return Err(ModelError::TargetQuantMismatch((*t).to_owned()));
            }
        }
        for (t, q) in &self.temporis.targets {
            if !targets.contains(&t.as_str()) {
                return Err(ModelError::TargetQuantMismatch(t.clone()));
            }
            q.a_requant.check().map_err(|source| ModelError::Requant {
                what: format!("adapter target {t:?} a_requant"),
                source,
            })?;
            q.scale.check().map_err(|source| ModelError::Requant {
                what: format!("adapter target {t:?} scale"),
                source,
            })?;
        }
        Ok(())
    }
}

fn static_key(key: &str) -> &'static str {
    match key {
        "fan_in_fan_out" => "fan_in_fan_out",
        "use_rslora" => "use_rslora",
        "use_dora" => "use_dora",
        "rank_pattern" => "rank_pattern",
        "alpha_pattern" => "alpha_pattern",
        "layers_to_transform" => "layers_to_transform",
        _ => "modules_to_save",
    }
}

impl AdapterFiles {
    /// Encodes a config and the weights of its targets.
    pub fn encode(
        config: &AdapterConfig,
        weights: &BTreeMap<String, LoraWeights>,
        base: &Model,
    ) -> ModelResult<Self> {
        let mut out = Vec::new();
        for (target, w) in weights {
            let l = base.config().linear(target).ok_or_else(|| ModelError::UnknownTarget(target.clone()))?;
            let (a, b) = tensor_names(target);
            out.push((a, OwnedTensor::I8(vec![config.r, l.in_features], w.a.clone())));
            out.push((b, OwnedTensor::I8(vec![l.out_features, config.r], w.b.clone())));
        }
        Ok(Self { config: config.to_json(), weights: tensors::serialize(out) })
    }

    /// Reads both files from `dir`.
    pub fn read(dir: &Path) -> ModelResult<Self> {
        Ok(Self {
            config: read_file(dir, ADAPTER_CONFIG_FILE)?,
            weights: read_file(dir, ADAPTER_WEIGHTS_FILE)?,
        })
    }

    /// Writes both files into `dir`.
    pub fn write(&self, dir: &Path) -> ModelResult<()> {
        write_file(dir, ADAPTER_CONFIG_FILE, &self.config)?;
        write_file(dir, ADAPTER_WEIGHTS_FILE, &self.weights)
    }

    /// The adapter's content id: `keccak256("temporis-aivm/adapter/v1" ‖
    /// keccak256(adapter_config.json) ‖ keccak256(adapter_model.safetensors))`.
    pub fn id(&self) -> B256 {
        tagged_id(ADAPTER_ID_TAG, &self.config, &self.weights)
    }
}

/// One target ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Lora {
    pub(crate) r: usize,
    pub(crate) a: Vec<i8>,
    pub(crate) b: Vec<i8>,
    pub(crate) a_kernel: ExactMatmul,
    pub(crate) b_kernel: ExactMatmul,
    pub(crate) quant: LoraQuant,
}

/// A checked adapter, bound to the base model it was checked against.
#[derive(Clone, Debug)]
pub struct Adapter {
    config: AdapterConfig,
    pub(crate) targets: BTreeMap<String, Lora>,
    id: B256,
}

impl Adapter {
    /// Loads the adapter in `dir` and checks it against `base`.
    pub fn load(dir: &Path, base: &Model) -> ModelResult<Self> {
        Self::from_files(&AdapterFiles::read(dir)?, base)
    }

    /// Parses an adapter and checks it against `base`: it must declare `base`'s id, its targets
    /// must be layers of `base`, and its tensors must have the shapes those layers imply.
    pub fn from_files(files: &AdapterFiles, base: &Model) -> ModelResult<Self> {
        let config = AdapterConfig::from_json(&files.config)?;
        if config.temporis.base_model_id != base.id() {
            return Err(ModelError::BaseModelMismatch {
                declared: config.temporis.base_model_id,
                actual: base.id(),
            });
        }
        let r = config.r;
        let mut parameters = 0u64;
        for t in config.targets() {
            let l = base.config().linear(t).ok_or_else(|| ModelError::UnknownTarget(t.to_owned()))?;
            parameters += r as u64 * (l.in_features + l.out_features) as u64;
        }
        if parameters > MAX_PARAMETERS {
            return Err(ModelError::TooLarge { what: "adapter", parameters, max: MAX_PARAMETERS });
        }
        let mut st = TensorFile::parse(ADAPTER_WEIGHTS_FILE, &files.weights)?;
        let mut targets = BTreeMap::new();
        for t in config.targets() {
            let l = base.config().linear(t).ok_or_else(|| ModelError::UnknownTarget(t.to_owned()))?;
            let (an, bn) = tensor_names(t);
            let a = st.i8(&an, &[r, l.in_features])?;
            let b = st.i8(&bn, &[l.out_features, r])?;
            let a_kernel = ExactMatmul::new(&a, r, l.in_features, &Device::Cpu)?;
            let b_kernel = ExactMatmul::new(&b, l.out_features, r, &Device::Cpu)?;
            let quant = config.temporis.targets[t];
            targets.insert(t.to_owned(), Lora { r, a, b, a_kernel, b_kernel, quant });
        }
        st.finish()?;
        let id = files.id();
        tracing::debug!(target: "aivm::model", %id, base = %base.id(), r, targets = targets.len(), "adapter loaded");
        Ok(Self { config, targets, id })
    }

    /// Builds an adapter in memory (through the file encoding).
    pub fn from_parts(
        config: &AdapterConfig,
        weights: &BTreeMap<String, LoraWeights>,
        base: &Model,
    ) -> ModelResult<Self> {
        Self::from_files(&AdapterFiles::encode(config, weights, base)?, base)
    }

    /// The content id ([`AdapterFiles::id`]).
    pub const fn id(&self) -> B256 {
        self.id
    }

    /// The id of the base model this adapter belongs to.
    pub const fn base_model_id(&self) -> B256 {
        self.config.temporis.base_model_id
    }

    /// The config.
    pub const fn config(&self) -> &AdapterConfig {
        &self.config
    }

    /// The weights of every target.
    pub fn weights(&self) -> BTreeMap<String, LoraWeights> {
        self.targets
            .iter()
            .map(|(t, l)| (t.clone(), LoraWeights { a: l.a.clone(), b: l.b.clone() }))
            .collect()
    }
}

impl AdapterConfig {
    /// A PEFT-compatible LoRA config for `targets` of `base`, with the given integer parameters.
    pub fn new(base: &Model, r: usize, lora_alpha: f64, targets: BTreeMap<String, LoraQuant>) -> Self {
        let mut other = BTreeMap::new();
        other.insert("task_type".to_owned(), serde_json::Value::Null);
        other.insert("lora_dropout".to_owned(), serde_json::json!(0.0));
        other.insert("fan_in_fan_out".to_owned(), serde_json::json!(false));
        other.insert("inference_mode".to_owned(), serde_json::json!(true));
        Self {
            peft_type: "LORA".to_owned(),
            r,
            lora_alpha,
            target_modules: serde_json::Value::Array(targets.keys().map(|k| k.clone().into()).collect()),
            bias: Some("none".to_owned()),
            base_model_name_or_path: Some(base.config().name.clone()),
            temporis: TemporisLora {
                format_version: FORMAT_VERSION,
                base_model_id: base.id(),
                targets,
                test_vectors: Vec::new(),
            },
            other,
        }
    }
}
