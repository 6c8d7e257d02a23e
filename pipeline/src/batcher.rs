//! The batcher: L2 blocks → channel → DA → `BatchInbox` commitment.
//!
//! # What it does
//! [`Batcher::tick`] collects the L2 blocks after the last covered one from a [`BlockSource`],
//! and closes a batch when one of the limits of [`BatcherConfig`] is reached: `max_blocks`
//! blocks, `max_channel_size` bytes of transactions, or a first block older than
//! `max_channel_age`. The batch is encoded with `temporis-batch` into one channel cut into
//! frames (DA payloads); each payload is put to the DA backend and its commitment posted to
//! `BatchInbox.postBatch(0x01 ‖ commitment)` through the [`TxManager`], in frame order. Once
//! every post of the batch is confirmed, its last block is the **safe head**.
//!
//! # Restart safety
//! The L1 inbox is the source of truth; a small state file (JSON, replaced by write + fsync +
//! atomic rename) records progress so a restart does not re-read the whole inbox and resumes a
//! half-posted batch:
//! - `covered`: the highest L2 block whose batch is fully posted and confirmed, with the L1 block
//!   through which the inbox was read at that time (`scanned_l1`);
//! - `pending`: the batch in flight: its L2 range, its channel id and, per frame, the
//!   commitment of its DA put (once put) and whether its post is confirmed.
//!
//! On start, [`Batcher::reconcile`] reads every `BatchPosted` event after `scanned_l1`, fetches
//! each payload from DA and decodes its frames: complete channels move `covered` up, and frames
//! of the pending channel that are on L1 are marked posted. So:
//! - crash after a DA put, before the post: the commitment (or, if the state was not written
//!   yet, a new put of the same bytes) is posted on restart — nothing is skipped;
//! - crash after a post was mined, before the state write: the scan finds the post — it is not
//!   posted again;
//! - crash while a post was in the pool: the batcher reads its key's nonce *before* scanning
//!   and posts at exactly that nonce, so the re-post and the old one compete for one nonce and
//!   the pool keeps one of them; if the old one was mined after the scan, the node answers
//!   "nonce too low" ([`TxError::NonceTaken`]) and the batcher scans again instead of sending at
//!   a new nonce.
//!
//! Re-encoding the same blocks gives the same channel (the channel id is the hash of its
//! content), so a resumed batch's frames are byte-identical to the ones first put; the batcher
//! checks the id and refuses to go on if the source's blocks changed.

use crate::error::{PipelineError, Result, SourceError};
use crate::inbox::read_posts;
use crate::l1::txmgr::{TxCandidate, TxError, TxManager};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use temporis_batch::frame::parse_payload;
use temporis_batch::{Batch, BatchBlock, BatchError, ChannelConfig, ChannelReader, DecodeLimits};
use temporis_contracts::BatchInbox;
use temporis_da_adapters::{DaBackend, DaError};
use temporis_protocol::commitment::Commitment;
use tokio::sync::watch;
use tracing::{debug, info, warn};

/// Most L2 blocks in one batch.
pub const DEFAULT_MAX_BLOCKS: u64 = 100;
/// Transaction bytes (uncompressed) at which a batch is closed; the compressed channel is
/// smaller, so it also bounds the channel.
pub const DEFAULT_MAX_CHANNEL_SIZE: usize = 1_000_000;
/// Age of a batch's first block at which the batch is closed however small.
pub const DEFAULT_MAX_CHANNEL_AGE: Duration = Duration::from_secs(10);
/// Time between ticks of [`Batcher::run`] when nothing was posted.
pub const DEFAULT_BATCHER_INTERVAL: Duration = Duration::from_secs(1);
/// The first L2 block batched (block 0 is the genesis, known to everyone).
pub const DEFAULT_FIRST_BLOCK: u64 = 1;

/// One L2 block as the batcher needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInput {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Timestamp, seconds.
    pub timestamp: u64,
    /// L1 origin number.
    pub l1_origin_number: u64,
    /// L1 origin hash.
    pub l1_origin_hash: B256,
    /// Non-deposit transactions, EIP-2718 encoded, in block order.
    pub txs: Vec<Bytes>,
}

/// The L2 side the batcher reads (the sequencer implements it).
pub trait BlockSource: Send + Sync {
    /// The newest L2 block.
    fn head(&self) -> impl Future<Output = Result<u64, SourceError>> + Send;
    /// L2 block `n` (at most the head).
    fn batch_block(&self, n: u64) -> impl Future<Output = Result<BatchInput, SourceError>> + Send;
}

