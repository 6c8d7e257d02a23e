//! The L1 watcher against anvil: deposits, confirmations, reorgs, restarts.

use crate::L1;
use alloy::eips::BlockNumberOrTag;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use temporis_contracts::Portal;
use temporis_deploy::accounts::Role;
use temporis_deploy::l1::provider_for;
use temporis_pipeline::PipelineError;
use temporis_pipeline::l1::watcher::{BlobSchedule, L1Event, L1Watcher, WatcherConfig};
use temporis_pipeline::types::L1Epoch;
use temporis_protocol::deposit::DepositOpaqueData;

const ETH: u64 = 1_000_000_000_000_000_000;

fn watcher(l1: &L1, confirmations: u64, start: u64) -> L1Watcher {
    let cfg = WatcherConfig { confirmations, ..WatcherConfig::new(l1.contracts.portal, start) };
    L1Watcher::connect(&l1.url(), cfg).unwrap()
}

fn epochs(events: &[L1Event]) -> Vec<&L1Epoch> {
    events.iter().filter_map(|e| if let L1Event::Epoch(e) = e { Some(e) } else { None }).collect()
}

fn assert_contiguous(events: &[L1Event], from: u64) {
    let numbers: Vec<u64> = epochs(events).iter().map(|e| e.info.number).collect();
    let expected: Vec<u64> = (from..from + numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "epochs must come in order without gaps");
}

