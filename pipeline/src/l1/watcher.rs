//! The L1 watcher: confirmed L1 blocks with their portal deposits, in order, with reorgs.
//!
//! The watcher polls an L1 JSON-RPC for its head and hands out every block up to
//! `head − confirmations`, one [`L1Event::Epoch`] per block, in number order and without gaps.
//! It remembers the hashes it handed out (a window of [`WatcherConfig::reorg_window`] blocks);
//! before handing out a block it checks that the block's parent is the last block it handed out.
//! When that fails (or the chain got shorter than what it handed out) it walks back over the
//! remembered hashes to the newest block that is still canonical, reports
//! [`L1Event::Reorg`] with that block's number, and then hands out the new branch. A reorg that
//! reaches below every remembered block cannot be repaired here: it is
//! [`PipelineError::ReorgTooDeep`], naming the handed-out hash and the canonical one.
//!
//! Deposits are read per block **by block hash** (`eth_getLogs` with `blockHash`), so a block
//! and its logs always come from the same branch even when the L1 reorganises between the two
//! calls.

use crate::error::{PipelineError, Result};
use crate::types::{DepositLog, L1BlockInfo, L1Epoch};
use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip7840::BlobParams;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Block, Filter};
use alloy::sol_types::SolEvent;
use std::collections::VecDeque;
use std::time::Duration;
use temporis_contracts::Portal::TransactionDeposited;
use tracing::{debug, info, warn};

/// Blocks an L1 block must be buried under before the watcher hands it out.
pub const DEFAULT_CONFIRMATIONS: u64 = 4;
/// How often the watcher asks the L1 for its head.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How many handed-out block hashes the watcher remembers (the deepest reorg it can follow).
pub const DEFAULT_REORG_WINDOW: usize = 256;
/// Most blocks handed out by one [`L1Watcher::poll`] (so a node catching up interleaves).
pub const DEFAULT_MAX_BLOCKS_PER_POLL: u64 = 256;

/// The L1 fork whose blob-fee parameters turn a header's excess blob gas into its blob base fee
/// (EIP-4844's `fake_exponential` with the fork's update fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum BlobSchedule {
    /// Cancun (EIP-4844): update fraction 3 338 477.
    Cancun,
    /// Prague (EIP-7691): update fraction 5 007 716.
    Prague,
    /// Osaka (EIP-7918 adds a reserve price to the excess computation, not to the fee formula).
    /// anvil's default fork.
    #[default]
    Osaka,
    /// Blob-parameter-only fork 1 (EIP-7892).
    Bpo1,
    /// Blob-parameter-only fork 2 (EIP-7892).
    Bpo2,
}

impl BlobSchedule {
    /// alloy-eips' parameters of the fork.
    pub const fn params(self) -> BlobParams {
        match self {
            Self::Cancun => BlobParams::cancun(),
            Self::Prague => BlobParams::prague(),
            Self::Osaka => BlobParams::osaka(),
            Self::Bpo1 => BlobParams::bpo1(),
            Self::Bpo2 => BlobParams::bpo2(),
        }
    }

    /// Blob base fee of a block with `excess_blob_gas`; a pre-Cancun header (no excess field)
    /// prices blobs at the minimum, 1 wei, as no blob can be in it anyway.
    pub fn blob_base_fee(self, excess_blob_gas: Option<u64>) -> u128 {
        let params = self.params();
        excess_blob_gas.map_or(params.min_blob_fee, |excess| params.calc_blob_fee(excess))
    }
}

/// What the watcher needs to know.
#[derive(Debug, Clone)]
pub struct WatcherConfig {
    /// The portal whose `TransactionDeposited` logs are deposits.
    pub portal: Address,
    /// Blocks a block must be buried under (0: the head itself is handed out).
    pub confirmations: u64,
    /// First block to hand out (resume: the L1 origin of the L2 head, or the block after it).
    pub start_block: u64,
    /// If known, the hash `start_block`'s parent must have (the L1 origin of the L2 head when
    /// resuming from the block after it): a mismatch is reported as a reorg too deep to follow.
    pub start_parent_hash: Option<B256>,
    /// Fork whose blob-fee parameters apply.
    pub blob_schedule: BlobSchedule,
    /// Head polling interval of [`L1Watcher::next_events`].
    pub poll_interval: Duration,
    /// Handed-out hashes remembered for reorg detection.
    pub reorg_window: usize,
    /// Most blocks handed out per poll.
    pub max_blocks_per_poll: u64,
}

