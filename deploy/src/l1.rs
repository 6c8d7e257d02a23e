//! Deployment of every Temporis contract on an L1 (or, for the application contracts, any EVM chain).

use crate::accounts::Role;
use crate::{DeployError, Result};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use serde::{Deserialize, Serialize};
use temporis_contracts::{BatchInbox, InferenceMarket, ModelMarketplace, ModelNFT, OutputOracle, Portal};

/// Rollup and market parameters the contracts are deployed with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployConfig {
    /// L2 blocks between two output proposals.
    pub submission_interval: u64,
    /// Seconds per L2 block.
    pub l2_block_time: u64,
    /// Seconds during which an output can be invalidated, and after proving before a withdrawal
    /// can be finalized.
    pub finalization_period_seconds: u64,
    /// Wei each output proposal carries as bond.
    pub output_bond_wei: U256,
    /// Marketplace protocol fee, basis points.
    pub marketplace_fee_bps: u16,
    /// Minimum provider stake in the inference market, wei.
    pub inference_min_stake_wei: U256,
    /// Seconds between requesting and withdrawing a provider stake.
    pub inference_unstake_delay: u32,
    /// Seconds during which a consumer may dispute a recorded inference.
    pub inference_dispute_window: u32,
    /// Inference-market protocol fee, basis points.
    pub inference_fee_bps: u16,
    /// Share of a provider's stake slashed when found at fault, basis points.
    pub inference_slash_bps: u16,
    /// ETH a consumer posts with a dispute, wei.
    pub inference_dispute_bond_wei: U256,
}

impl DeployConfig {
    /// The devnet's parameters: short periods so that whole flows fit in a test.
    pub fn devnet() -> Self {
        const ETH: u64 = 1_000_000_000_000_000_000;
        Self {
            submission_interval: 10,
            l2_block_time: 1,
            finalization_period_seconds: 12,
            output_bond_wei: U256::from(ETH / 10),
            marketplace_fee_bps: 250,
            inference_min_stake_wei: U256::from(ETH),
            inference_unstake_delay: 60,
            inference_dispute_window: 60,
            inference_fee_bps: 100,
            inference_slash_bps: 5_000,
            inference_dispute_bond_wei: U256::from(ETH / 100),
        }
    }
}

/// Addresses of the deployed contracts (the `contracts` object of `addresses.json`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `ModelNFT`.
    pub model_nft: Address,
    /// `ModelMarketplace`.
    pub marketplace: Address,
    /// `InferenceMarket`.
    pub inference_market: Address,
    /// `BatchInbox`.
    pub batch_inbox: Address,
    /// `OutputOracle`.
    pub output_oracle: Address,
    /// `Portal`.
    pub portal: Address,
}

impl Deployment {
    /// The L1 deployment made of its two parts.
    pub fn from_parts(apps: MarketplaceDeployment, rollup: RollupDeployment) -> Self {
        Self {
            model_nft: apps.model_nft,
            marketplace: apps.marketplace,
            inference_market: apps.inference_market,
            batch_inbox: rollup.batch_inbox,
            output_oracle: rollup.output_oracle,
            portal: rollup.portal,
        }
    }

    /// `(name, address)` pairs in a stable order, for printing.
    pub fn entries(&self) -> [(&'static str, Address); 6] {
        [
            ("ModelNFT", self.model_nft),
            ("ModelMarketplace", self.marketplace),
            ("InferenceMarket", self.inference_market),
            ("BatchInbox", self.batch_inbox),
            ("OutputOracle", self.output_oracle),
            ("Portal", self.portal),
        ]
    }
}

/// A provider that signs as `role`.
pub fn provider_for(rpc_url: &str, role: Role) -> Result<DynProvider> {
    let url = rpc_url.parse().map_err(|e| {
        DeployError::Rpc(alloy::transports::TransportErrorKind::custom_str(&format!(
            "bad RPC URL {rpc_url}: {e}"
        )))
    })?;
    Ok(ProviderBuilder::new().wallet(EthereumWallet::from(role.signer())).connect_http(url).erased())
}

/// Maps a contract-call failure to [`DeployError::Contract`] naming the step.
pub(crate) fn contract_err(contract: &'static str) -> impl FnOnce(alloy::contract::Error) -> DeployError {
    move |source| DeployError::Contract { contract, source: Box::new(source) }
}

/// Deploys every contract with the devnet roles of [`Role`]: admin owns and guards everything,
/// `batcher` posts batches, `proposer` proposes outputs, `challenger` arbitrates inference
/// disputes and stands in for the dispute game, `treasury` collects fees.
pub async fn deploy_all(rpc_url: &str, config: &DeployConfig) -> Result<Deployment> {
    let apps = deploy_marketplace(rpc_url, config).await?;
    let rollup = deploy_rollup(rpc_url, config).await?;
    Ok(Deployment::from_parts(apps, rollup))
}

/// The dapp contracts (deployable unchanged on either layer).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceDeployment {
    /// `ModelNFT`.
    pub model_nft: Address,
    /// `ModelMarketplace`.
    pub marketplace: Address,
    /// `InferenceMarket`.
    pub inference_market: Address,
}

