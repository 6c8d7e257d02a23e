//! The transaction manager against anvil: confirmations, stuck transactions re-sent with bumped
//! fees at the same nonce, nonce resync, reverts and the fee cap.

use crate::L1;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use std::sync::Arc;
use std::time::Duration;
use temporis_contracts::BatchInbox;
use temporis_deploy::accounts::Role;
use temporis_deploy::l1::provider_for;
use temporis_pipeline::l1::txmgr::{TxCandidate, TxError, TxManager, TxManagerConfig};

const GWEI: u128 = 1_000_000_000;

fn fast_config() -> TxManagerConfig {
    TxManagerConfig {
        num_confirmations: 1,
        resubmission_timeout: Duration::from_secs(1),
        poll_interval: Duration::from_millis(100),
        ..TxManagerConfig::default()
    }
}

async fn manager(l1: &L1, role: Role, config: TxManagerConfig) -> TxManager {
    TxManager::new(l1.provider.clone(), role.signer(), config).await.unwrap()
}

fn transfer(to: Address, wei: u64) -> TxCandidate {
    TxCandidate { to, value: U256::from(wei), ..TxCandidate::default() }
}

/// Mines a block every `every` until the returned handle is aborted.
fn miner(l1: &L1, every: Duration) -> tokio::task::JoinHandle<()> {
    let p = l1.provider.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let _: Result<serde_json::Value, _> =
                p.raw_request("anvil_mine".into(), serde_json::json!([1])).await;
        }
    })
}

