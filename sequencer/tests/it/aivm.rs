//! AI models served by the node: the shipped digits model and its LoRA adapter published with
//! the real `temporis-aivm publish` tool over JSON-RPC, a `DigitClassifier` deployed and asked
//! to classify held-out images, every result compared with the library's own inference; reverts
//! over RPC; and the same models after a `kill -9` and a restart through snapshot + replay.

use std::process::Command;
use std::sync::OnceLock;

use alloy::sol_types::{SolCall, SolConstructor, SolError, SolEvent};
use alloy_primitives::B256;
use temporis_aivm::model::{Adapter, Model};
use temporis_aivm::precompiles::MODEL_REGISTRY_ADDRESS;
use temporis_aivm::precompiles::inference::{INFERENCE_ADDRESS, inference_gas};
use temporis_aivm::train::digits::{Digits, Shift};
use temporis_contracts::{DigitClassifier, ModelRegistry};

use super::*;

/// `IModelRegistry.Status` values (a `uint8` in the ABI).
const STATUS_NONE: u8 = 0;
const STATUS_VERIFIED: u8 = 2;

fn models() -> PathBuf {
    workspace().join("aivm/models")
}

/// The `temporis-aivm` tool: `TEMPORIS_AIVM_BIN`, else built (or found up to date) by cargo in
/// the target directory the tests use; cargo's own JSON messages say where the executable is.
fn aivm_tool() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("TEMPORIS_AIVM_BIN") {
            return bin.into();
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "-p", "temporis-aivm", "--bin", "temporis-aivm", "--message-format=json"])
            .current_dir(workspace())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run cargo build -p temporis-aivm");
        assert!(out.status.success(), "cargo build -p temporis-aivm --bin temporis-aivm failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "temporis-aivm")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the temporis-aivm executable")
    })
}