impl<T: BlockSource + ?Sized> BlockSource for Arc<T> {
    fn head(&self) -> impl Future<Output = Result<u64, SourceError>> + Send {
        (**self).head()
    }
    fn batch_block(&self, n: u64) -> impl Future<Output = Result<BatchInput, SourceError>> + Send {
        (**self).batch_block(n)
    }
}

/// Settings of a [`Batcher`].
#[derive(Debug, Clone)]
pub struct BatcherConfig {
    /// The `BatchInbox`.
    pub inbox: Address,
    /// L1 block from which to read the inbox when there is no state yet (its deployment).
    pub inbox_start_block: u64,
    /// How batches are encoded (L2 chain id, compression, payload size).
    pub channel: ChannelConfig,
    /// Most blocks per batch.
    pub max_blocks: u64,
    /// Uncompressed transaction bytes at which a batch is closed.
    pub max_channel_size: usize,
    /// Age of the first block at which a batch is closed.
    pub max_channel_age: Duration,
    /// First L2 block to batch.
    pub first_block: u64,
    /// The state file.
    pub state_path: PathBuf,
    /// Time between ticks of [`Batcher::run`] when idle.
    pub interval: Duration,
}

impl BatcherConfig {
    /// Defaults for `inbox`, chain `l2_chain_id`, state in `state_path`.
    pub fn new(inbox: Address, l2_chain_id: u64, state_path: PathBuf) -> Self {
        Self {
            inbox,
            inbox_start_block: 0,
            channel: ChannelConfig::new(l2_chain_id),
            max_blocks: DEFAULT_MAX_BLOCKS,
            max_channel_size: DEFAULT_MAX_CHANNEL_SIZE,
            max_channel_age: DEFAULT_MAX_CHANNEL_AGE,
            first_block: DEFAULT_FIRST_BLOCK,
            state_path,
            interval: DEFAULT_BATCHER_INTERVAL,
        }
    }
}

/// One frame of the pending batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameState {
    /// Wire bytes of the DA commitment, once put (hex).
    pub commitment: Option<String>,
    /// Whether its post is confirmed on L1.
    pub posted: bool,
}

/// The batch in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    /// First L2 block.
    pub from: u64,
    /// Last L2 block.
    pub to: u64,
    /// The channel id (hex), a check that re-encoding gives the same frames.
    pub channel_id: String,
    /// Per frame, in order.
    pub frames: Vec<FrameState>,
}

/// The batcher's crash-safe state (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatcherState {
    /// Highest L2 block covered by confirmed posts (`None`: none yet).
    pub covered: Option<u64>,
    /// L1 block through which the inbox has been read (`None`: not yet).
    pub scanned_l1: Option<u64>,
    /// The batch in flight.
    pub pending: Option<PendingBatch>,
}

impl BatcherState {
    /// Reads the state at `path`; a missing file is the empty state.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| PipelineError::State {
                path: path.to_owned(),
                reason: format!("unreadable JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(PipelineError::State { path: path.to_owned(), reason: e.to_string() }),
        }
    }

    /// Writes the state to `path` atomically: a temporary file next to it is written and
    /// synced, renamed over `path`, and the directory synced, so a crash leaves either the
    /// old or the new state, never a torn one.
    pub fn store(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let err = |e: std::io::Error| PipelineError::State { path: path.to_owned(), reason: e.to_string() };
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(err)?;
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        f.write_all(&serde_json::to_vec_pretty(self).expect("state serialises")).map_err(err)?;
        f.sync_all().map_err(err)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(err)?;
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        Ok(())
    }
}

/// What one [`Batcher::tick`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatcherStep {
    /// A batch was fully posted.
    Posted {
        /// First L2 block.
        from: u64,
        /// Last L2 block.
        to: u64,
        /// Frames (DA payloads, inbox posts) it took.
        frames: usize,
    },
    /// No limit reached yet (or no new block).
    Idle {
        /// Blocks waiting.
        waiting: u64,
    },
}

/// Posts batches: see the [module docs](self).
#[derive(Debug)]
pub struct Batcher<S, D> {
    source: S,
    da: D,
    txmgr: Arc<TxManager>,
    config: BatcherConfig,
    state: BatcherState,
    safe_head: watch::Sender<Option<u64>>,
    /// The nonce of the next post, read before the last inbox scan (`None`: scan again first).
    nonce: Option<u64>,
}

impl<S: BlockSource, D: DaBackend> Batcher<S, D> {
    /// A batcher; call [`Batcher::reconcile`] (or [`Batcher::run`], which does) before ticking.
    pub fn new(source: S, da: D, txmgr: Arc<TxManager>, config: BatcherConfig) -> Result<Self> {
        config.channel.validate().map_err(|e| PipelineError::Config(format!("channel: {e}")))?;
        let state = BatcherState::load(&config.state_path)?;
        let (safe_head, _) = watch::channel(state.covered);
        Ok(Self { source, da, txmgr, config, state, safe_head, nonce: None })
    }

