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
pub const INFERENCE_GAS_PER_LAYER: u64 = 2_000;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelConfig, ModelFiles};
    use crate::precompiles::test_utils::{from_registry, shipped, verify_input};
    use crate::precompiles::verify::Verify;
    use alloy_primitives::B256;

    #[test]
    fn gas_formula_vectors() {
        // The shipped digits MLP: 2 layers, 64·32 + 32·10 = 2368 MACs; with its rank-4 adapter on
        // both layers 2 more matmul groups and 4·(64+32) + 4·(32+10) more MACs.
        assert_eq!(inference_gas_for(2, 2368), 10_000 + 2 * 2_000 + 48);
        assert_eq!(inference_gas_for(4, 2920), 10_000 + 4 * 2_000 + 59);
        // 4 layers of 1024, and with rank-16 adapters on all four.
        assert_eq!(inference_gas_for(4, 4 << 20), 10_000 + 4 * 2_000 + 83_887);
        assert_eq!(inference_gas_for(8, (4 << 20) + 4 * 16 * 2048), 10_000 + 8 * 2_000 + 86_508);
        assert_eq!(inference_gas_for(u64::MAX, u64::MAX), u64::MAX);
        let m = Model::load(&shipped("digits-mlp")).unwrap();
        assert_eq!(inference_gas(&m, None), inference_gas_for(2, 2368));
    }

    #[test]
    fn runs_the_declared_test_vectors_and_reverts_cleanly() {
        let store = Arc::new(ModelStore::in_memory());
        let files = ModelFiles::read(&shipped("digits-mlp")).unwrap();
        let id = files.id();
        let vi = verify_input(&store, id, 1, B256::ZERO, [&files.config, &files.weights], 4096);
        assert!(matches!(
            Verify::new(store.clone()).call(&from_registry(&vi, 10_000_000)),
            PrecompileOutcome::Success { .. }
        ));
        let p = Inference::new(store);
        let config = ModelConfig::from_json(&files.config).unwrap();
        let gas = inference_gas_for(2, 2368);
        for tv in &config.test_vectors {
            let input =
                IAivmPrecompiles::inferCall { model: id, adapter: B256::ZERO, input: tv.input.clone() }
                    .abi_encode();
            let PrecompileOutcome::Success { gas_used, output } = p.call(&from_registry(&input, 1_000_000))
            else {
                panic!("runs")
            };
            assert_eq!(gas_used, gas);
            let r = IAivmPrecompiles::inferCall::abi_decode_returns(&output).unwrap();
            assert_eq!(
                (r.output, r.logits, r.argmax),
                (tv.output.clone(), tv.logits.clone(), U256::from(tv.argmax))
            );
        }
        let x = config.test_vectors[0].input.clone();
        let call = |model: B256, adapter: B256, input: Vec<i8>, gas: u64| {
            let data = IAivmPrecompiles::inferCall { model, adapter, input }.abi_encode();
            p.call(&from_registry(&data, gas))
        };
        let reverted = |o: PrecompileOutcome| match o {
            PrecompileOutcome::Revert { gas_used, output } => {
                assert_eq!(gas_used, INFERENCE_BASE_GAS);
                <alloy::sol_types::Revert as alloy::sol_types::SolError>::abi_decode(&output).unwrap().reason
            }
            other => panic!("expected a revert: {other:?}"),
        };
        assert_eq!(
            reverted(call(B256::repeat_byte(9), B256::ZERO, x.clone(), 1_000_000)),
            format!("AIVM: unknown model {}", B256::repeat_byte(9))
        );
        assert_eq!(
            reverted(call(id, B256::repeat_byte(8), x.clone(), 1_000_000)),
            format!("AIVM: unknown adapter {}", B256::repeat_byte(8))
        );
        assert_eq!(
            reverted(call(id, B256::ZERO, x[..10].to_vec(), 1_000_000)),
            "AIVM: input has 10 values, the model takes 64"
        );
        assert_eq!(
            reverted(call(id, B256::ZERO, x.clone(), gas - 1)),
            format!("AIVM: out of gas: inference needs {gas} gas, {} given", gas - 1)
        );
        assert_eq!(call(id, B256::ZERO, x.clone(), INFERENCE_BASE_GAS - 1), PrecompileOutcome::OutOfGas);
        // An int8 word that is not sign-extended is malformed (strict ABI decoding).
        let mut data = IAivmPrecompiles::inferCall { model: id, adapter: B256::ZERO, input: x }.abi_encode();
        let last = data.len() - 32;
        data[last] = 0x01;
        assert_eq!(reverted(p.call(&from_registry(&data, 1_000_000))), "AIVM: malformed INFERENCE input");
        let other = PrecompileCall { caller: Address::ZERO, ..from_registry(&data, 1_000_000) };
        assert_eq!(reverted(p.call(&other)), "AIVM: INFERENCE serves only the ModelRegistry");
    }
}
