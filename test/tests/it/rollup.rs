//! The whole rollup over real processes: `temporis-devnet` with anvil as the L1, the sequencer
//! (with its batcher and proposer), the DA server and a follower, driven with cast, forge and
//! the `temporis-aivm` tool as users would.

use alloy_primitives::{Address, B256, U256, hex, keccak256};
use eyre::{Context, ContextCompat, Result, ensure};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;
use temporis_e2e::{Cast, Devnet, DevnetOptions, repo_root, tool, wait_for, workspace_bin};

const ETH: u64 = 1_000_000_000_000_000_000;
const MINT_SIG: &str = "mint(address,(bytes32,bytes,bytes32,uint256,bool,address,uint16,uint16))";
const MESSAGE_PASSER: &str = "0x4200000000000000000000000000000000000016";
const MODEL_REGISTRY: &str = "0x4200000000000000000000000000000000000A00";

fn u256(v: &serde_json::Value) -> Result<U256> {
    Ok(U256::from_str(v.as_str().with_context(|| format!("not a quantity: {v}"))?)?)
}

/// What a transaction cost its sender on the L2: L2 gas at the effective price plus the L1
/// data fee the receipt shows.
fn l2_cost(receipt: &serde_json::Value) -> Result<U256> {
    let gas = u256(&receipt["gasUsed"])? * u256(&receipt["effectiveGasPrice"])?;
    let l1 = match receipt.get("l1Fee") {
        Some(v) if !v.is_null() => u256(v)?,
        _ => U256::ZERO,
    };
    Ok(gas + l1)
}

fn receipt(cast: &Cast, hash: &str) -> Result<serde_json::Value> {
    wait_for(&format!("receipt of {hash}"), Duration::from_secs(30), || {
        let r = cast.rpc_json("eth_getTransactionReceipt", &[hash])?;
        Ok((!r.is_null()).then_some(r))
    })
}

fn block_number(cast: &Cast) -> Result<u64> {
    Ok(u64::from_str_radix(
        cast.rpc_json("eth_blockNumber", &[])?.as_str().context("number")?.trim_start_matches("0x"),
        16,
    )?)
}

fn block_hash(cast: &Cast, n: u64) -> Result<Option<B256>> {
    let b = cast.rpc_json("eth_getBlockByNumber", &[&format!("0x{n:x}"), "false"])?;
    if b.is_null() {
        return Ok(None);
    }
    Ok(Some(B256::from_str(b["hash"].as_str().context("hash")?)?))
}

