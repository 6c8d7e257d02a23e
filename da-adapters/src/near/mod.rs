//! NEAR DA backend: blobs are the arguments of signed `FunctionCall`s to the `submit` method of
//! a NEAR DA blob-store contract, read back from any NEAR RPC node with the `tx` method.
//!
//! This is the protocol of NEAR's own DA client (`near-da-rpc`): the argument is a borsh
//! [`SubmitRequest`] `{ namespace: Option<Namespace>, data }`, the transaction is a nearcore
//! `Transaction` (V0) signed with an ed25519 access key of the signer account, its hash is
//! sha256 of its borsh bytes. The contract stores nothing: the data lives in the transaction,
//! which full nodes keep for at least 3 epochs (~36 h, ~60 h in practice) and archival nodes
//! forever.
//!
//! **Commitment** (generic, DA layer byte [`DA_LAYER_NEAR`] `0x6e`, the byte NEAR DA uses):
//! `txHash_1 ‖ … ‖ txHash_n ‖ keccak256(data)`, 32 bytes each, `n ≥ 1`. A blob larger than one
//! transaction allows is split into pieces of at most [`NearBackend::piece_capacity`] bytes, one
//! transaction each, in order. NEAR DA's own sidecar commits to the transaction hashes only; the
//! data hash is added here because NEAR's `tx` answer (`SignedTransactionView`) leaves out the
//! transaction's `block_hash`, so a reader cannot recompute the transaction hash from what the
//! node returns and would otherwise have to trust the node for the bytes. With it, [`get`]
//! checks every transaction (hash, signer, receiver, method, success) and then the data hash, and
//! returns nothing it has not checked.
//!
//! **Limits** (nearcore runtime parameters since protocol version 69): a signed transaction is at
//! most [`MAX_TRANSACTION_SIZE`] = 1 572 864 bytes (1.5 MiB; function-call arguments alone may be
//! 4 MiB, so the transaction size is what binds). The data per transaction is that minus the
//! fixed encoding overhead (account ids, key, signature, the `SubmitRequest` header), computed
//! exactly from the configuration. A blob is at most [`NearConfig::max_blob_size`] (default
//! 16 MiB, ~11 transactions); larger is [`DaError::TooLarge`].
//!
//! See `docs/da-near.md` for the sources, and for what was tested against near-api-js and a
//! local node (and that nothing was run against a live NEAR network).
//!
//! [`get`]: DaBackend::get

mod primitives;
mod rpc;

pub use primitives::{
    ACTION_FUNCTION_CALL, ACTION_TRANSFER, AccountId, Action, CryptoHash, FunctionCallAction,
    KEY_TYPE_ED25519, Namespace, ParseError, PublicKey, SecretKey, Signature, SignedTransaction,
    SubmitRequest, Transaction,
};
pub use temporis_protocol::commitment::DA_LAYER_NEAR;

