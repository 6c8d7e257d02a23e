//! Publishing models on chain and running them from Solidity: the `ModelRegistry` predeploy
//! (forge-compiled bytecode from `contracts/`) in the genesis, the AIVM's INFERENCE, MODEL_INFO,
//! STORE_CHUNK and VERIFY precompiles over one model store, transactions executed by the
//! [`Executor`] block by block.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy::consensus::transaction::Recovered;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolConstructor, SolError, SolEvent};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use op_alloy_consensus::OpTxEnvelope;
use revm::context::result::{ExecutionResult, HaltReason};
use revm_inspectors::tracing::TracingInspectorConfig;
use temporis_aivm::engine::{Kernels, infer_batch_with};
use temporis_aivm::model::{Adapter, AdapterFiles, Model, ModelFiles, verify::make_test_vector};
use temporis_aivm::pack::{self, Manifest, PackKind};
use temporis_aivm::precompiles::inference::{INFERENCE_ADDRESS, inference_gas};
use temporis_aivm::precompiles::model_info::MODEL_INFO_ADDRESS;
use temporis_aivm::precompiles::store::{ModelStore, REJECT_BASE_MISMATCH, REJECT_TEST_VECTOR};
use temporis_aivm::precompiles::{MODEL_REGISTRY_ADDRESS, model_precompiles, revert_reason};
use temporis_aivm::train::digits::{Digits, Shift};
use temporis_aivm::{BlockOutcome, ExecOptions, Executor, State};
use temporis_contracts::{DigitClassifier, ModelRegistry};

use crate::aivm_support::{Lcg, TempDir, random_model};
use crate::{eip1559, genesis_json, keys, test_block};

/// Kind and status values of `IModelRegistry` (Solidity enums are `uint8` in the ABI).
const KIND_MODEL: u8 = 1;
const KIND_ADAPTER: u8 = 2;
const STATUS_NONE: u8 = 0;
const STATUS_PENDING: u8 = 1;
const STATUS_VERIFIED: u8 = 2;
const STATUS_REJECTED: u8 = 3;
/// Small chunks, so the shipped model (8 KiB) travels in several transactions.
const CHUNK: usize = 2048;
const TX_GAS: u64 = 3_000_000;

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A chain under test: the state, an executor with the model precompiles, one funded key and
/// its next nonce, and the block number.
struct Chain {
    state: State,
    executor: Executor,
    store: Arc<ModelStore>,
    key: PrivateKeySigner,
    nonce: u64,
    block: u64,
}

impl Chain {
    fn new(store: Arc<ModelStore>) -> Self {
        let key = keys(1).remove(0);
        let state = State::from_genesis_json(&genesis(&key)).unwrap();
        let executor = Executor::new(crate::CHAIN_ID).with_precompiles(model_precompiles(store.clone()));
        Self { state, executor, store, key, nonce: 0, block: 0 }
    }

    /// With the same state, a new store and executor (a node restarting on its store directory).
    fn restart(&mut self, store: Arc<ModelStore>) {
        self.executor = Executor::new(crate::CHAIN_ID).with_precompiles(model_precompiles(store.clone()));
        self.store = store;
    }

    fn tx(&mut self, to: TxKind, input: Vec<u8>, gas: u64) -> Recovered<OpTxEnvelope> {
        let tx = eip1559(&self.key, self.nonce, to, U256::ZERO, input.into(), gas);
        self.nonce += 1;
        tx
    }

    fn call_tx(&mut self, to: Address, input: Vec<u8>) -> Recovered<OpTxEnvelope> {
        self.tx(TxKind::Call(to), input, TX_GAS)
    }

    /// Executes one block of `txs` and returns its outcome.
    fn execute(&mut self, txs: &[Recovered<OpTxEnvelope>]) -> BlockOutcome {
        self.block += 1;
        let out = self
            .executor
            .execute_block(&mut self.state, &test_block(self.block), txs, &ExecOptions::default())
            .unwrap();
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        out
    }

    /// Runs a call in a throw-away block on a copy of the state (an `eth_call`).
    fn view(&self, to: Address, input: Vec<u8>, gas: u64) -> ExecutionResult<HaltReason> {
        let tx = eip1559(&self.key, self.nonce, TxKind::Call(to), U256::ZERO, input.into(), gas);
        let config = TracingInspectorConfig::default_parity();
        self.executor
            .trace_transaction(self.state.clone(), &test_block(self.block + 1), &[tx], 0, config)
            .unwrap()
            .1
    }

