//! Derivation against anvil and the local DA backend: what the batcher posted comes back block
//! for block, with origins and deposits; missing or corrupted DA data, a bad batch and an
//! origin that is not on L1 stop it with where and why.

use crate::L1;
use crate::batcher::{MemChain, config, inbox_batches, txmgr};
use crate::watcher::two_deposits_in_one_block;
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{B256, Bytes};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use std::sync::Arc;
use temporis_contracts::BatchInbox;
use temporis_da_adapters::local::DEFAULT_MAX_BLOB_SIZE;
use temporis_da_adapters::{DaBackend, LocalBackend};
use temporis_deploy::accounts::Role;
use temporis_pipeline::batcher::{Batcher, BatcherStep};
use temporis_pipeline::derive::{DeriveConfig, DeriveError, DerivedBatch, Deriver};
use temporis_pipeline::inbox::read_posts;
use temporis_pipeline::l1::txmgr::TxCandidate;
use temporis_pipeline::l1::watcher::{L1Event, L1Watcher, WatcherConfig};
use temporis_protocol::chain::DEVNET_L2_CHAIN_ID;
use temporis_protocol::commitment::Commitment;

struct Setup {
    l1: L1,
    _dir: tempfile::TempDir,
    da: LocalBackend,
    chain: Arc<MemChain>,
    deposit_block: u64,
}

/// An L1 with a deposit block, an L2 of `len` blocks whose origins run over it, and the batcher
/// that posts it in batches of 10.
async fn setup(len: u64) -> Setup {
    let l1 = L1::start(&[]).await;
    let deposit_block = two_deposits_in_one_block(&l1).await;
    l1.mine(3).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, len, 2).await;
    Setup { l1, _dir: dir, da, chain, deposit_block }
}

async fn post_all(s: &Setup) {
    let state = s._dir.path().join("batcher.json");
    let mut b =
        Batcher::new(s.chain.clone(), s.da.clone(), txmgr(&s.l1, Role::Batcher).await, config(&s.l1, &state))
            .unwrap();
    b.reconcile().await.unwrap();
    while let BatcherStep::Posted { .. } = b.tick().await.unwrap() {}
}

fn deriver(s: &Setup) -> Deriver<LocalBackend> {
    let cfg = DeriveConfig {
        confirmations: 0,
        ..DeriveConfig::new(s.l1.contracts.batch_inbox, s.l1.contracts.portal, DEVNET_L2_CHAIN_ID)
    };
    Deriver::new(s.l1.provider.clone(), s.da.clone(), cfg)
}

