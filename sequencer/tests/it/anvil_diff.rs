//! Differential: the same signed transactions sent to anvil (Foundry 1.7.1, Osaka, the same
//! chain id and dev accounts) and to the node give the same status, gas used, logs, contract
//! addresses, call return data and revert data.

use std::process::{Child, Command, Stdio};

use alloy_primitives::hex;
use serde_json::json;

use super::*;

/// A running anvil, killed on drop.
pub(crate) struct Anvil {
    child: Child,
    pub(crate) addr: String,
}

impl Anvil {
    /// Starts anvil on a free port with automine (`block_time` none) or interval mining, and
    /// `extra` flags.
    pub(crate) fn start(block_time: Option<&str>, extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(tool("anvil"));
        cmd.args([
            "--port",
            &port.to_string(),
            "--chain-id",
            &CHAIN_ID.to_string(),
            "--hardfork",
            "osaka",
            "--silent",
        ]);
        if let Some(t) = block_time {
            cmd.args(["--block-time", t]);
        }
        cmd.args(extra);
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start anvil");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "anvil did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, addr }
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fields both must agree on.
fn essence(receipt: &Value) -> Value {
    let logs: Vec<Value> = receipt["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"address": l["address"].as_str().unwrap().to_lowercase(), "topics": l["topics"], "data": l["data"], "logIndex": l["logIndex"]}))
        .collect();
    json!({
        "status": receipt["status"],
        "gasUsed": receipt["gasUsed"],
        "cumulativeGasUsed": receipt["cumulativeGasUsed"],
        "contractAddress": receipt["contractAddress"].as_str().map(str::to_lowercase),
        "type": receipt["type"],
        "logs": logs,
        "logsBloom": receipt["logsBloom"],
    })
}

#[test]
fn same_transactions_same_results_as_anvil() {
    let bytecode = super::tools::counter_bytecode();
    // `--steps-tracing`: anvil records opcode steps only with it.
    let anvil = Anvil::start(None, &["--steps-tracing"]);
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);

    let key = dev_key(0);
    let mut deploy = bytecode;
    deploy.extend_from_slice(&U256::from(5).to_be_bytes::<32>());
    let counter = key.address().create(0);
    let call = |sel: &str, arg: Option<u64>| {
        let mut data = hex::decode(sel).unwrap();
        if let Some(a) = arg {
            data.extend_from_slice(&U256::from(a).to_be_bytes::<32>());
        }
        Bytes::from(data)
    };
    let fee = 100_000_000_000u128;
    let txs = [
        (TxKind::Create, U256::ZERO, Bytes::from(deploy), 1_000_000),
        (TxKind::Call(counter), U256::ZERO, call("d09de08a", None), 100_000), // increment()
        (TxKind::Call(counter), U256::ZERO, call("3fb5c1cb", Some(7)), 100_000), // setNumber(7)
        (TxKind::Call(counter), U256::ZERO, call("3fb5c1cb", Some(5000)), 100_000), // reverts TooBig
        (TxKind::Call(counter), U256::ZERO, call("a9cc4718", None), 100_000), // fail(): reverts
        (TxKind::Call(counter), U256::from(1), Bytes::new(), 100_000),        // not payable: reverts
        (TxKind::Call(Address::repeat_byte(0xaa)), U256::from(12345), Bytes::new(), 21_000),
        (TxKind::Call(counter), U256::ZERO, call("d09de08a", None), 30_000), // out of gas
    ];
    let mut hashes = Vec::new();
    for (nonce, (to, value, input, gas)) in txs.into_iter().enumerate() {
        let raw = sign_1559(&key, CHAIN_ID, nonce as u64, to, value, input, gas, fee, 1_000_000);
        let hash = rpc(&anvil.addr, "eth_sendRawTransaction", json!([raw]));
        let from_anvil = wait_receipt(&anvil.addr, hash.as_str().unwrap());
        let from_node = rpc(&node.addr, "eth_sendRawTransactionSync", json!([raw]));
        assert_eq!(from_node["transactionHash"], hash);
        assert_eq!(essence(&from_node), essence(&from_anvil), "transaction {nonce}");
        hashes.push(hash);
    }

    // The other transaction types: legacy with EIP-155, EIP-2930 with an access list, and
    // EIP-7702: dev account 2 delegates to the counter and the sponsor calls it, so the
    // counter's code runs on account 2's storage and the event comes from account 2.
    {
        use alloy::consensus::{SignableTransaction, TxEip2930, TxEip7702, TxLegacy};
        use alloy::eips::eip2930::{AccessList, AccessListItem};
        use alloy::eips::eip7702::Authorization;
        use alloy::signers::SignerSync;

        let mut nonce = hashes.len() as u64;
        let mut next = || {
            nonce += 1;
            nonce - 1
        };
        let sign = |tx: &dyn SignableTransaction<alloy_primitives::Signature>| {
            key.sign_hash_sync(&tx.signature_hash()).unwrap()
        };
        let legacy = TxLegacy {
            chain_id: Some(CHAIN_ID),
            nonce: next(),
            gas_price: fee,
            gas_limit: 100_000,
            to: TxKind::Call(counter),
            value: U256::ZERO,
            input: call("d09de08a", None),
        };
        let sig = sign(&legacy);
        let legacy: TxEnvelope = legacy.into_signed(sig).into();
        let access_list = AccessList(vec![AccessListItem {
            address: counter,
            storage_keys: vec![alloy_primitives::B256::ZERO],
        }]);
        let eip2930 = TxEip2930 {
            chain_id: CHAIN_ID,
            nonce: next(),
            gas_price: fee,
            gas_limit: 100_000,
            to: TxKind::Call(counter),
            value: U256::ZERO,
            access_list,
            input: call("3fb5c1cb", Some(99)),
        };
        let sig = sign(&eip2930);
        let eip2930: TxEnvelope = eip2930.into_signed(sig).into();
        let authority = dev_key(2);
        let auth = Authorization { chain_id: U256::from(CHAIN_ID), address: counter, nonce: 0 };
        let auth_sig = authority.sign_hash_sync(&auth.signature_hash()).unwrap();
        let eip7702 = TxEip7702 {
            chain_id: CHAIN_ID,
            nonce: next(),
            gas_limit: 200_000,
            max_fee_per_gas: fee,
            max_priority_fee_per_gas: 1_000_000,
            to: authority.address(),
            value: U256::ZERO,
            access_list: Default::default(),
            authorization_list: vec![auth.into_signed(auth_sig)],
            input: call("d09de08a", None),
        };
        let sig = sign(&eip7702);
        let eip7702: TxEnvelope = eip7702.into_signed(sig).into();
        for (name, tx) in [("legacy", legacy), ("EIP-2930", eip2930), ("EIP-7702", eip7702)] {
            let raw = Bytes::from(tx.encoded_2718());
            let hash = rpc(&anvil.addr, "eth_sendRawTransaction", json!([raw]));
            let from_anvil = wait_receipt(&anvil.addr, hash.as_str().unwrap());
            let from_node = rpc(&node.addr, "eth_sendRawTransactionSync", json!([raw]));
            assert_eq!(from_node["status"], "0x1", "{name}: {from_node}");
            assert_eq!(essence(&from_node), essence(&from_anvil), "{name}");
            hashes.push(hash);
        }
        let delegated = rpc(&node.addr, "eth_getCode", json!([authority.address(), "latest"]));
        assert_eq!(delegated, rpc(&anvil.addr, "eth_getCode", json!([authority.address(), "latest"])));
        assert!(delegated.as_str().unwrap().starts_with("0xef0100"), "{delegated}");
        let slot = json!([authority.address(), "0x0", "latest"]);
        assert_eq!(hex_u256(&rpc(&node.addr, "eth_getStorageAt", slot)), U256::from(1));
    }

    // Traces of included transactions (replayed from genesis by the node): the call tracer
    // and the struct logger agree entirely; the prestate tracer on the contract's entry (the
    // sender's balance differs: the two chains' base fees do).
    for (i, hash) in hashes.iter().enumerate() {
        let call_tracer = json!([hash, {"tracer": "callTracer"}]);
        let a = rpc(&anvil.addr, "debug_traceTransaction", call_tracer.clone());
        let n = rpc(&node.addr, "debug_traceTransaction", call_tracer);
        assert_eq!(n, a, "callTracer of transaction {i}");
        let struct_logs = json!([hash, {"disableStorage": false}]);
        let a = rpc(&anvil.addr, "debug_traceTransaction", struct_logs.clone());
        let n = rpc(&node.addr, "debug_traceTransaction", struct_logs);
        for field in ["gas", "failed", "returnValue"] {
            assert_eq!(n[field], a[field], "{field} of transaction {i}");
        }
        let (ns, as_) = (n["structLogs"].as_array().unwrap(), a["structLogs"].as_array().unwrap());
        assert_eq!(ns.len(), as_.len(), "struct log length of transaction {i}");
        if let Some(step) = (0..ns.len()).find(|&k| ns[k] != as_[k]) {
            panic!("transaction {i}, step {step}: node {} anvil {}", ns[step], as_[step]);
        }
        let prestate = json!([hash, {"tracer": "prestateTracer"}]);
        let a = rpc(&anvil.addr, "debug_traceTransaction", prestate.clone());
        let n = rpc(&node.addr, "debug_traceTransaction", prestate);
        let entry = |v: &Value| {
            v.as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.parse::<Address>().unwrap() == counter)
                .map(|(_, v)| v.clone())
        };
        if i == 0 {
            // The deployment: revm-inspectors 0.44 leaves out accounts empty before the
            // transaction, as geth does today; anvil 1.7.1 lists the new contract as empty.
            assert_eq!(entry(&n), None);
            continue;
        }
        assert_eq!(entry(&n), entry(&a), "prestate of the contract, transaction {i}");
    }
    // With an explicit gas: the default differs (the node caps calls at EIP-7825's 2^24,
    // anvil gives its block gas limit).
    let traced_call = json!([{"from": key.address(), "to": counter, "data": "0xd09de08a", "gas": "0x100000"}, "latest", {"tracer": "callTracer"}]);
    assert_eq!(
        rpc(&node.addr, "debug_traceCall", traced_call.clone()),
        rpc(&anvil.addr, "debug_traceCall", traced_call)
    );
    // State overrides: a slot of the contract, and the contract's code at a fresh address
    // with its own storage.
    let slot = |v: u64| format!("{:#066x}", v);
    let code = rpc(&node.addr, "eth_getCode", json!([counter, "latest"]));
    let fresh = Address::repeat_byte(0xbe);
    for (to, overrides, expected) in [
        (counter, json!({counter.to_string(): {"stateDiff": {slot(0): slot(42)}}}), 42u64),
        (fresh, json!({fresh.to_string(): {"code": code, "state": {slot(0): slot(9)}}}), 9),
    ] {
        let req = json!([{"to": to, "data": "0x8381f58a"}, "latest", overrides]);
        let n = rpc(&node.addr, "eth_call", req.clone());
        assert_eq!(hex_u256(&n), U256::from(expected), "{req}");
        assert_eq!(n, rpc(&anvil.addr, "eth_call", req));
    }

