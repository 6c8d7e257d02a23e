//! Crashes and bad data over real processes: the sequencer (with its batcher) killed with
//! SIGKILL while transactions stream in and restarted; every block clients saw is still there,
//! the batches on L1 neither skip nor repeat a block, a fresh follower derives the same chain;
//! and a follower whose DA server returns corrupted bytes stops with a clear error instead of
//! building a wrong state.

use alloy_primitives::{B256, keccak256};
use eyre::{ContextCompat, Result, ensure};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::str::FromStr;
use std::time::Duration;
use temporis_e2e::{Devnet, DevnetOptions, NodeProcess, http_rpc, wait_for};

use crate::rollup::posted_batches;

/// The flags the devnet gives its sequencer, for a node the test runs itself.
pub(crate) fn node_args(devnet: &Devnet, dir: &str, da_url: &str) -> Vec<String> {
    let d = &devnet.datadir;
    [
        "--datadir",
        &d.join(dir).display().to_string(),
        "--genesis",
        &d.join("genesis.json").display().to_string(),
        "--rollup.config",
        &d.join("rollup.json").display().to_string(),
        "--l1.rpc-url",
        &devnet.rpc_url,
        "--da.url",
        da_url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn sequencer_args(devnet: &Devnet, da_url: &str) -> Result<Vec<String>> {
    let (batcher_key, _) = devnet.account("batcher")?;
    let mut args = node_args(devnet, "sequencer", da_url);
    for a in [
        "--sequencer.block-time",
        "500ms",
        "--batcher.enabled",
        "--batcher.private-key",
        &batcher_key,
        "--batcher.max-channel-age",
        "2s",
        "--store.snapshot-interval",
        "7",
    ] {
        args.push(a.to_owned());
    }
    Ok(args)
}

fn number(v: &serde_json::Value) -> Result<u64> {
    Ok(u64::from_str_radix(v.as_str().context("quantity")?.trim_start_matches("0x"), 16)?)
}

/// `(hash, stateRoot)` of block `n` at `url`.
fn block_id(url: &str, n: u64) -> Result<Option<(B256, B256)>> {
    let b = http_rpc(url, "eth_getBlockByNumber", &format!(r#"["0x{n:x}",false]"#))?;
    if b.is_null() {
        return Ok(None);
    }
    Ok(Some((
        B256::from_str(b["hash"].as_str().context("hash")?)?,
        B256::from_str(b["stateRoot"].as_str().context("stateRoot")?)?,
    )))
}

#[test]
fn sequencer_kill_9_loses_no_block_and_batches_neither_skip_nor_repeat() -> Result<()> {
    let devnet = Devnet::start_with(&DevnetOptions { l1_only: true, l1_block_time: 1, no_follower: true })?;
    let da = devnet.da_url()?;
    let log = devnet.datadir.join("sequencer.log");
    let mut node = NodeProcess::start(&sequencer_args(&devnet, &da)?, &log)?;
    let cast = temporis_e2e::Cast::new(&node.url)?;
    let (key, _) = devnet.account("user3")?;
    let (_, to) = devnet.account("user4")?;

    // Transactions stream in; clients record every block they are shown, and each receipt.
    let mut seen: BTreeMap<u64, (B256, B256)> = BTreeMap::new();
    let mut included = Vec::new();
    let (_, from) = devnet.account("user3")?;
    let first =
        number(&http_rpc(&node.url, "eth_getTransactionCount", &format!(r#"["{from}","pending"]"#))?)?;
    for i in 0..12 {
        let nonce = (first + i).to_string();
        let out = cast.raw(&[
            "send",
            "--async",
            "--nonce",
            &nonce,
            "--private-key",
            &key,
            &to.to_string(),
            "--value",
            "1",
        ])?;
        let hash = out.trim().to_owned();
        if i % 3 == 2 {
            let r = wait_for("a receipt", Duration::from_secs(30), || {
                let r = http_rpc(&node.url, "eth_getTransactionReceipt", &format!(r#"["{hash}"]"#))?;
                Ok((!r.is_null()).then_some(r))
            })?;
            included.push((hash.clone(), number(&r["blockNumber"])?));
        }
        let head = number(&http_rpc(&node.url, "eth_blockNumber", "[]")?)?;
        if let Some(id) = block_id(&node.url, head)? {
            seen.insert(head, id);
        }
    }
    // SIGKILL with transactions still in flight.
    let nonce = (first + 12).to_string();
    let _ = cast.raw(&[
        "send",
        "--async",
        "--nonce",
        &nonce,
        "--private-key",
        &key,
        &to.to_string(),
        "--value",
        "2",
    ]);
    node.kill9();

    let node = NodeProcess::start(&sequencer_args(&devnet, &da)?, &log)?;
    for (n, id) in &seen {
        ensure!(block_id(&node.url, *n)?.as_ref() == Some(id), "block {n} changed across the kill -9");
    }
    for (hash, n) in &included {
        let r = http_rpc(&node.url, "eth_getTransactionReceipt", &format!(r#"["{hash}"]"#))?;
        ensure!(number(&r["blockNumber"])? == *n, "receipt of {hash} moved or vanished: {r}");
    }
    let restart_head = number(&http_rpc(&node.url, "eth_blockNumber", "[]")?)?;
    ensure!(restart_head >= *seen.keys().last().context("no block seen")?, "the restarted node is behind");

    // The batcher (restarted with the node) goes on from where the inbox says it stopped.
    let l1 = devnet.cast()?;
    let inbox = devnet.contract("batchInbox")?;
    let target = restart_head + 4;
    let batches = wait_for("batches covering the blocks after the restart", Duration::from_secs(90), || {
        let batches = posted_batches(&l1, inbox, &da)?;
        let top = batches.iter().flat_map(|b| b.blocks.iter().map(|x| x.number)).max().unwrap_or(0);
        Ok((top >= target).then_some(batches))
    })
    .inspect_err(|_| eprintln!("{}", node.log_tail(60)))?;
    let mut covered: Vec<u64> = batches.iter().flat_map(|b| b.blocks.iter().map(|x| x.number)).collect();
    let total = covered.len();
    covered.sort_unstable();
    covered.dedup();
    ensure!(
        covered.len() == total,
        "a block was posted in two batches: {total} posted, {} distinct",
        covered.len()
    );
    ensure!(
        covered == (1..=covered.len() as u64).collect::<Vec<_>>(),
        "the batches skip a block: {covered:?}"
    );
    // What was posted is the chain: every block's user transactions, in order.
    for b in batches.iter().flat_map(|b| b.blocks.iter()) {
        let block = http_rpc(&node.url, "eth_getBlockByNumber", &format!(r#"["0x{:x}",true]"#, b.number))?;
        let want: Vec<String> = block["transactions"]
            .as_array()
            .context("txs")?
            .iter()
            .filter(|t| t["type"] != "0x7e")
            .map(|t| t["hash"].as_str().unwrap_or_default().to_owned())
            .collect();
        let got: Vec<String> = b.txs.iter().map(|t| format!("{}", keccak256(t))).collect();
        ensure!(got == want, "batch block {} carries other transactions than the chain's", b.number);
    }

    // A fresh follower derives the same chain, across the crash.
    let follower = NodeProcess::start(
        &[node_args(&devnet, "follower", &da), vec!["--follow".to_owned()]].concat(),
        &devnet.datadir.join("follower.log"),
    )?;
    let want = block_id(&node.url, target)?.context("sequencer block")?;
    let got = wait_for("the follower to derive past the crash", Duration::from_secs(90), || {
        block_id(&follower.url, target)
    })
    .inspect_err(|_| eprintln!("{}", follower.log_tail(60)))?;
    ensure!(got == want, "follower block {target}: {got:?} != sequencer's {want:?}");

    // A follower whose DA answers corrupted bytes stops, says why, and builds nothing wrong.
    let proxy = CorruptingProxy::start(&da)?;
    let bad = NodeProcess::start(
        &[node_args(&devnet, "follower-bad", &proxy.url), vec!["--follow".to_owned()]].concat(),
        &devnet.datadir.join("follower-bad.log"),
    )?;
    let text = wait_for("the follower to report the corrupted DA data", Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&bad.log)?;
        Ok(text.contains("derivation stopped").then_some(text))
    })?;
    let line = text.lines().find(|l| l.contains("derivation stopped")).unwrap_or_default();
    ensure!(line.contains("batch") && line.contains("L1 block"), "the error names where: {line}");
    ensure!(
        line.to_lowercase().contains("commitment") || line.to_lowercase().contains("mismatch"),
        "the error names why: {line}"
    );
    let status = http_rpc(&bad.url, "temporis_derivationStatus", "[]")?;
    ensure!(status["mode"] == "follower", "{status}");
    let error = status["error"].as_str().unwrap_or_default();
    ensure!(error.contains("batch") && error.contains("L1 block"), "the status names where: {status}");
    std::thread::sleep(Duration::from_secs(3));
    ensure!(
        number(&http_rpc(&bad.url, "eth_blockNumber", "[]")?)? == 0,
        "the corrupted follower imported blocks"
    );
    ensure!(proxy.corrupted() > 0, "the proxy corrupted nothing");
    Ok(())
}

/// A DA server in front of the real one that flips a byte of every body it returns.
struct CorruptingProxy {
    url: String,
    count: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CorruptingProxy {
    fn start(upstream: &str) -> Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (up, c) = (upstream.to_owned(), count.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (up, c) = (up.clone(), c.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &up, &c);
                });
            }
        });
        Ok(Self { url, count })
    }

    fn corrupted(&self) -> usize {
        self.count.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn serve(
    mut stream: std::net::TcpStream,
    upstream: &str,
    count: &std::sync::atomic::AtomicUsize,
) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk)?;
        ensure!(n > 0, "client closed");
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().context("method")?, parts.next().context("path")?);
    let (status, mut body) = temporis_e2e::http(method, &format!("{upstream}{path}"), b"")?;
    if method == "GET" && path.starts_with("/get/") && !body.is_empty() {
        let mid = body.len() / 2;
        body[mid] ^= 0x01;
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    stream.write_all(&body)?;
    Ok(())
}
