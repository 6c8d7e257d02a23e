//! The AIVM precompile registry and the `revm` precompile provider that serves it next to
//! Ethereum's precompiles.
//!
//! An AIVM precompile implements [`AivmPrecompile`] and is registered in an
//! [`AivmPrecompileSet`], which admits only addresses in `0x…0A00`–`0x…0AFF`. The set is
//! independent of the hardfork; [`AivmPrecompiles`] combines it with revm's standard set for the
//! EVM's spec and rebuilds the standard part whenever revm changes the spec, so the AIVM set is
//! always served with the standard set of the same spec (P256VERIFY at `0x…0100` since Osaka
//! included) and can never shadow one of them.
//!
//! The precompiles of model publishing and inference ([`inference`], [`model_info`],
//! [`store_chunk`], [`verify`]) work over one [`store::ModelStore`] and serve the `ModelRegistry`
//! predeploy ([`MODEL_REGISTRY_ADDRESS`]); [`model_precompiles`] builds their set. Spec:
//! `docs/aivm-precompiles.md`.

pub mod abi;
pub mod inference;
pub mod model_info;
pub mod store;
pub mod store_chunk;
pub mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use alloy_primitives::map::AddressSet;
use alloy_primitives::{Address, Bytes, U256};
use revm::context::Cfg;
use revm::context_interface::ContextTr;
use revm::handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result};
use revm::interpreter::{CallInputs, InterpreterResult};
use revm::precompile::{PrecompileHalt, PrecompileOutput};
use revm::primitives::hardfork::SpecId;

use crate::{AivmError, Result, is_aivm_precompile};

/// The `ModelRegistry` predeploy (`contracts/src/L2/ModelRegistry.sol`), placed in the L2
/// genesis: the only caller that `INFERENCE`, `STORE_CHUNK` and `VERIFY` serve.
pub const MODEL_REGISTRY_ADDRESS: Address =
    alloy_primitives::address!("4200000000000000000000000000000000000a00");

/// The AIVM's publishing and inference precompiles over one model store: `INFERENCE`
/// (`0x…0A00`), `MODEL_INFO` (`0x…0A01`), `STORE_CHUNK` (`0x…0A02`) and `VERIFY` (`0x…0A03`).
pub fn model_precompiles(store: Arc<store::ModelStore>) -> AivmPrecompileSet {
    let mut set = AivmPrecompileSet::new();
    let all: [Arc<dyn AivmPrecompile>; 4] = [
        Arc::new(inference::Inference::new(store.clone())),
        Arc::new(model_info::ModelInfo::new(store.clone()).serving_only(MODEL_REGISTRY_ADDRESS)),
        Arc::new(store_chunk::StoreChunk::new(store.clone())),
        Arc::new(verify::Verify::new(store)),
    ];
    for p in all {
        set.register(p).expect("distinct addresses in the AIVM range");
    }
    set
}

/// One call of an AIVM precompile.
#[derive(Debug, Clone, Copy)]
pub struct PrecompileCall<'a> {
    /// Call data.
    pub input: &'a [u8],
    /// Gas available to the precompile.
    pub gas_limit: u64,
    /// The calling account (`msg.sender` of the call frame).
    pub caller: Address,
    /// Value sent with the call (already transferred when the precompile runs).
    pub value: U256,
    /// Whether the call is static (`STATICCALL`, or below one).
    pub is_static: bool,
}

/// What an AIVM precompile returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrecompileOutcome {
    /// Success: gas used and return data.
    Success {
        /// Gas used.
        gas_used: u64,
        /// Return data.
        output: Bytes,
    },
    /// Revert: the caller gets `output` (e.g. an ABI `Error(string)`) and unused gas back.
    Revert {
        /// Gas used.
        gas_used: u64,
        /// Revert data.
        output: Bytes,
    },
    /// Out of gas: all gas of the call is consumed.
    OutOfGas,
}

/// An AIVM precompile: a fixed address in the AIVM range, a fixed gas formula, a spec in
/// `docs/`.
pub trait AivmPrecompile: Send + Sync + fmt::Debug {
    /// Its address, in `0x…0A00`–`0x…0AFF`.
    fn address(&self) -> Address;
    /// A short name, for logs and traces.
    fn name(&self) -> &'static str;
    /// Runs one call. Must be deterministic: a function of the call (and of data every node
    /// holds), never of the machine.
    fn call(&self, call: &PrecompileCall<'_>) -> PrecompileOutcome;
}

/// The AIVM precompiles of a chain, by address.
#[derive(Debug, Clone, Default)]
pub struct AivmPrecompileSet {
    by_address: BTreeMap<Address, Arc<dyn AivmPrecompile>>,
}

impl AivmPrecompileSet {
    /// An empty set: the EVM then has only Ethereum's precompiles.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a precompile. Fails if its address is outside the AIVM range or already taken.
    pub fn register(&mut self, precompile: Arc<dyn AivmPrecompile>) -> Result<()> {
        let address = precompile.address();
        if !is_aivm_precompile(address) {
            return Err(AivmError::NotAnAivmPrecompile(address));
        }
        if let Some(existing) = self.by_address.get(&address) {
            return Err(AivmError::PrecompileAddressTaken { address, by: existing.name() });
        }
        self.by_address.insert(address, precompile);
        Ok(())
    }

