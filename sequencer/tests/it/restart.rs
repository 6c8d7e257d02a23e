//! Crash safety: `kill -9` under load loses no block a client was told about; a clean restart
//! resumes where it stopped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;

/// What clients were told: block number → (hash, state root).
type Seen = Arc<Mutex<BTreeMap<u64, (String, String)>>>;

fn record(seen: &Seen, block: &Value) {
    let n = hex_u64(&block["number"]);
    let entry = (block["hash"].as_str().unwrap().to_owned(), block["stateRoot"].as_str().unwrap().to_owned());
    let mut seen = seen.lock().unwrap();
    if let Some(old) = seen.insert(n, entry.clone()) {
        assert_eq!(old, entry, "block {n} changed while the node ran");
    }
}

#[test]
fn kill_9_under_load_loses_no_returned_block() {
    let dir = tempfile::tempdir().unwrap();
    let node =
        NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms", "--store.snapshot-interval", "7"]);
    let addr = node.addr.clone();
    let seen: Seen = Arc::default();
    let included: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));

    // Four senders, each sending transfers and waiting for each receipt.
    let mut workers = Vec::new();
    for i in 4..8 {
        let (addr, seen, included, stop) = (addr.clone(), seen.clone(), included.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            let key = dev_key(i);
            let mut nonce = 0;
            while !stop.load(Ordering::SeqCst) {
                let raw = transfer(&key, nonce, Address::repeat_byte(i as u8), 1);
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransactionSync", "params": [raw]});
                let (status, text) = http_post(&addr, body.to_string().as_bytes());
                // Once the node is killed the connection fails: stop there.
                let Ok(v) = serde_json::from_str::<Value>(&text) else { break };
                if status != 200 || v.get("result").is_none() {
                    break;
                }
                let r = &v["result"];
                assert_eq!(r["status"], "0x1");
                included.lock().unwrap().push((r["transactionHash"].as_str().unwrap().to_owned(), hex_u64(&r["blockNumber"])));
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByHash", "params": [r["blockHash"], false]});
                let (_, text) = http_post(&addr, body.to_string().as_bytes());
                let Ok(v) = serde_json::from_str::<Value>(&text) else { break };
                record(&seen, &v["result"]);
                nonce += 1;
            }
        }));
    }
    // A reader following the head.
    {
        let (addr, seen, stop) = (addr, seen.clone(), stop.clone());
        workers.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", false]});
                let (_, text) = http_post(&addr, body.to_string().as_bytes());
                let Ok(v) = serde_json::from_str::<Value>(&text) else { break };
                if v["result"].is_object() {
                    record(&seen, &v["result"]);
                }
                std::thread::sleep(Duration::from_millis(30));
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(4));
    node.kill9();
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    let included = included.lock().unwrap().clone();
    assert!(
        seen.len() > 10 && included.len() > 10,
        "load ran: {} blocks, {} txs",
        seen.len(),
        included.len()
    );

    let node =
        NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms", "--store.snapshot-interval", "7"]);
    let a = node.addr.as_str();
    for (n, (hash, root)) in &seen {
        let block = rpc(a, "eth_getBlockByNumber", json!([format!("{n:#x}"), false]));
        assert_eq!(block["hash"].as_str().unwrap(), hash, "block {n} hash after restart");
        assert_eq!(block["stateRoot"].as_str().unwrap(), root, "block {n} state root after restart");
    }
    for (hash, number) in &included {
        let r = rpc(a, "eth_getTransactionReceipt", json!([hash]));
        assert_eq!(hex_u64(&r["blockNumber"]), *number, "{hash}");
    }
    // The rebuilt state agrees with the chain: each sender's nonce covers what was included.
    for i in 4..8 {
        let nonce = hex_u64(&rpc(a, "eth_getTransactionCount", json!([dev_key(i).address(), "latest"])));
        let sent = included.iter().filter(|(h, _)| {
            let tx = rpc(a, "eth_getTransactionByHash", json!([h]));
            tx["from"].as_str().unwrap().parse::<Address>().unwrap() == dev_key(i).address()
        });
        assert!(nonce as usize >= sent.count());
    }
    // And the chain goes on from there.
    let head = *seen.keys().last().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hex_u64(&rpc(a, "eth_blockNumber", json!([]))) <= head {
        assert!(Instant::now() < deadline, "no new block after restart");
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = rpc(a, "eth_sendRawTransactionSync", json!([transfer(&dev_key(9), 0, Address::ZERO, 1)]));
    assert_eq!(r["status"], "0x1");
}

