//! The devnet: anvil as the L1, every contract deployed, a manifest of what is where.

use crate::accounts::Role;
use crate::l1::{DeployConfig, Deployment, MarketplaceDeployment};
use crate::{DeployError, Result};
use alloy::node_bindings::{Anvil, AnvilInstance};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use temporis_protocol::chain::{DEVNET_L1_CHAIN_ID, DEVNET_L1_PORT, DEVNET_L2_CHAIN_ID};

/// Port of the devnet follower's read-only JSON-RPC.
pub const DEVNET_FOLLOWER_PORT: u16 = 9546;

/// Where and how to start the devnet's L1.
#[derive(Debug, Clone)]
pub struct L1Options {
    /// Path of the anvil binary.
    pub anvil_path: PathBuf,
    /// Port anvil listens on (loopback).
    pub port: u16,
    /// Seconds between L1 blocks; `None` mines a block per transaction (anvil's automine).
    pub block_time: Option<u64>,
    /// A file anvil loads its state from (when it exists) and dumps it to (every second and on
    /// exit), so that the L1 survives a restart.
    pub state_path: Option<PathBuf>,
}

impl Default for L1Options {
    fn default() -> Self {
        Self { anvil_path: PathBuf::from("anvil"), port: DEVNET_L1_PORT, block_time: None, state_path: None }
    }
}

/// Starts anvil with the devnet's chain id and anvil's default (dev-mnemonic) accounts.
pub fn start_anvil(opts: &L1Options) -> Result<AnvilInstance> {
    let mut anvil = Anvil::at(&opts.anvil_path).port(opts.port).chain_id(DEVNET_L1_CHAIN_ID);
    if let Some(secs) = opts.block_time {
        anvil = anvil.block_time(secs);
    }
    if let Some(path) = &opts.state_path {
        anvil =
            anvil.args(["--state".into(), path.display().to_string(), "--state-interval".into(), "1".into()]);
    }
    anvil
        .try_spawn()
        .map_err(|source| DeployError::Anvil { path: opts.anvil_path.display().to_string(), source })
}

/// One funded dev account as written to the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountEntry {
    /// Role name (`admin`, `batcher`, …, `user1`…).
    pub role: String,
    /// Address.
    pub address: String,
    /// Private key (public dev key).
    pub private_key: String,
}

/// `addresses.json`: everything a tool or a test needs to talk to the devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// L1 endpoint and chain id.
    pub l1: Endpoint,
    /// Contracts deployed on the L1.
    pub contracts: Deployment,
    /// The L2: endpoints and the contracts deployed there.
    #[serde(default)]
    pub l2: L2Section,
    /// Rollup parameters the contracts were deployed with.
    pub config: DeployConfig,
    /// The DA server (OP Alt-DA HTTP API over the local backend).
    pub da: DaEndpoint,
    /// Funded accounts and their roles.
    pub accounts: Vec<AccountEntry>,
}

/// Where the devnet's DA server listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaEndpoint {
    /// Base URL of the OP Alt-DA API (`/put`, `/get/0x…`, `/health`, `/metrics`).
    pub url: String,
    /// Backend behind it.
    pub backend: String,
}

/// The L2 part of the manifest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L2Section {
    /// The sequencer's JSON-RPC (HTTP; WS on the same port).
    pub rpc_url: Option<String>,
    /// The follower's read-only JSON-RPC.
    pub follower_url: Option<String>,
    /// L2 chain id.
    pub chain_id: u64,
    /// `ModelNFT`, `ModelMarketplace`, `InferenceMarket` deployed on the L2.
    pub contracts: Option<MarketplaceDeployment>,
}

/// A JSON-RPC endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// HTTP URL.
    pub rpc_url: String,
    /// Chain id.
    pub chain_id: u64,
}

