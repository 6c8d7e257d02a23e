//! The mempool: transactions by sender and nonce, pending (a gap-free run from the sender's
//! state nonce) and queued (after a gap), replacement with a fee bump, per-sender and global
//! limits with eviction, and block selection by effective tip over the base fee.
//!
//! State checks (nonce, balance) are the caller's (`Node::submit`), which holds the state; the
//! pool sees only the state nonces it is given.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use alloy::consensus::Transaction;
use alloy::consensus::transaction::Recovered;
use alloy_primitives::map::{AddressMap, B256Map};
use alloy_primitives::{Address, B256};
use op_alloy_consensus::OpTxEnvelope;

use crate::config::TxPoolConfig;

/// A pooled transaction with the fields the pool orders by.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The transaction and its sender.
    pub tx: Arc<Recovered<OpTxEnvelope>>,
    /// Its hash.
    pub hash: B256,
    /// Max fee per gas (gas price for legacy and EIP-2930).
    pub max_fee: u128,
    /// Max priority fee per gas (gas price for legacy and EIP-2930).
    pub tip: u128,
    /// Arrival order: ties in tip go to the earlier.
    seq: u64,
}

impl PoolTx {
    /// Wraps a recovered transaction.
    pub fn new(tx: Recovered<OpTxEnvelope>) -> Self {
        let hash = tx.inner().tx_hash();
        let max_fee = tx.max_fee_per_gas();
        let tip = tx.max_priority_fee_per_gas().unwrap_or(max_fee);
        Self { tx: Arc::new(tx), hash, max_fee, tip, seq: 0 }
    }

    fn nonce(&self) -> u64 {
        self.tx.nonce()
    }

    fn sender(&self) -> Address {
        self.tx.signer()
    }

    /// The tip the block producer earns at `base_fee` (none if the fee cap is below it).
    pub fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        let base_fee = u128::from(base_fee);
        (self.max_fee >= base_fee).then(|| self.tip.min(self.max_fee - base_fee))
    }
}

/// Why the pool refused a transaction (the messages are geth's: tools match on them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The same transaction is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// A transaction with this nonce is pooled and the new one does not pay enough more.
    #[error("replacement transaction underpriced")]
    ReplacementUnderpriced,
    /// The sender has as many transactions pooled as allowed.
    #[error("account limit exceeded")]
    AccountLimit,
    /// The pool is full and the transaction pays no more than the cheapest evictable one.
    #[error("txpool is full")]
    Full,
}

/// The pool's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Executable transactions.
    pub pending: usize,
    /// Transactions waiting for a nonce gap to close.
    pub queued: usize,
}

