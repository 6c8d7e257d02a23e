//! Command-line settings of the DA backends, shared by `temporis-da` and every binary that
//! puts or gets batches (batcher, follower): one `--backend` choice and each backend's own
//! dotted flags (`--ethereum.rpc-url`, `--near.account-id`, …), each also readable from a
//! `TEMPORIS_DA_*` environment variable. Flags win over the environment; defaults come from
//! the backends' constants.

use crate::blob::{BlobSource, MAX_BLOB_DATA_SIZE};
use crate::calldata::{DEFAULT_INBOX, MAX_CALLDATA_BLOB};
use crate::filecoin::FilecoinConfig;
use crate::local::DEFAULT_MAX_BLOB_SIZE;
use crate::near::NearConfig;
use crate::{
    AltDaClient, AnyBackend, BlobBackend, CalldataBackend, DaError, FilecoinBackend, LocalBackend,
    NearBackend, ReplicatedBackend, Result,
};
use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use std::path::PathBuf;

/// The backends `--backend` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Content-addressed files in `--datadir` (the embedded default).
    Local,
    /// Calldata of transactions to an inbox on Ethereum (`--ethereum.*`).
    Ethereum,
    /// EIP-4844 blobs of transactions to an inbox on Ethereum (`--ethereum.*`, `--blob.*`).
    EthereumBlob,
    /// Calldata of transactions to an inbox on Polygon PoS (`--polygon.*`).
    Polygon,
    /// The NEAR DA blob store (`--near.*`).
    Near,
    /// Filecoin pieces through a Curio PDP piece API or a kubo RPC (`--filecoin.*`).
    Filecoin,
    /// Another Alt-DA server (`--alt-da.url`).
    AltDa,
    /// Several of the others at once (`--replicated.*`).
    Replicated,
}

impl BackendKind {
    /// The name used on the command line and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Ethereum => "ethereum",
            Self::EthereumBlob => "ethereum-blob",
            Self::Polygon => "polygon",
            Self::Near => "near",
            Self::Filecoin => "filecoin",
            Self::AltDa => "alt-da",
            Self::Replicated => "replicated",
        }
    }
}

/// Settings of an EVM chain that carries blobs as calldata.
#[derive(Debug, Clone, clap::Args)]
pub struct EthereumArgs {
    /// JSON-RPC URL of an Ethereum node.
    #[arg(
        id = "ethereum.rpc-url",
        long = "ethereum.rpc-url",
        env = "TEMPORIS_DA_ETHEREUM_RPC_URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// Private key (hex) that signs and pays for the inbox transactions.
    #[arg(
        id = "ethereum.private-key",
        long = "ethereum.private-key",
        env = "TEMPORIS_DA_ETHEREUM_PRIVATE_KEY",
        hide_env_values = true
    )]
    pub private_key: Option<String>,
    /// Inbox address the transactions are sent to.
    #[arg(id = "ethereum.inbox", long = "ethereum.inbox", env = "TEMPORIS_DA_ETHEREUM_INBOX", default_value_t = DEFAULT_INBOX)]
    pub inbox: Address,
}

/// Where the blob backend reads blobs back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BlobSourceKind {
    /// A consensus node's beacon API (`--blob.beacon-url`), asked by slot: a real L1.
    Beacon,
    /// anvil's beacon endpoint on its RPC port, asked by block number.
    AnvilBeacon,
    /// anvil's `anvil_getBlobsByTransactionHash`.
    AnvilRpc,
}

/// Settings of the EIP-4844 blob backend (the L1 node, key and inbox are `--ethereum.*`).
#[derive(Debug, Clone, clap::Args)]
pub struct BlobArgs {
    /// Where blobs are read back from.
    #[arg(id = "blob.source", long = "blob.source", env = "TEMPORIS_DA_BLOB_SOURCE", value_enum, default_value_t = BlobSourceKind::Beacon)]
    pub source: BlobSourceKind,
    /// Beacon API URL of the L1's consensus node (for `--blob.source beacon`).
    #[arg(id = "blob.beacon-url", long = "blob.beacon-url", env = "TEMPORIS_DA_BLOB_BEACON_URL")]
    pub beacon_url: Option<String>,
    /// Sidecar form: `auto` (ask the node), `4844` (Cancun/Prague) or `7594` (Osaka and later).
    #[arg(
        id = "blob.sidecar",
        long = "blob.sidecar",
        env = "TEMPORIS_DA_BLOB_SIDECAR",
        default_value = "auto"
    )]
    pub sidecar: crate::blob::SidecarFormat,
    /// Most blobs in one transaction (1..=6).
    #[arg(id = "blob.max-blobs", long = "blob.max-blobs", env = "TEMPORIS_DA_BLOB_MAX_BLOBS", default_value_t = crate::blob::MAX_BLOBS_PER_TX)]
    pub max_blobs: usize,
}

