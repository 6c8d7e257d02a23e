//! The batcher against anvil and the local DA backend: limits, multi-frame channels, and the
//! crash cases of its state machine.

use crate::L1;
use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy::providers::Provider;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use temporis_batch::{Batch, ChannelConfig, ChannelReader, DecodeLimits};
use temporis_da_adapters::local::DEFAULT_MAX_BLOB_SIZE;
use temporis_da_adapters::{DaBackend, LocalBackend};
use temporis_deploy::accounts::Role;
use temporis_pipeline::SourceError;
use temporis_pipeline::batcher::{
    BatchInput, Batcher, BatcherConfig, BatcherState, BatcherStep, BlockSource,
};
use temporis_pipeline::inbox::read_posts;
use temporis_pipeline::l1::txmgr::{TxManager, TxManagerConfig};
use temporis_protocol::chain::DEVNET_L2_CHAIN_ID;
use temporis_protocol::commitment::Commitment;

/// An L2 chain in memory: signed transfers, origins on the test's real L1.
#[derive(Debug, Default)]
pub(crate) struct MemChain {
    pub(crate) head: AtomicU64,
    pub(crate) blocks: Mutex<BTreeMap<u64, BatchInput>>,
}

impl MemChain {
    /// Blocks `0..=len`, `txs` transfers each; block `n`'s origin is L1 block `n / 4` (clamped
    /// to the L1 head), with its real hash. All blocks are available (head = `len`).
    pub(crate) async fn build(l1: &L1, len: u64, txs: usize) -> Arc<Self> {
        let l1_head = l1.head().await;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let signer = Role::User1.signer();
        let mut nonce = 0;
        let mut blocks = BTreeMap::new();
        let mut parent = B256::ZERO;
        for n in 0..=len {
            let origin = (n / 4).min(l1_head);
            let origin_hash = l1
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(origin))
                .await
                .unwrap()
                .unwrap()
                .header
                .hash;
            let mut list = Vec::new();
            if n > 0 {
                for i in 0..txs {
                    let mut tx = TxEip1559 {
                        chain_id: DEVNET_L2_CHAIN_ID,
                        nonce,
                        gas_limit: 21_000,
                        max_fee_per_gas: 2_000_000_000,
                        max_priority_fee_per_gas: 1_000_000,
                        to: TxKind::Call(Address::repeat_byte((i % 200) as u8 + 1)),
                        value: U256::from(1_000 + n),
                        ..TxEip1559::default()
                    };
                    nonce += 1;
                    let sig = signer.sign_transaction_sync(&mut tx).unwrap();
                    list.push(Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718()));
                }
            }
            let hash = keccak256(format!("l2 block {n}"));
            blocks.insert(
                n,
                BatchInput {
                    number: n,
                    hash,
                    parent_hash: parent,
                    timestamp: now - 100 + n,
                    l1_origin_number: origin,
                    l1_origin_hash: origin_hash,
                    txs: list,
                },
            );
            parent = hash;
        }
        Arc::new(Self { head: AtomicU64::new(len), blocks: Mutex::new(blocks) })
    }

    pub(crate) fn block(&self, n: u64) -> BatchInput {
        self.blocks.lock().unwrap()[&n].clone()
    }
}

impl BlockSource for MemChain {
    async fn head(&self) -> Result<u64, SourceError> {
        Ok(self.head.load(Ordering::SeqCst))
    }
    async fn batch_block(&self, n: u64) -> Result<BatchInput, SourceError> {
        self.blocks.lock().unwrap().get(&n).cloned().ok_or_else(|| format!("no block {n}").into())
    }
}

pub(crate) fn config(l1: &L1, state: &Path) -> BatcherConfig {
    BatcherConfig {
        max_blocks: 10,
        max_channel_age: Duration::from_secs(3600),
        interval: Duration::from_millis(100),
        ..BatcherConfig::new(l1.contracts.batch_inbox, DEVNET_L2_CHAIN_ID, state.to_path_buf())
    }
}

