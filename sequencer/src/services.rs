//! The rollup services the node runs next to its JSON-RPC, from `temporis-pipeline`:
//!
//! - **sequencer** (`--rollup.config` without `--follow`): the L1 watcher hands confirmed L1
//!   blocks and their deposits to the block producer ([`Node::push_l1_epoch`]); with
//!   `--batcher.enabled` the batcher posts the chain to DA and its commitments to the
//!   `BatchInbox`; with `--proposer.enabled` the proposer posts output roots of blocks the
//!   batcher has made safe to the `OutputOracle`.
//! - **follower** (`--follow`): the derivation reads the inbox, fetches and decodes the batches,
//!   and the node re-executes every block ([`Node::import_block`]); it never produces blocks and
//!   refuses transactions.
//!
//! Every service logs under its own target (`sequencer::l1`, `pipeline::batcher`, …) and retries
//! after transient failures (L1 or DA unreachable); what cannot be retried (a batch that does
//! not derive the chain) stops that service with an error that says where and why, while the
//! node keeps serving what it has. An L1 reorg of L1 blocks only queued, not yet any L2 block's
//! origin, is followed ([`Node::l1_reorg`]); one below an L2 block's origin is logged as an
//! error and the new branch is refused (the L2 is not rewound).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::Encodable2718;
use alloy_primitives::Bytes;
use temporis_da_adapters::http::AltDaClient;
use temporis_pipeline::SourceError;
use temporis_pipeline::batcher::{BatchInput, Batcher, BlockSource};
use temporis_pipeline::config::{BatcherArgs, DeriveArgs, L1Args, ProposerArgs, TxMgrArgs};
use temporis_pipeline::derive::Deriver;
use temporis_pipeline::l1::txmgr::TxManager;
use temporis_pipeline::l1::watcher::{L1Event, L1Watcher};
use temporis_pipeline::proposer::{OutputAtBlock, OutputSource, Proposer};
use temporis_protocol::rollup::RollupConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::node::Node;
use crate::{Result, SequencerError};

/// Rollup flags: the configuration that ties the node to an L1, and the services it runs.
#[derive(Debug, Clone, clap::Args)]
pub struct RollupArgs {
    /// `rollup.json` (what the L1 contracts are, where the rollup starts). Without it the node
    /// is standalone: no L1, no batches, no deposits.
    #[arg(id = "rollup.config", long = "rollup.config", env = "TEMPORIS_ROLLUP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Follower mode: derive the chain from L1 + DA alone, serve it read-only.
    #[arg(long = "follow", requires = "rollup.config")]
    pub follow: bool,
    /// The DA server (OP Alt-DA HTTP API) batches are put to and read from.
    #[arg(id = "da.url", long = "da.url", env = "TEMPORIS_DA_URL", default_value = "http://127.0.0.1:3100")]
    pub da_url: String,
    /// Bearer token of the DA server.
    #[arg(
        id = "da.auth-token",
        long = "da.auth-token",
        env = "TEMPORIS_DA_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub da_auth_token: Option<String>,
    /// Run the batcher (needs `--batcher.private-key`).
    #[arg(id = "batcher.enabled", long = "batcher.enabled", requires = "rollup.config")]
    pub batcher_enabled: bool,
    /// Run the proposer (needs `--proposer.private-key` and the batcher, whose safe head it
    /// proposes up to).
    #[arg(id = "proposer.enabled", long = "proposer.enabled", requires = "batcher.enabled")]
    pub proposer_enabled: bool,
    /// The L1.
    #[command(flatten)]
    pub l1: L1Args,
    /// L1 transaction sending (batcher and proposer).
    #[command(flatten)]
    pub txmgr: TxMgrArgs,
    /// The batcher.
    #[command(flatten)]
    pub batcher: BatcherArgs,
    /// The proposer.
    #[command(flatten)]
    pub proposer: ProposerArgs,
    /// The follower's derivation.
    #[command(flatten)]
    pub derive: DeriveArgs,
}

/// The running services (tasks on the node's runtime).
#[derive(Debug, Default)]
pub struct Services {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Services {
    /// Stops every service (each is restart-safe: its state is on L1, in DA or in a state file
    /// written before it acts).
    pub async fn stop(self) {
        for (name, task) in self.tasks {
            task.abort();
            let _ = task.await;
            tracing::debug!(target: "sequencer::services", name, "stopped");
        }
    }
}

fn err(what: &str) -> impl Fn(String) -> SequencerError + '_ {
    move |e| SequencerError::Config(format!("{what}: {e}"))
}

