//! Command-line settings of the pipeline services: one clap `Args` struct per service, dotted
//! flags (`--l1.confirmations`, `--txmgr.resubmission-timeout`, …), each also readable from a
//! `TEMPORIS_*` environment variable; defaults are the services' library constants.
//!
//! Durations are written `500ms`, `12s` or `2m` (a bare number is seconds).

use crate::batcher::{self, BatcherConfig};
use crate::derive::{self, DeriveConfig};
use crate::error::{PipelineError, Result};
use crate::l1::txmgr::{self, TxManagerConfig};
use crate::l1::watcher::{self, BlobSchedule, WatcherConfig};
use crate::proposer::{self, ProposerConfig};
use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use std::path::PathBuf;
use std::time::Duration;
use temporis_batch::{ChannelConfig, Compression, DEFAULT_MAX_PAYLOAD_SIZE};

/// Parses a channel compression: `none`, `brotli:<0..=11>`, `zstd:<1..=22>` (a bare `brotli`
/// or `zstd` takes the level of the default).
pub fn parse_compression(s: &str) -> Result<Compression, String> {
    let (algo, level) = match s.split_once(':') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let level = |default: i64| -> Result<i64, String> {
        level.map_or(Ok(default), |l| l.parse().map_err(|_| format!("{s:?}: level {l:?} is not a number")))
    };
    let c = match algo {
        "none" if level(0)? == 0 => Compression::None,
        "brotli" => {
            Compression::Brotli { level: u32::try_from(level(10)?).map_err(|_| format!("{s:?}: bad level"))? }
        }
        "zstd" => {
            Compression::Zstd { level: i32::try_from(level(19)?).map_err(|_| format!("{s:?}: bad level"))? }
        }
        _ => return Err(format!("{s:?}: expected none, brotli[:0..=11] or zstd[:1..=22]")),
    };
    c.validate().map_err(|e| format!("{s:?}: {e}"))?;
    Ok(c)
}

fn parse_key(flag: &str, key: Option<&str>) -> Result<PrivateKeySigner> {
    let key = key.ok_or_else(|| PipelineError::Config(format!("{flag} is required")))?;
    key.parse().map_err(|e| PipelineError::Config(format!("{flag}: not a private key: {e}")))
}

/// Parses `500ms`, `12s`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a duration (e.g. 500ms, 12s, 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(format!("{s:?}: unknown unit {unit:?} (ms, s or m)")),
    }
}

/// How the pipeline follows the L1.
#[derive(Debug, Clone, clap::Args)]
pub struct L1Args {
    /// JSON-RPC URL of the L1 node.
    #[arg(
        id = "l1.rpc-url",
        long = "l1.rpc-url",
        env = "TEMPORIS_L1_RPC_URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// Blocks an L1 block must be buried under before deposits in it are used.
    #[arg(id = "l1.confirmations", long = "l1.confirmations", env = "TEMPORIS_L1_CONFIRMATIONS", default_value_t = watcher::DEFAULT_CONFIRMATIONS)]
    pub confirmations: u64,
    /// How often the L1 head is polled.
    #[arg(id = "l1.poll-interval", long = "l1.poll-interval", env = "TEMPORIS_L1_POLL_INTERVAL", value_parser = parse_duration, default_value = "1s")]
    pub poll_interval: Duration,
    /// Fork whose blob-fee parameters price the L1's blobs.
    #[arg(id = "l1.blob-schedule", long = "l1.blob-schedule", env = "TEMPORIS_L1_BLOB_SCHEDULE", value_enum, default_value_t = BlobSchedule::default())]
    pub blob_schedule: BlobSchedule,
    /// Handed-out L1 blocks remembered for reorg detection.
    #[arg(id = "l1.reorg-window", long = "l1.reorg-window", env = "TEMPORIS_L1_REORG_WINDOW", default_value_t = watcher::DEFAULT_REORG_WINDOW)]
    pub reorg_window: usize,
}

impl L1Args {
    /// The watcher settings for `portal`, starting at `start_block`.
    pub fn watcher_config(&self, portal: Address, start_block: u64) -> WatcherConfig {
        WatcherConfig {
            confirmations: self.confirmations,
            blob_schedule: self.blob_schedule,
            poll_interval: self.poll_interval,
            reorg_window: self.reorg_window,
            ..WatcherConfig::new(portal, start_block)
        }
    }
}

