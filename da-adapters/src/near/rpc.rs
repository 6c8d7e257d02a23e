//! A minimal NEAR JSON-RPC client: the four methods a blob submission and its retrieval need, in
//! the JSON shapes nearcore serves (`block`, `query` `view_access_key`, `send_tx`, `tx`), and
//! nearcore's structured errors (`{name, cause: {name, info}, data}`).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A failed JSON-RPC call.
#[derive(Debug)]
pub(crate) enum RpcError {
    /// The request did not get an answer (connection, HTTP status, timeout).
    Transport {
        /// What failed.
        msg: String,
        /// Whether it was a timeout (ours, or the node's HTTP 408), after which the
        /// transaction may still land.
        timeout: bool,
    },
    /// The node answered with an error object.
    Node(NodeError),
    /// The answer is not JSON-RPC, or not the shape the method returns.
    Malformed(String),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport { msg, .. } => write!(f, "RPC transport: {msg}"),
            Self::Node(e) => write!(f, "RPC error: {e}"),
            Self::Malformed(m) => write!(f, "malformed RPC answer: {m}"),
        }
    }
}

/// nearcore's error object. `name`/`cause` are the structured part; `code`, `message` and `data`
/// are the legacy fields, still the only place the reason of an `INVALID_TRANSACTION` is given
/// (`data.TxExecutionError.InvalidTxError`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct NodeError {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) cause: Option<Cause>,
    #[serde(default)]
    pub(crate) code: i64,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) data: Option<Value>,
}

/// `error.cause`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Cause {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) info: Option<Value>,
}

impl RpcError {
    /// Whether the call timed out: the node's `TIMEOUT_ERROR`, an HTTP 408, or no answer in
    /// time. A transaction sent may still land, so sending it again is the remedy.
    pub(crate) fn is_timeout(&self) -> bool {
        match self {
            Self::Node(e) => e.is_timeout(),
            Self::Transport { timeout, .. } => *timeout,
            Self::Malformed(_) => false,
        }
    }
}

fn transport(method: &str, e: &reqwest::Error) -> RpcError {
    RpcError::Transport { msg: format!("{method}: {e}"), timeout: e.is_timeout() }
}

impl NodeError {
    /// `error.cause.name`, e.g. `UNKNOWN_TRANSACTION`.
    pub(crate) fn cause_name(&self) -> Option<&str> {
        self.cause.as_ref().map(|c| c.name.as_str())
    }

    /// Whether the node gave up waiting (nearcore: `TIMEOUT_ERROR`; the transaction may still
    /// land).
    pub(crate) fn is_timeout(&self) -> bool {
        self.cause_name() == Some("TIMEOUT_ERROR")
    }
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}/{}", self.name.as_deref().unwrap_or("ERROR"), c.name)?,
            None => write!(f, "{} ({})", self.message, self.code)?,
        }
        if let Some(info) = self.cause.as_ref().and_then(|c| c.info.as_ref()).filter(|i| !is_empty(i)) {
            write!(f, " {info}")?;
        }
        // For INVALID_TRANSACTION the reason is only in `data`.
        if let Some(data) = self.data.as_ref().filter(|d| !is_empty(d)) {
            write!(f, " {data}")?;
        }
        Ok(())
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The JSON-RPC envelope of an answer.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<NodeError>,
}

/// `block` result (only the header's hash and height are used).
#[derive(Debug, Deserialize)]
pub(crate) struct BlockView {
    pub(crate) header: BlockHeaderView,
}

/// `block.header`.
#[derive(Debug, Deserialize)]
pub(crate) struct BlockHeaderView {
    pub(crate) hash: String,
    pub(crate) height: u64,
}

/// `query` `view_access_key` result. Older nearcore answers a missing key with a *result* that
/// has an `error` string instead of an error object; both are handled.
#[derive(Debug, Deserialize)]
pub(crate) struct AccessKeyQuery {
    #[serde(default)]
    pub(crate) nonce: Option<u64>,
    #[serde(default)]
    pub(crate) permission: Option<Value>,
    #[serde(default)]
    pub(crate) error: Option<String>,
}

/// `send_tx` / `tx` result: the execution status reached and, once executed, the outcome.
#[derive(Debug, Deserialize)]
pub(crate) struct TxStatus {
    /// `NONE`, `INCLUDED`, `EXECUTED_OPTIMISTIC`, `INCLUDED_FINAL`, `EXECUTED`, `FINAL`.
    #[serde(default)]
    pub(crate) final_execution_status: Option<String>,
    /// `"NotStarted"`, `"Started"`, `{"SuccessValue": base64}` or `{"Failure": {...}}`.
    #[serde(default)]
    pub(crate) status: Option<Value>,
    #[serde(default)]
    pub(crate) transaction: Option<TxView>,
}

/// `SignedTransactionView`. It has no `block_hash`, so the transaction hash cannot be
/// recomputed from it: that is why NEAR commitments here also carry the data hash.
#[derive(Debug, Deserialize)]
pub(crate) struct TxView {
    pub(crate) signer_id: String,
    pub(crate) receiver_id: String,
    pub(crate) actions: Vec<Value>,
    pub(crate) hash: String,
}

/// The `FunctionCall` of an `ActionView`: `{"FunctionCall": {method_name, args (base64), gas,
/// deposit}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct FunctionCallView {
    pub(crate) method_name: String,
    pub(crate) args: String,
}

/// Execution levels at which a transaction is in a final block and its receipts have run.
pub(crate) fn is_final_and_executed(status: Option<&str>) -> bool {
    matches!(status, Some("EXECUTED" | "FINAL"))
}