fn blocks(batches: &[DerivedBatch]) -> Vec<u64> {
    batches.iter().flat_map(|b| b.blocks.iter().map(|x| x.number)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derives_the_posted_chain_with_origins_and_epoch_deposits() {
    let s = setup(32).await;
    post_all(&s).await;
    let mut d = deriver(&s);
    let batches = d.step().await.unwrap();
    assert_eq!(blocks(&batches), (1..=30).collect::<Vec<_>>(), "three full batches; 31..32 wait for a limit");
    assert!(d.step().await.unwrap().is_empty());

    // The deposits the watcher sees in the deposit block.
    let mut w = L1Watcher::connect(
        &s.l1.url(),
        WatcherConfig { confirmations: 0, ..WatcherConfig::new(s.l1.contracts.portal, s.deposit_block) },
    )
    .unwrap();
    let L1Event::Epoch(epoch) = w.poll().await.unwrap().remove(0) else { panic!() };
    assert_eq!(epoch.deposits.len(), 2);

    for batch in &batches {
        assert_eq!(batch.parent_hash, s.chain.block(batch.blocks[0].number - 1).hash);
        for b in &batch.blocks {
            let src = s.chain.block(b.number);
            assert_eq!((b.timestamp, &b.txs), (src.timestamp, &src.txs));
            assert_eq!((b.origin.number, b.origin.hash), (src.l1_origin_number, src.l1_origin_hash));
            let l1b =
                s.l1.provider
                    .get_block_by_number(BlockNumberOrTag::Number(b.origin.number))
                    .await
                    .unwrap()
                    .unwrap();
            assert_eq!(
                (b.origin.timestamp, b.origin.parent_hash),
                (l1b.header.timestamp, l1b.header.parent_hash)
            );
            // Deposits only on the first block of the deposit block's epoch.
            let first_of_epoch = s.chain.block(b.number - 1).l1_origin_number != src.l1_origin_number;
            if first_of_epoch && b.origin.number == s.deposit_block {
                assert_eq!(b.deposits, epoch.deposits, "block {}", b.number);
            } else {
                assert!(b.deposits.is_empty(), "block {} has deposits", b.number);
            }
        }
    }
    assert!(
        batches.iter().flat_map(|b| &b.blocks).any(|b| !b.deposits.is_empty()),
        "the deposit epoch was derived"
    );

    // A follower that waits for confirmations sees nothing yet.
    let cfg = DeriveConfig {
        confirmations: 1_000,
        ..DeriveConfig::new(s.l1.contracts.batch_inbox, s.l1.contracts.portal, DEVNET_L2_CHAIN_ID)
    };
    assert!(Deriver::new(s.l1.provider.clone(), s.da.clone(), cfg).step().await.unwrap().is_empty());
}

/// The path of the local blob behind post `index`.
async fn blob_of_post(s: &Setup, index: usize) -> (std::path::PathBuf, u64, Commitment) {
    let posts = read_posts(&s.l1.provider, s.l1.contracts.batch_inbox, 0, s.l1.head().await).await.unwrap();
    let c = Commitment::from_inbox_payload(&posts[index].payload).unwrap();
    let Commitment::Keccak(hash) = c else { panic!("the local backend commits with keccak") };
    (s.da.blob_path(&hash), posts[index].l1_block, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_corrupted_da_data_stops_with_where_and_why_and_resumes_once_fixed() {
    let s = setup(30).await;
    post_all(&s).await;
    let (path, l1_block, commitment) = blob_of_post(&s, 1).await;
    let original = std::fs::read(&path).unwrap();

    // Missing: the first batch comes out, then the error names the second post.
    std::fs::remove_file(&path).unwrap();
    let mut d = deriver(&s);
    assert_eq!(blocks(&d.step().await.unwrap()), (1..=10).collect::<Vec<_>>());
    match d.step().await {
        Err(DeriveError::DaMissing { l1_block: b, batch_index: 1, commitment: c }) => {
            assert_eq!((b, &c), (l1_block, &commitment));
        }
        other => panic!("expected DaMissing, got {other:?}"),
    }

    // Corrupted: a flipped byte is caught by the commitment check.
    let mut bad = original.clone();
    bad[original.len() / 2] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    let err = d.step().await.unwrap_err();
    assert!(matches!(err, DeriveError::CommitmentMismatch { batch_index: 1, .. }), "{err}");
    assert!(err.to_string().contains("does not match commitment"));

    // Repaired: derivation goes on where it stopped, nothing skipped or read twice.
    std::fs::write(&path, &original).unwrap();
    assert_eq!(blocks(&d.step().await.unwrap()), (11..=30).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_is_not_a_batch_is_a_bad_batch() {
    let s = setup(10).await;
    post_all(&s).await;
    // The batcher key posts a commitment to bytes that are not frames.
    let c = s.da.put(Bytes::from_static(b"\x00not a frame at all")).await.unwrap();
    let tx = txmgr(&s.l1, Role::Batcher).await;
    let call = BatchInbox::postBatchCall { payload: c.to_inbox_payload() };
    let sent = tx
        .send(TxCandidate {
            to: s.l1.contracts.batch_inbox,
            data: Bytes::from(call.abi_encode()),
            ..TxCandidate::default()
        })
        .await
        .unwrap();
    let mut d = deriver(&s);
    assert_eq!(blocks(&d.step().await.unwrap()), (1..=10).collect::<Vec<_>>());
    match d.step().await {
        Err(DeriveError::BadBatch { l1_block, batch_index: 1, reason }) => {
            assert_eq!(l1_block, sent.receipt.block_number.unwrap());
            assert!(!reason.is_empty());
        }
        other => panic!("expected BadBatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_that_is_not_on_l1_is_refused() {
    let s = setup(10).await;
    let wrong = B256::repeat_byte(0xee);
    let real = s.chain.block(10).l1_origin_hash;
    s.chain.blocks.lock().unwrap().get_mut(&10).unwrap().l1_origin_hash = wrong;
    post_all(&s).await;
    assert_eq!(inbox_batches(&s.l1, &s.da).await.0, 1);
    match deriver(&s).step().await {
        Err(DeriveError::OriginMismatch {
            l2_block: 10,
            origin: 2,
            expected,
            actual,
            batch_index: 0,
            ..
        }) => {
            assert_eq!((expected, actual), (wrong, real));
        }
        other => panic!("expected OriginMismatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_follower_skips_the_batches_it_already_has() {
    let s = setup(30).await;
    post_all(&s).await;
    let cfg = DeriveConfig {
        confirmations: 0,
        first_l2_block: 11,
        prev_l1_origin: Some(s.chain.block(10).l1_origin_number),
        ..DeriveConfig::new(s.l1.contracts.batch_inbox, s.l1.contracts.portal, DEVNET_L2_CHAIN_ID)
    };
    let batches = Deriver::new(s.l1.provider.clone(), s.da.clone(), cfg).step().await.unwrap();
    assert_eq!(blocks(&batches), (11..=30).collect::<Vec<_>>());
    assert_eq!(batches[0].parent_hash, s.chain.block(10).hash);
}