    // eth_createAccessList: the same list and gas as anvil's.
    let req =
        json!([{"from": key.address(), "to": counter, "data": "0xd09de08a", "gas": "0x100000"}, "latest"]);
    let (n, a) =
        (rpc(&node.addr, "eth_createAccessList", req.clone()), rpc(&anvil.addr, "eth_createAccessList", req));
    assert_eq!(n["accessList"], a["accessList"]);
    assert_eq!(n["gasUsed"], a["gasUsed"]);
    assert_eq!(n["accessList"][0]["address"].as_str().unwrap().parse::<Address>().unwrap(), counter, "{n}");

    // A block traced whole: every transaction's prestate (the counter's slot before it) is the
    // one traced alone. Three increments from three senders sent at once share a block on
    // the node (at 100 ms blocks).
    let mut raws = Vec::new();
    for i in 3..6 {
        let raw = sign_1559(
            &dev_key(i),
            CHAIN_ID,
            0,
            TxKind::Call(counter),
            U256::ZERO,
            call("d09de08a", None),
            100_000,
            fee,
            1_000_000,
        );
        raws.push(raw);
    }
    let batch: Vec<Value> =
        raws.iter().map(|raw| rpc(&node.addr, "eth_sendRawTransaction", json!([raw]))).collect();
    // The same on anvil, so that the chains stay equal for the checks below.
    for raw in &raws {
        let hash = rpc(&anvil.addr, "eth_sendRawTransaction", json!([raw]));
        wait_receipt(&anvil.addr, hash.as_str().unwrap());
    }
    let receipts: Vec<Value> = batch.iter().map(|h| wait_receipt(&node.addr, h.as_str().unwrap())).collect();
    let last = receipts.iter().max_by_key(|r| hex_u64(&r["transactionIndex"])).unwrap().clone();
    let tracer = json!({"tracer": "prestateTracer"});
    let traced = rpc(&node.addr, "debug_traceBlockByNumber", json!([last["blockNumber"], tracer]));
    let traced = traced.as_array().unwrap();
    assert_eq!(traced.len() as u64, hex_u64(&last["transactionIndex"]) + 1);
    assert!(traced.len() >= 2, "the increments share a block");
    for entry in traced {
        let alone = rpc(&node.addr, "debug_traceTransaction", json!([entry["txHash"], tracer]));
        assert_eq!(entry["result"], alone);
    }
    let by_hash = rpc(&node.addr, "debug_traceBlockByHash", json!([last["blockHash"], tracer]));
    assert_eq!(by_hash.as_array().unwrap(), traced);

