//! Ethereum EIP-4844 blob backend: the data is encoded into blobs ([`codec`], the OP Stack's
//! field-element encoding) carried by a type-3 transaction to an inbox address on the L1, and
//! read back from a blob [`source`] (a beacon node, or anvil).
//!
//! The commitment is generic, as the calldata backend's:
//! `0x01 ‖ 0xe4 ‖ txHash (32) ‖ keccak256(data) (32)`. The transaction hash says where to look:
//! the execution node gives the transaction (its inbox, its blob versioned hashes, its block) and
//! a blob source gives the blobs. The data hash says what must come out. [`DaBackend::get`]
//! checks, in order: the transaction goes to the inbox and carries blobs; every blob's KZG
//! commitment, recomputed here with the Ethereum trusted setup, hashes to the versioned hash at
//! its index (`0x01 ‖ sha256(commitment)[1..]`); the blobs decode strictly; the decoded bytes
//! hash to the commitment's data hash. Only then are they returned.
//!
//! Sidecars: before Osaka a blob transaction is gossiped with one KZG proof per blob
//! (EIP-4844); from Osaka on, with 128 cell proofs per blob (EIP-7594, PeerDAS), and nodes
//! refuse the old form. [`SidecarFormat::Auto`] asks the node which fork it is on (see
//! [`SidecarFormat`]).

pub mod codec;
pub mod source;

pub use source::{BeaconBlockId, BeaconClient, BlobSource};
pub use temporis_protocol::commitment::DA_LAYER_ETHEREUM_BLOB;

use crate::{DaBackend, DaError, Result};
use alloy::consensus::Transaction as _;
use alloy::eips::eip4844::env_settings::EnvKzgSettings;
use alloy::eips::eip4844::{
    AsCkzg as _, BLOB_TX_MIN_BLOB_GASPRICE, BYTES_PER_BLOB, Blob, BlobTransactionSidecar,
    kzg_to_versioned_hash,
};
use alloy::eips::eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant};
use alloy::network::{EthereumWallet, TransactionBuilder, TransactionBuilder4844};
use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
pub use codec::MAX_BLOB_DATA_SIZE;
use temporis_protocol::commitment::Commitment;
use tracing::debug;

pub use crate::calldata::DEFAULT_INBOX;

/// The backend's name in errors and logs.
pub const BACKEND: &str = "ethereum-blob";
/// Most blobs one transaction may carry from Osaka on (EIP-7594's per-transaction cap), and
/// what a Cancun block held at most: the default and the largest [`BlobBackend::with_max_blobs`]
/// accepts, so a full transaction is valid at every blob fork.
pub const MAX_BLOBS_PER_TX: usize = 6;
/// Largest blob the backend accepts by default: six full blobs, 780 264 bytes.
pub const MAX_BLOB_TX_DATA: usize = MAX_BLOBS_PER_TX * MAX_BLOB_DATA_SIZE;
/// The P-256 verification precompile (EIP-7951): Osaka activates it together with EIP-7594, so a
/// node whose `eth_config` lists it wants cell-proof sidecars.
const P256VERIFY: Address = alloy::primitives::address!("0000000000000000000000000000000000000100");

/// Which blob sidecar form [`BlobBackend::put`] sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SidecarFormat {
    /// EIP-4844 (Cancun, Prague): one blob KZG proof per blob.
    Eip4844,
    /// EIP-7594 (Osaka and later): 128 cell KZG proofs per blob.
    Eip7594,
    /// Ask the node before each put with `eth_config` (EIP-7910): [`SidecarFormat::Eip7594`] if
    /// its current fork has the P-256 precompile (Osaka or later), [`SidecarFormat::Eip4844`] if
    /// not or if the node has no `eth_config` (every Osaka-ready client has it). Asked each time
    /// so that a backend running across the fork switches with it.
    #[default]
    Auto,
}

impl std::str::FromStr for SidecarFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "4844" | "eip4844" => Ok(Self::Eip4844),
            "7594" | "eip7594" => Ok(Self::Eip7594),
            _ => Err(format!("unknown sidecar format {s:?}: want auto, 4844 or 7594")),
        }
    }
}

/// The EIP-4844 blob DA backend on one L1.
#[derive(Debug)]
pub struct BlobBackend {
    provider: DynProvider,
    inbox: Address,
    source: BlobSource,
    sidecar: SidecarFormat,
    max_blobs: usize,
}

impl BlobBackend {
    /// A backend that signs with `signer`, sends blob transactions through the execution node at
    /// `rpc_url` to `inbox`, and reads blobs from `source`. Sidecar format
    /// [`SidecarFormat::Auto`], at most [`MAX_BLOBS_PER_TX`] blobs per put.
    pub fn new(rpc_url: &str, signer: PrivateKeySigner, inbox: Address, source: BlobSource) -> Result<Self> {
        let url = rpc_url.parse().map_err(|e| chain_err(format!("bad RPC URL: {e}")))?;
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased();
        Ok(Self { provider, inbox, source, sidecar: SidecarFormat::Auto, max_blobs: MAX_BLOBS_PER_TX })
    }

