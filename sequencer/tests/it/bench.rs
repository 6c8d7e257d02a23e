//! Load benchmark (ignored by default; it prints figures and asserts none):
//!
//! ```text
//! cargo test -p temporis-sequencer --test it bench -- --ignored --nocapture
//! TEMPORIS_BENCH_N=5000 cargo test … (default 2000 transactions per corpus)
//! ```
//!
//! Three corpora of N pre-signed transactions from the ten dev accounts: ETH transfers, ERC-20
//! transfers (OpenZeppelin 5 `BenchToken`) and ERC-721 mints (OpenZeppelin 5 `BenchNFT`), both
//! built with forge from `tests/fixtures/tokens`. Each corpus runs on a fresh anvil automining,
//! a fresh anvil mining every block time, and a fresh node with that block time
//! (`TEMPORIS_BENCH_BLOCK_MS`, default 100). They are sent over JSON-RPC by one thread per
//! sender keeping up to 64 transactions in flight over one kept-alive connection; each
//! transaction's latency is from its send to the first poll that finds its receipt (5 ms
//! polling). Reported per run: sustained tx/s and Mgas/s (receipts' gas over the wall time from
//! the first send to the last receipt), p50 and p99 latency, and the node's ratio to each anvil.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use alloy::sol_types::{SolCall, SolValue};
use serde_json::json;

use super::anvil_diff::Anvil;
use super::*;

const IN_FLIGHT: usize = 64;

/// A kept-alive HTTP/1.1 connection for JSON-RPC calls (what real clients use), so that the
/// benchmark measures the servers rather than connection setup.
struct Conn {
    addr: String,
    reader: BufReader<TcpStream>,
    id: u64,
}

impl Conn {
    fn open(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Self { addr: addr.to_owned(), reader: BufReader::new(stream), id: 0 }
    }

    fn call(&mut self, method: &str, params: &Value) -> Value {
        self.id += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params}).to_string();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut length = None;
        let mut chunked = false;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = Some(v.trim().parse::<usize>().unwrap());
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0u8; n + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(length.expect("a content length"), 0);
            self.reader.read_exact(&mut body).unwrap();
        }
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v.get("error").is_none(), "{method}: {v}");
        v["result"].clone()
    }
}

alloy::sol! {
    function transfer(address to, uint256 value) external returns (bool);
    function mint() external returns (uint256 id);
}

/// What a corpus' transactions do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Corpus {
    /// 1 wei from each sender to its own recipient.
    EthTransfer,
    /// 1 token unit from each sender (a holder since the token's deployment) to its own
    /// recipient.
    Erc20Transfer,
    /// `mint()` of the next id to the sender.
    Erc721Mint,
}

impl Corpus {
    fn name(self) -> &'static str {
        match self {
            Self::EthTransfer => "ETH transfers",
            Self::Erc20Transfer => "ERC-20 transfers",
            Self::Erc721Mint => "ERC-721 mints",
        }
    }
}

/// Builds the token fixture with forge; returns the creation bytecode of `name`.
fn token_bytecode(name: &str) -> Vec<u8> {
    let project = workspace().join("sequencer/tests/fixtures/tokens");
    let solc = tool("solc");
    let out = std::process::Command::new(tool("forge"))
        .args(["build", "--root", project.to_str().unwrap(), "--use", solc.to_str().unwrap(), "--offline"])
        .current_dir(&project)
        .output()
        .expect("run forge");
    assert!(out.status.success(), "forge build failed: {}", String::from_utf8_lossy(&out.stderr));
    let path = project.join(format!("out/{name}.sol/{name}.json"));
    let artifact: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    alloy_primitives::hex::decode(artifact["bytecode"]["object"].as_str().unwrap()).unwrap()
}

/// Creation code of the two token contracts.
struct Bytecodes {
    token: Vec<u8>,
    nft: Vec<u8>,
}