    /// `self` with `precompile` added (see [`AivmPrecompileSet::register`]).
    pub fn with(mut self, precompile: Arc<dyn AivmPrecompile>) -> Result<Self> {
        self.register(precompile)?;
        Ok(self)
    }

    /// The precompile at `address`.
    pub fn get(&self, address: &Address) -> Option<&Arc<dyn AivmPrecompile>> {
        self.by_address.get(address)
    }

    /// The registered addresses, ascending.
    pub fn addresses(&self) -> impl Iterator<Item = Address> + '_ {
        self.by_address.keys().copied()
    }

    /// Number of registered precompiles.
    pub fn len(&self) -> usize {
        self.by_address.len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.by_address.is_empty()
    }
}

/// The revm precompile provider of the AIVM: Ethereum's precompiles for the current spec plus
/// an [`AivmPrecompileSet`].
#[derive(Debug, Clone)]
pub struct AivmPrecompiles {
    eth: EthPrecompiles,
    aivm: Arc<AivmPrecompileSet>,
    /// Ethereum's addresses for the spec and the AIVM ones: warm from the start of every
    /// transaction (EIP-2929), as precompiles are.
    warm: AddressSet,
}

impl AivmPrecompiles {
    /// The provider for `spec` with the AIVM set `aivm`.
    pub fn new(spec: SpecId, aivm: Arc<AivmPrecompileSet>) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_set(&eth, &aivm);
        Self { eth, aivm, warm }
    }

    fn warm_set(eth: &EthPrecompiles, aivm: &AivmPrecompileSet) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(aivm.addresses());
        warm
    }
}

impl<CTX> PrecompileProvider<CTX> for AivmPrecompiles
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        if changed {
            self.warm = Self::warm_set(&self.eth, &self.aivm);
        }
        changed
    }

    fn run(&mut self, context: &mut CTX, inputs: &CallInputs) -> Result<Option<InterpreterResult>, String> {
        let Some(precompile) = self.aivm.get(&inputs.bytecode_address) else {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(&mut self.eth, context, inputs);
        };
        let input = inputs.input.as_bytes(context);
        let call = PrecompileCall {
            input: &input,
            gas_limit: inputs.gas_limit,
            caller: inputs.caller,
            value: inputs.value.get(),
            is_static: inputs.is_static,
        };
        let output = match precompile.call(&call) {
            PrecompileOutcome::Success { gas_used, output } => {
                PrecompileOutput::new(gas_used, output, inputs.reservoir)
            }
            PrecompileOutcome::Revert { gas_used, output } => {
                PrecompileOutput::revert(gas_used, output, inputs.reservoir)
            }
            PrecompileOutcome::OutOfGas => PrecompileOutput::halt(PrecompileHalt::OutOfGas, inputs.reservoir),
        };
        tracing::trace!(target: "aivm::precompile", name = precompile.name(), gas_used = output.gas_used, status = ?output.status, "AIVM precompile");
        // As for revm's own precompiles, one reporting more gas than it had halts out of gas.
        Ok(Some(precompile_output_to_interpreter_result(output, inputs.gas_limit)))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}

/// ABI encoding of `Error(string)`, the revert data Solidity's `require(…, reason)` produces,
/// so callers and tools decode an AIVM precompile's revert like any other.
pub fn revert_reason(reason: &str) -> Bytes {
    use alloy::sol_types::SolError;
    alloy::sol_types::Revert::from(reason).abi_encode().into()
}

#[cfg(test)]
pub(crate) mod test_utils {
    //! Publishing the shipped models straight into a store, as the registry would.
    use super::abi::IAivmPrecompiles;
    use super::store::ModelStore;
    use super::{MODEL_REGISTRY_ADDRESS, PrecompileCall};
    use alloy::sol_types::SolCall;
    use alloy_primitives::{B256, U256};
    use std::path::PathBuf;

    pub(crate) fn shipped(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name)
    }

    /// Stores the chunks (of `chunk` bytes) of `[config, weights]`, returns the VERIFY input.
    pub(crate) fn verify_input(
        store: &ModelStore,
        id: B256,
        kind: u8,
        parent: B256,
        files: [&[u8]; 2],
        chunk: usize,
    ) -> Vec<u8> {
        let (hashes, config_chunks) = store.put_files(files, chunk).unwrap();
        IAivmPrecompiles::verifyCall {
            contentId: id,
            kind,
            parent,
            configChunks: config_chunks,
            chunkHashes: hashes,
        }
        .abi_encode()
    }

    /// A call from the registry with `gas_limit`.
    pub(crate) fn from_registry(input: &[u8], gas_limit: u64) -> PrecompileCall<'_> {
        PrecompileCall {
            input,
            gas_limit,
            caller: MODEL_REGISTRY_ADDRESS,
            value: U256::ZERO,
            is_static: false,
        }
    }
}
