//! NEAR DA backend: transaction bytes and hashes against near-api-js and NEAR's published
//! vectors, the RPC exchange against a local node that validates like nearcore
//! ([`fake_node`]).

mod fake_node;

use alloy_primitives::{B256, Bytes, keccak256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fake_node::FakeNear;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};
use temporis_da_adapters::near::{
    CryptoHash, DA_LAYER_NEAR, MAX_TRANSACTION_SIZE, Namespace, NearBackend, NearCommitment, NearConfig,
    PublicKey, SecretKey, Signature, SignedTransaction,
};
use temporis_da_adapters::{DaBackend, DaError};
use temporis_protocol::commitment::Commitment;

const CONTRACT: &str = "blobs.temporis.testnet";
const SIGNER: &str = "batcher.temporis.testnet";

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed([seed; 32])
}

fn config(url: &str, signer: &str, secret: SecretKey) -> NearConfig {
    NearConfig::new(url, signer.parse().unwrap(), secret, CONTRACT.parse().unwrap())
}

/// A fake node with the blob store owned by [`SIGNER`], and a backend signing as its key.
async fn setup() -> (FakeNear, NearBackend) {
    let node = FakeNear::start(CONTRACT, SIGNER).await;
    let backend =
        NearBackend::new(config(&node.url, SIGNER, key(1)).with_namespace(Namespace { version: 1, id: 7 }))
            .unwrap();
    node.add_key(SIGNER, backend.public_key());
    (node, backend)
}

/// Deterministic, non-repeating test data.
fn data(len: usize, salt: u8) -> Bytes {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ salt)
        .collect::<Vec<u8>>()
        .into()
}

/// Sends raw JSON-RPC to `url` and returns the whole answer.
async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": "t", "method": method, "params": params });
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

/// Runs the near-api-js signer on `cases` (see tests/near-js/sign.mjs).
fn near_api_js(cases: &[Value]) -> Vec<Value> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/near-js/sign.mjs");
    assert!(
        std::path::Path::new(&format!("{root}/node_modules/near-api-js/package.json")).exists(),
        "near-api-js missing: run `make bootstrap` (npm install)"
    );
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node (>= 20) on PATH");
    let input = serde_json::to_vec(cases).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Write from a thread: the script answers only after reading everything, and the inputs
    // (megabytes) exceed the pipe buffer.
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "sign.mjs failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn near_api_js_builds_and_signs_the_same_transactions() {
    // (signer, contract, namespace, nonce, data): empty, small, 100 KiB, and a full 1.5 MiB
    // transaction; named, long and implicit (64 hex) accounts; the largest nonce.
    let implicit = "98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6de";
    let longest = "c".repeat(64);
    let cases: Vec<(&str, &str, Option<Namespace>, u64, usize)> = vec![
        (SIGNER, CONTRACT, None, 1, 0),
        ("a.near", "bb", Some(Namespace { version: 1, id: 1337 }), 85_000_001, 5),
        (implicit, CONTRACT, Some(Namespace { version: 255, id: u32::MAX }), u64::MAX, 100 * 1024),
        (SIGNER, &longest, None, 7, usize::MAX), // a full transaction
    ];
    let mut rust = Vec::new();
    let mut js_cases = Vec::new();
    for (i, (signer, contract, namespace, nonce, len)) in cases.into_iter().enumerate() {
        let secret = key(10 + i as u8);
        let mut c = NearConfig::new(
            "http://127.0.0.1:1",
            signer.parse().unwrap(),
            secret.clone(),
            contract.parse().unwrap(),
        );
        c.namespace = namespace;
        let backend = NearBackend::new(c).unwrap();
        let len = if len == usize::MAX { backend.piece_capacity() } else { len };
        let piece = data(len, i as u8);
        let block_hash = CryptoHash::sha256(&[i as u8]);
        let tx = backend.submit_transaction(nonce, block_hash, &piece);
        js_cases.push(json!({
            "secretKey": secret.to_secret_string(),
            "signerId": signer,
            "receiverId": contract,
            "nonce": nonce.to_string(),
            "blockHash": block_hash.to_string(),
            "methodName": "submit",
            "gas": backend.config().gas.to_string(),
            "deposit": "0",
            "namespace": namespace.map(|n| json!({ "version": n.version, "id": n.id })),
            "data": BASE64.encode(&piece),
        }));
        rust.push((tx, backend.public_key()));
    }
    let js = near_api_js(&js_cases);
    assert_eq!(js.len(), rust.len());
    for (i, ((tx, public_key), js)) in rust.iter().zip(&js).enumerate() {
        let field = |k: &str| BASE64.decode(js[k].as_str().unwrap()).unwrap();
        let temporis_da_adapters::near::Action::FunctionCall(call) = &tx.transaction.actions[0] else {
            unreachable!()
        };
        assert_eq!(field("args"), call.args, "case {i}: SubmitRequest bytes");
        assert_eq!(field("transaction"), tx.transaction.encode(), "case {i}: Transaction bytes");
        assert_eq!(field("signedTransaction"), tx.encode(), "case {i}: SignedTransaction bytes");
        assert_eq!(js["hash"].as_str().unwrap(), tx.hash().to_string(), "case {i}: hash");
        assert_eq!(js["publicKey"].as_str().unwrap(), public_key.to_string(), "case {i}: public key");
        // near-api-js's bytes decode here to the same transaction, with a valid signature.
        let decoded = SignedTransaction::decode(&field("signedTransaction")).unwrap();
        assert_eq!(&decoded, tx);
        assert!(decoded.verify());
    }
    // The full case is exactly the protocol's transaction size limit.
    assert_eq!(rust[3].0.encode().len(), MAX_TRANSACTION_SIZE);
}

