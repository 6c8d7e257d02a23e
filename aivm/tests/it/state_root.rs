//! State roots: the empty root, a genesis root against anvil's proofs, per-transaction roots
//! against replays, and the incremental root against a from-scratch recomputation.

use alloy::providers::{Provider, ProviderBuilder};
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use proptest::prelude::*;
use temporis_aivm::{ExecOptions, Executor, State};

use crate::{eip1559, genesis_json, keys, test_block};

#[test]
fn empty_state_has_the_empty_trie_root() {
    let mut state = State::new();
    assert_eq!(state.state_root(), EMPTY_ROOT_HASH);
    assert_eq!(state.state_root_from_scratch(), EMPTY_ROOT_HASH);
    assert_eq!(State::from_genesis_json("{}").unwrap().state_root(), EMPTY_ROOT_HASH);
}

#[test]
fn bad_genesis_is_an_error() {
    let err = State::from_genesis_json(r#"{"alloc":{"0x12":{"balance":"0x1"}}}"#).unwrap_err();
    assert!(err.to_string().starts_with("bad genesis"), "{err}");
}

#[tokio::test]
async fn genesis_root_with_code_and_storage_matches_anvil() -> eyre::Result<()> {
    let contract = Address::repeat_byte(0xcc);
    let extra = [
        format!(
            r#""{contract}":{{"balance":"0x5","nonce":"0x1","code":"0x60016000f3","storage":{{"0x01":"0x02","0x0100":"0xffff"}}}}"#
        ),
        // Empty but present in the alloc: a genesis keeps it (no transaction touched it).
        format!(r#""{}":{{"balance":"0x0"}}"#, Address::repeat_byte(0xee)),
    ];
    let funded: Vec<Address> = keys(3).iter().map(|k| k.address()).collect();
    let genesis = genesis_json(&funded, U256::from(10u64.pow(18)), &extra);
    let mut state = State::from_genesis_json(&genesis)?;
    let anvil = crate::anvil_with_genesis(&genesis);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    crate::add_anvil_predeploys(&provider, &mut state).await?;
    let proof = provider.get_proof(contract, vec![]).block_id(0.into()).await?;
    assert_eq!(state.state_root(), keccak256(&proof.account_proof[0]));
    assert_eq!(state.storage_root(&contract), proof.storage_hash);
    assert_eq!(state.state_root(), state.state_root_from_scratch());
    Ok(())
}

#[test]
fn per_transaction_roots_equal_replays_of_each_prefix() {
    let k = keys(3);
    let addrs: Vec<Address> = k.iter().map(|s| s.address()).collect();
    let genesis = genesis_json(&addrs, U256::from(10u128.pow(20)), &[]);
    let v = U256::from(10u64.pow(15));
    let txs = vec![
        eip1559(&k[0], 0, TxKind::Call(addrs[1]), v, Bytes::new(), 21_000),
        eip1559(&k[1], 0, TxKind::Call(Address::repeat_byte(9)), v, Bytes::new(), 21_000),
        eip1559(&k[2], 0, TxKind::Create, U256::ZERO, crate::anvil_diff::market_token_initcode(), 3_000_000),
        eip1559(&k[0], 1, TxKind::Call(addrs[2]), v, Bytes::new(), 21_000),
    ];
    let executor = Executor::new(crate::CHAIN_ID);
    let block = test_block(1);
    let mut state = State::from_genesis_json(&genesis).unwrap();
    let options = ExecOptions { per_tx_roots: true, ..Default::default() };
    let out = executor.execute_block(&mut state, &block, &txs, &options).unwrap();
    let roots = out.per_tx_state_roots.clone().unwrap();
    assert_eq!(roots.len(), txs.len());
    assert_eq!(roots.last(), Some(&out.state_root));
    assert_eq!(out.state_root, state.state_root_from_scratch());
    for i in 0..txs.len() {
        let mut replay = State::from_genesis_json(&genesis).unwrap();
        let prefix =
            executor.execute_block(&mut replay, &block, &txs[..=i], &ExecOptions::default()).unwrap();
        assert_eq!(prefix.state_root, roots[i], "root after tx {i}");
    }
    // Roots differ from step to step (each transaction changes the state).
    assert!(roots.windows(2).all(|w| w[0] != w[1]));
}

#[derive(Debug, Clone)]
enum Op {
    Balance(u8, u64),
    Storage(u8, u8, u64),
    Remove(u8),
    Root,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u8>(), any::<u64>()).prop_map(|(a, b)| Op::Balance(a % 32, b)),
        (any::<u8>(), any::<u8>(), 0u64..4).prop_map(|(a, s, v)| Op::Storage(a % 32, s % 16, v)),
        any::<u8>().prop_map(|a| Op::Remove(a % 32)),
        Just(Op::Root),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the updates and wherever roots are taken in between, the incremental root is the
    /// root recomputed from scratch.
    #[test]
    fn incremental_root_equals_full_recompute(ops in proptest::collection::vec(op(), 1..200)) {
        let mut state = State::new();
        for op in ops {
            match op {
                Op::Balance(a, b) => state.set_balance(Address::with_last_byte(a), U256::from(b)),
                Op::Storage(a, s, v) => {
                    state.set_storage(Address::with_last_byte(a), U256::from(s), U256::from(v));
                }
                Op::Remove(a) => {
                    state.remove_account(&Address::with_last_byte(a));
                }
                Op::Root => prop_assert_eq!(state.state_root(), state.state_root_from_scratch()),
            }
        }
        prop_assert_eq!(state.state_root(), state.state_root_from_scratch());
    }
}

#[test]
fn a_blocks_recorded_pre_state_turns_its_post_state_back_into_its_pre_state() {
    let k = keys(3);
    let addrs: Vec<Address> = k.iter().map(|s| s.address()).collect();
    let genesis = genesis_json(&addrs, U256::from(10u128.pow(20)), &[]);
    let v = U256::from(10u64.pow(15));
    let txs = vec![
        eip1559(&k[0], 0, TxKind::Call(addrs[1]), v, Bytes::new(), 21_000),
        eip1559(&k[1], 0, TxKind::Call(Address::repeat_byte(9)), v, Bytes::new(), 21_000),
        // A contract creation: new account, code and storage slots.
        eip1559(&k[2], 0, TxKind::Create, U256::ZERO, crate::anvil_diff::market_token_initcode(), 3_000_000),
    ];
    let executor = Executor::new(crate::CHAIN_ID);
    let mut state = State::from_genesis_json(&genesis).unwrap();
    let pre_root = state.state_root();
    let pristine = state.clone();
    state.record_pre_state();
    let out = executor.execute_block(&mut state, &test_block(1), &txs, &ExecOptions::default()).unwrap();
    let pre = state.take_pre_state();
    assert_ne!(out.state_root, pre_root);
    let token = addrs[2].create(0);
    assert_eq!(pre.account(&token), Some(None), "the token did not exist before");
    assert!(state.storage_slots(&token).count() > 0);
    for a in addrs.iter().chain([&Address::repeat_byte(9)]) {
        assert_eq!(pre.account(a), Some(pristine.account(a)), "{a}");
    }
    state.apply_pre_state(&pre);
    assert_eq!(state.state_root(), pre_root);
    assert_eq!(state.state_root_from_scratch(), pre_root);
    assert_eq!(state.account(&token), None);
}
