//! Genesis: the dev genesis and geth/anvil genesis files, and the genesis header.

use std::collections::BTreeMap;

use alloy::consensus::Header;
use alloy::consensus::constants::EMPTY_ROOT_HASH;
use alloy::eips::eip1559::INITIAL_BASE_FEE;
use alloy::eips::eip2935::{HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE};
use alloy::eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy::genesis::{Genesis, GenesisAccount};
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256, U256};
use temporis_aivm::State;
use temporis_aivm::l1fee::L1_FEE_VAULT;
use temporis_aivm::precompiles::MODEL_REGISTRY_ADDRESS;
use temporis_contracts::{GasPriceOracle, L1Block, L2ToL1MessagePasser, ModelRegistry};
use temporis_protocol::chain::{
    GAS_PRICE_ORACLE_PREDEPLOY, L1_BLOCK_PREDEPLOY, L2_TO_L1_MESSAGE_PASSER_PREDEPLOY,
};

use crate::{Result, SequencerError};

pub use temporis_protocol::dev::DEV_KEYS;

/// Balance of each dev account: 10 000 ETH, as anvil.
pub const DEV_BALANCE: U256 = U256::from_limbs([0x19e0c9bab2400000, 0x21e, 0, 0]);

/// Addresses of the dev accounts.
pub fn dev_accounts() -> Vec<Address> {
    DEV_KEYS
        .iter()
        .map(|key| PrivateKeySigner::from_bytes(key).expect("the dev keys are valid").address())
        .collect()
}

/// The dev genesis: the dev accounts funded with [`DEV_BALANCE`], the EIP-2935 history
/// contract (as anvil's genesis has it), the `ModelRegistry` predeploy
/// ([`with_model_registry`]) and the rollup predeploys ([`with_rollup_predeploys`]),
/// timestamp 0, gas limit `gas_limit`.
pub fn dev_genesis(chain_id: u64, gas_limit: u64) -> Genesis {
    let mut alloc: BTreeMap<Address, GenesisAccount> = dev_accounts()
        .into_iter()
        .map(|a| (a, GenesisAccount::default().with_balance(DEV_BALANCE)))
        .collect();
    alloc.insert(
        HISTORY_STORAGE_ADDRESS,
        GenesisAccount::default().with_nonce(Some(1)).with_code(Some(HISTORY_STORAGE_CODE.clone())),
    );
    let mut genesis = Genesis::default().extend_accounts(alloc).with_gas_limit(gas_limit);
    genesis.config.chain_id = chain_id;
    genesis.base_fee_per_gas = Some(u128::from(INITIAL_BASE_FEE));
    with_model_registry(&mut genesis);
    with_rollup_predeploys(&mut genesis);
    genesis
}

/// Places the OP Stack predeploys the rollup needs, where the genesis has no code there yet
/// (an account already there keeps its balance and storage): `GasPriceOracle` (0x4200…000F,
/// which quotes the L1 data fee from `L1Block`'s values for OP tooling), `L1Block`
/// (0x4200…0015, written by the L1 attributes deposit of every block, read by the L1 data fee)
/// and `L2ToL1MessagePasser` (0x4200…0016, where withdrawals start), all forge-compiled from
/// `temporis-contracts`, and the `L1FeeVault` account (0x4200…001A, where L1 data fees go).
/// The contracts have no constructor state and no immutables (only constants), so their
/// runtime code is the whole predeploy. The vault is a plain account with nonce 1, so that
/// EIP-161 never deletes it while it is empty. Returns how many it added.
pub fn with_rollup_predeploys(genesis: &mut Genesis) -> usize {
    let mut added = 0;
    for (address, code) in [
        (GAS_PRICE_ORACLE_PREDEPLOY, &GasPriceOracle::DEPLOYED_BYTECODE),
        (L1_BLOCK_PREDEPLOY, &L1Block::DEPLOYED_BYTECODE),
        (L2_TO_L1_MESSAGE_PASSER_PREDEPLOY, &L2ToL1MessagePasser::DEPLOYED_BYTECODE),
    ] {
        let account = genesis.alloc.entry(address).or_default();
        if account.code.as_ref().is_none_or(|c| c.is_empty()) {
            account.code = Some(code.clone());
            account.nonce.get_or_insert(1);
            added += 1;
        }
    }
    let vault = genesis.alloc.entry(L1_FEE_VAULT).or_default();
    if vault.nonce.is_none() {
        vault.nonce = Some(1);
        added += 1;
    }
    added
}

/// Places the `ModelRegistry` predeploy's runtime code (forge-compiled, from
/// `temporis-contracts`) at [`MODEL_REGISTRY_ADDRESS`], the only caller the AIVM's model
/// precompiles serve; returns whether it did. A genesis that already has code there keeps it
/// (a chain may ship another build of the registry); an account there without code keeps its
/// balance, nonce and storage and gets the code. The registry has no constructor state and no
/// immutables, so its runtime code alone is the whole predeploy.
pub fn with_model_registry(genesis: &mut Genesis) -> bool {
    let account = genesis.alloc.entry(MODEL_REGISTRY_ADDRESS).or_default();
    if account.code.as_ref().is_some_and(|c| !c.is_empty()) {
        return false;
    }
    account.code = Some(ModelRegistry::DEPLOYED_BYTECODE.clone());
    // As a contract created by `CREATE` (EIP-161), and as the history contract above.
    account.nonce.get_or_insert(1);
    true
}

