//! `temporis-withdraw`: prove, finalize and inspect an L2 → L1 withdrawal.
//!
//! ```text
//! temporis-withdraw [--l1.rpc-url URL] [--l2.rpc-url URL] (--addresses FILE | --portal A --output-oracle A)
//!                   (prove | finalize | status) --tx L2_TX_HASH [--index I] [--private-key KEY]
//! ```
//! Results go to stdout, diagnostics to stderr.

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::SolCall;
use clap::{Parser, Subcommand};
use eyre::{Context, ContextCompat, Result, bail};
use std::path::PathBuf;
use std::str::FromStr;
use temporis_pipeline::config::TxMgrArgs;
use temporis_pipeline::l1::http_provider;
use temporis_pipeline::l1::txmgr::{TxCandidate, TxManager};
use temporis_pipeline::withdraw::{
    Withdrawal, build_proof, finalize_call, prove_call, status, withdrawals_in_receipt,
};

#[derive(Debug, Parser)]
#[command(name = "temporis-withdraw", about = "Prove, finalize and inspect L2 → L1 withdrawals", version)]
struct Cli {
    /// JSON-RPC URL of the L1.
    #[arg(long = "l1.rpc-url", env = "TEMPORIS_L1_RPC_URL", default_value = "http://127.0.0.1:8545")]
    l1_rpc_url: String,
    /// JSON-RPC URL of the L2 (a node that answers `eth_getProof` for past blocks).
    #[arg(long = "l2.rpc-url", env = "TEMPORIS_L2_RPC_URL", default_value = "http://127.0.0.1:9545")]
    l2_rpc_url: String,
    /// The devnet's `addresses.json`, for the portal and oracle addresses.
    #[arg(long = "addresses", env = "TEMPORIS_ADDRESSES")]
    addresses: Option<PathBuf>,
    /// The portal (overrides `--addresses`).
    #[arg(long = "portal", env = "TEMPORIS_PORTAL")]
    portal: Option<Address>,
    /// The output oracle (overrides `--addresses`).
    #[arg(long = "output-oracle", env = "TEMPORIS_OUTPUT_ORACLE")]
    output_oracle: Option<Address>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct Target {
    /// Hash of the L2 transaction that initiated the withdrawal.
    #[arg(long = "tx")]
    tx: B256,
    /// Which withdrawal of that transaction (in log order).
    #[arg(long = "index", default_value_t = 0)]
    index: usize,
}

#[derive(Debug, clap::Args)]
struct Sender {
    /// Private key (hex) of the L1 account that sends (and pays for) the transaction.
    #[arg(long = "private-key", env = "TEMPORIS_WITHDRAW_PRIVATE_KEY", hide_env_values = true)]
    private_key: String,
    #[command(flatten)]
    txmgr: TxMgrArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Proves the withdrawal against the first output that covers its L2 block.
    Prove {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        sender: Sender,
    },
    /// Finalizes a proven withdrawal once the finalization period has passed.
    Finalize {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        sender: Sender,
    },
    /// Prints where the withdrawal stands.
    Status {
        #[command(flatten)]
        target: Target,
    },
}

fn addresses(cli: &Cli) -> Result<(Address, Address)> {
    let manifest: Option<serde_json::Value> = match &cli.addresses {
        Some(path) => Some(
            serde_json::from_str(
                &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("parsing {}", path.display()))?,
        ),
        None => None,
    };
    let pick = |flag: Option<Address>, key: &str| -> Result<Address> {
        if let Some(a) = flag {
            return Ok(a);
        }
        let m = manifest.as_ref().with_context(|| format!("--{key} or --addresses is required"))?;
        let s = m["contracts"][key]
            .as_str()
            .with_context(|| format!("no contracts.{key} in the addresses file"))?;
        Ok(Address::from_str(s)?)
    };
    Ok((pick(cli.portal, "portal")?, pick(cli.output_oracle, "outputOracle")?))
}

async fn find(l2: &alloy::providers::DynProvider, t: &Target) -> Result<Withdrawal> {
    use alloy::providers::Provider;
    let receipt =
        l2.get_transaction_receipt(t.tx).await?.with_context(|| format!("no L2 receipt for {}", t.tx))?;
    let mut all = withdrawals_in_receipt(&receipt)?;
    if t.index >= all.len() {
        bail!("L2 transaction {} has {} withdrawals; --index {} is out of range", t.tx, all.len(), t.index);
    }
    Ok(all.swap_remove(t.index))
}

async fn send(l1: &alloy::providers::DynProvider, s: &Sender, to: Address, data: Vec<u8>) -> Result<B256> {
    let signer = s.private_key.parse().context("--private-key: not a private key")?;
    let m = TxManager::new(l1.clone(), signer, s.txmgr.config()).await?;
    let sent = m.send(TxCandidate { to, data: Bytes::from(data), ..TxCandidate::default() }).await?;
    Ok(sent.receipt.transaction_hash)
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let (portal, oracle) = addresses(&cli)?;
    let l1 = http_provider(&cli.l1_rpc_url)?;
    let l2 = http_provider(&cli.l2_rpc_url)?;
    match &cli.command {
        Command::Prove { target, sender } => {
            let w = find(&l2, target).await?;
            let proof = build_proof(&l1, &l2, oracle, &w).await?;
            let tx = send(&l1, sender, portal, prove_call(&w, &proof).abi_encode()).await?;
            println!(
                "proven {} against output {} (L2 block {}) in L1 transaction {tx}",
                w.hash, proof.output_index, proof.output_block
            );
        }
        Command::Finalize { target, sender } => {
            let w = find(&l2, target).await?;
            let st = status(&l1, portal, oracle, &w).await?;
            if st.finalized {
                bail!("withdrawal {} is already finalized", w.hash);
            }
            if st.proven_at.is_none() {
                bail!("withdrawal {} is not proven yet: run `temporis-withdraw prove` first", w.hash);
            }
            let tx = send(&l1, sender, portal, finalize_call(&w).abi_encode()).await?;
            println!("finalized {} in L1 transaction {tx}", w.hash);
        }
        Command::Status { target } => {
            let w = find(&l2, target).await?;
            let st = status(&l1, portal, oracle, &w).await?;
            println!("withdrawal:        {}", w.hash);
            println!("l2 block:          {}", w.l2_block);
            println!("from -> to:        {} -> {}", w.tx.sender, w.tx.target);
            println!("value (wei):       {}", w.tx.value);
            match st.covering_output {
                Some(i) => println!("covering output:   {i}"),
                None => println!("covering output:   none yet"),
            }
            match (st.proven_at, st.finalizable_after) {
                (Some(t), Some(after)) => println!("proven at:         {t} (finalizable after {after})"),
                _ => println!("proven at:         not proven"),
            }
            println!("finalized:         {}", st.finalized);
        }
    }
    Ok(())
}