/// Settings of Polygon PoS calldata.
#[derive(Debug, Clone, clap::Args)]
pub struct PolygonArgs {
    /// JSON-RPC URL of a Polygon PoS node (chain 137, or Amoy 80002).
    #[arg(id = "polygon.rpc-url", long = "polygon.rpc-url", env = "TEMPORIS_DA_POLYGON_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Private key (hex) that signs and pays for the inbox transactions.
    #[arg(
        id = "polygon.private-key",
        long = "polygon.private-key",
        env = "TEMPORIS_DA_POLYGON_PRIVATE_KEY",
        hide_env_values = true
    )]
    pub private_key: Option<String>,
    /// Inbox address the transactions are sent to.
    #[arg(id = "polygon.inbox", long = "polygon.inbox", env = "TEMPORIS_DA_POLYGON_INBOX", default_value_t = DEFAULT_INBOX)]
    pub inbox: Address,
}

/// Settings of NEAR DA.
#[derive(Debug, Clone, clap::Args)]
pub struct NearArgs {
    /// JSON-RPC URL of a NEAR node.
    #[arg(id = "near.rpc-url", long = "near.rpc-url", env = "TEMPORIS_DA_NEAR_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Account that signs the submissions (readers name the writer's account too: NEAR routes
    /// transaction lookups by sender).
    #[arg(id = "near.account-id", long = "near.account-id", env = "TEMPORIS_DA_NEAR_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// The account's key, `ed25519:<base58>` (full access, or a function-call key for `submit`).
    #[arg(
        id = "near.secret-key",
        long = "near.secret-key",
        env = "TEMPORIS_DA_NEAR_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Account of the blob-store contract.
    #[arg(id = "near.contract-id", long = "near.contract-id", env = "TEMPORIS_DA_NEAR_CONTRACT_ID")]
    pub contract_id: Option<String>,
    /// Namespace of the submissions, `<version>:<id>` (none by default).
    #[arg(id = "near.namespace", long = "near.namespace", env = "TEMPORIS_DA_NEAR_NAMESPACE")]
    pub namespace: Option<crate::near::Namespace>,
}

/// Settings of the Filecoin backend.
#[derive(Debug, Clone, clap::Args)]
pub struct FilecoinArgs {
    /// API of `--filecoin.url`: `pdp` (a Curio PDP piece server) or `kubo` (a kubo RPC).
    #[arg(
        id = "filecoin.transport",
        long = "filecoin.transport",
        env = "TEMPORIS_DA_FILECOIN_TRANSPORT",
        default_value = "pdp"
    )]
    pub transport: crate::filecoin::Transport,
    /// Base URL of the piece server or kubo RPC.
    #[arg(id = "filecoin.url", long = "filecoin.url", env = "TEMPORIS_DA_FILECOIN_URL")]
    pub url: Option<String>,
    /// Upload flow of the PDP transport: `put` (`PUT /piece/{cid}`) or `pdp-v0` (Curio's
    /// `POST /pdp/piece` then upload).
    #[arg(
        id = "filecoin.pdp-upload",
        long = "filecoin.pdp-upload",
        env = "TEMPORIS_DA_FILECOIN_PDP_UPLOAD",
        default_value = "put"
    )]
    pub pdp_upload: crate::filecoin::PdpUpload,
    /// Bearer token for the piece server (Curio PDP wants a JWT).
    #[arg(
        id = "filecoin.auth-token",
        long = "filecoin.auth-token",
        env = "TEMPORIS_DA_FILECOIN_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub auth_token: Option<String>,
    /// Timeout of one request, in seconds.
    #[arg(id = "filecoin.timeout", long = "filecoin.timeout", env = "TEMPORIS_DA_FILECOIN_TIMEOUT", default_value_t = crate::filecoin::DEFAULT_TIMEOUT.as_secs())]
    pub timeout_secs: u64,
}

