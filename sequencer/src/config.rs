//! Node configuration: command-line flags (one clap `Args` per subsystem, dotted names as
//! geth and reth spell them) over an optional TOML file over defaults.
//!
//! Precedence: a flag given on the command line wins over the TOML file, which wins over the
//! default. Every flag is an `Option` so that "not given" can be told apart from "given the
//! default value".

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::{Result, SequencerError};

/// Default JSON-RPC port (HTTP and WebSocket on the same socket).
pub const DEFAULT_HTTP_PORT: u16 = 9545;
/// Default block gas limit.
pub const DEFAULT_GAS_LIMIT: u64 = 60_000_000;
/// Largest transaction the pool admits, as geth's `txMaxSize` (128 KiB).
pub const MAX_TX_SIZE: usize = 128 * 1024;

/// `temporis-sequencer`: the Temporis L2 node.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "temporis-sequencer", version, about)]
pub struct Cli {
    /// A TOML configuration file (keys as in [`Config`]); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Development mode: standalone, the dev genesis (anvil's default accounts funded), chain
    /// id 73571, unless a genesis file is given.
    #[arg(long)]
    pub dev: bool,
    /// Directory of the chain store (created if missing).
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Genesis JSON (geth/anvil format, or a bare `alloc`).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Chain id (default: the genesis file's `config.chainId`, else 73571).
    #[arg(long = "chain.id")]
    pub chain_id: Option<u64>,
    /// JSON-RPC server flags.
    #[command(flatten)]
    pub rpc: RpcArgs,
    /// Block production flags.
    #[command(flatten)]
    pub sequencer: SequencerArgs,
    /// Mempool flags.
    #[command(flatten)]
    pub txpool: TxPoolArgs,
    /// Port of the Prometheus `/metrics` endpoint (off unless given; `0` picks a free one).
    #[arg(long = "metrics.port")]
    pub metrics_port: Option<u16>,
    /// Write a full state snapshot with every N-th block (0: never), so that a restart
    /// replays at most N blocks.
    #[arg(long = "store.snapshot-interval")]
    pub snapshot_interval: Option<u64>,
    /// Rollup: the L1, the batcher, the proposer, follower mode.
    #[command(flatten)]
    pub rollup: crate::services::RollupArgs,
}

/// JSON-RPC server flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RpcArgs {
    /// Address the HTTP/WS server listens on.
    #[arg(long = "http.addr")]
    pub http_addr: Option<IpAddr>,
    /// Port of the HTTP/WS server (0 picks a free one; the bound address is logged).
    #[arg(long = "http.port")]
    pub http_port: Option<u16>,
    /// Largest request body in bytes.
    #[arg(long = "rpc.max-request-size")]
    pub max_request_size: Option<u32>,
    /// Largest response body in bytes.
    #[arg(long = "rpc.max-response-size")]
    pub max_response_size: Option<u32>,
    /// Most calls in one batch.
    #[arg(long = "rpc.max-batch-size")]
    pub max_batch_size: Option<u32>,
    /// Most concurrent connections.
    #[arg(long = "rpc.max-connections")]
    pub max_connections: Option<u32>,
    /// How long `eth_sendRawTransactionSync` waits for the receipt, in milliseconds.
    #[arg(long = "rpc.send-sync-timeout-ms")]
    pub send_sync_timeout_ms: Option<u64>,
}

/// Block production flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SequencerArgs {
    /// Time between blocks: `1s`, `250ms`, `100ms`…
    #[arg(long = "sequencer.block-time", value_parser = parse_duration)]
    pub block_time: Option<Duration>,
    /// Block gas limit.
    #[arg(long = "sequencer.gas-limit")]
    pub gas_limit: Option<u64>,
    /// Fee recipient of produced blocks.
    #[arg(long = "sequencer.coinbase")]
    pub coinbase: Option<alloy_primitives::Address>,
    /// Ecotone `baseFeeScalar` the L1 attributes deposits carry (L1 data fee).
    #[arg(long = "sequencer.l1-base-fee-scalar")]
    pub l1_base_fee_scalar: Option<u32>,
    /// Ecotone `blobBaseFeeScalar` the L1 attributes deposits carry (L1 data fee).
    #[arg(long = "sequencer.l1-blob-base-fee-scalar")]
    pub l1_blob_base_fee_scalar: Option<u32>,
    /// Batcher address whose hash the L1 attributes deposits carry.
    #[arg(long = "sequencer.batcher")]
    pub batcher: Option<alloy_primitives::Address>,
}

/// Mempool flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TxPoolArgs {
    /// Most transactions (pending and queued) one sender may have in the pool.
    #[arg(long = "txpool.account-slots")]
    pub account_slots: Option<usize>,
    /// Most transactions in the pool.
    #[arg(long = "txpool.global-slots")]
    pub global_slots: Option<usize>,
    /// Fee bump a replacement needs, in percent.
    #[arg(long = "txpool.price-bump")]
    pub price_bump: Option<u64>,
}

