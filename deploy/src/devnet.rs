//! The devnet: anvil as the L1, every contract deployed, a manifest of what is where.

use crate::accounts::Role;
use crate::l1::{DeployConfig, Deployment};
use crate::{DeployError, Result};
use alloy::node_bindings::{Anvil, AnvilInstance};
use serde::Serialize;
use std::path::{Path, PathBuf};
use temporis_protocol::chain::{DEVNET_L1_CHAIN_ID, DEVNET_L1_PORT};

/// Where and how to start the devnet's L1.
#[derive(Debug, Clone)]
pub struct L1Options {
    /// Path of the anvil binary.
    pub anvil_path: PathBuf,
    /// Port anvil listens on (loopback).
    pub port: u16,
    /// Seconds between L1 blocks; `None` mines a block per transaction (anvil's automine).
    pub block_time: Option<u64>,
}

impl Default for L1Options {
    fn default() -> Self {
        Self { anvil_path: PathBuf::from("anvil"), port: DEVNET_L1_PORT, block_time: None }
    }
}

/// Starts anvil with the devnet's chain id and anvil's default (dev-mnemonic) accounts.
pub fn start_anvil(opts: &L1Options) -> Result<AnvilInstance> {
    let mut anvil = Anvil::at(&opts.anvil_path).port(opts.port).chain_id(DEVNET_L1_CHAIN_ID);
    if let Some(secs) = opts.block_time {
        anvil = anvil.block_time(secs);
    }
    anvil
        .try_spawn()
        .map_err(|source| DeployError::Anvil { path: opts.anvil_path.display().to_string(), source })
}

/// One funded dev account as written to the manifest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountEntry {
    /// Role name (`admin`, `batcher`, …, `user1`…).
    pub role: &'static str,
    /// Address.
    pub address: String,
    /// Private key (public dev key).
    pub private_key: String,
}

/// `addresses.json`: everything a tool or a test needs to talk to the devnet.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// L1 endpoint and chain id.
    pub l1: Endpoint,
    /// Deployed contracts.
    pub contracts: Deployment,
    /// Rollup parameters the contracts were deployed with.
    pub config: DeployConfig,
    /// The DA server (OP Alt-DA HTTP API over the local backend).
    pub da: DaEndpoint,
    /// Funded accounts and their roles.
    pub accounts: Vec<AccountEntry>,
}

/// Where the devnet's DA server listens.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaEndpoint {
    /// Base URL of the OP Alt-DA API (`/put`, `/get/0x…`, `/health`, `/metrics`).
    pub url: String,
    /// Backend behind it.
    pub backend: &'static str,
}

/// A JSON-RPC endpoint.
#[derive(Debug, Clone, Serialize)]
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
                role: r.name(),
                address: r.address().to_checksum(None),
                private_key: r.private_key().to_string(),
            })
            .collect();
        Self {
            l1: Endpoint { rpc_url, chain_id: DEVNET_L1_CHAIN_ID },
            contracts,
            config,
            da: DaEndpoint { url: da_url, backend: "local" },
            accounts,
        }
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
        s.push_str("  L2, follower, indexer: not part of the devnet yet (their issues add them)\n\n");
        s.push_str("Contracts on L1\n");
        for (name, address) in self.contracts.entries() {
            s.push_str(&format!("  {name:<18} {address}\n"));
        }
        s.push_str("\nFunded accounts (anvil's public test mnemonic; never use on a real network)\n");
        for a in &self.accounts {
            s.push_str(&format!("  {:<10} {}  {}\n", a.role, a.address, a.private_key));
        }
        s
    }
}
