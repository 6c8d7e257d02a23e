//! Prometheus metrics: counters kept by the node, served as the text exposition format on
//! `GET /metrics` of their own port (`--metrics.port`), so that scraping never competes with
//! JSON-RPC limits.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Node;

/// The node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Blocks produced since start.
    pub blocks_produced: AtomicU64,
    /// Transactions included in produced blocks.
    pub txs_included: AtomicU64,
    /// Transactions accepted into the pool.
    pub txs_accepted: AtomicU64,
    /// Transactions refused at submission.
    pub txs_refused: AtomicU64,
    /// Time to build and commit the last block, in microseconds.
    pub last_block_micros: AtomicU64,
}

impl Metrics {
    /// Adds one to `counter`.
    pub fn inc(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }
}

/// The exposition text for `node`.
pub fn render(node: &Node) -> String {
    let m = node.metrics();
    let head = node.head();
    let pool = node.with_pool(|p| p.len());
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    metric("temporis_head_block_number", "gauge", "Number of the head block.", head.header.number as f64);
    metric(
        "temporis_head_base_fee_wei",
        "gauge",
        "Base fee of the head block.",
        head.header.base_fee_per_gas.unwrap_or_default() as f64,
    );
    metric("temporis_txpool_transactions", "gauge", "Transactions in the pool.", pool as f64);
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
    metric(
        "temporis_blocks_produced_total",
        "counter",
        "Blocks produced since start.",
        get(&m.blocks_produced),
    );
    metric(
        "temporis_transactions_included_total",
        "counter",
        "Transactions included in produced blocks.",
        get(&m.txs_included),
    );
    metric(
        "temporis_transactions_accepted_total",
        "counter",
        "Transactions accepted into the pool.",
        get(&m.txs_accepted),
    );
    metric(
        "temporis_transactions_refused_total",
        "counter",
        "Transactions refused at submission.",
        get(&m.txs_refused),
    );
    metric(
        "temporis_last_block_seconds",
        "gauge",
        "Time to build and commit the last block.",
        get(&m.last_block_micros) / 1e6,
    );
    out
}

/// Serves `GET /metrics` on `addr`; returns the bound address.
pub async fn serve(node: Node, addr: SocketAddr) -> crate::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { continue };
            let node = node.clone();
            tokio::spawn(async move {
                // One small request per connection: read the head (at most 8 KiB), answer, close.
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                while len < buf.len() && !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => len += n,
                    }
                }
                let response = if buf[..len].starts_with(b"GET /metrics ") {
                    let body = render(&node);
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
                };
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(bound)
}
