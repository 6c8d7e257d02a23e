//! The devnet's L2: its genesis file and the rollup configuration that ties it to the L1
//! deployment.

use crate::accounts::Role;
use crate::l1::RollupDeployment;
use crate::{DeployError, Result};
use std::path::{Path, PathBuf};
use temporis_protocol::chain::{DEVNET_L1_CHAIN_ID, DEVNET_L2_CHAIN_ID};
use temporis_protocol::rollup::{BlockId, RollupConfig, RollupGenesis};
use temporis_sequencer::genesis::{dev_genesis, genesis_block};

/// L2 block gas limit of the devnet (the sequencer's default).
pub const DEVNET_L2_GAS_LIMIT: u64 = 30_000_000;
/// How far an L2 block may run ahead of its L1 origin on the devnet, seconds (OP's value).
pub const DEVNET_MAX_SEQUENCER_DRIFT: u64 = 1_800;
/// Ecotone `baseFeeScalar` of the devnet (OP mainnet's value).
pub const DEVNET_BASE_FEE_SCALAR: u32 = 5_227;
/// Ecotone `blobBaseFeeScalar` of the devnet (OP mainnet's value).
pub const DEVNET_BLOB_BASE_FEE_SCALAR: u32 = 1_014_213;

/// Paths of the L2 files in a devnet data directory.
#[derive(Debug, Clone)]
pub struct L2Files {
    /// `genesis.json` (geth format).
    pub genesis: PathBuf,
    /// `rollup.json`.
    pub rollup: PathBuf,
}

impl L2Files {
    /// The files under `datadir`.
    pub fn in_dir(datadir: &Path) -> Self {
        Self { genesis: datadir.join("genesis.json"), rollup: datadir.join("rollup.json") }
    }
}

/// Writes the L2 genesis (the dev genesis: anvil's accounts funded, the predeploys) timed at
/// the L1 start block, and the rollup configuration with the L2 genesis hash, for a rollup whose
/// L1 contracts are `rollup` and whose L2 block time is `block_time` seconds.
pub fn write_l2_files(datadir: &Path, rollup: &RollupDeployment, block_time: u64) -> Result<RollupConfig> {
    let files = L2Files::in_dir(datadir);
    let io = |source| DeployError::Datadir { path: datadir.to_path_buf(), source };
    std::fs::create_dir_all(datadir).map_err(io)?;
    let mut genesis = dev_genesis(DEVNET_L2_CHAIN_ID, DEVNET_L2_GAS_LIMIT);
    genesis.timestamp = rollup.l1_start_time;
    let (_, header) = genesis_block(&genesis, DEVNET_L2_GAS_LIMIT);
    let tmp = files.genesis.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&genesis)?).map_err(io)?;
    std::fs::rename(&tmp, &files.genesis).map_err(io)?;

    let config = RollupConfig {
        l1_chain_id: DEVNET_L1_CHAIN_ID,
        l2_chain_id: DEVNET_L2_CHAIN_ID,
        genesis: RollupGenesis {
            l1: rollup.l1_start,
            l2: BlockId { number: 0, hash: header.hash_slow() },
            l2_time: rollup.l1_start_time,
        },
        block_time,
        max_sequencer_drift: DEVNET_MAX_SEQUENCER_DRIFT,
        l2_gas_limit: DEVNET_L2_GAS_LIMIT,
        fee_recipient: Role::Treasury.address(),
        batcher: Role::Batcher.address(),
        batch_inbox: rollup.batch_inbox,
        portal: rollup.portal,
        output_oracle: rollup.output_oracle,
        base_fee_scalar: DEVNET_BASE_FEE_SCALAR,
        blob_base_fee_scalar: DEVNET_BLOB_BASE_FEE_SCALAR,
    };
    config.validate().map_err(|e| DeployError::Check(e.to_string()))?;
    config.save(&files.rollup).map_err(|e| DeployError::Check(e.to_string()))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, B256};

    #[test]
    fn genesis_file_hashes_to_the_rollup_config() {
        let dir = tempfile::tempdir().unwrap();
        let rollup = RollupDeployment {
            batch_inbox: Address::repeat_byte(1),
            output_oracle: Address::repeat_byte(2),
            portal: Address::repeat_byte(3),
            l1_start: BlockId { number: 4, hash: B256::repeat_byte(4) },
            l1_start_time: 1_750_000_000,
        };
        let config = write_l2_files(dir.path(), &rollup, 1).unwrap();
        let files = L2Files::in_dir(dir.path());
        assert_eq!(RollupConfig::load(&files.rollup).unwrap(), config);
        // What the sequencer reads back from genesis.json hashes to what rollup.json says.
        let text = std::fs::read_to_string(&files.genesis).unwrap();
        let genesis = temporis_sequencer::genesis::parse_genesis(&text).unwrap();
        let (_, header) = genesis_block(&genesis, DEVNET_L2_GAS_LIMIT);
        assert_eq!(header.hash_slow(), config.genesis.l2.hash);
        assert_eq!(header.timestamp, 1_750_000_000);
        assert_eq!(config.genesis.l1, rollup.l1_start);
    }
}
