//! `MODEL_INFO` at `0x…0A01`: what the chain knows about a published model.
//!
//! Input: exactly 32 bytes, the model id (the content hash of the model's manifest).
//! Output: `abi.encode(uint256 sizeBytes, uint256 chunkCount)` of the published model.
//! Reverts with `Error("AIVM: unknown model")` for an id nobody published, and with
//! `Error("AIVM: MODEL_INFO input must be 32 bytes")` for another input length; both cost the
//! fixed gas. Gas: [`MODEL_INFO_GAS`], charged before anything else (less halts out of gas).
//! Spec: `docs/aivm-execution.md`, *Precompiles*.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use alloy_primitives::{Address, B256, Bytes, U256};

use super::{AivmPrecompile, PrecompileCall, PrecompileOutcome, revert_reason};
use crate::precompile_address;

/// Address of `MODEL_INFO` (`0x…0A01`; `0x…0A00` is left to the inference precompile).
pub const MODEL_INFO_ADDRESS: Address = precompile_address(0x0A01);
/// Gas of one `MODEL_INFO` call: a lookup in a map every node holds, priced like a cold
/// `SLOAD` (EIP-2929), which it resembles.
pub const MODEL_INFO_GAS: u64 = 2_100;

/// What is known about a published model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelSummary {
    /// Total size of the model's blobs in bytes.
    pub size_bytes: u64,
    /// Number of chunks the model was published in.
    pub chunk_count: u32,
    /// Width of the input vector.
    pub input_features: u32,
    /// Width of the output vector.
    pub output_features: u32,
    /// Number of layers.
    pub layers: u32,
    /// Multiply-accumulates of one inference ([`crate::engine::macs`]).
    pub macs: u64,
}

/// Where [`ModelInfo`] looks models up; the chain's model store implements it.
pub trait ModelDirectory: Send + Sync + std::fmt::Debug {
    /// The model with id `id`, if it was published.
    fn model(&self, id: &B256) -> Option<ModelSummary>;
}

/// A [`ModelDirectory`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryModelDirectory {
    models: RwLock<BTreeMap<B256, ModelSummary>>,
}

impl InMemoryModelDirectory {
    /// Records a published model.
    pub fn insert(&self, id: B256, summary: ModelSummary) {
        self.models.write().unwrap_or_else(|e| e.into_inner()).insert(id, summary);
    }
}

impl ModelDirectory for InMemoryModelDirectory {
    fn model(&self, id: &B256) -> Option<ModelSummary> {
        self.models.read().unwrap_or_else(|e| e.into_inner()).get(id).copied()
    }
}

/// The `MODEL_INFO` precompile.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    directory: Arc<dyn ModelDirectory>,
    only_caller: Option<Address>,
}

impl ModelInfo {
    /// `MODEL_INFO` answering from `directory`, to any caller.
    pub fn new(directory: Arc<dyn ModelDirectory>) -> Self {
        Self { directory, only_caller: None }
    }

    /// `self`, answering only calls from `caller` (others revert for the fixed gas).
    pub fn serving_only(mut self, caller: Address) -> Self {
        self.only_caller = Some(caller);
        self
    }
}

impl AivmPrecompile for ModelInfo {
    fn address(&self) -> Address {
        MODEL_INFO_ADDRESS
    }

    fn name(&self) -> &'static str {
        "MODEL_INFO"
    }

    fn call(&self, call: &PrecompileCall<'_>) -> PrecompileOutcome {
        if call.gas_limit < MODEL_INFO_GAS {
            return PrecompileOutcome::OutOfGas;
        }
        if let Some(only) = self.only_caller
            && call.caller != only
        {
            return PrecompileOutcome::Revert {
                gas_used: MODEL_INFO_GAS,
                output: revert_reason(&format!("AIVM: MODEL_INFO serves only {only}")),
            };
        }
        let Ok(id) = <[u8; 32]>::try_from(call.input) else {
            return PrecompileOutcome::Revert {
                gas_used: MODEL_INFO_GAS,
                output: revert_reason("AIVM: MODEL_INFO input must be 32 bytes"),
            };
        };
        match self.directory.model(&B256::from(id)) {
            Some(summary) => {
                let words = [
                    summary.size_bytes,
                    u64::from(summary.chunk_count),
                    u64::from(summary.input_features),
                    u64::from(summary.output_features),
                    u64::from(summary.layers),
                    summary.macs,
                ];
                let mut out = [0u8; 32 * 6];
                for (w, v) in out.chunks_exact_mut(32).zip(words) {
                    w.copy_from_slice(&U256::from(v).to_be_bytes::<32>());
                }
                PrecompileOutcome::Success { gas_used: MODEL_INFO_GAS, output: Bytes::copy_from_slice(&out) }
            }
            None => PrecompileOutcome::Revert {
                gas_used: MODEL_INFO_GAS,
                output: revert_reason("AIVM: unknown model"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(input: &[u8], gas_limit: u64) -> PrecompileCall<'_> {
        PrecompileCall { input, gas_limit, caller: Address::ZERO, value: U256::ZERO, is_static: true }
    }

    #[test]
    fn known_unknown_malformed_and_out_of_gas() {
        let directory = Arc::new(InMemoryModelDirectory::default());
        let id = B256::repeat_byte(7);
        directory
            .insert(id, ModelSummary { size_bytes: 1 << 20, chunk_count: 9, macs: 77, ..Default::default() });
        let p = ModelInfo::new(directory);

        let PrecompileOutcome::Success { gas_used, output } = p.call(&call(id.as_slice(), 5_000)) else {
            panic!("known model")
        };
        assert_eq!(gas_used, MODEL_INFO_GAS);
        assert_eq!(U256::from_be_slice(&output[..32]), U256::from(1u64 << 20));
        assert_eq!(U256::from_be_slice(&output[32..64]), U256::from(9));
        assert_eq!(U256::from_be_slice(&output[160..]), U256::from(77));

        let unknown = p.call(&call(&[1u8; 32], 5_000));
        assert_eq!(
            unknown,
            PrecompileOutcome::Revert {
                gas_used: MODEL_INFO_GAS,
                output: revert_reason("AIVM: unknown model")
            }
        );
        assert!(matches!(p.call(&call(&[1u8; 31], 5_000)), PrecompileOutcome::Revert { .. }));
        assert_eq!(p.call(&call(id.as_slice(), MODEL_INFO_GAS - 1)), PrecompileOutcome::OutOfGas);

        let gated = p.serving_only(Address::repeat_byte(0x42));
        assert!(matches!(gated.call(&call(id.as_slice(), 5_000)), PrecompileOutcome::Revert { .. }));
        let from_registry =
            PrecompileCall { caller: Address::repeat_byte(0x42), ..call(id.as_slice(), 5_000) };
        assert!(matches!(gated.call(&from_registry), PrecompileOutcome::Success { .. }));
    }
}
