//! Every user-facing contract flow as real transactions on anvil, checked on chain as it goes:
//! mint (base and derived), list, buy with royalty and lineage shares, rent, offer; the inference
//! market from provider registration to a recorded inference; a batch commitment; a deposit; and
//! a withdrawal proven with anvil's own `eth_getProof` against a proposed output root, then
//! finalized and paid out. The same scenario produces the gas table (`make gas`).

use eyre::Result;
use temporis_deploy::devnet::{L1Options, start_anvil};
use temporis_deploy::gas::measure;
use temporis_deploy::l1::{DeployConfig, deploy_all};
use temporis_e2e::{free_port, tool};

#[tokio::test(flavor = "multi_thread")]
async fn every_contract_flow_runs_and_settles() -> Result<()> {
    let anvil = start_anvil(&L1Options {
        anvil_path: tool("anvil")?,
        port: free_port()?,
        block_time: None,
        state_path: None,
    })?;
    let config = DeployConfig::devnet();
    let deployment = deploy_all(&anvil.endpoint(), &config).await?;
    // `measure` fails on any revert and on any effect that is not what it should be (owner,
    // lineage share, withdrawal hash, the withdrawn ETH arriving, the replay flag).
    let rows = measure(&anvil.endpoint(), &deployment, &config).await?;
    let functions: Vec<&str> = rows.iter().map(|r| r.function).collect();
    for expected in [
        "ModelNFT.mint",
        "ModelMarketplace.list",
        "ModelMarketplace.buy",
        "ModelMarketplace.rent",
        "ModelMarketplace.settleRental",
        "ModelMarketplace.makeOffer",
        "InferenceMarket.openRequest",
        "InferenceMarket.bid",
        "InferenceMarket.recordInference",
        "Portal.depositTransaction",
        "Portal.proveWithdrawalTransaction",
        "Portal.finalizeWithdrawalTransaction",
    ] {
        assert!(functions.contains(&expected), "{expected} missing from the flows: {functions:?}");
    }
    assert!(rows.iter().all(|r| r.gas_used > 21_000), "every row is a real transaction");
    Ok(())
}
