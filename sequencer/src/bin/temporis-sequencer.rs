//! `temporis-sequencer`: the Temporis L2 node.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use temporis_sequencer::{Cli, Config, Node, rpc};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = Config::from_cli(&cli)?;
    let datadir = config.datadir.clone();
    tracing::info!(target: "sequencer", datadir = %config.datadir.display(), dev = config.dev, block_time = ?config.sequencer.block_time, "starting");
    let node = tokio::task::spawn_blocking(move || Node::open(config)).await??;
    let (addr, server) = rpc::serve(node.clone()).await?;
    let head = node.head();
    tracing::info!(target: "sequencer", %addr, chain_id = node.chain_id(), head = head.header.number, "JSON-RPC (HTTP and WS) listening");
    // A machine-readable line on stdout for scripts and tests that start the node on port 0.
    println!("listening on {addr}");
    if let Some(port) = node.config().metrics_port {
        let metrics =
            temporis_sequencer::metrics::serve(node.clone(), std::net::SocketAddr::new(addr.ip(), port))
                .await?;
        tracing::info!(target: "sequencer", %metrics, "Prometheus metrics on /metrics");
        println!("metrics on {metrics}");
    }

    let shutdown = Arc::new(AtomicBool::new(false));
    // A follower's blocks come from L1 + DA; everyone else produces them.
    let producer = (!node.config().follow).then(|| node.spawn_producer(shutdown.clone()));
    let services = match node.config().rollup.clone() {
        Some(rollup) => {
            let mode = if node.config().follow { "follower" } else { "sequencer" };
            tracing::info!(target: "sequencer", mode, batcher = cli.rollup.batcher_enabled, proposer = cli.rollup.proposer_enabled, l1 = %cli.rollup.l1.rpc_url, da = %cli.rollup.da_url, "rollup mode");
            Some(temporis_sequencer::services::start(node.clone(), &rollup, &cli.rollup, &datadir).await?)
        }
        None => None,
    };

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if shutdown.load(Ordering::SeqCst) {
                    break;
                }
            }
        }
    }
    // Graceful: stop producing (the block in flight finishes and is committed), then stop
    // serving. Every block a client saw is already durable; nothing else needs flushing.
    tracing::info!(target: "sequencer", "shutting down");
    shutdown.store(true, Ordering::SeqCst);
    if let Some(services) = services {
        services.stop().await;
    }
    if let Some(producer) = producer {
        let _ = tokio::task::spawn_blocking(move || producer.join()).await;
    }
    let _ = server.stop();
    server.stopped().await;
    if node.is_stopped() {
        eyre::bail!("stopped after a chain store failure");
    }
    Ok(())
}