/// The outcome of an executed transaction: `Ok` for `SuccessValue`, `Err` with the reason.
pub(crate) fn outcome(status: Option<&Value>) -> Result<(), String> {
    match status {
        Some(Value::Object(m)) if m.contains_key("SuccessValue") => Ok(()),
        Some(Value::Object(m)) if m.contains_key("Failure") => Err(format!("failed: {}", m["Failure"])),
        Some(other) => Err(format!("not executed yet (status {other})")),
        None => Err("no execution status".into()),
    }
}

/// JSON-RPC over HTTP to one NEAR node.
#[derive(Debug)]
pub(crate) struct RpcClient {
    http: reqwest::Client,
    url: reqwest::Url,
    next_id: AtomicU64,
}

impl RpcClient {
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("bad RPC URL {url:?}: {e}"))?;
        // The workspace builds reqwest without TLS (as for the EVM backends): say so now rather
        // than on the first call.
        if url.scheme() != "http" {
            return Err(format!(
                "RPC URL {url}: only http:// is supported by this build (no TLS); use a local node \
                 or a TLS-terminating proxy"
            ));
        }
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(|e| e.to_string())?;
        Ok(Self { http, url, next_id: AtomicU64::new(1) })
    }

    /// Calls `method` with `params` and decodes the result as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id.to_string(), "method": method, "params": params });
        let resp =
            self.http.post(self.url.clone()).json(&body).send().await.map_err(|e| transport(method, &e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| transport(method, &e))?;
        // nearcore answers some errors (timeouts, internal errors) with HTTP 408/500 *and* a
        // JSON-RPC error body: read the body first, fall back to the status.
        let envelope: Envelope = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) if status.is_success() => return Err(RpcError::Malformed(format!("{method}: {e}"))),
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                return Err(RpcError::Transport {
                    msg: format!("{method}: HTTP {status}: {text}"),
                    timeout: status == reqwest::StatusCode::REQUEST_TIMEOUT,
                });
            }
        };
        if let Some(err) = envelope.error {
            return Err(RpcError::Node(err));
        }
        let result = envelope.result.ok_or_else(|| RpcError::Malformed(format!("{method}: no result")))?;
        serde_json::from_value(result).map_err(|e| RpcError::Malformed(format!("{method} result: {e}")))
    }

    /// `block` at finality `final`.
    pub(crate) async fn final_block(&self) -> Result<BlockView, RpcError> {
        self.call("block", json!({ "finality": "final" })).await
    }

    /// `query` `view_access_key` at finality `final`.
    pub(crate) async fn access_key(
        &self,
        account_id: &str,
        public_key: &str,
    ) -> Result<AccessKeyQuery, RpcError> {
        let params = json!({
            "request_type": "view_access_key",
            "finality": "final",
            "account_id": account_id,
            "public_key": public_key,
        });
        self.call("query", params).await
    }

    /// `send_tx` waiting until `wait_until`.
    pub(crate) async fn send_tx(
        &self,
        signed_tx_base64: &str,
        wait_until: &str,
    ) -> Result<TxStatus, RpcError> {
        self.call("send_tx", json!({ "signed_tx_base64": signed_tx_base64, "wait_until": wait_until })).await
    }

    /// `tx`: the status of `tx_hash` sent by `sender`, waiting until `wait_until`.
    pub(crate) async fn tx(
        &self,
        tx_hash: &str,
        sender: &str,
        wait_until: &str,
    ) -> Result<TxStatus, RpcError> {
        let params = json!({ "tx_hash": tx_hash, "sender_account_id": sender, "wait_until": wait_until });
        self.call("tx", params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_errors_name_their_cause_and_reason() {
        let raw = r#"{"name":"HANDLER_ERROR","cause":{"name":"INVALID_TRANSACTION","info":{}},
            "code":-32000,"message":"Server error",
            "data":{"TxExecutionError":{"InvalidTxError":{"InvalidNonce":{"ak_nonce":5,"tx_nonce":5}}}}}"#;
        let e: NodeError = serde_json::from_str(raw).unwrap();
        assert_eq!(e.cause_name(), Some("INVALID_TRANSACTION"));
        let text = e.to_string();
        assert!(text.starts_with("HANDLER_ERROR/INVALID_TRANSACTION"), "{text}");
        assert!(text.contains("InvalidNonce"), "{text}");
        let legacy: NodeError =
            serde_json::from_str(r#"{"code":-32601,"message":"Method not found"}"#).unwrap();
        assert_eq!(legacy.to_string(), "Method not found (-32601)");
    }

    #[test]
    fn outcomes_and_statuses() {
        assert!(outcome(Some(&json!({"SuccessValue": ""}))).is_ok());
        assert!(outcome(Some(&json!({"Failure": {"ActionError": {}}}))).unwrap_err().contains("ActionError"));
        assert!(outcome(Some(&json!("Started"))).is_err());
        assert!(is_final_and_executed(Some("FINAL")) && is_final_and_executed(Some("EXECUTED")));
        assert!(!is_final_and_executed(Some("INCLUDED_FINAL")) && !is_final_and_executed(None));
        // The old-style access key answer is a result with an error string.
        let q: AccessKeyQuery = serde_json::from_value(json!({
            "block_hash": "11111111111111111111111111111111", "block_height": 1, "logs": [],
            "error": "access key ed25519:abc does not exist while viewing"
        }))
        .unwrap();
        assert!(q.nonce.is_none() && q.error.unwrap().contains("does not exist"));
    }
}
