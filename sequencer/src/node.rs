//! The node: the head state, the chain store, the mempool and the block producer.
//!
//! Locks are always taken in the order state → head → pool, so the producer (which holds the
//! state for writing while it builds, stores and publishes a block) and RPC readers never
//! deadlock, and a reader holding the state lock sees a state and a head that belong together.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::consensus::constants::EMPTY_OMMER_ROOT_HASH;
use alloy::consensus::constants::EMPTY_ROOT_HASH;
use alloy::consensus::transaction::{Recovered, SignerRecoverable};
use alloy::consensus::{Header, Transaction, TxEnvelope, TxType};
use alloy::eips::eip1559::BaseFeeParams;
use alloy::eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy::eips::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use revm::context_interface::cfg::gas::calculate_initial_tx_gas_for_tx;
use temporis_aivm::precompiles::model_precompiles;
use temporis_aivm::precompiles::store::ModelStore;
use temporis_aivm::stf::{InvalidTxPolicy, tx_env};
use temporis_aivm::{AivmPrecompileSet, BlockInput, ExecOptions, Executor, State};
use temporis_protocol::chain::L1_BLOCK_PREDEPLOY;
use temporis_protocol::l1::{L1BlockInfo, L1BlockValues, L1Epoch, block_system_txs, next_origin};
use tokio::sync::broadcast;

use crate::config::{Config, MAX_TX_SIZE};
use crate::genesis::{
    dev_genesis, genesis_block, parse_genesis, with_model_registry, with_rollup_predeploys,
};
use crate::mempool::{Mempool, PoolError, PoolTx};
use crate::store::{ChainStore, L1Origin, StoredBlock};
use crate::{Result, SequencerError};

/// Why a transaction was refused at submission (messages as geth words them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Bytes that are not a transaction.
    #[error("rlp: {0}")]
    Decode(String),
    /// Over [`MAX_TX_SIZE`].
    #[error("oversized data")]
    Oversized,
    /// EIP-4844 (the L2 has no blob space) or an unknown type.
    #[error("transaction type not supported")]
    TypeNotSupported,
    /// A legacy transaction without EIP-155 replay protection.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    NotReplayProtected,
    /// Signed for another chain.
    #[error("invalid chain id")]
    WrongChainId,
    /// The signature does not recover.
    #[error("invalid sender")]
    InvalidSender,
    /// Gas limit above the block's.
    #[error("exceeds block gas limit")]
    GasLimit,
    /// Gas limit above EIP-7825's cap.
    #[error("transaction gas limit too high (cap: {cap}, tx: {gas})")]
    GasCap {
        /// The cap.
        cap: u64,
        /// The transaction's gas limit.
        gas: u64,
    },
    /// Gas limit below the intrinsic gas.
    #[error("intrinsic gas too low")]
    IntrinsicGas,
    /// Tip above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Nonce below the sender's.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// The sender's nonce.
        state: u64,
        /// The transaction's.
        tx: u64,
    },
    /// Balance below `gas · fee cap + value`.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}, overshot {}", cost - balance)]
    InsufficientFunds {
        /// The sender's balance.
        balance: U256,
        /// What the transaction may cost.
        cost: U256,
    },
    /// Already included in a block.
    #[error("already known")]
    AlreadyIncluded,
    /// Refused by the pool.
    #[error(transparent)]
    Pool(#[from] PoolError),
}

/// The model store's directory under the datadir.
pub const MODELS_DIR: &str = "models";

/// The chain head: its header and hash.
#[derive(Debug, Clone)]
pub struct Head {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: B256,
}

/// The newest blocks and their transactions' positions, kept in memory so that receipt and
/// block queries for the chain tip (what wallets poll) need no store read.
#[derive(Default)]
struct Recent {
    blocks: std::collections::VecDeque<Arc<StoredBlock>>,
    txs: alloy_primitives::map::B256Map<(u64, u32)>,
}

/// How many blocks [`Recent`] keeps.
const RECENT_BLOCKS: usize = 256;

