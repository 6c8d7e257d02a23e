//! `temporis-da`: the DA server (OP Alt-DA HTTP API) that DA node operators run.

use clap::Parser;
use eyre::Result;
use std::net::SocketAddr;
use temporis_da_adapters::cli::DaArgs;
use temporis_da_adapters::server::{ServerConfig, router};
use temporis_protocol::chain::DEVNET_DA_PORT;
use tracing::info;

/// Serves the OP Alt-DA HTTP API (`/put`, `/get`, `/health`, `/metrics`) over a DA backend.
#[derive(Debug, Parser)]
#[command(name = "temporis-da", version, about)]
struct Args {
    #[command(flatten)]
    da: DaArgs,

    /// Address to listen on.
    #[arg(long = "addr", env = "TEMPORIS_DA_ADDR", default_value = "127.0.0.1")]
    addr: std::net::IpAddr,

    /// Port to listen on.
    #[arg(long = "port", env = "TEMPORIS_DA_PORT", default_value_t = DEVNET_DA_PORT)]
    port: u16,

    /// Bearer token required for writes (unset: writes are open; local development only).
    #[arg(long = "auth-token", env = "TEMPORIS_DA_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
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
    let backend = args.da.build().await?;
    let config = ServerConfig {
        auth_token: args.auth_token.clone(),
        max_body_size: args.da.effective_max_blob_size(),
    };
    let app = router(backend, config);
    let addr = SocketAddr::new(args.addr, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(target: "da::server", %addr, backend = args.da.backend.name(), datadir = %args.da.datadir.display(),
        auth = args.auth_token.is_some(), "serving OP Alt-DA API");
    println!("temporis-da listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporis_da_adapters::cli::BackendKind;
    use temporis_da_adapters::local::DEFAULT_MAX_BLOB_SIZE;

    #[test]
    fn parses_flags_and_defaults() {
        let a = Args::try_parse_from(["temporis-da"]).unwrap();
        assert_eq!(a.da.backend, BackendKind::Local);
        assert_eq!(a.port, DEVNET_DA_PORT);
        assert_eq!(a.da.max_blob_size, DEFAULT_MAX_BLOB_SIZE);
        assert!(a.auth_token.is_none());
        let a = Args::try_parse_from([
            "temporis-da",
            "--backend",
            "local",
            "--datadir",
            "/tmp/x",
            "--port",
            "4000",
            "--auth-token",
            "s3cret",
        ])
        .unwrap();
        assert_eq!(a.port, 4000);
        assert_eq!(a.auth_token.as_deref(), Some("s3cret"));
        assert!(Args::try_parse_from(["temporis-da", "--port", "x"]).is_err());
    }
}
