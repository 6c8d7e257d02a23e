//! `INFERENCE` at `0x…0A00`: runs a verified model, optionally with a verified LoRA adapter of
//! it, on one int8 input through the integer-exact engine ([`crate::engine::infer`]).
//!
//! Input: `infer(bytes32 model, bytes32 adapter, int8[] input)` (adapter zero for none).
//! Output: `abi.encode(int8[] output, int32[] logits, uint256 argmax)`. Only the
//! `ModelRegistry` predeploy may call it: the registry checks in its state that the model (and
//! adapter) are Verified, and this precompile trusts that check, so no unverified bytes that
//! happen to sit in a node's store can ever be run.
//!
//! Gas, computed from the model's shapes before anything runs:
//!
//! ```text
//! gas = INFERENCE_BASE_GAS + INFERENCE_GAS_PER_LAYER · (layers + adapted layers)
//!     + ⌈macs · INFERENCE_GAS_PER_KMAC / 1000⌉
//! ```
//!
//! with `macs` from [`crate::engine::macs`]. Reverts with `Error(string)` (costing
//! [`INFERENCE_BASE_GAS`]) for: a caller other than the registry, malformed input, an unknown
//! model or adapter, an adapter of another model, an input of the wrong length, and less gas than
//! the formula asks. Spec and calibration: `docs/aivm-precompiles.md`.

use std::sync::Arc;

use alloy::sol_types::SolCall;
use alloy_primitives::{Address, Bytes, U256};

use super::abi::IAivmPrecompiles;
use super::store::ModelStore;
use super::{AivmPrecompile, MODEL_REGISTRY_ADDRESS, PrecompileCall, PrecompileOutcome, revert_reason};
use crate::model::{Adapter, Model};
use crate::precompile_address;

/// Address of `INFERENCE`.
pub const INFERENCE_ADDRESS: Address = precompile_address(0x0A00);
/// Fixed part of the gas: decoding, the store lookup, encoding the result.
pub const INFERENCE_BASE_GAS: u64 = 10_000;
/// Gas per layer run (and per adapted layer): the per-matmul overhead of the kernels.
pub const INFERENCE_GAS_PER_LAYER: u64 = 1_000;
/// Gas per 1000 multiply-accumulates.
pub const INFERENCE_GAS_PER_KMAC: u64 = 20;

/// Gas of one inference of `model` (with `adapter`), by the formula of the module doc.
pub fn inference_gas(model: &Model, adapter: Option<&Adapter>) -> u64 {
    let layers = model.config().layers.len() as u64;
    let adapted = adapter.map_or(0, |a| a.config().targets().len() as u64);
    let macs = crate::engine::macs(model, adapter);
    inference_gas_for(layers + adapted, macs)
}

/// The formula itself: `layers` matmul groups (layers plus adapted layers) and `macs`.
pub const fn inference_gas_for(layers: u64, macs: u64) -> u64 {
    INFERENCE_BASE_GAS
        .saturating_add(INFERENCE_GAS_PER_LAYER.saturating_mul(layers))
        .saturating_add(macs.saturating_mul(INFERENCE_GAS_PER_KMAC).div_ceil(1000))
}

/// The `INFERENCE` precompile.
#[derive(Debug, Clone)]
pub struct Inference {
    store: Arc<ModelStore>,
}

impl Inference {
    /// `INFERENCE` running models from `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl AivmPrecompile for Inference {
    fn address(&self) -> Address {
        INFERENCE_ADDRESS
    }

    fn name(&self) -> &'static str {
        "INFERENCE"
    }

    fn call(&self, call: &PrecompileCall<'_>) -> PrecompileOutcome {
        let base = INFERENCE_BASE_GAS;
        if call.gas_limit < base {
            return PrecompileOutcome::OutOfGas;
        }
        let revert =
            |reason: &str| PrecompileOutcome::Revert { gas_used: base, output: revert_reason(reason) };
        if call.caller != MODEL_REGISTRY_ADDRESS {
            return revert("AIVM: INFERENCE serves only the ModelRegistry");
        }
        let Ok(args) = IAivmPrecompiles::inferCall::abi_decode_validate(call.input) else {
            return revert("AIVM: malformed INFERENCE input");
        };
        let Some(model) = self.store.model(&args.model) else {
            return revert(&format!("AIVM: unknown model {}", args.model));
        };
        let adapter = if args.adapter.is_zero() {
            None
        } else {
            let Some((adapter, base_model)) = self.store.adapter(&args.adapter) else {
                return revert(&format!("AIVM: unknown adapter {}", args.adapter));
            };
            if base_model.id() != model.id() {
                return revert(&format!("AIVM: adapter {} is for model {}", args.adapter, base_model.id()));
            }
            Some(adapter)
        };
        let width = model.input_features();
        if args.input.len() != width {
            return revert(&format!("AIVM: input has {} values, the model takes {width}", args.input.len()));
        }
        let gas = inference_gas(&model, adapter.as_deref());
        if call.gas_limit < gas {
            return revert(&format!("AIVM: out of gas: inference needs {gas} gas, {} given", call.gas_limit));
        }
        match crate::engine::infer(&model, adapter.as_deref(), &args.input) {
            Ok(out) => {
                let ret = IAivmPrecompiles::inferReturn {
                    output: out.output,
                    logits: out.logits,
                    argmax: U256::from(out.argmax),
                };
                PrecompileOutcome::Success {
                    gas_used: gas,
                    output: Bytes::from(IAivmPrecompiles::inferCall::abi_encode_returns(&ret)),
                }
            }
            // Unreachable for a verified model and a checked input length; a revert, never a panic.
            Err(e) => revert(&format!("AIVM: inference failed: {e}")),
        }
    }
}