impl Recent {
    fn push(&mut self, block: Arc<StoredBlock>) {
        for (i, tx) in block.txs.iter().enumerate() {
            self.txs.insert(tx.tx_hash(), (block.header.number, i as u32));
        }
        self.blocks.push_back(block);
        if self.blocks.len() > RECENT_BLOCKS
            && let Some(old) = self.blocks.pop_front()
        {
            for tx in &old.txs {
                self.txs.remove(&tx.tx_hash());
            }
        }
    }

    fn get(&self, number: u64) -> Option<Arc<StoredBlock>> {
        let first = self.blocks.front()?.header.number;
        let block = self.blocks.get(number.checked_sub(first)? as usize)?;
        Some(block.clone())
    }
}

/// Where the block producer stands on L1: the current origin and the L2 block's position in
/// its epoch, and the confirmed L1 blocks not yet taken as origin.
#[derive(Debug, Default)]
struct L1Cursor {
    /// The L1 origin of the head (none: no L1 block was ever pushed, standalone).
    origin: Option<L1BlockInfo>,
    /// The head's sequence number in the epoch of `origin`.
    seq: u64,
    /// Pushed L1 blocks after `origin`, in order.
    queue: std::collections::VecDeque<L1Epoch>,
}

impl L1Cursor {
    /// The cursor of a chain whose head is `head`: the origin and sequence number its L1
    /// attributes deposit (its first transaction) carries. The L1 parent hash is not among the
    /// attributes, so it is zero in the resumed origin (only the hash is checked against the
    /// next pushed block's parent).
    fn resume(head: &StoredBlock) -> Result<Self> {
        let Some(stored) = head.l1_origin else { return Ok(Self::default()) };
        let values = head
            .txs
            .first()
            .and_then(|tx| tx.as_deposit())
            .filter(|d| d.to.to() == Some(&L1_BLOCK_PREDEPLOY))
            .map(|d| L1BlockValues::decode_ecotone(&d.input))
            .transpose()
            .map_err(|e| SequencerError::Store(format!("block {}: {e}", head.header.number)))?
            .ok_or_else(|| {
                SequencerError::Store(format!(
                    "block {} has an L1 origin but does not start with the L1 attributes deposit",
                    head.header.number
                ))
            })?;
        if values.hash != stored.hash || values.number != stored.number {
            return Err(SequencerError::Store(format!(
                "block {}: its L1 attributes name another L1 block than its stored origin",
                head.header.number
            )));
        }
        let origin = L1BlockInfo {
            number: values.number,
            hash: values.hash,
            parent_hash: B256::ZERO,
            timestamp: values.timestamp,
            base_fee: values.base_fee.saturating_to(),
            blob_base_fee: values.blob_base_fee.saturating_to(),
        };
        Ok(Self { origin: Some(origin), seq: values.sequence_number, queue: Default::default() })
    }

    /// The newest L1 block known (queued or the origin).
    fn last(&self) -> Option<&L1BlockInfo> {
        self.queue.back().map(|e| &e.info).or(self.origin.as_ref())
    }

    /// The origin, sequence number and user deposits of the next L2 block at `timestamp`, and
    /// whether it takes the next queued L1 block; none before any L1 block is known or due.
    fn next(
        &self,
        timestamp: u64,
    ) -> Option<(L1BlockInfo, u64, &[temporis_protocol::deposit::DepositLog], bool)> {
        let queued = self.queue.front();
        match (self.origin, next_origin(queued.map(|e| &e.info), timestamp, self.seq)) {
            (_, (true, seq)) => queued.map(|e| (e.info, seq, e.deposits.as_slice(), true)),
            (Some(origin), (false, seq)) => Some((origin, seq, &[][..], false)),
            (None, _) => None,
        }
    }
}

struct Inner {
    config: Config,
    /// The L1 origin and queued L1 blocks of the block producer.
    l1: Mutex<L1Cursor>,
    /// The genesis, for replays from it (tracing old transactions).
    genesis: alloy::genesis::Genesis,
    metrics: crate::metrics::Metrics,
    recent: RwLock<Recent>,
    chain_id: u64,
    executor: Executor,
    precompiles: Arc<AivmPrecompileSet>,
    /// The model store behind the precompiles, synced before each block is committed.
    models: Arc<ModelStore>,
    state: RwLock<State>,
    head: RwLock<Head>,
    pool: Mutex<Mempool>,
    store: ChainStore,
    blocks: broadcast::Sender<Arc<StoredBlock>>,
    pending_txs: broadcast::Sender<B256>,
    stopped: AtomicBool,
}