use crate::{DaBackend, DaError, Result};
use alloy_primitives::{B256, Bytes, keccak256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rpc::{RpcClient, RpcError, TxStatus};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use temporis_protocol::commitment::Commitment;
use tokio::sync::Mutex;
use tracing::debug;

/// Largest borsh `SignedTransaction` a NEAR node accepts (`max_transaction_size`, protocol ≥ 69).
pub const MAX_TRANSACTION_SIZE: usize = 1_572_864;
/// Name of the blob store's method.
pub const SUBMIT_METHOD: &str = "submit";
/// Gas attached to each `submit` (20 TGas, what NEAR DA's client attaches; ~15 TGas is used
/// for a 1.5 MiB blob). Unused gas is refunded.
pub const DEFAULT_GAS: u64 = 20_000_000_000_000;
/// Default upper bound on one blob: 16 MiB.
pub const DEFAULT_MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;
/// Default number of times one transaction is sent when the node answers `TIMEOUT_ERROR`.
pub const DEFAULT_SEND_ATTEMPTS: u32 = 3;
/// Default HTTP timeout of one RPC call (a `send_tx` waits for finality, a few seconds).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

const BACKEND: &str = "near";

/// Configuration of a [`NearBackend`].
#[derive(Debug, Clone)]
pub struct NearConfig {
    /// JSON-RPC URL of a NEAR node (an archival node serves blobs older than ~3 epochs).
    pub rpc_url: String,
    /// Account that signs and pays for the submissions; readers need it too (`tx` is routed by
    /// sender).
    pub signer_id: AccountId,
    /// A full-access key of `signer_id`, or a function-call key for `submit` on `contract_id`.
    pub secret_key: SecretKey,
    /// Account of the blob store contract.
    pub contract_id: AccountId,
    /// NEAR DA namespace put in every `SubmitRequest`.
    pub namespace: Option<Namespace>,
    /// Gas attached to each `submit`.
    pub gas: u64,
    /// Largest blob accepted by `put` (and read by `get`).
    pub max_blob_size: usize,
    /// Largest signed transaction sent; the protocol's [`MAX_TRANSACTION_SIZE`] unless smaller
    /// pieces are wanted.
    pub max_transaction_size: usize,
    /// Sends of one transaction when the node times out (a resend of the same transaction is
    /// safe: NEAR applies a transaction once and answers a known one with its outcome).
    pub send_attempts: u32,
    /// HTTP timeout of one RPC call.
    pub request_timeout: Duration,
}

impl NearConfig {
    /// A configuration with the defaults: no namespace, [`DEFAULT_GAS`],
    /// [`DEFAULT_MAX_BLOB_SIZE`], [`MAX_TRANSACTION_SIZE`], [`DEFAULT_SEND_ATTEMPTS`],
    /// [`DEFAULT_REQUEST_TIMEOUT`].
    pub fn new(
        rpc_url: impl Into<String>,
        signer_id: AccountId,
        secret_key: SecretKey,
        contract_id: AccountId,
    ) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            signer_id,
            secret_key,
            contract_id,
            namespace: None,
            gas: DEFAULT_GAS,
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            max_transaction_size: MAX_TRANSACTION_SIZE,
            send_attempts: DEFAULT_SEND_ATTEMPTS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// [`NearConfig::new`] from the text forms a command line gives: account ids and an
    /// `ed25519:<base58>` secret key (a bad one is a [`DaError::Malformed`] that does not echo
    /// the secret).
    pub fn parse(rpc_url: &str, signer_id: &str, secret_key: &str, contract_id: &str) -> Result<Self> {
        let bad = |e: ParseError| malformed(e.to_string());
        Ok(Self::new(
            rpc_url,
            signer_id.parse().map_err(bad)?,
            secret_key.parse().map_err(bad)?,
            contract_id.parse().map_err(bad)?,
        ))
    }

    /// With this namespace.
    pub fn with_namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = Some(namespace);
        self
    }
}

/// A generic NEAR commitment's payload: the submission transactions in order, and the hash of
/// the whole blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearCommitment {
    /// Hashes of the `submit` transactions, one per piece, in order.
    pub tx_hashes: Vec<CryptoHash>,
    /// keccak256 of the blob.
    pub data_hash: B256,
}

impl NearCommitment {
    /// `0x01 ‖ 0x6e ‖ txHash_1 ‖ … ‖ txHash_n ‖ keccak256(data)` as a [`Commitment`].
    pub fn to_commitment(&self) -> Commitment {
        let mut payload = Vec::with_capacity(32 * (self.tx_hashes.len() + 1));
        for h in &self.tx_hashes {
            payload.extend_from_slice(&h.0);
        }
        payload.extend_from_slice(self.data_hash.as_slice());
        Commitment::Generic { da_layer: DA_LAYER_NEAR, payload: payload.into() }
    }

