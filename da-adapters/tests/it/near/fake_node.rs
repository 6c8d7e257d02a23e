//! A local NEAR node for the NEAR DA tests: a JSON-RPC server on loopback that validates
//! transactions as nearcore does before it accepts them, and runs the NEAR DA blob store.
//!
//! Validation, in nearcore's order: borsh decoding (`PARSE_ERROR`), the transaction size limit
//! (`TransactionSizeExceeded`), the ed25519 signature over sha256(borsh(transaction))
//! (`InvalidSignature`), the referenced block (`InvalidChain`, `Expired`), the signer and its
//! access key (`SignerDoesNotExist`, `AccessKeyNotFound`), the nonce (`InvalidNonce`,
//! `NonceTooLarge`). An accepted transaction goes into a new block; it then runs against the blob
//! store like the deployed contract: unknown receiver, unknown method and a signer that is not
//! the owner fail with nearcore's `Failure` shapes. This store is stricter than the deployed
//! contract (which only requires some input): arguments that are not a borsh `SubmitRequest`
//! fail too. A known transaction sent again answers its outcome, as NEAR does.
//!
//! Methods: `block`, `query` (`view_access_key`), `send_tx`, `broadcast_tx_commit`, `tx`, with the
//! JSON shapes of NEAR's RPC documentation. Knobs: corrupt the data in `tx` answers, answer the
//! next sends with `TIMEOUT_ERROR` (after applying them, as a slow node does).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use temporis_da_adapters::near::{
    Action, CryptoHash, MAX_TRANSACTION_SIZE, PublicKey, SUBMIT_METHOD, SignedTransaction, SubmitRequest,
};

/// nearcore's `ACCESS_KEY_NONCE_RANGE_MULTIPLIER`: a new key's nonce is `(height - 1) * this`, and
/// a transaction's nonce must stay below `height * this`.
const NONCE_RANGE: u64 = 1_000_000;
/// Blocks a transaction's `block_hash` stays valid (mainnet's `transaction_validity_period`).
const VALIDITY_PERIOD: u64 = 86_400;

/// A running fake node.
pub(crate) struct FakeNear {
    pub(crate) url: String,
    state: Arc<Mutex<Chain>>,
}

struct Stored {
    tx: SignedTransaction,
    status: Value,
    block_height: u64,
}

/// An access key: its nonce, and for a function-call key the receiver and methods it may call
/// (no methods: any).
struct AccessKey {
    nonce: u64,
    function_call: Option<(String, Vec<String>)>,
}

struct Chain {
    contract: String,
    owner: String,
    accounts: HashSet<String>,
    keys: HashMap<(String, [u8; 32]), AccessKey>,
    /// Block hashes by height (index 0 unused).
    blocks: Vec<CryptoHash>,
    txs: HashMap<CryptoHash, Stored>,
    last_tx: Option<CryptoHash>,
    max_tx_size: usize,
    corrupt_data: bool,
    timeouts_left: u32,
    send_calls: u32,
}

impl Chain {
    fn height(&self) -> u64 {
        self.blocks.len() as u64 - 1
    }

    fn new_block(&mut self) -> u64 {
        let height = self.blocks.len() as u64;
        let mut seed = b"fake-near block ".to_vec();
        seed.extend_from_slice(&height.to_le_bytes());
        self.blocks.push(CryptoHash::sha256(&seed));
        height
    }
}

impl FakeNear {
    /// A node whose blob store is `contract`, owned by `owner` (both accounts exist).
    pub(crate) async fn start(contract: &str, owner: &str) -> Self {
        let mut chain = Chain {
            contract: contract.to_string(),
            owner: owner.to_string(),
            accounts: [contract.to_string(), owner.to_string()].into(),
            keys: HashMap::new(),
            blocks: vec![CryptoHash::default()],
            txs: HashMap::new(),
            last_tx: None,
            max_tx_size: MAX_TRANSACTION_SIZE,
            corrupt_data: false,
            timeouts_left: 0,
            send_calls: 0,
        };
        chain.new_block();
        let state = Arc::new(Mutex::new(chain));
        // nearcore accepts JSON bodies up to 10 MiB; a 1.5 MiB transaction is 2 MiB of base64.
        let app = Router::new()
            .route("/", post(handle))
            .layer(DefaultBodyLimit::max(10 * 1024 * 1024))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Chain) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Creates `account` (if new) and adds a full-access `key` to it, with nearcore's initial
    /// nonce.
    pub(crate) fn add_key(&self, account: &str, key: PublicKey) {
        self.add(account, key, None);
    }