/// A `depositTransaction` (from user1) and a plain ETH send to the portal (from user2), mined in
/// one block; returns its number.
pub(crate) async fn two_deposits_in_one_block(l1: &L1) -> u64 {
    l1.automine(false).await;
    let p1 = provider_for(&l1.url(), Role::User1).unwrap();
    let portal = Portal::new(l1.contracts.portal, &p1);
    let pending1 = portal
        .depositTransaction(
            Address::repeat_byte(0x42),
            U256::from(ETH / 2),
            100_000,
            false,
            Bytes::from_static(b"hi"),
        )
        .value(U256::from(ETH))
        .send()
        .await
        .unwrap();
    let p2 = provider_for(&l1.url(), Role::User2).unwrap();
    let pending2 = p2
        .send_transaction(
            TransactionRequest::default()
                .with_to(l1.contracts.portal)
                .with_value(U256::from(3 * ETH))
                // The deposit's 100 000 L2 gas are paid for by burning as much L1 gas (the
                // portal's deposit gas market at its 1 gwei floor), on top of the send itself.
                .with_gas_limit(200_000),
        )
        .await
        .unwrap();
    l1.mine(1).await;
    l1.automine(true).await;
    let r1 = pending1.get_receipt().await.unwrap();
    let r2 = pending2.get_receipt().await.unwrap();
    assert!(r1.status() && r2.status());
    assert_eq!(r1.block_number, r2.block_number, "both deposits in one block");
    r1.block_number.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_in_log_order_after_confirmations() {
    let l1 = L1::start(&[]).await;
    let mut w = watcher(&l1, 2, 0);
    let block = two_deposits_in_one_block(&l1).await;
    assert_eq!(l1.head().await, block);

    // The deposit block is the head: with two confirmations it is not handed out yet.
    let events = w.poll().await.unwrap();
    assert_contiguous(&events, 0);
    assert_eq!(w.next_block(), block - 1);
    assert!(epochs(&events).iter().all(|e| e.deposits.is_empty()));

    l1.mine(1).await;
    assert!(epochs(&w.poll().await.unwrap()).iter().all(|e| e.info.number < block));
    l1.mine(1).await;
    let events = w.poll().await.unwrap();
    let got = epochs(&events);
    assert_eq!(got.len(), 1);
    let epoch = got[0];
    assert_eq!(epoch.info.number, block);

    // The header fields are the block's.
    let b = l1.provider.get_block_by_number(BlockNumberOrTag::Number(block)).await.unwrap().unwrap();
    assert_eq!(epoch.info.hash, b.header.hash);
    assert_eq!(epoch.info.parent_hash, b.header.parent_hash);
    assert_eq!(epoch.info.timestamp, b.header.timestamp);
    assert_eq!(epoch.info.base_fee, b.header.base_fee_per_gas.unwrap());
    assert!(b.header.excess_blob_gas.is_some(), "anvil's default fork has blobs");
    assert_eq!(epoch.info.blob_base_fee, BlobSchedule::Osaka.blob_base_fee(b.header.excess_blob_gas));

    // Both deposits, in log order, with the portal's fields.
    assert_eq!(epoch.deposits.len(), 2);
    let (d1, d2) = (&epoch.deposits[0], &epoch.deposits[1]);
    assert!(d1.log_index < d2.log_index);
    assert!(d1.l1_block_hash == b.header.hash && d2.l1_block_hash == b.header.hash);
    assert_eq!((d1.from, d1.to), (Role::User1.address(), Address::repeat_byte(0x42)));
    let o1 = DepositOpaqueData::decode(d1.version, &d1.opaque_data).unwrap();
    assert_eq!((o1.mint, o1.value, o1.gas_limit), (U256::from(ETH), U256::from(ETH / 2), 100_000));
    assert_eq!(o1.data, Bytes::from_static(b"hi"));
    // receive(): the sender deposits to itself, mint = value, the portal's default gas.
    assert_eq!((d2.from, d2.to), (Role::User2.address(), Role::User2.address()));
    let o2 = DepositOpaqueData::decode(d2.version, &d2.opaque_data).unwrap();
    assert_eq!(
        (o2.mint, o2.value, o2.gas_limit, o2.is_creation),
        (U256::from(3 * ETH), U256::from(3 * ETH), 100_000, false)
    );
    assert!(o2.data.is_empty());

    // Nothing new: nothing handed out.
    assert!(w.poll().await.unwrap().is_empty());
}

/// Reads the hash of block `n`.
async fn hash_of(l1: &L1, n: u64) -> B256 {
    l1.provider.get_block_by_number(BlockNumberOrTag::Number(n)).await.unwrap().unwrap().header.hash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_by_snapshot_revert_is_reported_then_the_new_branch() {
    let l1 = L1::start(&[]).await;
    l1.mine(3).await;
    let fork = l1.head().await;
    let snapshot: U256 = l1.rpc("evm_snapshot", serde_json::json!([])).await;
    l1.mine(3).await;
    let mut w = watcher(&l1, 0, 0);
    let events = w.poll().await.unwrap();
    assert_contiguous(&events, 0);
    let old_tip = hash_of(&l1, fork + 3).await;
    assert_eq!(w.last_handed(), Some((fork + 3, old_tip)));

    // Revert: the chain is now shorter than what was handed out.
    let reverted: bool = l1.rpc("evm_revert", serde_json::json!([snapshot])).await;
    assert!(reverted);
    assert_eq!(w.poll().await.unwrap(), vec![L1Event::Reorg { to: fork }]);
    assert_eq!(w.next_block(), fork + 1);

    // The new branch (a deposit in it makes its blocks differ from the old ones).
    let block = two_deposits_in_one_block(&l1).await;
    assert_eq!(block, fork + 1);
    l1.mine(3).await;
    let events = w.poll().await.unwrap();
    assert!(!events.iter().any(|e| matches!(e, L1Event::Reorg { .. })));
    assert_contiguous(&events, fork + 1);
    let got = epochs(&events);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].deposits.len(), 2);
    assert_eq!(got[0].info.parent_hash, hash_of(&l1, fork).await);
    assert_ne!(got[2].info.hash, old_tip);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_by_anvil_reorg_replaces_blocks_of_the_same_height() {
    let l1 = L1::start(&[]).await;
    l1.mine(5).await;
    let head = l1.head().await;
    let mut w = watcher(&l1, 0, 0);
    assert_contiguous(&w.poll().await.unwrap(), 0);

    // Replace the last two blocks; the new second-to-last carries a plain deposit.
    let tx = serde_json::json!({
        "from": Role::User3.address(),
        "to": l1.contracts.portal,
        "value": format!("{:#x}", ETH),
        "gas": "0x30d40",
    });
    let _: serde_json::Value = l1.rpc("anvil_reorg", serde_json::json!([2, [[tx, 0]]])).await;
    assert_eq!(l1.head().await, head, "anvil_reorg keeps the height");
    let events = w.poll().await.unwrap();
    assert_eq!(events[0], L1Event::Reorg { to: head - 2 });
    assert_contiguous(&events[1..], head - 1);
    let got = epochs(&events);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].deposits.len(), 1);
    assert_eq!(got[0].deposits[0].from, Role::User3.address());
    assert_eq!(got[1].info.hash, hash_of(&l1, head).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_deeper_than_the_window_names_both_hashes() {
    let l1 = L1::start(&[]).await;
    l1.mine(2).await;
    let snapshot: U256 = l1.rpc("evm_snapshot", serde_json::json!([])).await;
    let fork = l1.head().await;
    l1.mine(4).await;
    let cfg =
        WatcherConfig { confirmations: 0, reorg_window: 2, ..WatcherConfig::new(l1.contracts.portal, 0) };
    let mut w = L1Watcher::connect(&l1.url(), cfg).unwrap();
    assert_contiguous(&w.poll().await.unwrap(), 0);
    let handed = hash_of(&l1, fork + 3).await;

    let _: bool = l1.rpc("evm_revert", serde_json::json!([snapshot])).await;
    two_deposits_in_one_block(&l1).await;
    l1.mine(5).await;
    // Only blocks fork+3 and fork+4 are remembered, and both are gone.
    match w.poll().await {
        Err(PipelineError::ReorgTooDeep { number, handed: h, canonical }) => {
            assert_eq!(number, fork + 3);
            assert_eq!(h, handed);
            assert_eq!(canonical, hash_of(&l1, fork + 3).await);
            assert_ne!(canonical, handed);
        }
        other => panic!("expected ReorgTooDeep, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_from_a_given_block_checks_its_parent() {
    let l1 = L1::start(&[]).await;
    l1.mine(3).await;
    let deposit_block = two_deposits_in_one_block(&l1).await;
    l1.mine(2).await;
    let head = l1.head().await;

    // Resume at the deposit block, knowing its parent (the L2 head's L1 origin).
    let parent = hash_of(&l1, deposit_block - 1).await;
    let cfg = WatcherConfig {
        confirmations: 0,
        start_parent_hash: Some(parent),
        ..WatcherConfig::new(l1.contracts.portal, deposit_block)
    };
    let mut w = L1Watcher::connect(&l1.url(), cfg).unwrap();
    let events = w.poll().await.unwrap();
    assert_contiguous(&events, deposit_block);
    assert_eq!(epochs(&events).len() as u64, head - deposit_block + 1);
    assert_eq!(epochs(&events)[0].deposits.len(), 2);

    // A parent hash the chain does not have: the origin was reorged out while we were away.
    let wrong = B256::repeat_byte(0xab);
    let cfg = WatcherConfig {
        confirmations: 0,
        start_parent_hash: Some(wrong),
        ..WatcherConfig::new(l1.contracts.portal, deposit_block)
    };
    let mut w = L1Watcher::connect(&l1.url(), cfg).unwrap();
    match w.poll().await {
        Err(PipelineError::ReorgTooDeep { number, handed, canonical }) => {
            assert_eq!((number, handed, canonical), (deposit_block - 1, wrong, parent));
        }
        other => panic!("expected ReorgTooDeep, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_above_the_confirmation_depth_is_never_seen() {
    let l1 = L1::start(&[]).await;
    l1.mine(4).await;
    let head = l1.head().await;
    let mut w = watcher(&l1, 2, 0);
    assert_contiguous(&w.poll().await.unwrap(), 0);
    assert_eq!(w.next_block(), head - 1);

    // The two unconfirmed blocks are replaced: nothing handed out changes.
    let tx = serde_json::json!({
        "from": Role::User3.address(),
        "to": l1.contracts.portal,
        "value": format!("{:#x}", ETH),
        "gas": "0x30d40",
    });
    let _: serde_json::Value = l1.rpc("anvil_reorg", serde_json::json!([2, [[tx, 0]]])).await;
    assert!(w.poll().await.unwrap().is_empty());
    l1.mine(2).await;
    let events = w.poll().await.unwrap();
    assert!(!events.iter().any(|e| matches!(e, L1Event::Reorg { .. })), "{events:?}");
    assert_contiguous(&events, head - 1);
    let got = epochs(&events);
    assert_eq!(got[0].info.hash, hash_of(&l1, head - 1).await, "the new branch's block");
    assert_eq!(got[0].deposits.len(), 1);
}