/// How the L1 transactions of a service are sent (the batcher and the proposer each have a
/// key; they share these settings).
#[derive(Debug, Clone, clap::Args)]
pub struct TxMgrArgs {
    /// Confirmations an L1 transaction needs before it counts as done.
    #[arg(id = "txmgr.num-confirmations", long = "txmgr.num-confirmations", env = "TEMPORIS_TXMGR_NUM_CONFIRMATIONS", default_value_t = txmgr::DEFAULT_NUM_CONFIRMATIONS)]
    pub num_confirmations: u64,
    /// Time without inclusion after which a transaction is re-sent with bumped fees.
    #[arg(id = "txmgr.resubmission-timeout", long = "txmgr.resubmission-timeout", env = "TEMPORIS_TXMGR_RESUBMISSION_TIMEOUT", value_parser = parse_duration, default_value = "24s")]
    pub resubmission_timeout: Duration,
    /// Receipt polling interval.
    #[arg(id = "txmgr.receipt-poll-interval", long = "txmgr.receipt-poll-interval", env = "TEMPORIS_TXMGR_RECEIPT_POLL_INTERVAL", value_parser = parse_duration, default_value = "500ms")]
    pub poll_interval: Duration,
    /// Fee bump per re-send, percent (at least 10).
    #[arg(id = "txmgr.fee-bump-percent", long = "txmgr.fee-bump-percent", env = "TEMPORIS_TXMGR_FEE_BUMP_PERCENT", default_value_t = txmgr::DEFAULT_FEE_BUMP_PERCENT)]
    pub fee_bump_percent: u64,
    /// Highest max fee per gas ever signed, wei.
    #[arg(
        id = "txmgr.max-fee-per-gas",
        long = "txmgr.max-fee-per-gas",
        env = "TEMPORIS_TXMGR_MAX_FEE_PER_GAS"
    )]
    pub max_fee_per_gas: Option<u128>,
    /// Time after which one transaction gives up.
    #[arg(id = "txmgr.send-timeout", long = "txmgr.send-timeout", env = "TEMPORIS_TXMGR_SEND_TIMEOUT", value_parser = parse_duration, default_value = "10m")]
    pub send_timeout: Duration,
}

impl TxMgrArgs {
    /// The manager settings.
    pub const fn config(&self) -> TxManagerConfig {
        TxManagerConfig {
            num_confirmations: self.num_confirmations,
            resubmission_timeout: self.resubmission_timeout,
            poll_interval: self.poll_interval,
            fee_bump_percent: self.fee_bump_percent,
            max_fee_per_gas_cap: self.max_fee_per_gas,
            send_timeout: self.send_timeout,
        }
    }
}

