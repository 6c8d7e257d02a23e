//! `temporis-aivm`: tools for AIVM models and adapters.
//!
//! - `verify`: check a model (and an adapter) in full, test vectors included;
//! - `infer`: run the integer engine on one input;
//! - `pack` / `unpack`: content-addressed chunks and manifest for publication.
//!
//! Results go to stdout as JSON, diagnostics to stderr.

use clap::{Args, Parser, Subcommand};
use eyre::{WrapErr, bail};
use std::path::PathBuf;
use temporis_aivm::{
    Adapter, Model, engine,
    model::verify,
    pack::{self, DEFAULT_CHUNK_SIZE},
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
    };
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
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
}