impl WatcherConfig {
    /// Defaults for everything but the portal and the start block.
    pub fn new(portal: Address, start_block: u64) -> Self {
        Self {
            portal,
            confirmations: DEFAULT_CONFIRMATIONS,
            start_block,
            start_parent_hash: None,
            blob_schedule: BlobSchedule::default(),
            poll_interval: DEFAULT_POLL_INTERVAL,
            reorg_window: DEFAULT_REORG_WINDOW,
            max_blocks_per_poll: DEFAULT_MAX_BLOCKS_PER_POLL,
        }
    }
}

/// What the watcher reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L1Event {
    /// The next confirmed L1 block and its deposits.
    Epoch(L1Epoch),
    /// Blocks after `to` that were handed out are no longer canonical: drop them (and whatever
    /// was built on them). The next epoch is block `to + 1` of the new branch.
    Reorg {
        /// The newest handed-out block that is still canonical.
        to: u64,
    },
}

/// Follows the L1: see the [module docs](self).
#[derive(Debug)]
pub struct L1Watcher {
    provider: DynProvider,
    config: WatcherConfig,
    /// `(number, hash)` of the handed-out blocks still remembered, oldest first, contiguous.
    handed: VecDeque<(u64, B256)>,
    /// Next block number to hand out.
    next: u64,
}

impl L1Watcher {
    /// A watcher over `provider` (any L1 JSON-RPC; no signer needed).
    pub fn new(provider: DynProvider, config: WatcherConfig) -> Self {
        let mut handed = VecDeque::new();
        if let (Some(parent), Some(number)) = (config.start_parent_hash, config.start_block.checked_sub(1)) {
            handed.push_back((number, parent));
        }
        let next = config.start_block;
        Self { provider, config, handed, next }
    }

    /// A watcher over the L1 at `rpc_url`.
    pub fn connect(rpc_url: &str, config: WatcherConfig) -> Result<Self> {
        Ok(Self::new(crate::l1::http_provider(rpc_url)?, config))
    }

    /// The next block number the watcher will hand out.
    pub const fn next_block(&self) -> u64 {
        self.next
    }

    /// The newest handed-out block still remembered, `(number, hash)`.
    pub fn last_handed(&self) -> Option<(u64, B256)> {
        self.handed.back().copied()
    }

    /// The configuration.
    pub const fn config(&self) -> &WatcherConfig {
        &self.config
    }

