//! Derivation for the follower: the L2 blocks, rebuilt from L1 and DA alone.
//!
//! [`Deriver::step`] reads the `BatchPosted` events of the inbox in L1 order, up to
//! `head − confirmations`; for each it parses `0x01 ‖ commitment`, fetches the payload from the
//! DA backend (which verifies it against the commitment), and feeds it to a
//! `temporis_batch::ChannelReader`. Each batch a channel completes becomes a [`DerivedBatch`]:
//! its blocks with their L1 origin ([`L1BlockInfo`], read from L1), the origin's portal deposits
//! on the first L2 block of each epoch (the block whose origin differs from its parent's), and
//! their transactions. The batch's `parent_hash` is returned for the caller, who executes the
//! blocks, to check against its own head.
//!
//! Checks, each a [`DeriveError`] that names the L1 block and the inbox's batch index:
//! - the payload is fetchable ([`DeriveError::DaMissing`]) and matches its commitment
//!   ([`DeriveError::CommitmentMismatch`]);
//! - the payload decodes to frames, channels and a valid batch ([`DeriveError::BadBatch`]);
//!   a frame or channel posted twice is skipped (a batcher restart may repost one; the channel
//!   id is content-derived, so the copy is recognised);
//! - the batch starts right after the last derived block and its origins step by 0 or 1 and
//!   are not after the L1 block that carries the batch ([`DeriveError::BadBatch`]);
//! - the origins are on the canonical L1: the last block's origin hash is the batch's
//!   `l1_origin_hash`, and each origin is the parent of the next ([`DeriveError::OriginMismatch`]).

use crate::error::PipelineError;
use crate::inbox::{InboxPost, read_posts};
use crate::l1::watcher::{BlobSchedule, DEFAULT_CONFIRMATIONS, block_info, read_epoch};
use crate::types::{DepositLog, L1BlockInfo};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use std::collections::VecDeque;
use std::time::Duration;
use temporis_batch::{Batch, BatchError, ChannelReader, DecodeLimits};
use temporis_da_adapters::{DaBackend, DaError};
use temporis_protocol::commitment::Commitment;
use tracing::{debug, info, warn};

/// Most L1 blocks read per [`Deriver::step`].
pub const DEFAULT_MAX_L1_BLOCKS_PER_STEP: u64 = 1_000;

/// One L2 block as derived from L1 and DA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedBlock {
    /// Block number.
    pub number: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// Its L1 origin.
    pub origin: L1BlockInfo,
    /// The origin's deposits, on the first block of the epoch only (empty otherwise).
    pub deposits: Vec<DepositLog>,
    /// Non-deposit transactions, EIP-2718 encoded, in order.
    pub txs: Vec<Bytes>,
}

/// A batch as derived: where it came from and its blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedBatch {
    /// L1 block of the post that completed the batch's channel.
    pub l1_block: u64,
    /// Inbox index of that post.
    pub batch_index: u64,
    /// Hash of the L2 parent of the first block: the caller checks it against its head.
    pub parent_hash: B256,
    /// The blocks.
    pub blocks: Vec<DerivedBlock>,
}

/// Why derivation stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    /// The DA backend has nothing under a posted commitment.
    #[error("missing DA data for inbox batch {batch_index} (L1 block {l1_block}), commitment {commitment:?}")]
    DaMissing {
        /// L1 block of the post.
        l1_block: u64,
        /// Inbox index of the post.
        batch_index: u64,
        /// The commitment.
        commitment: Commitment,
    },
    /// The DA backend returned bytes that do not match the posted commitment.
    #[error(
        "DA data for inbox batch {batch_index} (L1 block {l1_block}) does not match commitment {commitment:?}"
    )]
    CommitmentMismatch {
        /// L1 block of the post.
        l1_block: u64,
        /// Inbox index of the post.
        batch_index: u64,
        /// The commitment.
        commitment: Commitment,
    },
    /// Another DA failure (unreachable, refused).
    #[error("DA get for inbox batch {batch_index} (L1 block {l1_block}): {source}")]
    Da {
        /// L1 block of the post.
        l1_block: u64,
        /// Inbox index of the post.
        batch_index: u64,
        /// What failed.
        #[source]
        source: DaError,
    },
    /// The posted data is not a valid batch, or does not extend the derived chain.
    #[error("bad batch at inbox batch {batch_index} (L1 block {l1_block}): {reason}")]
    BadBatch {
        /// L1 block of the post.
        l1_block: u64,
        /// Inbox index of the post.
        batch_index: u64,
        /// Why.
        reason: String,
    },
    /// A batch names an L1 origin that is not on the canonical L1 chain.
    #[error(
        "L2 block {l2_block}: origin L1 block {origin} should be {expected}, the L1 has {actual} \
         (inbox batch {batch_index}, L1 block {l1_block})"
    )]
    OriginMismatch {
        /// L1 block of the post.
        l1_block: u64,
        /// Inbox index of the post.
        batch_index: u64,
        /// The L2 block.
        l2_block: u64,
        /// Its origin number.
        origin: u64,
        /// The hash the batch (or the next origin's parent hash) says.
        expected: B256,
        /// The canonical hash.
        actual: B256,
    },
    /// Reading L1 failed.
    #[error(transparent)]
    L1(#[from] PipelineError),
}