    /// Parses a generic NEAR commitment; `None` for any other commitment or a payload that is
    /// not `n ≥ 1` hashes and a data hash.
    pub fn from_commitment(commitment: &Commitment) -> Option<Self> {
        let Commitment::Generic { da_layer: DA_LAYER_NEAR, payload } = commitment else { return None };
        if payload.len() < 64 || payload.len() % 32 != 0 {
            return None;
        }
        let (hashes, data_hash) = payload.split_at(payload.len() - 32);
        let tx_hashes =
            hashes.chunks_exact(32).map(|c| CryptoHash(c.try_into().expect("chunks of 32"))).collect();
        Some(Self { tx_hashes, data_hash: B256::from_slice(data_hash) })
    }
}

/// The NEAR DA backend. Cheap to clone (shared state); submissions through one backend are
/// serialised, since each needs the next nonce of the one access key.
#[derive(Debug, Clone)]
pub struct NearBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: NearConfig,
    public_key: PublicKey,
    rpc: RpcClient,
    piece_capacity: usize,
    /// Highest nonce this backend has signed: the node's view of the access key may lag behind
    /// it, and NEAR allows gaps, so the next nonce is one past the larger of the two.
    last_nonce: Mutex<u64>,
}

fn malformed(msg: impl Into<String>) -> DaError {
    DaError::Malformed { backend: BACKEND, msg: msg.into() }
}

fn chain(msg: impl Into<String>) -> DaError {
    DaError::Chain { backend: BACKEND, msg: msg.into() }
}

/// The signed `submit` of `piece` under `config`.
fn submission(
    config: &NearConfig,
    public_key: PublicKey,
    nonce: u64,
    block_hash: CryptoHash,
    piece: &[u8],
) -> SignedTransaction {
    let args = SubmitRequest { namespace: config.namespace, data: piece.to_vec() }.encode();
    Transaction {
        signer_id: config.signer_id.clone(),
        public_key,
        nonce,
        receiver_id: config.contract_id.clone(),
        block_hash,
        actions: vec![Action::FunctionCall(FunctionCallAction {
            method_name: SUBMIT_METHOD.to_string(),
            args,
            gas: config.gas,
            deposit: 0,
        })],
    }
    .sign(&config.secret_key)
}

fn wire_hash(s: &str, what: &str) -> Result<CryptoHash> {
    s.parse().map_err(|e| malformed(format!("{what}: {e}")))
}