    /// Waits until at least one event is available and returns all that are (in order).
    pub async fn next_events(&mut self) -> Result<Vec<L1Event>> {
        loop {
            let events = self.poll().await?;
            if !events.is_empty() {
                return Ok(events);
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// One round: checks for a reorg, then reads every confirmed block not yet handed out (at
    /// most [`WatcherConfig::max_blocks_per_poll`]). Returns the events in order; empty when
    /// there is nothing new.
    pub async fn poll(&mut self) -> Result<Vec<L1Event>> {
        let head = self.provider.get_block_number().await?;
        let mut events = Vec::new();
        // A shorter chain, or a different block at our last height, is a reorg even when no
        // new block is confirmed yet.
        if let Some(to) = self.check_tip(head).await? {
            events.push(L1Event::Reorg { to });
        }
        let Some(target) = head.checked_sub(self.config.confirmations) else { return Ok(events) };
        let last = target.min(self.next.saturating_add(self.config.max_blocks_per_poll.max(1) - 1));
        while self.next <= last {
            let block = self.block(self.next).await?;
            let parent = block.header.parent_hash;
            if let Some(&(number, hash)) = self.handed.back()
                && number + 1 == self.next
                && hash != parent
            {
                // The branch changed between our last poll (or block) and this block.
                let to = self.walk_back(number, parent).await?;
                events.push(L1Event::Reorg { to });
                continue;
            }
            let epoch =
                read_epoch(&self.provider, self.config.portal, self.config.blob_schedule, &block).await?;
            debug!(
                target: "pipeline::l1",
                number = epoch.info.number,
                hash = %epoch.info.hash,
                deposits = epoch.deposits.len(),
                "L1 block confirmed"
            );
            self.remember(epoch.info.number, epoch.info.hash);
            events.push(L1Event::Epoch(epoch));
        }
        Ok(events)
    }

    /// Compares the newest remembered block with the canonical chain; walks back on mismatch.
    async fn check_tip(&mut self, head: u64) -> Result<Option<u64>> {
        let Some(&(number, hash)) = self.handed.back() else { return Ok(None) };
        let at = number.min(head);
        let canonical = self.block(at).await?.header.hash;
        if at == number && canonical == hash {
            return Ok(None);
        }
        // Either the block at our height changed, or the chain is shorter than what we handed
        // out: find the newest remembered block that is still canonical.
        Ok(Some(self.walk_back(at, canonical).await?))
    }

    /// Walks back from block `number` (whose canonical hash is `canonical`) to the newest
    /// remembered block still canonical, forgets everything after it and returns its number.
    async fn walk_back(&mut self, mut number: u64, mut canonical: B256) -> Result<u64> {
        // The newest remembered block found off the canonical chain, for the error.
        let mut dropped: Option<(u64, B256)> = None;
        loop {
            // Remembered blocks above `number` are gone: the canonical chain is shorter there,
            // or their hash was already found to differ.
            while let Some(&(n, hash)) = self.handed.back()
                && n > number
            {
                dropped = Some((n, hash));
                self.handed.pop_back();
            }
            let Some(&(n, hash)) = self.handed.back() else {
                // Every remembered block is above the canonical head: the chain shrank below
                // the window (or below the configured start point). Nothing is canonical at
                // the dropped block's height, hence the zero hash.
                let (number, handed) = dropped.unwrap_or((number, B256::ZERO));
                return Err(PipelineError::ReorgTooDeep { number, handed, canonical: B256::ZERO });
            };
            if hash == canonical {
                break;
            }
            dropped = Some((n, hash));
            self.handed.pop_back();
            if self.handed.is_empty() {
                return Err(PipelineError::ReorgTooDeep { number: n, handed: hash, canonical });
            }
            number -= 1;
            canonical = self.block(number).await?.header.hash;
        }
        warn!(
            target: "pipeline::l1",
            fork_point = number,
            "L1 reorg: dropping handed-out blocks after the fork point"
        );
        self.next = number + 1;
        Ok(number)
    }

    fn remember(&mut self, number: u64, hash: B256) {
        self.handed.push_back((number, hash));
        while self.handed.len() > self.config.reorg_window.max(1) {
            self.handed.pop_front();
        }
        self.next = number + 1;
    }

    async fn block(&self, number: u64) -> Result<Block> {
        self.provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await?
            .ok_or(PipelineError::MissingBlock(number))
    }
}

/// The [`L1BlockInfo`] of an RPC block.
pub(crate) fn block_info(block: &Block, blob_schedule: BlobSchedule) -> L1BlockInfo {
    let h = &block.header;
    L1BlockInfo {
        number: h.number,
        hash: h.hash,
        parent_hash: h.parent_hash,
        timestamp: h.timestamp,
        base_fee: h.base_fee_per_gas.unwrap_or_default(),
        blob_base_fee: blob_schedule.blob_base_fee(h.excess_blob_gas),
    }
}

/// The block's info and its portal deposits, read by block hash.
pub(crate) async fn read_epoch(
    provider: &DynProvider,
    portal: Address,
    blob_schedule: BlobSchedule,
    block: &Block,
) -> Result<L1Epoch> {
    let h = &block.header;
    let info = block_info(block, blob_schedule);
    let filter = Filter::new()
        .at_block_hash(h.hash)
        .address(portal)
        .event_signature(TransactionDeposited::SIGNATURE_HASH);
    let mut logs = provider.get_logs(&filter).await?;
    logs.sort_by_key(|l| l.log_index);
    let mut deposits = Vec::with_capacity(logs.len());
    for log in logs {
        let log_index = log
            .log_index
            .ok_or(PipelineError::BadLog { block: h.number, reason: "log without index".into() })?;
        if log.block_hash != Some(h.hash) {
            // The node answered for another branch than the block we asked about.
            return Err(PipelineError::BadLog {
                block: h.number,
                reason: "log of another block hash".into(),
            });
        }
        let event = TransactionDeposited::decode_log(&log.inner).map_err(|e| PipelineError::BadLog {
            block: h.number,
            reason: format!("undecodable TransactionDeposited at index {log_index}: {e}"),
        })?;
        deposits.push(DepositLog {
            l1_block_hash: h.hash,
            log_index,
            from: event.from,
            to: event.to,
            version: event.version,
            opaque_data: event.data.opaqueData.clone(),
        });
    }
    if !deposits.is_empty() {
        info!(target: "pipeline::l1", number = h.number, count = deposits.len(), "portal deposits");
    }
    Ok(L1Epoch { info, deposits })
}