    /// The state as last written.
    pub const fn state(&self) -> &BatcherState {
        &self.state
    }

    /// The safe head: the highest L2 block covered by confirmed posts.
    pub fn safe_head(&self) -> Option<u64> {
        self.state.covered
    }

    /// A receiver of safe-head updates (for the proposer's [`OutputSource`] and the node's
    /// sync status).
    ///
    /// [`OutputSource`]: crate::proposer::OutputSource
    pub fn subscribe_safe_head(&self) -> watch::Receiver<Option<u64>> {
        self.safe_head.subscribe()
    }

    fn save(&self) -> Result<()> {
        self.state.store(&self.config.state_path)?;
        self.safe_head.send_replace(self.state.covered);
        Ok(())
    }

    /// Brings the state in line with the inbox: reads the `BatchPosted` events after
    /// `scanned_l1` and decodes them (see the [module docs](self)).
    pub async fn reconcile(&mut self) -> Result<()> {
        let provider = self.txmgr.provider().clone();
        // The nonce is read before the inbox: a post of a previous run mined after this point
        // makes our first post fail with "nonce too low" instead of landing twice.
        let nonce = self.txmgr.chain_nonce().await?;
        let head = provider.get_block_number().await?;
        let from = self.state.scanned_l1.map_or(self.config.inbox_start_block, |s| s + 1);
        if from > head {
            self.nonce = Some(nonce);
            return Ok(());
        }
        let posts = read_posts(&provider, self.config.inbox, from, head).await?;
        let limits = DecodeLimits {
            batch: self.config.channel.batch,
            ..DecodeLimits::new(self.config.channel.batch.chain_id)
        };
        let mut reader = ChannelReader::new(limits);
        let pending_id = self.state.pending.as_ref().map(|p| p.channel_id.clone());
        let mut covered = self.state.covered;
        let mut pending = self.state.pending.clone();
        for post in &posts {
            let commitment = Commitment::from_inbox_payload(&post.payload).map_err(|e| {
                PipelineError::Config(format!("inbox post {} is not ours: {e}", post.batch_index))
            })?;
            let data = match self.da.get(&commitment).await {
                Ok(data) => data,
                // Data that cannot be read back cannot say which blocks it covers: they are
                // batched again (a follower reads such a post as an error either way, and the
                // re-post is what lets it go on).
                Err(
                    e @ (DaError::NotFound(_)
                    | DaError::CommitmentMismatch { .. }
                    | DaError::UnsupportedCommitment { .. }),
                ) => {
                    warn!(target: "pipeline::batcher", batch_index = post.batch_index, l1_block = post.l1_block, %e, "inbox post unreadable from DA; not counted");
                    continue;
                }
                Err(e) => {
                    return Err(PipelineError::Da {
                        what: format!(
                            "reading back inbox post {} (L1 block {})",
                            post.batch_index, post.l1_block
                        ),
                        source: e,
                    });
                }
            };
            if let (Some(p), Ok(frames)) = (pending.as_mut(), parse_payload(&data)) {
                for f in frames {
                    if Some(f.channel_id.to_string()) == pending_id
                        && let Some(fs) = p.frames.get_mut(usize::from(f.number))
                    {
                        fs.posted = true;
                        fs.commitment.get_or_insert_with(|| alloy::hex::encode(commitment.encode()));
                    }
                }
            }
            let batches = match reader.push(&data) {
                Ok(b) => b,
                Err(e) => {
                    // A frame posted twice (a re-post nobody could prevent) is harmless: the
                    // channel is read once.
                    debug!(target: "pipeline::batcher", batch_index = post.batch_index, %e, "inbox frame skipped");
                    reader.take_ready()
                }
            };
            for b in batches {
                if let Some(last) = b.blocks.last() {
                    covered = Some(covered.map_or(last.number, |c| c.max(last.number)));
                }
            }
        }
        if let Some(p) = &pending
            && (covered.is_some_and(|c| p.to <= c) || p.frames.iter().all(|f| f.posted))
        {
            info!(target: "pipeline::batcher", from = p.from, to = p.to, "pending batch found complete on L1");
            covered = Some(covered.map_or(p.to, |c| c.max(p.to)));
            pending = None;
        }
        if covered != self.state.covered {
            info!(target: "pipeline::batcher", covered = ?covered, was = ?self.state.covered, "reconciled with the inbox");
        }
        self.state.covered = covered;
        self.state.pending = pending;
        self.state.scanned_l1 = Some(head);
        self.nonce = Some(nonce);
        self.save()
    }