#[test]
fn deposit_deploy_trade_infer_batch_follow_withdraw() -> Result<()> {
    let devnet = Devnet::start_with(&DevnetOptions::full())?;
    let l1 = devnet.cast()?;
    let l2 = devnet.l2_cast()?;
    let (user_key, user) = devnet.account("user1")?;
    let (buyer_key, buyer) = devnet.account("user2")?;

    // --- 1. Deposits: ETH sent to the portal on L1 is minted to the same account on L2.
    let portal = devnet.contract("portal")?;
    let before = l2.balance(user)?;
    let amount = U256::from(ETH);
    l1.send(
        &user_key,
        portal,
        "depositTransaction(address,uint256,uint64,bool,bytes)",
        &[&user.to_string(), "0", "100000", "false", "0x"],
        Some(amount),
    )?;
    wait_for("the deposit on L2", Duration::from_secs(60), || {
        Ok((l2.balance(user)? == before + amount).then_some(()))
    })
    .inspect_err(|_| temporis_e2e::dump_logs(&devnet.datadir))?;
    // A plain transfer to the portal deposits too (its receive()).
    let buyer_before = l2.balance(buyer)?;
    l1.raw(&["send", "--private-key", &buyer_key, &portal.to_string(), "--value", "2000000000000000000"])?;
    wait_for("the second deposit on L2", Duration::from_secs(60), || {
        Ok((l2.balance(buyer)? == buyer_before + U256::from(2 * ETH)).then_some(()))
    })?;
    // The block that minted it starts with the L1-info deposit and carries the user deposit as
    // a type-0x7e transaction with its mint.
    let head = block_number(&l2)?;
    let mut found = false;
    for n in (head.saturating_sub(30)..=head).rev() {
        let b = l2.rpc_json("eth_getBlockByNumber", &[&format!("0x{n:x}"), "true"])?;
        let txs = b["transactions"].as_array().context("txs")?;
        ensure!(
            !txs.is_empty() && txs[0]["type"] == "0x7e",
            "block {n} does not start with the L1-info deposit: {b}"
        );
        if txs
            .iter()
            .skip(1)
            .any(|t| t["type"] == "0x7e" && u256(&t["mint"]).ok() == Some(U256::from(2 * ETH)))
        {
            found = true;
            break;
        }
    }
    ensure!(found, "no 0x7e deposit minting 2 ETH in the last 30 blocks");

    // --- 2. The model and its adapter published on L2; a forge-deployed contract classifies.
    let aivm = workspace_bin("temporis-aivm")?;
    let tmp = tempfile::tempdir()?;
    let mut ids = Vec::new();
    for dir in ["digits-mlp", "digits-mlp-translate-lora"] {
        let pack = tmp.path().join(dir);
        let out = Command::new(&aivm)
            .args(["pack", "--dir"])
            .arg(repo_root().join("aivm/models").join(dir))
            .arg("--out")
            .arg(&pack)
            .output()?;
        ensure!(out.status.success(), "pack {dir}: {}", String::from_utf8_lossy(&out.stderr));
        let out = Command::new(&aivm)
            .args(["publish", "--pack"])
            .arg(&pack)
            .args(["--rpc-url", l2.rpc_url(), "--private-key", &user_key])
            .output()?;
        ensure!(out.status.success(), "publish {dir}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        for tx in report["transactions"].as_array().context("transactions")? {
            let r = receipt(&l2, tx.as_str().context("tx hash")?)?;
            ensure!(r["status"] == "0x1", "publish tx failed: {r}");
        }
        ids.push(report["id"].as_str().context("id")?.to_owned());
    }
    let out = Command::new(tool("forge")?)
        .current_dir(repo_root().join("contracts"))
        .args(["create", "--broadcast", "--rpc-url", l2.rpc_url(), "--private-key", &user_key])
        .args([
            "src/examples/DigitClassifier.sol:DigitClassifier",
            "--constructor-args",
            MODEL_REGISTRY,
            &ids[0],
            &ids[1],
        ])
        .output()?;
    ensure!(out.status.success(), "forge create: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let classifier = text
        .lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .with_context(|| format!("forge create printed no address: {text}"))?
        .trim()
        .to_owned();
    // A held-out, translated digit: what the contract computes on chain equals the tool's answer.
    let pixels: Vec<i8> = (0..64).map(|i| if (i % 8) > 2 && (i % 8) < 6 { 100 } else { -100 }).collect();
    let csv = pixels.iter().map(i8::to_string).collect::<Vec<_>>().join(",");
    let out = Command::new(&aivm)
        .args(["infer", "--model"])
        .arg(repo_root().join("aivm/models/digits-mlp"))
        .arg("--adapter")
        .arg(repo_root().join("aivm/models/digits-mlp-translate-lora"))
        .arg(format!("--input={csv}"))
        .output()?;
    ensure!(out.status.success(), "infer: {}", String::from_utf8_lossy(&out.stderr));
    let expected: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let array = format!("[{csv}]");
    let got = l2.call_uint(Address::from_str(&classifier)?, "classify(int8[])(uint256)", &[&array])?;
    ensure!(
        got == U256::from(expected["argmax"].as_u64().context("argmax")?),
        "on-chain class {got} != temporis-aivm infer {expected}"
    );

    // --- 3. Mint, list and buy a model NFT on L2 with cast; balances to the wei (L1 fee included).
    let nft = devnet.l2_contract("modelNft")?;
    let market = devnet.l2_contract("marketplace")?;
    let content_hash = format!("0x{}", "cd".repeat(32));
    let params = format!(
        "({content_hash},0x00{},0x{},0,false,{user},500,0)",
        &content_hash[2..],
        hex::encode(B256::right_padding_from(b"MIT"))
    );
    l2.send(&user_key, nft, MINT_SIG, &[&user.to_string(), &params], None)?;
    let token = "1";
    ensure!(l2.call_address(nft, "ownerOf(uint256)(address)", &[token])? == user);
    l2.send(&user_key, nft, "setApprovalForAll(address,bool)", &[&market.to_string(), "true"], None)?;
    let price = U256::from(ETH / 10);
    let zero = Address::ZERO.to_string();
    l2.send(&user_key, market, "list(uint256,address,uint256)", &[token, &zero, &price.to_string()], None)?;
    let before = l2.balance(buyer)?;
    let sent = l2.send(
        &buyer_key,
        market,
        "buy(uint256,address,uint256)",
        &[token, &zero, &price.to_string()],
        Some(price),
    )?;
    // The node's own receipt JSON (cast re-serializes receipts without the OP fields).
    let buy = receipt(&l2, sent["transactionHash"].as_str().context("hash")?)?;
    ensure!(
        buy.get("l1Fee").is_some_and(|f| u256(f).is_ok_and(|f| f > U256::ZERO)),
        "L2 receipt has an l1Fee: {buy}"
    );
    ensure!(l2.balance(buyer)? == before - price - l2_cost(&buy)?, "buyer paid price + L2 gas + L1 fee");
    ensure!(l2.call_address(nft, "ownerOf(uint256)(address)", &[token])? == buyer);
    let buy_block = u64::from_str_radix(
        buy["blockNumber"].as_str().context("blockNumber")?.trim_start_matches("0x"),
        16,
    )?;
    let buy_hash = B256::from_str(buy["transactionHash"].as_str().context("hash")?)?;

    // --- 4. The batch holding the buy is in DA, and its commitment on L1 in the inbox.
    let inbox = devnet.contract("batchInbox")?;
    let da = devnet.da_url()?;
    wait_for("a batch with the buy transaction", Duration::from_secs(90), || {
        let batches = posted_batches(&l1, inbox, &da)?;
        Ok(batches
            .iter()
            .flat_map(|b| b.blocks.iter())
            .any(|b| b.number == buy_block && b.txs.iter().any(|t| keccak256(t) == buy_hash))
            .then_some(()))
    })?;

    // --- 5. The follower, from L1 + DA alone, reaches the sequencer's block hashes.
    let follower = devnet.follower_cast()?;
    let want = block_hash(&l2, buy_block)?.context("sequencer block")?;
    let got = wait_for("the follower to derive the buy block", Duration::from_secs(90), || {
        block_hash(&follower, buy_block)
    })
    .inspect_err(|_| temporis_e2e::dump_logs(&devnet.datadir))?;
    ensure!(got == want, "follower block {buy_block} hash {got} != sequencer's {want}");
    let fb = follower.rpc_json("eth_getBlockByNumber", &[&format!("0x{buy_block:x}"), "false"])?;
    let sb = l2.rpc_json("eth_getBlockByNumber", &[&format!("0x{buy_block:x}"), "false"])?;
    ensure!(fb["stateRoot"] == sb["stateRoot"], "state roots differ");

    // --- 6. A withdrawal: initiated on L2, proven against a proposed output, finalized on L1.
    let value = U256::from(ETH / 2);
    let w = l2.send(
        &user_key,
        Address::from_str(MESSAGE_PASSER)?,
        "initiateWithdrawal(address,uint256,bytes)",
        &[&user.to_string(), "100000", "0x"],
        Some(value),
    )?;
    let withdraw = workspace_bin("temporis-withdraw")?;
    let tx = w["transactionHash"].as_str().context("hash")?.to_owned();
    let run = |cmd: &str| -> Result<String> {
        let out = Command::new(&withdraw)
            .args(["--l1.rpc-url", l1.rpc_url(), "--l2.rpc-url", l2.rpc_url()])
            .args([
                "--portal",
                &portal.to_string(),
                "--output-oracle",
                &devnet.contract("outputOracle")?.to_string(),
            ])
            .args([cmd, "--private-key", &user_key, "--tx", &tx])
            .output()?;
        ensure!(out.status.success(), "temporis-withdraw {cmd}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    wait_for("the withdrawal to be provable (an output covers it)", Duration::from_secs(120), || {
        Ok(run("prove").ok())
    })?;
    let l1_before = l1.balance(user)?;
    wait_for("the finalization period", Duration::from_secs(60), || Ok(run("finalize").ok()))?;
    let gained = l1.balance(user)? + U256::from(ETH / 100) - l1_before;
    ensure!(gained > value, "finalizing paid out the withdrawal (gained {gained} incl. a gas allowance)");

    // --- 7. Stopped (as Ctrl-C does) and started again on its data directory, the devnet
    // resumes: same contracts, same chain, the follower goes on.
    let head = block_number(&l2)?;
    let head_hash = block_hash(&l2, head)?.context("head")?;
    let portal_before = devnet.contract("portal")?;
    drop((l1, l2, follower));
    let mut devnet = devnet;
    devnet.restart()?;
    ensure!(devnet.contract("portal")? == portal_before, "the L1 contracts were redeployed");
    let l2 = devnet.l2_cast()?;
    ensure!(block_hash(&l2, head)? == Some(head_hash), "block {head} changed across the restart");
    wait_for("the L2 to go on after the restart", Duration::from_secs(60), || {
        Ok((block_number(&l2)? > head + 2).then_some(()))
    })?;
    let follower = devnet.follower_cast()?;
    let got = wait_for("the follower to go on after the restart", Duration::from_secs(90), || {
        block_hash(&follower, head + 1)
    })?;
    ensure!(
        Some(got) == block_hash(&l2, head + 1)?,
        "the follower and the sequencer differ after the restart"
    );
    Ok(())
}

/// One `BatchPosted` event: where it is on L1, the commitment it carries and the DA payload
/// that commitment names.
pub(crate) struct PostedPayload {
    /// The L1 block of the event.
    pub(crate) l1_block: u64,
    /// Length of the commitment in the event (what the batch costs in L1 calldata).
    pub(crate) commitment_len: usize,
    /// The DA server's bytes for the commitment (a channel frame).
    pub(crate) payload: Vec<u8>,
}

/// Every `BatchPosted` event so far, with the DA payload it commits to.
pub(crate) fn posted_payloads(l1: &Cast, inbox: Address, da: &str) -> Result<Vec<PostedPayload>> {
    let logs: serde_json::Value = serde_json::from_str(&l1.raw(&[
        "logs",
        "--json",
        "--from-block",
        "0",
        "--address",
        &inbox.to_string(),
        "BatchPosted(uint256 indexed,bytes)",
    ])?)?;
    let mut out = Vec::new();
    for log in logs.as_array().context("logs")? {
        let data = hex::decode(log["data"].as_str().context("data")?)?;
        // ABI: offset, length, payload `0x01 ‖ commitment`.
        let len = U256::from_be_slice(&data[32..64]).to::<usize>();
        ensure!(data[64] == 0x01, "inbox payload version {}", data[64]);
        let commitment = &data[65..64 + len];
        let (status, payload) =
            temporis_e2e::http("GET", &format!("{da}/get/0x{}", hex::encode(commitment)), b"")
                .wrap_err("DA get")?;
        ensure!(status == 200, "DA get {status}");
        if commitment[0] == 0x00 {
            ensure!(
                keccak256(&payload).as_slice() == &commitment[1..],
                "DA data does not hash to its commitment"
            );
        }
        let block = log["blockNumber"].as_str().context("blockNumber")?;
        let l1_block = u64::from_str_radix(block.trim_start_matches("0x"), 16)?;
        out.push(PostedPayload { l1_block, commitment_len: len, payload });
    }
    Ok(out)
}

/// Every batch posted so far: each `BatchPosted` payload read from the L1 inbox, its data
/// fetched from the DA server (checked against a keccak commitment), decoded with the codec.
pub(crate) fn posted_batches(l1: &Cast, inbox: Address, da: &str) -> Result<Vec<temporis_batch::Batch>> {
    let mut reader = temporis_batch::ChannelReader::new(temporis_batch::DecodeLimits::new(73571));
    let mut out = Vec::new();
    for posted in posted_payloads(l1, inbox, da)? {
        out.extend(reader.push(&posted.payload)?);
    }
    Ok(out)
}