    /// Adds a function-call key that may call `methods` (all if empty) on `receiver`.
    pub(crate) fn add_function_call_key(
        &self,
        account: &str,
        key: PublicKey,
        receiver: &str,
        methods: &[&str],
    ) {
        let methods = methods.iter().map(|m| m.to_string()).collect();
        self.add(account, key, Some((receiver.to_string(), methods)));
    }

    fn add(&self, account: &str, key: PublicKey, function_call: Option<(String, Vec<String>)>) {
        self.with(|c| {
            c.accounts.insert(account.to_string());
            let nonce = (c.height() - 1) * NONCE_RANGE;
            c.keys.insert((account.to_string(), key.0), AccessKey { nonce, function_call });
        });
    }

    /// Makes `tx` answers flip one byte of the submitted data (a corrupting node or wire).
    pub(crate) fn corrupt_data(&self, on: bool) {
        self.with(|c| c.corrupt_data = on);
    }

    /// The next `n` sends are applied but answered with `TIMEOUT_ERROR` (HTTP 408).
    pub(crate) fn time_out_next_sends(&self, n: u32) {
        self.with(|c| c.timeouts_left = n);
    }

    /// `send_tx`/`broadcast_tx_commit` calls so far.
    pub(crate) fn send_calls(&self) -> u32 {
        self.with(|c| c.send_calls)
    }

    /// Transactions on chain (successful or failed).
    pub(crate) fn tx_count(&self) -> usize {
        self.with(|c| c.txs.len())
    }

    /// The hash of the last transaction accepted.
    pub(crate) fn last_tx(&self) -> Option<CryptoHash> {
        self.with(|c| c.last_tx)
    }

    /// The current block hash.
    pub(crate) fn head(&self) -> CryptoHash {
        self.with(|c| c.blocks[c.height() as usize])
    }

    /// The access key's nonce.
    pub(crate) fn nonce(&self, account: &str, key: PublicKey) -> Option<u64> {
        self.with(|c| c.keys.get(&(account.to_string(), key.0)).map(|k| k.nonce))
    }

    /// Sets the signed transaction size limit.
    pub(crate) fn set_max_tx_size(&self, limit: usize) {
        self.with(|c| c.max_tx_size = limit);
    }
}

/// A JSON-RPC error as nearcore writes it.
struct RpcFailure {
    http: StatusCode,
    error: Value,
}

fn handler_error(cause: &str, info: &Value, data: &Value) -> RpcFailure {
    RpcFailure {
        http: StatusCode::OK,
        error: json!({
            "name": "HANDLER_ERROR",
            "cause": { "name": cause, "info": info },
            "code": -32000,
            "message": "Server error",
            "data": data,
        }),
    }
}

fn invalid_tx(reason: &Value) -> RpcFailure {
    handler_error(
        "INVALID_TRANSACTION",
        &json!({}),
        &json!({ "TxExecutionError": { "InvalidTxError": reason } }),
    )
}

fn parse_error(msg: &str) -> RpcFailure {
    RpcFailure {
        http: StatusCode::OK,
        error: json!({
            "name": "REQUEST_VALIDATION_ERROR",
            "cause": { "name": "PARSE_ERROR", "info": { "error_message": msg } },
            "code": -32700,
            "message": "Parse error",
            "data": msg,
        }),
    }
}

