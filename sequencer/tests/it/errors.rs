//! Refused transactions with geth's words, and malformed requests with JSON-RPC errors.

use alloy::consensus::{SignableTransaction, TxEip4844, TxLegacy};
use alloy::signers::SignerSync;
use alloy_primitives::{Address, Bytes, Signature, TxKind, U256};
use serde_json::json;

use super::*;

fn send_err(addr: &str, raw: &Bytes) -> String {
    let e = rpc_err(addr, "eth_sendRawTransaction", json!([raw]));
    e["message"].as_str().unwrap().to_owned()
}

#[test]
fn refused_transactions_use_geths_words() {
    let dir = tempfile::tempdir().unwrap();
    // A slow block time so that nothing queued here is mined while the test looks at it.
    let node =
        NodeProc::start(dir.path(), &["--sequencer.block-time", "1s", "--sequencer.gas-limit", "30000000"]);
    let a = node.addr.as_str();
    let key = dev_key(3);
    let to = Address::repeat_byte(1);

    // Nonce too low: once nonce 0 is included, sending another nonce-0 transaction fails.
    let first = transfer(&key, 0, to, 1);
    let receipt = rpc(a, "eth_sendRawTransactionSync", json!([first]));
    assert_eq!(receipt["status"], "0x1");
    let again = transfer(&key, 0, to, 2);
    assert!(send_err(a, &again).starts_with("nonce too low"), "{}", send_err(a, &again));
    assert_eq!(send_err(a, &first), "already known");

    // Replacement: a queued nonce (gap) so it cannot be mined; a bump under 10 % is refused,
    // the same bytes are "already known", a 10 % bump replaces it.
    let gap = |fee: u128, tip: u128| {
        sign_1559(&key, CHAIN_ID, 5, TxKind::Call(to), U256::from(1), Bytes::new(), 21_000, fee, tip)
    };
    let queued = gap(1_000_000_000, 1_000_000);
    rpc(a, "eth_sendRawTransaction", json!([queued]));
    assert_eq!(send_err(a, &queued), "already known");
    assert_eq!(send_err(a, &gap(1_090_000_000, 1_090_000)), "replacement transaction underpriced");
    rpc(a, "eth_sendRawTransaction", json!([gap(1_100_000_000, 1_100_000)]));
    let status = rpc(a, "txpool_status", json!([]));
    assert_eq!(hex_u64(&status["queued"]), 1, "{status}");
    let content = rpc(a, "txpool_content", json!([]));
    assert!(content["queued"][key.address().to_checksum(None)]["5"].is_object(), "{content}");

    // Insufficient funds: a key with no balance.
    let poor = PrivateKeySigner::random();
    assert!(
        send_err(a, &transfer(&poor, 0, to, 1)).starts_with("insufficient funds for gas * price + value")
    );

    // Wrong chain id.
    let other_chain =
        sign_1559(&key, 1, 1, TxKind::Call(to), U256::from(1), Bytes::new(), 21_000, 1_000_000_000, 1);
    assert_eq!(send_err(a, &other_chain), "invalid chain id");

    // Gas above the block's limit (30M here) and below the intrinsic gas.
    let huge = sign_1559(
        &key,
        CHAIN_ID,
        1,
        TxKind::Call(to),
        U256::ZERO,
        Bytes::new(),
        30_000_001,
        1_000_000_000,
        1,
    );
    assert_eq!(send_err(a, &huge), "exceeds block gas limit");
    let tiny =
        sign_1559(&key, CHAIN_ID, 1, TxKind::Call(to), U256::ZERO, Bytes::new(), 20_999, 1_000_000_000, 1);
    assert_eq!(send_err(a, &tiny), "intrinsic gas too low");

    // Tip above the fee cap.
    let inverted = sign_1559(&key, CHAIN_ID, 1, TxKind::Call(to), U256::ZERO, Bytes::new(), 21_000, 10, 11);
    assert_eq!(send_err(a, &inverted), "max priority fee per gas higher than max fee per gas");

    // A blob transaction (type 3) is refused as a type.
    let blob = TxEip4844 {
        chain_id: CHAIN_ID,
        nonce: 1,
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000,
        max_priority_fee_per_gas: 1,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        blob_versioned_hashes: vec![alloy_primitives::B256::repeat_byte(1)],
        max_fee_per_blob_gas: 1,
        input: Bytes::new(),
    };
    let sig = key.sign_hash_sync(&blob.signature_hash()).unwrap();
    let blob: TxEnvelope = blob.into_signed(sig).into();
    assert_eq!(send_err(a, &blob.encoded_2718().into()), "transaction type not supported");

    // A legacy transaction without EIP-155 protection, and a bad signature.
    let legacy = TxLegacy {
        chain_id: None,
        nonce: 1,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&legacy.signature_hash()).unwrap();
    let legacy: TxEnvelope = legacy.into_signed(sig).into();
    assert_eq!(
        send_err(a, &legacy.encoded_2718().into()),
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
    let bad = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce: 1,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call(to),
        ..Default::default()
    };
    let bad: TxEnvelope = bad.into_signed(Signature::new(U256::ZERO, U256::from(1), false)).into();
    assert_eq!(send_err(a, &bad.encoded_2718().into()), "invalid sender");

    // Oversized: 128 KiB of calldata.
    let big = sign_1559(
        &key,
        CHAIN_ID,
        1,
        TxKind::Call(to),
        U256::ZERO,
        vec![1u8; 128 * 1024].into(),
        16_000_000,
        1_000_000_000,
        1,
    );
    assert_eq!(send_err(a, &big), "oversized data");

    // Garbage bytes.
    let e = rpc_err(a, "eth_sendRawTransaction", json!(["0xc0"]));
    assert_eq!(e["code"], -32000, "{e}");
    assert!(e["message"].as_str().unwrap().starts_with("rlp:"), "{e}");
    assert_eq!(send_err(a, &Bytes::from_static(&[0x7f, 0xc0])), "transaction type not supported");
    let e = rpc_err(a, "eth_sendRawTransaction", json!(["not hex"]));
    assert_eq!(e["code"], -32602, "{e}");
}