    /// Sends sidecars in `format` instead of asking the node.
    pub fn with_sidecar_format(mut self, format: SidecarFormat) -> Self {
        self.sidecar = format;
        self
    }

    /// Puts at most `n` blobs (1..=[`MAX_BLOBS_PER_TX`]) in a transaction; a smaller cap keeps
    /// each transaction cheaper to include when blob space is contested.
    pub fn with_max_blobs(mut self, n: usize) -> Result<Self> {
        if !(1..=MAX_BLOBS_PER_TX).contains(&n) {
            return Err(chain_err(format!("max blobs per transaction {n} is not in 1..={MAX_BLOBS_PER_TX}")));
        }
        self.max_blobs = n;
        Ok(self)
    }

    /// The largest blob [`DaBackend::put`] accepts.
    pub const fn max_size(&self) -> usize {
        self.max_blobs * MAX_BLOB_DATA_SIZE
    }

    /// The sidecar format the next put will use: the configured one, or the node's if
    /// [`SidecarFormat::Auto`].
    pub async fn sidecar_format(&self) -> Result<SidecarFormat> {
        if self.sidecar != SidecarFormat::Auto {
            return Ok(self.sidecar);
        }
        let config =
            self.provider.raw_request::<_, serde_json::Value>("eth_config".into(), Vec::<()>::new()).await;
        let config = match config {
            Ok(config) => config,
            // A JSON-RPC error answer (method not found): a node from before Osaka.
            Err(e) if e.as_error_resp().is_some() => {
                debug!(target: "da::blob", err = %e, "no eth_config; sending EIP-4844 sidecars");
                return Ok(SidecarFormat::Eip4844);
            }
            Err(e) => return Err(chain_err(format!("eth_config: {e}"))),
        };
        let precompiles = config
            .pointer("/current/precompiles")
            .and_then(|p| p.as_object())
            .ok_or_else(|| malformed("eth_config answer has no current.precompiles".into()))?;
        let osaka = precompiles
            .values()
            .any(|a| a.as_str().and_then(|a| a.parse::<Address>().ok()) == Some(P256VERIFY));
        Ok(if osaka { SidecarFormat::Eip7594 } else { SidecarFormat::Eip4844 })
    }

    fn unsupported(commitment: &Commitment) -> DaError {
        DaError::UnsupportedCommitment { backend: BACKEND, commitment: commitment.clone() }
    }
}

/// Builds the sidecar of `blobs` in `format` (not [`SidecarFormat::Auto`]). CPU-heavy: a blob
/// commitment takes milliseconds, its 128 cell proofs far more.
pub fn build_sidecar(blobs: Vec<Blob>, format: SidecarFormat) -> Result<BlobTransactionSidecarVariant> {
    let kzg_err = |e: alloy::eips::eip4844::c_kzg::Error| malformed(format!("KZG: {e}"));
    let settings = EnvKzgSettings::Default.get();
    match format {
        SidecarFormat::Eip4844 => BlobTransactionSidecar::try_from_blobs_with_settings(blobs, settings)
            .map(Into::into)
            .map_err(kzg_err),
        SidecarFormat::Eip7594 => {
            BlobTransactionSidecarEip7594::try_from_blobs_with_settings(blobs, settings)
                .map(Into::into)
                .map_err(kzg_err)
        }
        SidecarFormat::Auto => Err(malformed("sidecar format must be resolved before building".into())),
    }
}

/// Loads the Ethereum KZG trusted setup (and its precomputed tables) now, on a blocking thread:
/// the first put or get pays for it otherwise (seconds; see `docs/da-blob.md`).
pub async fn preload_trusted_setup() -> Result<()> {
    tokio::task::spawn_blocking(|| {
        EnvKzgSettings::Default.get();
    })
    .await
    .map_err(|e| DaError::Task(e.to_string()))
}

/// The versioned hash of a blob: `0x01 ‖ sha256(KZG commitment)[1..]`, with the commitment
/// computed from the blob and the Ethereum trusted setup.
pub fn versioned_hash(blob: &Blob) -> Result<B256> {
    let commitment = EnvKzgSettings::Default
        .get()
        .blob_to_kzg_commitment(blob.as_ckzg())
        .map_err(|e| malformed(format!("KZG commitment: {e}")))?;
    Ok(kzg_to_versioned_hash(commitment.to_bytes().as_slice()))
}

