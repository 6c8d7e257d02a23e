//! `temporis-gas-table`: deploys everything on a fresh anvil, performs every user-facing
//! operation once as a real transaction and prints the gas each used as a Markdown table.

use clap::Parser;
use eyre::Result;
use std::path::PathBuf;
use temporis_deploy::devnet::{L1Options, start_anvil};
use temporis_deploy::gas::{measure, render_markdown};
use temporis_deploy::l1::{DeployConfig, deploy_all};

/// Measures the gas table on a fresh anvil.
#[derive(Debug, Parser)]
#[command(name = "temporis-gas-table", version, about)]
struct Args {
    /// The anvil binary.
    #[arg(long = "anvil.path", env = "TEMPORIS_ANVIL", default_value = "anvil")]
    anvil_path: PathBuf,

    /// Port for the temporary anvil (0: any free port).
    #[arg(long = "l1.port", default_value_t = 0)]
    port: u16,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let anvil = start_anvil(&L1Options {
        anvil_path: args.anvil_path,
        port: args.port,
        block_time: None,
        state_path: None,
    })?;
    let config = DeployConfig::devnet();
    let deployment = deploy_all(&anvil.endpoint(), &config).await?;
    let rows = measure(&anvil.endpoint(), &deployment, &config).await?;
    print!("{}", render_markdown(&rows));
    Ok(())
}