/// Starts the services `args` ask for on a node opened with `rollup`.
pub async fn start(
    node: Node,
    rollup: &RollupConfig,
    args: &RollupArgs,
    datadir: &std::path::Path,
) -> Result<Services> {
    let mut services = Services::default();
    let da = AltDaClient::new(&args.da_url, args.da_auth_token.clone())
        .map_err(|e| err("--da.url")(e.to_string()))?;
    if args.follow {
        services.tasks.push(("derivation", tokio::spawn(follow(node, rollup.clone(), args.clone(), da))));
        return Ok(services);
    }
    services
        .tasks
        .push(("l1-watcher", tokio::spawn(watch_l1(node.clone(), rollup.clone(), args.l1.clone()))));
    if !args.batcher_enabled {
        return Ok(services);
    }
    let provider = temporis_pipeline::l1::http_provider(&args.l1.rpc_url)
        .map_err(|e| err("--l1.rpc-url")(e.to_string()))?;
    let signer = args.batcher.signer().map_err(|e| err("--batcher.private-key")(e.to_string()))?;
    let txmgr = TxManager::new(provider.clone(), signer, args.txmgr.config())
        .await
        .map_err(|e| err("batcher L1 transactions")(e.to_string()))?;
    let mut config = args
        .batcher
        .config(rollup.batch_inbox, rollup.l2_chain_id)
        .map_err(|e| err("--batcher.*")(e.to_string()))?;
    // The state file lives with the chain it describes unless a path is given.
    if args.batcher.state_file == std::path::Path::new(DEFAULT_BATCHER_STATE_FILE) {
        config.state_path = datadir.join("batcher-state.json");
    }
    if config.inbox_start_block == 0 {
        config.inbox_start_block = rollup.genesis.l1.number;
    }
    let mut batcher = Batcher::new(NodeBlocks(node.clone()), da, Arc::new(txmgr), config)
        .map_err(|e| err("batcher")(e.to_string()))?;
    let safe = batcher.subscribe_safe_head();
    services.tasks.push((
        "batcher",
        tokio::spawn(async move {
            batcher.run(std::future::pending()).await;
        }),
    ));
    services.tasks.push(("safe-head", tokio::spawn(track_safe_head(node.clone(), safe.clone()))));
    if args.proposer_enabled {
        let signer = args.proposer.signer().map_err(|e| err("--proposer.private-key")(e.to_string()))?;
        let txmgr = TxManager::new(provider, signer, args.txmgr.config())
            .await
            .map_err(|e| err("proposer L1 transactions")(e.to_string()))?;
        let proposer = Proposer::new(
            NodeOutputs { node: node.clone(), safe },
            Arc::new(txmgr),
            args.proposer.config(rollup.output_oracle),
        )
        .await
        .map_err(|e| err("proposer")(e.to_string()))?;
        services.tasks.push((
            "proposer",
            tokio::spawn(async move {
                proposer.run(std::future::pending()).await;
            }),
        ));
    }
    Ok(services)
}

/// The library default of `--batcher.state-file` (replaced by `<datadir>/batcher-state.json`).
const DEFAULT_BATCHER_STATE_FILE: &str = ".devnet/batcher/state.json";

/// Feeds confirmed L1 blocks to the block producer, from the L1 origin of the head on (the
/// producer ignores blocks it already has, so a restart re-pushes from there).
async fn watch_l1(node: Node, rollup: RollupConfig, l1: L1Args) {
    let head = node.head().header.number;
    let start = match node.l1_origin_of(head) {
        Ok(Some(origin)) => origin.number,
        _ => rollup.genesis.l1.number,
    };
    let config = l1.watcher_config(rollup.portal, start);
    let mut watcher = match L1Watcher::connect(&l1.rpc_url, config) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(target: "sequencer::l1", %e, url = %l1.rpc_url, "cannot follow the L1");
            return;
        }
    };
    tracing::info!(target: "sequencer::l1", start, url = %l1.rpc_url, "following the L1");
    loop {
        let events = match watcher.next_events().await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(target: "sequencer::l1", %e, "reading the L1 failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for event in events {
            match event {
                L1Event::Epoch(epoch) => {
                    let number = epoch.info.number;
                    if let Err(e) = node.push_l1_epoch(epoch) {
                        tracing::error!(target: "sequencer::l1", number, %e, "L1 block refused by the block producer");
                    }
                }
                L1Event::Reorg { to } => match node.l1_reorg(to) {
                    // Only queued L1 blocks were affected: the new branch queues in their place.
                    Ok(dropped) => {
                        tracing::warn!(target: "sequencer::l1", to, dropped, "L1 reorg: queued L1 blocks after the fork point dropped");
                    }
                    // An origin of an L2 block is gone: the L2 is not rewound.
                    Err(e) => tracing::error!(target: "sequencer::l1", to, %e, "L1 reorg below an L2 origin"),
                },
            }
        }
    }
}

