//! `VERIFY` at `0x…0A03`: reassembles a complete publication from the chunk store and verifies
//! it, returning a verdict the `ModelRegistry` records in its state.
//!
//! Input: `verify(bytes32 contentId, uint8 kind, bytes32 parent, uint32 configChunks,
//! bytes32[] chunkHashes)`; kind 1 is a model, 2 an adapter. Output: `abi.encode(uint16 reason,
//! string detail)`: reason 0 (detail empty) when the files verify — content id, config, tensors
//! and shapes, adapter targets in the parent, every declared test vector reproduced by the
//! integer engine — else one of the `REJECT_*` codes of [`super::store`]. A rejection is a
//! successful call (a verdict, recorded on chain), not a revert. Reverts with `Error(string)` for
//! a caller other than the `ModelRegistry`, a static call, malformed input, and too little gas.
//!
//! Gas: [`VERIFY_BASE_GAS`] + [`VERIFY_GAS_PER_BYTE`] × size of the files + (number of test
//! vectors) × [`super::inference::inference_gas`] of the model (with the adapter). A rejection
//! costs what was spent before it was found (at least the base and per-byte parts). Spec:
//! `docs/aivm-precompiles.md`.

use std::sync::Arc;

use alloy::sol_types::SolCall;
use alloy_primitives::{Address, Bytes};

use super::abi::IAivmPrecompiles;
use super::inference::inference_gas;
use super::store::{Loaded, ModelStore, Publication, REJECT_MANIFEST, Rejection};
use super::{AivmPrecompile, MODEL_REGISTRY_ADDRESS, PrecompileCall, PrecompileOutcome, revert_reason};
use crate::pack::PackKind;
use crate::precompile_address;

/// Address of `VERIFY`.
pub const VERIFY_ADDRESS: Address = precompile_address(0x0A03);
/// Fixed part of the gas.
pub const VERIFY_BASE_GAS: u64 = 50_000;
/// Gas per byte of the reassembled files: reading, hashing, parsing and building the kernels'
/// tensors (measured by `benches/precompiles.rs`, see the spec).
pub const VERIFY_GAS_PER_BYTE: u64 = 2;
/// Most chunks one verification reads (the registry's `MAX_CHUNKS`).
pub const VERIFY_MAX_CHUNKS: usize = 4096;

/// The `VERIFY` precompile.
#[derive(Debug, Clone)]
pub struct Verify {
    store: Arc<ModelStore>,
}

impl Verify {
    /// `VERIFY` over `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

fn verdict(gas_used: u64, rejection: Option<&Rejection>) -> PrecompileOutcome {
    let (reason, detail) = rejection.map_or((0, String::new()), |r| (r.code, r.detail.clone()));
    let ret = IAivmPrecompiles::verifyReturn { reason, detail };
    PrecompileOutcome::Success {
        gas_used,
        output: Bytes::from(IAivmPrecompiles::verifyCall::abi_encode_returns(&ret)),
    }
}

impl AivmPrecompile for Verify {
    fn address(&self) -> Address {
        VERIFY_ADDRESS
    }

    fn name(&self) -> &'static str {
        "VERIFY"
    }

