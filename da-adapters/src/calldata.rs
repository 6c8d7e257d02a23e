//! Calldata backends: the data is the input of a transaction sent to an inbox address on an EVM
//! chain, retrieved from any node of that chain by transaction hash.
//!
//! One implementation serves Ethereum (the L1) and Polygon PoS; they differ only in the chain,
//! the DA layer byte and the inbox. The commitment is generic:
//! `0x01 ‖ da_layer ‖ txHash (32) ‖ keccak256(data) (32)`, so a reader knows where to look
//! (the transaction) and what it must find there (the hash), and [`DaBackend::get`] checks both
//! the inbox and the hash before returning anything.
//!
//! DA layer bytes (no known Alt-DA layer uses them): [`DA_LAYER_ETHEREUM_CALLDATA`] `0xe1`,
//! [`DA_LAYER_POLYGON`] `0x89` (137, Polygon PoS's chain id).

use crate::{DaBackend, DaError, Result};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use temporis_protocol::commitment::Commitment;
use tracing::debug;

pub use temporis_protocol::commitment::{DA_LAYER_ETHEREUM_CALLDATA, DA_LAYER_POLYGON};
/// Default inbox on the devnet L1 (an address nobody has the key of, OP-style).
pub const DEFAULT_INBOX: Address = alloy::primitives::address!("ff00000000000000000000000000000000073571");
/// Largest blob a calldata backend accepts: transactions above ~128 KiB are refused by most
/// mempools.
pub const MAX_CALLDATA_BLOB: usize = 120 * 1024;

/// A calldata DA backend on one EVM chain.
#[derive(Debug, Clone)]
pub struct CalldataBackend {
    name: &'static str,
    provider: DynProvider,
    inbox: Address,
    da_layer: u8,
}

impl CalldataBackend {
    /// A backend that signs with `signer`, talks to `rpc_url`, sends to `inbox` and names its
    /// commitments with `da_layer`.
    pub fn new(
        name: &'static str,
        rpc_url: &str,
        signer: PrivateKeySigner,
        inbox: Address,
        da_layer: u8,
    ) -> Result<Self> {
        let url = rpc_url
            .parse()
            .map_err(|e| DaError::Chain { backend: name, msg: format!("bad RPC URL: {e}") })?;
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased();
        Ok(Self { name, provider, inbox, da_layer })
    }

    /// Ethereum calldata (DA layer byte `0xe1`).
    pub fn ethereum(rpc_url: &str, signer: PrivateKeySigner, inbox: Address) -> Result<Self> {
        Self::new("ethereum", rpc_url, signer, inbox, DA_LAYER_ETHEREUM_CALLDATA)
    }

    /// Polygon PoS calldata (DA layer byte `0x89`). Checks that the node is Polygon PoS (137) or
    /// Amoy (80002) before the first use with [`CalldataBackend::check_chain`].
    pub fn polygon(rpc_url: &str, signer: PrivateKeySigner, inbox: Address) -> Result<Self> {
        Self::new("polygon", rpc_url, signer, inbox, DA_LAYER_POLYGON)
    }

    /// The chain id the node reports (a call that also proves the node answers).
    pub async fn chain_id(&self) -> Result<u64> {
        self.provider.get_chain_id().await.map_err(|e| self.chain_err(e))
    }

    /// Fails unless the node's chain id is one of `allowed`.
    pub async fn check_chain(&self, allowed: &[u64]) -> Result<u64> {
        let id = self.chain_id().await?;
        if allowed.contains(&id) {
            Ok(id)
        } else {
            Err(DaError::Chain {
                backend: self.name,
                msg: format!("chain id {id} is not one of {allowed:?}"),
            })
        }
    }

    fn chain_err(&self, e: impl std::fmt::Display) -> DaError {
        DaError::Chain { backend: self.name, msg: e.to_string() }
    }

    fn unsupported(&self, commitment: &Commitment) -> DaError {
        DaError::UnsupportedCommitment { backend: self.name, commitment: commitment.clone() }
    }
}

impl DaBackend for CalldataBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        if data.len() > MAX_CALLDATA_BLOB {
            return Err(DaError::TooLarge { size: data.len(), limit: MAX_CALLDATA_BLOB });
        }
        let hash = keccak256(&data);
        let tx = TransactionRequest::default().with_to(self.inbox).with_input(data);
        let receipt = self
            .provider
            .send_transaction(tx)
            .await
            .map_err(|e| self.chain_err(e))?
            .get_receipt()
            .await
            .map_err(|e| self.chain_err(e))?;
        if !receipt.status() {
            return Err(self.chain_err(format!("inbox transaction {} failed", receipt.transaction_hash)));
        }
        debug!(target: "da::calldata", backend = self.name, tx = %receipt.transaction_hash, %hash, "blob posted");
        let mut payload = Vec::with_capacity(64);
        payload.extend_from_slice(receipt.transaction_hash.as_slice());
        payload.extend_from_slice(hash.as_slice());
        Ok(Commitment::Generic { da_layer: self.da_layer, payload: payload.into() })
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let Commitment::Generic { da_layer, payload } = commitment else {
            return Err(self.unsupported(commitment));
        };
        if *da_layer != self.da_layer || payload.len() != 64 {
            return Err(self.unsupported(commitment));
        }
        let tx_hash = B256::from_slice(&payload[..32]);
        let data_hash = B256::from_slice(&payload[32..]);
        let tx = self
            .provider
            .get_transaction_by_hash(tx_hash)
            .await
            .map_err(|e| self.chain_err(e))?
            .ok_or_else(|| DaError::NotFound(commitment.clone()))?;
        use alloy::consensus::Transaction as _;
        let input = tx.input().clone();
        if tx.to() != Some(self.inbox) || keccak256(&input) != data_hash {
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        Ok(input)
    }
}
