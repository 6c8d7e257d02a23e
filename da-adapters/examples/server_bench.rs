//! Requests per second of the `temporis-da` server under a load generator on loopback: many
//! concurrent HTTP/1.1 clients doing `POST /put` of distinct blobs, then `GET /get` of them.
//! Prints figures; asserts nothing.
//!
//! ```sh
//! cargo run --release -p temporis-da-adapters --example server_bench [-- CONCURRENCY SECONDS [URL]]
//! ```
//!
//! Without a URL it serves a fresh local backend in the system temp dir from this process (the
//! server's runtime and the load generator's then share the machine's cores: quote the core
//! count with the figures). With a URL (e.g. `http://127.0.0.1:3100`) it loads a running server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use temporis_da_adapters::LocalBackend;
use temporis_da_adapters::server::{ServerConfig, router};

const SIZES: [(&str, usize); 2] = [("1 KiB", 1024), ("128 KiB", 128 * 1024)];

fn main() -> eyre::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let concurrency: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(32);
    let seconds: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5);
    let url = match args.get(3) {
        Some(u) => u.clone(),
        None => serve_local()?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    println!("server {url}, {concurrency} concurrent clients, {seconds} s per phase");
    println!("| blob | op | requests | req/s | MB/s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|---:|---:|");
    rt.block_on(async {
        for (label, size) in SIZES {
            let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
            let commitments = Arc::new(std::sync::Mutex::new(Vec::new()));
            let put = phase(concurrency, seconds, {
                let (http, url, commitments) = (http.clone(), url.clone(), commitments.clone());
                move |n| {
                    let (http, url, commitments) = (http.clone(), url.clone(), commitments.clone());
                    async move {
                        // Distinct blobs: no dedup shortcut in the store.
                        let mut blob = vec![0xa5u8; size];
                        blob[..8].copy_from_slice(&n.to_be_bytes());
                        let r = http.post(format!("{url}/put")).body(blob).send().await?;
                        eyre::ensure!(r.status() == 200, "put answered {}", r.status());
                        let raw = r.bytes().await?;
                        commitments.lock().unwrap().push(alloy_primitives::hex::encode(&raw));
                        Ok(())
                    }
                }
            })
            .await?;
            report(label, "put", size, &put);
            let commitments = Arc::new(std::mem::take(&mut *commitments.lock().unwrap()));
            let get = phase(concurrency, seconds, {
                let (http, url) = (http.clone(), url.clone());
                move |n| {
                    let (http, url, commitments) = (http.clone(), url.clone(), commitments.clone());
                    async move {
                        let c = &commitments[n as usize % commitments.len()];
                        let r = http.get(format!("{url}/get/0x{c}")).send().await?;
                        eyre::ensure!(r.status() == 200, "get answered {}", r.status());
                        eyre::ensure!(r.bytes().await?.len() == size, "short answer");
                        Ok(())
                    }
                }
            })
            .await?;
            report(label, "get", size, &get);
        }
        Ok::<_, eyre::Report>(())
    })?;
    Ok(())
}

/// What one phase measured.
struct Phase {
    requests: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

/// Runs `op` from `concurrency` tasks for `seconds`, each call numbered uniquely.
async fn phase<F, Fut>(concurrency: usize, seconds: u64, op: F) -> eyre::Result<Phase>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = eyre::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, next, stop) = (op.clone(), next.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                op(n).await?;
                latencies.push(t.elapsed().as_micros() as u64);
            }
            Ok::<_, eyre::Report>(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await??);
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    Ok(Phase { requests: latencies_us.len() as u64, elapsed, latencies_us })
}

fn report(label: &str, op: &str, size: usize, p: &Phase) {
    let secs = p.elapsed.as_secs_f64();
    let pct = |q: f64| {
        let i = ((p.latencies_us.len() as f64 * q) as usize).min(p.latencies_us.len().saturating_sub(1));
        p.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    };
    println!(
        "| {label} | {op} | {} | {:.0} | {:.1} | {:.2} | {:.2} |",
        p.requests,
        p.requests as f64 / secs,
        (p.requests as f64 * size as f64) / secs / 1e6,
        pct(0.50),
        pct(0.99)
    );
}

/// Serves a fresh local backend on a free loopback port from a runtime of its own; returns its URL.
fn serve_local() -> eyre::Result<String> {
    let dir = std::env::temp_dir().join(format!("temporis-da-server-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let backend = LocalBackend::open(&dir, 16 * 1024 * 1024)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let app = router(backend, ServerConfig { auth_token: None, max_body_size: 16 * 1024 * 1024 });
            axum::serve(listener, app).await.expect("server runs");
        });
    });
    Ok(url)
}