    let diff = rpc(
        &node.addr,
        "debug_traceTransaction",
        json!([hashes[1], {"tracer": "prestateTracer", "tracerConfig": {"diffMode": true}}]),
    );
    let post = diff["post"].as_object().unwrap();
    let slot0 =
        post.iter().find(|(k, _)| k.parse::<Address>().unwrap() == counter).map(|(_, v)| &v["storage"]);
    assert_eq!(hex_u256(&slot0.unwrap()[format!("{:#066x}", 0)]), U256::from(6), "{diff}");
    let e = rpc_err(&node.addr, "debug_traceTransaction", json!([hashes[1], {"tracer": "4byteTracer"}]));
    assert!(e["message"].as_str().unwrap().starts_with("tracer not supported"), "{e}");

    // Calls: return data and revert data.
    for (data, _) in [("8381f58a", "number()"), ("a9cc4718", "fail()")] {
        let req = json!([{"to": counter, "data": format!("0x{data}")}, "latest"]);
        let a = rpc_raw(&anvil.addr, "eth_call", req.clone());
        let n = rpc_raw(&node.addr, "eth_call", req);
        assert_eq!(n["result"], a["result"], "{data}");
        assert_eq!(n["error"]["data"], a["error"]["data"], "{data}");
        assert_eq!(n["error"]["code"], a["error"]["code"], "{data}");
    }
    let req = json!([counter, "0x0", "latest"]);
    assert_eq!(rpc(&node.addr, "eth_getStorageAt", req.clone()), rpc(&anvil.addr, "eth_getStorageAt", req));
    let req = json!([counter, "latest"]);
    assert_eq!(rpc(&node.addr, "eth_getCode", req.clone()), rpc(&anvil.addr, "eth_getCode", req));
    let req = json!([{"from": key.address(), "to": counter, "data": "0xd09de08a"}]);
    assert_eq!(rpc(&node.addr, "eth_estimateGas", req.clone()), rpc(&anvil.addr, "eth_estimateGas", req));
}

