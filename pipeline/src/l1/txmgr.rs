//! The L1 transaction manager: one key, one transaction in flight, EIP-1559 fees bumped until
//! mined.
//!
//! [`TxManager::send`] signs an EIP-1559 transaction at the key's next nonce, publishes it, and
//! polls for a receipt until the transaction has [`TxManagerConfig::num_confirmations`]
//! confirmations (the block that includes it counts as one). When none of the published
//! versions is mined within [`TxManagerConfig::resubmission_timeout`], it signs the **same
//! nonce** again with both the max fee and the tip raised by at least
//! [`TxManagerConfig::fee_bump_percent`] (and at least to what the node now estimates), so a
//! base-fee spike or a low tip cannot leave the transaction stuck. Every version published is
//! watched: whichever is mined wins.
//!
//! The nonce is read from the chain (`latest`) on the first send and again whenever the node
//! answers "nonce too low" without one of our versions being mined (another sender used the key),
//! and after any failed send; otherwise it is counted locally. Reading `latest` rather than
//! `pending` on a restart makes the new transaction replace whatever the previous process left
//! in the pool at that nonce, instead of queuing behind it.

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::TransportError;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

/// Confirmations a receipt needs before [`TxManager::send`] returns it.
pub const DEFAULT_NUM_CONFIRMATIONS: u64 = 1;
/// How long a published version may stay unmined before it is re-sent with higher fees.
pub const DEFAULT_RESUBMISSION_TIMEOUT: Duration = Duration::from_secs(24);
/// How often the manager asks for a receipt.
pub const DEFAULT_RECEIPT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Percent by which a re-send raises both fees (geth and reth pools need ≥ 10 to replace).
pub const DEFAULT_FEE_BUMP_PERCENT: u64 = 10;
/// Smallest bump accepted: below it pools refuse the replacement.
pub const MIN_FEE_BUMP_PERCENT: u64 = 10;
/// How long one send may take in all before it fails with [`TxError::Timeout`].
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(600);
/// Margin added to the node's gas estimate, percent (the estimate is the least gas that
/// succeeds on the pending state; a little state change between estimate and inclusion must not
/// make the transaction run out of gas).
pub const GAS_LIMIT_MARGIN_PERCENT: u64 = 20;

/// Settings of a [`TxManager`].
#[derive(Debug, Clone)]
pub struct TxManagerConfig {
    /// Confirmations a receipt needs (at least 1).
    pub num_confirmations: u64,
    /// Time without inclusion after which the transaction is re-sent with bumped fees.
    pub resubmission_timeout: Duration,
    /// Receipt polling interval.
    pub poll_interval: Duration,
    /// Fee bump per re-send, percent (at least [`MIN_FEE_BUMP_PERCENT`]).
    pub fee_bump_percent: u64,
    /// Highest max fee per gas the manager will sign, wei (`None`: no cap).
    pub max_fee_per_gas_cap: Option<u128>,
    /// Time after which a send gives up.
    pub send_timeout: Duration,
}

impl Default for TxManagerConfig {
    fn default() -> Self {
        Self {
            num_confirmations: DEFAULT_NUM_CONFIRMATIONS,
            resubmission_timeout: DEFAULT_RESUBMISSION_TIMEOUT,
            poll_interval: DEFAULT_RECEIPT_POLL_INTERVAL,
            fee_bump_percent: DEFAULT_FEE_BUMP_PERCENT,
            max_fee_per_gas_cap: None,
            send_timeout: DEFAULT_SEND_TIMEOUT,
        }
    }
}

