//! Integration tests of the AIVM, one binary with a module per subject. The execution tests run
//! the STF next to a real anvil (the pinned one in `.tools/bin`) fed the same genesis and the
//! same signed transactions.

mod aivm_support;
mod anvil_diff;
mod cli;
mod deposits;
mod exec_precompiles;
mod inference;
mod kernels;
mod model_format;
mod pack;
mod publish_infer;
mod rejections;
mod shipped_models;
mod state_root;

use std::sync::atomic::{AtomicUsize, Ordering};

use alloy::consensus::transaction::Recovered;
use alloy::consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy::network::TxSignerSync;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use op_alloy_consensus::OpTxEnvelope;
use temporis_aivm::BlockInput;

/// Chain id of the tests (the L2 devnet's).
pub(crate) const CHAIN_ID: u64 = 73_571;
/// Base fee of the genesis block (1 gwei).
pub(crate) const GENESIS_BASE_FEE: u64 = 1_000_000_000;
/// Gas limit of the test blocks.
pub(crate) const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// `n` deterministic test keys (never anvil's dev keys: the genesis is all ours).
pub(crate) fn keys(n: usize) -> Vec<PrivateKeySigner> {
    (1..=n as u64)
        .map(|i| {
            let mut bytes = [0u8; 32];
            bytes[0] = 0x42;
            bytes[24..].copy_from_slice(&i.to_be_bytes());
            PrivateKeySigner::from_bytes(&B256::from(bytes)).expect("valid key")
        })
        .collect()
}

/// A geth-style genesis JSON: `funded` accounts with `balance` each, plus `extra_alloc`
/// entries (already JSON) appended to the alloc.
pub(crate) fn genesis_json(funded: &[Address], balance: U256, extra_alloc: &[String]) -> String {
    let mut alloc: Vec<String> =
        funded.iter().map(|a| format!(r#""{a}":{{"balance":"{balance:#x}"}}"#)).collect();
    alloc.extend(extra_alloc.iter().cloned());
    format!(
        r#"{{"config":{{"chainId":{CHAIN_ID}}},"nonce":"0x0","timestamp":"0x6000000","extraData":"0x",
"gasLimit":"{BLOCK_GAS_LIMIT:#x}","difficulty":"0x0","coinbase":"0x0000000000000000000000000000000000000000",
"mixHash":"0x0000000000000000000000000000000000000000000000000000000000000000",
"baseFeePerGas":"{GENESIS_BASE_FEE:#x}","alloc":{{{}}}}}"#,
        alloc.join(",")
    )
}

/// A real anvil at Osaka started from `genesis` (no dev accounts), mining only on
/// `evm_mine`, ordering transactions first come first served.
pub(crate) fn anvil_with_genesis(genesis: &str) -> AnvilInstance {
    anvil_with_genesis_and(genesis, &[])
}

/// As [`anvil_with_genesis`], with extra command-line arguments.
pub(crate) fn anvil_with_genesis_and(genesis: &str, extra: &[&str]) -> AnvilInstance {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/bin/anvil");
    assert!(std::path::Path::new(path).exists(), "{path} missing: run `make bootstrap`");
    let file = std::env::temp_dir().join(format!(
        "aivm-genesis-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, genesis).expect("write genesis");
    Anvil::at(path)
        .port(0u16)
        .args([
            "--init",
            file.to_str().expect("utf-8 path"),
            "--hardfork",
            "osaka",
            "--accounts",
            "0",
            "--no-mining",
            "--order",
            "fifo",
        ])
        .args(extra.iter().copied())
        .try_spawn()
        .expect("anvil starts")
}

/// Signs an EIP-1559 transaction.
pub(crate) fn eip1559(
    key: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas_limit: u64,
) -> Recovered<OpTxEnvelope> {
    let mut tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 3 * u128::from(GENESIS_BASE_FEE),
        max_priority_fee_per_gas: 1_000_000,
        to,
        value,
        access_list: Default::default(),
        input,
    };
    let sig = key.sign_transaction_sync(&mut tx).expect("sign");
    Recovered::new_unchecked(tx.into_signed(sig).into(), key.address())
}

/// Signs a legacy (EIP-155) transaction.
pub(crate) fn legacy(
    key: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    gas_limit: u64,
) -> Recovered<OpTxEnvelope> {
    let mut tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 2 * u128::from(GENESIS_BASE_FEE),
        gas_limit,
        to,
        value,
        input: Bytes::new(),
    };
    let sig = key.sign_transaction_sync(&mut tx).expect("sign");
    Recovered::new_unchecked(tx.into_signed(sig).into(), key.address())
}

/// A block environment for tests that do not compare with anvil.
pub(crate) fn test_block(number: u64) -> BlockInput {
    BlockInput {
        number,
        timestamp: 0x6000000 + 2 * number,
        beneficiary: Address::repeat_byte(0xc0),
        base_fee: GENESIS_BASE_FEE,
        gas_limit: BLOCK_GAS_LIMIT,
        prevrandao: B256::repeat_byte(0x11),
        parent_hash: B256::repeat_byte(0x22),
    }
}

/// The accounts anvil adds to every genesis: the EIP-2935 history contract (which anvil, like
/// any Prague client, then updates at the start of every block) and the deterministic CREATE2
/// deployer. They are read from anvil and put into `state`, so both start from one state.
pub(crate) async fn add_anvil_predeploys(
    provider: &impl alloy::providers::Provider,
    state: &mut temporis_aivm::State,
) -> eyre::Result<()> {
    use alloy::eips::eip2935::{HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE};
    let create2_deployer = alloy_primitives::address!("4e59b44847b379578588920ca78fbf26c0b4956c");
    for address in [HISTORY_STORAGE_ADDRESS, create2_deployer] {
        let code = provider.get_code_at(address).block_id(0.into()).await?;
        eyre::ensure!(!code.is_empty(), "anvil has no predeploy at {address}");
        if address == HISTORY_STORAGE_ADDRESS {
            eyre::ensure!(code == HISTORY_STORAGE_CODE, "EIP-2935 code differs");
        }
        state.insert_account(address, U256::ZERO, 0, code, []);
    }
    Ok(())
}