/// Reads a genesis file: a whole geth/anvil genesis, or a bare `alloc` object (then with the
/// default fields).
pub fn parse_genesis(json: &str) -> Result<Genesis> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| SequencerError::Genesis(e.to_string()))?;
    if value.get("alloc").is_some() {
        serde_json::from_value(value).map_err(|e| SequencerError::Genesis(e.to_string()))
    } else {
        let alloc: BTreeMap<Address, GenesisAccount> =
            serde_json::from_value(value).map_err(|e| SequencerError::Genesis(e.to_string()))?;
        Ok(Genesis::default().extend_accounts(alloc))
    }
}

/// The genesis state and header. The header is a post-Prague Ethereum header (withdrawals,
/// blob and requests fields present and empty) so every client decodes it the same way.
pub fn genesis_block(genesis: &Genesis, gas_limit: u64) -> (State, Header) {
    let mut state = State::from_genesis_alloc(&genesis.alloc);
    let base_fee = genesis.base_fee_per_gas.map_or(INITIAL_BASE_FEE, |f| f as u64);
    let header = Header {
        state_root: state.state_root(),
        number: 0,
        gas_limit: if genesis.gas_limit == 0 { gas_limit } else { genesis.gas_limit },
        timestamp: genesis.timestamp,
        extra_data: genesis.extra_data.clone(),
        mix_hash: genesis.mix_hash,
        nonce: genesis.nonce.into(),
        beneficiary: genesis.coinbase,
        difficulty: genesis.difficulty,
        base_fee_per_gas: Some(base_fee),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(EMPTY_REQUESTS_HASH),
        ..Header::default()
    };
    (state, header)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::address;

    use super::*;

    #[test]
    fn dev_accounts_are_anvils() {
        let accounts = dev_accounts();
        assert_eq!(accounts[0], address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(accounts[9], address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720"));
        assert_eq!(DEV_BALANCE, U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18)));
    }

    #[test]
    fn the_rollup_predeploys_are_in_the_dev_genesis() {
        let dev = dev_genesis(1, 30_000_000);
        assert_eq!(dev.alloc[&L1_BLOCK_PREDEPLOY].code.as_ref(), Some(&L1Block::DEPLOYED_BYTECODE));
        assert_eq!(
            dev.alloc[&L2_TO_L1_MESSAGE_PASSER_PREDEPLOY].code.as_ref(),
            Some(&L2ToL1MessagePasser::DEPLOYED_BYTECODE)
        );
        assert_eq!(
            dev.alloc[&GAS_PRICE_ORACLE_PREDEPLOY].code.as_ref(),
            Some(&GasPriceOracle::DEPLOYED_BYTECODE)
        );
        assert_eq!(dev.alloc[&GAS_PRICE_ORACLE_PREDEPLOY].nonce, Some(1));
        assert_eq!(dev.alloc[&L1_FEE_VAULT].nonce, Some(1));
        // Again on the same genesis: nothing to add.
        let mut again = dev.clone();
        assert_eq!(with_rollup_predeploys(&mut again), 0);
        // The forge artifacts are runtime code, not init code: no CODECOPY-and-RETURN prologue
        // of a constructor (init code starts by copying itself, runtime code by its dispatcher).
        let (state, _) = genesis_block(&dev, 30_000_000);
        let l1 = state.account(&L1_BLOCK_PREDEPLOY).unwrap();
        assert_eq!(state.code(&l1.code_hash).unwrap(), L1Block::DEPLOYED_BYTECODE);
        assert_ne!(L1Block::DEPLOYED_BYTECODE, L1Block::BYTECODE);
        let oracle = state.account(&GAS_PRICE_ORACLE_PREDEPLOY).unwrap();
        assert_eq!(state.code(&oracle.code_hash).unwrap(), GasPriceOracle::DEPLOYED_BYTECODE);
        assert_ne!(GasPriceOracle::DEPLOYED_BYTECODE, GasPriceOracle::BYTECODE);
    }

    #[test]
    fn bare_alloc_and_full_genesis_parse() {
        let bare = r#"{"0x0000000000000000000000000000000000000001":{"balance":"0x10"}}"#;
        let g = parse_genesis(bare).unwrap();
        assert_eq!(g.alloc.len(), 1);
        let full = r#"{"config":{"chainId":5},"gasLimit":"0x1000","alloc":{"0x0000000000000000000000000000000000000001":{"balance":"0x10"}}}"#;
        let g = parse_genesis(full).unwrap();
        assert_eq!(g.config.chain_id, 5);
        assert_eq!(g.gas_limit, 0x1000);
        assert!(parse_genesis("{").is_err());
    }

    #[test]
    fn the_registry_is_added_unless_code_is_there() {
        let dev = dev_genesis(1, 30_000_000);
        let registry = &dev.alloc[&MODEL_REGISTRY_ADDRESS];
        assert_eq!(registry.code.as_ref(), Some(&ModelRegistry::DEPLOYED_BYTECODE));

        // A file's account there without code keeps its balance and gets the code.
        let mut g =
            parse_genesis(&format!(r#"{{"{MODEL_REGISTRY_ADDRESS}":{{"balance":"0x10"}}}}"#)).unwrap();
        assert!(with_model_registry(&mut g));
        let a = &g.alloc[&MODEL_REGISTRY_ADDRESS];
        assert_eq!((a.balance, a.code.as_ref()), (U256::from(16), Some(&ModelRegistry::DEPLOYED_BYTECODE)));
        // Code already there stays.
        let mut g =
            parse_genesis(&format!(r#"{{"{MODEL_REGISTRY_ADDRESS}":{{"balance":"0x0","code":"0x6001"}}}}"#))
                .unwrap();
        assert!(!with_model_registry(&mut g));
        assert_eq!(
            g.alloc[&MODEL_REGISTRY_ADDRESS].code.as_ref().map(|c| c.to_vec()),
            Some(vec![0x60, 0x01])
        );
    }
}