/// Runs the tool; returns its JSON report (stdout).
fn aivm(args: &[&str]) -> Value {
    let out = Command::new(aivm_tool())
        .args(args)
        .env("TEMPORIS_PRIVATE_KEY", temporis_sequencer::genesis::DEV_KEYS[0].to_string())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run temporis-aivm");
    assert!(out.status.success(), "temporis-aivm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("temporis-aivm prints JSON")
}

/// Packs `dir` in 2 KiB chunks (so each file travels in several uploads) and publishes it to
/// the node at `url`; waits for every transaction and checks it succeeded. Returns the id.
fn pack_and_publish(url: &str, addr: &str, dir: &Path, pack: &Path) -> B256 {
    let (dir, pack) = (dir.to_str().unwrap(), pack.to_str().unwrap());
    aivm(&["pack", "--dir", dir, "--out", pack, "--chunk-size", "2048"]);
    let report = aivm(&["publish", "--pack", pack, "--rpc-url", url]);
    assert_eq!(report["chain_id"], CHAIN_ID);
    assert_eq!(report["sent"], true);
    let txs = report["transactions"].as_array().unwrap();
    assert!(txs.len() > 3, "announce and several uploads: {report}");
    for tx in txs {
        let receipt = wait_receipt(addr, tx.as_str().unwrap());
        assert_eq!(receipt["status"], "0x1", "{receipt}");
    }
    report["id"].as_str().unwrap().parse().unwrap()
}

/// `eth_call` to `to` with `input`; returns the response (result or error).
fn call(addr: &str, to: Address, input: Vec<u8>) -> Value {
    rpc_raw(addr, "eth_call", json!([{"to": to, "input": Bytes::from(input)}, "latest"]))
}

fn status_of(addr: &str, id: B256) -> u8 {
    let r = call(addr, MODEL_REGISTRY_ADDRESS, ModelRegistry::statusOfCall { contentId: id }.abi_encode());
    let ret: Bytes = serde_json::from_value(r["result"].clone()).unwrap_or_else(|_| panic!("{r}"));
    ModelRegistry::statusOfCall::abi_decode_returns(&ret).unwrap().status
}

/// Held-out digits (the split `temporis-aivm train` used), translated as the adapter was tuned.
fn held_out_shifted(n: usize) -> Vec<Vec<i8>> {
    let (_, test) = Digits::load_csv_gz(&models().join("data/digits.csv.gz")).unwrap().split(0.2, 7);
    test.shifted(Shift::Translate).int8_inputs().chunks_exact(64).take(n).map(<[i8]>::to_vec).collect()
}

fn classify(pixels: &[i8]) -> Vec<u8> {
    DigitClassifier::classifyCall { pixels: pixels.to_vec() }.abi_encode()
}

#[test]
fn published_model_classifies_digits_over_rpc_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let datadir = dir.path().join("data");
    // A snapshot every 3 blocks: the restart below restores one taken after the publication
    // and replays from there, so the models must come from the persisted store.
    let flags = ["--sequencer.block-time", "100ms", "--store.snapshot-interval", "3"];
    let node = NodeProc::start(&datadir, &flags);
    let (url, a) = (node.url.clone(), node.addr.clone());

    // The registry predeploy is in the dev genesis.
    let code: Bytes =
        serde_json::from_value(rpc(&a, "eth_getCode", json!([MODEL_REGISTRY_ADDRESS, "latest"]))).unwrap();
    assert_eq!(code, ModelRegistry::DEPLOYED_BYTECODE);

    let model_id = pack_and_publish(&url, &a, &models().join("digits-mlp"), &dir.path().join("model-pack"));
    let adapter_id = pack_and_publish(
        &url,
        &a,
        &models().join("digits-mlp-translate-lora"),
        &dir.path().join("adapter-pack"),
    );
    assert_eq!((status_of(&a, model_id), status_of(&a, adapter_id)), (STATUS_VERIFIED, STATUS_VERIFIED));

    // The consumer contract.
    let key = dev_key(0);
    let nonce = hex_u64(&rpc(&a, "eth_getTransactionCount", json!([key.address(), "pending"])));
    let mut init = DigitClassifier::BYTECODE.to_vec();
    init.extend(
        DigitClassifier::constructorCall {
            registry_: MODEL_REGISTRY_ADDRESS,
            model_: model_id,
            adapter_: adapter_id,
        }
        .abi_encode(),
    );
    let raw = sign_1559(
        &key,
        CHAIN_ID,
        nonce,
        TxKind::Create,
        U256::ZERO,
        init.into(),
        3_000_000,
        10u128.pow(11),
        1,
    );
    let hash = rpc(&a, "eth_sendRawTransaction", json!([raw]));
    let receipt = wait_receipt(&a, hash.as_str().unwrap());
    assert_eq!(receipt["status"], "0x1");
    let classifier: Address = serde_json::from_value(receipt["contractAddress"].clone()).unwrap();

    let model = Model::load(&models().join("digits-mlp")).unwrap();
    let adapter = Adapter::load(&models().join("digits-mlp-translate-lora"), &model).unwrap();
    let images = held_out_shifted(2);
    for (nonce, img) in (nonce + 1..).zip(&images) {
        let expected = temporis_aivm::infer(&model, Some(&adapter), img).unwrap();
        let req = json!({"from": key.address(), "to": classifier, "input": Bytes::from(classify(img))});

        // The estimate includes the precompile's gas, and is enough: the transaction sent with
        // exactly that limit succeeds.
        let gas = hex_u64(&rpc(&a, "eth_estimateGas", json!([req])));
        assert!(gas > 21_000 + inference_gas(&model, Some(&adapter)), "estimate {gas}");
        let ret: Bytes = serde_json::from_value(rpc(&a, "eth_call", json!([req, "latest"]))).unwrap();
        assert_eq!(
            DigitClassifier::classifyCall::abi_decode_returns(&ret).unwrap(),
            U256::from(expected.argmax)
        );

        let raw = sign_1559(
            &key,
            CHAIN_ID,
            nonce,
            TxKind::Call(classifier),
            U256::ZERO,
            classify(img).into(),
            gas,
            10u128.pow(11),
            1,
        );
        let hash = rpc(&a, "eth_sendRawTransaction", json!([raw]));
        let receipt = wait_receipt(&a, hash.as_str().unwrap());
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        assert!(hex_u64(&receipt["gasUsed"]) <= gas);
        let logs = receipt["logs"].as_array().unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0]["address"], json!(classifier));
        let topics: Vec<B256> = serde_json::from_value(logs[0]["topics"].clone()).unwrap();
        let data: Bytes = serde_json::from_value(logs[0]["data"].clone()).unwrap();
        let ev = DigitClassifier::Classified::decode_raw_log(topics, &data).unwrap();
        assert_eq!(ev.caller, key.address());
        assert_eq!(ev.digit, U256::from(expected.argmax));
        assert_eq!(ev.output, expected.output);
        assert_eq!(ev.logits, expected.logits);

        // The trace replays it with the same precompiles: the registry's static call into
        // INFERENCE, and the same return.
        let trace = rpc(&a, "debug_traceTransaction", json!([hash, {"tracer": "callTracer"}]));
        assert!(trace.get("error").is_none(), "{trace}");
        assert_eq!(trace["output"], json!(Bytes::from(U256::from(expected.argmax).to_be_bytes::<32>())));
        let registry_call = &trace["calls"][0];
        assert_eq!(registry_call["to"], json!(MODEL_REGISTRY_ADDRESS));
        assert_eq!(registry_call["calls"][0]["to"], json!(INFERENCE_ADDRESS));
        assert_eq!(registry_call["calls"][0]["type"], "STATICCALL");
    }
    let last = temporis_aivm::infer(&model, Some(&adapter), images.last().unwrap()).unwrap();

    // Reverts over RPC. An unknown model: the registry's custom error, as revert data.
    let unknown = B256::repeat_byte(0x5a);
    let infer = |model: B256, adapter: B256, input: Vec<i8>| {
        ModelRegistry::inferCall { model, adapter, input }.abi_encode()
    };
    let r = call(&a, MODEL_REGISTRY_ADDRESS, infer(unknown, B256::ZERO, images[0].clone()));
    let err = &r["error"];
    assert_eq!((err["code"].as_i64(), err["message"].as_str()), (Some(3), Some("execution reverted")), "{r}");
    let data: Bytes = serde_json::from_value(err["data"].clone()).unwrap();
    let e = ModelRegistry::ModelRegistry_ModelNotUsable::abi_decode(&data).unwrap();
    assert_eq!((e.contentId, e.status, e.reason), (unknown, STATUS_NONE, 0));
    // The precompile's own `Error(string)` reason, in the message as geth words it.
    let r = call(&a, MODEL_REGISTRY_ADDRESS, infer(model_id, B256::ZERO, vec![1, 2, 3]));
    let reason = "AIVM: input has 3 values, the model takes 64";
    assert_eq!(r["error"]["code"], 3, "{r}");
    assert_eq!(r["error"]["message"], format!("execution reverted: {reason}"));
    assert_eq!(r["error"]["data"], json!(temporis_aivm::precompiles::revert_reason(reason)));
    // And estimating an unknown model's inference fails the same way.
    let r = rpc_raw(
        &a,
        "eth_estimateGas",
        json!([{"to": MODEL_REGISTRY_ADDRESS, "input": Bytes::from(infer(unknown, B256::ZERO, images[0].clone()))}]),
    );
    assert_eq!(r["error"]["code"], 3, "{r}");
    assert_eq!(r["error"]["data"], json!(data));

    // Let a few blocks pass so that a snapshot after the publication exists, then kill -9.
    let head = hex_u64(&rpc(&a, "eth_blockNumber", json!([])));
    while hex_u64(&rpc(&a, "eth_blockNumber", json!([]))) < head + 4 {
        std::thread::sleep(Duration::from_millis(50));
    }
    node.kill9();
    let node = NodeProc::start(&datadir, &flags);
    let a = node.addr.clone();
    assert_eq!(status_of(&a, model_id), STATUS_VERIFIED);
    let ret: Bytes = serde_json::from_value(
        call(&a, classifier, DigitClassifier::lastDigitCall {}.abi_encode())["result"].clone(),
    )
    .unwrap();
    assert_eq!(DigitClassifier::lastDigitCall::abi_decode_returns(&ret).unwrap(), U256::from(last.argmax));
    // The restarted node runs the models from its store.
    let expected = temporis_aivm::infer(&model, Some(&adapter), &images[0]).unwrap();
    let infers_as_the_library = |a: &str| {
        let r = call(a, MODEL_REGISTRY_ADDRESS, infer(model_id, adapter_id, images[0].clone()));
        let ret: Bytes = serde_json::from_value(r["result"].clone()).unwrap_or_else(|_| panic!("{r}"));
        let out = ModelRegistry::inferCall::abi_decode_returns(&ret).unwrap();
        assert_eq!(
            (out.output, out.logits, out.argmax),
            (expected.output.clone(), expected.logits.clone(), U256::from(expected.argmax))
        );
    };
    infers_as_the_library(&a);

    // Without its model store the node replays from genesis (not from the snapshot), which
    // publishes the models into a new store again.
    node.stop();
    let models_dir = datadir.join(temporis_sequencer::node::MODELS_DIR);
    assert!(models_dir.join("verified").is_dir());
    std::fs::remove_dir_all(&models_dir).unwrap();
    let node = NodeProc::start(&datadir, &flags);
    infers_as_the_library(&node.addr);
    assert_eq!(std::fs::read_dir(models_dir.join("verified")).unwrap().count(), 2);
}