/// `eth_getProof` of the node verifies against its own header's state root, and the
/// contract's storage proof (which does not depend on the rest of the genesis) is byte for byte
/// anvil's.
#[test]
fn get_proof_verifies_and_storage_proof_matches_anvil() {
    use alloy_trie::proof::verify_proof;
    use alloy_trie::{Nibbles, TrieAccount};

    let bytecode = super::tools::counter_bytecode();
    let anvil = Anvil::start(None, &[]);
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "200ms"]);
    let key = dev_key(1);
    let mut deploy = bytecode;
    deploy.extend_from_slice(&U256::from(42).to_be_bytes::<32>());
    let raw = sign_1559(
        &key,
        CHAIN_ID,
        0,
        TxKind::Create,
        U256::ZERO,
        deploy.into(),
        1_000_000,
        100_000_000_000,
        1,
    );
    let hash = rpc(&anvil.addr, "eth_sendRawTransaction", json!([raw]));
    wait_receipt(&anvil.addr, hash.as_str().unwrap());
    rpc(&node.addr, "eth_sendRawTransactionSync", json!([raw]));
    let counter = key.address().create(0);
    let slots = json!([alloy_primitives::B256::ZERO, alloy_primitives::B256::with_last_byte(1)]);

    // The proof at the head, against that head's header (retry if a block lands in between).
    let (proof, header) = loop {
        let header = rpc(&node.addr, "eth_getBlockByNumber", json!(["latest", false]));
        let r = rpc_raw(&node.addr, "eth_getProof", json!([counter, slots, header["number"]]));
        if r.get("result").is_some() {
            break (r["result"].clone(), header);
        }
    };
    let root: alloy_primitives::B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
    let proof_nodes = |v: &Value| -> Vec<Bytes> {
        v.as_array().unwrap().iter().map(|n| n.as_str().unwrap().parse().unwrap()).collect()
    };
    let account = TrieAccount {
        nonce: hex_u64(&proof["nonce"]),
        balance: hex_u256(&proof["balance"]),
        storage_root: proof["storageHash"].as_str().unwrap().parse().unwrap(),
        code_hash: proof["codeHash"].as_str().unwrap().parse().unwrap(),
    };
    verify_proof(
        root,
        Nibbles::unpack(alloy_primitives::keccak256(counter)),
        Some(alloy::rlp::encode(account)),
        &proof_nodes(&proof["accountProof"]),
    )
    .unwrap();
    assert_eq!(hex_u256(&proof["storageProof"][0]["value"]), U256::from(42));

    let from_anvil = rpc(&anvil.addr, "eth_getProof", json!([counter, slots, "latest"]));
    assert_eq!(proof["storageHash"], from_anvil["storageHash"]);
    assert_eq!(proof["codeHash"], from_anvil["codeHash"]);
    for i in 0..2 {
        assert_eq!(proof["storageProof"][i]["proof"], from_anvil["storageProof"][i]["proof"], "slot {i}");
        assert_eq!(
            hex_u256(&proof["storageProof"][i]["value"]),
            hex_u256(&from_anvil["storageProof"][i]["value"])
        );
    }
}