    /// Closes and posts the next batch if a limit is reached, or resumes the pending one.
    pub async fn tick(&mut self) -> Result<BatcherStep> {
        if self.state.pending.is_none() {
            let next = self.state.covered.map_or(self.config.first_block, |c| c + 1);
            let head = self.source.head().await.map_err(PipelineError::Source)?;
            let Some(to) = self.close_point(next, head).await? else {
                return Ok(BatcherStep::Idle { waiting: (head + 1).saturating_sub(next) });
            };
            let blocks = self.collect(next, to).await?;
            let payloads = encode(&blocks, &self.config.channel)?;
            self.state.pending = Some(PendingBatch {
                from: next,
                to,
                channel_id: payloads.0,
                frames: vec![FrameState::default(); payloads.1.len()],
            });
            self.save()?;
            info!(target: "pipeline::batcher", from = next, to, frames = payloads.1.len(), "batch closed");
        }
        self.post_pending().await
    }

    /// Where the batch starting at `next` closes, if a limit is reached.
    async fn close_point(&self, next: u64, head: u64) -> Result<Option<u64>> {
        if head < next {
            return Ok(None);
        }
        let last = head.min(next.saturating_add(self.config.max_blocks.max(1) - 1));
        if last + 1 - next >= self.config.max_blocks {
            return Ok(Some(last));
        }
        let mut size = 0usize;
        for n in next..=last {
            let b = self.source.batch_block(n).await.map_err(PipelineError::Source)?;
            if n == next {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
                if now.saturating_sub(b.timestamp) >= self.config.max_channel_age.as_secs() {
                    return Ok(Some(last));
                }
            }
            size += b.txs.iter().map(|t| t.len()).sum::<usize>();
            if size >= self.config.max_channel_size {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }

    async fn collect(&self, from: u64, to: u64) -> Result<Vec<BatchInput>> {
        let mut blocks: Vec<BatchInput> = Vec::with_capacity((to + 1 - from) as usize);
        for n in from..=to {
            let b = self.source.batch_block(n).await.map_err(PipelineError::Source)?;
            if b.number != n {
                return Err(PipelineError::Source(format!("asked for block {n}, got {}", b.number).into()));
            }
            if let Some(prev) = blocks.last()
                && b.parent_hash != prev.hash
            {
                return Err(PipelineError::Source(
                    format!(
                        "block {n}'s parent {} is not block {}'s hash {}",
                        b.parent_hash,
                        n - 1,
                        prev.hash
                    )
                    .into(),
                ));
            }
            blocks.push(b);
        }
        Ok(blocks)
    }

    async fn post_pending(&mut self) -> Result<BatcherStep> {
        let Some(p) = self.state.pending.clone() else { return Ok(BatcherStep::Idle { waiting: 0 }) };
        let blocks = self.collect(p.from, p.to).await?;
        let (channel_id, payloads) = encode(&blocks, &self.config.channel)?;
        if channel_id != p.channel_id || payloads.len() != p.frames.len() {
            return Err(PipelineError::Source(
                format!(
                    "blocks {}..={} re-encode to channel {channel_id} ({} frames), not the pending {} ({} frames): \
                     the L2 blocks changed under the batcher",
                    p.from,
                    p.to,
                    payloads.len(),
                    p.channel_id,
                    p.frames.len()
                )
                .into(),
            ));
        }
        for (i, payload) in payloads.into_iter().enumerate() {
            if self.state.pending.as_ref().is_some_and(|p| p.frames[i].posted) {
                continue;
            }
            let commitment = match self.state.pending.as_ref().and_then(|p| p.frames[i].commitment.clone()) {
                Some(hex) => decode_commitment(&hex)?,
                None => {
                    let c = self.da.put(Bytes::from(payload)).await.map_err(|e| PipelineError::Da {
                        what: format!("putting frame {i} of blocks {}..={}", p.from, p.to),
                        source: e,
                    })?;
                    if let Some(pp) = self.state.pending.as_mut() {
                        pp.frames[i].commitment = Some(alloy::hex::encode(c.encode()));
                    }
                    self.save()?;
                    c
                }
            };
            if let Some(l1_block) = self.post(&commitment, i, &p).await? {
                if let Some(pp) = self.state.pending.as_mut() {
                    pp.frames[i].posted = true;
                }
                // Everything before our own confirmed post has been seen: only this batcher
                // posts, so a restart need not read those blocks again.
                self.state.scanned_l1 = Some(self.state.scanned_l1.map_or(l1_block, |s| s.max(l1_block)));
                self.save()?;
            } else {
                // The post landed while we were not looking (found by a rescan), or the rescan
                // found the whole batch: `reconcile` already updated the state.
                if self.state.pending.is_none() {
                    return Ok(BatcherStep::Posted { from: p.from, to: p.to, frames: p.frames.len() });
                }
            }
        }
        self.state.covered = Some(p.to);
        self.state.pending = None;
        self.save()?;
        info!(target: "pipeline::batcher", from = p.from, to = p.to, frames = p.frames.len(), "batch posted; safe head moved");
        Ok(BatcherStep::Posted { from: p.from, to: p.to, frames: p.frames.len() })
    }

    fn frame_pending(&self, frame: usize) -> bool {
        self.state.pending.as_ref().is_some_and(|p| p.frames.get(frame).is_some_and(|f| !f.posted))
    }

    /// Posts one commitment: `Some(l1 block)` of the confirmed post, `None` when a rescan after
    /// "nonce too low" found it already posted.
    async fn post(&mut self, commitment: &Commitment, frame: usize, p: &PendingBatch) -> Result<Option<u64>> {
        let call = BatchInbox::postBatchCall { payload: commitment.to_inbox_payload() };
        let candidate = TxCandidate {
            to: self.config.inbox,
            data: Bytes::from(call.abi_encode()),
            ..TxCandidate::default()
        };
        loop {
            let nonce = match self.nonce {
                Some(n) => n,
                None => {
                    self.reconcile().await?;
                    if !self.frame_pending(frame) {
                        return Ok(None);
                    }
                    self.nonce.unwrap_or_default()
                }
            };
            match self.txmgr.send(TxCandidate { nonce: Some(nonce), ..candidate.clone() }).await {
                Ok(sent) => {
                    self.nonce = Some(sent.nonce + 1);
                    let block = sent.receipt.block_number;
                    info!(target: "pipeline::batcher", frame, from = p.from, to = p.to, ?block, tx = %sent.receipt.transaction_hash, "frame posted");
                    return Ok(Some(block.unwrap_or_default()));
                }
                Err(TxError::NonceTaken { nonce }) => {
                    warn!(target: "pipeline::batcher", nonce, "nonce taken by a transaction of a previous run: rescanning the inbox");
                    self.nonce = None;
                }
                Err(e) => {
                    // The manager may have left a version in the pool: read the nonce (and
                    // the inbox) again before the next post.
                    self.nonce = None;
                    return Err(e.into());
                }
            }
        }
    }

    /// Reconciles, then ticks until `shutdown` resolves. Errors are logged and retried after
    /// [`BatcherConfig::interval`] (every step is safe to repeat).
    pub async fn run(&mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut reconciled = false;
        loop {
            let wait = if reconciled {
                match self.tick().await {
                    Ok(BatcherStep::Posted { .. }) => Duration::ZERO,
                    Ok(BatcherStep::Idle { .. }) => self.config.interval,
                    Err(err) => {
                        warn!(target: "pipeline::batcher", %err, "batching failed; retrying");
                        self.config.interval
                    }
                }
            } else {
                match self.reconcile().await {
                    Ok(()) => {
                        reconciled = true;
                        Duration::ZERO
                    }
                    Err(err) => {
                        warn!(target: "pipeline::batcher", %err, "reconciling with the inbox failed; retrying");
                        self.config.interval
                    }
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn decode_commitment(hex: &str) -> Result<Commitment> {
    let bytes = alloy::hex::decode(hex)
        .map_err(|e| PipelineError::Config(format!("state: bad commitment hex: {e}")))?;
    Commitment::decode(&bytes).map_err(|e| PipelineError::Config(format!("state: bad commitment: {e}")))
}

/// Encodes the blocks into one channel: `(channel id, payloads)`.
fn encode(blocks: &[BatchInput], cfg: &ChannelConfig) -> Result<(String, Vec<Vec<u8>>)> {
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return Err(PipelineError::Batch(BatchError::EmptyBatch));
    };
    let batch = Batch {
        parent_hash: first.parent_hash,
        l1_origin_hash: last.l1_origin_hash,
        blocks: blocks
            .iter()
            .map(|b| BatchBlock {
                number: b.number,
                timestamp: b.timestamp,
                l1_origin_number: b.l1_origin_number,
                txs: b.txs.clone(),
            })
            .collect(),
    };
    let channel = batch.encode_channel(cfg)?;
    let payloads = channel.payloads(cfg.max_payload_size)?;
    Ok((channel.id.to_string(), payloads))
}