    fn call(&self, call: &PrecompileCall<'_>) -> PrecompileOutcome {
        let base = VERIFY_BASE_GAS;
        if call.gas_limit < base {
            return PrecompileOutcome::OutOfGas;
        }
        let revert = |gas_used: u64, reason: &str| PrecompileOutcome::Revert {
            gas_used,
            output: revert_reason(reason),
        };
        if call.caller != MODEL_REGISTRY_ADDRESS {
            return revert(base, "AIVM: VERIFY serves only the ModelRegistry");
        }
        if call.is_static {
            return revert(base, "AIVM: VERIFY cannot be called statically");
        }
        let Ok(args) = IAivmPrecompiles::verifyCall::abi_decode_validate(call.input) else {
            return revert(base, "AIVM: malformed VERIFY input");
        };
        if args.chunkHashes.len() > VERIFY_MAX_CHUNKS {
            return revert(base, "AIVM: VERIFY input lists too many chunks");
        }
        let kind = match args.kind {
            1 => PackKind::Model,
            2 => PackKind::Adapter,
            k => {
                let r = Rejection {
                    code: REJECT_MANIFEST,
                    detail: format!("kind {k} is neither model (1) nor adapter (2)"),
                };
                return verdict(base, Some(&r));
            }
        };
        let p = Publication {
            content_id: args.contentId,
            kind,
            parent: args.parent,
            config_chunks: args.configChunks,
            chunks: args.chunkHashes,
        };
        let size = match self.store.publication_size(&p) {
            Ok(size) => size,
            Err(r) => return verdict(base, Some(&r)),
        };
        let load_gas = base.saturating_add(VERIFY_GAS_PER_BYTE.saturating_mul(size));
        if call.gas_limit < load_gas {
            return revert(
                call.gas_limit,
                &format!("AIVM: out of gas: VERIFY of {size} bytes needs at least {load_gas} gas"),
            );
        }
        let loaded = match self.store.load_publication(&p) {
            Ok(l) => l,
            Err(r) => return verdict(load_gas, Some(&r)),
        };
        let (vectors, _) = loaded.test_vector_work();
        let per_vector = match &loaded {
            Loaded::Model(m) => inference_gas(m, None),
            Loaded::Adapter(a, m) => inference_gas(m, Some(a)),
        };
        let gas = load_gas.saturating_add(per_vector.saturating_mul(vectors as u64));
        if call.gas_limit < gas {
            return revert(call.gas_limit, &format!("AIVM: out of gas: VERIFY needs {gas} gas"));
        }
        if let Err(r) = loaded.check_test_vectors() {
            tracing::debug!(target: "aivm::precompile", id = %p.content_id, code = r.code, detail = %r.detail, "publication rejected");
            return verdict(gas, Some(&r));
        }
        if let Err(e) = self.store.insert_verified(&p, loaded) {
            tracing::error!(target: "aivm::precompile", %e, "model store cannot write");
            return revert(gas, "AIVM: the node's model store cannot write");
        }
        tracing::debug!(target: "aivm::precompile", id = %p.content_id, ?kind, size, gas, "publication verified");
        verdict(gas, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdapterFiles, ModelFiles};
    use crate::precompiles::store::{REJECT_BASE_MISMATCH, REJECT_ID_MISMATCH, REJECT_MISSING_CHUNK};
    use crate::precompiles::test_utils::{from_registry, shipped, verify_input};
    use alloy_primitives::B256;

    fn verdict_of(o: PrecompileOutcome) -> (u16, String) {
        let PrecompileOutcome::Success { output, .. } = o else { panic!("not a verdict: {o:?}") };
        let r = IAivmPrecompiles::verifyCall::abi_decode_returns(&output).unwrap();
        (r.reason, r.detail)
    }

    #[test]
    fn shipped_model_and_adapter_verify_and_bad_publications_are_rejected() {
        let store = Arc::new(ModelStore::in_memory());
        let v = Verify::new(store.clone());
        let m = ModelFiles::read(&shipped("digits-mlp")).unwrap();
        let a = AdapterFiles::read(&shipped("digits-mlp-translate-lora")).unwrap();

        // Adapter before its base: the parent is not a verified model.
        let ai = verify_input(&store, a.id(), 2, m.id(), [&a.config, &a.weights], 1000);
        assert_eq!(verdict_of(v.call(&from_registry(&ai, 10_000_000))).0, REJECT_BASE_MISMATCH);

        let mi = verify_input(&store, m.id(), 1, B256::ZERO, [&m.config, &m.weights], 1000);
        assert_eq!(verdict_of(v.call(&from_registry(&mi, 10_000_000))), (0, String::new()));
        assert!(store.model(&m.id()).is_some());
        assert_eq!(verdict_of(v.call(&from_registry(&ai, 10_000_000))), (0, String::new()));

        // Declared id of other files.
        let wrong = verify_input(&store, B256::repeat_byte(1), 1, B256::ZERO, [&m.config, &m.weights], 1000);
        assert_eq!(verdict_of(v.call(&from_registry(&wrong, 10_000_000))).0, REJECT_ID_MISMATCH);
        // A chunk nobody stored.
        let missing = IAivmPrecompiles::verifyCall {
            contentId: m.id(),
            kind: 1,
            parent: B256::ZERO,
            configChunks: 1,
            chunkHashes: vec![B256::repeat_byte(2), B256::repeat_byte(3)],
        }
        .abi_encode();
        assert_eq!(verdict_of(v.call(&from_registry(&missing, 10_000_000))).0, REJECT_MISSING_CHUNK);
        let bad_kind = IAivmPrecompiles::verifyCall {
            contentId: m.id(),
            kind: 3,
            parent: B256::ZERO,
            configChunks: 1,
            chunkHashes: vec![],
        }
        .abi_encode();
        assert_eq!(verdict_of(v.call(&from_registry(&bad_kind, 10_000_000))).0, REJECT_MANIFEST);

        // Too little gas for the files: a revert with the figure, not a verdict.
        let PrecompileOutcome::Revert { output, .. } = v.call(&from_registry(&mi, VERIFY_BASE_GAS + 10))
        else {
            panic!("out of gas reverts")
        };
        let reason =
            <alloy::sol_types::Revert as alloy::sol_types::SolError>::abi_decode(&output).unwrap().reason;
        assert!(reason.starts_with("AIVM: out of gas: VERIFY of 8389 bytes"), "{reason}");
        assert!(matches!(
            v.call(&PrecompileCall { caller: Address::ZERO, ..from_registry(&mi, 10_000_000) }),
            PrecompileOutcome::Revert { .. }
        ));
    }
}
