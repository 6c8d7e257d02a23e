//! `temporis-devnet`: the whole Temporis stack on one machine — anvil as the L1 with every
//! contract deployed, the DA server, the L2 sequencer (with its batcher and proposer) and a
//! follower — until Ctrl-C.

use clap::Parser;
use eyre::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use temporis_da_adapters::LocalBackend;
use temporis_da_adapters::local::DEFAULT_MAX_BLOB_SIZE;
use temporis_da_adapters::server::{ServerConfig, router};
use temporis_deploy::accounts::Role;
use temporis_deploy::devnet::{DEVNET_FOLLOWER_PORT, L1Options, Manifest, start_anvil};
use temporis_deploy::l1::{DeployConfig, Deployment, deploy_marketplace, deploy_rollup};
use temporis_deploy::l2::{L2Files, write_l2_files};
use temporis_deploy::process::Service;
use temporis_protocol::chain::{DEVNET_DA_PORT, DEVNET_L1_PORT, DEVNET_L2_PORT};
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

    #[command(flatten)]
    l2: L2Args,
}

/// The devnet's L2 processes.
#[derive(Debug, clap::Args)]
struct L2Args {
    /// Port of the sequencer's JSON-RPC (HTTP and WS) on 127.0.0.1.
    #[arg(id = "l2.port", long = "l2.port", env = "TEMPORIS_L2_PORT", default_value_t = DEVNET_L2_PORT)]
    port: u16,

    /// Port of the follower's read-only JSON-RPC on 127.0.0.1.
    #[arg(long = "follower.port", env = "TEMPORIS_FOLLOWER_PORT", default_value_t = DEVNET_FOLLOWER_PORT)]
    follower_port: u16,

    /// Seconds between L2 blocks.
    #[arg(id = "l2.block-time", long = "l2.block-time", env = "TEMPORIS_L2_BLOCK_TIME", default_value_t = 1)]
    block_time: u64,

    /// The `temporis-sequencer` binary (default: next to this one).
    #[arg(long = "sequencer.path", env = "TEMPORIS_SEQUENCER")]
    sequencer_path: Option<PathBuf>,

    /// Run only the L1, the contracts and the DA server (no sequencer, no follower).
    #[arg(long = "l1-only")]
    l1_only: bool,

    /// Do not start the follower.
    #[arg(long = "no-follower")]
    no_follower: bool,
}

/// The devnet's L1.
#[derive(Debug, clap::Args)]
struct L1Args {
    /// Port of the L1 JSON-RPC on 127.0.0.1.
    #[arg(long = "l1.port", env = "TEMPORIS_L1_PORT", default_value_t = DEVNET_L1_PORT)]
    port: u16,

    /// Seconds between L1 blocks (0: a block per transaction, anvil's automine). The L2 needs
    /// the L1 to advance to take new L1 origins, so the devnet mines on a timer by default.
    #[arg(long = "l1.block-time", env = "TEMPORIS_L1_BLOCK_TIME", default_value_t = 1)]
    block_time: u64,

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
    std::fs::create_dir_all(&args.datadir).with_context(|| format!("creating {}", args.datadir.display()))?;
    let datadir = args.datadir.canonicalize()?;

    // The L1 keeps its state in the data directory (anvil dumps it every second and on exit),
    // so a devnet restarted without --reset continues the same chains.
    let l1_state = datadir.join("l1-state.json");
    let resumed = l1_state.exists() && datadir.join("addresses.json").exists();
    let opts = L1Options {
        anvil_path: args.l1.anvil_path,
        port: args.l1.port,
        block_time: (args.l1.block_time > 0).then_some(args.l1.block_time),
        state_path: Some(l1_state),
    };
    let anvil = start_anvil(&opts)?;
    // Loopback by number, as every Temporis endpoint is printed (anvil itself says "localhost").
    let rpc_url = format!("http://127.0.0.1:{}", anvil.port());
    info!(target: "devnet", %rpc_url, resumed, "L1 (anvil) up");