impl Manifest {
    /// Builds the manifest for a deployment on `rpc_url`.
    pub fn new(rpc_url: String, da_url: String, contracts: Deployment, config: DeployConfig) -> Self {
        let accounts = Role::ALL
            .iter()
            .map(|r| AccountEntry {
                role: r.name().to_owned(),
                address: r.address().to_checksum(None),
                private_key: r.private_key().to_string(),
            })
            .collect();
        Self {
            l1: Endpoint { rpc_url, chain_id: DEVNET_L1_CHAIN_ID },
            contracts,
            l2: L2Section { chain_id: DEVNET_L2_CHAIN_ID, ..L2Section::default() },
            config,
            da: DaEndpoint { url: da_url, backend: "local".to_owned() },
            accounts,
        }
    }

    /// Reads `<datadir>/addresses.json` (a devnet being resumed).
    pub fn read(datadir: &Path) -> Result<Self> {
        let path = datadir.join("addresses.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|source| DeployError::Datadir { path: path.clone(), source })?;
        Ok(serde_json::from_str(&text)?)
    }

    /// The same deployment served at other URLs (ports may change between runs); the L2
    /// endpoints are set again by whoever starts the L2.
    pub fn with_urls(mut self, rpc_url: String, da_url: String) -> Self {
        self.l1.rpc_url = rpc_url;
        self.da.url = da_url;
        self.l2.rpc_url = None;
        self.l2.follower_url = None;
        self
    }

    /// Writes the manifest to `<datadir>/addresses.json` atomically (temp file, then rename), so
    /// a reader never sees half of it.
    pub fn write(&self, datadir: &Path) -> Result<PathBuf> {
        let io = |source| DeployError::Datadir { path: datadir.to_path_buf(), source };
        std::fs::create_dir_all(datadir).map_err(io)?;
        let path = datadir.join("addresses.json");
        let tmp = datadir.join("addresses.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(path)
    }

    /// Human-readable summary (what `temporis-devnet` prints).
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("Temporis devnet\n\n");
        s.push_str(&format!("  L1 (anvil)   {}   chain id {}\n", self.l1.rpc_url, self.l1.chain_id));
        s.push_str(&format!("  DA server    {}   OP Alt-DA API, {} backend\n", self.da.url, self.da.backend));
        match &self.l2.rpc_url {
            Some(url) => s.push_str(&format!(
                "  L2 sequencer {url}   chain id {} (HTTP and WS; batcher and proposer in process)\n",
                self.l2.chain_id
            )),
            None => s.push_str("  L2 sequencer not started (--l1-only)\n"),
        }
        if let Some(url) = &self.l2.follower_url {
            s.push_str(&format!("  L2 follower  {url}   read-only, derived from L1 + DA alone\n"));
        }
        s.push_str("\nContracts on L1\n");
        for (name, address) in self.contracts.entries() {
            s.push_str(&format!("  {name:<18} {address}\n"));
        }
        if let Some(c) = &self.l2.contracts {
            s.push_str("\nContracts on L2\n");
            for (name, address) in [
                ("ModelNFT", c.model_nft),
                ("ModelMarketplace", c.marketplace),
                ("InferenceMarket", c.inference_market),
            ] {
                s.push_str(&format!("  {name:<18} {address}\n"));
            }
            s.push_str(&format!(
                "  {:<18} {}\n  {:<18} {}\n  {:<18} {}\n  {:<18} {}\n",
                "GasPriceOracle",
                temporis_protocol::chain::GAS_PRICE_ORACLE_PREDEPLOY,
                "L1Block",
                temporis_protocol::chain::L1_BLOCK_PREDEPLOY,
                "L2ToL1MessagePasser",
                temporis_protocol::chain::L2_TO_L1_MESSAGE_PASSER_PREDEPLOY,
                "ModelRegistry",
                "0x4200000000000000000000000000000000000A00"
            ));
        }
        s.push_str("\nFunded accounts (anvil's public test mnemonic; never use on a real network)\n");
        for a in &self.accounts {
            s.push_str(&format!("  {:<10} {}  {}\n", a.role, a.address, a.private_key));
        }
        s
    }
}