/// The batcher's settings (the inbox address and the L2 chain id come from the rollup
/// configuration; the DA backend from `temporis_da_adapters::cli::DaArgs`).
#[derive(Debug, Clone, clap::Args)]
pub struct BatcherArgs {
    /// Private key (hex) of the inbox's batcher.
    #[arg(
        id = "batcher.private-key",
        long = "batcher.private-key",
        env = "TEMPORIS_BATCHER_PRIVATE_KEY",
        hide_env_values = true
    )]
    pub private_key: Option<String>,
    /// Most L2 blocks per batch.
    #[arg(id = "batcher.max-blocks", long = "batcher.max-blocks", env = "TEMPORIS_BATCHER_MAX_BLOCKS", default_value_t = batcher::DEFAULT_MAX_BLOCKS)]
    pub max_blocks: u64,
    /// Transaction bytes (uncompressed) at which a batch is closed.
    #[arg(id = "batcher.max-channel-size", long = "batcher.max-channel-size", env = "TEMPORIS_BATCHER_MAX_CHANNEL_SIZE", default_value_t = batcher::DEFAULT_MAX_CHANNEL_SIZE)]
    pub max_channel_size: usize,
    /// Age of a batch's first block at which the batch is closed however small.
    #[arg(id = "batcher.max-channel-age", long = "batcher.max-channel-age", env = "TEMPORIS_BATCHER_MAX_CHANNEL_AGE", value_parser = parse_duration, default_value = "10s")]
    pub max_channel_age: Duration,
    /// Most bytes of one DA payload (one frame).
    #[arg(id = "batcher.max-payload-size", long = "batcher.max-payload-size", env = "TEMPORIS_BATCHER_MAX_PAYLOAD_SIZE", default_value_t = DEFAULT_MAX_PAYLOAD_SIZE)]
    pub max_payload_size: usize,
    /// Channel compression: none, brotli[:0..=11] or zstd[:1..=22].
    #[arg(id = "batcher.compression", long = "batcher.compression", env = "TEMPORIS_BATCHER_COMPRESSION", value_parser = parse_compression, default_value = "brotli:10")]
    pub compression: Compression,
    /// The batcher's state file.
    #[arg(
        id = "batcher.state-file",
        long = "batcher.state-file",
        env = "TEMPORIS_BATCHER_STATE_FILE",
        default_value = ".devnet/batcher/state.json"
    )]
    pub state_file: PathBuf,
    /// L1 block from which the inbox is read when there is no state (its deployment block).
    #[arg(
        id = "batcher.inbox-start-block",
        long = "batcher.inbox-start-block",
        env = "TEMPORIS_BATCHER_INBOX_START_BLOCK",
        default_value_t = 0
    )]
    pub inbox_start_block: u64,
    /// Time between checks when idle.
    #[arg(id = "batcher.interval", long = "batcher.interval", env = "TEMPORIS_BATCHER_INTERVAL", value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,
}

impl BatcherArgs {
    /// The batcher settings for `inbox` on chain `l2_chain_id`.
    pub fn config(&self, inbox: Address, l2_chain_id: u64) -> Result<BatcherConfig> {
        let channel = ChannelConfig::new(l2_chain_id)
            .with_compression(self.compression)
            .with_max_payload_size(self.max_payload_size);
        channel.validate().map_err(|e| PipelineError::Config(format!("--batcher.*: {e}")))?;
        Ok(BatcherConfig {
            inbox_start_block: self.inbox_start_block,
            channel,
            max_blocks: self.max_blocks,
            max_channel_size: self.max_channel_size,
            max_channel_age: self.max_channel_age,
            interval: self.interval,
            ..BatcherConfig::new(inbox, l2_chain_id, self.state_file.clone())
        })
    }

    /// The batcher's key.
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        parse_key("--batcher.private-key", self.private_key.as_deref())
    }
}

/// The proposer's settings (the oracle address comes from the rollup configuration).
#[derive(Debug, Clone, clap::Args)]
pub struct ProposerArgs {
    /// Private key (hex) of the oracle's proposer.
    #[arg(
        id = "proposer.private-key",
        long = "proposer.private-key",
        env = "TEMPORIS_PROPOSER_PRIVATE_KEY",
        hide_env_values = true
    )]
    pub private_key: Option<String>,
    /// Time between checks whether the next output is due.
    #[arg(id = "proposer.interval", long = "proposer.interval", env = "TEMPORIS_PROPOSER_INTERVAL", value_parser = parse_duration, default_value = "2s")]
    pub interval: Duration,
    /// Bond per proposal, wei (default: the oracle's `BOND()`).
    #[arg(id = "proposer.bond", long = "proposer.bond", env = "TEMPORIS_PROPOSER_BOND")]
    pub bond: Option<U256>,
}

impl ProposerArgs {
    /// The proposer settings for the oracle at `output_oracle`.
    pub const fn config(&self, output_oracle: Address) -> ProposerConfig {
        ProposerConfig { output_oracle, interval: self.interval, bond: self.bond }
    }

    /// The proposer's key.
    pub fn signer(&self) -> Result<PrivateKeySigner> {
        parse_key("--proposer.private-key", self.private_key.as_deref())
    }
}

