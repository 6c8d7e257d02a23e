//! Real clients against the node: forge deploys, cast calls and sends, and the JSON-RPC
//! sequence MetaMask sends for a transfer.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use alloy_primitives::{Address, U256, keccak256};
use serde_json::json;

use super::*;

/// Runs a Foundry tool; returns (success, stdout, stderr).
fn run(tool_name: &str, args: &[&str], dir: Option<&Path>) -> (bool, String, String) {
    let mut cmd = Command::new(tool(tool_name));
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("run {tool_name}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cast_ok(args: &[&str]) -> String {
    let (ok, out, err) = run("cast", args, None);
    assert!(ok, "cast {args:?} failed: {err}");
    out.trim().to_owned()
}

/// Serialises forge runs: they share the fixture's `out/` and `cache/`.
static FORGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Builds the fixture with forge; returns `Counter`'s creation bytecode.
pub(crate) fn counter_bytecode() -> Vec<u8> {
    let _guard = FORGE.lock().unwrap_or_else(|e| e.into_inner());
    let project = workspace().join("sequencer/tests/fixtures/counter");
    let solc = tool("solc");
    let args = ["build", "--root", project.to_str().unwrap(), "--use", solc.to_str().unwrap(), "--offline"];
    let (ok, out, err) = run("forge", &args, Some(&project));
    assert!(ok, "forge build failed: {out}\n{err}");
    let artifact: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("out/Counter.sol/Counter.json")).unwrap())
            .unwrap();
    alloy_primitives::hex::decode(artifact["bytecode"]["object"].as_str().unwrap()).unwrap()
}

/// Deploys `Counter(start)` with `forge create`; returns its address.
pub(crate) fn forge_create_counter(url: &str, start: u64) -> Address {
    let _guard = FORGE.lock().unwrap_or_else(|e| e.into_inner());
    let project = workspace().join("sequencer/tests/fixtures/counter");
    let solc = tool("solc");
    let key = format!("{}", temporis_sequencer::genesis::DEV_KEYS[0]);
    let start = start.to_string();
    let args = [
        "create",
        "--root",
        project.to_str().unwrap(),
        "--use",
        solc.to_str().unwrap(),
        "--offline",
        "src/Counter.sol:Counter",
        "--broadcast",
        "--private-key",
        &key,
        "--rpc-url",
        url,
        "--constructor-args",
        &start,
    ];
    let (ok, out, err) = run("forge", &args, Some(&project));
    assert!(ok, "forge create failed: {out}\n{err}");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .unwrap_or_else(|| panic!("no address in {out}"));
    line.trim().parse().unwrap()
}