/// Why a transaction could not be sent or confirmed.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// An L1 JSON-RPC call failed.
    #[error("txmgr: {what}: {source}")]
    Rpc {
        /// Which call.
        what: &'static str,
        /// What failed.
        #[source]
        source: TransportError,
    },
    /// The node could not estimate gas: the call reverts on the pending state.
    #[error("txmgr: gas estimation failed (the call would revert): {0}")]
    Estimate(#[source] TransportError),
    /// The node refused the signed transaction for a reason a re-send cannot fix.
    #[error("txmgr: transaction {tx} (nonce {nonce}) refused: {source}")]
    Refused {
        /// Hash of the refused version.
        tx: B256,
        /// Its nonce.
        nonce: u64,
        /// The node's answer.
        #[source]
        source: TransportError,
    },
    /// The transaction could not be signed.
    #[error("txmgr: signing failed: {0}")]
    Sign(String),
    /// The transaction was mined and confirmed but reverted.
    #[error("txmgr: transaction {tx} reverted in L1 block {block}")]
    Reverted {
        /// Its hash.
        tx: B256,
        /// The block that holds it.
        block: u64,
    },
    /// The fee the L1 needs is above the configured cap.
    #[error("txmgr: max fee per gas {needed} wei would pass the cap of {cap} wei")]
    FeeCapExceeded {
        /// What the bump asked for.
        needed: u128,
        /// The cap.
        cap: u128,
    },
    /// The transaction was not confirmed within the send timeout.
    #[error("txmgr: nonce {nonce} not confirmed after {elapsed:?} ({} versions sent)", sent.len())]
    Timeout {
        /// The nonce.
        nonce: u64,
        /// Time spent.
        elapsed: Duration,
        /// Hashes of the versions published.
        sent: Vec<B256>,
    },
    /// The fixed nonce of [`TxCandidate::nonce`] was used by a transaction this manager did not
    /// send.
    #[error("txmgr: nonce {nonce} was taken by another transaction")]
    NonceTaken {
        /// The nonce.
        nonce: u64,
    },
    /// A setting is unusable.
    #[error("txmgr: configuration: {0}")]
    Config(String),
}

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct TxCandidate {
    /// Recipient.
    pub to: Address,
    /// Call data.
    pub data: Bytes,
    /// Wei sent along.
    pub value: U256,
    /// Gas limit; `None` estimates it (plus [`GAS_LIMIT_MARGIN_PERCENT`]).
    pub gas_limit: Option<u64>,
    /// Send at exactly this nonce (`None`: the manager's own count). A caller that owns its
    /// nonces this way gets [`TxError::NonceTaken`] instead of a resync when the node says
    /// "nonce too low" and none of the versions published is mined: a batcher restarted while
    /// its post was in the pool must look at the inbox before it sends at a new nonce.
    pub nonce: Option<u64>,
}

/// One signed version of a transaction that was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Its hash.
    pub hash: B256,
    /// Max fee per gas, wei.
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas, wei.
    pub max_priority_fee_per_gas: u128,
}

/// A confirmed transaction.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its receipt (status success).
    pub receipt: TransactionReceipt,
    /// The nonce it used.
    pub nonce: u64,
    /// Every version published, in order (the mined one is among them).
    pub attempts: Vec<Attempt>,
}

/// Sends L1 transactions from one key: see the [module docs](self).
#[derive(Debug)]
pub struct TxManager {
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    config: TxManagerConfig,
    /// The next nonce, `None` until read from the chain (and after a failure). The lock also
    /// keeps one transaction in flight at a time.
    nonce: Mutex<Option<u64>>,
}

impl TxManager {
    /// A manager signing with `signer` over `provider`; reads the chain id.
    pub async fn new(
        provider: DynProvider,
        signer: PrivateKeySigner,
        config: TxManagerConfig,
    ) -> Result<Self, TxError> {
        if config.fee_bump_percent < MIN_FEE_BUMP_PERCENT {
            return Err(TxError::Config(format!(
                "fee bump {}% is below the {MIN_FEE_BUMP_PERCENT}% pools require for a replacement",
                config.fee_bump_percent
            )));
        }
        if config.num_confirmations == 0 {
            return Err(TxError::Config("num_confirmations must be at least 1".into()));
        }
        let chain_id =
            provider.get_chain_id().await.map_err(|source| TxError::Rpc { what: "eth_chainId", source })?;
        let from = signer.address();
        Ok(Self {
            provider,
            wallet: EthereumWallet::from(signer),
            from,
            chain_id,
            config,
            nonce: Mutex::new(None),
        })
    }

    /// The sending address.
    pub const fn address(&self) -> Address {
        self.from
    }

    /// The provider it sends through.
    pub const fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The settings.
    pub const fn config(&self) -> &TxManagerConfig {
        &self.config
    }

    /// The key's next nonce on chain (`latest`).
    pub async fn chain_nonce(&self) -> Result<u64, TxError> {
        self.provider
            .get_transaction_count(self.from)
            .latest()
            .await
            .map_err(|source| TxError::Rpc { what: "eth_getTransactionCount", source })
    }

