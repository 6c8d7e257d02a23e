//! Publishing a pack on chain: the `ModelRegistry` calls that carry a model or adapter, and the
//! signed transactions that make them (what `temporis-aivm publish` sends).
//!
//! [`plan`] reads a pack directory (`temporis-aivm pack`), checks it in full (every chunk
//! re-hashed, the content id recomputed) and returns the calls: one `announce`, then one
//! `uploadChunk` per chunk, in manifest order. [`sign`] turns them into EIP-1559 transactions
//! with consecutive nonces and per-call gas limits ([`gas_limits`]). The calldata is the registry's
//! ABI (`contracts/src/interfaces/IModelRegistry.sol`); `docs/aivm-precompiles.md` describes the
//! flow, and why it completes only on an AIVM chain.

use std::path::Path;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};

use crate::model::{AdapterConfig, ModelError};
use crate::pack::{self, CHUNKS_DIR, MANIFEST_FILE, PackError, PackKind};

pub use self::registry_abi::IModelRegistryPublish;

mod registry_abi {
    #![allow(missing_docs)]
    alloy::sol! {
        /// The publishing calls of `IModelRegistry`.
        interface IModelRegistryPublish {
            function announce(bytes32 contentId, uint8 kind, bytes32 parent, uint32 configChunks, bytes32[] chunkHashes)
                external returns (bytes32 publicationId);
            function uploadChunk(bytes32 publicationId, uint256 index, bytes data) external;
        }
    }
}

/// Gas of an `announce`: the record and one storage slot per chunk hash, with margin.
pub const ANNOUNCE_BASE_GAS: u64 = 200_000;
/// Gas of an `announce` per chunk hash (a fresh `SSTORE` and its calldata).
pub const ANNOUNCE_GAS_PER_CHUNK: u64 = 25_000;
/// Gas of an `uploadChunk` besides its calldata: checks, `STORE_CHUNK`, bookkeeping, event.
pub const UPLOAD_BASE_GAS: u64 = 150_000;
/// Calldata gas per byte, at the EIP-7623 floor price for non-zero bytes (the upper bound).
pub const UPLOAD_GAS_PER_BYTE: u64 = 40;
/// Default extra gas of the last upload, which runs `VERIFY` (the shipped model needs ~130 000).
pub const DEFAULT_VERIFY_GAS: u64 = 2_000_000;

/// Errors of publishing.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The pack is unreadable or inconsistent.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// The adapter's config does not parse (its base model id is read from it).
    #[error(transparent)]
    Model(#[from] Box<ModelError>),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
}

/// The calls that publish one pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Model or adapter.
    pub kind: PackKind,
    /// Content id.
    pub content_id: B256,
    /// The base model of an adapter (from its config); zero for a model.
    pub parent: B256,
    /// The registry's publication id of this manifest.
    pub publication_id: B256,
    /// Calldata: `announce`, then `uploadChunk` for each chunk in order.
    pub calls: Vec<Bytes>,
    /// Size of each chunk, in call order (after the announcement).
    pub chunk_sizes: Vec<usize>,
}

/// `keccak256(abi.encode(contentId, kind, parent, configChunks, hashes))`, the registry's id.
pub fn publication_id(content_id: B256, kind: u8, parent: B256, config_chunks: u32, hashes: &[B256]) -> B256 {
    keccak256((content_id, U256::from(kind), parent, config_chunks, hashes.to_vec()).abi_encode_params())
}

/// The registry's `Kind` of a pack.
pub const fn kind_code(kind: PackKind) -> u8 {
    match kind {
        PackKind::Model => 1,
        PackKind::Adapter => 2,
    }
}