#[test]
fn forge_create_then_cast_call_send_logs_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let url = node.url.as_str();

    let counter = forge_create_counter(url, 5);
    let addr = counter.to_string();
    assert!(cast_ok(&["code", &addr, "-r", url]).len() > 100, "the contract has code");
    assert_eq!(cast_ok(&["call", &addr, "number()(uint256)", "-r", url]), "5");

    let key = format!("{}", temporis_sequencer::genesis::DEV_KEYS[0]);
    let receipt = cast_ok(&["send", &addr, "increment()", "--private-key", &key, "-r", url, "--json"]);
    let receipt: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(cast_ok(&["call", &addr, "number()(uint256)", "-r", url]), "6");

    // The event, through eth_getLogs with an address and topic filter.
    let topic0 = keccak256("Incremented(address,uint256)");
    let logs = rpc(
        &node.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "toBlock": "latest", "address": addr, "topics": [topic0]}]),
    );
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0]["transactionHash"], receipt["transactionHash"]);
    assert_eq!(logs[0]["blockNumber"], receipt["blockNumber"]);
    assert_eq!(hex_u256(&logs[0]["data"]), U256::from(6));
    let sender = dev_key(0).address();
    assert_eq!(
        logs[0]["topics"][1].as_str().unwrap().parse::<alloy_primitives::B256>().unwrap(),
        sender.into_word()
    );
    // A filter on another topic finds nothing.
    let none = rpc(
        &node.addr,
        "eth_getLogs",
        json!([{"fromBlock": "0x0", "address": addr, "topics": [keccak256("Other()")]}]),
    );
    assert_eq!(none.as_array().unwrap().len(), 0);

    // Receipts: by hash, in the block's receipts, and the deployment's contract address.
    let tx_hash = receipt["transactionHash"].as_str().unwrap();
    let by_hash = rpc(&node.addr, "eth_getTransactionReceipt", json!([tx_hash]));
    for field in
        ["blockHash", "blockNumber", "gasUsed", "cumulativeGasUsed", "logsBloom", "from", "to", "status"]
    {
        assert_eq!(
            by_hash[field].to_string().to_lowercase(),
            receipt[field].to_string().to_lowercase(),
            "{field}"
        );
    }
    let block_receipts = rpc(&node.addr, "eth_getBlockReceipts", json!([receipt["blockNumber"]]));
    assert!(block_receipts.as_array().unwrap().iter().any(|r| r["transactionHash"] == tx_hash));
    let mut found = None;
    for n in 1..=hex_u64(&receipt["blockNumber"]) {
        let block = rpc(&node.addr, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]));
        if let Some(tx) = block["transactions"].as_array().unwrap().iter().find(|t| t["to"].is_null()) {
            found = Some(tx["hash"].clone());
        }
    }
    let deploy_receipt =
        rpc(&node.addr, "eth_getTransactionReceipt", json!([found.expect("the deployment is in a block")]));
    assert_eq!(deploy_receipt["contractAddress"].as_str().unwrap().parse::<Address>().unwrap(), counter);

    // Reverts come back with geth's wording and the revert data.
    let (ok, _, err) = run("cast", &["call", &addr, "fail()", "-r", url], None);
    assert!(!ok && err.contains("execution reverted: Counter: nope"), "{err}");
    let set_big = cast_ok(&["calldata", "setNumber(uint256)", "5000"]);
    let error = rpc_err(&node.addr, "eth_call", json!([{"to": addr, "data": set_big}]));
    assert_eq!(error["code"], 3);
    assert_eq!(error["message"], "execution reverted");
    let expected = cast_ok(&["calldata", "TooBig(uint256)", "5000"]);
    assert_eq!(error["data"], expected, "custom error data");
    // estimateGas agrees with what the transaction used.
    let estimate = cast_ok(&["estimate", &addr, "increment()", "-r", url]);
    let receipt2: Value = serde_json::from_str(&cast_ok(&[
        "send",
        &addr,
        "increment()",
        "--private-key",
        &key,
        "-r",
        url,
        "--json",
    ]))
    .unwrap();
    assert!(estimate.parse::<u64>().unwrap() >= hex_u64(&receipt2["gasUsed"]));
}

#[test]
fn metamask_transfer_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let a = node.addr.as_str();
    let from = dev_key(1);
    let to = Address::repeat_byte(0x42);

    assert_eq!(rpc(a, "eth_chainId", json!([])), format!("{CHAIN_ID:#x}"));
    assert_eq!(rpc(a, "net_version", json!([])), CHAIN_ID.to_string());
    let _ = hex_u64(&rpc(a, "eth_blockNumber", json!([])));
    let balance = hex_u256(&rpc(a, "eth_getBalance", json!([from.address(), "latest"])));
    assert_eq!(balance, temporis_sequencer::genesis::DEV_BALANCE);
    let gas =
        rpc(a, "eth_estimateGas", json!([{"from": from.address(), "to": to, "value": "0xde0b6b3a7640000"}]));
    assert_eq!(hex_u64(&gas), 21_000);
    let history = rpc(a, "eth_feeHistory", json!(["0x5", "latest", [10, 20, 30]]));
    let base_fees = history["baseFeePerGas"].as_array().unwrap();
    assert!(!base_fees.is_empty());
    let next_base_fee = hex_u64(base_fees.last().unwrap());
    let tip = hex_u64(&rpc(a, "eth_maxPriorityFeePerGas", json!([])));
    let nonce = hex_u64(&rpc(a, "eth_getTransactionCount", json!([from.address(), "pending"])));
    assert_eq!(nonce, 0);

    let value = 1_000_000_000_000_000_000u64;
    let max_fee = u128::from(next_base_fee * 2 + tip);
    let raw = sign_1559(
        &from,
        CHAIN_ID,
        nonce,
        TxKind::Call(to),
        U256::from(value),
        Bytes::new(),
        21_000,
        max_fee,
        u128::from(tip),
    );
    let hash = rpc(a, "eth_sendRawTransaction", json!([raw]));
    let pending = rpc(a, "eth_getTransactionByHash", json!([hash]));
    assert_eq!(pending["hash"], hash);
    let receipt = wait_receipt(a, hash.as_str().unwrap());
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(hex_u64(&receipt["gasUsed"]), 21_000);
    let price = hex_u256(&receipt["effectiveGasPrice"]);
    let after = hex_u256(&rpc(a, "eth_getBalance", json!([from.address(), "latest"])));
    assert_eq!(after, balance - U256::from(value) - price * U256::from(21_000));
    assert_eq!(hex_u256(&rpc(a, "eth_getBalance", json!([to, "latest"]))), U256::from(value));
    let mined = rpc(a, "eth_getTransactionByHash", json!([hash]));
    assert_eq!(mined["blockNumber"], receipt["blockNumber"]);
    let block = rpc(a, "eth_getBlockByHash", json!([receipt["blockHash"], false]));
    assert!(block["transactions"].as_array().unwrap().contains(&hash));
}

