//! Withdrawals end to end over two anvils: the L2 is an anvil (chain 73571) with the real
//! `L2ToL1MessagePasser` code at its predeploy address, so its `eth_getProof` answers are a
//! real node's; the L1 has the rollup contracts. An output of the L2 is proposed by the
//! proposer, then the `temporis-withdraw` binary proves and finalizes the withdrawal.

use crate::{L1, anvil_chain};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use std::process::Command;
use std::sync::Arc;
use temporis_contracts::{L2ToL1MessagePasser, Portal};
use temporis_deploy::accounts::Role;
use temporis_deploy::l1::provider_for;
use temporis_pipeline::SourceError;
use temporis_pipeline::l1::http_provider;
use temporis_pipeline::l1::txmgr::{TxManager, TxManagerConfig};
use temporis_pipeline::proposer::{OutputAtBlock, OutputSource, ProposeStep, Proposer, ProposerConfig};
use temporis_pipeline::withdraw::{output_at_rpc, withdrawals_in_receipt};
use temporis_protocol::chain::{DEVNET_L2_CHAIN_ID, L2_TO_L1_MESSAGE_PASSER_PREDEPLOY};
use temporis_protocol::withdrawal::encode_versioned_nonce;

const ETH: u64 = 1_000_000_000_000_000_000;

/// Outputs read over the L2's RPC; everything up to `safe` counts as batched.
struct RpcOutputs {
    l2: DynProvider,
    safe: u64,
}

impl OutputSource for RpcOutputs {
    async fn safe_head(&self) -> Result<u64, SourceError> {
        Ok(self.safe)
    }
    async fn output_at(&self, n: u64) -> Result<Option<OutputAtBlock>, SourceError> {
        Ok(output_at_rpc(&self.l2, n).await?)
    }
}

fn cli(l1: &L1, l2: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_temporis-withdraw"))
        .args(["--l1.rpc-url", &l1.url(), "--l2.rpc-url", l2])
        .args(["--portal", &l1.contracts.portal.to_string()])
        .args(["--output-oracle", &l1.contracts.output_oracle.to_string()])
        .args(args)
        .output()
        .expect("temporis-withdraw runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_proven_and_finalized_by_the_cli() {
    let l1 = L1::start(&[]).await;
    let l2_anvil = anvil_chain(DEVNET_L2_CHAIN_ID, &[]);
    let l2_url = l2_anvil.endpoint();
    let l2 = http_provider(&l2_url).unwrap();

    // The message passer's runtime code at its predeploy address.
    let admin = provider_for(&l2_url, Role::Admin).unwrap();
    let deployed = *L2ToL1MessagePasser::deploy(&admin).await.unwrap().address();
    let code = l2.get_code_at(deployed).await.unwrap();
    let _: serde_json::Value = l2
        .raw_request("anvil_setCode".into(), serde_json::json!([L2_TO_L1_MESSAGE_PASSER_PREDEPLOY, code]))
        .await
        .unwrap();

    // User1 withdraws 1 ETH to user2 on L1.
    let user1 = provider_for(&l2_url, Role::User1).unwrap();
    let receipt = L2ToL1MessagePasser::new(L2_TO_L1_MESSAGE_PASSER_PREDEPLOY, &user1)
        .initiateWithdrawal(Role::User2.address(), U256::from(100_000), Bytes::new())
        .value(U256::from(ETH))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let ws = withdrawals_in_receipt(&receipt).unwrap();
    assert_eq!(ws.len(), 1);
    let w = &ws[0];
    assert_eq!(
        (w.tx.sender, w.tx.target, w.tx.value),
        (Role::User1.address(), Role::User2.address(), U256::from(ETH))
    );
    assert_eq!(w.tx.nonce, encode_versioned_nonce(0, 1));
    let tx_hash = receipt.transaction_hash.to_string();

    // The L2 reaches block 10, whose output the proposer posts on L1.
    let _: serde_json::Value = l2.raw_request("anvil_mine".into(), serde_json::json!([12])).await.unwrap();
    let _: serde_json::Value = l1.rpc("evm_increaseTime", serde_json::json!([60])).await;
    l1.mine(1).await;
    let proposer_tx =
        TxManager::new(l1.provider.clone(), Role::Proposer.signer(), TxManagerConfig::default())
            .await
            .unwrap();
    let p = Proposer::new(
        RpcOutputs { l2: l2.clone(), safe: 10 },
        Arc::new(proposer_tx),
        ProposerConfig::new(l1.contracts.output_oracle),
    )
    .await
    .unwrap();
    assert!(matches!(p.tick().await.unwrap(), ProposeStep::Proposed { l2_block: 10, .. }));

    // The portal needs the ETH it pays out: a deposit funds it.
    provider_for(&l1.url(), Role::User4)
        .unwrap()
        .send_transaction(
            TransactionRequest::default().with_to(l1.contracts.portal).with_value(U256::from(5 * ETH)),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let key = Role::User3.private_key().to_string();
    let (ok, out, err) = cli(&l1, &l2_url, &["status", "--tx", &tx_hash]);
    assert!(ok, "{err}");
    assert!(
        out.contains("covering output:   0")
            && out.contains("not proven")
            && out.contains("finalized:         false"),
        "{out}"
    );

    // Finalize before prove is refused by the CLI itself.
    let (ok, _, err) = cli(&l1, &l2_url, &["finalize", "--tx", &tx_hash, "--private-key", &key]);
    assert!(!ok && err.contains("not proven"), "{err}");

    let (ok, out, err) = cli(&l1, &l2_url, &["prove", "--tx", &tx_hash, "--private-key", &key]);
    assert!(ok, "prove failed: {err}");
    assert!(out.contains(&format!("proven {}", w.hash)) && out.contains("L2 block 10"), "{out}");
    let proven =
        Portal::new(l1.contracts.portal, &l1.provider).provenWithdrawals(w.hash).call().await.unwrap();
    assert_ne!(proven.timestamp, 0);

    // Within the finalization period the portal refuses (the gas estimate reverts).
    let (ok, _, err) = cli(&l1, &l2_url, &["finalize", "--tx", &tx_hash, "--private-key", &key]);
    assert!(!ok, "finalized too early");
    assert!(err.contains("estimation"), "{err}");

    let _: serde_json::Value = l1.rpc("evm_increaseTime", serde_json::json!([13])).await;
    l1.mine(1).await;
    let before = l1.provider.get_balance(Role::User2.address()).await.unwrap();
    let (ok, out, err) = cli(&l1, &l2_url, &["finalize", "--tx", &tx_hash, "--private-key", &key]);
    assert!(ok, "finalize failed: {err}");
    assert!(out.contains("finalized"), "{out}");
    assert_eq!(l1.provider.get_balance(Role::User2.address()).await.unwrap(), before + U256::from(ETH));
    let (_, out, _) = cli(&l1, &l2_url, &["status", "--tx", &tx_hash]);
    assert!(out.contains("finalized:         true"), "{out}");

    // An index past the transaction's withdrawals is a clear error.
    let (ok, _, err) = cli(&l1, &l2_url, &["status", "--tx", &tx_hash, "--index", "1"]);
    assert!(!ok && err.contains("out of range"), "{err}");
}