impl NearBackend {
    /// A backend for `config`. Fails if the RPC URL is bad (or not `http://`: this build has no
    /// TLS) or the accounts are so long that no data fits in a transaction of
    /// `max_transaction_size`.
    pub fn new(config: NearConfig) -> Result<Self> {
        let rpc = RpcClient::new(&config.rpc_url, config.request_timeout).map_err(chain)?;
        let public_key = config.secret_key.public_key();
        // The encoding is linear in the data (borsh lengths are fixed-width), so the capacity is
        // the limit minus the size of an empty submission.
        let overhead = submission(&config, public_key, 0, CryptoHash::default(), &[]).encode().len();
        let limit = config.max_transaction_size;
        if limit <= overhead {
            return Err(malformed(format!(
                "max transaction size {limit} leaves no room for data (an empty submission is {overhead} bytes)"
            )));
        }
        let piece_capacity = limit - overhead;
        Ok(Self {
            inner: Arc::new(Inner { rpc, public_key, piece_capacity, last_nonce: Mutex::new(0), config }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NearConfig {
        &self.inner.config
    }

    /// The signer's public key (the access key that must exist on `signer_id`).
    pub fn public_key(&self) -> PublicKey {
        self.inner.public_key
    }

    /// Data bytes per transaction.
    pub fn piece_capacity(&self) -> usize {
        self.inner.piece_capacity
    }

    /// Most transactions one blob of [`NearConfig::max_blob_size`] takes, the most a
    /// commitment may name.
    pub fn max_transactions(&self) -> usize {
        self.inner.config.max_blob_size.div_ceil(self.inner.piece_capacity).max(1)
    }

    /// The signed `submit` of `piece` with `nonce`, referencing `block_hash`: exactly what `put`
    /// sends.
    pub fn submit_transaction(&self, nonce: u64, block_hash: CryptoHash, piece: &[u8]) -> SignedTransaction {
        submission(&self.inner.config, self.inner.public_key, nonce, block_hash, piece)
    }

    /// The access key's nonce, after checking the key may call `submit` on the contract.
    async fn access_key_nonce(&self) -> Result<u64> {
        let c = &self.inner.config;
        let key = self.inner.public_key.to_string();
        let missing = || {
            chain(format!(
                "access key {key} does not exist on account {} (wrong secret key or account?)",
                c.signer_id
            ))
        };
        let view = match self.inner.rpc.access_key(c.signer_id.as_str(), &key).await {
            Ok(v) => v,
            Err(RpcError::Node(e)) if matches!(e.cause_name(), Some("UNKNOWN_ACCESS_KEY")) => {
                return Err(missing());
            }
            Err(RpcError::Node(e)) if matches!(e.cause_name(), Some("UNKNOWN_ACCOUNT")) => {
                return Err(chain(format!("signer account {} does not exist", c.signer_id)));
            }
            Err(e) => return Err(chain(format!("view_access_key: {e}"))),
        };
        if let Some(err) = view.error {
            return Err(if err.contains("does not exist") { missing() } else { chain(err) });
        }
        // A function-call key must be scoped to `submit` on the contract (or to all its methods).
        if let Some(Value::Object(p)) = &view.permission
            && let Some(fc) = p.get("FunctionCall")
        {
            let receiver_ok = fc.get("receiver_id").and_then(Value::as_str) == Some(c.contract_id.as_str());
            let methods = fc.get("method_names").and_then(Value::as_array);
            let method_ok = methods.is_none_or(|m| m.is_empty() || m.iter().any(|x| x == SUBMIT_METHOD));
            if !receiver_ok || !method_ok {
                return Err(chain(format!(
                    "access key {key} may not call {SUBMIT_METHOD} on {}",
                    c.contract_id
                )));
            }
        }
        view.nonce.ok_or_else(|| malformed("view_access_key answer without a nonce"))
    }

    /// Sends one signed transaction until it is final (resending on node timeouts) and checks it
    /// succeeded.
    async fn send(&self, tx: &SignedTransaction) -> Result<CryptoHash> {
        let hash = tx.hash();
        let encoded = BASE64.encode(tx.encode());
        let attempts = self.inner.config.send_attempts.max(1);
        let mut attempt = 1;
        let status = loop {
            match self.inner.rpc.send_tx(&encoded, "FINAL").await {
                Ok(status) => break status,
                Err(e) if e.is_timeout() && attempt < attempts => {
                    debug!(target: "da::near", %hash, attempt, err = %e, "send_tx timed out, resending");
                    attempt += 1;
                }
                Err(e) => return Err(chain(format!("send_tx of {hash}: {e}"))),
            }
        };
        let view = status
            .transaction
            .as_ref()
            .ok_or_else(|| malformed(format!("send_tx of {hash}: no transaction")))?;
        if wire_hash(&view.hash, "send_tx transaction hash")? != hash {
            return Err(malformed(format!("send_tx of {hash}: node reports transaction {}", view.hash)));
        }
        rpc::outcome(status.status.as_ref()).map_err(|why| chain(format!("transaction {hash} {why}")))?;
        if !rpc::is_final_and_executed(status.final_execution_status.as_deref()) {
            return Err(chain(format!(
                "transaction {hash} not final: {}",
                status.final_execution_status.as_deref().unwrap_or("no status")
            )));
        }
        Ok(hash)
    }

    /// The data piece of submission `hash`, after checking the transaction is one of ours.
    fn piece(&self, hash: &CryptoHash, status: TxStatus, commitment: &Commitment) -> Result<Vec<u8>> {
        let c = &self.inner.config;
        let view = status.transaction.ok_or_else(|| {
            chain(format!(
                "transaction {hash} not executed yet ({})",
                status.final_execution_status.as_deref().unwrap_or("no status")
            ))
        })?;
        if wire_hash(&view.hash, "transaction hash")? != *hash {
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        if !rpc::is_final_and_executed(status.final_execution_status.as_deref()) {
            return Err(chain(format!(
                "transaction {hash} not final yet ({})",
                status.final_execution_status.as_deref().unwrap_or("no status")
            )));
        }
        let not_ours = |why: String| malformed(format!("transaction {hash} is not a blob submission: {why}"));
        rpc::outcome(status.status.as_ref()).map_err(|why| not_ours(format!("it {why}")))?;
        if view.signer_id != c.signer_id.as_str() {
            return Err(not_ours(format!("signed by {}, not {}", view.signer_id, c.signer_id)));
        }
        if view.receiver_id != c.contract_id.as_str() {
            return Err(not_ours(format!("sent to {}, not {}", view.receiver_id, c.contract_id)));
        }
        let [action] = view.actions.as_slice() else {
            return Err(not_ours(format!("{} actions, not one", view.actions.len())));
        };
        let call: rpc::FunctionCallView = action
            .get("FunctionCall")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| not_ours(format!("action {action} is not a function call")))?;
        if call.method_name != SUBMIT_METHOD {
            return Err(not_ours(format!("calls {}, not {SUBMIT_METHOD}", call.method_name)));
        }
        let args =
            BASE64.decode(&call.args).map_err(|e| not_ours(format!("arguments are not base64: {e}")))?;
        let request = SubmitRequest::decode(&args)
            .map_err(|e| not_ours(format!("arguments are not a SubmitRequest: {e}")))?;
        Ok(request.data)
    }
}

impl DaBackend for NearBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let c = &self.inner.config;
        if data.len() > c.max_blob_size {
            return Err(DaError::TooLarge { size: data.len(), limit: c.max_blob_size });
        }
        // An empty blob is one submission of no bytes, so every commitment names a transaction.
        let pieces: Vec<&[u8]> =
            if data.is_empty() { vec![&[]] } else { data.chunks(self.inner.piece_capacity).collect() };

        let mut last_nonce = self.inner.last_nonce.lock().await;
        let (block, nonce) = tokio::join!(self.inner.rpc.final_block(), self.access_key_nonce());
        let block = block.map_err(|e| chain(format!("block: {e}")))?;
        let block_hash = wire_hash(&block.header.hash, "block hash")?;
        let mut nonce = nonce?.max(*last_nonce);

        let mut tx_hashes = Vec::with_capacity(pieces.len());
        for piece in pieces {
            nonce += 1;
            let tx = self.submit_transaction(nonce, block_hash, piece);
            // Whatever the outcome, this nonce may now be used on chain.
            *last_nonce = nonce;
            let hash = self.send(&tx).await?;
            debug!(target: "da::near", %hash, nonce, size = piece.len(), "piece submitted");
            tx_hashes.push(hash);
        }
        let commitment = NearCommitment { tx_hashes, data_hash: keccak256(&data) };
        debug!(
            target: "da::near",
            txs = commitment.tx_hashes.len(),
            size = data.len(),
            block = block.header.height,
            "blob submitted"
        );
        Ok(commitment.to_commitment())
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let unsupported =
            || DaError::UnsupportedCommitment { backend: BACKEND, commitment: commitment.clone() };
        let parsed = NearCommitment::from_commitment(commitment).ok_or_else(unsupported)?;
        if parsed.tx_hashes.len() > self.max_transactions() {
            return Err(unsupported());
        }
        let c = &self.inner.config;
        let mut data = Vec::new();
        for hash in &parsed.tx_hashes {
            // `wait_until: NONE` answers at once, with the outcome if it is known; any other
            // level makes the node wait for an unknown transaction until it times out.
            let status = match self.inner.rpc.tx(&hash.to_string(), c.signer_id.as_str(), "NONE").await {
                Ok(s) => s,
                Err(RpcError::Node(e)) if e.cause_name() == Some("UNKNOWN_TRANSACTION") => {
                    return Err(DaError::NotFound(commitment.clone()));
                }
                Err(e) => return Err(chain(format!("tx {hash}: {e}"))),
            };
            data.extend(self.piece(hash, status, commitment)?);
            if data.len() > c.max_blob_size {
                // Never ours: `put` refuses such blobs. Stop reading.
                return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
            }
        }
        if keccak256(&data) != parsed.data_hash {
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        Ok(data.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(max_tx: usize) -> NearBackend {
        let mut config = NearConfig::new(
            "http://127.0.0.1:1",
            "batcher.testnet".parse().unwrap(),
            SecretKey::from_seed([3; 32]),
            "blobs.testnet".parse().unwrap(),
        );
        config.max_transaction_size = max_tx;
        NearBackend::new(config).unwrap()
    }

    #[test]
    fn piece_capacity_fills_a_transaction_exactly() {
        let b = backend(MAX_TRANSACTION_SIZE);
        let cap = b.piece_capacity();
        let full = b.submit_transaction(u64::MAX, CryptoHash([9; 32]), &vec![0xab; cap]);
        assert_eq!(full.encode().len(), MAX_TRANSACTION_SIZE);
        assert_eq!(SignedTransaction::decode(&full.encode()).unwrap(), full);
        assert!(full.verify());
        // The fixed overhead: 194 bytes, the two account ids, 5 with a namespace.
        assert_eq!(cap, MAX_TRANSACTION_SIZE - 194 - "batcher.testnet".len() - "blobs.testnet".len());
        let ns =
            NearBackend::new(b.config().clone().with_namespace(Namespace { version: 1, id: 2 })).unwrap();
        assert_eq!(ns.piece_capacity(), cap - 5);
        // 16 MiB takes 11 transactions of ~1.5 MiB.
        assert_eq!(b.max_transactions(), 11);
        assert_eq!(b.max_transactions(), DEFAULT_MAX_BLOB_SIZE.div_ceil(cap));
        assert!(matches!(
            NearBackend::new(NearConfig { max_transaction_size: 100, ..b.config().clone() }),
            Err(DaError::Malformed { .. })
        ));
    }

    #[test]
    fn commitment_layout() {
        let nc = NearCommitment {
            tx_hashes: vec![CryptoHash([1; 32]), CryptoHash([2; 32])],
            data_hash: B256::repeat_byte(3),
        };
        let c = nc.to_commitment();
        let wire = c.encode();
        assert_eq!(&wire[..2], &[0x01, 0x6e]);
        assert_eq!(wire.len(), 2 + 96);
        assert_eq!(NearCommitment::from_commitment(&Commitment::decode(&wire).unwrap()), Some(nc));
        for bad in [vec![0u8; 32], vec![0u8; 65]] {
            let c = Commitment::Generic { da_layer: DA_LAYER_NEAR, payload: bad.into() };
            assert_eq!(NearCommitment::from_commitment(&c), None);
        }
        let other = Commitment::Generic { da_layer: 0xfc, payload: vec![0u8; 64].into() };
        assert_eq!(NearCommitment::from_commitment(&other), None);
    }

    #[test]
    fn https_urls_are_refused_up_front() {
        let c = backend(MAX_TRANSACTION_SIZE).config().clone();
        let err = NearBackend::new(NearConfig { rpc_url: "https://rpc.example".into(), ..c }).unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
    }

    #[test]
    fn config_parse_hides_the_secret() {
        let err = NearConfig::parse("http://x", "a.near", "ed25519:notbase58!!", "b.near").unwrap_err();
        assert!(!err.to_string().contains("notbase58"), "{err}");
        assert!(
            NearConfig::parse(
                "http://x",
                "A.near",
                &SecretKey::from_seed([1; 32]).to_secret_string(),
                "b.near"
            )
            .is_err()
        );
    }
}