    /// Sends `candidate` and waits until it is confirmed; see the [module docs](self).
    pub async fn send(&self, candidate: TxCandidate) -> Result<Sent, TxError> {
        let mut slot = self.nonce.lock().await;
        let result = self.send_locked(&mut slot, candidate).await;
        if result.is_err() {
            // Whatever happened, the next send reads the nonce from the chain again.
            *slot = None;
        }
        result
    }

    async fn estimate_fees(&self) -> Result<(u128, u128), TxError> {
        let est = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|source| TxError::Rpc { what: "eth_feeHistory", source })?;
        Ok((est.max_fee_per_gas, est.max_priority_fee_per_gas))
    }

    async fn send_locked(&self, slot: &mut Option<u64>, c: TxCandidate) -> Result<Sent, TxError> {
        let started = Instant::now();
        let mut nonce = match (c.nonce, *slot) {
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => self.chain_nonce().await?,
        };
        let base = TransactionRequest::default()
            .with_from(self.from)
            .with_to(c.to)
            .with_value(c.value)
            .with_input(c.data.clone());
        let gas_limit = match c.gas_limit {
            Some(g) => g,
            None => {
                let est = self.provider.estimate_gas(base.clone()).await.map_err(TxError::Estimate)?;
                est.saturating_add(est * GAS_LIMIT_MARGIN_PERCENT / 100)
            }
        };
        let (mut max_fee, mut tip) = self.estimate_fees().await?;
        max_fee = max_fee.max(tip);
        let mut attempts: Vec<Attempt> = Vec::new();

        loop {
            if let Some(cap) = self.config.max_fee_per_gas_cap
                && max_fee > cap
            {
                return Err(TxError::FeeCapExceeded { needed: max_fee, cap });
            }
            let request = base
                .clone()
                .with_nonce(nonce)
                .with_chain_id(self.chain_id)
                .with_gas_limit(gas_limit)
                .with_max_fee_per_gas(max_fee)
                .with_max_priority_fee_per_gas(tip);
            let envelope: TxEnvelope =
                request.build(&self.wallet).await.map_err(|e| TxError::Sign(e.to_string()))?;
            let hash = *envelope.tx_hash();
            let attempt = Attempt { hash, max_fee_per_gas: max_fee, max_priority_fee_per_gas: tip };
            match self.provider.send_raw_transaction(&envelope.encoded_2718()).await {
                Ok(_) => {
                    info!(target: "pipeline::txmgr", %hash, nonce, max_fee, tip, attempt = attempts.len() + 1, "published");
                    attempts.push(attempt);
                }
                Err(err) => match classify(&err) {
                    SendRefusal::AlreadyKnown => {
                        debug!(target: "pipeline::txmgr", %hash, "node already has this version");
                        attempts.push(attempt);
                    }
                    SendRefusal::NonceTooLow => {
                        // Either one of our versions was mined meanwhile, or someone else used
                        // the key: then start over at the chain's nonce.
                        if let Some(sent) =
                            self.wait_confirmed(nonce, &attempts, started, Duration::ZERO).await?
                        {
                            *slot = Some(nonce + 1);
                            return Ok(sent);
                        }
                        if c.nonce.is_some() {
                            return Err(TxError::NonceTaken { nonce });
                        }
                        let chain = self.chain_nonce().await?;
                        warn!(target: "pipeline::txmgr", nonce, chain, "nonce too low: resynced from the chain");
                        nonce = chain;
                        attempts.clear();
                        continue;
                    }
                    SendRefusal::Underpriced => {
                        // A version we do not know of (a previous run's) holds the nonce, or the
                        // base fee rose past our cap: bump right away.
                        warn!(target: "pipeline::txmgr", %hash, nonce, %err, "refused as underpriced: bumping fees");
                        (max_fee, tip) = self.bumped(max_fee, tip).await?;
                        self.check_timeout(nonce, &attempts, started)?;
                        tokio::time::sleep(self.config.poll_interval).await;
                        continue;
                    }
                    SendRefusal::Other => return Err(TxError::Refused { tx: hash, nonce, source: err }),
                },
            }

            if let Some(sent) =
                self.wait_confirmed(nonce, &attempts, started, self.config.resubmission_timeout).await?
            {
                *slot = Some(nonce + 1);
                return Ok(sent);
            }
            self.check_timeout(nonce, &attempts, started)?;
            (max_fee, tip) = self.bumped(max_fee, tip).await?;
            info!(target: "pipeline::txmgr", nonce, max_fee, tip, "not mined in time: re-sending with bumped fees");
        }
    }

    fn check_timeout(&self, nonce: u64, attempts: &[Attempt], started: Instant) -> Result<(), TxError> {
        if started.elapsed() >= self.config.send_timeout {
            return Err(TxError::Timeout {
                nonce,
                elapsed: started.elapsed(),
                sent: attempts.iter().map(|a| a.hash).collect(),
            });
        }
        Ok(())
    }

    /// Fees of the next version: both raised by the bump percentage (rounded up), and at least
    /// what the node estimates now.
    async fn bumped(&self, max_fee: u128, tip: u128) -> Result<(u128, u128), TxError> {
        let pct = u128::from(self.config.fee_bump_percent);
        let bump = |v: u128| v.saturating_mul(100 + pct).div_ceil(100).max(v + 1);
        let (est_max, est_tip) = self.estimate_fees().await?;
        let tip = bump(tip).max(est_tip);
        let max_fee = bump(max_fee).max(est_max).max(tip);
        Ok((max_fee, tip))
    }

    /// Polls for a receipt of any attempt until one has the confirmations (returns it), or
    /// `patience` passes with none mined (returns `None`). A mined version resets the clock:
    /// it is not re-sent while it waits for confirmations, and if it is reorged out the wait
    /// starts over.
    async fn wait_confirmed(
        &self,
        nonce: u64,
        attempts: &[Attempt],
        started: Instant,
        patience: Duration,
    ) -> Result<Option<Sent>, TxError> {
        let mut since = Instant::now();
        loop {
            let mut mined = None;
            for a in attempts.iter().rev() {
                let receipt = self
                    .provider
                    .get_transaction_receipt(a.hash)
                    .await
                    .map_err(|source| TxError::Rpc { what: "eth_getTransactionReceipt", source })?;
                if let Some(r) = receipt {
                    mined = Some(r);
                    break;
                }
            }
            if let Some(receipt) = mined {
                since = Instant::now();
                let head = self
                    .provider
                    .get_block_number()
                    .await
                    .map_err(|source| TxError::Rpc { what: "eth_blockNumber", source })?;
                let block = receipt.block_number.unwrap_or(head);
                let confirmations = (head + 1).saturating_sub(block);
                if confirmations >= self.config.num_confirmations {
                    if !receipt.status() {
                        return Err(TxError::Reverted { tx: receipt.transaction_hash, block });
                    }
                    info!(
                        target: "pipeline::txmgr",
                        hash = %receipt.transaction_hash,
                        nonce,
                        block,
                        confirmations,
                        "confirmed"
                    );
                    return Ok(Some(Sent { receipt, nonce, attempts: attempts.to_vec() }));
                }
                debug!(target: "pipeline::txmgr", hash = %receipt.transaction_hash, block, confirmations, "mined, waiting for confirmations");
            } else if since.elapsed() >= patience {
                return Ok(None);
            }
            self.check_timeout(nonce, attempts, started)?;
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }
}