impl DaBackend for BlobBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let limit = self.max_size();
        if data.len() > limit {
            return Err(DaError::TooLarge { size: data.len(), limit });
        }
        let hash = keccak256(&data);
        let format = self.sidecar_format().await?;
        let max_blobs = self.max_blobs;
        let sidecar = tokio::task::spawn_blocking(move || {
            let blobs = codec::encode(&data, max_blobs).map_err(|e| malformed(e.to_string()))?;
            build_sidecar(blobs, format)
        })
        .await
        .map_err(|e| DaError::Task(e.to_string()))??;
        let blob_count = sidecar.blobs().len();

        // Bid twice the current blob base fee: it rises by at most ~8-12 % a block, so this
        // stays valid for several full blocks, and only the base fee is paid.
        let blob_base_fee = self.provider.get_blob_base_fee().await.map_err(|e| chain_err(e.to_string()))?;
        let max_fee_per_blob_gas = blob_base_fee.saturating_mul(2).max(BLOB_TX_MIN_BLOB_GASPRICE);

        let tx = TransactionRequest::default()
            .with_to(self.inbox)
            .with_blob_sidecar(sidecar)
            .with_max_fee_per_blob_gas(max_fee_per_blob_gas);
        let receipt = self
            .provider
            .send_transaction(tx)
            .await
            .map_err(|e| chain_err(e.to_string()))?
            .get_receipt()
            .await
            .map_err(|e| chain_err(e.to_string()))?;
        if !receipt.status() {
            return Err(chain_err(format!("blob transaction {} failed", receipt.transaction_hash)));
        }
        debug!(
            target: "da::blob",
            tx = %receipt.transaction_hash, %hash, blobs = blob_count, ?format,
            blob_gas_price = ?receipt.blob_gas_price, "blobs posted"
        );
        let mut payload = Vec::with_capacity(64);
        payload.extend_from_slice(receipt.transaction_hash.as_slice());
        payload.extend_from_slice(hash.as_slice());
        Ok(Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload: payload.into() })
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload } = commitment else {
            return Err(Self::unsupported(commitment));
        };
        if payload.len() != 64 {
            return Err(Self::unsupported(commitment));
        }
        let tx_hash = B256::from_slice(&payload[..32]);
        let data_hash = B256::from_slice(&payload[32..]);
        let mismatch = || DaError::CommitmentMismatch { commitment: commitment.clone() };
        let not_found = || DaError::NotFound(commitment.clone());

        let tx = self
            .provider
            .get_transaction_by_hash(tx_hash)
            .await
            .map_err(|e| chain_err(e.to_string()))?
            .ok_or_else(not_found)?;
        // A commitment naming another kind of transaction, or one to another address, does not
        // name data of this backend.
        let hashes = tx.blob_versioned_hashes().ok_or_else(mismatch)?.to_vec();
        if tx.to() != Some(self.inbox) || hashes.is_empty() {
            return Err(mismatch());
        }
        // Blobs are only served for included transactions.
        let Some(block_number) = tx.block_number else { return Err(not_found()) };
        let block = self
            .provider
            .get_block_by_number(block_number.into())
            .await
            .map_err(|e| chain_err(e.to_string()))?
            .ok_or_else(|| chain_err(format!("block {block_number} of transaction {tx_hash} is missing")))?;
        if Some(block.header.hash) != tx.block_hash {
            // A reorg between the two calls: the transaction may be in another block now.
            return Err(chain_err(format!("block {block_number} changed while reading {tx_hash}; retry")));
        }

        let blobs = self
            .source
            .fetch(&self.provider, tx_hash, block_number, block.header.timestamp, &hashes)
            .await?
            .filter(|blobs| !blobs.is_empty())
            .ok_or_else(not_found)?;
        let source = self.source.kind();
        let data = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>> {
            // Put each blob at the index of its versioned hash; sources may return a block's
            // blobs in any order, or others besides ours.
            let mut ordered = vec![Blob::ZERO; hashes.len()];
            let mut found = vec![false; hashes.len()];
            for bytes in blobs {
                let blob: &Blob = bytes.as_ref().try_into().map_err(|_| {
                    malformed(format!(
                        "{source} returned a blob of {} bytes, not {BYTES_PER_BLOB}",
                        bytes.len()
                    ))
                })?;
                let vh = versioned_hash(blob)?;
                if let Some(i) = hashes.iter().position(|h| *h == vh) {
                    ordered[i].copy_from_slice(blob.as_slice());
                    found[i] = true;
                }
            }
            if found.contains(&false) {
                return Ok(None);
            }
            codec::decode(&ordered)
                .map(Some)
                .map_err(|e| malformed(format!("blobs of {tx_hash} are not Temporis blob data: {e}")))
        })
        .await
        .map_err(|e| DaError::Task(e.to_string()))??;
        let Some(data) = data else {
            debug!(target: "da::blob", %tx_hash, source, "source lacks blobs matching the transaction's versioned hashes");
            return Err(mismatch());
        };
        if keccak256(&data) != data_hash {
            return Err(mismatch());
        }
        debug!(target: "da::blob", %tx_hash, source, len = data.len(), "blobs verified");
        Ok(data.into())
    }
}

fn chain_err(msg: String) -> DaError {
    DaError::Chain { backend: BACKEND, msg }
}

fn malformed(msg: String) -> DaError {
    DaError::Malformed { backend: BACKEND, msg }
}
