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
    directory.insert(id, ModelSummary { size_bytes: 4096, chunk_count: 2, ..Default::default() });
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

    let (_, found) = executor.trace_transaction(state.clone(), &block, &txs, 0, config).unwrap();
    assert!(found.is_success());
    let out = found.output().unwrap();
    assert_eq!(U256::from_be_slice(&out[..32]), U256::from(4096));
    assert_eq!(U256::from_be_slice(&out[32..64]), U256::from(2));
    // 21000 + calldata (32 non-zero bytes at 16 gas) + the precompile's fixed gas.
    assert_eq!(found.tx_gas_used(), 21_000 + 32 * 16 + MODEL_INFO_GAS);

    let (_, unknown) = executor.trace_transaction(state.clone(), &block, &txs, 1, config).unwrap();
    assert!(!unknown.is_success());
    assert_eq!(unknown.output(), Some(&revert_reason("AIVM: unknown model")));

    let mut post = state.clone();
    let block_out = executor.execute_block(&mut post, &block, &txs, &ExecOptions::default()).unwrap();
    assert!(block_out.receipts[0].status() && !block_out.receipts[1].status());

    // Without the precompile the address is an empty account: the call succeeds, returns nothing.
    let (_, plain) =
        Executor::new(crate::CHAIN_ID).trace_transaction(state, &block, &txs, 0, config).unwrap();
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

/// Counts interpreter steps and logs.
#[derive(Debug, Default)]
struct Counter {
    steps: usize,
    logs: usize,
}

impl<CTX> revm::Inspector<CTX> for Counter {
    fn step(&mut self, _: &mut revm::interpreter::Interpreter, _: &mut CTX) {
        self.steps += 1;
    }
    fn log(&mut self, _: &mut CTX, _: alloy_primitives::Log) {
        self.logs += 1;
    }
}

#[test]
fn an_inspected_block_has_the_same_outcome_and_sees_every_step() {
    let k = keys(2);
    let genesis = genesis_json(&[k[0].address()], U256::from(10u128.pow(20)), &[]);
    let txs = vec![
        eip1559(&k[0], 0, TxKind::Create, U256::ZERO, crate::anvil_diff::market_token_initcode(), 3_000_000),
        eip1559(&k[0], 1, TxKind::Call(k[1].address()), U256::from(5), Bytes::new(), 21_000),
    ];
    let executor = Executor::new(crate::CHAIN_ID);
    let options = ExecOptions { per_tx_roots: true, ..Default::default() };
    let mut plain_state = State::from_genesis_json(&genesis).unwrap();
    let plain = executor.execute_block(&mut plain_state, &test_block(1), &txs, &options).unwrap();
    let mut counter = Counter::default();
    let mut inspected_state = State::from_genesis_json(&genesis).unwrap();
    let inspected = executor
        .execute_block_inspected(&mut inspected_state, &test_block(1), &txs, &options, &mut counter)
        .unwrap();
    assert_eq!(plain.state_root, inspected.state_root);
    assert_eq!(plain.per_tx_state_roots, inspected.per_tx_state_roots);
    assert_eq!(plain.receipts, inspected.receipts);
    assert!(counter.steps > 100, "the constructor ran under the inspector");
    assert_eq!(counter.logs, 0, "the token's constructor mints nothing");
}
