//! `temporis-aivm`: tools for AIVM models and adapters.
//!
//! - `verify`: check a model (and an adapter) in full, test vectors included;
//! - `infer`: run the integer engine on one input;
//! - `pack` / `unpack`: content-addressed chunks and manifest for publication;
//! - `publish`: sign the transactions that publish a pack through the `ModelRegistry`
//!   predeploy, write them and/or send them to a JSON-RPC endpoint;
//! - `train` / `finetune`: train the digits MLP and a LoRA adapter for shifted images (float,
//!   off the consensus path), quantize them, and report accuracies.
//!
//! Results go to stdout as JSON, diagnostics to stderr.

use clap::{Args, Parser, Subcommand};
use eyre::{WrapErr, bail};
use std::path::PathBuf;
use temporis_aivm::{
    Adapter, Model, engine,
    model::verify,
    pack::{self, DEFAULT_CHUNK_SIZE},
    publish,
    train::{
        self, LoraOptions, TrainOptions,
        digits::{Digits, Shift},
    },
};

#[derive(Debug, Parser)]
#[command(name = "temporis-aivm", version, about = "Integer-exact AIVM models: verify, infer, pack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a model directory (and an adapter against it): format, shapes, test vectors.
    Verify(ModelArgs),
    /// Run one inference and print output, logits, argmax and the MAC count.
    Infer(InferArgs),
    /// Cut a model or adapter directory into content-addressed chunks with a manifest.
    Pack(PackArgs),
    /// Reassemble a pack directory into the original files, checking every hash.
    Unpack(UnpackArgs),
    /// Sign the registry transactions that publish a pack; write and/or send them.
    Publish(PublishArgs),
    /// Train the digits MLP (float), quantize it to int8, write the model directory.
    Train(TrainArgs),
    /// Train a LoRA adapter of a digits model for shifted images, quantize it, write it.
    Finetune(FinetuneArgs),
}

/// The data set and its split.
#[derive(Debug, Args)]
struct DataArgs {
    /// scikit-learn's `digits.csv.gz`.
    #[arg(long, value_name = "FILE", default_value = "aivm/models/data/digits.csv.gz")]
    data: PathBuf,
    /// Fraction held out for testing.
    #[arg(long = "test-fraction", default_value_t = 0.2)]
    test_fraction: f64,
    /// Seed of the train/test split (the same for `train` and `finetune`).
    #[arg(long = "split-seed", default_value_t = 7)]
    split_seed: u64,
    /// Test vectors to write into the config.
    #[arg(long, default_value_t = 4)]
    vectors: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Output model directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Hidden width.
    #[arg(long, default_value_t = TrainOptions::default().hidden)]
    hidden: usize,
    /// Epochs.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    /// Seed of initialisation and shuffling.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
}

#[derive(Debug, Args)]
struct FinetuneArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Base model directory (made by `train`).
    #[arg(long, value_name = "DIR")]
    model: PathBuf,
    /// Output adapter directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The change of input distribution to adapt to.
    #[arg(long, value_enum, default_value_t = Shift::Translate)]
    shift: Shift,
    /// LoRA rank.
    #[arg(long, default_value_t = LoraOptions::default().rank)]
    rank: usize,
    /// LoRA alpha.
    #[arg(long, default_value_t = LoraOptions::default().alpha)]
    alpha: f64,
    /// Epochs.
    #[arg(long, default_value_t = LoraOptions::default().epochs)]
    epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = LoraOptions::default().seed)]
    seed: u64,
}