    fn status_of(&self, id: B256) -> (u8, u16) {
        let r = self.view(
            MODEL_REGISTRY_ADDRESS,
            ModelRegistry::statusOfCall { contentId: id }.abi_encode(),
            200_000,
        );
        assert!(r.is_success(), "{r:?}");
        let ret = ModelRegistry::statusOfCall::abi_decode_returns(r.output().unwrap()).unwrap();
        (ret.status, ret.reason)
    }

    /// The transactions that publish the pack in `pack_dir`: announce, then every chunk.
    fn publish_txs(
        &mut self,
        pack_dir: &Path,
        parent: B256,
    ) -> (Manifest, B256, Vec<Recovered<OpTxEnvelope>>) {
        let m = pack::read_manifest(&pack_dir.join(pack::MANIFEST_FILE)).unwrap();
        let (kind, config_chunks, hashes) = onchain_manifest(&m);
        let publication = publication_id(m.id, kind, parent, config_chunks, &hashes);
        let mut txs = vec![
            self.call_tx(
                MODEL_REGISTRY_ADDRESS,
                ModelRegistry::announceCall {
                    contentId: m.id,
                    kind,
                    parent,
                    configChunks: config_chunks,
                    hashes: hashes.clone(),
                }
                .abi_encode(),
            ),
        ];
        for (i, h) in hashes.iter().enumerate() {
            let data = std::fs::read(pack::chunk_path(&pack_dir.join(pack::CHUNKS_DIR), h)).unwrap();
            txs.push(self.call_tx(MODEL_REGISTRY_ADDRESS, upload(publication, i, data)));
        }
        (m, publication, txs)
    }
}

