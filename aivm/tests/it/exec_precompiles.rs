//! The AIVM precompiles inside the EVM: reached by transactions and calls, served with the
//! standard set of the same spec, confined to their address range.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use revm::handler::PrecompileProvider;
use revm::primitives::hardfork::SpecId;
use revm_inspectors::tracing::TracingInspectorConfig;
use temporis_aivm::precompiles::model_info::{
    InMemoryModelDirectory, MODEL_INFO_ADDRESS, MODEL_INFO_GAS, ModelInfo, ModelSummary,
};
use temporis_aivm::precompiles::revert_reason;
use temporis_aivm::stf::AivmContext;
use temporis_aivm::{
    AivmError, AivmPrecompileSet, AivmPrecompiles, ExecOptions, Executor, State, precompile_address,
};

use crate::{eip1559, genesis_json, keys, test_block};

fn set_with_model(id: B256) -> AivmPrecompileSet {
    let directory = Arc::new(InMemoryModelDirectory::default());
    directory.insert(id, ModelSummary { size_bytes: 4096, chunk_count: 2 });
    AivmPrecompileSet::new().with(Arc::new(ModelInfo::new(directory))).unwrap()
}

#[test]
fn model_info_is_reachable_from_a_transaction() {
    let k = keys(1);
    let genesis = genesis_json(&[k[0].address()], U256::from(10u128.pow(18)), &[]);
    let state = State::from_genesis_json(&genesis).unwrap();
    let known = B256::repeat_byte(0xab);
    let executor = Executor::new(crate::CHAIN_ID).with_precompiles(set_with_model(known));
    let to = TxKind::Call(MODEL_INFO_ADDRESS);
    let txs = vec![
        eip1559(&k[0], 0, to, U256::ZERO, known.into(), 100_000),
        eip1559(&k[0], 1, to, U256::ZERO, B256::repeat_byte(1).into(), 100_000),
    ];
    let block = test_block(1);
    let config = TracingInspectorConfig::default_geth();

    let (_, found) = executor.trace_transaction(&state, &block, &txs, 0, config).unwrap();
    assert!(found.is_success());
    let out = found.output().unwrap();
    assert_eq!(U256::from_be_slice(&out[..32]), U256::from(4096));
    assert_eq!(U256::from_be_slice(&out[32..]), U256::from(2));
    // 21000 + calldata (32 non-zero bytes at 16 gas) + the precompile's fixed gas.
    assert_eq!(found.tx_gas_used(), 21_000 + 32 * 16 + MODEL_INFO_GAS);

    let (_, unknown) = executor.trace_transaction(&state, &block, &txs, 1, config).unwrap();
    assert!(!unknown.is_success());
    assert_eq!(unknown.output(), Some(&revert_reason("AIVM: unknown model")));

    let mut post = state.clone();
    let block_out = executor.execute_block(&mut post, &block, &txs, &ExecOptions::default()).unwrap();
    assert!(block_out.receipts[0].status() && !block_out.receipts[1].status());

    // Without the precompile the address is an empty account: the call succeeds, returns nothing.
    let (_, plain) =
        Executor::new(crate::CHAIN_ID).trace_transaction(&state, &block, &txs, 0, config).unwrap();
    assert!(plain.is_success() && plain.output().unwrap().is_empty());
}

#[test]
fn aivm_set_is_served_with_the_standard_set_of_the_same_spec() {
    let p256 = precompile_address(0x0100);
    let mut provider = AivmPrecompiles::new(SpecId::CANCUN, Arc::new(set_with_model(B256::ZERO)));
    let warm = |p: &AivmPrecompiles| {
        <AivmPrecompiles as PrecompileProvider<AivmContext<'static>>>::warm_addresses(p).clone()
    };
    assert!(warm(&provider).contains(&MODEL_INFO_ADDRESS));
    assert!(warm(&provider).contains(&Address::with_last_byte(1)));
    assert!(!warm(&provider).contains(&p256), "no P256VERIFY before Osaka");
    assert!(<AivmPrecompiles as PrecompileProvider<AivmContext<'static>>>::set_spec(
        &mut provider,
        SpecId::OSAKA
    ));
    assert!(warm(&provider).contains(&p256), "P256VERIFY at Osaka");
    assert!(warm(&provider).contains(&MODEL_INFO_ADDRESS), "AIVM set kept across spec changes");
}

#[derive(Debug)]
struct At(Address);

impl temporis_aivm::AivmPrecompile for At {
    fn address(&self) -> Address {
        self.0
    }
    fn name(&self) -> &'static str {
        "test"
    }
    fn call(
        &self,
        _: &temporis_aivm::precompiles::PrecompileCall<'_>,
    ) -> temporis_aivm::precompiles::PrecompileOutcome {
        temporis_aivm::precompiles::PrecompileOutcome::Success { gas_used: 0, output: Bytes::new() }
    }
}

#[test]
fn registration_is_confined_to_the_aivm_range() {
    let mut set = AivmPrecompileSet::new();
    assert!(matches!(
        set.register(Arc::new(At(precompile_address(0x0100)))),
        Err(AivmError::NotAnAivmPrecompile(_))
    ));
    assert!(matches!(
        set.register(Arc::new(At(Address::with_last_byte(1)))),
        Err(AivmError::NotAnAivmPrecompile(_))
    ));
    set.register(Arc::new(At(precompile_address(0x0AFF)))).unwrap();
    let err = set.register(Arc::new(At(precompile_address(0x0AFF)))).unwrap_err();
    assert!(matches!(err, AivmError::PrecompileAddressTaken { by: "test", .. }), "{err}");
    assert_eq!(set.len(), 1);
}