/// The node (cheap to clone: a handle).
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").field("chain_id", &self.inner.chain_id).finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The execution environment of the block with `header`.
pub(crate) fn block_input(header: &Header) -> BlockInput {
    BlockInput {
        number: header.number,
        timestamp: header.timestamp,
        beneficiary: header.beneficiary,
        base_fee: header.base_fee_per_gas.unwrap_or_default(),
        gas_limit: header.gas_limit,
        prevrandao: header.mix_hash,
        parent_hash: header.parent_hash,
    }
}

impl Node {
    /// Opens the chain in `config.datadir`: creates it from the genesis if empty, else
    /// rebuilds the head state by replaying every stored block from the stored genesis, checking
    /// each state root and receipts root against its header.
    pub fn open(config: Config) -> Result<Self> {
        let store = ChainStore::open(&config.datadir)?;
        // The genesis is stored as first read (with the registry predeploy added), so a restart
        // rebuilds exactly the same genesis state whatever this build would add.
        let genesis_json = match store.meta("genesis")? {
            Some(json) => String::from_utf8(json).map_err(|e| SequencerError::Genesis(e.to_string()))?,
            None => {
                let genesis = match &config.genesis {
                    Some(path) => {
                        let mut genesis = parse_genesis(&std::fs::read_to_string(path)?)?;
                        if !with_model_registry(&mut genesis) {
                            tracing::info!(target: "sequencer::node", "the genesis file has code at the model registry's address: kept");
                        }
                        let added = with_rollup_predeploys(&mut genesis);
                        tracing::info!(target: "sequencer::node", added, "rollup predeploys placed in the genesis");
                        genesis
                    }
                    None if config.dev => {
                        let chain_id =
                            config.chain_id.unwrap_or(temporis_protocol::chain::DEVNET_L2_CHAIN_ID);
                        dev_genesis(chain_id, config.sequencer.gas_limit)
                    }
                    None => {
                        return Err(SequencerError::Config(
                            "no genesis: pass --genesis FILE or --dev".into(),
                        ));
                    }
                };
                serde_json::to_string(&genesis).map_err(|e| SequencerError::Genesis(e.to_string()))?
            }
        };
        let genesis = parse_genesis(&genesis_json)?;
        let chain_id = config.chain_id.unwrap_or(if genesis.config.chain_id != 0 {
            genesis.config.chain_id
        } else {
            temporis_protocol::chain::DEVNET_L2_CHAIN_ID
        });
        let (mut state, genesis_header) = genesis_block(&genesis, config.sequencer.gas_limit);
        // The model precompiles over a store in the datadir: chunks and verified models survive
        // a restart, so blocks replayed from a snapshot find the models published before it
        // (a replay from genesis refills the store by itself).
        let models_dir = config.datadir.join(MODELS_DIR);
        let models_existed = models_dir.is_dir();
        let models =
            ModelStore::open(&models_dir).map_err(|e| SequencerError::Store(format!("model store: {e}")))?;
        let models = Arc::new(models);
        let precompiles = Arc::new(model_precompiles(Arc::clone(&models)));
        let executor = Executor::new(chain_id).with_precompiles((*precompiles).clone());

        let head = match store.head_number()? {
            None => {
                let block = StoredBlock {
                    hash: genesis_header.hash_slow(),
                    header: genesis_header,
                    txs: vec![],
                    senders: vec![],
                    receipts: vec![],
                    l1_origin: None,
                };
                store.commit_block(&block, &[("genesis", genesis_json.as_bytes())])?;
                tracing::info!(target: "sequencer::node", hash = %block.hash, chain_id, "created genesis");
                Head { header: block.header, hash: block.hash }
            }
            Some(head) => {
                let started = Instant::now();
                let stored_genesis =
                    store.header(0)?.ok_or_else(|| SequencerError::Store("no genesis header".into()))?;
                if stored_genesis.state_root != genesis_header.state_root {
                    return Err(SequencerError::Store("the stored genesis does not match its state".into()));
                }
                let mut last = Head { hash: stored_genesis.hash_slow(), header: stored_genesis };
                // Start from the newest snapshot if it is sound (its root is its block's).
                // Without the model store the snapshot's chain would replay without the models
                // published before it: replay from genesis instead, which refills the store.
                let snapshot = if models_existed { store.meta("snapshot")? } else { None };
                if !models_existed {
                    tracing::warn!(target: "sequencer::node", dir = %models_dir.display(), "no model store: replaying from genesis");
                }
                if let Some(bytes) = snapshot {
                    let (number, mut snap) = crate::snapshot::decode(&bytes)?;
                    let header = store
                        .header(number)?
                        .ok_or_else(|| SequencerError::Store(format!("block {number} missing")))?;
                    if number <= head && snap.state_root() == header.state_root {
                        for n in number.saturating_sub(temporis_aivm::state::BLOCK_HASH_HISTORY)..=number {
                            if let Some(h) = store.header(n)? {
                                snap.set_block_hash(n, h.hash_slow());
                            }
                        }
                        state = snap;
                        last = Head { hash: header.hash_slow(), header };
                    } else {
                        tracing::warn!(target: "sequencer::node", number, "state snapshot does not match its block; replaying from genesis");
                    }
                }
                let from = last.header.number + 1;
                let strict = ExecOptions { per_tx_roots: false, on_invalid: InvalidTxPolicy::FailBlock };
                for number in from..=head {
                    let block = store
                        .block(number)?
                        .ok_or_else(|| SequencerError::Store(format!("block {number} missing")))?;
                    let txs: Vec<_> = block
                        .txs
                        .iter()
                        .zip(&block.senders)
                        .map(|(t, s)| Recovered::new_unchecked(t.clone(), *s))
                        .collect();
                    let out = executor
                        .execute_block(&mut state, &block_input(&block.header), &txs, &strict)
                        .map_err(|e| SequencerError::Store(format!("replaying block {number}: {e}")))?;
                    if out.state_root != block.header.state_root
                        || out.receipts_root != block.header.receipts_root
                    {
                        return Err(SequencerError::Store(format!(
                            "replaying block {number}: roots differ from its header"
                        )));
                    }
                    last = Head { header: block.header, hash: block.hash };
                }
                tracing::info!(target: "sequencer::node", head, replayed = head + 1 - from, hash = %last.hash, elapsed = ?started.elapsed(), "state rebuilt from the chain store");
                last
            }
        };
        let l1 = match store.head_number()? {
            Some(n) if n > 0 => {
                let block =
                    store.block(n)?.ok_or_else(|| SequencerError::Store(format!("block {n} missing")))?;
                L1Cursor::resume(&block)?
            }
            _ => L1Cursor::default(),
        };
        if let Some(origin) = &l1.origin {
            tracing::info!(target: "sequencer::node", l1_origin = origin.number, seq = l1.seq, "resumed the L1 origin");
        }
        let (blocks, _) = broadcast::channel(1024);
        let (pending_txs, _) = broadcast::channel(4096);
        Ok(Self {
            inner: Arc::new(Inner {
                l1: Mutex::new(l1),
                genesis,
                recent: RwLock::new(Recent::default()),
                metrics: Default::default(),
                pool: Mutex::new(Mempool::new(config.txpool.clone())),
                config,
                chain_id,
                executor,
                precompiles,
                models,
                state: RwLock::new(state),
                head: RwLock::new(head),
                store,
                blocks,
                pending_txs,
                stopped: AtomicBool::new(false),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.inner.chain_id
    }

    /// The executor.
    pub fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// The AIVM precompiles (for calls).
    pub fn precompiles(&self) -> &Arc<AivmPrecompileSet> {
        &self.inner.precompiles
    }

    /// The chain store.
    pub fn store(&self) -> &ChainStore {
        &self.inner.store
    }

    /// Block `number`, from memory if recent, else from the store.
    pub fn block(&self, number: u64) -> Result<Option<Arc<StoredBlock>>> {
        if let Some(b) = self.inner.recent.read().expect("recent lock").get(number) {
            return Ok(Some(b));
        }
        Ok(self.inner.store.block(number)?.map(Arc::new))
    }

    /// Where transaction `hash` was included (block number, index).
    pub fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>> {
        if let Some(loc) = self.inner.recent.read().expect("recent lock").txs.get(hash) {
            return Ok(Some(*loc));
        }
        self.inner.store.tx_location(hash)
    }

    /// Hands the block producer the next confirmed L1 block and its deposits (the L1 watcher
    /// calls this in L1 order). The next L2 block whose timestamp is at least the L1 block's
    /// takes it as its origin (OP's rule; one L1 block per L2 block at most) and starts with
    /// its L1 attributes deposit and then its user deposits; later blocks of the epoch start
    /// with the L1 attributes deposit only. A block already known (same number and hash, as
    /// a watcher replaying after a restart pushes) is ignored. Refused: a block that does not
    /// extend the last one known (wrong parent hash, a gap, another hash at a known number),
    /// or a deposit log that is not of this block or does not decode. The queue lives in
    /// memory: after a restart the watcher pushes again from the head's origin
    /// ([`Node::l1_origin_of`] the head), which the node resumed from its store.
    pub fn push_l1_epoch(&self, epoch: L1Epoch) -> Result<()> {
        let info = epoch.info;
        for log in &epoch.deposits {
            if log.l1_block_hash != info.hash {
                return Err(SequencerError::L1(format!(
                    "deposit log {} is of L1 block {}, not of {} ({})",
                    log.log_index, log.l1_block_hash, info.number, info.hash
                )));
            }
            log.to_deposit_tx().map_err(|e| {
                SequencerError::L1(format!("deposit log {} of L1 block {}: {e}", log.log_index, info.number))
            })?;
        }
        let mut l1 = self.inner.l1.lock().expect("l1 lock");
        if let Some(last) = l1.last() {
            if info.number <= last.number {
                if info.number == last.number && info.hash != last.hash {
                    return Err(SequencerError::L1(format!(
                        "L1 block {} is {}, already known as {}",
                        info.number, info.hash, last.hash
                    )));
                }
                tracing::debug!(target: "sequencer::l1", number = info.number, "L1 block already known");
                return Ok(());
            }
            if info.number != last.number + 1 || info.parent_hash != last.hash {
                return Err(SequencerError::L1(format!(
                    "L1 block {} ({}, parent {}) does not extend block {} ({})",
                    info.number, info.hash, info.parent_hash, last.number, last.hash
                )));
            }
        }
        tracing::debug!(target: "sequencer::l1", number = info.number, hash = %info.hash, deposits = epoch.deposits.len(), "L1 block queued");
        l1.queue.push_back(epoch);
        Ok(())
    }

    /// The L1 origin of block `number` (none for standalone blocks and unknown numbers).
    pub fn l1_origin_of(&self, number: u64) -> Result<Option<L1Origin>> {
        Ok(self.block(number)?.and_then(|b| b.l1_origin))
    }

    /// The node's counters.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The current head.
    pub fn head(&self) -> Head {
        self.inner.head.read().expect("head lock").clone()
    }

    /// Runs `f` on the head state and the head it belongs to.
    pub fn with_state<R>(&self, f: impl FnOnce(&State, &Head) -> R) -> R {
        let state = self.inner.state.read().expect("state lock");
        let head = self.inner.head.read().expect("head lock");
        f(&state, &head)
    }

    /// Runs `f` on the head state with exclusive access (for work that fills the tries'
    /// caches, such as proofs); block production waits meanwhile.
    pub fn with_state_mut<R>(&self, f: impl FnOnce(&mut State, &Head) -> R) -> R {
        let mut state = self.inner.state.write().expect("state lock");
        let head = self.inner.head.read().expect("head lock");
        f(&mut state, &head)
    }

    /// The state before transaction `index` of block `number`: the genesis with every block
    /// before it replayed, then the block's first `index` transactions. O(chain length): the
    /// node keeps the head state only.
    pub fn state_before(&self, number: u64, index: usize) -> Result<State> {
        let inner = &self.inner;
        let (mut state, _) = genesis_block(&inner.genesis, inner.config.sequencer.gas_limit);
        let strict = ExecOptions { per_tx_roots: false, on_invalid: InvalidTxPolicy::FailBlock };
        for n in 1..=number {
            let block = self.block(n)?.ok_or_else(|| SequencerError::Store(format!("block {n} missing")))?;
            let txs: Vec<_> = block
                .txs
                .iter()
                .zip(&block.senders)
                .take(if n == number { index } else { usize::MAX })
                .map(|(t, s)| Recovered::new_unchecked(t.clone(), *s))
                .collect();
            inner
                .executor
                .execute_block(&mut state, &block_input(&block.header), &txs, &strict)
                .map_err(|e| SequencerError::Execution(format!("replaying block {n}: {e}")))?;
        }
        Ok(state)
    }

    /// Runs `f` on the mempool.
    pub fn with_pool<R>(&self, f: impl FnOnce(&Mempool) -> R) -> R {
        f(&self.inner.pool.lock().expect("pool lock"))
    }

    /// New blocks, as they become visible.
    pub fn subscribe_blocks(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        self.inner.blocks.subscribe()
    }

    /// Hashes of transactions entering the pool.
    pub fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.inner.pending_txs.subscribe()
    }

    /// The base fee of the next block.
    pub fn next_base_fee(&self) -> u64 {
        self.head().header.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or_default()
    }

    /// The next nonce of `address`, counting its pending pool transactions.
    pub fn pending_nonce(&self, address: &Address) -> u64 {
        let state = self.inner.state.read().expect("state lock");
        let nonce = state.account(address).map_or(0, |a| a.nonce);
        self.inner.pool.lock().expect("pool lock").pending_nonce(address, nonce)
    }

    /// Checks raw transaction bytes and adds the transaction to the pool; returns its hash.
    pub fn submit_raw(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        if raw.len() > MAX_TX_SIZE {
            return Err(SubmitError::Oversized);
        }
        let mut buf = raw;
        // A first byte below 0x80 is an EIP-2718 type; 0xc0 and above start a legacy RLP list.
        let typed = raw.first().is_some_and(|b| *b < 0x80);
        if typed && raw[0] > TxType::Eip7702 as u8 {
            return Err(SubmitError::TypeNotSupported);
        }
        let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| match e {
            alloy::eips::eip2718::Eip2718Error::UnexpectedType(_) if typed => SubmitError::TypeNotSupported,
            e => SubmitError::Decode(e.to_string()),
        })?;
        if !buf.is_empty() {
            return Err(SubmitError::Decode("trailing bytes after the transaction".into()));
        }
        self.submit(tx)
    }

    /// Checks a decoded transaction and adds it to the pool.
    pub fn submit(&self, tx: TxEnvelope) -> Result<B256, SubmitError> {
        let result = self.check_and_pool(tx);
        let m = &self.inner.metrics;
        crate::metrics::Metrics::inc(if result.is_ok() { &m.txs_accepted } else { &m.txs_refused }, 1);
        result
    }

    fn check_and_pool(&self, tx: TxEnvelope) -> Result<B256, SubmitError> {
        // Users cannot send deposits: an Ethereum envelope has no type 0x7E, and a blob
        // transaction has no OP envelope.
        let Ok(tx) = OpTxEnvelope::try_from_eth_envelope(tx) else {
            return Err(SubmitError::TypeNotSupported);
        };
        match tx.chain_id() {
            None => return Err(SubmitError::NotReplayProtected),
            Some(id) if id != self.inner.chain_id => return Err(SubmitError::WrongChainId),
            Some(_) => {}
        }
        let sender = tx.recover_signer().map_err(|_| SubmitError::InvalidSender)?;
        let hash = tx.tx_hash();
        let gas = tx.gas_limit();
        if gas > self.inner.config.sequencer.gas_limit {
            return Err(SubmitError::GasLimit);
        }
        if gas > crate::evm::CALL_GAS_CAP {
            return Err(SubmitError::GasCap { cap: crate::evm::CALL_GAS_CAP, gas });
        }
        if let Some(tip) = tx.max_priority_fee_per_gas()
            && tip > tx.max_fee_per_gas()
        {
            return Err(SubmitError::TipAboveFeeCap);
        }
        let recovered = Recovered::new_unchecked(tx, sender);
        let env = tx_env(&recovered).map_err(|_| SubmitError::TypeNotSupported)?;
        let intrinsic = calculate_initial_tx_gas_for_tx(&env, self.inner.executor.spec(), None);
        if gas < intrinsic.initial_total_gas().max(intrinsic.floor_gas) {
            return Err(SubmitError::IntrinsicGas);
        }
        let state = self.inner.state.read().expect("state lock");
        let (balance, nonce) = state.account(&sender).map_or((U256::ZERO, 0), |a| (a.balance, a.nonce));
        let tx_nonce = recovered.nonce();
        if tx_nonce < nonce {
            if self.tx_location(&hash).ok().flatten().is_some() {
                return Err(SubmitError::AlreadyIncluded);
            }
            return Err(SubmitError::NonceTooLow { state: nonce, tx: tx_nonce });
        }
        // With the L1 data fee at the head's L1 values (the block that includes it checks again
        // at its own).
        let l1_fee =
            temporis_aivm::l1fee::L1FeeParams::from_state(&state).fee(&recovered.inner().encoded_2718());
        let cost = U256::from(gas) * U256::from(recovered.max_fee_per_gas()) + recovered.value() + l1_fee;
        if balance < cost {
            return Err(SubmitError::InsufficientFunds { balance, cost });
        }
        let mut pool = self.inner.pool.lock().expect("pool lock");
        let replaced = pool.insert(PoolTx::new(recovered))?;
        drop(pool);
        drop(state);
        tracing::debug!(target: "sequencer::pool", %hash, %sender, nonce = tx_nonce, ?replaced, "transaction pooled");
        let _ = self.inner.pending_txs.send(hash);
        Ok(hash)
    }

    /// Builds, stores and publishes the next block. The block is committed to the store before
    /// it becomes the head (and so before any client can see it).
    pub fn produce_block(&self) -> Result<Arc<StoredBlock>> {
        let inner = &self.inner;
        let mut state = inner.state.write().expect("state lock");
        let parent = inner.head.read().expect("head lock").clone();
        let gas_limit = inner.config.sequencer.gas_limit;
        let base_fee = parent.header.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or_default();
        // Sub-second block times give several blocks per second: timestamps never go
        // backwards but may repeat.
        let timestamp = now_secs().max(parent.header.timestamp);
        // The block's system transactions come first: the L1 attributes deposit, and in the
        // first block of an epoch the epoch's user deposits.
        let (origin, system_txs) = {
            let l1 = inner.l1.lock().expect("l1 lock");
            match l1.next(timestamp) {
                None => (None, Vec::new()),
                Some((info, seq, deposits, advanced)) => {
                    let txs = block_system_txs(&info, seq, deposits, &inner.config.sequencer.fee_params)
                        .map_err(|e| SequencerError::L1(e.to_string()))?;
                    (Some((info, seq, advanced)), txs)
                }
            }
        };
        let mut candidates: Vec<Recovered<OpTxEnvelope>> = system_txs
            .into_iter()
            .map(|tx| {
                let from = tx.as_deposit().map(|d| d.from).unwrap_or_default();
                Recovered::new_unchecked(tx, from)
            })
            .collect();
        let system_gas: u64 = candidates.iter().map(|t| t.gas_limit()).sum();
        {
            let pool = inner.pool.lock().expect("pool lock");
            let best = pool.best(base_fee, gas_limit.saturating_sub(system_gas), |a| {
                state.account(a).map_or(0, |acc| acc.nonce)
            });
            candidates.extend(best.into_iter().map(|t| (*t).clone()));
        }
        let header_base = Header {
            parent_hash: parent.hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: inner.config.sequencer.coinbase,
            number: parent.header.number + 1,
            gas_limit,
            timestamp,
            mix_hash: keccak256(parent.hash),
            base_fee_per_gas: Some(base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            requests_hash: Some(EMPTY_REQUESTS_HASH),
            ..Header::default()
        };
        let started = Instant::now();
        let options = ExecOptions { per_tx_roots: false, on_invalid: InvalidTxPolicy::Skip };
        let out = inner
            .executor
            .execute_block(&mut state, &block_input(&header_base), &candidates, &options)
            .map_err(|e| SequencerError::Execution(e.to_string()))?;
        let rejected: std::collections::HashSet<usize> = out.rejected.iter().map(|r| r.index).collect();
        let (txs, senders): (Vec<OpTxEnvelope>, Vec<Address>) = candidates
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !rejected.contains(i))
            .map(|(_, t)| {
                let signer = t.signer();
                (t.into_inner(), signer)
            })
            .unzip();
        let header = Header {
            state_root: out.state_root,
            transactions_root: out.transactions_root,
            receipts_root: out.receipts_root,
            logs_bloom: out.logs_bloom,
            gas_used: out.gas_used,
            ..header_base
        };
        let block = Arc::new(StoredBlock {
            hash: header.hash_slow(),
            header,
            txs,
            senders,
            receipts: out.receipts,
            l1_origin: origin.map(|(info, _, _)| L1Origin {
                number: info.number,
                hash: info.hash,
                timestamp: info.timestamp,
            }),
        });
        let executed = started.elapsed();
        let interval = inner.config.snapshot_interval;
        let snapshot = (interval > 0 && block.header.number.is_multiple_of(interval))
            .then(|| crate::snapshot::encode(&state, block.header.number));
        let meta: Vec<(&str, &[u8])> = snapshot.iter().map(|s| ("snapshot", s.as_slice())).collect();
        // Chunks and verdicts the block wrote reach the disk before the block that needs them.
        let committed = inner
            .models
            .sync()
            .map_err(|e| SequencerError::Store(format!("model store: {e}")))
            .and_then(|()| inner.store.commit_block(&block, &meta));
        if let Err(e) = committed {
            // The in-memory state is now ahead of the store: nothing may be served from it.
            inner.stopped.store(true, Ordering::SeqCst);
            return Err(e);
        }
        {
            let mut head = inner.head.write().expect("head lock");
            inner.recent.write().expect("recent lock").push(block.clone());
            *head = Head { header: block.header.clone(), hash: block.hash };
        }
        if let Some((info, seq, advanced)) = origin {
            let mut l1 = inner.l1.lock().expect("l1 lock");
            if advanced {
                l1.queue.pop_front();
            }
            l1.origin = Some(info);
            l1.seq = seq;
        }
        {
            let mut pool = inner.pool.lock().expect("pool lock");
            for r in &out.rejected {
                tracing::debug!(target: "sequencer::producer", hash = %r.hash, reason = %r.reason, "dropped from the pool");
                pool.remove(&r.hash);
            }
            let mut touched: Vec<Address> = block.senders.clone();
            touched.sort_unstable();
            touched.dedup();
            for sender in touched {
                pool.prune_sender(&sender, state.account(&sender).map_or(0, |a| a.nonce));
            }
        }
        drop(state);
        let m = &inner.metrics;
        crate::metrics::Metrics::inc(&m.blocks_produced, 1);
        crate::metrics::Metrics::inc(&m.txs_included, block.txs.len() as u64);
        m.last_block_micros.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        tracing::info!(target: "sequencer::producer", number = block.header.number, hash = %block.hash, txs = block.txs.len(), gas_used = block.header.gas_used, ?executed, total = ?started.elapsed(), "block produced");
        let _ = inner.blocks.send(block.clone());
        Ok(block)
    }

    /// Whether the producer stopped on a store failure.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Runs the block producer on its own thread until `shutdown` is set: a block every
    /// `block_time`, on a fixed schedule (a slow block delays the next one, never skips it).
    pub fn spawn_producer(&self, shutdown: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let node = self.clone();
        std::thread::Builder::new()
            .name("block-producer".into())
            .spawn(move || {
                let interval = node.inner.config.sequencer.block_time;
                let mut next = Instant::now() + interval;
                while !shutdown.load(Ordering::SeqCst) {
                    let now = Instant::now();
                    if now < next {
                        std::thread::sleep((next - now).min(Duration::from_millis(50)));
                        continue;
                    }
                    next += interval;
                    if next < now {
                        next = now + interval;
                    }
                    if let Err(e) = node.produce_block() {
                        tracing::error!(target: "sequencer::producer", error = %e, "block production failed; stopping");
                        shutdown.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            })
            .expect("spawn the block producer")
    }

    /// The encoded bytes of a pooled transaction.
    pub fn pooled_raw(&self, hash: &B256) -> Option<Bytes> {
        self.with_pool(|p| p.get(hash).map(|t| t.tx.inner().encoded_2718().into()))
    }
}
