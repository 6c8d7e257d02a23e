//! Throughput of the STF (printed, never asserted): blocks of N ETH transfers, ERC-20 mints and
//! ERC-20 transfers, each timed from the first transaction to the post-state root, on a state
//! that also holds B untouched background accounts (to show that the root's cost follows the
//! keys a block touches, not the size of the state).
//!
//! `cargo bench -p temporis-aivm --bench stf` (release); `AIVM_BENCH_TXS` (default 10000) and
//! `AIVM_BENCH_BACKGROUND` (default "0,100000,1000000", comma-separated) change N and B.

use std::time::Instant;

use alloy::consensus::transaction::Recovered;
use alloy::consensus::{SignableTransaction, TxEip1559};
use alloy::network::TxSignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use op_alloy_consensus::OpTxEnvelope;
use temporis_aivm::{BlockInput, BlockOutcome, ExecOptions, Executor, State};

alloy::sol! {
    contract MarketToken {
        constructor(string name_, string symbol_);
        function mint(address to, uint256 amount) external;
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

const CHAIN_ID: u64 = 73_571;
const BASE_FEE: u64 = 1_000_000_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn key(i: u64) -> PrivateKeySigner {
    let mut bytes = [0u8; 32];
    bytes[0] = 0x42;
    bytes[24..].copy_from_slice(&i.to_be_bytes());
    PrivateKeySigner::from_bytes(&B256::from(bytes)).expect("valid key")
}

fn sign(key: &PrivateKeySigner, nonce: u64, to: TxKind, input: Bytes, gas: u64) -> Recovered<OpTxEnvelope> {
    let mut tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 2 * u128::from(BASE_FEE),
        max_priority_fee_per_gas: 1,
        to,
        value: if input.is_empty() { U256::from(1_000) } else { U256::ZERO },
        access_list: Default::default(),
        input,
    };
    let sig = key.sign_transaction_sync(&mut tx).expect("sign");
    Recovered::new_unchecked(tx.into_signed(sig).into(), key.address())
}

fn block(number: u64) -> BlockInput {
    BlockInput {
        number,
        timestamp: 1_700_000_000 + number,
        beneficiary: Address::repeat_byte(0xc0),
        base_fee: BASE_FEE,
        gas_limit: 4_000_000_000,
        prevrandao: B256::repeat_byte(1),
        parent_hash: B256::repeat_byte(2),
    }
}

fn run(
    name: &str,
    background: usize,
    executor: &Executor,
    state: &mut State,
    number: u64,
    txs: &[Recovered<OpTxEnvelope>],
    options: ExecOptions,
) -> BlockOutcome {
    let start = Instant::now();
    let out = executor.execute_block(state, &block(number), txs, &options).expect("block executes");
    let secs = start.elapsed().as_secs_f64();
    assert!(out.rejected.is_empty(), "{name}: {:?}", out.rejected.first());
    println!(
        "{name:<18} txs={:>6} background={background:>8} gas={:>11} time={:>8.1} ms  {:>7.1} Mgas/s  {:>8.0} tx/s",
        txs.len(),
        out.gas_used,
        secs * 1e3,
        out.gas_used as f64 / secs / 1e6,
        txs.len() as f64 / secs,
    );
    out
}

fn main() {
    let n: u64 = env_or("AIVM_BENCH_TXS", 10_000);
    let backgrounds: Vec<usize> = env_or("AIVM_BENCH_BACKGROUND", "0,100000,1000000".to_string())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let executor = Executor::new(CHAIN_ID);
    let keys: Vec<PrivateKeySigner> = (1..=n).map(key).collect();
    let recipients: Vec<Address> =
        (0..n).map(|i| Address::left_padding_from(&(0xbeef_0000 + i).to_be_bytes())).collect();
    let minter = key(u64::MAX);
    let token = minter.address().create(0);

    let t = Instant::now();
    let transfers: Vec<_> = keys
        .iter()
        .zip(&recipients)
        .map(|(k, to)| sign(k, 0, TxKind::Call(*to), Bytes::new(), 21_000))
        .collect();
    let initcode: Bytes = [
        alloy_primitives::hex::decode(include_str!("../tests/fixtures/MarketToken.bin").trim()).expect("hex"),
        MarketToken::constructorCall::new(("Bench".into(), "BNCH".into())).abi_encode(),
    ]
    .concat()
    .into();
    let mut mints = vec![sign(&minter, 0, TxKind::Create, initcode, 3_000_000)];
    mints.extend(keys.iter().enumerate().map(|(i, k)| {
        let call = MarketToken::mintCall { to: k.address(), amount: U256::from(1_000_000) };
        sign(&minter, i as u64 + 1, TxKind::Call(token), call.abi_encode().into(), 100_000)
    }));
    let erc20: Vec<_> = keys
        .iter()
        .zip(&recipients)
        .map(|(k, to)| {
            let call = MarketToken::transferCall { to: *to, amount: U256::from(10) };
            sign(k, 1, TxKind::Call(token), call.abi_encode().into(), 100_000)
        })
        .collect();
    eprintln!(
        "signed {} transactions in {:.1} s",
        transfers.len() + mints.len() + erc20.len(),
        t.elapsed().as_secs_f64()
    );

    for &background in &backgrounds {
        let t = Instant::now();
        let mut state = State::new();
        for k in &keys {
            state.set_balance(k.address(), U256::from(10u128.pow(20)));
        }
        state.set_balance(minter.address(), U256::from(10u128.pow(20)));
        for i in 0..background as u64 {
            state.set_balance(
                Address::left_padding_from(&(0x1000_0000_0000 + i).to_be_bytes()),
                U256::from(i + 1),
            );
        }
        let genesis_root = state.state_root();
        eprintln!(
            "state of {} accounts, root {genesis_root} in {:.1} s",
            state.len(),
            t.elapsed().as_secs_f64()
        );

        let plain = ExecOptions::default();
        let per_tx = ExecOptions { per_tx_roots: true, ..Default::default() };
        // The prover's mode (a root after every transaction), on a copy of the same pre-state.
        let mut copy = state.clone();
        run("eth-transfer+roots", background, &executor, &mut copy, 1, &transfers, per_tx);
        drop(copy);
        // The root alone: the accounts an ETH-transfer block changes (senders, recipients),
        // set directly on another copy, then one state root.
        let mut copy = state.clone();
        for (k, to) in keys.iter().zip(&recipients) {
            copy.set_balance(k.address(), U256::from(1));
            copy.set_balance(*to, U256::from(1));
        }
        let t = Instant::now();
        let _ = copy.state_root();
        println!(
            "{:<18} keys={:>6} background={background:>8} time={:>8.1} ms",
            "state-root-only",
            2 * keys.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        drop(copy);
        // The same block once `L1Block` holds L1 values (as after an L1 attributes deposit):
        // every transfer then also pays the L1 data fee (FastLZ of its bytes, two balance
        // writes), which this line shows the cost of.
        let mut copy = state.clone();
        let l1_block = temporis_protocol::chain::L1_BLOCK_PREDEPLOY;
        copy.insert_account(l1_block, U256::ZERO, 1, Bytes::from_static(&[0]), []);
        let scalars = (U256::from(810_949u64) << 64) | (U256::from(1368u64) << 96);
        copy.set_storage(l1_block, temporis_aivm::l1fee::L1_FEE_SCALARS_SLOT, scalars);
        copy.set_storage(l1_block, temporis_aivm::l1fee::L1_BASE_FEE_SLOT, U256::from(20_000_000_000u64));
        copy.set_storage(l1_block, temporis_aivm::l1fee::L1_BLOB_BASE_FEE_SLOT, U256::from(3_000_000_000u64));
        let out = run("eth-transfer+l1fee", background, &executor, &mut copy, 1, &transfers, plain);
        assert!(out.l1_fee_per_tx.iter().all(|fee| !fee.is_zero()));
        drop(copy);
        run("eth-transfer", background, &executor, &mut state, 1, &transfers, plain);
        run("erc20-mint", background, &executor, &mut state, 2, &mints, plain);
        let out = run("erc20-transfer", background, &executor, &mut state, 3, &erc20, plain);
        // The incremental root is the real one (checked once, outside the timing).
        if background <= 100_000 {
            assert_eq!(out.state_root, state.state_root_from_scratch());
        }
    }
}