/// Reads and checks the pack in `pack_dir` and returns the calls that publish it.
pub fn plan(pack_dir: &Path) -> Result<Plan, PublishError> {
    let manifest = pack::read_manifest(&pack_dir.join(MANIFEST_FILE))?;
    let chunks_dir = pack_dir.join(CHUNKS_DIR);
    let [config, _] = pack::reassemble(&manifest, &chunks_dir)?;
    let parent = match manifest.kind {
        PackKind::Model => B256::ZERO,
        PackKind::Adapter => AdapterConfig::from_json(&config).map_err(Box::new)?.temporis.base_model_id,
    };
    let kind = kind_code(manifest.kind);
    let config_chunks = manifest.files[0].chunks.len() as u32;
    let hashes: Vec<B256> = manifest.files.iter().flat_map(|f| f.chunks.iter().copied()).collect();
    let publication_id = publication_id(manifest.id, kind, parent, config_chunks, &hashes);
    let mut calls = vec![Bytes::from(
        IModelRegistryPublish::announceCall {
            contentId: manifest.id,
            kind,
            parent,
            configChunks: config_chunks,
            chunkHashes: hashes.clone(),
        }
        .abi_encode(),
    )];
    let mut chunk_sizes = Vec::with_capacity(hashes.len());
    for (i, h) in hashes.iter().enumerate() {
        let p = pack::chunk_path(&chunks_dir, h);
        let data = std::fs::read(&p).map_err(|source| PackError::Io { path: p, source })?;
        chunk_sizes.push(data.len());
        calls.push(
            IModelRegistryPublish::uploadChunkCall {
                publicationId: publication_id,
                index: U256::from(i),
                data: data.into(),
            }
            .abi_encode()
            .into(),
        );
    }
    Ok(Plan { kind: manifest.kind, content_id: manifest.id, parent, publication_id, calls, chunk_sizes })
}

/// The gas limit of each call of `plan`; the last upload also carries `verify_gas`.
pub fn gas_limits(plan: &Plan, verify_gas: u64) -> Vec<u64> {
    let n = plan.chunk_sizes.len() as u64;
    let mut out = vec![ANNOUNCE_BASE_GAS + ANNOUNCE_GAS_PER_CHUNK * n];
    for (i, call) in plan.calls[1..].iter().enumerate() {
        let extra = if i + 1 == plan.chunk_sizes.len() { verify_gas } else { 0 };
        out.push(21_000 + UPLOAD_BASE_GAS + UPLOAD_GAS_PER_BYTE * call.len() as u64 + extra);
    }
    out
}

/// How to sign the transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxParams {
    /// Chain id.
    pub chain_id: u64,
    /// Nonce of the first transaction.
    pub nonce: u64,
    /// `max_fee_per_gas`, in wei.
    pub max_fee_per_gas: u128,
    /// `max_priority_fee_per_gas`, in wei.
    pub max_priority_fee_per_gas: u128,
    /// The registry's address.
    pub registry: Address,
    /// Extra gas of the last upload, which runs `VERIFY`.
    pub verify_gas: u64,
}

/// Signs the calls of `plan` as EIP-1559 transactions to the registry, consecutive nonces.
pub fn sign(plan: &Plan, key: &PrivateKeySigner, params: &TxParams) -> Result<Vec<TxEnvelope>, PublishError> {
    plan.calls
        .iter()
        .zip(gas_limits(plan, params.verify_gas))
        .enumerate()
        .map(|(i, (input, gas_limit))| {
            let mut tx = TxEip1559 {
                chain_id: params.chain_id,
                nonce: params.nonce + i as u64,
                gas_limit,
                max_fee_per_gas: params.max_fee_per_gas,
                max_priority_fee_per_gas: params.max_priority_fee_per_gas,
                to: TxKind::Call(params.registry),
                value: U256::ZERO,
                access_list: Default::default(),
                input: input.clone(),
            };
            let sig = key.sign_transaction_sync(&mut tx).map_err(|e| PublishError::Sign(e.to_string()))?;
            Ok(tx.into_signed(sig).into())
        })
        .collect()
}

/// The EIP-2718 encoding of a transaction (what `eth_sendRawTransaction` takes).
pub fn raw(tx: &TxEnvelope) -> Bytes {
    tx.encoded_2718().into()
}