#[test]
fn malformed_requests_get_json_rpc_errors() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--rpc.max-request-size", "65536", "--rpc.max-batch-size", "5"]);
    let a = node.addr.as_str();

    let (status, body) = http_post(a, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{status} {body:?}: {e}"));
    assert_eq!(v["error"]["code"], -32700, "{v}");

    let e = rpc_err(a, "eth_noSuchMethod", json!([]));
    assert_eq!(e["code"], -32601);
    assert_eq!(e["message"], "Method not found");

    let e = rpc_err(a, "eth_getBalance", json!(["not an address"]));
    assert_eq!(e["code"], -32602, "{e}");
    let e = rpc_err(a, "eth_getBlockByNumber", json!([{"x": 1}]));
    assert_eq!(e["code"], -32602, "{e}");
    let e = rpc_err(a, "eth_call", json!([]));
    assert_eq!(e["code"], -32602, "{e}");

    // Oversized body: refused, not read into memory.
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"{}\"]}}",
        "a".repeat(100_000)
    );
    let (status, body) = http_post(a, big.as_bytes());
    assert!(status == 413 || body.contains("-32701") || body.contains("too big"), "{status} {body}");

    // Batch over the limit, and one within it.
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
    let (_, body) = http_post(a, json!(vec![call.clone(); 6]).to_string().as_bytes());
    let v: Value = serde_json::from_str(&body).unwrap();
    let text = v.to_string();
    assert!(text.contains("-32010") || text.contains("batch"), "{text}");
    let (_, body) = http_post(a, json!(vec![call; 5]).to_string().as_bytes());
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);

    // Calls at an old block run on its state (rebuilt from the undo logs); past the head there
    // is no state to run on.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(rpc(a, "eth_call", json!([{"to": Address::ZERO}, "0x0"])), "0x");
    let e = rpc_err(a, "eth_call", json!([{"to": Address::ZERO}, "0xffffff"]));
    assert_eq!(e["message"], "header not found", "{e}");
    let e = rpc_err(a, "eth_getBalance", json!([Address::ZERO, "0xffffff"]));
    assert_eq!(e["message"], "header not found");

    // Still alive.
    assert_eq!(rpc(a, "eth_chainId", json!([])), format!("{CHAIN_ID:#x}"));
}