/// The follower's derivation settings (with [`L1Args`] for the L1 and its confirmations).
#[derive(Debug, Clone, clap::Args)]
pub struct DeriveArgs {
    /// L1 block from which the inbox is read (its deployment block).
    #[arg(
        id = "derive.l1-start-block",
        long = "derive.l1-start-block",
        env = "TEMPORIS_DERIVE_L1_START_BLOCK",
        default_value_t = 0
    )]
    pub l1_start_block: u64,
    /// Most L1 blocks read per step.
    #[arg(id = "derive.max-l1-blocks-per-step", long = "derive.max-l1-blocks-per-step", env = "TEMPORIS_DERIVE_MAX_L1_BLOCKS_PER_STEP", default_value_t = derive::DEFAULT_MAX_L1_BLOCKS_PER_STEP)]
    pub max_l1_blocks_per_step: u64,
}

impl DeriveArgs {
    /// The derivation settings for the rollup at `inbox`/`portal`, chain `l2_chain_id`.
    pub fn config(&self, l1: &L1Args, inbox: Address, portal: Address, l2_chain_id: u64) -> DeriveConfig {
        DeriveConfig {
            l1_start_block: self.l1_start_block,
            confirmations: l1.confirmations,
            blob_schedule: l1.blob_schedule,
            max_l1_blocks_per_step: self.max_l1_blocks_per_step,
            poll_interval: l1.poll_interval,
            ..DeriveConfig::new(inbox, portal, l2_chain_id)
        }
    }
}

