//! Genesis: the dev genesis and geth/anvil genesis files, and the genesis header.

use std::collections::BTreeMap;

use alloy::consensus::Header;
use alloy::consensus::constants::EMPTY_ROOT_HASH;
use alloy::eips::eip1559::INITIAL_BASE_FEE;
use alloy::eips::eip2935::{HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE};
use alloy::eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy::genesis::{Genesis, GenesisAccount};
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, B256, U256, b256};
use temporis_aivm::State;
use temporis_aivm::precompiles::MODEL_REGISTRY_ADDRESS;
use temporis_contracts::ModelRegistry;

use crate::{Result, SequencerError};

/// Private keys of anvil's default accounts: the first ten of the public test mnemonic
/// `test test test test test test test test test test test junk` (`m/44'/60'/0'/0/i`), the
/// same list as `temporis-deploy`'s `DEV_KEYS`. Published everywhere: never hold real value.
pub const DEV_KEYS: [B256; 10] = [
    b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    b256!("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    b256!("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    b256!("7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    b256!("47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    b256!("8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    b256!("92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    b256!("4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    b256!("dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    b256!("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
];

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
/// contract (as anvil's genesis has it) and the `ModelRegistry` predeploy
/// ([`with_model_registry`]), timestamp 0, gas limit `gas_limit`.
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
    genesis
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
