//! The gas table: every user-facing operation performed once as a real transaction on an L1,
//! with the gas its receipt reports (21 000 base and calldata included).
//!
//! The flows are complete and checked as they go (owners, balances, a withdrawal really paid
//! out), so the end-to-end tests run the same scenario as a test. Until the L2 node exists, the
//! withdrawal's "L2" is the same anvil: an `L2ToL1MessagePasser` is deployed there, a withdrawal
//! is initiated, and the proof is anvil's own `eth_getProof` of the passer's storage, so the
//! portal verifies a real Merkle-Patricia proof against a real state root.

use crate::accounts::Role;
use crate::l1::{DeployConfig, Deployment, contract_err as contract, provider_for};
use crate::{DeployError, Result};
use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use temporis_contracts::model_nft::IModelNFT::MintParams;
use temporis_contracts::portal::Types::{OutputRootProof, WithdrawalTransaction};
use temporis_contracts::{
    BatchInbox, InferenceMarket, L2ToL1MessagePasser, ModelMarketplace, ModelNFT, OutputOracle, Portal,
};
use temporis_protocol::commitment::Commitment;
use temporis_protocol::output::OutputRootV0;
use temporis_protocol::withdrawal::{WithdrawalTransaction as ProtocolWithdrawal, sent_message_slot};

const ETH: u128 = 1_000_000_000_000_000_000;

/// One measured operation.
#[derive(Debug, Clone)]
pub struct GasRow {
    /// What was done.
    pub operation: &'static str,
    /// Which contract function.
    pub function: &'static str,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// The target, where one is set.
    pub target: Option<u64>,
    /// Conditions that change the figure (fresh storage slots and the like).
    pub note: &'static str,
}

/// Sends a contract call, waits for its receipt and fails on revert.
macro_rules! tx {
    ($what:expr, $call:expr) => {{
        let what: &'static str = $what;
        let receipt = $call
            .send()
            .await
            .map_err(contract(what))?
            .get_receipt()
            .await
            .map_err(|source| DeployError::Pending { what, source: Box::new(source) })?;
        if !receipt.status() {
            return Err(DeployError::Reverted { what, tx: receipt.transaction_hash });
        }
        receipt
    }};
}

fn check(cond: bool, msg: impl FnOnce() -> String) -> Result<()> {
    if cond { Ok(()) } else { Err(DeployError::Check(msg())) }
}

fn fee_paid(r: &TransactionReceipt) -> U256 {
    U256::from(r.gas_used) * U256::from(r.effective_gas_price)
}

async fn advance_time(p: &DynProvider, seconds: u64) -> Result<()> {
    p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (seconds,)).await?;
    p.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    Ok(())
}

async fn now(p: &DynProvider) -> Result<u64> {
    let block = p
        .get_block(BlockId::latest())
        .await?
        .ok_or_else(|| DeployError::Check("latest block missing".into()))?;
    Ok(block.header.timestamp)
}