// The CLI's duration defaults are written as text; these keep them equal to the constants.
const _: () = {
    assert!(batcher::DEFAULT_MAX_CHANNEL_AGE.as_secs() == 10);
    assert!(batcher::DEFAULT_BATCHER_INTERVAL.as_secs() == 1);
    assert!(proposer::DEFAULT_PROPOSER_INTERVAL.as_secs() == 2);
    assert!(txmgr::DEFAULT_RESUBMISSION_TIMEOUT.as_secs() == 24);
    assert!(txmgr::DEFAULT_SEND_TIMEOUT.as_secs() == 600);
    assert!(watcher::DEFAULT_POLL_INTERVAL.as_secs() == 1);
};

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        l1: L1Args,
        #[command(flatten)]
        txmgr: TxMgrArgs,
        #[command(flatten)]
        batcher: BatcherArgs,
        #[command(flatten)]
        proposer: ProposerArgs,
        #[command(flatten)]
        derive: DeriveArgs,
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("12s").unwrap(), Duration::from_secs(12));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn l1_args_defaults_and_flags() {
        let d = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(d.l1.confirmations, watcher::DEFAULT_CONFIRMATIONS);
        assert_eq!(d.l1.poll_interval, watcher::DEFAULT_POLL_INTERVAL);
        assert_eq!(d.l1.blob_schedule, BlobSchedule::Osaka);
        let c = Cli::try_parse_from([
            "x",
            "--l1.rpc-url",
            "http://10.0.0.1:8545",
            "--l1.confirmations",
            "0",
            "--l1.poll-interval",
            "250ms",
            "--l1.blob-schedule",
            "prague",
        ])
        .unwrap();
        let w = c.l1.watcher_config(Address::repeat_byte(1), 7);
        assert_eq!((w.confirmations, w.start_block, w.blob_schedule), (0, 7, BlobSchedule::Prague));
        assert_eq!(w.poll_interval, Duration::from_millis(250));
        assert_eq!(c.l1.rpc_url, "http://10.0.0.1:8545");
    }

    #[test]
    fn txmgr_args_defaults_and_flags() {
        let d = Cli::try_parse_from(["x"]).unwrap().txmgr.config();
        let lib = TxManagerConfig::default();
        assert_eq!(d.num_confirmations, lib.num_confirmations);
        assert_eq!(d.resubmission_timeout, lib.resubmission_timeout);
        assert_eq!(d.poll_interval, lib.poll_interval);
        assert_eq!(d.fee_bump_percent, lib.fee_bump_percent);
        assert_eq!(d.send_timeout, lib.send_timeout);
        let c = Cli::try_parse_from([
            "x",
            "--txmgr.num-confirmations",
            "3",
            "--txmgr.resubmission-timeout",
            "2s",
            "--txmgr.fee-bump-percent",
            "25",
            "--txmgr.max-fee-per-gas",
            "1000000000000",
        ])
        .unwrap()
        .txmgr
        .config();
        assert_eq!((c.num_confirmations, c.fee_bump_percent), (3, 25));
        assert_eq!(c.resubmission_timeout, Duration::from_secs(2));
        assert_eq!(c.max_fee_per_gas_cap, Some(1_000_000_000_000));
    }

    #[test]
    fn compression_parses() {
        assert_eq!(parse_compression("none").unwrap(), Compression::None);
        assert_eq!(parse_compression("brotli").unwrap(), Compression::Brotli { level: 10 });
        assert_eq!(parse_compression("brotli:5").unwrap(), Compression::Brotli { level: 5 });
        assert_eq!(parse_compression("zstd:3").unwrap(), Compression::Zstd { level: 3 });
        assert!(parse_compression("brotli:12").is_err());
        assert!(parse_compression("zstd:0").is_err());
        assert!(parse_compression("lz4").is_err());
    }

    #[test]
    fn batcher_args_defaults_and_flags() {
        let d = Cli::try_parse_from(["x"]).unwrap().batcher;
        let cfg = d.config(Address::repeat_byte(2), 73571).unwrap();
        let lib = BatcherConfig::new(Address::repeat_byte(2), 73571, d.state_file.clone());
        assert_eq!(cfg.max_blocks, lib.max_blocks);
        assert_eq!(cfg.max_channel_size, lib.max_channel_size);
        assert_eq!(cfg.max_channel_age, lib.max_channel_age);
        assert_eq!(cfg.interval, lib.interval);
        assert_eq!(cfg.channel, lib.channel);
        assert!(d.signer().is_err(), "no key, no batcher");
        let c = Cli::try_parse_from([
            "x",
            "--batcher.private-key",
            "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
            "--batcher.max-blocks",
            "5",
            "--batcher.max-channel-size",
            "4096",
            "--batcher.max-channel-age",
            "500ms",
            "--batcher.max-payload-size",
            "1000",
            "--batcher.compression",
            "zstd:3",
            "--batcher.state-file",
            "/tmp/b.json",
        ])
        .unwrap()
        .batcher;
        let cfg = c.config(Address::repeat_byte(2), 73571).unwrap();
        assert_eq!((cfg.max_blocks, cfg.max_channel_size), (5, 4096));
        assert_eq!(cfg.max_channel_age, Duration::from_millis(500));
        assert_eq!(cfg.channel.compression, Compression::Zstd { level: 3 });
        assert_eq!(cfg.channel.max_payload_size, 1000);
        assert_eq!(cfg.state_path, PathBuf::from("/tmp/b.json"));
        assert_eq!(
            c.signer().unwrap().address(),
            alloy::primitives::address!("70997970C51812dc3A010C7d01b50e0d17dc79C8")
        );
        assert!(Cli::try_parse_from(["x", "--batcher.compression", "brotli:99"]).is_err());
    }

    #[test]
    fn proposer_and_derive_args_defaults_and_flags() {
        let d = Cli::try_parse_from(["x"]).unwrap();
        let p = d.proposer.config(Address::repeat_byte(3));
        assert_eq!((p.interval, p.bond), (proposer::DEFAULT_PROPOSER_INTERVAL, None));
        let dc = d.derive.config(&d.l1, Address::repeat_byte(4), Address::repeat_byte(5), 73571);
        assert_eq!(dc.confirmations, watcher::DEFAULT_CONFIRMATIONS);
        assert_eq!(dc.max_l1_blocks_per_step, derive::DEFAULT_MAX_L1_BLOCKS_PER_STEP);
        let c = Cli::try_parse_from([
            "x",
            "--proposer.interval",
            "12s",
            "--proposer.bond",
            "100000000000000000",
            "--derive.l1-start-block",
            "42",
            "--l1.confirmations",
            "1",
        ])
        .unwrap();
        let p = c.proposer.config(Address::repeat_byte(3));
        assert_eq!(
            (p.interval, p.bond),
            (Duration::from_secs(12), Some(U256::from(100_000_000_000_000_000u64)))
        );
        let dc = c.derive.config(&c.l1, Address::repeat_byte(4), Address::repeat_byte(5), 73571);
        assert_eq!((dc.l1_start_block, dc.confirmations), (42, 1));
    }
}