#[test]
fn published_near_vectors() {
    // NEAR RPC documentation (docs.near.org, "RPC Endpoints / Transactions"): two signed
    // transfers from sender.testnet with their hashes and signatures as the node reported them.
    let vectors = [
        (
            "DgAAAHNlbmRlci50ZXN0bmV0AOrmAai64SZOv9e/naX4W15pJx0GAap35wTT1T/DwcbbDwAAAAAAAAAQAAAAcmVjZWl2ZXIudGVzdG5ldNMnL7URB1cxPOu3G8jTqlEwlcasagIbKlAJlF5ywVFLAQAAAAMAAACh7czOG8LTAAAAAAAAAGQcOG03xVSFQFjoagOb4NBBqWhERnnz45LY4+52JgZhm1iQKz7qAdPByrGFDQhQ2Mfga8RlbysuQ8D8LlA6bQE=",
            15,
            "6zgh2u9DqHHiXzdy9ouTP7oGky2T4nugqzqt9wJZwNFm",
            "ed25519:3168QMdTpcwHvM1dmMYBc8hg9J3Wn8n7MWBSE9WrEpns6P5CaY87RM6k4uzyBkQuML38CZhU18HzmQEevPG1zCvk",
        ),
        (
            "DgAAAHNlbmRlci50ZXN0bmV0AOrmAai64SZOv9e/naX4W15pJx0GAap35wTT1T/DwcbbDQAAAAAAAAAQAAAAcmVjZWl2ZXIudGVzdG5ldIODI4YfV/QS++blXpQYT+bOsRblTRW4f547y/LkvMQ9AQAAAAMAAACh7czOG8LTAAAAAAAAAAXcaTJzu9GviPT7AD4mNJGY79jxTrjFLoyPBiLGHgBi8JK1AnhK8QknJ1ourxlvOYJA2xEZE8UR24THmSJcLQw=",
            13,
            "ASS7oYwGiem9HaNwJe6vS2kznx2CxueKDvU9BAYJRjNR",
            "ed25519:7oCBMfSHrZkT7tzPDBxxCd3tWFhTES38eks3MCZMpYPJRfPWKxJsvmwQiVBBxRLoxPTnXVaMU2jPV3MdFKZTobH",
        ),
    ];
    for (b64, nonce, hash, signature) in vectors {
        let bytes = BASE64.decode(b64).unwrap();
        let tx = SignedTransaction::decode(&bytes).unwrap();
        assert_eq!(tx.encode(), bytes, "re-encodes byte for byte");
        assert_eq!(tx.transaction.signer_id.as_str(), "sender.testnet");
        assert_eq!(tx.transaction.receiver_id.as_str(), "receiver.testnet");
        assert_eq!(tx.transaction.nonce, nonce);
        assert_eq!(
            tx.transaction.actions,
            [temporis_da_adapters::near::Action::Transfer { deposit: 1_000_000_000_000_000_000_000_000 }]
        );
        assert_eq!(tx.hash().to_string(), hash);
        assert_eq!(tx.signature, signature.parse::<Signature>().unwrap());
        assert!(tx.verify(), "the published signature verifies against the transaction's key");
    }
    // NEAR DA's client tests: this secret key has this public key.
    let secret: SecretKey =
        "ed25519:2T3R1CBAsKQN1Xa9fN9aL1epRwnxgbvk5RAy3sNAdh1n4nfkD9gyGKDLECBMVkwg1zPeewPG9eoX8XVRC6tr6nDt"
            .parse()
            .unwrap();
    assert_eq!(secret.public_key().to_string(), "ed25519:63gNvWb5ESf9ECcHtVy8E853XrPaSfgT39QHXRo6Zomx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_one_and_several_transactions() {
    let (node, da) = setup().await;
    let cap = da.piece_capacity();
    for (len, txs) in [(0, 1), (1, 1), (100_000, 1), (cap, 1), (cap + 1, 2), (2 * cap + 5, 3)] {
        let blob = data(len, len as u8);
        let c = da.put(blob.clone()).await.unwrap();
        let parsed = NearCommitment::from_commitment(&c).unwrap();
        assert_eq!(parsed.tx_hashes.len(), txs, "{len} bytes");
        assert_eq!(parsed.data_hash, keccak256(&blob));
        assert!(
            matches!(&c, Commitment::Generic { da_layer: DA_LAYER_NEAR, payload } if payload.len() == 32 * (txs + 1))
        );
        assert_eq!(da.get(&c).await.unwrap(), blob, "{len} bytes");
        // The commitment survives its wire encoding.
        assert_eq!(da.get(&Commitment::decode(&c.encode()).unwrap()).await.unwrap(), blob);
    }
    assert_eq!(node.tx_count(), 1 + 1 + 1 + 1 + 2 + 3);

    // A reader with its own backend (same accounts, any key) reads what the writer wrote.
    let reader = NearBackend::new(config(&node.url, SIGNER, key(99))).unwrap();
    let blob = data(5000, 1);
    let c = da.put(blob.clone()).await.unwrap();
    assert_eq!(reader.get(&c).await.unwrap(), blob);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_transactions_split_a_blob_into_many() {
    let (node, da) = setup().await;
    let mut c = da.config().clone();
    c.max_transaction_size = 1024;
    c.max_blob_size = 64 * 1024;
    let small = NearBackend::new(c).unwrap();
    node.set_max_tx_size(1024);
    let blob = data(20_000, 3);
    let commitment = small.put(blob.clone()).await.unwrap();
    let parsed = NearCommitment::from_commitment(&commitment).unwrap();
    assert_eq!(parsed.tx_hashes.len(), 20_000usize.div_ceil(small.piece_capacity()));
    assert_eq!(small.get(&commitment).await.unwrap(), blob);

    // The pieces in another order are another blob.
    let mut swapped = parsed.clone();
    swapped.tx_hashes.swap(0, 1);
    assert!(matches!(small.get(&swapped.to_commitment()).await, Err(DaError::CommitmentMismatch { .. })));
    // A commitment naming more transactions than a maximal blob takes is refused unread.
    let too_many =
        NearCommitment { tx_hashes: vec![parsed.tx_hashes[0]; small.max_transactions() + 1], ..parsed };
    assert!(matches!(small.get(&too_many.to_commitment()).await, Err(DaError::UnsupportedCommitment { .. })));
    // The default backend's full-size transactions exceed this node's limit: the node's refusal
    // is reported.
    let err = da.put(data(2000, 0)).await.unwrap_err();
    assert!(matches!(&err, DaError::Chain { msg, .. } if msg.contains("TransactionSizeExceeded")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_answers_and_commitments_are_mismatches() {
    let (node, da) = setup().await;
    let blob = data(3000, 9);
    let c = da.put(blob.clone()).await.unwrap();

    // The node flips one byte of the data it returns.
    node.corrupt_data(true);
    assert!(matches!(da.get(&c).await, Err(DaError::CommitmentMismatch { .. })));
    node.corrupt_data(false);
    assert_eq!(da.get(&c).await.unwrap(), blob);

    // A flipped bit in the commitment's data hash.
    let mut parsed = NearCommitment::from_commitment(&c).unwrap();
    parsed.data_hash = B256::from(parsed.data_hash.0.map(|b| b ^ 0x80));
    assert!(matches!(da.get(&parsed.to_commitment()).await, Err(DaError::CommitmentMismatch { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_transactions_are_not_found() {
    let (_node, da) = setup().await;
    let missing = NearCommitment { tx_hashes: vec![CryptoHash([7; 32])], data_hash: keccak256(b"x") };
    assert!(matches!(da.get(&missing.to_commitment()).await, Err(DaError::NotFound(_))));

    // A reader configured with another sender looks in the wrong place: not found either.
    let c = da.put(data(10, 0)).await.unwrap();
    let other = NearBackend::new(config(&da.config().rpc_url, "someone.testnet", key(1))).unwrap();
    assert!(matches!(other.get(&c).await, Err(DaError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_and_accounts_are_clear_errors() {
    let (node, _da) = setup().await;
    // A key the account does not have.
    let wrong = NearBackend::new(config(&node.url, SIGNER, key(2))).unwrap();
    let err = wrong.put(data(10, 0)).await.unwrap_err();
    assert!(
        matches!(&err, DaError::Chain { msg, .. } if msg.contains("access key") && msg.contains("does not exist")),
        "{err}"
    );
    // An account that does not exist.
    let nobody = NearBackend::new(config(&node.url, "nobody.testnet", key(1))).unwrap();
    let err = nobody.put(data(10, 0)).await.unwrap_err();
    assert!(
        matches!(&err, DaError::Chain { msg, .. } if msg.contains("nobody.testnet does not exist")),
        "{err}"
    );
    assert_eq!(node.send_calls(), 0, "nothing is sent without a usable key");

    // A valid key of an account that does not own the blob store: the contract refuses it, and
    // its failed transaction is not served as a blob either.
    node.add_key("intruder.testnet", key(3).public_key());
    let intruder = NearBackend::new(config(&node.url, "intruder.testnet", key(3))).unwrap();
    let err = intruder.put(data(10, 0)).await.unwrap_err();
    assert!(matches!(&err, DaError::Chain { msg, .. } if msg.contains("Predecessor is not owner")), "{err}");
    let sent = NearCommitment { tx_hashes: vec![node.last_tx().unwrap()], data_hash: keccak256(data(10, 0)) };
    let err = intruder.get(&sent.to_commitment()).await.unwrap_err();
    assert!(matches!(&err, DaError::Malformed { msg, .. } if msg.contains("not a blob submission")), "{err}");

    // Function-call keys: one scoped to `submit` on the blob store works; one scoped to another
    // contract or method is refused before anything is sent, and the node refuses it too.
    node.add_function_call_key(SIGNER, key(4).public_key(), CONTRACT, &["submit"]);
    let scoped = NearBackend::new(config(&node.url, SIGNER, key(4))).unwrap();
    let blob = data(100, 4);
    assert_eq!(scoped.get(&scoped.put(blob.clone()).await.unwrap()).await.unwrap(), blob);
    node.add_function_call_key(SIGNER, key(5).public_key(), "other.testnet", &[]);
    node.add_function_call_key(SIGNER, key(6).public_key(), CONTRACT, &["own_accept_owner"]);
    for seed in [5, 6] {
        let b = NearBackend::new(config(&node.url, SIGNER, key(seed))).unwrap();
        let sent = node.send_calls();
        let err = b.put(data(10, 0)).await.unwrap_err();
        assert!(matches!(&err, DaError::Chain { msg, .. } if msg.contains("may not call submit")), "{err}");
        assert_eq!(node.send_calls(), sent);
        let nonce = node.nonce(SIGNER, key(seed).public_key()).unwrap();
        let tx = BASE64.encode(b.submit_transaction(nonce + 1, node.head(), b"x").encode());
        let a = rpc(&node.url, "send_tx", json!({ "signed_tx_base64": tx, "wait_until": "FINAL" })).await;
        let e = &a["error"]["data"]["TxExecutionError"]["InvalidTxError"]["InvalidAccessKeyError"];
        assert!(e["ReceiverMismatch"].is_object() || e["MethodNameMismatch"].is_object(), "{a}");
    }

    // Bad text forms never reach the network.
    assert!(NearConfig::parse(&node.url, SIGNER, "ed25519:3xyz", CONTRACT).is_err());
    assert!(NearConfig::parse(&node.url, "Bad..Account", &key(1).to_secret_string(), CONTRACT).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_and_foreign_commitments() {
    let (node, da) = setup().await;
    let limit = da.config().max_blob_size;
    assert!(matches!(
        da.put(Bytes::from(vec![0u8; limit + 1])).await,
        Err(DaError::TooLarge { size, limit: l }) if size == limit + 1 && l == limit
    ));
    assert_eq!(node.send_calls(), 0, "refused before anything is sent");

    for foreign in [
        Commitment::keccak(b"data"),
        Commitment::Generic { da_layer: 0xfc, payload: vec![1u8; 64].into() },
        Commitment::Generic { da_layer: DA_LAYER_NEAR, payload: vec![1u8; 32].into() }, // no data hash
        Commitment::Generic { da_layer: DA_LAYER_NEAR, payload: vec![1u8; 65].into() },
    ] {
        assert!(matches!(da.get(&foreign).await, Err(DaError::UnsupportedCommitment { .. })), "{foreign:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_resend_the_same_transaction_and_puts_serialise() {
    let (node, da) = setup().await;
    node.time_out_next_sends(1);
    let blob = data(500, 4);
    let c = da.put(blob.clone()).await.unwrap();
    assert_eq!(node.send_calls(), 2, "sent again after the timeout");
    assert_eq!(node.tx_count(), 1, "and applied once");
    assert_eq!(da.get(&c).await.unwrap(), blob);

    // More timeouts than attempts: a clear error.
    node.time_out_next_sends(10);
    let err = da.put(data(10, 5)).await.unwrap_err();
    assert!(matches!(&err, DaError::Chain { msg, .. } if msg.contains("TIMEOUT_ERROR")), "{err}");
    node.time_out_next_sends(0);

    // Concurrent puts through clones of one backend each get their own nonce.
    let mut tasks = Vec::new();
    for i in 0..6u8 {
        let da = da.clone();
        tasks.push(tokio::spawn(async move {
            let blob = data(1000 + i as usize, i);
            let c = da.put(blob.clone()).await.unwrap();
            assert_eq!(da.get(&c).await.unwrap(), blob);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fake_node_validates_like_nearcore() {
    let (node, da) = setup().await;
    let ak = node.nonce(SIGNER, da.public_key()).unwrap();
    let send = |tx: &SignedTransaction| {
        let url = node.url.clone();
        let b64 = BASE64.encode(tx.encode());
        async move { rpc(&url, "broadcast_tx_commit", json!([b64])).await }
    };
    let invalid = |answer: &Value| answer["error"]["data"]["TxExecutionError"]["InvalidTxError"].clone();

    // A flipped signature byte.
    let mut tx = da.submit_transaction(ak + 1, node.head(), b"blob");
    tx.signature.0[0] ^= 1;
    let a = send(&tx).await;
    assert_eq!(a["error"]["cause"]["name"], "INVALID_TRANSACTION");
    assert_eq!(invalid(&a), json!("InvalidSignature"));
    // A tampered body under the original signature.
    let mut tx = da.submit_transaction(ak + 1, node.head(), b"blob");
    tx.transaction.nonce += 1;
    assert_eq!(invalid(&send(&tx).await), json!("InvalidSignature"));
    // An unknown block.
    assert_eq!(
        invalid(&send(&da.submit_transaction(ak + 1, CryptoHash([5; 32]), b"blob")).await),
        json!("InvalidChain")
    );
    // A key the node does not know.
    let stranger = NearBackend::new(config(&node.url, SIGNER, key(42))).unwrap();
    let a = send(&stranger.submit_transaction(1, node.head(), b"blob")).await;
    assert!(invalid(&a)["InvalidAccessKeyError"]["AccessKeyNotFound"].is_object(), "{a}");

    // near-api-js's signing of the same submission is accepted, and its nonce is then used up.
    let head = node.head();
    let js = near_api_js(&[json!({
        "secretKey": key(1).to_secret_string(), "signerId": SIGNER, "receiverId": CONTRACT,
        "nonce": (ak + 1).to_string(), "blockHash": head.to_string(), "methodName": "submit",
        "gas": da.config().gas.to_string(), "deposit": "0", "namespace": { "version": 1, "id": 7 },
        "data": BASE64.encode(b"blob"),
    })]);
    let a = rpc(&node.url, "broadcast_tx_commit", json!([js[0]["signedTransaction"]])).await;
    assert_eq!(a["result"]["status"], json!({ "SuccessValue": "" }), "{a}");
    assert_eq!(a["result"]["transaction"]["hash"], js[0]["hash"]);
    let replay = da.submit_transaction(ak + 1, node.head(), b"other");
    assert_eq!(
        invalid(&send(&replay).await),
        json!({ "InvalidNonce": { "tx_nonce": ak + 1, "ak_nonce": ak + 1 } })
    );
    // A nonce too far ahead.
    let far = da.submit_transaction(u64::MAX, node.head(), b"blob");
    assert!(invalid(&send(&far).await)["NonceTooLarge"].is_object());
    // Not borsh.
    let a = rpc(
        &node.url,
        "send_tx",
        json!({ "signed_tx_base64": BASE64.encode(b"junk"), "wait_until": "FINAL" }),
    )
    .await;
    assert_eq!(a["error"]["cause"]["name"], "PARSE_ERROR");

    // The backend's `get` reads what near-api-js submitted.
    let c = NearCommitment {
        tx_hashes: vec![js[0]["hash"].as_str().unwrap().parse().unwrap()],
        data_hash: keccak256(b"blob"),
    };
    assert_eq!(da.get(&c.to_commitment()).await.unwrap(), Bytes::from_static(b"blob"));
    // The key's public form is what the node registered.
    assert_eq!(js[0]["publicKey"].as_str().unwrap().parse::<PublicKey>().unwrap(), da.public_key());
}