/// Keeps the node's `safe_l2` (what `optimism_syncStatus` reports) at the batcher's safe head.
async fn track_safe_head(node: Node, mut safe: watch::Receiver<Option<u64>>) {
    loop {
        let current = *safe.borrow_and_update();
        if let Some(n) = current
            && let Err(e) = node.set_safe_l2(n)
        {
            tracing::warn!(target: "sequencer::services", n, %e, "safe head not recorded");
        }
        if safe.changed().await.is_err() {
            return;
        }
    }
}

/// The node as the batcher's [`BlockSource`].
#[derive(Debug, Clone)]
struct NodeBlocks(Node);

impl BlockSource for NodeBlocks {
    async fn head(&self) -> Result<u64, SourceError> {
        Ok(self.0.head().header.number)
    }

    async fn batch_block(&self, n: u64) -> Result<BatchInput, SourceError> {
        let block = self.0.block(n)?.ok_or_else(|| format!("L2 block {n} is not in the chain store"))?;
        let origin =
            block.l1_origin.ok_or_else(|| format!("L2 block {n} has no L1 origin: it cannot be batched"))?;
        let txs =
            block.txs.iter().filter(|tx| !tx.is_deposit()).map(|tx| Bytes::from(tx.encoded_2718())).collect();
        Ok(BatchInput {
            number: n,
            hash: block.hash,
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
            l1_origin_number: origin.number,
            l1_origin_hash: origin.hash,
            txs,
        })
    }
}

/// The node as the proposer's [`OutputSource`]: outputs from the chain store, the safe head
/// from the batcher.
#[derive(Debug, Clone)]
struct NodeOutputs {
    node: Node,
    safe: watch::Receiver<Option<u64>>,
}

impl OutputSource for NodeOutputs {
    async fn safe_head(&self) -> Result<u64, SourceError> {
        Ok(self.safe.borrow().unwrap_or(0))
    }

    async fn output_at(&self, n: u64) -> Result<Option<OutputAtBlock>, SourceError> {
        Ok(self.node.output_at(n)?.map(|o| OutputAtBlock::new(n, o.preimage())))
    }
}

/// Follower: derives batches from L1 + DA and imports their blocks, until a batch cannot be
/// derived or does not fit the chain (then it stops, saying where and why).
async fn follow(node: Node, rollup: RollupConfig, args: RollupArgs, da: AltDaClient) {
    let provider = match temporis_pipeline::l1::http_provider(&args.l1.rpc_url) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(target: "sequencer::follower", %e, "cannot reach the L1");
            return;
        }
    };
    let head = node.head().header.number;
    let mut config = args.derive.config(&args.l1, rollup.batch_inbox, rollup.portal, rollup.l2_chain_id);
    if config.l1_start_block == 0 {
        config.l1_start_block = rollup.genesis.l1.number;
    }
    config.first_l2_block = head + 1;
    config.prev_l1_origin = match node.l1_origin_of(head) {
        Ok(Some(o)) => Some(o.number),
        // The genesis has no origin: the first block starts an epoch whatever its origin.
        _ => None,
    };
    let mut deriver = Deriver::new(provider, da, config);
    tracing::info!(target: "sequencer::follower", from_l2 = head + 1, l1_start = rollup.genesis.l1.number, "deriving the chain from L1 + DA");
    loop {
        let batches = match deriver.next_batches().await {
            Ok(b) => b,
            Err(e) => {
                // DA or L1 unreachable, data missing or corrupted: nothing is imported past
                // it; retried, since a DA server may come back or be repaired.
                tracing::error!(target: "sequencer::follower", %e, next_l2 = deriver.next_l2_block(), "derivation stopped");
                node.set_derivation_error(Some(e.to_string()));
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        node.set_derivation_error(None);
        for batch in batches {
            let first = batch.blocks.first().map_or(0, |b| b.number);
            let result = tokio::task::spawn_blocking({
                let node = node.clone();
                move || node.import_batch(&batch)
            })
            .await;
            match result {
                Ok(Ok(imported)) => {
                    if let Some(last) = imported {
                        tracing::info!(target: "sequencer::follower", first, last, "batch imported");
                        let _ = node.set_safe_l2(last);
                    }
                }
                Ok(Err(e)) => {
                    tracing::error!(target: "sequencer::follower", first, %e, "batch does not derive the chain; the follower stops here");
                    node.set_derivation_error(Some(e.to_string()));
                    return;
                }
                Err(e) => {
                    tracing::error!(target: "sequencer::follower", %e, "import task failed");
                    return;
                }
            }
        }
    }
}