/// Settings of remote Alt-DA servers.
#[derive(Debug, Clone, clap::Args)]
pub struct AltDaArgs {
    /// Base URL of an Alt-DA server; repeat (or separate with commas) for several replicas.
    #[arg(id = "alt-da.url", long = "alt-da.url", env = "TEMPORIS_DA_ALT_DA_URL", value_delimiter = ',')]
    pub urls: Vec<String>,
    /// Bearer token for writes to those servers.
    #[arg(
        id = "alt-da.auth-token",
        long = "alt-da.auth-token",
        env = "TEMPORIS_DA_ALT_DA_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub auth_token: Option<String>,
}

/// Settings of the replicated backend.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplicatedArgs {
    /// Backends to replicate over, in read order, each configured by its own flags
    /// (`alt-da` stands for every `--alt-da.url`).
    #[arg(
        id = "replicated.backends",
        long = "replicated.backends",
        env = "TEMPORIS_DA_REPLICATED_BACKENDS",
        value_delimiter = ','
    )]
    pub backends: Vec<BackendKind>,
    /// Replicas that must store a blob for a write to succeed (default: all).
    #[arg(
        id = "replicated.min-writes",
        long = "replicated.min-writes",
        env = "TEMPORIS_DA_REPLICATED_MIN_WRITES"
    )]
    pub min_writes: Option<usize>,
}

/// All DA backend settings.
#[derive(Debug, Clone, clap::Args)]
pub struct DaArgs {
    /// Backend behind the API.
    #[arg(long = "backend", env = "TEMPORIS_DA_BACKEND", value_enum, default_value_t = BackendKind::Local)]
    pub backend: BackendKind,
    /// Data directory of the local backend.
    #[arg(long = "datadir", env = "TEMPORIS_DA_DATADIR", default_value = ".devnet/da")]
    pub datadir: PathBuf,
    /// Largest blob accepted, in bytes.
    #[arg(long = "max-blob-size", env = "TEMPORIS_DA_MAX_BLOB_SIZE", default_value_t = DEFAULT_MAX_BLOB_SIZE)]
    pub max_blob_size: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub ethereum: EthereumArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub blob: BlobArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub polygon: PolygonArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub near: NearArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub filecoin: FilecoinArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub alt_da: AltDaArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub replicated: ReplicatedArgs,
}

fn config_err(msg: impl Into<String>) -> DaError {
    DaError::Config(msg.into())
}

fn signer(flag: &str, key: Option<&str>) -> Result<PrivateKeySigner> {
    let key = key.ok_or_else(|| config_err(format!("{flag} is required for this backend")))?;
    key.parse().map_err(|e| config_err(format!("{flag}: not a private key: {e}")))
}

impl DaArgs {
    /// The largest blob the chosen backend accepts: the calldata backends are bounded by what a
    /// transaction may carry, whatever `--max-blob-size` says.
    pub fn effective_max_blob_size(&self) -> usize {
        match self.backend {
            BackendKind::Ethereum | BackendKind::Polygon => self.max_blob_size.min(MAX_CALLDATA_BLOB),
            BackendKind::EthereumBlob => self
                .max_blob_size
                .min(self.blob.max_blobs.clamp(1, crate::blob::MAX_BLOBS_PER_TX) * MAX_BLOB_DATA_SIZE),
            _ => self.max_blob_size,
        }
    }

    /// Builds the chosen backend. Chain backends check their node's chain id first, so a wrong
    /// URL is an error at start, not at the first batch.
    pub async fn build(&self) -> Result<AnyBackend> {
        if self.backend == BackendKind::Replicated {
            return self.build_replicated().await;
        }
        let mut parts = self.build_kind(self.backend).await?;
        match parts.len() {
            1 => Ok(parts.remove(0).1),
            0 => Err(config_err(format!("backend {} needs configuring", self.backend.name()))),
            // Several Alt-DA URLs without `--backend replicated`: replicate over them.
            _ => Ok(AnyBackend::new(ReplicatedBackend::new(parts)?)),
        }
    }