pub(crate) async fn txmgr(l1: &L1, role: Role) -> Arc<TxManager> {
    let cfg = TxManagerConfig {
        poll_interval: Duration::from_millis(50),
        resubmission_timeout: Duration::from_secs(2),
        ..TxManagerConfig::default()
    };
    Arc::new(TxManager::new(l1.provider.clone(), role.signer(), cfg).await.unwrap())
}

/// Everything on the inbox, read back like a follower would: `(posts, batches)`.
pub(crate) async fn inbox_batches(l1: &L1, da: &LocalBackend) -> (usize, Vec<Batch>) {
    let head = l1.head().await;
    let posts = read_posts(&l1.provider, l1.contracts.batch_inbox, 0, head).await.unwrap();
    let mut reader = ChannelReader::new(DecodeLimits::new(DEVNET_L2_CHAIN_ID));
    let mut batches = Vec::new();
    for (i, p) in posts.iter().enumerate() {
        assert_eq!(p.batch_index, i as u64, "inbox indexes run from 0 without gaps");
        let c = Commitment::from_inbox_payload(&p.payload).unwrap();
        let data = da.get(&c).await.unwrap();
        batches.extend(reader.push(&data).unwrap());
    }
    (posts.len(), batches)
}

fn ranges(batches: &[Batch]) -> Vec<(u64, u64)> {
    batches.iter().map(|b| (b.blocks[0].number, b.blocks.last().unwrap().number)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_batches_on_count_size_and_age_limits() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 25, 3).await;
    let state = dir.path().join("batcher.json");
    let tx = txmgr(&l1, Role::Batcher).await;

    let mut b = Batcher::new(chain.clone(), da.clone(), tx.clone(), config(&l1, &state)).unwrap();
    let mut safe = b.subscribe_safe_head();
    b.reconcile().await.unwrap();
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 1, to: 10, frames: 1 });
    assert_eq!(*safe.borrow_and_update(), Some(10));
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 11, to: 20, frames: 1 });
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Idle { waiting: 5 });

    // Size: two blocks' transaction bytes close the batch.
    let two_blocks: usize = [21, 22].iter().flat_map(|&n| chain.block(n).txs).map(|t| t.len()).sum();
    let mut b = Batcher::new(
        chain.clone(),
        da.clone(),
        tx.clone(),
        BatcherConfig { max_channel_size: two_blocks, ..config(&l1, &state) },
    )
    .unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 21, to: 22, frames: 1 });

    // Age: the first waiting block is older than the limit, so all waiting blocks go.
    let mut b = Batcher::new(
        chain.clone(),
        da.clone(),
        tx.clone(),
        BatcherConfig { max_channel_age: Duration::from_secs(10), ..config(&l1, &state) },
    )
    .unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 23, to: 25, frames: 1 });
    assert_eq!(b.safe_head(), Some(25));
    assert_eq!(BatcherState::load(&state).unwrap().covered, Some(25));

    let (posts, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(posts, 4);
    assert_eq!(ranges(&batches), vec![(1, 10), (11, 20), (21, 22), (23, 25)]);
    // The batches carry the blocks as the source gave them.
    let b0 = &batches[0];
    assert_eq!(b0.parent_hash, chain.block(0).hash);
    assert_eq!(b0.l1_origin_hash, chain.block(10).l1_origin_hash);
    for blk in batches.iter().flat_map(|b| &b.blocks) {
        let src = chain.block(blk.number);
        assert_eq!(
            (blk.timestamp, blk.l1_origin_number, &blk.txs),
            (src.timestamp, src.l1_origin_number, &src.txs)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_of_several_frames_posts_each_frame_in_order() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 10, 5).await;
    let state = dir.path().join("batcher.json");
    let cfg = BatcherConfig {
        channel: ChannelConfig::new(DEVNET_L2_CHAIN_ID).with_max_payload_size(300),
        ..config(&l1, &state)
    };
    let mut b = Batcher::new(chain.clone(), da.clone(), txmgr(&l1, Role::Batcher).await, cfg).unwrap();
    b.reconcile().await.unwrap();
    let BatcherStep::Posted { from: 1, to: 10, frames } = b.tick().await.unwrap() else { panic!() };
    assert!(frames > 1, "{frames} frames");
    let (posts, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(posts, frames);
    assert_eq!(ranges(&batches), vec![(1, 10)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_around_the_da_put_and_the_post_neither_skip_nor_duplicate() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 30, 2).await;
    let state = dir.path().join("batcher.json");

    // 1. The post fails after the DA put (here: a key the inbox refuses) — as a crash between
    //    the two would leave it: the state has the commitment, nothing is on L1.
    let mut b =
        Batcher::new(chain.clone(), da.clone(), txmgr(&l1, Role::User2).await, config(&l1, &state)).unwrap();
    b.reconcile().await.unwrap();
    assert!(b.tick().await.is_err());
    let after_put = BatcherState::load(&state).unwrap();
    let pending = after_put.pending.clone().expect("pending batch");
    assert_eq!((pending.from, pending.to), (1, 10));
    assert!(pending.frames[0].commitment.is_some() && !pending.frames[0].posted);
    assert_eq!(inbox_batches(&l1, &da).await.0, 0);

    // Restart with the batcher's key: the pending batch is posted, with the stored commitment.
    let tx = txmgr(&l1, Role::Batcher).await;
    let mut b = Batcher::new(chain.clone(), da.clone(), tx.clone(), config(&l1, &state)).unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 1, to: 10, frames: 1 });
    let posts = read_posts(&l1.provider, l1.contracts.batch_inbox, 0, l1.head().await).await.unwrap();
    assert_eq!(
        posts[0].payload,
        Commitment::decode(&alloy::hex::decode(pending.frames[0].commitment.as_ref().unwrap()).unwrap())
            .unwrap()
            .to_inbox_payload()
    );

    // 2. Crash after the post was mined, before the state said so: the old state comes back.
    after_put.store(&state).unwrap();
    let mut b = Batcher::new(chain.clone(), da.clone(), tx.clone(), config(&l1, &state)).unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.state().pending, None, "the inbox shows the pending batch posted");
    assert_eq!(b.safe_head(), Some(10));
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 11, to: 20, frames: 1 });

    // 3. The state file is lost altogether: the inbox alone says where to go on.
    std::fs::remove_file(&state).unwrap();
    let mut b = Batcher::new(chain.clone(), da.clone(), tx.clone(), config(&l1, &state)).unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.safe_head(), Some(20));
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 21, to: 30, frames: 1 });

    let (posts, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(posts, 3, "one post per batch");
    assert_eq!(ranges(&batches), vec![(1, 10), (11, 20), (21, 30)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_left_in_the_pool_by_a_crash_is_not_posted_twice() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 10, 2).await;
    let state = dir.path().join("batcher.json");
    l1.automine(false).await;

    // A first run publishes its post and dies before it is mined.
    let first = {
        let (chain, da, state) = (chain.clone(), da.clone(), state.clone());
        let tx = txmgr(&l1, Role::Batcher).await;
        let cfg = config(&l1, &state);
        tokio::spawn(async move {
            let mut b = Batcher::new(chain, da, tx, cfg).unwrap();
            b.reconcile().await.unwrap();
            b.tick().await
        })
    };
    for _ in 0..100 {
        let status: serde_json::Value = l1.rpc("txpool_status", serde_json::json!([])).await;
        if status["pending"] != serde_json::json!("0x0") && status["pending"] != serde_json::json!(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.abort();
    let _ = first.await;

    // The second run scans the inbox (nothing yet), then the old post is mined.
    let mut b = Batcher::new(chain.clone(), da.clone(), txmgr(&l1, Role::Batcher).await, config(&l1, &state))
        .unwrap();
    b.reconcile().await.unwrap();
    assert_eq!(b.safe_head(), None);
    l1.mine(1).await;
    l1.automine(true).await;

    // Its post hits "nonce too low", it looks again, finds the batch and does not re-post.
    assert_eq!(b.tick().await.unwrap(), BatcherStep::Posted { from: 1, to: 10, frames: 1 });
    assert_eq!(b.safe_head(), Some(10));
    let (posts, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(posts, 1);
    assert_eq!(ranges(&batches), vec![(1, 10)]);
}

/// A DA backend that refuses puts after the first `allowed` ones (a crash mid-channel).
#[derive(Debug, Clone)]
struct FailingDa {
    inner: LocalBackend,
    allowed: Arc<AtomicU64>,
}

impl DaBackend for FailingDa {
    async fn put(&self, data: Bytes) -> temporis_da_adapters::Result<Commitment> {
        if self.allowed.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err() {
            return Err(temporis_da_adapters::DaError::Task("injected failure".into()));
        }
        self.inner.put(data).await
    }
    async fn get(&self, c: &Commitment) -> temporis_da_adapters::Result<Bytes> {
        self.inner.get(c).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_cut_short_mid_frames_resumes_with_the_missing_frames_only() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 10, 5).await;
    let state = dir.path().join("batcher.json");
    let cfg = BatcherConfig {
        channel: ChannelConfig::new(DEVNET_L2_CHAIN_ID).with_max_payload_size(300),
        ..config(&l1, &state)
    };
    let tx = txmgr(&l1, Role::Batcher).await;

    // Two frames are put and posted, then the DA fails.
    let failing = FailingDa { inner: da.clone(), allowed: Arc::new(AtomicU64::new(2)) };
    let mut b = Batcher::new(chain.clone(), failing, tx.clone(), cfg.clone()).unwrap();
    b.reconcile().await.unwrap();
    assert!(b.tick().await.is_err());
    let pending = BatcherState::load(&state).unwrap().pending.unwrap();
    let posted: Vec<bool> = pending.frames.iter().map(|f| f.posted).collect();
    assert!(posted.len() > 2 && posted[..2] == [true, true] && posted[2..].iter().all(|p| !p));
    assert_eq!(inbox_batches(&l1, &da).await, (2, vec![]));

    // Restarted (from a state that does not even know frame 1 was posted): the inbox says it
    // was; only the frames still missing are put and posted.
    // (That is the state written after frame 0: frame 1 not posted, inbox read up to frame 0.)
    let posts = read_posts(&l1.provider, l1.contracts.batch_inbox, 0, l1.head().await).await.unwrap();
    let mut older = BatcherState::load(&state).unwrap();
    older.pending.as_mut().unwrap().frames[1].posted = false;
    older.scanned_l1 = Some(posts[0].l1_block);
    older.store(&state).unwrap();
    let mut b = Batcher::new(chain.clone(), da.clone(), tx, cfg).unwrap();
    b.reconcile().await.unwrap();
    assert!(b.state().pending.as_ref().unwrap().frames[1].posted);
    let BatcherStep::Posted { from: 1, to: 10, frames } = b.tick().await.unwrap() else { panic!() };
    assert_eq!(frames, posted.len());
    let (posts, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(posts, frames, "every frame exactly once");
    assert_eq!(ranges(&batches), vec![(1, 10)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_loop_posts_batches_as_blocks_arrive_and_stops_on_shutdown() {
    let l1 = L1::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let da = LocalBackend::open(dir.path().join("da"), DEFAULT_MAX_BLOB_SIZE).unwrap();
    let chain = MemChain::build(&l1, 25, 1).await;
    chain.head.store(12, Ordering::SeqCst);
    let state = dir.path().join("batcher.json");
    // The blocks are 100 s old: with a 50 s age limit every waiting block goes at once.
    let cfg = BatcherConfig { max_channel_age: Duration::from_secs(50), ..config(&l1, &state) };
    let mut b = Batcher::new(chain.clone(), da.clone(), txmgr(&l1, Role::Batcher).await, cfg).unwrap();
    let mut safe = b.subscribe_safe_head();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        b.run(async {
            let _ = stopped.await;
        })
        .await;
    });
    let wait_for = |target: u64, safe: &mut tokio::sync::watch::Receiver<Option<u64>>| {
        let mut safe = safe.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(30), safe.wait_for(|s| s.is_some_and(|s| s >= target)))
                .await
                .expect("safe head reached in time")
                .unwrap();
        }
    };
    wait_for(12, &mut safe).await;
    chain.head.store(25, Ordering::SeqCst);
    wait_for(25, &mut safe).await;
    stop.send(()).unwrap();
    run.await.unwrap();
    let (_, batches) = inbox_batches(&l1, &da).await;
    assert_eq!(ranges(&batches), vec![(1, 10), (11, 12), (13, 22), (23, 25)]);
}