/// How the node refused a raw transaction.
enum SendRefusal {
    AlreadyKnown,
    NonceTooLow,
    Underpriced,
    Other,
}

/// Reads the node's refusal text (geth, reth and anvil word these alike).
fn classify(err: &TransportError) -> SendRefusal {
    let msg = err.to_string().to_ascii_lowercase();
    if msg.contains("already known") || msg.contains("already imported") || msg.contains("known transaction")
    {
        SendRefusal::AlreadyKnown
    } else if msg.contains("nonce too low") || msg.contains("nonce has already been used") {
        SendRefusal::NonceTooLow
    } else if msg.contains("underpriced")
        || msg.contains("fee cap too low")
        || msg.contains("less than block base fee")
        || msg.contains("max fee per gas less than")
    {
        SendRefusal::Underpriced
    } else {
        SendRefusal::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::transports::TransportErrorKind;

    #[test]
    fn refusals_are_classified() {
        let e = |m: &str| TransportErrorKind::custom_str(m);
        assert!(matches!(classify(&e("nonce too low: next nonce 5, tx nonce 4")), SendRefusal::NonceTooLow));
        assert!(matches!(classify(&e("replacement transaction underpriced")), SendRefusal::Underpriced));
        assert!(matches!(classify(&e("max fee per gas less than block base fee")), SendRefusal::Underpriced));
        assert!(matches!(classify(&e("already known")), SendRefusal::AlreadyKnown));
        assert!(matches!(classify(&e("insufficient funds for gas * price + value")), SendRefusal::Other));
    }
}