/// Runs every operation once on the chain at `rpc_url`, where `deployment` was deployed with
/// `config` and the dev accounts are funded (anvil). The chain's clock is moved forward with
/// `evm_increaseTime`, so this is for anvil only.
pub async fn measure(rpc_url: &str, d: &Deployment, config: &DeployConfig) -> Result<Vec<GasRow>> {
    let mut rows = Vec::new();
    let mut row = |operation, function, r: &TransactionReceipt, target, note| {
        rows.push(GasRow { operation, function, gas_used: r.gas_used, target, note });
    };
    let creator = provider_for(rpc_url, Role::User1)?;
    let buyer = provider_for(rpc_url, Role::User2)?;
    let renter = provider_for(rpc_url, Role::User3)?;
    let provider4 = provider_for(rpc_url, Role::User4)?;
    let consumer = provider_for(rpc_url, Role::User5)?;

    // ---- ModelNFT and marketplace.
    let nft = ModelNFT::new(d.model_nft, &creator);
    let params = |parent: u64, tag: u8| MintParams {
        contentHash: B256::repeat_byte(tag),
        daCommitment: Commitment::Keccak(B256::repeat_byte(tag)).encode(),
        license: B256::right_padding_from(b"Apache-2.0"),
        parentId: U256::from(parent),
        encrypted: false,
        royaltyReceiver: Role::User5.address(),
        royaltyBps: 500,
        lineageBps: 300,
    };
    let r = tx!("mint", nft.mint(Role::User1.address(), params(0, 0xa1)));
    row("mint a base model", "ModelNFT.mint", &r, Some(130_000), "first token of the recipient");
    let r = tx!("mint derived", nft.mint(Role::User1.address(), params(1, 0xa2)));
    row(
        "mint a derived model (LoRA adapter)",
        "ModelNFT.mint",
        &r,
        None,
        "parent set; recipient holds a token",
    );
    check(
        nft.ownerOf(U256::from(2)).call().await.map_err(contract("ownerOf"))? == Role::User1.address(),
        || "token 2 not owned by its minter".into(),
    )?;

    let market_c = ModelMarketplace::new(d.marketplace, &creator);
    tx!("approve marketplace", nft.setApprovalForAll(d.marketplace, true));
    let price = U256::from(ETH);
    let r = tx!("list", market_c.list(U256::from(1), Address::ZERO, price));
    row("list for sale (ETH)", "ModelMarketplace.list", &r, Some(60_000), "");
    let market_b = ModelMarketplace::new(d.marketplace, &buyer);
    let r = tx!("buy", market_b.buy(U256::from(1), Address::ZERO, price).value(price));
    row(
        "buy with royalty (ETH)",
        "ModelMarketplace.buy",
        &r,
        Some(110_000),
        "first sale: token's first transfer; royalty receiver and seller never paid before",
    );
    check(
        nft.ownerOf(U256::from(1)).call().await.map_err(contract("ownerOf"))? == Role::User2.address(),
        || "buy did not transfer the token".into(),
    )?;

    tx!(
        "approve marketplace (buyer)",
        ModelNFT::new(d.model_nft, &buyer).setApprovalForAll(d.marketplace, true)
    );
    let per_second = U256::from(1_000_000_000_000u64);
    let r = tx!(
        "list for rent",
        market_b.listForRent(U256::from(1), per_second, U256::from(86_400), Address::ZERO)
    );
    row("list for rent", "ModelMarketplace.listForRent", &r, None, "");
    let market_r = ModelMarketplace::new(d.marketplace, &renter);
    let cost = per_second * U256::from(3600);
    let r = tx!("rent", market_r.rent(U256::from(1), U256::from(3600), Address::ZERO, cost).value(cost));
    row(
        "rent for one hour",
        "ModelMarketplace.rent",
        &r,
        None,
        "sets the ERC-4907 user; payment held in escrow",
    );
    check(
        nft.userOf(U256::from(1)).call().await.map_err(contract("userOf"))? == Role::User3.address(),
        || "rent did not set the user".into(),
    )?;
    let expiry = U256::from(now(&renter).await? + 86_400);
    let r = tx!(
        "offer",
        market_r
            .makeOffer(U256::from(2), Address::ZERO, U256::from(ETH / 2), expiry)
            .value(U256::from(ETH / 2))
    );
    row("make an offer (ETH, escrowed)", "ModelMarketplace.makeOffer", &r, None, "");

    // A second sale, of the derived model: ERC-2981 royalty plus the base's lineage share, to
    // receivers that already hold balances (the steady state of a busy market).
    let r = tx!("list derived", market_c.list(U256::from(2), Address::ZERO, price));
    let before =
        market_b.owed(Role::User2.address(), Address::ZERO).call().await.map_err(contract("owed"))?;
    let r2 = tx!("buy derived", market_b.buy(U256::from(2), Address::ZERO, price).value(price));
    row(
        "buy with royalty + lineage share (ETH)",
        "ModelMarketplace.buy",
        &r2,
        Some(110_000),
        "token's first transfer; royalty, lineage and seller balances already exist",
    );
    let after = market_b.owed(Role::User2.address(), Address::ZERO).call().await.map_err(contract("owed"))?;
    // The base (token 1, owned by user2) asks 3% of its descendants' sales.
    check(after - before == price * U256::from(300) / U256::from(10_000), || {
        format!("lineage share paid {} wei", after - before)
    })?;
    let _ = r;

    // The rental ends; anyone settles it: fee, royalty and the owner's share move to pull balances.
    advance_time(&renter, 3601).await?;
    let owed_before =
        market_b.owed(Role::User2.address(), Address::ZERO).call().await.map_err(contract("owed"))?;
    let r = tx!("settle rental", market_r.settleRental(U256::from(1)));
    row(
        "settle an ended rental",
        "ModelMarketplace.settleRental",
        &r,
        None,
        "fee, royalty, owner's share credited",
    );
    let owed_after =
        market_b.owed(Role::User2.address(), Address::ZERO).call().await.map_err(contract("owed"))?;
    let fee = cost * U256::from(config.marketplace_fee_bps) / U256::from(10_000);
    let royalty = cost * U256::from(500) / U256::from(10_000);
    check(owed_after - owed_before == cost - fee - royalty, || {
        format!("rental owner credited {} wei, expected {}", owed_after - owed_before, cost - fee - royalty)
    })?;

    // A resale of the derived model: its second transfer, every receiver already paid before.
    tx!(
        "approve marketplace (user2)",
        ModelNFT::new(d.model_nft, &buyer).setApprovalForAll(d.marketplace, true)
    );
    tx!("relist derived", market_b.list(U256::from(2), Address::ZERO, price));
    let r = tx!("resale", market_r.buy(U256::from(2), Address::ZERO, price).value(price));
    row(
        "resale with royalty + lineage share (ETH)",
        "ModelMarketplace.buy",
        &r,
        Some(110_000),
        "token sold before; all receivers already hold balances",
    );
    // And a resale of the base model (ERC-2981 royalty only), every receiver already paid before.
    tx!("relist base", market_b.list(U256::from(1), Address::ZERO, price));
    let r = tx!("resale base", market_r.buy(U256::from(1), Address::ZERO, price).value(price));
    row(
        "resale with royalty (ETH)",
        "ModelMarketplace.buy",
        &r,
        Some(110_000),
        "token sold before; seller and royalty receiver already hold balances",
    );

    // ---- Inference market.
    let im_p = InferenceMarket::new(d.inference_market, &provider4);
    let im_c = InferenceMarket::new(d.inference_market, &consumer);
    let r = tx!("register provider", im_p.registerProvider().value(config.inference_min_stake_wei));
    row("register as provider (stake)", "InferenceMarket.registerProvider", &r, None, "");
    let n = 4u64;
    let max_price = U256::from(ETH / 100);
    let deadline = U256::from(now(&consumer).await? + 600);
    let r = tx!(
        "open request",
        im_c.openRequest(U256::from(1), U256::from(n), max_price, deadline).value(max_price * U256::from(n))
    );
    row("open an inference request", "InferenceMarket.openRequest", &r, None, "escrows N × max price");
    let request_id = U256::from(1);
    let r = tx!("bid", im_p.bid(request_id, max_price * U256::from(8) / U256::from(10)));
    row("bid on a request", "InferenceMarket.bid", &r, None, "first bid");
    let r = tx!("accept bid", im_c.acceptBid(request_id, Role::User4.address()));
    row("accept a bid", "InferenceMarket.acceptBid", &r, None, "refunds escrow above N × bid");
    let r =
        tx!("record inference", im_p.recordInference(request_id, B256::repeat_byte(1), B256::repeat_byte(2)));
    row(
        "record an inference",
        "InferenceMarket.recordInference",
        &r,
        None,
        "payment released after the dispute window",
    );

    // ---- Rollup: batch, deposit, withdrawal.
    let batcher = provider_for(rpc_url, Role::Batcher)?;
    let payload = Commitment::keccak(b"a batch").to_inbox_payload();
    let r = tx!("post batch", BatchInbox::new(d.batch_inbox, &batcher).postBatch(payload));
    row("post a batch commitment", "BatchInbox.postBatch", &r, None, "keccak256 Alt-DA commitment");

    let portal = Portal::new(d.portal, &creator);
    let r = tx!(
        "deposit",
        portal
            .depositTransaction(Role::User1.address(), U256::ZERO, 100_000, false, Bytes::new())
            .value(U256::from(ETH))
    );
    row("deposit ETH to L2", "Portal.depositTransaction", &r, None, "EOA, no calldata");

    // The withdrawal starts on the "L2" (here the same anvil, see the module docs).
    let passer_addr =
        *L2ToL1MessagePasser::deploy(&creator).await.map_err(contract("L2ToL1MessagePasser"))?.address();
    let passer = L2ToL1MessagePasser::new(passer_addr, &creator);
    let nonce = passer.messageNonce().call().await.map_err(contract("messageNonce"))?;
    let value = U256::from(ETH / 2);
    let w = ProtocolWithdrawal {
        nonce,
        sender: Role::User1.address(),
        target: Role::User1.address(),
        value,
        gas_limit: U256::from(100_000),
        data: Bytes::new(),
    };
    let r = tx!(
        "initiate withdrawal",
        passer.initiateWithdrawal(w.target, w.gas_limit, w.data.clone()).value(value)
    );
    let event = r
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<L2ToL1MessagePasser::MessagePassed>().ok())
        .ok_or_else(|| DeployError::Check("no MessagePassed event".into()))?;
    check(event.inner.data.withdrawalHash == w.hash(), || {
        format!(
            "withdrawal hash: contract {} != temporis-protocol {}",
            event.inner.data.withdrawalHash,
            w.hash()
        )
    })?;
    let l2_block = r.block_number.ok_or_else(|| DeployError::Check("receipt without block".into()))?;
    let proof = creator
        .get_proof(passer_addr, vec![sent_message_slot(w.hash())])
        .block_id(BlockId::number(l2_block))
        .await?;
    let block = creator
        .get_block(BlockId::number(l2_block))
        .await?
        .ok_or_else(|| DeployError::Check(format!("block {l2_block} missing")))?;
    let output = OutputRootV0 {
        state_root: block.header.state_root,
        message_passer_storage_root: proof.storage_hash,
        latest_block_hash: block.header.hash,
    };

    // The proposer posts that output root for the next checkpoint.
    let proposer = provider_for(rpc_url, Role::Proposer)?;
    let oracle = OutputOracle::new(d.output_oracle, &proposer);
    let next = oracle.nextBlockNumber().call().await.map_err(contract("nextBlockNumber"))?;
    advance_time(&proposer, config.submission_interval * config.l2_block_time + 1).await?;
    let r = tx!(
        "propose output",
        oracle.proposeL2Output(output.root(), next, B256::ZERO, U256::ZERO).value(config.output_bond_wei)
    );
    row("propose an output root (bonded)", "OutputOracle.proposeL2Output", &r, None, "");
    let index = oracle.latestOutputIndex().call().await.map_err(contract("latestOutputIndex"))?;

    let wtx = WithdrawalTransaction {
        nonce: w.nonce,
        sender: w.sender,
        target: w.target,
        value: w.value,
        gasLimit: w.gas_limit,
        data: w.data.clone(),
    };
    let root_proof = OutputRootProof {
        version: OutputRootV0::VERSION,
        stateRoot: output.state_root,
        messagePasserStorageRoot: output.message_passer_storage_root,
        latestBlockhash: output.latest_block_hash,
    };
    let storage_proof =
        proof.storage_proof.first().ok_or_else(|| DeployError::Check("no storage proof".into()))?;
    let r = tx!(
        "prove withdrawal",
        portal.proveWithdrawalTransaction(wtx.clone(), index, root_proof, storage_proof.proof.clone())
    );
    row("prove a withdrawal", "Portal.proveWithdrawalTransaction", &r, None, PROOF_NOTE);
    advance_time(&creator, config.finalization_period_seconds + 1).await?;
    let before = creator.get_balance(Role::User1.address()).await?;
    let r = tx!("finalize withdrawal", portal.finalizeWithdrawalTransaction(wtx));
    row("finalize a withdrawal", "Portal.finalizeWithdrawalTransaction", &r, None, "pays 0.5 ETH to an EOA");
    let after = creator.get_balance(Role::User1.address()).await?;
    check(after == before + value - fee_paid(&r), || {
        format!("withdrawal paid {} wei, expected {value}", after + fee_paid(&r) - before)
    })?;
    let finalized =
        portal.finalizedWithdrawals(w.hash()).call().await.map_err(contract("finalizedWithdrawals"))?;
    check(finalized, || "withdrawal not marked finalized".into())?;

    Ok(rows)
}

const PROOF_NOTE: &str = "real eth_getProof proof from anvil";

/// The rows as a Markdown table.
pub fn render_markdown(rows: &[GasRow]) -> String {
    let mut s =
        String::from("| operation | function | gas used | target | conditions |\n|---|---|---:|---:|---|\n");
    for r in rows {
        let target = match r.target {
            Some(t) if r.gas_used <= t => format!("≤ {t} ✓"),
            Some(t) => format!("≤ {t} ✗"),
            None => String::new(),
        };
        s.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r.operation, r.function, r.gas_used, target, r.note
        ));
    }
    s
}