    // The DA server, in process, over a local store in the data directory.
    let store = LocalBackend::open(datadir.join("da"), DEFAULT_MAX_BLOB_SIZE)?;
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
    let mut manifest = if resumed {
        let m = Manifest::read(&datadir)?;
        info!(target: "devnet", "contracts already deployed (resuming {})", datadir.display());
        m.with_urls(rpc_url.clone(), da_url.clone())
    } else {
        let apps = deploy_marketplace(&rpc_url, &config).await?;
        let rollup = deploy_rollup(&rpc_url, &config).await?;
        write_l2_files(&datadir, &rollup, args.l2.block_time)?;
        Manifest::new(rpc_url.clone(), da_url.clone(), Deployment::from_parts(apps, rollup), config.clone())
    };
    let mut services = Vec::new();
    if !args.l2.l1_only {
        let bin = match args.l2.sequencer_path {
            Some(p) => p,
            None => std::env::current_exe()?.with_file_name("temporis-sequencer"),
        };
        let files = L2Files::in_dir(&datadir);
        let l2_url = format!("http://127.0.0.1:{}", args.l2.port);
        let common = |dir: &str, port: u16| -> Vec<String> {
            [
                "--datadir",
                &datadir.join(dir).display().to_string(),
                "--genesis",
                &files.genesis.display().to_string(),
                "--rollup.config",
                &files.rollup.display().to_string(),
                "--l1.rpc-url",
                &rpc_url,
                "--da.url",
                &da_url,
                "--http.port",
                &port.to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        };
        let mut seq_args = common("sequencer", args.l2.port);
        seq_args.extend(
            [
                "--sequencer.block-time".to_owned(),
                format!("{}s", args.l2.block_time),
                "--batcher.enabled".to_owned(),
                "--batcher.private-key".to_owned(),
                Role::Batcher.private_key().to_string(),
                "--proposer.enabled".to_owned(),
                "--proposer.private-key".to_owned(),
                Role::Proposer.private_key().to_string(),
            ]
            .into_iter(),
        );
        let mut sequencer =
            Service::spawn("sequencer", &bin, &seq_args, &datadir.join("logs/sequencer.log"))?;
        sequencer.wait_rpc(&l2_url, Duration::from_secs(60))?;
        info!(target: "devnet", %l2_url, "L2 sequencer up");
        if manifest.l2.contracts.is_none() {
            let apps = deploy_marketplace(&l2_url, &config).await?;
            manifest.l2.contracts = Some(apps);
        }
        manifest.l2.rpc_url = Some(l2_url);
        services.push(sequencer);
        if !args.l2.no_follower {
            let follower_url = format!("http://127.0.0.1:{}", args.l2.follower_port);
            let mut follow_args = common("follower", args.l2.follower_port);
            follow_args.push("--follow".to_owned());
            let mut follower =
                Service::spawn("follower", &bin, &follow_args, &datadir.join("logs/follower.log"))?;
            follower.wait_rpc(&follower_url, Duration::from_secs(60))?;
            info!(target: "devnet", %follower_url, "follower up");
            manifest.l2.follower_url = Some(follower_url);
            services.push(follower);
        }
    }
    let path = manifest.write(&datadir)?;

    println!("{}", manifest.render());
    println!("Address manifest: {}", path.display());
    println!("Logs: {}", datadir.join("logs").display());
    println!("Press Ctrl-C to stop.");
    println!("ready");

    // Until Ctrl-C, or until a service dies (then everything stops, with its log named).
    let failed = tokio::select! {
        r = shutdown_signal() => { r?; None }
        name = watch(&mut services) => Some(name),
    };
    info!(target: "devnet", "shutting down");
    for s in services.iter_mut().rev() {
        s.stop();
    }
    stop_anvil(anvil);
    if let Some((name, log)) = failed {
        eyre::bail!("{name} exited unexpectedly; see {}", log.display());
    }
    Ok(())
}

/// Stops anvil with SIGINT, on which it writes its state file (`--state`) before exiting, so a
/// resumed devnet finds the L1 exactly where its L2 left it; SIGKILL (the handle's drop) only if
/// it does not exit within 10 s.
fn stop_anvil(mut anvil: alloy::node_bindings::AnvilInstance) {
    let pid = anvil.child().id();
    let _ = std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if matches!(anvil.child_mut().try_wait(), Ok(Some(_))) {
            info!(target: "devnet", "L1 (anvil) stopped, state written");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    tracing::warn!(target: "devnet", "anvil did not stop on SIGINT; killing it");
}

/// Resolves when one of `services` exits, with its name and log.
async fn watch(services: &mut [Service]) -> (&'static str, PathBuf) {
    loop {
        for s in services.iter_mut() {
            if let Some(status) = s.exited() {
                tracing::error!(target: "devnet", name = s.name(), %status, "service exited");
                return (s.name(), s.log().to_path_buf());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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
        assert_eq!(a.l1.block_time, 1);
        assert_eq!(a.l2.port, DEVNET_L2_PORT);
        assert!(!a.l2.l1_only && !a.l2.no_follower);
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
        assert_eq!(a.l1.block_time, 2);
        assert_eq!(a.l1.anvil_path, PathBuf::from("/x/anvil"));
        assert!(a.reset);
        assert_eq!(a.da_port, 3999);

        assert!(Args::try_parse_from(["temporis-devnet", "--l1.port", "notaport"]).is_err());
    }
}
