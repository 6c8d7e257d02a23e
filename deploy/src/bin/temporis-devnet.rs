//! `temporis-devnet`: anvil as the L1 with every Temporis contract deployed, until Ctrl-C.

use clap::Parser;
use eyre::{Context, Result};
use std::path::PathBuf;
use temporis_da_adapters::LocalBackend;
use temporis_da_adapters::local::DEFAULT_MAX_BLOB_SIZE;
use temporis_da_adapters::server::{ServerConfig, router};
use temporis_deploy::devnet::{L1Options, Manifest, start_anvil};
use temporis_deploy::l1::{DeployConfig, deploy_all};
use temporis_protocol::chain::{DEVNET_DA_PORT, DEVNET_L1_PORT};
use tracing::info;

/// Brings the Temporis devnet up: anvil as the L1, every contract deployed, addresses printed.
#[derive(Debug, Parser)]
#[command(name = "temporis-devnet", version, about)]
struct Args {
    #[command(flatten)]
    l1: L1Args,

    /// Data directory (the address manifest is written there).
    #[arg(long = "datadir", env = "TEMPORIS_DATADIR", default_value = ".devnet")]
    datadir: PathBuf,

    /// Port of the DA server (OP Alt-DA API over the local backend) on 127.0.0.1.
    #[arg(long = "da.port", env = "TEMPORIS_DA_PORT", default_value_t = DEVNET_DA_PORT)]
    da_port: u16,

    /// Delete the data directory before starting.
    #[arg(long = "reset")]
    reset: bool,
}

/// The devnet's L1.
#[derive(Debug, clap::Args)]
struct L1Args {
    /// Port of the L1 JSON-RPC on 127.0.0.1.
    #[arg(long = "l1.port", env = "TEMPORIS_L1_PORT", default_value_t = DEVNET_L1_PORT)]
    port: u16,

    /// Seconds between L1 blocks (default: a block per transaction).
    #[arg(long = "l1.block-time", env = "TEMPORIS_L1_BLOCK_TIME")]
    block_time: Option<u64>,

    /// The anvil binary (`make devnet` passes the pinned one from .tools/bin).
    #[arg(long = "anvil.path", env = "TEMPORIS_ANVIL", default_value = "anvil")]
    anvil_path: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();

    if args.reset && args.datadir.exists() {
        std::fs::remove_dir_all(&args.datadir)
            .with_context(|| format!("removing {}", args.datadir.display()))?;
    }

    let opts =
        L1Options { anvil_path: args.l1.anvil_path, port: args.l1.port, block_time: args.l1.block_time };
    let anvil = start_anvil(&opts)?;
    // Loopback by number, as every Temporis endpoint is printed (anvil itself says "localhost").
    let rpc_url = format!("http://127.0.0.1:{}", anvil.port());
    info!(target: "devnet", %rpc_url, "L1 (anvil) up");

    // The DA server, in process, over a local store in the data directory.
    let store = LocalBackend::open(args.datadir.join("da"), DEFAULT_MAX_BLOB_SIZE)?;
    let da = router(store, ServerConfig { auth_token: None, max_body_size: DEFAULT_MAX_BLOB_SIZE });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.da_port))
        .await
        .with_context(|| format!("binding the DA server to 127.0.0.1:{}", args.da_port))?;
    let da_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, da).await {
            tracing::error!(target: "devnet", %err, "DA server stopped");
        }
    });
    info!(target: "devnet", %da_url, "DA server up");

    let config = DeployConfig::devnet();
    let deployment = deploy_all(&rpc_url, &config).await?;
    let manifest = Manifest::new(rpc_url, da_url, deployment, config);
    let path = manifest.write(&args.datadir)?;

    println!("{}", manifest.render());
    println!("Address manifest: {}", path.display());
    println!("Press Ctrl-C to stop.");
    println!("ready");

    shutdown_signal().await?;
    info!(target: "devnet", "shutting down");
    drop(anvil); // kills the anvil process
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so that anvil is stopped either way.
async fn shutdown_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dotted_flags_and_defaults() {
        let a = Args::try_parse_from(["temporis-devnet"]).unwrap();
        assert_eq!(a.l1.port, DEVNET_L1_PORT);
        assert_eq!(a.l1.block_time, None);
        assert_eq!(a.datadir, PathBuf::from(".devnet"));
        assert_eq!(a.da_port, DEVNET_DA_PORT);
        assert!(!a.reset);

        let a = Args::try_parse_from([
            "temporis-devnet",
            "--l1.port",
            "9000",
            "--l1.block-time",
            "2",
            "--anvil.path",
            "/x/anvil",
            "--datadir",
            "/tmp/d",
            "--da.port",
            "3999",
            "--reset",
        ])
        .unwrap();
        assert_eq!(a.l1.port, 9000);
        assert_eq!(a.l1.block_time, Some(2));
        assert_eq!(a.l1.anvil_path, PathBuf::from("/x/anvil"));
        assert!(a.reset);
        assert_eq!(a.da_port, 3999);

        assert!(Args::try_parse_from(["temporis-devnet", "--l1.port", "notaport"]).is_err());
    }
}