/// The mempool.
#[derive(Debug)]
pub struct Mempool {
    config: TxPoolConfig,
    by_sender: AddressMap<BTreeMap<u64, PoolTx>>,
    by_hash: B256Map<(Address, u64)>,
    next_seq: u64,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: TxPoolConfig) -> Self {
        Self { config, by_sender: AddressMap::default(), by_hash: B256Map::default(), next_seq: 0 }
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Whether `hash` is pooled.
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pooled transaction `hash`.
    pub fn get(&self, hash: &B256) -> Option<&PoolTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.by_sender.get(sender)?.get(nonce)
    }

    /// The nonce the sender's next transaction would have, counting its pending ones.
    pub fn pending_nonce(&self, sender: &Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(txs) = self.by_sender.get(sender) {
            for nonce in txs.range(state_nonce..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Adds `tx` (already checked against the state: its nonce is at least the sender's);
    /// returns the hash of the transaction it replaced or evicted, if any.
    pub fn insert(&mut self, mut tx: PoolTx) -> Result<Option<B256>, PoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let sender = tx.sender();
        let nonce = tx.nonce();
        tx.seq = self.next_seq;
        let bump = u128::from(100 + self.config.price_bump);
        if let Some(old) = self.by_sender.get(&sender).and_then(|txs| txs.get(&nonce)) {
            // geth's rule: both fee caps must rise by the bump (rounded up).
            let enough = |new: u128, old: u128| new * 100 >= old * bump;
            if !enough(tx.max_fee, old.max_fee) || !enough(tx.tip, old.tip) {
                return Err(PoolError::ReplacementUnderpriced);
            }
            let old_hash = old.hash;
            self.by_hash.remove(&old_hash);
            self.by_hash.insert(tx.hash, (sender, nonce));
            self.by_sender.entry(sender).or_default().insert(nonce, tx);
            self.next_seq += 1;
            return Ok(Some(old_hash));
        }
        if self.by_sender.get(&sender).map_or(0, BTreeMap::len) >= self.config.account_slots {
            return Err(PoolError::AccountLimit);
        }
        let mut evicted = None;
        if self.by_hash.len() >= self.config.global_slots {
            // Evict the cheapest transaction that is the last of its sender's (so no sender is
            // left with a gap), if the newcomer pays more.
            let victim = self
                .by_sender
                .iter()
                .filter(|(s, _)| **s != sender)
                .filter_map(|(_, txs)| txs.last_key_value().map(|(_, t)| t))
                .min_by_key(|t| (t.tip, Reverse(t.seq)))
                .map(|t| (t.hash, t.tip));
            match victim {
                Some((hash, tip)) if tip < tx.tip => {
                    self.remove(&hash);
                    evicted = Some(hash);
                }
                _ => return Err(PoolError::Full),
            }
        }
        self.by_hash.insert(tx.hash, (sender, nonce));
        self.by_sender.entry(sender).or_default().insert(nonce, tx);
        self.next_seq += 1;
        Ok(evicted)
    }

    /// Removes transaction `hash`.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let txs = self.by_sender.get_mut(&sender)?;
        let tx = txs.remove(&nonce);
        if txs.is_empty() {
            self.by_sender.remove(&sender);
        }
        tx
    }

    /// Drops every transaction of `sender` below its new state nonce.
    pub fn prune_sender(&mut self, sender: &Address, state_nonce: u64) {
        let Some(txs) = self.by_sender.get_mut(sender) else { return };
        let keep = txs.split_off(&state_nonce);
        for tx in txs.values() {
            self.by_hash.remove(&tx.hash);
        }
        if keep.is_empty() {
            self.by_sender.remove(sender);
        } else {
            *txs = keep;
        }
    }

    /// Senders with pooled transactions.
    pub fn senders(&self) -> impl Iterator<Item = &Address> {
        self.by_sender.keys()
    }

    /// The transactions for the next block: for each sender its gap-free run from the state
    /// nonce, merged by effective tip at `base_fee` (earliest first among equals), within
    /// `gas_limit`. A sender whose next transaction cannot pay the base fee or does not fit
    /// is skipped from there on (its later nonces could not run without it).
    pub fn best(
        &self,
        base_fee: u64,
        gas_limit: u64,
        state_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<Arc<Recovered<OpTxEnvelope>>> {
        // Heap of each sender's next executable transaction.
        let mut heap = BinaryHeap::new();
        let mut cursors: AddressMap<u64> = AddressMap::default();
        for (sender, txs) in &self.by_sender {
            let nonce = state_nonce(sender);
            if let Some(tx) = txs.get(&nonce)
                && let Some(tip) = tx.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(tx.seq), *sender));
                cursors.insert(*sender, nonce);
            }
        }
        let mut out = Vec::new();
        let mut gas_left = gas_limit;
        while let Some((_, _, sender)) = heap.pop() {
            let nonce = cursors[&sender];
            let tx = &self.by_sender[&sender][&nonce];
            if tx.tx.gas_limit() > gas_left {
                continue;
            }
            gas_left -= tx.tx.gas_limit();
            out.push(tx.tx.clone());
            if gas_left < 21_000 {
                break;
            }
            if let Some(next) = self.by_sender[&sender].get(&(nonce + 1))
                && let Some(tip) = next.effective_tip(base_fee)
            {
                heap.push((tip, Reverse(next.seq), sender));
                cursors.insert(sender, nonce + 1);
            }
        }
        out
    }

    /// Pending and queued transactions per sender (for `txpool_content` and `txpool_status`),
    /// given state nonces.
    pub fn content(
        &self,
        state_nonce: impl Fn(&Address) -> u64,
    ) -> (AddressMap<Vec<&PoolTx>>, AddressMap<Vec<&PoolTx>>) {
        let mut pending = AddressMap::default();
        let mut queued = AddressMap::default();
        for (sender, txs) in &self.by_sender {
            let mut next = state_nonce(sender);
            for (nonce, tx) in txs {
                if *nonce == next {
                    pending.entry(*sender).or_insert_with(Vec::new).push(tx);
                    next += 1;
                } else {
                    queued.entry(*sender).or_insert_with(Vec::new).push(tx);
                }
            }
        }
        (pending, queued)
    }

    /// Pending and queued counts.
    pub fn status(&self, state_nonce: impl Fn(&Address) -> u64) -> PoolStatus {
        let (pending, queued) = self.content(state_nonce);
        PoolStatus {
            pending: pending.values().map(Vec::len).sum(),
            queued: queued.values().map(Vec::len).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy::consensus::{SignableTransaction, TxEip1559};
    use alloy::signers::SignerSync;
    use alloy::signers::local::PrivateKeySigner;
    use alloy_primitives::{TxKind, U256};

    use super::*;

    fn tx(signer: &PrivateKeySigner, nonce: u64, max_fee: u128, tip: u128) -> PoolTx {
        let inner = TxEip1559 {
            chain_id: 1,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::ZERO),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&inner.signature_hash()).unwrap();
        let env: OpTxEnvelope = inner.into_signed(sig).into();
        PoolTx::new(Recovered::new_unchecked(env, signer.address()))
    }

    fn pool(account_slots: usize, global_slots: usize) -> Mempool {
        Mempool::new(TxPoolConfig { account_slots, global_slots, price_bump: 10 })
    }

    #[test]
    fn pending_queued_and_nonce_gap() {
        let a = PrivateKeySigner::random();
        let mut p = pool(16, 100);
        p.insert(tx(&a, 0, 10, 1)).unwrap();
        p.insert(tx(&a, 2, 10, 1)).unwrap();
        assert_eq!(p.pending_nonce(&a.address(), 0), 1);
        assert_eq!(p.status(|_| 0), PoolStatus { pending: 1, queued: 1 });
        assert_eq!(p.best(1, 30_000_000, |_| 0).len(), 1, "the queued nonce is not executable");
        p.insert(tx(&a, 1, 10, 1)).unwrap();
        assert_eq!(p.pending_nonce(&a.address(), 0), 3);
        let best = p.best(1, 30_000_000, |_| 0);
        assert_eq!(best.iter().map(|t| t.nonce()).collect::<Vec<_>>(), vec![0, 1, 2]);
        p.prune_sender(&a.address(), 2);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn replacement_needs_ten_percent_on_both_fees() {
        let a = PrivateKeySigner::random();
        let mut p = pool(16, 100);
        p.insert(tx(&a, 0, 100, 10)).unwrap();
        assert_eq!(p.insert(tx(&a, 0, 109, 11)), Err(PoolError::ReplacementUnderpriced));
        assert_eq!(p.insert(tx(&a, 0, 110, 10)), Err(PoolError::ReplacementUnderpriced));
        let same = tx(&a, 0, 100, 10);
        assert_eq!(p.insert(same), Err(PoolError::AlreadyKnown));
        assert!(p.insert(tx(&a, 0, 110, 11)).unwrap().is_some());
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn ordering_by_effective_tip_and_gas_limit() {
        let (a, b, c) = (PrivateKeySigner::random(), PrivateKeySigner::random(), PrivateKeySigner::random());
        let mut p = pool(16, 100);
        p.insert(tx(&a, 0, 100, 5)).unwrap(); // tip 5
        p.insert(tx(&b, 0, 12, 50)).unwrap(); // effective tip at base fee 10: 2
        p.insert(tx(&c, 0, 9, 9)).unwrap(); // below the base fee: waits
        let best = p.best(10, 30_000_000, |_| 0);
        assert_eq!(best.iter().map(|t| t.signer()).collect::<Vec<_>>(), vec![a.address(), b.address()]);
        assert_eq!(p.best(10, 21_000, |_| 0).len(), 1, "the block's gas limit holds");
    }

    #[test]
    fn limits_and_eviction() {
        let (a, b) = (PrivateKeySigner::random(), PrivateKeySigner::random());
        let mut p = pool(2, 3);
        p.insert(tx(&a, 0, 10, 1)).unwrap();
        p.insert(tx(&a, 1, 10, 1)).unwrap();
        assert_eq!(p.insert(tx(&a, 2, 10, 1)), Err(PoolError::AccountLimit));
        p.insert(tx(&b, 0, 10, 1)).unwrap();
        assert_eq!(p.insert(tx(&b, 1, 10, 1)), Err(PoolError::Full), "no cheaper victim");
        let evicted = p.insert(tx(&b, 1, 10, 2)).unwrap();
        let evicted = evicted.expect("a's last transaction is evicted");
        assert_eq!(p.len(), 3);
        assert!(!p.contains(&evicted));
        assert_eq!(p.pending_nonce(&a.address(), 0), 1);
    }
}