/// Settings of a [`Deriver`].
#[derive(Debug, Clone)]
pub struct DeriveConfig {
    /// The `BatchInbox`.
    pub inbox: Address,
    /// The portal (deposits).
    pub portal: Address,
    /// What the channel reader accepts (L2 chain id, size bounds).
    pub limits: DecodeLimits,
    /// First L1 block to read the inbox from (its deployment, or where a restart left off).
    pub l1_start_block: u64,
    /// Blocks a post must be buried under before it is read.
    pub confirmations: u64,
    /// Fork whose blob-fee parameters apply to origins.
    pub blob_schedule: BlobSchedule,
    /// First L2 block expected (1 after the genesis). A restarted follower sets its head + 1
    /// and reads the inbox from its start again: batches wholly at or below its head are
    /// skipped, and as it executes whole batches its head is always a batch's last block.
    pub first_l2_block: u64,
    /// L1 origin of the block before `first_l2_block` (the genesis' origin, or the restarted
    /// follower's head's), `None` if the first block starts an epoch whatever its origin.
    pub prev_l1_origin: Option<u64>,
    /// Most L1 blocks per step.
    pub max_l1_blocks_per_step: u64,
    /// Polling interval of [`Deriver::next_batches`].
    pub poll_interval: Duration,
}

impl DeriveConfig {
    /// Defaults for the rollup at these addresses, chain `l2_chain_id`.
    pub fn new(inbox: Address, portal: Address, l2_chain_id: u64) -> Self {
        Self {
            inbox,
            portal,
            limits: DecodeLimits::new(l2_chain_id),
            l1_start_block: 0,
            confirmations: DEFAULT_CONFIRMATIONS,
            blob_schedule: BlobSchedule::default(),
            first_l2_block: 1,
            prev_l1_origin: Some(0),
            max_l1_blocks_per_step: DEFAULT_MAX_L1_BLOCKS_PER_STEP,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// Derives L2 blocks: see the [module docs](self).
#[derive(Debug)]
pub struct Deriver<D> {
    provider: DynProvider,
    da: D,
    config: DeriveConfig,
    reader: ChannelReader,
    /// `(L1 block, log index)` of the next post to read.
    cursor: (u64, u64),
    /// Batches the reader completed that are not derived yet (an error stopped them).
    queued: VecDeque<(InboxPost, Batch)>,
    /// Next L2 block expected.
    next_l2: u64,
    /// The origin of the last derived block.
    last_origin: Option<L1BlockInfo>,
}

impl<D: DaBackend> Deriver<D> {
    /// A deriver over `provider` and `da`.
    pub fn new(provider: DynProvider, da: D, config: DeriveConfig) -> Self {
        Self {
            provider,
            da,
            reader: ChannelReader::new(config.limits),
            cursor: (config.l1_start_block, 0),
            queued: VecDeque::new(),
            next_l2: config.first_l2_block,
            last_origin: None,
            config,
        }
    }

    /// The next L1 block to read (posts before the cursor in it are already read).
    pub const fn next_l1_block(&self) -> u64 {
        self.cursor.0
    }

    /// The next L2 block expected.
    pub const fn next_l2_block(&self) -> u64 {
        self.next_l2
    }

    /// Waits until at least one batch is derived and returns all that are.
    pub async fn next_batches(&mut self) -> Result<Vec<DerivedBatch>, DeriveError> {
        loop {
            let out = self.step().await?;
            if !out.is_empty() {
                return Ok(out);
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// Reads the confirmed inbox posts not read yet (a bounded range of L1 blocks) and returns
    /// the batches they complete, in order.
    ///
    /// On an error after some batches were derived, those are returned and the error comes
    /// again from the next call: the deriver stops right before the post (or the decoded batch)
    /// that failed, so a transient failure (DA unreachable, L1 RPC) is retried by calling again
    /// and nothing is skipped or read twice.
    pub async fn step(&mut self) -> Result<Vec<DerivedBatch>, DeriveError> {
        let mut out = Vec::new();
        match self.step_into(&mut out).await {
            Ok(()) => Ok(out),
            Err(e) if out.is_empty() => Err(e),
            Err(e) => {
                debug!(target: "pipeline::derive", %e, "returning the batches derived before an error");
                Ok(out)
            }
        }
    }

    async fn step_into(&mut self, out: &mut Vec<DerivedBatch>) -> Result<(), DeriveError> {
        self.drain(out).await?;
        let head = self.provider.get_block_number().await.map_err(PipelineError::from)?;
        let Some(safe) = head.checked_sub(self.config.confirmations) else { return Ok(()) };
        let (from, _) = self.cursor;
        if safe < from {
            return Ok(());
        }
        let to = safe.min(from + self.config.max_l1_blocks_per_step.max(1) - 1);
        let posts = read_posts(&self.provider, self.config.inbox, from, to).await?;
        let start = self.cursor;
        for post in posts.into_iter().filter(|p| (p.l1_block, p.log_index) >= start) {
            let batches = self.read_post(&post).await?;
            // The reader has consumed the post: from here on it is the queue that holds what it
            // gave, until each batch is derived.
            self.cursor = (post.l1_block, post.log_index + 1);
            self.queued.extend(batches.into_iter().map(|b| (post.clone(), b)));
            self.drain(out).await?;
        }
        self.cursor = (to + 1, 0);
        Ok(())
    }

    /// Derives the queued batches, in order; a failing one stays queued.
    async fn drain(&mut self, out: &mut Vec<DerivedBatch>) -> Result<(), DeriveError> {
        while let Some((post, batch)) = self.queued.front() {
            let (post, batch) = (post.clone(), batch.clone());
            let derived = self.derive(&post, batch).await?;
            self.queued.pop_front();
            out.extend(derived);
        }
        Ok(())
    }

    /// DA get and channel reading of one post.
    async fn read_post(&mut self, post: &InboxPost) -> Result<Vec<Batch>, DeriveError> {
        let (l1_block, batch_index) = (post.l1_block, post.batch_index);
        let commitment =
            Commitment::from_inbox_payload(&post.payload).map_err(|e| DeriveError::BadBatch {
                l1_block,
                batch_index,
                reason: format!("inbox payload is not 0x01 ‖ commitment: {e}"),
            })?;
        let data = self.da.get(&commitment).await.map_err(|e| match e {
            DaError::NotFound(_) => {
                DeriveError::DaMissing { l1_block, batch_index, commitment: commitment.clone() }
            }
            DaError::CommitmentMismatch { .. } => {
                DeriveError::CommitmentMismatch { l1_block, batch_index, commitment: commitment.clone() }
            }
            source => DeriveError::Da { l1_block, batch_index, source },
        })?;
        debug!(target: "pipeline::derive", l1_block, batch_index, bytes = data.len(), "DA payload");
        match self.reader.push(&data) {
            Ok(batches) => Ok(batches),
            Err(e @ (BatchError::DuplicateFrame { .. } | BatchError::ChannelAlreadyRead { .. })) => {
                warn!(target: "pipeline::derive", l1_block, batch_index, %e, "repeated frame skipped");
                Ok(self.reader.take_ready())
            }
            Err(e) => Err(DeriveError::BadBatch { l1_block, batch_index, reason: e.to_string() }),
        }
    }

    async fn l1_block(&self, number: u64) -> Result<alloy::rpc::types::Block, DeriveError> {
        Ok(self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(PipelineError::from)?
            .ok_or(PipelineError::MissingBlock(number))?)
    }

    /// Checks a decoded batch against the chain so far and L1; `None` for a batch entirely at
    /// or below the derived head (posted twice).
    async fn derive(&mut self, post: &InboxPost, batch: Batch) -> Result<Option<DerivedBatch>, DeriveError> {
        let (l1_block, batch_index) = (post.l1_block, post.batch_index);
        let bad = |reason: String| DeriveError::BadBatch { l1_block, batch_index, reason };
        let (Some(first), Some(last)) = (batch.blocks.first(), batch.blocks.last()) else {
            return Err(bad("empty batch".into()));
        };
        if last.number < self.next_l2 {
            warn!(target: "pipeline::derive", l1_block, batch_index, last = last.number, "batch of blocks already derived skipped");
            return Ok(None);
        }
        if first.number != self.next_l2 {
            return Err(bad(format!(
                "batch starts at L2 block {}, block {} was expected",
                first.number, self.next_l2
            )));
        }
        if last.l1_origin_number > l1_block {
            return Err(bad(format!(
                "L2 block {} has origin L1 block {}, after the L1 block {l1_block} that carries it",
                last.number, last.l1_origin_number
            )));
        }
        let prev_origin = self.last_origin.map(|o| o.number).or(self.config.prev_l1_origin);
        if let Some(prev) = prev_origin
            && first.l1_origin_number != prev
            && first.l1_origin_number != prev + 1
        {
            return Err(bad(format!(
                "L2 block {} has origin {}, its parent's is {prev} (an origin steps by 0 or 1)",
                first.number, first.l1_origin_number
            )));
        }

        // The origins, newest first: the last one must be the batch's `l1_origin_hash`, each
        // older one the parent of the next, and the oldest new one a child of the last origin
        // already derived.
        let low = first.l1_origin_number;
        let mut origins: Vec<L1BlockInfo> = Vec::with_capacity((last.l1_origin_number - low + 1) as usize);
        let mut expected = batch.l1_origin_hash;
        let mut expected_for = last.number;
        for number in (low..=last.l1_origin_number).rev() {
            let block = self.l1_block(number).await?;
            if block.header.hash != expected {
                return Err(DeriveError::OriginMismatch {
                    l1_block,
                    batch_index,
                    l2_block: expected_for,
                    origin: number,
                    expected,
                    actual: block.header.hash,
                });
            }
            expected = block.header.parent_hash;
            expected_for =
                batch.blocks.iter().find(|b| b.l1_origin_number == number).map_or(expected_for, |b| b.number);
            origins.push(block_info(&block, self.config.blob_schedule));
        }
        origins.reverse();
        // Continuing the previous origin: it must be the same block; stepping: its child.
        let (linked, linked_hash) = match self.last_origin {
            Some(prev) if prev.number == low => (Some(prev), origins[0].hash),
            Some(prev) if prev.number + 1 == low => (Some(prev), expected),
            _ => (None, B256::ZERO),
        };
        if let Some(prev) = linked
            && prev.hash != linked_hash
        {
            return Err(DeriveError::OriginMismatch {
                l1_block,
                batch_index,
                l2_block: first.number,
                origin: prev.number,
                expected: linked_hash,
                actual: prev.hash,
            });
        }

        let mut blocks = Vec::with_capacity(batch.blocks.len());
        let mut prev_origin = prev_origin;
        for b in batch.blocks {
            let origin = origins[(b.l1_origin_number - low) as usize];
            let deposits = if prev_origin != Some(b.l1_origin_number) {
                let block = self.l1_block(origin.number).await?;
                read_epoch(&self.provider, self.config.portal, self.config.blob_schedule, &block)
                    .await?
                    .deposits
            } else {
                Vec::new()
            };
            prev_origin = Some(b.l1_origin_number);
            blocks.push(DerivedBlock {
                number: b.number,
                timestamp: b.timestamp,
                origin,
                deposits,
                txs: b.txs,
            });
        }
        let last_block = blocks.last().expect("non-empty");
        self.next_l2 = last_block.number + 1;
        self.last_origin = Some(last_block.origin);
        info!(
            target: "pipeline::derive",
            l1_block,
            batch_index,
            from = blocks[0].number,
            to = last_block.number,
            "batch derived"
        );
        Ok(Some(DerivedBatch { l1_block, batch_index, parent_hash: batch.parent_hash, blocks }))
    }
}