#[test]
fn send_raw_transaction_sync_returns_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "250ms"]);
    let raw = transfer(&dev_key(2), 0, Address::repeat_byte(7), 5);
    let receipt = rpc(&node.addr, "eth_sendRawTransactionSync", json!([raw]));
    assert_eq!(receipt["status"], "0x1");
    assert_eq!(hex_u256(&rpc(&node.addr, "eth_getBalance", json!([Address::repeat_byte(7)]))), U256::from(5));
}

#[test]
fn polling_filters_report_blocks_transactions_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let a = node.addr.as_str();
    let counter = forge_create_counter(&node.url, 0);

    let blocks = rpc(a, "eth_newBlockFilter", json!([]));
    let pending = rpc(a, "eth_newPendingTransactionFilter", json!([]));
    let topic = keccak256("Incremented(address,uint256)");
    let logs = rpc(a, "eth_newFilter", json!([{"address": counter, "topics": [topic]}]));

    let key = dev_key(0);
    let nonce = hex_u64(&rpc(a, "eth_getTransactionCount", json!([key.address(), "pending"])));
    let increment = alloy_primitives::hex::decode("d09de08a").unwrap();
    let raw = sign_1559(
        &key,
        CHAIN_ID,
        nonce,
        TxKind::Call(counter),
        U256::ZERO,
        increment.into(),
        100_000,
        100_000_000_000,
        1_000_000,
    );
    let receipt = rpc(a, "eth_sendRawTransactionSync", json!([raw]));
    let hash = &receipt["transactionHash"];

    assert_eq!(rpc(a, "eth_getFilterChanges", json!([pending])), json!([hash]));
    let changes = rpc(a, "eth_getFilterChanges", json!([logs]));
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    assert_eq!(changes[0]["transactionHash"], *hash);
    assert_eq!(rpc(a, "eth_getFilterChanges", json!([logs])), json!([]), "changes are reported once");
    assert_eq!(rpc(a, "eth_getFilterLogs", json!([logs])).as_array().unwrap().len(), 1);
    let hashes = rpc(a, "eth_getFilterChanges", json!([blocks]));
    assert!(hashes.as_array().unwrap().contains(&receipt["blockHash"]), "{hashes}");

    assert_eq!(rpc(a, "eth_uninstallFilter", json!([blocks])), true);
    assert_eq!(rpc(a, "eth_uninstallFilter", json!([blocks])), false);
    assert_eq!(rpc_err(a, "eth_getFilterChanges", json!([blocks]))["message"], "filter not found");
}

/// `GET /metrics`; returns the value of `name`.
fn metric(addr: &str, name: &str) -> f64 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"));
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn prometheus_metrics_count_blocks_and_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms", "--metrics.port", "0"]);
    let m = node.metrics.clone().unwrap();
    rpc(&node.addr, "eth_sendRawTransactionSync", json!([transfer(&dev_key(5), 0, Address::ZERO, 1)]));
    let _ =
        rpc_err(&node.addr, "eth_sendRawTransaction", json!([transfer(&dev_key(5), 0, Address::ZERO, 1)]));
    assert!(metric(&m, "temporis_blocks_produced_total") >= 1.0);
    assert_eq!(metric(&m, "temporis_transactions_included_total"), 1.0);
    assert_eq!(metric(&m, "temporis_transactions_accepted_total"), 1.0);
    assert_eq!(metric(&m, "temporis_transactions_refused_total"), 1.0);
    assert!(metric(&m, "temporis_head_block_number") >= 1.0);
}

#[test]
fn standalone_blocks_have_no_l1_origin() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    assert_eq!(rpc(&node.addr, "temporis_getL1Origin", json!(["latest"])), Value::Null);
    assert_eq!(
        rpc_err(&node.addr, "temporis_getL1Origin", json!(["0xffffff"]))["message"],
        "header not found"
    );
}
