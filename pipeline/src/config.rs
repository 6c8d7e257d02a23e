//! Command-line settings of the pipeline services: one clap `Args` struct per service, dotted
//! flags (`--l1.confirmations`, `--txmgr.resubmission-timeout`, …), each also readable from a
//! `TEMPORIS_*` environment variable; defaults are the services' library constants.
//!
//! Durations are written `500ms`, `12s` or `2m` (a bare number is seconds).

use crate::l1::txmgr::{self, TxManagerConfig};
use crate::l1::watcher::{self, BlobSchedule, WatcherConfig};
use alloy::primitives::Address;
use std::time::Duration;

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
    #[arg(id = "l1.rpc-url", long = "l1.rpc-url", env = "TEMPORIS_L1_RPC_URL", default_value = "http://127.0.0.1:8545")]
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
    #[arg(id = "txmgr.max-fee-per-gas", long = "txmgr.max-fee-per-gas", env = "TEMPORIS_TXMGR_MAX_FEE_PER_GAS")]
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
}