/// Parses `1s`, `250ms`, `1500ms`, `2` (seconds).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        _ => Err(format!("invalid duration unit in {s:?} (use s or ms)")),
    }
    .and_then(|d| if d.is_zero() { Err("the block time must be positive".into()) } else { Ok(d) })
}

/// The TOML file's shape: the same settings as the flags, grouped by subsystem.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    dev: Option<bool>,
    datadir: Option<PathBuf>,
    genesis: Option<PathBuf>,
    chain_id: Option<u64>,
    metrics_port: Option<u16>,
    snapshot_interval: Option<u64>,
    rpc: FileRpc,
    sequencer: FileSequencer,
    txpool: FileTxPool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileRpc {
    http_addr: Option<IpAddr>,
    http_port: Option<u16>,
    max_request_size: Option<u32>,
    max_response_size: Option<u32>,
    max_batch_size: Option<u32>,
    max_connections: Option<u32>,
    send_sync_timeout_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileSequencer {
    block_time: Option<String>,
    gas_limit: Option<u64>,
    coinbase: Option<alloy_primitives::Address>,
    l1_base_fee_scalar: Option<u32>,
    l1_blob_base_fee_scalar: Option<u32>,
    batcher: Option<alloy_primitives::Address>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileTxPool {
    account_slots: Option<usize>,
    global_slots: Option<usize>,
    price_bump: Option<u64>,
}

/// The resolved configuration of a node.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development mode.
    pub dev: bool,
    /// Chain store directory.
    pub datadir: PathBuf,
    /// Genesis file (none: the dev genesis).
    pub genesis: Option<PathBuf>,
    /// Chain id override.
    pub chain_id: Option<u64>,
    /// Prometheus endpoint port (on the JSON-RPC address), if enabled.
    pub metrics_port: Option<u16>,
    /// State snapshot every this many blocks (0: never).
    pub snapshot_interval: u64,
    /// JSON-RPC server.
    pub rpc: RpcConfig,
    /// Block production.
    pub sequencer: SequencerConfig,
    /// Mempool.
    pub txpool: TxPoolConfig,
    /// The rollup this node belongs to (`--rollup.config`); none: standalone.
    pub rollup: Option<temporis_protocol::rollup::RollupConfig>,
    /// Follower mode: blocks come from L1 + DA, none is produced, no transaction is taken.
    pub follow: bool,
}

/// JSON-RPC server settings.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Listen address.
    pub http_addr: IpAddr,
    /// Listen port.
    pub http_port: u16,
    /// Largest request body (bytes).
    pub max_request_size: u32,
    /// Largest response body (bytes).
    pub max_response_size: u32,
    /// Most calls per batch.
    pub max_batch_size: u32,
    /// Most connections.
    pub max_connections: u32,
    /// `eth_sendRawTransactionSync` timeout.
    pub send_sync_timeout: Duration,
}

/// Block production settings.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Time between blocks.
    pub block_time: Duration,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Fee recipient.
    pub coinbase: alloy_primitives::Address,
    /// L1 data fee scalars and batcher hash the L1 attributes deposits carry.
    pub fee_params: temporis_protocol::l1::FeeParams,
}

/// Mempool settings.
#[derive(Debug, Clone)]
pub struct TxPoolConfig {
    /// Per-sender limit.
    pub account_slots: usize,
    /// Global limit.
    pub global_slots: usize,
    /// Replacement bump (percent).
    pub price_bump: u64,
}

impl Default for TxPoolConfig {
    fn default() -> Self {
        Self { account_slots: 1024, global_slots: 20_000, price_bump: 10 }
    }
}

