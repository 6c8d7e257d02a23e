//! Integration tests: the real `temporis-sequencer` binary on a free port with a temporary
//! datadir, driven by cast, forge, raw JSON-RPC over HTTP, and compared with anvil.

mod aivm;
mod anvil_diff;
mod bench;
mod errors;
mod gas_price_oracle;
mod output;
mod reads;
mod restart;
mod rollup;
mod tools;
mod viem;
mod ws;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use serde_json::{Value, json};

/// The dev chain id.
const CHAIN_ID: u64 = 73571;

/// Root of the workspace (where `.tools/bin` lives).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A pinned Foundry tool.
fn tool(name: &str) -> PathBuf {
    workspace().join(".tools/bin").join(name)
}

/// Dev account `i`'s key.
fn dev_key(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&temporis_sequencer::genesis::DEV_KEYS[i]).unwrap()
}

/// A running node; killed (SIGKILL) when dropped.
struct NodeProc {
    child: Child,
    url: String,
    addr: String,
    datadir: PathBuf,
    /// The Prometheus endpoint, with `--metrics.port`.
    metrics: Option<String>,
}

impl NodeProc {
    /// Starts the node in dev mode on `datadir` with extra flags.
    fn start(datadir: &Path, extra: &[&str]) -> Self {
        // `TEMPORIS_SEQUENCER_BIN` runs another build of the node (the benchmark uses a
        // release build: `cargo build --release -p temporis-sequencer`).
        let bin = std::env::var("TEMPORIS_SEQUENCER_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_temporis-sequencer").into());
        let mut child = Command::new(bin)
            .args(["--dev", "--http.port", "0", "--datadir"])
            .arg(datadir)
            .args(extra)
            .env("RUST_LOG", std::env::var("TEMPORIS_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start temporis-sequencer");
        let stdout = child.stdout.take().unwrap();
        let mut stdout = BufReader::new(stdout);
        let mut next_line = |prefix: &str| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read a line of the node's stdout");
            line.trim().strip_prefix(prefix).unwrap_or_else(|| panic!("unexpected line {line:?}")).to_owned()
        };
        let addr = next_line("listening on ");
        let metrics = extra.contains(&"--metrics.port").then(|| next_line("metrics on "));
        Self { child, url: format!("http://{addr}"), addr, datadir: datadir.to_path_buf(), metrics }
    }

    /// Kills the process without warning (`kill -9`).
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean shutdown, got {status}");
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 POST; returns (status code, body), or status 0 and no body when the node
/// cannot be reached (the crash test kills it under load).
fn http_post(addr: &str, body: &[u8]) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else { return (0, String::new()) };
    if stream.set_read_timeout(Some(Duration::from_secs(30))).is_err() {
        return (0, String::new());
    }
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return (0, String::new());
    }
    // The server may answer (413) and close before reading a too-large body.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, dechunk(&body))
}

/// Undoes chunked transfer encoding if the body looks chunked.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, tail)) = rest.split_once("\r\n") else { return body.to_owned() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_owned() };
        if n == 0 {
            return out;
        }
        if tail.len() < n {
            return body.to_owned();
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
}

/// A JSON-RPC call; returns the whole response object.
fn rpc_raw(addr: &str, method: &str, params: Value) -> Value {
    let mut body = json!({"jsonrpc": "2.0", "id": 1, "method": method});
    body["params"] = params;
    let (_, text) = http_post(addr, body.to_string().as_bytes());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: bad response {text:?}: {e}"))
}

/// A JSON-RPC call that must succeed; returns `result`.
fn rpc(addr: &str, method: &str, params: Value) -> Value {
    let response = rpc_raw(addr, method, params);
    assert!(response.get("error").is_none(), "{method} failed: {response}");
    response["result"].clone()
}

/// A JSON-RPC call that must fail; returns `error`.
fn rpc_err(addr: &str, method: &str, params: Value) -> Value {
    let response = rpc_raw(addr, method, params);
    response.get("error").cloned().unwrap_or_else(|| panic!("{method} should fail: {response}"))
}

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn hex_u256(v: &Value) -> U256 {
    v.as_str().unwrap().parse().unwrap()
}

/// Signs an EIP-1559 transaction.
#[allow(clippy::too_many_arguments)] // one argument per transaction field reads best in tests
fn sign_1559(
    key: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
    max_fee: u128,
    tip: u128,
) -> Bytes {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to,
        value,
        input,
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    env.encoded_2718().into()
}

/// A plain transfer of `value` wei to `to`.
fn transfer(key: &PrivateKeySigner, nonce: u64, to: Address, value: u64) -> Bytes {
    sign_1559(
        key,
        CHAIN_ID,
        nonce,
        TxKind::Call(to),
        U256::from(value),
        Bytes::new(),
        21_000,
        100_000_000_000,
        1_000_000,
    )
}

/// Polls `eth_getTransactionReceipt` until it is there.
fn wait_receipt(addr: &str, hash: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = rpc(addr, "eth_getTransactionReceipt", json!([hash]));
        if !r.is_null() {
            return r;
        }
        assert!(Instant::now() < deadline, "no receipt for {hash}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