/// The rollup's L1 contracts.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupDeployment {
    /// `BatchInbox`.
    pub batch_inbox: Address,
    /// `OutputOracle`.
    pub output_oracle: Address,
    /// `Portal`.
    pub portal: Address,
    /// The L1 block the `OutputOracle` was deployed in (its starting timestamp is this block's);
    /// the rollup starts here.
    pub l1_start: temporis_protocol::rollup::BlockId,
    /// Timestamp of `l1_start`: the L2 genesis timestamp.
    pub l1_start_time: u64,
}

/// `ModelNFT`, `ModelMarketplace` and `InferenceMarket` with the devnet roles, on the chain at
/// `rpc_url` (the L1 or the L2: the contracts are the same).
pub async fn deploy_marketplace(rpc_url: &str, config: &DeployConfig) -> Result<MarketplaceDeployment> {
    let p = provider_for(rpc_url, Role::Admin)?;
    let admin = Role::Admin.address();
    let treasury = Role::Treasury.address();

    let model_nft = *ModelNFT::deploy(&p, admin).await.map_err(contract_err("ModelNFT"))?.address();
    let marketplace = *ModelMarketplace::deploy(
        &p,
        model_nft,
        admin,
        admin,
        treasury,
        U256::from(config.marketplace_fee_bps),
    )
    .await
    .map_err(contract_err("ModelMarketplace"))?
    .address();
    let inference_market = *InferenceMarket::deploy(
        &p,
        temporis_contracts::inference_market::IInferenceMarket::Config {
            modelNFT: model_nft,
            admin,
            arbiter: Role::Challenger.address(),
            guardian: admin,
            treasury,
            minStake: config.inference_min_stake_wei.to(),
            unstakeDelay: config.inference_unstake_delay,
            disputeWindow: config.inference_dispute_window,
            protocolFeeBps: config.inference_fee_bps,
            slashBps: config.inference_slash_bps,
            disputeBond: config.inference_dispute_bond_wei.to(),
        },
    )
    .await
    .map_err(contract_err("InferenceMarket"))?
    .address();
    Ok(MarketplaceDeployment { model_nft, marketplace, inference_market })
}

/// `BatchInbox`, `OutputOracle` and `Portal` on the L1 at `rpc_url`.
pub async fn deploy_rollup(rpc_url: &str, config: &DeployConfig) -> Result<RollupDeployment> {
    let p = provider_for(rpc_url, Role::Admin)?;
    let admin = Role::Admin.address();

    let batch_inbox = *BatchInbox::deploy(&p, admin, Role::Batcher.address(), admin)
        .await
        .map_err(contract_err("BatchInbox"))?
        .address();

    // The first output covers L2 block `submission_interval`, timed from the L1 head's timestamp.
    let head = p.get_block_number().await?;
    let head_block = p.get_block_by_number(head.into()).await?.ok_or_else(|| {
        DeployError::Rpc(alloy::transports::TransportErrorKind::custom_str("L1 head block missing"))
    })?;
    let output_oracle = *OutputOracle::deploy(
        &p,
        U256::from(config.submission_interval),
        U256::from(config.l2_block_time),
        U256::ZERO,
        U256::from(head_block.header.timestamp),
        U256::from(config.finalization_period_seconds),
        config.output_bond_wei,
        admin,
        Role::Proposer.address(),
        Role::Challenger.address(),
    )
    .await
    .map_err(contract_err("OutputOracle"))?
    .address();
    let portal =
        *Portal::deploy(&p, output_oracle, admin, admin).await.map_err(contract_err("Portal"))?.address();

    Ok(RollupDeployment {
        batch_inbox,
        output_oracle,
        portal,
        l1_start: temporis_protocol::rollup::BlockId { number: head, hash: head_block.header.hash },
        l1_start_time: head_block.header.timestamp,
    })
}