/// Which model (and adapter) to use.
#[derive(Debug, Args)]
struct ModelArgs {
    /// Model directory (`config.json`, `model.safetensors`).
    #[arg(long = "model", value_name = "DIR")]
    model: PathBuf,
    /// LoRA adapter directory (`adapter_config.json`, `adapter_model.safetensors`).
    #[arg(long = "adapter", value_name = "DIR")]
    adapter: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InferArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The int8 input, comma-separated (`--input=-3,0,127`).
    #[arg(
        long,
        value_name = "I8,…",
        value_delimiter = ',',
        allow_hyphen_values = true,
        required_unless_present = "input_file"
    )]
    input: Vec<i8>,
    /// A file holding the input as a JSON array of int8 values.
    #[arg(long = "input-file", value_name = "FILE", conflicts_with = "input")]
    input_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct PackArgs {
    /// Model or adapter directory.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Output pack directory (`manifest.json`, `chunks/`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Largest chunk, in bytes.
    #[arg(long = "chunk-size", default_value_t = DEFAULT_CHUNK_SIZE)]
    chunk_size: usize,
    /// For an adapter: the base model directory, to verify the adapter in full before packing.
    #[arg(long, value_name = "DIR")]
    base: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct UnpackArgs {
    /// Pack directory (`manifest.json`, `chunks/`).
    #[arg(long, value_name = "DIR")]
    pack: PathBuf,
    /// Where to write the reassembled files.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// Pack directory (made by `pack`).
    #[arg(long, value_name = "DIR")]
    pack: PathBuf,
    /// JSON-RPC endpoint to send the transactions to (`eth_sendRawTransaction`); nonce, chain id
    /// and fees default to its answers. Without it the transactions are only signed.
    #[arg(long = "rpc-url", value_name = "URL")]
    rpc_url: Option<String>,
    /// The sender's private key (hex).
    #[arg(long = "private-key", env = "TEMPORIS_PRIVATE_KEY", hide_env_values = true)]
    private_key: String,
    /// Chain id (default: the endpoint's, else the devnet's).
    #[arg(long = "chain-id")]
    chain_id: Option<u64>,
    /// Nonce of the first transaction (default: the endpoint's pending count, else 0).
    #[arg(long)]
    nonce: Option<u64>,
    /// `max_fee_per_gas` in wei (default: twice the endpoint's gas price, else 2 gwei).
    #[arg(long = "max-fee")]
    max_fee: Option<u128>,
    /// `max_priority_fee_per_gas` in wei.
    #[arg(long = "priority-fee", default_value_t = 1_000_000)]
    priority_fee: u128,
    /// Address of the `ModelRegistry`.
    #[arg(long, default_value_t = temporis_aivm::precompiles::MODEL_REGISTRY_ADDRESS)]
    registry: alloy_primitives::Address,
    /// Extra gas for the last upload, which runs the verification.
    #[arg(long = "verify-gas", default_value_t = publish::DEFAULT_VERIFY_GAS)]
    verify_gas: u64,
    /// Write the signed raw transactions here, as a JSON array of 0x-hex strings.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// The devnet's L2 chain id, the default where no endpoint tells.
const DEVNET_CHAIN_ID: u64 = 73_571;

fn publish_cmd(a: &PublishArgs) -> eyre::Result<serde_json::Value> {
    use alloy::providers::{Provider, ProviderBuilder};
    let key: alloy::signers::local::PrivateKeySigner =
        a.private_key.trim().parse().wrap_err("--private-key is not a hex secp256k1 key")?;
    let plan = publish::plan(&a.pack).wrap_err_with(|| format!("reading pack {}", a.pack.display()))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let provider = match &a.rpc_url {
        Some(url) => {
            Some(ProviderBuilder::new().connect_http(url.parse().wrap_err("--rpc-url is not a URL")?))
        }
        None => None,
    };
    let (chain_id, nonce, max_fee) = match &provider {
        Some(p) => rt.block_on(async {
            let chain_id = match a.chain_id {
                Some(c) => c,
                None => p.get_chain_id().await?,
            };
            let nonce = match a.nonce {
                Some(n) => n,
                None => p.get_transaction_count(key.address()).pending().await?,
            };
            let max_fee = match a.max_fee {
                Some(f) => f,
                None => 2 * p.get_gas_price().await?,
            };
            eyre::Ok((chain_id, nonce, max_fee))
        })?,
        None => {
            (a.chain_id.unwrap_or(DEVNET_CHAIN_ID), a.nonce.unwrap_or(0), a.max_fee.unwrap_or(2_000_000_000))
        }
    };
    let params = publish::TxParams {
        chain_id,
        nonce,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: a.priority_fee.min(max_fee),
        registry: a.registry,
        verify_gas: a.verify_gas,
    };
    let txs = publish::sign(&plan, &key, &params)?;
    let raws: Vec<_> = txs.iter().map(publish::raw).collect();
    if let Some(out) = &a.out {
        std::fs::write(out, serde_json::to_vec_pretty(&raws)?)
            .wrap_err_with(|| format!("writing {}", out.display()))?;
    }
    if let Some(p) = &provider {
        rt.block_on(async {
            for (i, raw) in raws.iter().enumerate() {
                // Not waiting for inclusion: the node orders the sender's nonces itself.
                let _pending =
                    p.send_raw_transaction(raw).await.wrap_err_with(|| format!("sending transaction {i}"))?;
                tracing::info!(target: "aivm::publish", i, hash = %txs[i].tx_hash(), "sent");
            }
            eyre::Ok(())
        })?;
    }
    Ok(serde_json::json!({
        "kind": plan.kind,
        "id": plan.content_id,
        "parent": plan.parent,
        "publication_id": plan.publication_id,
        "chain_id": chain_id,
        "first_nonce": nonce,
        "transactions": txs.iter().map(|t| *t.tx_hash()).collect::<Vec<_>>(),
        "sent": provider.is_some(),
        "out": a.out,
    }))
}

fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let json = match cli.command {
        Command::Verify(a) => {
            let report = verify::verify_dirs(&a.model, a.adapter.as_deref())
                .wrap_err_with(|| format!("verification of {} failed", a.model.display()))?;
            serde_json::to_value(report)?
        }
        Command::Infer(a) => {
            let input = match &a.input_file {
                Some(f) => serde_json::from_slice::<Vec<i8>>(
                    &std::fs::read(f).wrap_err_with(|| format!("reading {}", f.display()))?,
                )
                .wrap_err_with(|| format!("{}: expected a JSON array of int8 values", f.display()))?,
                None => a.input.clone(),
            };
            if input.is_empty() {
                bail!("the input is empty");
            }
            let model = Model::load(&a.model.model)?;
            let adapter = a.model.adapter.as_deref().map(|d| Adapter::load(d, &model)).transpose()?;
            let out = engine::infer(&model, adapter.as_ref(), &input)?;
            serde_json::json!({
                "model_id": model.id(),
                "adapter_id": adapter.as_ref().map(Adapter::id),
                "output": out.output,
                "logits": out.logits,
                "argmax": out.argmax,
                "macs": engine::macs(&model, adapter.as_ref()),
            })
        }
        Command::Pack(a) => {
            let m = pack::pack(&a.dir, &a.out, a.chunk_size, a.base.as_deref())?;
            serde_json::json!({
                "kind": m.kind,
                "id": m.id,
                "chunks": m.chunk_hashes().len(),
                "bytes": m.files.iter().map(|f| f.size).sum::<u64>(),
                "manifest": a.out.join(pack::MANIFEST_FILE),
            })
        }
        Command::Unpack(a) => {
            let m = pack::unpack(&a.pack, &a.out)?;
            serde_json::json!({ "kind": m.kind, "id": m.id, "out": a.out })
        }
        Command::Publish(a) => publish_cmd(&a)?,
        Command::Train(a) => {
            let (train_set, test_set) = load(&a.data)?;
            let opts = TrainOptions {
                hidden: a.hidden,
                epochs: a.epochs,
                seed: a.seed,
                progress: !a.data.quiet,
                ..TrainOptions::default()
            };
            let mlp = train::train_mlp(&train_set, &opts)?;
            let (files, _) = train::quantize_mlp(&mlp, &train_set, "digits-mlp", a.data.vectors)?;
            files.write(&a.out)?;
            let model = Model::from_files(&files)?;
            serde_json::json!({
                "model_id": model.id(),
                "train_samples": train_set.len(),
                "test_samples": test_set.len(),
                "float_accuracy": { "train": mlp.accuracy(&train_set), "test": mlp.accuracy(&test_set) },
                "int8_accuracy": {
                    "train": train::int_accuracy(&model, None, &train_set)?,
                    "test": train::int_accuracy(&model, None, &test_set)?,
                },
                "out": a.out,
            })
        }
        Command::Finetune(a) => {
            let (train_set, test_set) = load(&a.data)?;
            let model = Model::load(&a.model)?;
            let (shifted_train, shifted_test) = (train_set.shifted(a.shift), test_set.shifted(a.shift));
            let opts = LoraOptions {
                rank: a.rank,
                alpha: a.alpha,
                epochs: a.epochs,
                seed: a.seed,
                progress: !a.data.quiet,
                ..LoraOptions::default()
            };
            let files = train::finetune_lora(&model, &shifted_train, &shifted_test, &opts, a.data.vectors)?;
            files.write(&a.out)?;
            let adapter = Adapter::from_files(&files, &model)?;
            serde_json::json!({
                "adapter_id": adapter.id(),
                "base_model_id": model.id(),
                "shift": format!("{:?}", a.shift).to_lowercase(),
                "held_out_accuracy": {
                    "base_on_original": train::int_accuracy(&model, None, &test_set)?,
                    "base_on_shifted": train::int_accuracy(&model, None, &shifted_test)?,
                    "adapted_on_shifted": train::int_accuracy(&model, Some(&adapter), &shifted_test)?,
                    "adapted_on_original": train::int_accuracy(&model, Some(&adapter), &test_set)?,
                },
                "train_accuracy_adapted_on_shifted": train::int_accuracy(&model, Some(&adapter), &shifted_train)?,
                "out": a.out,
            })
        }
    };
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

fn load(a: &DataArgs) -> eyre::Result<(Digits, Digits)> {
    let all = Digits::load_csv_gz(&a.data)?;
    if !(0.0..1.0).contains(&a.test_fraction) {
        bail!("--test-fraction must be in [0, 1)");
    }
    Ok(all.split(a.test_fraction, a.split_seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("temporis-aivm").chain(args.iter().copied()))
    }

    #[test]
    fn parses_verify() {
        let Command::Verify(a) = parse(&["verify", "--model", "m", "--adapter", "a"]).unwrap().command else {
            panic!()
        };
        assert_eq!(a.model, PathBuf::from("m"));
        assert_eq!(a.adapter, Some(PathBuf::from("a")));
        assert!(parse(&["verify"]).is_err());
    }

    #[test]
    fn parses_infer() {
        let Command::Infer(a) = parse(&["infer", "--model", "m", "--input=-3,0,127"]).unwrap().command else {
            panic!()
        };
        assert_eq!(a.input, vec![-3, 0, 127]);
        assert!(parse(&["infer", "--model", "m", "--input", "128"]).is_err());
        assert!(parse(&["infer", "--model", "m"]).is_err());
        assert!(parse(&["infer", "--model", "m", "--input-file", "x.json"]).is_ok());
    }

    #[test]
    fn parses_pack_and_unpack() {
        let Command::Pack(a) = parse(&["pack", "--dir", "d", "--out", "o"]).unwrap().command else {
            panic!()
        };
        assert_eq!(a.chunk_size, DEFAULT_CHUNK_SIZE);
        let Command::Pack(a) =
            parse(&["pack", "--dir", "d", "--out", "o", "--chunk-size", "100"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!(a.chunk_size, 100);
        assert!(parse(&["unpack", "--pack", "p", "--out", "o"]).is_ok());
    }

    #[test]
    fn parses_publish() {
        let Command::Publish(a) =
            parse(&["publish", "--pack", "p", "--private-key", "0x01", "--out", "txs.json"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!(a.registry, temporis_aivm::precompiles::MODEL_REGISTRY_ADDRESS);
        assert_eq!(
            (a.verify_gas, a.priority_fee, a.rpc_url, a.nonce),
            (publish::DEFAULT_VERIFY_GAS, 1_000_000, None, None)
        );
        assert!(parse(&["publish", "--pack", "p", "--private-key", "0x01", "--registry", "nope"]).is_err());
    }

    #[test]
    fn parses_train_and_finetune() {
        let Command::Train(a) = parse(&["train", "--out", "m", "--epochs", "3", "--quiet"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!((a.epochs, a.hidden, a.data.quiet), (3, 32, true));
        assert_eq!(a.data.data, PathBuf::from("aivm/models/data/digits.csv.gz"));
        let Command::Finetune(a) =
            parse(&["finetune", "--model", "m", "--out", "a", "--shift", "invert"]).unwrap().command
        else {
            panic!()
        };
        assert_eq!(a.shift, Shift::Invert);
        assert_eq!(a.rank, 4);
        assert!(parse(&["finetune", "--model", "m", "--out", "a", "--shift", "rotate"]).is_err());
    }
}