#[test]
fn clean_restart_resumes_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let r = rpc(
        &node.addr,
        "eth_sendRawTransactionSync",
        json!([transfer(&dev_key(8), 0, Address::repeat_byte(9), 77)]),
    );
    let head = rpc(&node.addr, "eth_getBlockByNumber", json!(["latest", false]));
    node.stop();

    let datadir = dir.path();
    let node = NodeProc::start(datadir, &["--sequencer.block-time", "100ms"]);
    assert_eq!(node.datadir, datadir);
    let same = rpc(&node.addr, "eth_getBlockByNumber", json!([head["number"], false]));
    assert_eq!(same["hash"], head["hash"]);
    assert_eq!(
        rpc(&node.addr, "eth_getTransactionReceipt", json!([r["transactionHash"]]))["blockHash"],
        r["blockHash"]
    );
    assert_eq!(
        hex_u256(&rpc(&node.addr, "eth_getBalance", json!([Address::repeat_byte(9)]))),
        U256::from(77)
    );
    assert_eq!(hex_u64(&rpc(&node.addr, "eth_getTransactionCount", json!([dev_key(8).address()]))), 1);
}

#[test]
fn genesis_file_sets_chain_id_and_alloc() {
    let dir = tempfile::tempdir().unwrap();
    let rich = PrivateKeySigner::random();
    let genesis = json!({
        "config": {"chainId": 31337},
        "gasLimit": "0x1c9c380",
        "timestamp": "0x0",
        "alloc": {
            rich.address().to_string(): {"balance": "0x3635c9adc5dea00000"},
            "0x00000000000000000000000000000000000c0de0": {"balance": "0x0", "code": "0x602a60005260206000f3", "storage": {"0x01": "0x02"}}
        }
    });
    let path = dir.path().join("genesis.json");
    std::fs::write(&path, genesis.to_string()).unwrap();
    let datadir = dir.path().join("data");
    let node =
        NodeProc::start(&datadir, &["--genesis", path.to_str().unwrap(), "--sequencer.block-time", "100ms"]);
    let a = node.addr.as_str();
    assert_eq!(rpc(a, "eth_chainId", json!([])), "0x7a69");
    assert_eq!(
        hex_u256(&rpc(a, "eth_getBalance", json!([rich.address()]))),
        U256::from(1000u64) * U256::from(10u64).pow(U256::from(18))
    );
    assert_eq!(
        hex_u256(&rpc(a, "eth_getBalance", json!([dev_key(0).address()]))),
        U256::ZERO,
        "the dev alloc is not used"
    );
    let code_addr = "0x00000000000000000000000000000000000c0de0";
    assert_eq!(rpc(a, "eth_getStorageAt", json!([code_addr, "0x1", "latest"])), format!("{:#066x}", 2));
    // The contract returns 42.
    assert_eq!(hex_u256(&rpc(a, "eth_call", json!([{"to": code_addr}]))), U256::from(42));
    // A transfer signed for chain 31337 goes through; one for the dev chain id does not.
    let raw = sign_1559(
        &rich,
        31337,
        0,
        TxKind::Call(Address::ZERO),
        U256::from(1),
        Bytes::new(),
        21_000,
        100_000_000_000,
        1,
    );
    assert_eq!(rpc(a, "eth_sendRawTransactionSync", json!([raw]))["status"], "0x1");
    assert_eq!(
        rpc_err(a, "eth_sendRawTransaction", json!([transfer(&rich, 1, Address::ZERO, 1)]))["message"],
        "invalid chain id"
    );
    // The genesis is stored: a restart without --genesis resumes the same chain.
    let genesis_hash = rpc(a, "eth_getBlockByNumber", json!(["0x0", false]))["hash"].clone();
    node.stop();
    let node = NodeProc::start(&datadir, &["--sequencer.block-time", "100ms"]);
    assert_eq!(rpc(&node.addr, "eth_chainId", json!([])), "0x7a69");
    assert_eq!(rpc(&node.addr, "eth_getBlockByNumber", json!(["0x0", false]))["hash"], genesis_hash);
}