impl Config {
    /// Resolves flags over the TOML file (if `--config` is given) over defaults.
    pub fn from_cli(cli: &Cli) -> Result<Self> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| SequencerError::Config(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        let block_time = match (cli.sequencer.block_time, &file.sequencer.block_time) {
            (Some(d), _) => d,
            (None, Some(s)) => parse_duration(s).map_err(SequencerError::Config)?,
            (None, None) => Duration::from_secs(1),
        };
        let pool_default = TxPoolConfig::default();
        let dev = cli.dev || file.dev.unwrap_or(false);
        let datadir = cli.datadir.clone().or(file.datadir).unwrap_or_else(|| PathBuf::from("temporis-data"));
        let rollup = match &cli.rollup.config {
            Some(path) => Some(
                temporis_protocol::rollup::RollupConfig::load(path)
                    .map_err(|e| SequencerError::Config(e.to_string()))?,
            ),
            None => None,
        };
        let mut config = Self {
            dev,
            datadir,
            genesis: cli.genesis.clone().or(file.genesis),
            chain_id: cli.chain_id.or(file.chain_id),
            metrics_port: cli.metrics_port.or(file.metrics_port),
            snapshot_interval: cli.snapshot_interval.or(file.snapshot_interval).unwrap_or(1000),
            rpc: RpcConfig {
                http_addr: cli.rpc.http_addr.or(file.rpc.http_addr).unwrap_or([127, 0, 0, 1].into()),
                http_port: cli.rpc.http_port.or(file.rpc.http_port).unwrap_or(DEFAULT_HTTP_PORT),
                max_request_size: cli
                    .rpc
                    .max_request_size
                    .or(file.rpc.max_request_size)
                    .unwrap_or(5 * 1024 * 1024),
                max_response_size: cli
                    .rpc
                    .max_response_size
                    .or(file.rpc.max_response_size)
                    .unwrap_or(100 * 1024 * 1024),
                max_batch_size: cli.rpc.max_batch_size.or(file.rpc.max_batch_size).unwrap_or(1000),
                max_connections: cli.rpc.max_connections.or(file.rpc.max_connections).unwrap_or(1000),
                send_sync_timeout: Duration::from_millis(
                    cli.rpc.send_sync_timeout_ms.or(file.rpc.send_sync_timeout_ms).unwrap_or(10_000),
                ),
            },
            sequencer: SequencerConfig {
                block_time,
                gas_limit: cli.sequencer.gas_limit.or(file.sequencer.gas_limit).unwrap_or(DEFAULT_GAS_LIMIT),
                coinbase: cli.sequencer.coinbase.or(file.sequencer.coinbase).unwrap_or_default(),
                fee_params: {
                    let batcher = cli.sequencer.batcher.or(file.sequencer.batcher).unwrap_or_default();
                    let defaults = temporis_protocol::l1::FeeParams::devnet(batcher);
                    temporis_protocol::l1::FeeParams {
                        base_fee_scalar: cli
                            .sequencer
                            .l1_base_fee_scalar
                            .or(file.sequencer.l1_base_fee_scalar)
                            .unwrap_or(defaults.base_fee_scalar),
                        blob_base_fee_scalar: cli
                            .sequencer
                            .l1_blob_base_fee_scalar
                            .or(file.sequencer.l1_blob_base_fee_scalar)
                            .unwrap_or(defaults.blob_base_fee_scalar),
                        batcher_hash: defaults.batcher_hash,
                    }
                },
            },
            txpool: TxPoolConfig {
                account_slots: cli
                    .txpool
                    .account_slots
                    .or(file.txpool.account_slots)
                    .unwrap_or(pool_default.account_slots),
                global_slots: cli
                    .txpool
                    .global_slots
                    .or(file.txpool.global_slots)
                    .unwrap_or(pool_default.global_slots),
                price_bump: cli
                    .txpool
                    .price_bump
                    .or(file.txpool.price_bump)
                    .unwrap_or(pool_default.price_bump),
            },
            rollup: None,
            follow: cli.rollup.follow,
        };
        if let Some(rollup) = rollup {
            config.apply_rollup(rollup)?;
        }
        Ok(config)
    }

    /// Takes the chain's consensus values from the rollup configuration: every node of the
    /// rollup (sequencer and followers) must build the same headers and L1-info deposits, so
    /// these are not per-node settings. A flag that contradicts `rollup.json` is an error.
    pub fn apply_rollup(&mut self, rollup: temporis_protocol::rollup::RollupConfig) -> Result<()> {
        let conflict = |what: &str| {
            Err(SequencerError::Config(format!(
                "{what} contradicts rollup.json; leave it out in rollup mode"
            )))
        };
        if self.chain_id.is_some_and(|id| id != rollup.l2_chain_id) {
            return conflict("--chain.id");
        }
        self.chain_id = Some(rollup.l2_chain_id);
        self.sequencer.gas_limit = rollup.l2_gas_limit;
        self.sequencer.coinbase = rollup.fee_recipient;
        self.sequencer.fee_params = temporis_protocol::l1::FeeParams {
            base_fee_scalar: rollup.base_fee_scalar,
            blob_base_fee_scalar: rollup.blob_base_fee_scalar,
            batcher_hash: rollup.batcher_hash(),
        };
        self.rollup = Some(rollup);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0ms").is_err());
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn flags_override_toml_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "datadir = \"/from/toml\"\n[rpc]\nhttp_port = 1234\n[sequencer]\nblock_time = \"250ms\"\ngas_limit = 7\nl1_base_fee_scalar = 9\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "temporis-sequencer",
            "--config",
            path.to_str().unwrap(),
            "--http.port",
            "4321",
            "--dev",
            "--sequencer.l1-blob-base-fee-scalar",
            "11",
            "--sequencer.batcher",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        ])
        .unwrap();
        let config = Config::from_cli(&cli).unwrap();
        assert!(config.dev);
        assert_eq!(config.datadir, PathBuf::from("/from/toml"));
        assert_eq!(config.rpc.http_port, 4321);
        assert_eq!(config.sequencer.block_time, Duration::from_millis(250));
        assert_eq!(config.sequencer.gas_limit, 7);
        assert_eq!(config.txpool.price_bump, 10);
        let fees = config.sequencer.fee_params;
        assert_eq!((fees.base_fee_scalar, fees.blob_base_fee_scalar), (9, 11));
        assert_eq!(
            fees.batcher_hash,
            alloy_primitives::address!("70997970C51812dc3A010C7d01b50e0d17dc79C8").into_word()
        );

        std::fs::write(&path, "[rpc]\nbogus = 1\n").unwrap();
        assert!(Config::from_cli(&cli).is_err(), "unknown keys are refused");
    }
}
