//! Load benchmark (ignored by default; it prints figures and asserts none):
//!
//! ```text
//! cargo test -p temporis-sequencer --test it bench -- --ignored --nocapture
//! TEMPORIS_BENCH_N=5000 cargo test … (default 2000 transfers)
//! ```
//!
//! N pre-signed transfers from the ten dev accounts, sent over JSON-RPC by one thread per
//! sender keeping up to 64 transactions in flight over one kept-alive connection; each transaction's latency is from its
//! send to the first poll that finds its receipt (5 ms polling). The same run is made against
//! anvil (automine and 100 ms interval mining) and the node (100 ms blocks).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

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

struct Figures {
    txs: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

fn run_load(addr: &str, n: usize) -> Figures {
    let per_sender = n / 10;
    // Pre-sign everything first: signing is not what is measured.
    let batches: Vec<Vec<Bytes>> = (0..10)
        .map(|i| {
            let key = dev_key(i);
            (0..per_sender)
                .map(|nonce| transfer(&key, nonce as u64, Address::repeat_byte(0x50 + i as u8), 1))
                .collect()
        })
        .collect();
    let start = Instant::now();
    let threads: Vec<_> = batches
        .into_iter()
        .map(|txs| {
            let addr = addr.to_owned();
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                let mut latencies = Vec::with_capacity(txs.len());
                let mut in_flight: VecDeque<(String, Instant)> = VecDeque::new();
                let mut next = txs.into_iter();
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
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    latencies.push(sent.elapsed());
                    in_flight.pop_front();
                    // Later ones of this sender may be in the same block: collect them now.
                    while let Some((hash, sent)) = in_flight.front().cloned() {
                        if conn.call("eth_getTransactionReceipt", &json!([hash])).is_null() {
                            break;
                        }
                        latencies.push(sent.elapsed());
                        in_flight.pop_front();
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Figures { txs: latencies.len(), elapsed, latencies }
}

fn print(name: &str, f: &Figures) {
    let pct = |p: f64| f.latencies[((f.latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{name:<28} txs={:>6} time={:>8.2?} {:>8.0} tx/s  p50={:>8.2?} p99={:>8.2?}",
        f.txs,
        f.elapsed,
        f.txs as f64 / f.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_send_to_receipt_vs_anvil() {
    let n: usize = std::env::var("TEMPORIS_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    {
        let anvil = Anvil::start(None, &[]);
        print("anvil (automine)", &run_load(&anvil.addr, n));
    }
    {
        let anvil = Anvil::start(Some("0.1"), &[]);
        print("anvil (--block-time 0.1)", &run_load(&anvil.addr, n));
    }
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    print("temporis (100ms blocks)", &run_load(&node.addr, n));
}