    async fn build_replicated(&self) -> Result<AnyBackend> {
        let r = &self.replicated;
        if r.backends.is_empty() {
            return Err(config_err("--replicated.backends names no backend"));
        }
        let mut replicas = Vec::new();
        for kind in &r.backends {
            if *kind == BackendKind::Replicated {
                return Err(config_err("--replicated.backends cannot name `replicated` itself"));
            }
            if replicas.iter().any(|(n, _): &(String, AnyBackend)| n == kind.name()) {
                return Err(config_err(format!("--replicated.backends names {} twice", kind.name())));
            }
            replicas.extend(self.build_kind(*kind).await?);
        }
        let rep = ReplicatedBackend::new(replicas)?;
        let rep = match r.min_writes {
            Some(n) => rep.with_min_writes(n),
            None => rep,
        };
        Ok(AnyBackend::new(rep))
    }

    /// The replicas one kind stands for, with their names (several only for `alt-da`).
    async fn build_kind(&self, kind: BackendKind) -> Result<Vec<(String, AnyBackend)>> {
        let one = |b: AnyBackend| Ok(vec![(kind.name().to_string(), b)]);
        match kind {
            BackendKind::Local => {
                one(AnyBackend::new(LocalBackend::open(&self.datadir, self.max_blob_size)?))
            }
            BackendKind::Ethereum => {
                let e = &self.ethereum;
                let key = signer("--ethereum.private-key", e.private_key.as_deref())?;
                let b = CalldataBackend::ethereum(&e.rpc_url, key, e.inbox)?;
                // Any chain id is fine for Ethereum (mainnet, a testnet, a devnet): the call
                // only proves the node answers.
                b.chain_id().await?;
                one(AnyBackend::new(b))
            }
            BackendKind::EthereumBlob => {
                let e = &self.ethereum;
                let key = signer("--ethereum.private-key", e.private_key.as_deref())?;
                let source = match self.blob.source {
                    BlobSourceKind::Beacon => {
                        let url = self.blob.beacon_url.as_deref().ok_or_else(|| {
                            config_err("--blob.beacon-url is required with --blob.source beacon")
                        })?;
                        BlobSource::beacon(url)?
                    }
                    BlobSourceKind::AnvilBeacon => BlobSource::anvil_beacon(&e.rpc_url)?,
                    BlobSourceKind::AnvilRpc => BlobSource::AnvilRpc,
                };
                let b = BlobBackend::new(&e.rpc_url, key, e.inbox, source)?
                    .with_sidecar_format(self.blob.sidecar)
                    .with_max_blobs(self.blob.max_blobs)
                    .map_err(|e| config_err(format!("--blob.max-blobs: {e}")))?;
                // Load the KZG trusted setup now (seconds), not on the first batch.
                crate::blob::preload_trusted_setup().await?;
                one(AnyBackend::new(b))
            }
            BackendKind::Polygon => {
                let p = &self.polygon;
                let url = p.rpc_url.as_deref().ok_or_else(|| config_err("--polygon.rpc-url is required"))?;
                let key = signer("--polygon.private-key", p.private_key.as_deref())?;
                let b = CalldataBackend::polygon(url, key, p.inbox)?;
                b.check_chain(&[137, 80002]).await?;
                one(AnyBackend::new(b))
            }
            BackendKind::Near => {
                let n = &self.near;
                let need = |v: &Option<String>, flag: &str| {
                    v.clone().ok_or_else(|| config_err(format!("{flag} is required for the near backend")))
                };
                let mut config = NearConfig::parse(
                    &need(&n.rpc_url, "--near.rpc-url")?,
                    &need(&n.account_id, "--near.account-id")?,
                    &need(&n.secret_key, "--near.secret-key")?,
                    &need(&n.contract_id, "--near.contract-id")?,
                )?;
                if let Some(ns) = n.namespace {
                    config = config.with_namespace(ns);
                }
                config.max_blob_size = self.max_blob_size;
                one(AnyBackend::new(NearBackend::new(config)?))
            }
            BackendKind::Filecoin => {
                let f = &self.filecoin;
                let url = f.url.as_deref().ok_or_else(|| config_err("--filecoin.url is required"))?;
                let mut config = FilecoinConfig::new(f.transport, url);
                config.pdp_upload = f.pdp_upload;
                config.auth_token = f.auth_token.clone();
                config.timeout = std::time::Duration::from_secs(f.timeout_secs);
                config.max_blob_size = self.max_blob_size;
                one(AnyBackend::new(FilecoinBackend::new(config)?))
            }
            BackendKind::AltDa => {
                if self.alt_da.urls.is_empty() {
                    return Err(config_err("--alt-da.url is required"));
                }
                self.alt_da
                    .urls
                    .iter()
                    .map(|url| {
                        let client = AltDaClient::new(url, self.alt_da.auth_token.clone())?;
                        Ok((format!("alt-da {url}"), AnyBackend::new(client)))
                    })
                    .collect()
            }
            BackendKind::Replicated => Err(config_err("replicated backends do not nest")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        da: DaArgs,
    }

    #[test]
    fn parses_defaults_and_each_backends_flags() {
        let c = Cli::try_parse_from(["x"]).unwrap().da;
        assert_eq!(c.backend, BackendKind::Local);
        assert_eq!(c.max_blob_size, DEFAULT_MAX_BLOB_SIZE);
        assert_eq!(c.ethereum.inbox, DEFAULT_INBOX);
        let c = Cli::try_parse_from([
            "x",
            "--backend",
            "replicated",
            "--replicated.backends",
            "local,alt-da",
            "--replicated.min-writes",
            "1",
            "--alt-da.url",
            "http://a:1,http://b:2",
            "--ethereum.rpc-url",
            "http://l1:8545",
            "--polygon.inbox",
            "0x00000000000000000000000000000000000000aa",
            "--near.namespace",
            "1:1337",
            "--filecoin.transport",
            "kubo",
            "--blob.sidecar",
            "7594",
        ])
        .unwrap()
        .da;
        assert_eq!(c.backend, BackendKind::Replicated);
        assert_eq!(c.replicated.backends, vec![BackendKind::Local, BackendKind::AltDa]);
        assert_eq!(c.replicated.min_writes, Some(1));
        assert_eq!(c.alt_da.urls, vec!["http://a:1", "http://b:2"]);
        assert_eq!(c.ethereum.rpc_url, "http://l1:8545");
        assert_eq!(c.polygon.inbox, alloy::primitives::address!("00000000000000000000000000000000000000aa"));
        let ns = c.near.namespace.unwrap();
        assert_eq!((ns.version, ns.id), (1, 1337));
        assert!(Cli::try_parse_from(["x", "--backend", "nope"]).is_err());
        assert!(Cli::try_parse_from(["x", "--near.namespace", "x"]).is_err());
        assert_eq!(c.filecoin.transport, crate::filecoin::Transport::Kubo);
        assert_eq!(c.blob.sidecar, crate::blob::SidecarFormat::Eip7594);
        assert_eq!(c.blob.source, BlobSourceKind::Beacon);
        assert!(Cli::try_parse_from(["x", "--filecoin.transport", "ftp"]).is_err());
        assert!(Cli::try_parse_from(["x", "--ethereum.inbox", "0x12"]).is_err());
    }

    #[tokio::test]
    async fn missing_settings_are_named() {
        let err = |args: &[&str]| {
            let c = Cli::try_parse_from(args).unwrap().da;
            async move { c.build().await.unwrap_err().to_string() }
        };
        assert!(err(&["x", "--backend", "ethereum"]).await.contains("--ethereum.private-key"));
        assert!(err(&["x", "--backend", "polygon"]).await.contains("--polygon.rpc-url"));
        let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        assert!(
            err(&["x", "--backend", "ethereum-blob", "--ethereum.private-key", key])
                .await
                .contains("--blob.beacon-url")
        );
        assert!(err(&["x", "--backend", "alt-da"]).await.contains("--alt-da.url"));
        assert!(err(&["x", "--backend", "filecoin"]).await.contains("--filecoin.url"));
        assert!(
            err(&["x", "--backend", "near", "--near.rpc-url", "http://n:3030"])
                .await
                .contains("--near.account-id")
        );
        assert!(err(&["x", "--backend", "replicated"]).await.contains("names no backend"));
        assert!(
            err(&["x", "--backend", "replicated", "--replicated.backends", "local,local"])
                .await
                .contains("twice")
        );
        assert!(
            err(&["x", "--backend", "ethereum", "--ethereum.private-key", "0xzz"])
                .await
                .contains("not a private key")
        );
    }
}
