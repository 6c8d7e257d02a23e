//! `STORE_CHUNK` at `0x…0A02`: puts one chunk of a model or adapter into the node's
//! content-addressed [`ModelStore`].
//!
//! Input: `storeChunk(bytes data)` (selector and ABI arguments). Output: `abi.encode(bytes32
//! keccak256(data))`. Only the `ModelRegistry` predeploy may call it, with a plain `CALL`, after
//! checking the hash against the announced manifest. Gas: [`STORE_CHUNK_BASE_GAS`] +
//! [`STORE_CHUNK_GAS_PER_WORD`] per 32-byte word of `data`. Reverts with `Error(string)` for
//! another caller, a static call, malformed input, or a store that cannot write (a node fault:
//! the transaction reverts instead of pretending the bytes are kept). Spec:
//! `docs/aivm-precompiles.md`.

use std::sync::Arc;

use alloy::sol_types::SolCall;
use alloy_primitives::{Address, Bytes};

use super::abi::IAivmPrecompiles;
use super::store::ModelStore;
use super::{AivmPrecompile, MODEL_REGISTRY_ADDRESS, PrecompileCall, PrecompileOutcome, revert_reason};
use crate::precompile_address;

/// Address of `STORE_CHUNK`.
pub const STORE_CHUNK_ADDRESS: Address = precompile_address(0x0A02);
/// Fixed part of the gas: the store write, priced like a fresh `SSTORE` minus its refund story.
pub const STORE_CHUNK_BASE_GAS: u64 = 5_000;
/// Gas per 32-byte word: hashing (keccak's 6) and writing the bytes to disk.
pub const STORE_CHUNK_GAS_PER_WORD: u64 = 12;

/// Gas of one `STORE_CHUNK` call with `len` bytes of data.
pub const fn store_chunk_gas(len: usize) -> u64 {
    STORE_CHUNK_BASE_GAS + STORE_CHUNK_GAS_PER_WORD * (len as u64).div_ceil(32)
}

/// The `STORE_CHUNK` precompile.
#[derive(Debug, Clone)]
pub struct StoreChunk {
    store: Arc<ModelStore>,
}

impl StoreChunk {
    /// `STORE_CHUNK` writing into `store`.
    pub fn new(store: Arc<ModelStore>) -> Self {
        Self { store }
    }
}

impl AivmPrecompile for StoreChunk {
    fn address(&self) -> Address {
        STORE_CHUNK_ADDRESS
    }

    fn name(&self) -> &'static str {
        "STORE_CHUNK"
    }

    fn call(&self, call: &PrecompileCall<'_>) -> PrecompileOutcome {
        let base = STORE_CHUNK_BASE_GAS;
        if call.gas_limit < base {
            return PrecompileOutcome::OutOfGas;
        }
        let revert =
            |reason: &str| PrecompileOutcome::Revert { gas_used: base, output: revert_reason(reason) };
        if call.caller != MODEL_REGISTRY_ADDRESS {
            return revert("AIVM: STORE_CHUNK serves only the ModelRegistry");
        }
        if call.is_static {
            return revert("AIVM: STORE_CHUNK cannot be called statically");
        }
        let Ok(args) = IAivmPrecompiles::storeChunkCall::abi_decode_validate(call.input) else {
            return revert("AIVM: malformed STORE_CHUNK input");
        };
        let gas = store_chunk_gas(args.data.len());
        if call.gas_limit < gas {
            return PrecompileOutcome::OutOfGas;
        }
        match self.store.put_chunk(&args.data) {
            Ok(hash) => {
                tracing::debug!(target: "aivm::precompile", %hash, len = args.data.len(), "stored chunk");
                PrecompileOutcome::Success {
                    gas_used: gas,
                    output: Bytes::from(IAivmPrecompiles::storeChunkCall::abi_encode_returns(&hash)),
                }
            }
            Err(e) => {
                tracing::error!(target: "aivm::precompile", %e, "chunk store cannot write");
                revert("AIVM: the node's chunk store cannot write")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precompiles::test_utils::from_registry;
    use alloy_primitives::b256;

    #[test]
    fn vectors_and_reverts() {
        let store = Arc::new(ModelStore::in_memory());
        let p = StoreChunk::new(store.clone());
        let empty = IAivmPrecompiles::storeChunkCall { data: Bytes::new() }.abi_encode();
        let out = p.call(&from_registry(&empty, 100_000));
        let keccak_empty = b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        assert_eq!(
            out,
            PrecompileOutcome::Success { gas_used: STORE_CHUNK_BASE_GAS, output: keccak_empty.into() }
        );

        let data = vec![0xab; 100];
        let input = IAivmPrecompiles::storeChunkCall { data: data.clone().into() }.abi_encode();
        let PrecompileOutcome::Success { gas_used, output } = p.call(&from_registry(&input, 100_000)) else {
            panic!("stores")
        };
        assert_eq!(gas_used, STORE_CHUNK_BASE_GAS + 4 * STORE_CHUNK_GAS_PER_WORD);
        assert_eq!(output.as_ref(), alloy_primitives::keccak256(&data).as_slice());
        assert_eq!(store.chunk(&alloy_primitives::keccak256(&data)).unwrap().as_ref(), &data[..]);

        assert_eq!(p.call(&from_registry(&input, gas_used - 1)), PrecompileOutcome::OutOfGas);
        let reverts = |c: &PrecompileCall<'_>, reason: &str| {
            assert_eq!(
                p.call(c),
                PrecompileOutcome::Revert { gas_used: STORE_CHUNK_BASE_GAS, output: revert_reason(reason) }
            );
        };
        reverts(&from_registry(&input[..40], 100_000), "AIVM: malformed STORE_CHUNK input");
        reverts(
            &PrecompileCall { caller: Address::ZERO, ..from_registry(&input, 100_000) },
            "AIVM: STORE_CHUNK serves only the ModelRegistry",
        );
        reverts(
            &PrecompileCall { is_static: true, ..from_registry(&input, 100_000) },
            "AIVM: STORE_CHUNK cannot be called statically",
        );
    }
}