async fn handle(State(state): State<Arc<Mutex<Chain>>>, body: Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return reply(&Value::Null, Err(parse_error(&e.to_string()))),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    let mut chain = state.lock().unwrap();
    let result = match method.as_str() {
        "block" => block(&chain, &params),
        "query" => query(&chain, &params),
        "send_tx" => match params.get("signed_tx_base64").and_then(Value::as_str) {
            Some(tx) => send(&mut chain, tx),
            None => Err(parse_error("missing signed_tx_base64")),
        },
        "broadcast_tx_commit" => match params.get(0).and_then(Value::as_str) {
            Some(tx) => send(&mut chain, tx),
            None => Err(parse_error("expected [signed transaction in base64]")),
        },
        "tx" => tx_status(&chain, &params),
        other => Err(RpcFailure {
            http: StatusCode::OK,
            error: json!({
                "name": "REQUEST_VALIDATION_ERROR",
                "cause": { "name": "METHOD_NOT_FOUND", "info": { "method_name": other } },
                "code": -32601,
                "message": "Method not found",
                "data": other,
            }),
        }),
    };
    reply(&id, result)
}

fn reply(id: &Value, result: Result<Value, RpcFailure>) -> Response {
    let (status, body) = match result {
        Ok(result) => (StatusCode::OK, json!({ "jsonrpc": "2.0", "id": id, "result": result })),
        Err(f) => (f.http, json!({ "jsonrpc": "2.0", "id": id, "error": f.error })),
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn block(chain: &Chain, params: &Value) -> Result<Value, RpcFailure> {
    if params.get("finality").is_none() && params.get("block_id").is_none() {
        return Err(parse_error("expected finality or block_id"));
    }
    let height = chain.height();
    let hash = chain.blocks[height as usize];
    Ok(json!({
        "author": "validator.near",
        "header": {
            "height": height,
            "hash": hash.to_string(),
            "prev_hash": chain.blocks[height as usize - 1].to_string(),
            "timestamp": height * 1_000_000_000,
            "chunks_included": 1,
        },
        "chunks": [],
    }))
}

fn query(chain: &Chain, params: &Value) -> Result<Value, RpcFailure> {
    if params.get("request_type").and_then(Value::as_str) != Some("view_access_key") {
        return Err(parse_error("only view_access_key is served"));
    }
    let account = params.get("account_id").and_then(Value::as_str).unwrap_or_default();
    let key_text = params.get("public_key").and_then(Value::as_str).unwrap_or_default();
    let key: PublicKey = key_text.parse().map_err(|e| parse_error(&format!("public_key: {e}")))?;
    let height = chain.height();
    let block_hash = chain.blocks[height as usize].to_string();
    if !chain.accounts.contains(account) {
        return Err(handler_error(
            "UNKNOWN_ACCOUNT",
            &json!({ "requested_account_id": account, "block_height": height, "block_hash": block_hash }),
            &json!(format!("account {account} does not exist while viewing")),
        ));
    }
    match chain.keys.get(&(account.to_string(), key.0)) {
        Some(ak) => Ok(json!({
            "nonce": ak.nonce,
            "permission": match &ak.function_call {
                None => json!("FullAccess"),
                Some((receiver, methods)) => json!({ "FunctionCall": {
                    "allowance": null, "receiver_id": receiver, "method_names": methods } }),
            },
            "block_height": height,
            "block_hash": block_hash,
        })),
        None => Err(handler_error(
            "UNKNOWN_ACCESS_KEY",
            &json!({ "public_key": key_text, "block_height": height, "block_hash": block_hash }),
            &json!(format!("access key {key_text} does not exist while viewing")),
        )),
    }
}

fn send(chain: &mut Chain, encoded: &str) -> Result<Value, RpcFailure> {
    chain.send_calls += 1;
    let answer = apply(chain, encoded)?;
    // A slow node: the transaction is on chain, but the answer is a timeout.
    if chain.timeouts_left > 0 {
        chain.timeouts_left -= 1;
        return Err(RpcFailure {
            http: StatusCode::REQUEST_TIMEOUT,
            ..handler_error("TIMEOUT_ERROR", &json!({}), &json!("Timeout"))
        });
    }
    Ok(answer)
}

/// Validates and applies a transaction (or finds it applied); its outcome.
fn apply(chain: &mut Chain, encoded: &str) -> Result<Value, RpcFailure> {
    let bytes =
        BASE64.decode(encoded).map_err(|e| parse_error(&format!("Failed to decode transaction: {e}")))?;
    let tx = SignedTransaction::decode(&bytes)
        .map_err(|e| parse_error(&format!("Failed to decode transaction: {e}")))?;
    let hash = tx.hash();
    // A known transaction: NEAR answers its outcome, it is not applied twice.
    if chain.txs.contains_key(&hash) {
        return Ok(outcome_json(chain, &hash, false));
    }
    if bytes.len() > chain.max_tx_size {
        return Err(invalid_tx(
            &json!({ "TransactionSizeExceeded": { "size": bytes.len(), "limit": chain.max_tx_size } }),
        ));
    }
    if !tx.verify() {
        return Err(invalid_tx(&json!("InvalidSignature")));
    }
    let t = &tx.transaction;
    let Some(block_height) = chain.blocks.iter().position(|b| *b == t.block_hash) else {
        return Err(invalid_tx(&json!("InvalidChain")));
    };
    if chain.height() - block_height as u64 > VALIDITY_PERIOD {
        return Err(invalid_tx(&json!("Expired")));
    }
    let signer = t.signer_id.as_str().to_string();
    if !chain.accounts.contains(&signer) {
        return Err(invalid_tx(&json!({ "SignerDoesNotExist": { "signer_id": signer } })));
    }
    let Some(ak) = chain.keys.get(&(signer.clone(), t.public_key.0)) else {
        return Err(invalid_tx(&json!({ "InvalidAccessKeyError": { "AccessKeyNotFound": {
            "account_id": signer, "public_key": t.public_key.to_string() } } })));
    };
    let ak_nonce = ak.nonce;
    if t.nonce <= ak_nonce {
        return Err(invalid_tx(&json!({ "InvalidNonce": { "tx_nonce": t.nonce, "ak_nonce": ak_nonce } })));
    }
    if let Some((ak_receiver, methods)) = &ak.function_call {
        let key_error = |e: Value| Err(invalid_tx(&json!({ "InvalidAccessKeyError": e })));
        let [Action::FunctionCall(call)] = t.actions.as_slice() else {
            return key_error(json!("RequiresFullAccess"));
        };
        if call.deposit != 0 {
            return key_error(json!("DepositWithFunctionCall"));
        }
        if t.receiver_id.as_str() != ak_receiver {
            return key_error(json!({ "ReceiverMismatch": {
                "tx_receiver": t.receiver_id.as_str(), "ak_receiver": ak_receiver } }));
        }
        if !methods.is_empty() && !methods.contains(&call.method_name) {
            return key_error(json!({ "MethodNameMismatch": { "method_name": call.method_name } }));
        }
    }
    // The transaction goes into the next block; its nonce must be below that height's bound.
    let upper_bound = (chain.height() + 1) * NONCE_RANGE;
    if t.nonce >= upper_bound {
        return Err(invalid_tx(
            &json!({ "NonceTooLarge": { "tx_nonce": t.nonce, "upper_bound": upper_bound } }),
        ));
    }
    let new_height = chain.new_block();
    // Accepted: the nonce is used even if the receipt then fails.
    chain.keys.get_mut(&(signer, t.public_key.0)).expect("checked above").nonce = t.nonce;
    let status = execute(chain, &tx);
    chain.txs.insert(hash, Stored { tx, status, block_height: new_height });
    chain.last_tx = Some(hash);
    Ok(outcome_json(chain, &hash, false))
}

/// Runs the transaction's receipt against the blob store; the `FinalExecutionStatus`.
fn execute(chain: &Chain, tx: &SignedTransaction) -> Value {
    let t = &tx.transaction;
    let fail = |kind: Value| json!({ "Failure": { "ActionError": { "index": 0, "kind": kind } } });
    if !chain.accounts.contains(t.receiver_id.as_str()) {
        return fail(json!({ "AccountDoesNotExist": { "account_id": t.receiver_id.as_str() } }));
    }
    for action in &t.actions {
        let Action::FunctionCall(call) = action else { continue };
        if t.receiver_id.as_str() != chain.contract || call.method_name != SUBMIT_METHOD {
            return fail(json!({ "FunctionCallError": { "MethodResolveError": "MethodNotFound" } }));
        }
        let panic = |msg: &str| {
            fail(
                json!({ "FunctionCallError": { "ExecutionError": format!("Smart contract panicked: {msg}") } }),
            )
        };
        if t.signer_id.as_str() != chain.owner {
            return panic("Predecessor is not owner.");
        }
        if SubmitRequest::decode(&call.args).is_err() {
            return panic("Missing or invalid input.");
        }
    }
    json!({ "SuccessValue": "" })
}

fn action_json(action: &Action, corrupt: bool) -> Value {
    match action {
        Action::FunctionCall(call) => {
            let mut args = call.args.clone();
            if corrupt && let Ok(mut req) = SubmitRequest::decode(&args) {
                if let Some(last) = req.data.last_mut() {
                    *last ^= 0x01;
                }
                args = req.encode();
            }
            json!({ "FunctionCall": {
                "method_name": call.method_name,
                "args": BASE64.encode(&args),
                "gas": call.gas,
                "deposit": call.deposit.to_string(),
            } })
        }
        Action::Transfer { deposit } => json!({ "Transfer": { "deposit": deposit.to_string() } }),
    }
}

/// The `RpcTransactionResponse` of a stored transaction, shaped as nearcore's.
fn outcome_json(chain: &Chain, hash: &CryptoHash, corrupt: bool) -> Value {
    let s = &chain.txs[hash];
    let t = &s.tx.transaction;
    let block = chain.blocks[s.block_height as usize].to_string();
    let mut seed = b"receipt ".to_vec();
    seed.extend_from_slice(&hash.0);
    let receipt = CryptoHash::sha256(&seed).to_string();
    json!({
        "final_execution_status": "FINAL",
        "status": s.status,
        "transaction": {
            "signer_id": t.signer_id.as_str(),
            "public_key": t.public_key.to_string(),
            "nonce": t.nonce,
            "receiver_id": t.receiver_id.as_str(),
            "actions": t.actions.iter().map(|a| action_json(a, corrupt)).collect::<Vec<_>>(),
            "priority_fee": 0,
            "signature": s.tx.signature.to_string(),
            "hash": hash.to_string(),
        },
        "transaction_outcome": {
            "proof": [],
            "block_hash": block,
            "id": hash.to_string(),
            "outcome": {
                "logs": [],
                "receipt_ids": [receipt],
                "gas_burnt": 2_428_000_000_000u64,
                "tokens_burnt": "242800000000000000000",
                "executor_id": t.signer_id.as_str(),
                "status": { "SuccessReceiptId": receipt },
            },
        },
        "receipts_outcome": [{
            "proof": [],
            "block_hash": block,
            "id": receipt,
            "outcome": {
                "logs": [],
                "receipt_ids": [],
                "gas_burnt": 2_500_000_000_000u64,
                "tokens_burnt": "250000000000000000000",
                "executor_id": t.receiver_id.as_str(),
                "status": s.status,
            },
        }],
    })
}

fn tx_status(chain: &Chain, params: &Value) -> Result<Value, RpcFailure> {
    let hash_text =
        params.get("tx_hash").and_then(Value::as_str).ok_or_else(|| parse_error("missing tx_hash"))?;
    let sender = params
        .get("sender_account_id")
        .and_then(Value::as_str)
        .ok_or_else(|| parse_error("missing sender_account_id"))?;
    let hash: CryptoHash = hash_text.parse().map_err(|e| parse_error(&format!("tx_hash: {e}")))?;
    // The sender routes the lookup to its shard: a wrong sender does not find the transaction.
    match chain.txs.get(&hash) {
        Some(s) if s.tx.transaction.signer_id.as_str() == sender => {
            Ok(outcome_json(chain, &hash, chain.corrupt_data))
        }
        _ => Err(handler_error(
            "UNKNOWN_TRANSACTION",
            &json!({ "requested_transaction_hash": hash_text }),
            &json!(format!("Transaction {hash_text} doesn't exist")),
        )),
    }
}