/// Deploys what `corpus` needs on the chain at `addr` (from dev account 0); returns the
/// contract and each sender's next nonce.
fn setup(addr: &str, corpus: Corpus, code: &Bytecodes) -> (Option<Address>, Vec<u64>) {
    let senders: Vec<Address> = (0..10).map(|i| dev_key(i).address()).collect();
    let nonce_of = |a: &Address| hex_u64(&rpc(addr, "eth_getTransactionCount", json!([a, "pending"])));
    let init = match corpus {
        Corpus::EthTransfer => None,
        Corpus::Erc20Transfer => {
            let mut init = code.token.clone();
            init.extend((senders.clone(), U256::from(10u64).pow(U256::from(24))).abi_encode_params());
            Some(init)
        }
        Corpus::Erc721Mint => Some(code.nft.clone()),
    };
    let contract = init.map(|init| {
        let key = dev_key(0);
        let raw = sign_1559(
            &key,
            CHAIN_ID,
            nonce_of(&key.address()),
            TxKind::Create,
            U256::ZERO,
            init.into(),
            5_000_000,
            100_000_000_000,
            1_000_000,
        );
        let hash = rpc(addr, "eth_sendRawTransaction", json!([raw]));
        let receipt = wait_receipt(addr, hash.as_str().unwrap());
        assert_eq!(receipt["status"], "0x1", "deployment: {receipt}");
        receipt["contractAddress"].as_str().unwrap().parse().unwrap()
    });
    (contract, senders.iter().map(nonce_of).collect())
}

/// The corpus' N transactions, pre-signed, per sender in nonce order.
fn corpus_txs(corpus: Corpus, contract: Option<Address>, nonces: &[u64], n: usize) -> Vec<Vec<Bytes>> {
    let per_sender = n / 10;
    (0..10)
        .map(|i| {
            let key = dev_key(i);
            let recipient = Address::repeat_byte(0x50 + i as u8);
            (0..per_sender as u64)
                .map(|k| {
                    let nonce = nonces[i] + k;
                    let (to, input, gas) = match corpus {
                        Corpus::EthTransfer => return transfer(&key, nonce, recipient, 1),
                        Corpus::Erc20Transfer => (
                            contract.unwrap(),
                            transferCall { to: recipient, value: U256::from(1) }.abi_encode(),
                            80_000,
                        ),
                        Corpus::Erc721Mint => (contract.unwrap(), mintCall {}.abi_encode(), 120_000),
                    };
                    sign_1559(
                        &key,
                        CHAIN_ID,
                        nonce,
                        TxKind::Call(to),
                        U256::ZERO,
                        input.into(),
                        gas,
                        100_000_000_000,
                        1_000_000,
                    )
                })
                .collect()
        })
        .collect()
}

/// How long a sender waits for its next receipt before it reports the run as stalled (anvil
/// automining has been seen to leave a transaction out and queue its sender's later ones).
const STALL: Duration = Duration::from_secs(30);