/// The genesis of the tests: `key` funded, the forge-compiled registry at its predeploy address.
fn genesis(key: &PrivateKeySigner) -> String {
    let code = hex::encode_prefixed(ModelRegistry::DEPLOYED_BYTECODE.as_ref());
    let registry = format!(r#""{MODEL_REGISTRY_ADDRESS}":{{"balance":"0x0","code":"{code}"}}"#);
    genesis_json(&[key.address()], U256::from(10u128.pow(21)), &[registry])
}

fn upload(publication: B256, index: usize, data: Vec<u8>) -> Vec<u8> {
    ModelRegistry::uploadChunkCall { publicationId: publication, index: U256::from(index), data: data.into() }
        .abi_encode()
}

/// The manifest as the registry takes it: kind, number of config chunks, all chunk hashes.
fn onchain_manifest(m: &Manifest) -> (u8, u32, Vec<B256>) {
    let kind = match m.kind {
        PackKind::Model => KIND_MODEL,
        PackKind::Adapter => KIND_ADAPTER,
    };
    let hashes = m.files.iter().flat_map(|f| f.chunks.iter().copied()).collect();
    (kind, m.files[0].chunks.len() as u32, hashes)
}

/// `keccak256(abi.encode(contentId, kind, parent, configChunks, hashes))`, as the registry computes it.
fn publication_id(id: B256, kind: u8, parent: B256, config_chunks: u32, hashes: &[B256]) -> B256 {
    use alloy::sol_types::SolValue;
    let kind = U256::from(kind);
    alloy_primitives::keccak256((id, kind, parent, config_chunks, hashes.to_vec()).abi_encode_params())
}

fn pack_dir(dir: &Path, out: &Path) -> Manifest {
    pack::pack(dir, out, CHUNK, None).unwrap()
}

fn assert_all_succeeded(out: &BlockOutcome) {
    for (i, r) in out.receipts.iter().enumerate() {
        assert!(r.status(), "transaction {i} of the block failed");
    }
}

/// Held-out digits (the split `train` used), translated as the adapter was trained for.
fn held_out_shifted() -> Vec<Vec<i8>> {
    let (_, test) = Digits::load_csv_gz(&models().join("data/digits.csv.gz")).unwrap().split(0.2, 7);
    let x = test.shifted(Shift::Translate).int8_inputs();
    x.chunks_exact(64).take(3).map(<[i8]>::to_vec).collect()
}

fn revert_data(r: &ExecutionResult<HaltReason>) -> Bytes {
    match r {
        ExecutionResult::Revert { output, .. } => output.clone(),
        other => panic!("expected a revert, got {other:?}"),
    }
}

/// Publishes the shipped model and adapter, returns their ids.
fn publish_shipped(chain: &mut Chain, tmp: &TempDir) -> (B256, B256) {
    let (mp, ap) = (tmp.path().join("model-pack"), tmp.path().join("adapter-pack"));
    pack_dir(&models().join("digits-mlp"), &mp);
    pack_dir(&models().join("digits-mlp-translate-lora"), &ap);
    let (m, model_pub, mut txs) = chain.publish_txs(&mp, B256::ZERO);
    assert!(txs.len() > 3, "the model travels in several chunks");
    let (a, _, adapter_txs) = chain.publish_txs(&ap, m.id);
    txs.extend(adapter_txs);
    let out = chain.execute(&txs);
    assert_all_succeeded(&out);
    // The last model chunk's receipt carries the registry's `Verified` event.
    let verified: Vec<_> = out
        .logs()
        .filter_map(|l| ModelRegistry::Verified::decode_log(l).ok())
        .map(|l| (l.publicationId, l.contentId))
        .collect();
    assert_eq!(verified.len(), 2);
    assert_eq!(verified[0], (model_pub, m.id));
    assert_eq!(chain.status_of(m.id), (STATUS_VERIFIED, 0));
    assert_eq!(chain.status_of(a.id), (STATUS_VERIFIED, 0));
    (m.id, a.id)
}

#[test]
fn a_contract_classifies_a_held_out_digit_with_the_published_model_and_adapter() {
    let tmp = TempDir::new("publish");
    let store = Arc::new(ModelStore::open(&tmp.path().join("store")).unwrap());
    let mut chain = Chain::new(store);
    let (model_id, adapter_id) = publish_shipped(&mut chain, &tmp);

    // The registry's record: chunk counts and sizes as packed.
    let (_, publication, _) = {
        let m = pack::read_manifest(&tmp.path().join("model-pack").join(pack::MANIFEST_FILE)).unwrap();
        let (kind, cc, hashes) = onchain_manifest(&m);
        (m.clone(), publication_id(m.id, kind, B256::ZERO, cc, &hashes), hashes)
    };
    let r = chain.view(
        MODEL_REGISTRY_ADDRESS,
        ModelRegistry::publicationCall { publicationId: publication }.abi_encode(),
        200_000,
    );
    let p = ModelRegistry::publicationCall::abi_decode_returns(r.output().unwrap()).unwrap();
    let files = ModelFiles::read(&models().join("digits-mlp")).unwrap();
    assert_eq!(p.contentId, model_id);
    assert_eq!(p.status, STATUS_VERIFIED);
    assert_eq!(p.sizeBytes, (files.config.len() + files.weights.len()) as u64);
    assert_eq!(p.received, p.chunkCount);

    // Shapes through the registry (MODEL_INFO behind it); MODEL_INFO itself serves only the registry.
    let model = Model::load(&models().join("digits-mlp")).unwrap();
    let adapter = Adapter::load(&models().join("digits-mlp-translate-lora"), &model).unwrap();
    for (id, macs) in [
        (model_id, temporis_aivm::macs(&model, None)),
        (adapter_id, temporis_aivm::macs(&model, Some(&adapter))),
    ] {
        let r = chain.view(
            MODEL_REGISTRY_ADDRESS,
            ModelRegistry::modelInfoCall { contentId: id }.abi_encode(),
            200_000,
        );
        let info = ModelRegistry::modelInfoCall::abi_decode_returns(r.output().unwrap()).unwrap();
        assert_eq!(
            (info.status, info.inputFeatures, info.outputFeatures, info.layers),
            (STATUS_VERIFIED, 64, 10, 2)
        );
        assert_eq!(info.macs, macs);
    }
    let r = chain.view(MODEL_INFO_ADDRESS, model_id.to_vec(), 100_000);
    assert_eq!(
        revert_data(&r),
        revert_reason(&format!("AIVM: MODEL_INFO serves only {MODEL_REGISTRY_ADDRESS}"))
    );

    // A consumer contract, deployed by CREATE, then asked to classify held-out images.
    let mut init = DigitClassifier::BYTECODE.to_vec();
    init.extend(
        DigitClassifier::constructorCall {
            registry_: MODEL_REGISTRY_ADDRESS,
            model_: model_id,
            adapter_: adapter_id,
        }
        .abi_encode(),
    );
    let deployer_nonce = chain.nonce;
    let deploy = chain.tx(TxKind::Create, init, TX_GAS);
    let classifier = chain.key.address().create(deployer_nonce);
    let images = held_out_shifted();
    let mut txs = vec![deploy];
    for img in &images {
        txs.push(
            chain.call_tx(classifier, DigitClassifier::classifyCall { pixels: img.clone() }.abi_encode()),
        );
    }
    let out = chain.execute(&txs);
    assert_all_succeeded(&out);
    let events: Vec<_> = out.logs().filter_map(|l| DigitClassifier::Classified::decode_log(l).ok()).collect();
    assert_eq!(events.len(), images.len());

    for (img, ev) in images.iter().zip(&events) {
        // The library engine, the plain integer reference and the `temporis-aivm infer` tool.
        let lib = temporis_aivm::infer(&model, Some(&adapter), img).unwrap();
        let reference = infer_batch_with(&model, Some(&adapter), img, Kernels::Reference).unwrap().remove(0);
        assert_eq!(lib, reference);
        let cli = cli_infer(img);
        assert_eq!(cli["logits"], serde_json::json!(lib.logits));
        assert_eq!(cli["output"], serde_json::json!(lib.output));
        assert_eq!(cli["argmax"], lib.argmax);
        assert_eq!(ev.digit, U256::from(lib.argmax));
        assert_eq!(ev.logits, lib.logits);
        assert_eq!(ev.output, lib.output);
        assert_eq!(ev.caller, chain.key.address());
    }
    // The contract's storage holds the last result.
    let r = chain.view(classifier, DigitClassifier::lastDigitCall {}.abi_encode(), 100_000);
    let last = temporis_aivm::infer(&model, Some(&adapter), images.last().unwrap()).unwrap();
    assert_eq!(
        DigitClassifier::lastDigitCall::abi_decode_returns(r.output().unwrap()).unwrap(),
        U256::from(last.argmax)
    );

    // The gas of the inference is the formula's, within the classify transaction.
    let gas = inference_gas(&model, Some(&adapter));
    assert!(out.gas_used_per_tx[1] > gas, "{} vs {gas}", out.gas_used_per_tx[1]);

    // Without the adapter, straight through the registry's view.
    let r = chain.view(
        MODEL_REGISTRY_ADDRESS,
        ModelRegistry::inferCall { model: model_id, adapter: B256::ZERO, input: images[0].clone() }
            .abi_encode(),
        500_000,
    );
    let ret = ModelRegistry::inferCall::abi_decode_returns(r.output().unwrap()).unwrap();
    let plain = temporis_aivm::infer(&model, None, &images[0]).unwrap();
    assert_eq!((ret.output, ret.logits, ret.argmax), (plain.output, plain.logits, U256::from(plain.argmax)));

    // A node restarting on its store directory serves the same inference (nothing re-published).
    let reopened = Arc::new(ModelStore::open(&tmp.path().join("store")).unwrap());
    chain.restart(reopened);
    let tx =
        chain.call_tx(classifier, DigitClassifier::classifyCall { pixels: images[0].clone() }.abi_encode());
    let out = chain.execute(&[tx]);
    assert_all_succeeded(&out);
    let ev = DigitClassifier::Classified::decode_log(out.logs().last().unwrap()).unwrap();
    let first = temporis_aivm::infer(&model, Some(&adapter), &images[0]).unwrap();
    assert_eq!(ev.logits, first.logits);
}

fn cli_infer(input: &[i8]) -> serde_json::Value {
    let list = input.iter().map(i8::to_string).collect::<Vec<_>>().join(",");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_temporis-aivm"))
        .arg("infer")
        .arg("--model")
        .arg(models().join("digits-mlp"))
        .arg("--adapter")
        .arg(models().join("digits-mlp-translate-lora"))
        .arg(format!("--input={list}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn inference_reverts_with_its_reason() {
    let tmp = TempDir::new("publish-reverts");
    let mut chain = Chain::new(Arc::new(ModelStore::in_memory()));
    let (model_id, adapter_id) = publish_shipped(&mut chain, &tmp);
    let infer = |model: B256, adapter: B256, input: Vec<i8>| {
        ModelRegistry::inferCall { model, adapter, input }.abi_encode()
    };
    let image = held_out_shifted().remove(0);

    // Unknown model.
    let unknown = B256::repeat_byte(0x77);
    let r = chain.view(MODEL_REGISTRY_ADDRESS, infer(unknown, B256::ZERO, image.clone()), 500_000);
    let e = ModelRegistry::ModelRegistry_ModelNotUsable::abi_decode(&revert_data(&r)).unwrap();
    assert_eq!((e.contentId, e.status, e.reason), (unknown, STATUS_NONE, 0));

    // Pending model: announced, one chunk missing.
    let other = random_model(&[16, 8, 4], 5);
    let mut config = other.config().clone();
    config.test_vectors = vec![make_test_vector(&other, None, &Lcg(6).i8s(16)).unwrap()];
    let files = ModelFiles::encode(&config, &other.weights());
    let dir = tmp.path().join("other");
    files.write(&dir).unwrap();
    let (m, _, mut txs) = chain.publish_txs(
        &{
            let p = tmp.path().join("other-pack");
            pack::pack(&dir, &p, 256, None).unwrap();
            p
        },
        B256::ZERO,
    );
    txs.pop();
    chain.nonce -= 1;
    assert_all_succeeded(&chain.execute(&txs));
    let r = chain.view(MODEL_REGISTRY_ADDRESS, infer(m.id, B256::ZERO, vec![0; 16]), 500_000);
    let e = ModelRegistry::ModelRegistry_ModelNotUsable::abi_decode(&revert_data(&r)).unwrap();
    assert_eq!((e.status, e.reason), (STATUS_PENDING, 0));

    // Wrong input length: the precompile's own reason, passed on by the registry.
    let r = chain.view(MODEL_REGISTRY_ADDRESS, infer(model_id, adapter_id, image[..63].to_vec()), 500_000);
    assert_eq!(revert_data(&r), revert_reason("AIVM: input has 63 values, the model takes 64"));

    // Malformed input and a caller other than the registry, straight to the precompile.
    let r = chain.view(INFERENCE_ADDRESS, infer(model_id, adapter_id, image.clone()), 500_000);
    assert_eq!(revert_data(&r), revert_reason("AIVM: INFERENCE serves only the ModelRegistry"));

    // Out of gas: with too little gas for the formula the precompile reverts with the figure; with
    // enough the call succeeds. Scan the transaction gas limit across the boundary.
    let model = Model::load(&models().join("digits-mlp")).unwrap();
    let adapter = Adapter::load(&models().join("digits-mlp-translate-lora"), &model).unwrap();
    let need = inference_gas(&model, Some(&adapter));
    let mut saw_oog = false;
    let mut saw_ok = false;
    for gas in (46_000..160_000).step_by(500) {
        let r = chain.view(MODEL_REGISTRY_ADDRESS, infer(model_id, adapter_id, image.clone()), gas);
        match &r {
            ExecutionResult::Success { .. } => saw_ok = true,
            ExecutionResult::Revert { output, .. } => {
                let msg = alloy::sol_types::Revert::abi_decode(output).map(|e| e.reason).unwrap_or_default();
                if msg.starts_with("AIVM: out of gas: inference needs") {
                    assert!(msg.contains(&format!("needs {need} gas")), "{msg}");
                    saw_oog = true;
                }
            }
            ExecutionResult::Halt { .. } => {}
        }
        assert!(!saw_ok || r.is_success(), "more gas never makes it fail: {r:?}");
    }
    assert!(saw_oog && saw_ok);
}

#[test]
fn publication_rejections_are_recorded_with_their_reason() {
    let tmp = TempDir::new("publish-reject");
    let mut chain = Chain::new(Arc::new(ModelStore::in_memory()));

    // A model whose declared test vector is wrong.
    let base = random_model(&[16, 8, 4], 9);
    let mut config = base.config().clone();
    let mut tv = make_test_vector(&base, None, &Lcg(10).i8s(16)).unwrap();
    tv.logits[2] += 1;
    config.test_vectors = vec![tv];
    let dir = tmp.path().join("bad-tv");
    ModelFiles::encode(&config, &base.weights()).write(&dir).unwrap();
    // `pack` would refuse these files: cut them into chunks by hand.
    let p = tmp.path().join("bad-tv-pack");
    let (m, publication, txs) = publish_unchecked(&mut chain, &dir, &p, PackKind::Model, B256::ZERO);
    let out = chain.execute(&txs);
    assert_all_succeeded(&out);
    let rejected: Vec<_> = out.logs().filter_map(|l| ModelRegistry::Rejected::decode_log(l).ok()).collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!((rejected[0].publicationId, rejected[0].reason), (publication, REJECT_TEST_VECTOR));
    assert!(rejected[0].detail.contains("test vector 0: logits[2]"), "{}", rejected[0].detail);
    assert_eq!(chain.status_of(m), (STATUS_REJECTED, REJECT_TEST_VECTOR));
    // Inference on it reverts with the recorded reason.
    let r = chain.view(
        MODEL_REGISTRY_ADDRESS,
        ModelRegistry::inferCall { model: m, adapter: B256::ZERO, input: vec![0; 16] }.abi_encode(),
        500_000,
    );
    let e = ModelRegistry::ModelRegistry_ModelNotUsable::abi_decode(&revert_data(&r)).unwrap();
    assert_eq!((e.status, e.reason), (STATUS_REJECTED, REJECT_TEST_VECTOR));

    // A corrupted chunk: the upload reverts with both hashes, nothing is recorded.
    let good = random_model(&[16, 8, 4], 11);
    let mut gconfig = good.config().clone();
    gconfig.test_vectors = vec![make_test_vector(&good, None, &Lcg(12).i8s(16)).unwrap()];
    let gdir = tmp.path().join("good");
    ModelFiles::encode(&gconfig, &good.weights()).write(&gdir).unwrap();
    let gp = tmp.path().join("good-pack");
    pack::pack(&gdir, &gp, 512, None).unwrap();
    let (gm, gpub, gtxs) = chain.publish_txs(&gp, B256::ZERO);
    // Keep only the announcement; the uploads are signed again below.
    chain.nonce -= (gtxs.len() - 1) as u64;
    let first_hash = gm.files[0].chunks[0];
    let mut bytes = std::fs::read(pack::chunk_path(&gp.join(pack::CHUNKS_DIR), &first_hash)).unwrap();
    bytes[0] ^= 1;
    let bad = chain.call_tx(MODEL_REGISTRY_ADDRESS, upload(gpub, 0, bytes.clone()));
    let out = chain.execute(&[gtxs[0].clone(), bad]);
    assert!(out.receipts[0].status() && !out.receipts[1].status());
    let r = chain.view(MODEL_REGISTRY_ADDRESS, upload(gpub, 0, bytes.clone()), TX_GAS);
    let e = ModelRegistry::ModelRegistry_ChunkHashMismatch::abi_decode(&revert_data(&r)).unwrap();
    assert_eq!((e.index, e.expected, e.found), (U256::ZERO, first_hash, alloy_primitives::keccak256(&bytes)));
    let r = chain.view(
        MODEL_REGISTRY_ADDRESS,
        ModelRegistry::chunkReceivedCall { publicationId: gpub, index: U256::ZERO }.abi_encode(),
        100_000,
    );
    assert!(!ModelRegistry::chunkReceivedCall::abi_decode_returns(r.output().unwrap()).unwrap());
    // The right bytes complete it.
    let hashes = onchain_manifest(&gm).2;
    let resigned: Vec<_> = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let data = std::fs::read(pack::chunk_path(&gp.join(pack::CHUNKS_DIR), h)).unwrap();
            chain.call_tx(MODEL_REGISTRY_ADDRESS, upload(gpub, i, data))
        })
        .collect();
    assert_all_succeeded(&chain.execute(&resigned));
    assert_eq!(chain.status_of(gm.id), (STATUS_VERIFIED, 0));

    // The shipped adapter published as an adapter of that other (verified) base: rejected.
    let (aid, _, txs) = publish_unchecked(
        &mut chain,
        &models().join("digits-mlp-translate-lora"),
        &tmp.path().join("adapter-pack"),
        PackKind::Adapter,
        gm.id,
    );
    assert_all_succeeded(&chain.execute(&txs));
    assert_eq!(chain.status_of(aid), (STATUS_REJECTED, REJECT_BASE_MISMATCH));
    assert_eq!(AdapterFiles::read(&models().join("digits-mlp-translate-lora")).unwrap().id(), aid);
}

/// Announce and upload the files in `dir` without `pack`'s own verification (which would refuse
/// bad files): chunks of [`CHUNK`] bytes written by hand.
fn publish_unchecked(
    chain: &mut Chain,
    dir: &Path,
    out: &Path,
    kind: PackKind,
    parent: B256,
) -> (B256, B256, Vec<Recovered<OpTxEnvelope>>) {
    let (id, files) = match kind {
        PackKind::Model => {
            let f = ModelFiles::read(dir).unwrap();
            (f.id(), [f.config, f.weights])
        }
        PackKind::Adapter => {
            let f = AdapterFiles::read(dir).unwrap();
            (f.id(), [f.config, f.weights])
        }
    };
    let chunks_dir = out.join(pack::CHUNKS_DIR);
    std::fs::create_dir_all(&chunks_dir).unwrap();
    let mut per_file = Vec::new();
    for f in &files {
        let mut hs = Vec::new();
        for c in f.chunks(CHUNK) {
            let h = alloy_primitives::keccak256(c);
            std::fs::write(pack::chunk_path(&chunks_dir, &h), c).unwrap();
            hs.push(h);
        }
        per_file.push(hs);
    }
    let manifest = Manifest {
        format: pack::MANIFEST_FORMAT.into(),
        kind,
        id,
        chunk_size: CHUNK,
        files: files
            .iter()
            .zip(per_file)
            .zip(match kind {
                PackKind::Model => ["config.json", "model.safetensors"],
                PackKind::Adapter => ["adapter_config.json", "adapter_model.safetensors"],
            })
            .map(|((f, chunks), name)| pack::FileEntry {
                name: name.into(),
                size: f.len() as u64,
                keccak256: alloy_primitives::keccak256(f),
                chunks,
            })
            .collect(),
    };
    std::fs::write(out.join(pack::MANIFEST_FILE), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let (m, publication, txs) = chain.publish_txs(out, parent);
    (m.id, publication, txs)
}

/// `temporis-aivm publish` against a real JSON-RPC node (anvil, from the same genesis): anvil
/// takes and mines the signed transactions, the announcement succeeds there and the uploads
/// revert (no STORE_CHUNK on a plain EVM); the very same raw transactions, executed by the AIVM,
/// publish and verify the model.
#[tokio::test(flavor = "current_thread")]
async fn publish_tool_transactions_run_on_anvil_and_publish_on_the_aivm() {
    use alloy::eips::eip2718::Decodable2718;
    use alloy::providers::{Provider, ProviderBuilder};
    let tmp = TempDir::new("publish-cli");
    let mut chain = Chain::new(Arc::new(ModelStore::in_memory()));
    let anvil = crate::anvil_with_genesis(&genesis(&chain.key));
    let pack = tmp.path().join("model-pack");
    let manifest = pack_dir(&models().join("digits-mlp"), &pack);
    let raw_file = tmp.path().join("txs.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_temporis-aivm"))
        .arg("publish")
        .arg("--pack")
        .arg(&pack)
        .arg("--rpc-url")
        .arg(anvil.endpoint())
        .arg("--out")
        .arg(&raw_file)
        .env("TEMPORIS_PRIVATE_KEY", hex::encode(chain.key.to_bytes()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["id"], manifest.id.to_string());
    assert_eq!(report["chain_id"], crate::CHAIN_ID);
    let hashes: Vec<B256> = serde_json::from_value(report["transactions"].clone()).unwrap();
    assert_eq!(hashes.len(), 1 + manifest.files.iter().map(|f| f.chunks.len()).sum::<usize>());

    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    provider.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await.unwrap();
    for (i, h) in hashes.iter().enumerate() {
        let receipt = provider.get_transaction_receipt(*h).await.unwrap().expect("mined");
        assert_eq!(receipt.status(), i == 0, "transaction {i} on anvil");
    }
    let status = provider
        .call(
            alloy::rpc::types::TransactionRequest::default()
                .to(MODEL_REGISTRY_ADDRESS)
                .input(ModelRegistry::statusOfCall { contentId: manifest.id }.abi_encode().into()),
        )
        .await
        .unwrap();
    assert_eq!(ModelRegistry::statusOfCall::abi_decode_returns(&status).unwrap().status, STATUS_PENDING);

    let raws: Vec<Bytes> = serde_json::from_slice(&std::fs::read(&raw_file).unwrap()).unwrap();
    let txs: Vec<Recovered<OpTxEnvelope>> = raws
        .iter()
        .map(|r| {
            let tx = OpTxEnvelope::decode_2718(&mut r.as_ref()).unwrap();
            let signer = alloy::consensus::transaction::SignerRecoverable::recover_signer(&tx).unwrap();
            Recovered::new_unchecked(tx, signer)
        })
        .collect();
    assert_eq!(txs.iter().map(|t| *t.tx_hash()).collect::<Vec<_>>(), hashes);
    let block = chain.execute(&txs);
    chain.nonce = txs.len() as u64;
    assert_all_succeeded(&block);
    assert_eq!(chain.status_of(manifest.id), (STATUS_VERIFIED, 0));
}

/// The upload that completes a publication runs VERIFY; with too little gas for it the whole
/// upload reverts (the chunk is not marked received, the publication stays Pending) with
/// VERIFY's reason inside `ModelRegistry_PrecompileFailed`, and the same upload with more gas
/// then verifies it.
#[test]
fn an_upload_without_gas_for_verify_reverts_and_can_be_retried() {
    let tmp = TempDir::new("publish-retry");
    let mut chain = Chain::new(Arc::new(ModelStore::in_memory()));
    let pack = tmp.path().join("model-pack");
    let m = pack_dir(&models().join("digits-mlp"), &pack);
    let (_, publication, mut txs) = chain.publish_txs(&pack, B256::ZERO);
    txs.pop(); // the last upload, sent below with chosen gas limits
    chain.nonce -= 1;
    assert_all_succeeded(&chain.execute(&txs));

    let hashes = onchain_manifest(&m).2;
    let index = hashes.len() - 1;
    let data = std::fs::read(pack::chunk_path(&pack.join(pack::CHUNKS_DIR), &hashes[index])).unwrap();
    let input = upload(publication, index, data);
    let short = (60_000..1_000_000u64)
        .step_by(5_000)
        .find(|&gas| match chain.view(MODEL_REGISTRY_ADDRESS, input.clone(), gas) {
            ExecutionResult::Revert { output, .. } => {
                ModelRegistry::ModelRegistry_PrecompileFailed::abi_decode(&output).is_ok_and(|e| {
                    let reason =
                        <alloy::sol_types::Revert as SolError>::abi_decode(&e.data).map(|r| r.reason);
                    e.precompile == temporis_aivm::precompiles::verify::VERIFY_ADDRESS
                        && reason.is_ok_and(|r| r.starts_with("AIVM: out of gas: VERIFY"))
                })
            }
            _ => false,
        })
        .expect("some gas limit reaches VERIFY without enough gas for it");
    let tx = chain.tx(TxKind::Call(MODEL_REGISTRY_ADDRESS), input.clone(), short);
    let out = chain.execute(&[tx]);
    assert!(!out.receipts[0].status());
    assert_eq!(chain.status_of(m.id), (STATUS_PENDING, 0));
    let r = chain.view(
        MODEL_REGISTRY_ADDRESS,
        ModelRegistry::chunkReceivedCall { publicationId: publication, index: U256::from(index) }
            .abi_encode(),
        100_000,
    );
    assert!(!ModelRegistry::chunkReceivedCall::abi_decode_returns(r.output().unwrap()).unwrap());

    let retry = chain.call_tx(MODEL_REGISTRY_ADDRESS, input);
    assert_all_succeeded(&chain.execute(&[retry]));
    assert_eq!(chain.status_of(m.id), (STATUS_VERIFIED, 0));
}
