//! Why a model or an adapter was rejected. Every check of the format has its own variant, so a
//! publisher (and a verifier on chain) can tell exactly what is wrong.

use crate::{kernels::KernelError, quant::RequantError};
use alloy_primitives::B256;
use std::path::PathBuf;

/// Errors of loading, verifying and running models and adapters.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON config is not valid JSON or does not match the schema.
    #[error("{file}: {source}")]
    ConfigJson {
        /// `config.json` or `adapter_config.json`.
        file: &'static str,
        /// What serde found.
        source: serde_json::Error,
    },
    /// `format_version` is not one this build understands.
    #[error("{file}: format_version {found} is not supported (this build reads {supported})")]
    UnsupportedFormatVersion {
        /// Which config.
        file: &'static str,
        /// The declared version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The model declares no layer.
    #[error("config.json: the model has no layers")]
    NoLayers,
    /// A layer name is empty, too long or has characters outside `[A-Za-z0-9_.-]`.
    #[error("config.json: layer name {0:?} is not valid (1–64 characters of [A-Za-z0-9_.-])")]
    InvalidLayerName(String),
    /// Two layers have the same name.
    #[error("config.json: layer name {0:?} is used twice")]
    DuplicateLayerName(String),
    /// A dimension is zero or larger than the kernels allow.
    #[error("{what} is {value}, must be in 1..={max}")]
    Dimension {
        /// Which dimension (`layer fc1 in_features`, `adapter r`…).
        what: String,
        /// Its value.
        value: usize,
        /// The largest allowed.
        max: usize,
    },
    /// The model or adapter has more parameters than [`super::config::MAX_PARAMETERS`].
    #[error("the {what} has {parameters} parameters, at most {max} are allowed")]
    TooLarge {
        /// `model` or `adapter`.
        what: &'static str,
        /// Its parameter count.
        parameters: u64,
        /// The limit.
        max: u64,
    },
    /// A layer's input width is not the previous layer's output width.
    #[error("config.json: layer {layer:?} takes {found} inputs but receives {expected}")]
    LayerChain {
        /// The layer.
        layer: String,
        /// What the previous layer (or the model input) gives.
        expected: usize,
        /// What the layer declares.
        found: usize,
    },
    /// A multiplier/shift pair is invalid.
    #[error("{what}: {source}")]
    Requant {
        /// Where (`layer fc1 requant`, `adapter target fc1 scale`…).
        what: String,
        /// Why.
        source: RequantError,
    },
    /// A safetensors file does not parse.
    #[error("{file}: not a valid safetensors file: {reason}")]
    Safetensors {
        /// The file.
        file: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A tensor the config requires is not in the weights file.
    #[error("{file}: tensor {name:?} is missing")]
    MissingTensor {
        /// The file.
        file: &'static str,
        /// The tensor name.
        name: String,
    },
    /// The weights file holds a tensor that the config does not declare.
    #[error("{file}: tensor {name:?} is not declared by the config")]
    UnexpectedTensor {
        /// The file.
        file: &'static str,
        /// The tensor name.
        name: String,
    },
    /// A tensor has the wrong element type.
    #[error("{file}: tensor {name:?} is {found}, expected {expected}")]
    TensorDtype {
        /// The file.
        file: &'static str,
        /// The tensor name.
        name: String,
        /// The required dtype.
        expected: &'static str,
        /// The dtype in the file.
        found: String,
    },
    /// A tensor has the wrong shape.
    #[error("{file}: tensor {name:?} has shape {found:?}, expected {expected:?}")]
    TensorShape {
        /// The file.
        file: &'static str,
        /// The tensor name.
        name: String,
        /// The shape the config implies.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// An input vector has the wrong length.
    #[error("input has {found} values, the model takes {expected}")]
    InputLength {
        /// The model's input width.
        expected: usize,
        /// The given length.
        found: usize,
    },
    /// No test vector is declared, so the files cannot be checked end to end.
    #[error("{file}: no test vector is declared")]
    NoTestVector {
        /// Which config.
        file: &'static str,
    },
    /// A test vector's declared result is not what the engine computes.
    #[error("{file}: test vector {vector}: {field}[{index}] is {found}, declared {declared}")]
    TestVectorMismatch {
        /// Which config.
        file: &'static str,
        /// Index of the test vector.
        vector: usize,
        /// `output`, `logits` or `argmax`.
        field: &'static str,
        /// Element index (0 for argmax).
        index: usize,
        /// The declared value.
        declared: i64,
        /// The computed value.
        found: i64,
    },
    /// A test vector's declared output has the wrong length.
    #[error("{file}: test vector {vector}: {field} has {found} values, the model gives {expected}")]
    TestVectorLength {
        /// Which config.
        file: &'static str,
        /// Index of the test vector.
        vector: usize,
        /// `output` or `logits`.
        field: &'static str,
        /// The model's output width.
        expected: usize,
        /// The declared length.
        found: usize,
    },
    /// The adapter is not a LoRA adapter.
    #[error("adapter_config.json: peft_type is {0:?}, only \"LORA\" is supported")]
    NotLora(String),
    /// A PEFT option that changes the computation and that the integer engine does not implement.
    #[error("adapter_config.json: {key} = {value} is not supported by the integer engine")]
    UnsupportedPeftOption {
        /// The PEFT key.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// `target_modules` is empty, not a list of names, or names a module twice.
    #[error("adapter_config.json: target_modules must be a non-empty list of distinct layer names")]
    InvalidTargetModules,
    /// An adapter targets a module the base model does not have.
    #[error("adapter targets {0:?}, which is not a layer of the base model")]
    UnknownTarget(String),
    /// A target has no integer quantization parameters, or parameters are given for a
    /// module that is not a target.
    #[error(
        "adapter_config.json: temporis.targets must give a_requant and scale for exactly the target_modules; {0:?} differs"
    )]
    TargetQuantMismatch(String),
    /// The adapter was made for another base model.
    #[error("adapter is for base model {declared}, not {actual}")]
    BaseModelMismatch {
        /// `temporis.base_model_id` of the adapter.
        declared: B256,
        /// The id of the model given.
        actual: B256,
    },
    /// A kernel failed (shape or backend).
    #[error(transparent)]
    Kernel(#[from] KernelError),
}

/// Result with [`ModelError`].
pub type ModelResult<T> = Result<T, ModelError>;
