//! The rollup configuration: what a sequencer and a follower must agree on to derive the same
//! chain from L1 (OP Stack's `rollup.json`, trimmed to what Temporis uses).
//!
//! The devnet writes it to `<datadir>/rollup.json` after deploying the L1 contracts; the
//! sequencer (`--rollup.config`) and the follower read it. Every field is consensus: two nodes
//! with different values derive different chains, so a follower refuses to start when its L2
//! genesis does not hash to [`RollupConfig::genesis`]'s `l2.hash`.

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A block by number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockId {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// Where the rollup starts on each layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupGenesis {
    /// The L1 block the rollup starts after: the first L2 block's origin is its successor or
    /// itself, and the L1 side (watcher, derivation) reads events from it on.
    pub l1: BlockId,
    /// The L2 genesis block.
    pub l2: BlockId,
    /// Timestamp of the L2 genesis block (also the `OutputOracle`'s starting timestamp).
    pub l2_time: u64,
}

/// The rollup configuration (`rollup.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollupConfig {
    /// Chain id of the L1.
    pub l1_chain_id: u64,
    /// Chain id of the L2.
    pub l2_chain_id: u64,
    /// Where the rollup starts.
    pub genesis: RollupGenesis,
    /// Target seconds between L2 blocks (the `OutputOracle`'s `l2BlockTime`).
    pub block_time: u64,
    /// How far (seconds) an L2 block's timestamp may run ahead of its L1 origin's (OP's
    /// `max_sequencer_drift`): past it, the sequencer must move to the next L1 origin.
    pub max_sequencer_drift: u64,
    /// L2 block gas limit.
    pub l2_gas_limit: u64,
    /// `COINBASE` of every L2 block (the sequencer's fee recipient).
    pub fee_recipient: Address,
    /// The account allowed to post to the inbox; written into the L1-info deposit as
    /// `batcherHash = bytes32(uint256(uint160(batcher)))`.
    pub batcher: Address,
    /// L1 `BatchInbox` contract (batches are read from its `BatchPosted` events).
    pub batch_inbox: Address,
    /// L1 `Portal` contract (deposits are read from its `TransactionDeposited` events).
    pub portal: Address,
    /// L1 `OutputOracle` contract (output roots are proposed there).
    pub output_oracle: Address,
    /// Ecotone/Fjord L1 fee parameter `baseFeeScalar`.
    pub base_fee_scalar: u32,
    /// Ecotone/Fjord L1 fee parameter `blobBaseFeeScalar`.
    pub blob_base_fee_scalar: u32,
}

/// Why a rollup configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RollupConfigError {
    /// The file could not be read or written.
    #[error("rollup config {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid rollup config.
    #[error("rollup config {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What serde said (names the field).
        #[source]
        source: serde_json::Error,
    },
    /// A value makes no sense.
    #[error("rollup config: {0}")]
    Invalid(String),
}

impl RollupConfig {
    /// `batcherHash` as the L1-info deposit carries it (the batcher address, left-padded).
    pub fn batcher_hash(&self) -> B256 {
        self.batcher.into_word()
    }

    /// Checks the values that would make derivation impossible.
    pub fn validate(&self) -> Result<(), RollupConfigError> {
        let bad = |m: &str| Err(RollupConfigError::Invalid(m.to_owned()));
        if self.block_time == 0 {
            return bad("blockTime must be at least 1 second");
        }
        if self.l2_gas_limit < 1_000_000 {
            return bad("l2GasLimit must leave room for the L1-info deposit (>= 1,000,000)");
        }
        if self.l1_chain_id == self.l2_chain_id {
            return bad("l1ChainId and l2ChainId must differ");
        }
        for (name, a) in
            [("batchInbox", self.batch_inbox), ("portal", self.portal), ("outputOracle", self.output_oracle)]
        {
            if a == Address::ZERO {
                return Err(RollupConfigError::Invalid(format!("{name} is the zero address")));
            }
        }
        Ok(())
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, RollupConfigError> {
        let p = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|source| RollupConfigError::Io { path: p.clone(), source })?;
        let config: Self =
            serde_json::from_slice(&bytes).map_err(|source| RollupConfigError::Parse { path: p, source })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes `path` atomically (a temporary file, then a rename), so a reader never sees half
    /// a file.
    pub fn save(&self, path: &Path) -> Result<(), RollupConfigError> {
        let io = |source| RollupConfigError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(self).expect("a rollup config always serializes");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RollupConfig {
        RollupConfig {
            l1_chain_id: 31337,
            l2_chain_id: 73571,
            genesis: RollupGenesis {
                l1: BlockId { number: 7, hash: B256::repeat_byte(1) },
                l2: BlockId { number: 0, hash: B256::repeat_byte(2) },
                l2_time: 1_700_000_000,
            },
            block_time: 1,
            max_sequencer_drift: 600,
            l2_gas_limit: 30_000_000,
            fee_recipient: Address::repeat_byte(0xfe),
            batcher: Address::repeat_byte(0xba),
            batch_inbox: Address::repeat_byte(3),
            portal: Address::repeat_byte(4),
            output_oracle: Address::repeat_byte(5),
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
        }
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollup.json");
        let c = sample();
        c.save(&path).unwrap();
        assert_eq!(RollupConfig::load(&path).unwrap(), c);
        // camelCase keys, as the docs show them.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"batchInbox\"") && text.contains("\"l2Time\""), "{text}");
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollup.json");
        assert!(matches!(RollupConfig::load(&path), Err(RollupConfigError::Io { .. })));
        let mut v = serde_json::to_value(sample()).unwrap();
        v["surprise"] = 1.into();
        std::fs::write(&path, v.to_string()).unwrap();
        let err = RollupConfig::load(&path).unwrap_err();
        assert!(err.to_string().contains("surprise"), "{err}");
        let mut c = sample();
        c.portal = Address::ZERO;
        c.save(&path).unwrap();
        assert!(RollupConfig::load(&path).unwrap_err().to_string().contains("portal"));
        let mut c = sample();
        c.block_time = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn batcher_hash_is_the_padded_address() {
        let c = sample();
        let h = c.batcher_hash();
        assert_eq!(&h[..12], &[0u8; 12]);
        assert_eq!(&h[12..], c.batcher.as_slice());
    }
}
