//! viem (npm), unmodified, against the real node: the calls a dapp makes, over HTTP and a
//! WebSocket subscription. The script is `sequencer/tests/js/viem.mjs`; viem is pinned in the
//! root `package.json` and installed by `scripts/bootstrap.sh`.

use std::process::Command;

use alloy_primitives::U256;
use serde_json::{Value, json};

use crate::tools::counter_bytecode;
use crate::{NodeProc, dev_key, hex_u256, rpc, workspace};

#[test]
fn viem_transfers_deploys_writes_reads_and_watches_events() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let bytecode = counter_bytecode();
    let artifact: Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("sequencer/tests/fixtures/counter/out/Counter.sol/Counter.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let abi_file = dir.path().join("Counter.abi.json");
    std::fs::write(&abi_file, artifact["abi"].to_string()).unwrap();
    let key = dev_key(3);

    let script = workspace().join("sequencer/tests/js/viem.mjs");
    let output = Command::new("node")
        .arg(&script)
        .arg(&node.url)
        .arg(format!("ws://{}", node.addr))
        .arg(format!("{}", alloy_primitives::B256::from_slice(&key.to_bytes()[..])))
        .arg(alloy_primitives::hex::encode(&bytecode))
        .arg(&abi_file)
        .output()
        .expect("node runs (make bootstrap installs viem)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "viem script failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("viem printed no JSON ({e}): {}\n{stderr}", String::from_utf8_lossy(&output.stdout))
    });

    assert_eq!(seen["chainId"], 73571);
    assert_eq!(seen["address"].as_str().unwrap().to_lowercase(), format!("{:#x}", key.address()));
    assert_eq!(seen["transferStatus"], "success");
    assert_eq!(seen["recipientGained"], "1500000000000000000");
    assert_eq!(seen["deployStatus"], "success");
    assert_eq!(seen["start"], "7");
    assert_eq!(seen["writeStatus"], "success");
    assert_eq!(seen["after"], "8");
    // The event reached viem through `eth_subscribe` on the WebSocket (which needs geth-style
    // string subscription ids), through the filter it polled, and through `eth_getLogs`.
    assert_eq!(seen["subscribedValue"], "8");
    assert_eq!(seen["watchedValue"], "8");
    assert_eq!(seen["logValues"], json!(["8"]));
    assert_eq!(seen["logBy"][0].as_str().unwrap().to_lowercase(), format!("{:#x}", key.address()));
    // viem decoded the custom error from the node's revert data.
    assert_eq!(seen["revert"], "TooBig(5000)");

    // What viem saw is what the node holds.
    let counter = seen["counter"].as_str().unwrap();
    let number = rpc(&node.addr, "eth_call", json!([{ "to": counter, "data": "0x8381f58a" }, "latest"]));
    assert_eq!(hex_u256(&number), U256::from(8));
    let balance =
        rpc(&node.addr, "eth_getBalance", json!(["0x000000000000000000000000000000000000bEEF", "latest"]));
    assert_eq!(hex_u256(&balance), U256::from(1_500_000_000_000_000_000u64));
}