async fn nonce_of(l1: &L1, who: Address) -> u64 {
    l1.provider.get_transaction_count(who).latest().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirms_with_the_configured_depth_and_counts_nonces() {
    let l1 = L1::start(&[]).await;
    // Deploy with automine, then stop mining: blocks come only from `anvil_mine`.
    l1.automine(false).await;
    let m = manager(&l1, Role::Batcher, TxManagerConfig { num_confirmations: 3, ..fast_config() }).await;
    let mining = miner(&l1, Duration::from_millis(150));
    let to = Address::repeat_byte(0x77);
    let first = m.send(transfer(to, 1_000)).await.unwrap();
    let head = l1.head().await;
    let block = first.receipt.block_number.unwrap();
    assert!(head + 1 >= block + 3, "returned with {} confirmations", head + 1 - block);
    assert_eq!(first.attempts.len(), 1);
    let second = m.send(transfer(to, 2_000)).await.unwrap();
    mining.abort();
    assert_eq!(second.nonce, first.nonce + 1);
    assert_eq!(l1.provider.get_balance(to).await.unwrap(), U256::from(3_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_transaction_is_resent_with_bumped_fees_at_the_same_nonce() {
    let l1 = L1::start(&[]).await;
    // Deploy with automine, then stop mining: blocks come only from `anvil_mine`.
    l1.automine(false).await;
    let m = Arc::new(manager(&l1, Role::Proposer, fast_config()).await);
    let nonce_before = nonce_of(&l1, Role::Proposer.address()).await;
    let to = Address::repeat_byte(0x55);
    let send = {
        let m = m.clone();
        tokio::spawn(async move { m.send(transfer(to, 12_345)).await })
    };

    // Wait until the first version is in the pool, then make the next block's base fee far
    // above what it offered and mine that block: the transaction stays out.
    for _ in 0..50 {
        let status: serde_json::Value = l1.rpc("txpool_status", serde_json::json!([])).await;
        if status["pending"].as_str().is_some_and(|s| s != "0x0")
            || status["pending"].as_u64().is_some_and(|n| n > 0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let spike = 500 * GWEI;
    let _: serde_json::Value =
        l1.rpc("anvil_setNextBlockBaseFeePerGas", serde_json::json!([format!("{spike:#x}")])).await;
    l1.mine(1).await;
    assert_eq!(nonce_of(&l1, Role::Proposer.address()).await, nonce_before, "spiked block left it out");

    // Blocks keep coming; the manager re-sends until its offer clears the base fee.
    let mining = miner(&l1, Duration::from_millis(300));
    let sent = tokio::time::timeout(Duration::from_secs(60), send).await.unwrap().unwrap().unwrap();
    mining.abort();

    assert_eq!(sent.nonce, nonce_before);
    assert!(sent.attempts.len() >= 2, "re-sent at least once: {:?}", sent.attempts);
    for pair in sent.attempts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(b.max_fee_per_gas * 100 >= a.max_fee_per_gas * 110, "max fee bumped ≥ 10 %: {a:?} → {b:?}");
        assert!(b.max_priority_fee_per_gas * 100 >= a.max_priority_fee_per_gas * 110, "tip bumped ≥ 10 %");
        assert_ne!(a.hash, b.hash);
    }
    let mined = sent.receipt.transaction_hash;
    assert!(sent.attempts.iter().any(|a| a.hash == mined));
    assert_ne!(mined, sent.attempts[0].hash, "the first version could not pay the spiked base fee");
    // The first offer was below the spike; the mined one paid the (decaying) spiked base fee.
    assert!(sent.attempts[0].max_fee_per_gas < spike);
    let block =
        l1.provider.get_block_by_number(sent.receipt.block_number.unwrap().into()).await.unwrap().unwrap();
    let base_fee = u128::from(block.header.base_fee_per_gas.unwrap());
    assert!(base_fee > sent.attempts[0].max_fee_per_gas, "still spiked when mined: {base_fee}");
    assert!(sent.receipt.effective_gas_price >= base_fee);
    let tx = l1.provider.get_transaction_by_hash(mined).await.unwrap().unwrap();
    assert_eq!(alloy::consensus::Transaction::nonce(&tx), nonce_before);
    // One transfer, one nonce used.
    assert_eq!(nonce_of(&l1, Role::Proposer.address()).await, nonce_before + 1);
    assert_eq!(l1.provider.get_balance(to).await.unwrap(), U256::from(12_345));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_used_by_someone_else_is_resynced() {
    let l1 = L1::start(&[]).await;
    let m = manager(&l1, Role::User4, fast_config()).await;
    let to = Address::repeat_byte(0x66);
    let first = m.send(transfer(to, 1)).await.unwrap();
    // Another process sends with the same key: the manager's counted nonce is now stale.
    let other = provider_for(&l1.url(), Role::User4).unwrap();
    other
        .send_transaction(TransactionRequest::default().with_to(to).with_value(U256::from(10)))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let second = m.send(transfer(to, 100)).await.unwrap();
    assert_eq!(second.nonce, first.nonce + 2);
    assert_eq!(l1.provider.get_balance(to).await.unwrap(), U256::from(111));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverts_estimation_failures_and_the_fee_cap_are_typed() {
    let l1 = L1::start(&[]).await;
    // postBatch from someone who is not the batcher reverts.
    let data =
        Bytes::from(BatchInbox::postBatchCall { payload: Bytes::from_static(&[1, 1, 0xee, 1]) }.abi_encode());
    let call = TxCandidate { to: l1.contracts.batch_inbox, data, ..TxCandidate::default() };
    let m = manager(&l1, Role::User5, fast_config()).await;
    assert!(matches!(m.send(call.clone()).await, Err(TxError::Estimate(_))));
    let with_gas = TxCandidate { gas_limit: Some(100_000), ..call };
    match m.send(with_gas).await {
        Err(TxError::Reverted { tx, block }) => {
            let r = l1.provider.get_transaction_receipt(tx).await.unwrap().unwrap();
            assert!(!r.status());
            assert_eq!(r.block_number, Some(block));
        }
        other => panic!("expected Reverted, got {other:?}"),
    }

    let capped =
        manager(&l1, Role::User5, TxManagerConfig { max_fee_per_gas_cap: Some(1), ..fast_config() }).await;
    assert!(matches!(
        capped.send(transfer(Address::repeat_byte(1), 1)).await,
        Err(TxError::FeeCapExceeded { cap: 1, .. })
    ));
    // A bump below what pools accept is refused up front.
    let err = TxManager::new(
        l1.provider.clone(),
        Role::User5.signer(),
        TxManagerConfig { fee_bump_percent: 5, ..fast_config() },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TxError::Config(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_manager_replaces_what_the_previous_one_left_in_the_pool() {
    let l1 = L1::start(&[]).await;
    l1.automine(false).await;
    let nonce_before = nonce_of(&l1, Role::Batcher.address()).await;
    // A first process publishes and dies before its transaction is mined.
    let first = Arc::new(manager(&l1, Role::Batcher, fast_config()).await);
    let dead = {
        let m = first.clone();
        tokio::spawn(async move { m.send(transfer(Address::repeat_byte(0x01), 1)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    dead.abort();
    let _ = dead.await;

    // Its successor starts at the chain's nonce: same nonce, so the pool wants a bump to replace.
    let second = manager(&l1, Role::Batcher, fast_config()).await;
    let mining = {
        let p = l1.provider.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            loop {
                let _: Result<serde_json::Value, _> =
                    p.raw_request("anvil_mine".into(), serde_json::json!([1])).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let sent = second.send(transfer(Address::repeat_byte(0x02), 2)).await.unwrap();
    mining.abort();
    assert_eq!(sent.nonce, nonce_before);
    assert_eq!(nonce_of(&l1, Role::Batcher.address()).await, nonce_before + 1);
    assert_eq!(l1.provider.get_balance(Address::repeat_byte(0x02)).await.unwrap(), U256::from(2));
    assert_eq!(
        l1.provider.get_balance(Address::repeat_byte(0x01)).await.unwrap(),
        U256::ZERO,
        "replaced, never mined"
    );
}