struct Figures {
    txs: usize,
    /// Transactions sent whose receipt never came (the run stalled).
    missing: usize,
    gas: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Figures {
    fn tx_per_s(&self) -> f64 {
        self.txs as f64 / self.elapsed.as_secs_f64()
    }
}

fn run_load(addr: &str, batches: Vec<Vec<Bytes>>) -> Figures {
    let start = Instant::now();
    let threads: Vec<_> = batches
        .into_iter()
        .map(|txs| {
            let addr = addr.to_owned();
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                let mut latencies = Vec::with_capacity(txs.len());
                let mut gas = 0u64;
                let mut in_flight: VecDeque<(String, Instant)> = VecDeque::new();
                let mut next = txs.into_iter();
                let mut done = |r: &Value, sent: Instant, latencies: &mut Vec<Duration>| {
                    latencies.push(sent.elapsed());
                    // A corpus whose transactions fail would measure nothing useful.
                    assert_eq!(r["status"], "0x1", "a benchmark transaction failed: {r}");
                    gas += hex_u64(&r["gasUsed"]);
                };
                loop {
                    while in_flight.len() < IN_FLIGHT {
                        let Some(raw) = next.next() else { break };
                        let sent = Instant::now();
                        let hash = conn.call("eth_sendRawTransaction", &json!([raw]));
                        in_flight.push_back((hash.as_str().unwrap().to_owned(), sent));
                    }
                    let Some((hash, sent)) = in_flight.front().cloned() else { break };
                    let r = conn.call("eth_getTransactionReceipt", &json!([hash]));
                    if r.is_null() {
                        if sent.elapsed() > STALL {
                            eprintln!("no receipt for {hash} after {STALL:?}: this run stalled");
                            return (latencies, gas, in_flight.len() + next.len());
                        }
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    done(&r, sent, &mut latencies);
                    in_flight.pop_front();
                    // Later ones of this sender may be in the same block: collect them now.
                    while let Some((hash, sent)) = in_flight.front().cloned() {
                        let r = conn.call("eth_getTransactionReceipt", &json!([hash]));
                        if r.is_null() {
                            break;
                        }
                        done(&r, sent, &mut latencies);
                        in_flight.pop_front();
                    }
                }
                (latencies, gas, 0)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut gas = 0;
    let mut missing = 0;
    for t in threads {
        let (l, g, m) = t.join().unwrap();
        latencies.extend(l);
        gas += g;
        missing += m;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Figures { txs: latencies.len(), missing, gas, elapsed, latencies }
}

fn print(corpus: Corpus, target: &str, f: &Figures) {
    if f.missing > 0 {
        println!("{:<17} {target:<26} STALLED: {} receipts, {} never came", corpus.name(), f.txs, f.missing);
        return;
    }
    let pct = |p: f64| f.latencies[((f.latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{:<17} {target:<26} txs={:>6} time={:>8.2?} {:>7.0} tx/s {:>7.1} Mgas/s  p50={:>8.2?} p99={:>8.2?}",
        corpus.name(),
        f.txs,
        f.elapsed,
        f.tx_per_s(),
        f.gas as f64 / 1e6 / f.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_send_to_receipt_vs_anvil() {
    let n: usize = std::env::var("TEMPORIS_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let block_ms: u64 =
        std::env::var("TEMPORIS_BENCH_BLOCK_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let anvil_block_time = format!("{}", block_ms as f64 / 1000.0);
    let node_block_time = format!("{block_ms}ms");
    let code = Bytecodes { token: token_bytecode("BenchToken"), nft: token_bytecode("BenchNFT") };
    let mut ratios = Vec::new();
    for corpus in [Corpus::EthTransfer, Corpus::Erc20Transfer, Corpus::Erc721Mint] {
        let run = |target: &str, addr: &str| {
            let (contract, nonces) = setup(addr, corpus, &code);
            let f = run_load(addr, corpus_txs(corpus, contract, &nonces, n));
            print(corpus, target, &f);
            (f.missing == 0).then(|| f.tx_per_s())
        };
        let automine = run("anvil (automine)", &Anvil::start(None, &[]).addr);
        let interval = run(
            &format!("anvil (--block-time {anvil_block_time})"),
            &Anvil::start(Some(&anvil_block_time), &[]).addr,
        );
        let dir = tempfile::tempdir().unwrap();
        let node = NodeProc::start(dir.path(), &["--sequencer.block-time", &node_block_time]);
        let temporis = run(&format!("temporis ({block_ms}ms blocks)"), &node.addr);
        ratios.push((corpus, temporis, automine, interval));
    }
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}×", a / b),
        _ => "n/a (stalled)".to_owned(),
    };
    for (corpus, temporis, automine, interval) in ratios {
        println!(
            "{:<17} temporis tx/s ÷ anvil: {} automine, {} --block-time {anvil_block_time}",
            corpus.name(),
            ratio(temporis, automine),
            ratio(temporis, interval)
        );
    }
}

/// `eth_getBalance` latency while the node produces blocks under the ETH transfer load: what a
/// wallet polling the head sees while the producer executes and commits blocks.
#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_reads_during_block_production() {
    let n: usize = std::env::var("TEMPORIS_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let block_ms: u64 =
        std::env::var("TEMPORIS_BENCH_BLOCK_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", &format!("{block_ms}ms")]);
    let (_, nonces) = setup(&node.addr, Corpus::EthTransfer, &Bytecodes { token: vec![], nft: vec![] });
    // Fewer senders load the machine less, so that what the reads wait for is the node.
    let senders: usize =
        std::env::var("TEMPORIS_BENCH_SENDERS").ok().and_then(|s| s.parse().ok()).unwrap_or(10).clamp(1, 10);
    let mut txs = corpus_txs(Corpus::EthTransfer, None, &nonces, n);
    txs.truncate(senders);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (addr, stop) = (node.addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut conn = Conn::open(&addr);
            let who = json!([dev_key(3).address(), "latest"]);
            let mut latencies = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                conn.call("eth_getBalance", &who);
                latencies.push(t.elapsed());
            }
            latencies
        })
    };
    let load = run_load(&node.addr, txs);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = reader.join().unwrap();
    reads.sort_unstable();
    let pct = |p: f64| reads[((reads.len() as f64 - 1.0) * p) as usize];
    println!(
        "eth_getBalance during production ({block_ms}ms blocks, {senders} senders, {:.0} tx/s load): reads={} p50={:.2?} p99={:.2?} max={:.2?}",
        load.tx_per_s(),
        reads.len(),
        pct(0.5),
        pct(0.99),
        reads[reads.len() - 1]
    );
}
