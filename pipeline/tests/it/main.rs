//! Integration tests of the pipeline services, one binary with a module per service; each test
//! starts its own real anvil on a free port and deploys the rollup contracts with
//! `temporis_deploy::l1::deploy_all`.

mod batcher;
mod derive;
mod proposer;
mod txmgr;
mod watcher;
mod withdraw;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::providers::{DynProvider, Provider};
use serde::de::DeserializeOwned;
use temporis_deploy::l1::{DeployConfig, Deployment, deploy_all};

/// A real anvil (the pinned one in `.tools/bin`) on a free port, chain 31337, with extra args.
pub(crate) fn anvil_with(args: &[&str]) -> AnvilInstance {
    anvil_chain(31337, args)
}

/// A real anvil with chain id `chain_id`.
pub(crate) fn anvil_chain(chain_id: u64, args: &[&str]) -> AnvilInstance {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/bin/anvil");
    assert!(std::path::Path::new(path).exists(), "{path} missing: run `make bootstrap`");
    Anvil::at(path)
        .port(0u16)
        .chain_id(chain_id)
        .args(args.iter().copied())
        .try_spawn()
        .expect("anvil starts")
}

/// An anvil with the rollup contracts deployed.
pub(crate) struct L1 {
    pub(crate) anvil: AnvilInstance,
    pub(crate) contracts: Deployment,
    /// A provider without a signer.
    pub(crate) provider: DynProvider,
}

impl L1 {
    pub(crate) async fn start(args: &[&str]) -> Self {
        let anvil = anvil_with(args);
        let contracts =
            deploy_all(&anvil.endpoint(), &DeployConfig::devnet()).await.expect("contracts deploy");
        let provider = temporis_pipeline::l1::http_provider(&anvil.endpoint()).unwrap();
        Self { anvil, contracts, provider }
    }

    pub(crate) fn url(&self) -> String {
        self.anvil.endpoint()
    }

    /// A raw JSON-RPC call (anvil's own methods).
    pub(crate) async fn rpc<R: DeserializeOwned + Send + Sync + Unpin + std::fmt::Debug + 'static>(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> R {
        self.provider.raw_request(method.into(), params).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Mines `n` blocks.
    pub(crate) async fn mine(&self, n: u64) {
        let _: serde_json::Value = self.rpc("anvil_mine", serde_json::json!([n])).await;
    }

    pub(crate) async fn automine(&self, on: bool) {
        let _: serde_json::Value = self.rpc("evm_setAutomine", serde_json::json!([on])).await;
    }

    pub(crate) async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }
}
