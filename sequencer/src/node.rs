//! The node: the head state, the chain store, the mempool and the block producer.
//!
//! Locks are always taken in the order gate → state → undo → head → pool, so the producer and
//! RPC readers never deadlock.
//!
//! The invariant: **no reader sees state of a block that is not committed**. The producer holds
//! the *gate* for writing through a whole block, from picking its transactions to advancing the
//! head. It holds the *state* lock for writing only while it executes the block (the state
//! becomes the block's post-state), then leaves in *undo* the values the block replaced and
//! releases the state lock for the durable commit (the fsyncs); once the commit returned it
//! takes the state lock again, briefly, to advance the head and clear *undo* together. So under
//! the state lock (state, undo, head) always belong together: with *undo* set, the committed
//! state at the head is the state with the undo values put back.
//!
//! - Account and storage reads ([`Node::with_view_at`]: `eth_getBalance`,
//!   `eth_getTransactionCount`, `eth_getCode`, `eth_getStorageAt`) take the state lock only and
//!   look through *undo*: they wait for a block's execution, not for its commit. At a past block
//!   they look through the stored undo logs of the blocks after it as well.
//!   The pool's checks of a new transaction (nonce, balance) and the pending nonce read the
//!   same committed view.
//! - Everything that runs on the whole state (calls, gas estimates, proofs, traces:
//!   [`Node::with_state`], [`Node::with_state_mut`]) takes the gate for reading first, and so
//!   waits for the whole block, as before.

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
use temporis_aivm::state::{AccountView, PreState};
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
use crate::rollup::{BlockId, BlockOutput, L1Heads, L2BlockRef, OutputAtBlock, SyncStatus};
use crate::store::{ChainStore, L1Origin, StoredBlock};
use crate::{Result, SequencerError};

/// Why a transaction was refused at submission (messages as geth words them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The node is a follower: it derives its chain from L1 and takes no transaction.
    #[error("this node is a read-only follower: send transactions to the sequencer")]
    ReadOnly,
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

/// How far behind the head [`Node::with_view_at`] reads (each block back is one undo log to
/// read and merge).
pub const MAX_HISTORY_BLOCKS: u64 = 10_000;

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

/// Committed accounts and storage (see [`Node::with_view_at`]): the head state, seen through
/// the values later blocks (and a block being committed) replaced.
#[derive(Debug, Clone, Copy)]
pub struct HeadView<'a> {
    state: &'a State,
    undo: Option<&'a PreState>,
}

impl HeadView<'_> {
    /// The account at `address`, if it exists.
    pub fn account(&self, address: &Address) -> Option<AccountView> {
        match self.undo.and_then(|u| u.account(address)) {
            Some(before) => before,
            None => self.state.account(address),
        }
    }

    /// Storage `slot` of `address` (zero if unset).
    pub fn storage(&self, address: &Address, slot: U256) -> U256 {
        self.undo.and_then(|u| u.storage(address, slot)).unwrap_or_else(|| self.state.storage(address, slot))
    }

    /// The code of `address` (empty for none).
    pub fn code(&self, address: &Address) -> Bytes {
        // Code is kept by hash and never dropped: the committed account's hash resolves.
        self.account(address).and_then(|a| self.state.code(&a.code_hash)).unwrap_or_default()
    }
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

/// Decodes and recovers the senders of a batch's transactions `(block, index, bytes)`, in
/// order, on all cores; the first failure (by position) names its block and index.
fn recover_all(raws: &[(u64, usize, &Bytes)]) -> Result<Vec<Recovered<OpTxEnvelope>>> {
    let one = |(number, i, raw): &(u64, usize, &Bytes)| -> Result<Recovered<OpTxEnvelope>> {
        let tx = OpTxEnvelope::decode_2718(&mut raw.as_ref())
            .map_err(|e| SequencerError::Derivation(format!("L2 block {number} tx {i}: {e}")))?;
        if tx.is_deposit() {
            return Err(SequencerError::Derivation(format!(
                "L2 block {number} tx {i}: a deposit in a batch (deposits come from L1 only)"
            )));
        }
        let signer = tx.recover_signer().map_err(|e| {
            SequencerError::Derivation(format!("L2 block {number} tx {i}: bad signature: {e}"))
        })?;
        Ok(Recovered::new_unchecked(tx, signer))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(raws.len().max(1));
    if threads <= 1 || raws.len() < 64 {
        return raws.iter().map(one).collect();
    }
    let chunk = raws.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = raws
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Result<Vec<_>>>()))
            .collect();
        let mut out = Vec::with_capacity(raws.len());
        for h in handles {
            out.extend(h.join().map_err(|_| SequencerError::Derivation("sender recovery panicked".into()))??);
        }
        Ok(out)
    })
}

/// A block as the follower derived it: what [`Node::import_block`] executes.
#[derive(Debug, Clone)]
pub struct DerivedBlockInput {
    /// Its number (the head's + 1).
    pub number: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Its L1 origin.
    pub origin: L1BlockInfo,
    /// The epoch's user deposits (used when the block starts its epoch).
    pub deposits: Vec<temporis_protocol::deposit::DepositLog>,
    /// Its transactions after the system ones, with their senders.
    pub txs: Vec<Recovered<OpTxEnvelope>>,
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
    /// Held for writing by the producer through a whole block, for reading by whole-state
    /// readers (see the module doc).
    gate: RwLock<()>,
    state: RwLock<State>,
    /// While a produced block is being committed: the values it replaced in `state`.
    undo: RwLock<Option<PreState>>,
    head: RwLock<Head>,
    pool: Mutex<Mempool>,
    store: ChainStore,
    blocks: broadcast::Sender<Arc<StoredBlock>>,
    pending_txs: broadcast::Sender<B256>,
    stopped: AtomicBool,
    /// Why the follower's derivation stopped, if it did (cleared once it goes on).
    derivation_error: Mutex<Option<String>>,
    /// What the pipeline reported of L1 and of the L2 safe and finalized heads.
    sync: RwLock<SyncRefs>,
}

/// The parts of the [`SyncStatus`] the node does not know by itself.
#[derive(Debug, Clone, Copy)]
struct SyncRefs {
    l1: L1Heads,
    safe_l2: L2BlockRef,
    finalized_l2: L2BlockRef,
}

/// The `L2ToL1MessagePasser`, whose storage root every output root commits to.
const MESSAGE_PASSER: Address = temporis_protocol::chain::L2_TO_L1_MESSAGE_PASSER_PREDEPLOY;

/// The output data of `block`, with `state` its post-state and `parent` its parent block with
/// the parent's sequence number (none for genesis).
fn block_output(state: &mut State, block: &StoredBlock, parent: Option<(&StoredBlock, u64)>) -> BlockOutput {
    // Same L1 origin as the parent: the same epoch, one block further (standalone blocks all
    // share "no origin", the genesis epoch, as op-node numbers blocks before any L1 origin moved).
    let sequence_number = match parent {
        Some((p, seq)) if p.l1_origin.map(|o| o.number) == block.l1_origin.map(|o| o.number) => seq + 1,
        _ => 0,
    };
    BlockOutput { message_passer_storage_root: state.storage_root(&MESSAGE_PASSER), sequence_number }
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

/// Merges the undo log `log` of a later block into `into` (the logs of earlier blocks): a key
/// keeps the value of the first log that names it.
fn merge_first(into: &mut PreState, log: &PreState) {
    for (address, view) in &log.accounts {
        into.accounts.entry(*address).or_insert(*view);
    }
    for (address, slots) in &log.storage {
        let into = into.storage.entry(*address).or_default();
        for (slot, value) in slots {
            into.entry(*slot).or_insert(*value);
        }
    }
}

/// `block`'s rollup ref with its sequence number.
fn ref_with(block: &StoredBlock, sequence_number: u64) -> L2BlockRef {
    L2BlockRef {
        hash: block.hash,
        number: block.header.number,
        parent_hash: block.header.parent_hash,
        timestamp: block.header.timestamp,
        l1_origin: block
            .l1_origin
            .map_or_else(BlockId::default, |o| BlockId { hash: o.hash, number: o.number }),
        sequence_number,
    }
}

/// `block`'s rollup ref, its sequence number from `store`.
fn block_ref_of(store: &ChainStore, block: &StoredBlock) -> Result<L2BlockRef> {
    let sequence_number = store.block_output(block.header.number)?.map_or(0, |o| o.sequence_number);
    Ok(ref_with(block, sequence_number))
}

/// The rollup ref of block `number` in `store`.
fn l2_block_ref(store: &ChainStore, number: u64) -> Result<Option<L2BlockRef>> {
    match store.block(number)? {
        Some(block) => block_ref_of(store, &block).map(Some),
        None => Ok(None),
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
        if let Some(rollup) = &config.rollup {
            let hash = genesis_header.hash_slow();
            if hash != rollup.genesis.l2.hash {
                return Err(SequencerError::Config(format!(
                    "the genesis hashes to {hash} but rollup.json's L2 genesis is {}: another chain",
                    rollup.genesis.l2.hash
                )));
            }
        }
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
                let output = block_output(&mut state, &block, None);
                store.commit_block(&block, &output, None, &[("genesis", genesis_json.as_bytes())])?;
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
                    let stored_output = store.block_output(number)?;
                    let sound = number <= head
                        && snap.state_root() == header.state_root
                        && stored_output.is_none_or(|o| {
                            o.message_passer_storage_root == snap.storage_root(&MESSAGE_PASSER)
                        });
                    if sound {
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
                    // The stored output data must be what this state gives (a store written before
                    // the table existed has none: nothing to check).
                    if let Some(stored) = store.block_output(number)?
                        && stored.message_passer_storage_root != state.storage_root(&MESSAGE_PASSER)
                    {
                        return Err(SequencerError::Store(format!(
                            "replaying block {number}: the message passer's storage root differs from the stored one"
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
        let genesis_ref =
            l2_block_ref(&store, 0)?.ok_or_else(|| SequencerError::Store("no genesis".into()))?;
        let sync = SyncRefs { l1: L1Heads::default(), safe_l2: genesis_ref, finalized_l2: genesis_ref };
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
                gate: RwLock::new(()),
                state: RwLock::new(state),
                undo: RwLock::new(None),
                head: RwLock::new(head),
                store,
                blocks,
                pending_txs,
                stopped: AtomicBool::new(false),
                derivation_error: Mutex::new(None),
                sync: RwLock::new(sync),
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
                // A block of this number is the origin or queued: the same one again is a no-op;
                // another one means an L1 reorg the node was not told of.
                let known = l1
                    .queue
                    .iter()
                    .map(|e| &e.info)
                    .chain(l1.origin.as_ref())
                    .find(|k| k.number == info.number);
                if let Some(known) = known
                    && known.hash != info.hash
                {
                    return Err(SequencerError::L1(format!(
                        "L1 block {} is {}, already known as {}",
                        info.number, info.hash, known.hash
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

    /// Follows an L1 reorg whose newest block still canonical is `to` (the watcher's
    /// [`L1Event::Reorg`](temporis_pipeline::l1::watcher::L1Event::Reorg)): queued L1 blocks after
    /// it, which no L2 block has taken as its origin yet, are dropped so that the new branch's
    /// blocks queue in their place; returns how many were dropped. If the L2 head's origin is
    /// itself past `to`, L2 blocks were built on L1 blocks that are no longer canonical: this node
    /// does not rewind its chain, so that is an error naming the origin, and the queue is left
    /// as it was.
    pub fn l1_reorg(&self, to: u64) -> Result<usize> {
        let mut l1 = self.inner.l1.lock().expect("l1 lock");
        if let Some(origin) = l1.origin
            && origin.number > to
        {
            return Err(SequencerError::L1(format!(
                "L1 reorg back to block {to}: the L2 head's origin, L1 block {} ({}), is no longer \
                 canonical, and this node does not rewind L2 blocks (raise --l1.confirmations)",
                origin.number, origin.hash
            )));
        }
        let before = l1.queue.len();
        l1.queue.retain(|e| e.info.number <= to);
        Ok(before - l1.queue.len())
    }

    /// The L1 origin of block `number` (none for standalone blocks and unknown numbers).
    pub fn l1_origin_of(&self, number: u64) -> Result<Option<L1Origin>> {
        Ok(self.block(number)?.and_then(|b| b.l1_origin))
    }

    /// The rollup ref of block `number` (hash, parent, timestamp, L1 origin, sequence number).
    pub fn l2_block_ref(&self, number: u64) -> Result<Option<L2BlockRef>> {
        match self.block(number)? {
            Some(block) => block_ref_of(&self.inner.store, &block).map(Some),
            None => Ok(None),
        }
    }

    /// The output of block `number`: its ref, state root and the `L2ToL1MessagePasser`'s
    /// storage root (stored at commit, so any past block is answered); none past the head.
    pub fn output_at(&self, number: u64) -> Result<Option<OutputAtBlock>> {
        let Some(block) = self.block(number)? else { return Ok(None) };
        let output = self.inner.store.block_output(number)?.ok_or_else(|| {
            SequencerError::Store(format!(
                "no output data stored for block {number} (written by an older version)"
            ))
        })?;
        Ok(Some(OutputAtBlock {
            block_ref: ref_with(&block, output.sequence_number),
            state_root: block.header.state_root,
            message_passer_storage_root: output.message_passer_storage_root,
        }))
    }

    /// The node's [`SyncStatus`]: the unsafe head is the chain head; the L1 refs and the safe
    /// and finalized L2 heads are what the pipeline last set (zero L1 refs and the genesis as
    /// safe and finalized until then, and always when standalone: nothing is derived from L1).
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let sync = *self.inner.sync.read().expect("sync lock");
        let head = self.head().header.number;
        let unsafe_l2 = self
            .l2_block_ref(head)?
            .ok_or_else(|| SequencerError::Store(format!("head block {head} missing")))?;
        Ok(SyncStatus {
            current_l1: sync.l1.current,
            current_l1_finalized: sync.l1.finalized,
            head_l1: sync.l1.head,
            safe_l1: sync.l1.safe,
            finalized_l1: sync.l1.finalized,
            unsafe_l2,
            safe_l2: sync.safe_l2,
            finalized_l2: sync.finalized_l2,
            pending_safe_l2: sync.safe_l2,
            cross_unsafe_l2: unsafe_l2,
            local_safe_l2: sync.safe_l2,
        })
    }

    /// Sets the L1 refs of the [`SyncStatus`] (the L1 watcher calls this as L1 advances).
    pub fn set_l1_heads(&self, heads: L1Heads) {
        self.inner.sync.write().expect("sync lock").l1 = heads;
    }

    /// Sets the safe L2 head: block `number`, whose batch the derivation found on L1. It may not
    /// be past the chain head nor behind the finalized head.
    pub fn set_safe_l2(&self, number: u64) -> Result<L2BlockRef> {
        let r = self.l2_block_ref(number)?.ok_or_else(|| {
            SequencerError::SyncStatus(format!("safe head {number} is past the chain head"))
        })?;
        let mut sync = self.inner.sync.write().expect("sync lock");
        if number < sync.finalized_l2.number {
            return Err(SequencerError::SyncStatus(format!(
                "safe head {number} is behind the finalized head {}",
                sync.finalized_l2.number
            )));
        }
        sync.safe_l2 = r;
        Ok(r)
    }

    /// Sets the finalized L2 head: block `number`, derived from finalized L1 data. It may not be
    /// past the safe head.
    pub fn set_finalized_l2(&self, number: u64) -> Result<L2BlockRef> {
        let r = self.l2_block_ref(number)?.ok_or_else(|| {
            SequencerError::SyncStatus(format!("finalized head {number} is past the chain head"))
        })?;
        let mut sync = self.inner.sync.write().expect("sync lock");
        if number > sync.safe_l2.number {
            return Err(SequencerError::SyncStatus(format!(
                "finalized head {number} is past the safe head {}",
                sync.safe_l2.number
            )));
        }
        sync.finalized_l2 = r;
        Ok(r)
    }

    /// The node's counters.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }

    /// The current head.
    pub fn head(&self) -> Head {
        self.inner.head.read().expect("head lock").clone()
    }

    /// Runs `f` on the committed accounts and storage at block `at` (the head if none), and the
    /// head. Unlike [`Node::with_state`] this does not wait for a block's commit, only for its
    /// execution. At a past block: the head state seen through the undo logs of the blocks
    /// after `at`, merged so that each key takes the value the earliest of them replaced (the
    /// value it had at `at`). None if `at` is past the head. Costs O(keys the later blocks wrote); at most
    /// [`MAX_HISTORY_BLOCKS`] behind the head.
    pub fn with_view_at<R>(
        &self,
        at: Option<u64>,
        f: impl FnOnce(&HeadView<'_>, &Head) -> R,
    ) -> Result<Option<R>> {
        let historical = |at: u64, head_number: u64| -> Result<()> {
            if head_number.saturating_sub(at) > MAX_HISTORY_BLOCKS {
                return Err(SequencerError::HistoricalState(format!(
                    "block {at} is more than {MAX_HISTORY_BLOCKS} blocks behind the head {head_number}"
                )));
            }
            Ok(())
        };
        let load = |from: u64, to: u64, into: &mut PreState| -> Result<()> {
            let logs = self.inner.store.undo_logs(from, to).map_err(|e| match e {
                SequencerError::Store(m) => {
                    SequencerError::HistoricalState(format!("block {}: {m}", from - 1))
                }
                e => e,
            })?;
            for bytes in &logs {
                merge_first(into, &crate::snapshot::decode_pre_state(bytes)?);
            }
            Ok(())
        };
        // Committed undo logs never change: the bulk of them is read and merged before taking
        // the state lock, so that a deep read does not hold up block production. Lowest block
        // first: the first log to name a key holds its value at `at`.
        let mut merged = PreState::default();
        let mut loaded = None;
        if let Some(at) = at {
            let head_number = self.inner.head.read().expect("head lock").header.number;
            if at < head_number {
                historical(at, head_number)?;
                load(at + 1, head_number, &mut merged)?;
                loaded = Some(head_number);
            }
        }
        let state = self.inner.state.read().expect("state lock");
        let undo = self.inner.undo.read().expect("undo lock");
        let head = self.inner.head.read().expect("head lock");
        let head_number = head.header.number;
        let at = at.unwrap_or(head_number);
        if at > head_number {
            return Ok(None);
        }
        if at == head_number {
            return Ok(Some(f(&HeadView { state: &state, undo: undo.as_ref() }, &head)));
        }
        historical(at, head_number)?;
        // The blocks that became the head meanwhile, then the one being committed (if any),
        // which is above the head.
        if loaded.is_some_and(|n| n > head_number) {
            // The head went back (never, today: a sequencer does not reorg): start over.
            merged = PreState::default();
            loaded = None;
        }
        let from = loaded.unwrap_or(at) + 1;
        if from <= head_number {
            load(from, head_number, &mut merged)?;
        }
        if let Some(pending) = undo.as_ref() {
            merge_first(&mut merged, pending);
        }
        Ok(Some(f(&HeadView { state: &state, undo: Some(&merged) }, &head)))
    }

    /// A copy of the whole state at block `at`: the head state with the undo logs of the blocks
    /// after `at` put back, newest first, and its root checked against block `at`'s header.
    /// O(state) to copy, so it serves rare, whole-state work at past blocks (`eth_getProof` of an
    /// output's block, which a withdrawal proof needs); at most [`MAX_HISTORY_BLOCKS`] back.
    pub fn state_at(&self, at: u64) -> Result<State> {
        let _gate = self.inner.gate.read().expect("gate lock");
        let state = self.inner.state.read().expect("state lock");
        let head = self.inner.head.read().expect("head lock").clone();
        if at > head.header.number {
            return Err(SequencerError::HistoricalState(format!(
                "block {at} is past the head {}",
                head.header.number
            )));
        }
        if head.header.number - at > MAX_HISTORY_BLOCKS {
            return Err(SequencerError::HistoricalState(format!(
                "block {at} is more than {MAX_HISTORY_BLOCKS} blocks behind the head {}",
                head.header.number
            )));
        }
        let logs = if at < head.header.number {
            self.inner.store.undo_logs(at + 1, head.header.number)?
        } else {
            Vec::new()
        };
        let mut past = state.clone();
        drop(state);
        for bytes in logs.iter().rev() {
            past.apply_pre_state(&crate::snapshot::decode_pre_state(bytes)?);
        }
        let want = self
            .inner
            .store
            .header(at)?
            .ok_or_else(|| SequencerError::Store(format!("block {at} missing")))?
            .state_root;
        let got = past.state_root();
        if got != want {
            return Err(SequencerError::Store(format!(
                "state rebuilt at block {at} has root {got}, its header says {want}"
            )));
        }
        Ok(past)
    }

    /// Runs `f` on the head state and the head it belongs to.
    pub fn with_state<R>(&self, f: impl FnOnce(&State, &Head) -> R) -> R {
        let _gate = self.inner.gate.read().expect("gate lock");
        let state = self.inner.state.read().expect("state lock");
        let head = self.inner.head.read().expect("head lock");
        f(&state, &head)
    }

    /// Runs `f` on the head state with exclusive access (for work that fills the tries'
    /// caches, such as proofs); block production waits meanwhile.
    pub fn with_state_mut<R>(&self, f: impl FnOnce(&mut State, &Head) -> R) -> R {
        let _gate = self.inner.gate.read().expect("gate lock");
        let mut state = self.inner.state.write().expect("state lock");
        let head = self.inner.head.read().expect("head lock");
        f(&mut state, &head)
    }

    /// The state before transaction `index` of block `number`: the parent's state (rebuilt from
    /// the undo logs, [`Node::state_at`]) or, for a block further back than they reach, the
    /// genesis with every block before it replayed; then the block's first `index`
    /// transactions.
    pub fn state_before(&self, number: u64, index: usize) -> Result<State> {
        let inner = &self.inner;
        // From the parent's state when the undo logs reach it (O(state) to copy, then one
        // block); else, for older blocks, a replay from the genesis.
        let (mut state, first) = match number.checked_sub(1).map(|parent| self.state_at(parent)) {
            Some(Ok(state)) => (state, number),
            _ => (genesis_block(&inner.genesis, inner.config.sequencer.gas_limit).0, 1),
        };
        let strict = ExecOptions { per_tx_roots: false, on_invalid: InvalidTxPolicy::FailBlock };
        for n in first..=number {
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
        // The committed nonce (not waiting for a block's commit): the pool still holds the
        // transactions of a block being committed, so the pending run counts them.
        let state = self.inner.state.read().expect("state lock");
        let undo = self.inner.undo.read().expect("undo lock");
        let view = HeadView { state: &state, undo: undo.as_ref() };
        let nonce = view.account(address).map_or(0, |a| a.nonce);
        self.inner.pool.lock().expect("pool lock").pending_nonce(address, nonce)
    }

    /// Checks raw transaction bytes and adds the transaction to the pool; returns its hash.
    pub fn submit_raw(&self, raw: &[u8]) -> Result<B256, SubmitError> {
        if self.inner.config.follow {
            return Err(SubmitError::ReadOnly);
        }
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
        // Checked against the committed head state, without waiting for a block's commit: a
        // transaction pooled meanwhile is pruned with the others of its sender once the block
        // is the head, if the block took its nonce.
        let state = self.inner.state.read().expect("state lock");
        let undo = self.inner.undo.read().expect("undo lock");
        let view = HeadView { state: &state, undo: undo.as_ref() };
        let (balance, nonce) = view.account(&sender).map_or((U256::ZERO, 0), |a| (a.balance, a.nonce));
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
        drop(undo);
        drop(state);
        tracing::debug!(target: "sequencer::pool", %hash, %sender, nonce = tx_nonce, ?replaced, "transaction pooled");
        let _ = self.inner.pending_txs.send(hash);
        Ok(hash)
    }

    /// Builds, stores and publishes the next block. The block is committed to the store before
    /// it becomes the head (and so before any client can see it or its state).
    pub fn produce_block(&self) -> Result<Arc<StoredBlock>> {
        self.build_block(None)
    }

    /// Imports a block the follower derived from L1 + DA: its transactions are executed after
    /// the system transactions its L1 origin gives (the same code the producer runs, so the
    /// two agree by construction), with every transaction required to be valid; the block is
    /// committed as a produced one is. A derived block that does not execute is an error
    /// naming the transaction and why.
    pub fn import_block(&self, block: &DerivedBlockInput) -> Result<Arc<StoredBlock>> {
        self.build_block(Some(block))
    }

    /// Imports the blocks of a derived batch that are above the head (a restarted follower
    /// reads batches it already has again), after checking that the batch builds on this
    /// chain. Returns the last block imported, if any.
    pub fn import_batch(&self, batch: &temporis_pipeline::derive::DerivedBatch) -> Result<Option<u64>> {
        let Some(first) = batch.blocks.first() else { return Ok(None) };
        let head = self.head().header.number;
        if first.number == 0 || first.number > head + 1 {
            return Err(SequencerError::Derivation(format!(
                "batch {} (L1 block {}) starts at L2 block {} but the head is {head}: a batch is missing",
                batch.batch_index, batch.l1_block, first.number
            )));
        }
        let parent = self
            .block(first.number - 1)?
            .ok_or_else(|| SequencerError::Store(format!("block {} missing", first.number - 1)))?;
        if parent.hash != batch.parent_hash {
            return Err(SequencerError::Derivation(format!(
                "batch {} (L1 block {}) builds on {} but L2 block {} is {}",
                batch.batch_index,
                batch.l1_block,
                batch.parent_hash,
                first.number - 1,
                parent.hash
            )));
        }
        // Sender recovery (one secp256k1 public-key recovery per transaction) is most of a
        // follower's work: the batch's transactions are decoded and recovered on every core,
        // then the blocks are executed in order.
        let blocks: Vec<_> = batch.blocks.iter().filter(|b| b.number > head).collect();
        let raws: Vec<(u64, usize, &Bytes)> = blocks
            .iter()
            .flat_map(|b| b.txs.iter().enumerate().map(move |(i, raw)| (b.number, i, raw)))
            .collect();
        let recovered = recover_all(&raws)?;
        let mut recovered = recovered.into_iter();
        let mut last = None;
        for b in blocks {
            let txs: Vec<_> = recovered.by_ref().take(b.txs.len()).collect();
            let input = DerivedBlockInput {
                number: b.number,
                timestamp: b.timestamp,
                origin: b.origin,
                deposits: b.deposits.clone(),
                txs,
            };
            last = Some(self.import_block(&input)?.header.number);
        }
        Ok(last)
    }

    /// Builds, executes and commits the next block: from the pool and the L1 cursor
    /// (`derived` none: producing), or exactly as derived (following).
    fn build_block(&self, derived: Option<&DerivedBlockInput>) -> Result<Arc<StoredBlock>> {
        let inner = &self.inner;
        let _gate = inner.gate.write().expect("gate lock");
        let mut state = inner.state.write().expect("state lock");
        let parent = inner.head.read().expect("head lock").clone();
        let gas_limit = inner.config.sequencer.gas_limit;
        let base_fee = parent.header.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or_default();
        // Sub-second block times give several blocks per second: timestamps never go
        // backwards but may repeat.
        let timestamp = match derived {
            None => now_secs().max(parent.header.timestamp),
            Some(d) => {
                if d.number != parent.header.number + 1 || d.timestamp < parent.header.timestamp {
                    return Err(SequencerError::Derivation(format!(
                        "derived block {} at time {} does not follow the head {} at time {}",
                        d.number, d.timestamp, parent.header.number, parent.header.timestamp
                    )));
                }
                d.timestamp
            }
        };
        // The block's system transactions come first: the L1 attributes deposit, and in the
        // first block of an epoch the epoch's user deposits.
        let (origin, system_txs) = match derived {
            None => {
                let l1 = inner.l1.lock().expect("l1 lock");
                match l1.next(timestamp) {
                    None => (None, Vec::new()),
                    Some((info, seq, deposits, advanced)) => {
                        let txs = block_system_txs(&info, seq, deposits, &inner.config.sequencer.fee_params)
                            .map_err(|e| SequencerError::L1(e.to_string()))?;
                        (Some((info, seq, advanced)), txs)
                    }
                }
            }
            Some(d) => {
                // Same epoch as the parent: the next sequence number, no deposits; a new origin
                // starts an epoch with its deposits.
                let parent_origin = inner.store.block(parent.header.number)?.and_then(|b| b.l1_origin);
                let seq = match parent_origin {
                    Some(o) if o.number == d.origin.number => {
                        inner.store.block_output(parent.header.number)?.map_or(0, |o| o.sequence_number) + 1
                    }
                    _ => 0,
                };
                let deposits: &[temporis_protocol::deposit::DepositLog] =
                    if seq == 0 { &d.deposits } else { &[] };
                let txs = block_system_txs(&d.origin, seq, deposits, &inner.config.sequencer.fee_params)
                    .map_err(|e| SequencerError::Derivation(format!("block {}: {e}", d.number)))?;
                (Some((d.origin, seq, false)), txs)
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
        // OP's sequencer drift: a block more than `max_sequencer_drift` seconds past its L1
        // origin (the L1 stalled, or the watcher cannot reach it) carries no user transaction,
        // so that the L2 cannot run ahead of what L1 can check; followers refuse one that does.
        let drift = inner.config.rollup.as_ref().map(|r| r.max_sequencer_drift);
        let past_drift = match (drift, origin) {
            (Some(drift), Some((info, _, _))) => timestamp > info.timestamp.saturating_add(drift),
            _ => false,
        };
        if past_drift && derived.is_some_and(|d| !d.txs.is_empty()) {
            return Err(SequencerError::Derivation(format!(
                "block {} at time {timestamp} is more than the sequencer drift past its L1 origin and carries transactions",
                parent.header.number + 1
            )));
        }
        match derived {
            None if past_drift => {
                tracing::warn!(target: "sequencer::producer", number = parent.header.number + 1, "past the sequencer drift: a block without user transactions until the L1 origin moves on");
            }
            None => {
                let pool = inner.pool.lock().expect("pool lock");
                let best = pool.best(base_fee, gas_limit.saturating_sub(system_gas), |a| {
                    state.account(a).map_or(0, |acc| acc.nonce)
                });
                candidates.extend(best.into_iter().map(|t| (*t).clone()));
            }
            Some(d) => candidates.extend(d.txs.iter().cloned()),
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
        // A sequencer leaves out what cannot be included; a follower must include everything
        // the batch says, or the batch is not the chain.
        let on_invalid = if derived.is_some() { InvalidTxPolicy::FailBlock } else { InvalidTxPolicy::Skip };
        let options = ExecOptions { per_tx_roots: false, on_invalid };
        state.record_pre_state();
        let out =
            match inner.executor.execute_block(&mut state, &block_input(&header_base), &candidates, &options)
            {
                Ok(out) => out,
                Err(e) => {
                    // Back to the head's state: what a failed block wrote never existed.
                    let pre = state.take_pre_state();
                    state.apply_pre_state(&pre);
                    return Err(match derived {
                        Some(d) => SequencerError::Derivation(format!("block {}: {e}", d.number)),
                        None => SequencerError::Execution(e.to_string()),
                    });
                }
            };
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
        let parent_block = self
            .block(parent.header.number)?
            .ok_or_else(|| SequencerError::Store(format!("block {} missing", parent.header.number)))?;
        let parent_sequence =
            inner.store.block_output(parent.header.number)?.map_or(0, |o| o.sequence_number);
        let output = block_output(&mut state, &block, Some((&parent_block, parent_sequence)));
        let executed = started.elapsed();
        let interval = inner.config.snapshot_interval;
        let snapshot = (interval > 0 && block.header.number.is_multiple_of(interval))
            .then(|| crate::snapshot::encode(&state, block.header.number));
        let meta: Vec<(&str, &[u8])> = snapshot.iter().map(|s| ("snapshot", s.as_slice())).collect();
        // The commit waits for the disk: head views read through the undo values meanwhile
        // (the gate keeps whole-state readers out until the head moves).
        let pre = state.take_pre_state();
        let undo_log = crate::snapshot::encode_pre_state(&pre);
        *inner.undo.write().expect("undo lock") = Some(pre);
        drop(state);
        // Chunks and verdicts the block wrote reach the disk before the block that needs them.
        let committed = inner
            .models
            .sync()
            .map_err(|e| SequencerError::Store(format!("model store: {e}")))
            .and_then(|()| inner.store.commit_block(&block, &output, Some(&undo_log), &meta));
        let mut state = inner.state.write().expect("state lock");
        let undo = inner.undo.write().expect("undo lock").take();
        if let Err(e) = committed {
            // Back to the committed head's state, and no more blocks: the store failed.
            if let Some(pre) = undo {
                state.apply_pre_state(&pre);
            }
            inner.stopped.store(true, Ordering::SeqCst);
            return Err(e);
        }
        {
            let mut head = inner.head.write().expect("head lock");
            inner.recent.write().expect("recent lock").push(block.clone());
            *head = Head { header: block.header.clone(), hash: block.hash };
        }
        if let Some((info, seq, advanced)) = origin.filter(|_| derived.is_none()) {
            let mut l1 = inner.l1.lock().expect("l1 lock");
            // The epoch this block took, unless an L1 reorg dropped it while the block was built.
            if advanced && l1.queue.front().is_some_and(|e| e.info.hash == info.hash) {
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
        if derived.is_some() {
            tracing::info!(target: "sequencer::follower", number = block.header.number, hash = %block.hash, txs = block.txs.len(), gas_used = block.header.gas_used, ?executed, total = ?started.elapsed(), "block imported");
        } else {
            tracing::info!(target: "sequencer::producer", number = block.header.number, hash = %block.hash, txs = block.txs.len(), gas_used = block.header.gas_used, ?executed, total = ?started.elapsed(), "block produced");
        }
        let _ = inner.blocks.send(block.clone());
        Ok(block)
    }

    /// Whether the producer stopped on a store failure.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Whether the next block can be built: always standalone; in rollup mode only once the L1
    /// watcher has handed over a first L1 origin, because every rollup block must say which L1
    /// block it was built on (a follower derives its deposits and L1 attributes from it).
    pub fn ready_to_produce(&self) -> bool {
        if self.inner.config.rollup.is_none() {
            return true;
        }
        let timestamp = now_secs().max(self.inner.head.read().expect("head lock").header.timestamp);
        self.inner.l1.lock().expect("l1 lock").next(timestamp).is_some()
    }

    /// Records why the follower's derivation stopped (`None`: it is running).
    pub fn set_derivation_error(&self, error: Option<String>) {
        *self.inner.derivation_error.lock().expect("derivation lock") = error;
    }

    /// Why the follower's derivation stopped, if it did.
    pub fn derivation_error(&self) -> Option<String> {
        self.inner.derivation_error.lock().expect("derivation lock").clone()
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
                    if !node.ready_to_produce() {
                        continue;
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::rollup::L1BlockRef;

    fn dev_node(dir: &std::path::Path) -> Node {
        let cli =
            crate::Cli::try_parse_from(["temporis-sequencer", "--dev", "--datadir", dir.to_str().unwrap()])
                .unwrap();
        Node::open(Config::from_cli(&cli).unwrap()).unwrap()
    }

    #[test]
    fn sync_status_heads_keep_their_order_and_outputs_cover_every_block() {
        let dir = tempfile::tempdir().unwrap();
        let node = dev_node(dir.path());
        for _ in 0..3 {
            node.produce_block().unwrap();
        }
        let status = node.sync_status().unwrap();
        assert_eq!(status.unsafe_l2.number, 3);
        assert_eq!((status.safe_l2.number, status.finalized_l2.number), (0, 0));
        assert_eq!(status.safe_l2.hash, node.block(0).unwrap().unwrap().hash);

        assert!(node.set_safe_l2(4).unwrap_err().to_string().contains("past the chain head"));
        assert_eq!(node.set_safe_l2(2).unwrap().number, 2);
        assert!(node.set_finalized_l2(3).unwrap_err().to_string().contains("past the safe head 2"));
        assert_eq!(node.set_finalized_l2(1).unwrap().number, 1);
        assert!(node.set_safe_l2(0).unwrap_err().to_string().contains("behind the finalized head 1"));
        let l1 = L1BlockRef {
            hash: B256::repeat_byte(1),
            number: 9,
            parent_hash: B256::repeat_byte(2),
            timestamp: 90,
        };
        node.set_l1_heads(L1Heads { current: l1, head: l1, safe: l1, finalized: l1 });
        let status = node.sync_status().unwrap();
        assert_eq!((status.safe_l2.number, status.finalized_l2.number), (2, 1));
        assert_eq!((status.pending_safe_l2, status.local_safe_l2), (status.safe_l2, status.safe_l2));
        assert_eq!(status.cross_unsafe_l2, status.unsafe_l2);
        assert_eq!((status.head_l1, status.current_l1_finalized), (l1, l1));

        for n in 0..=3 {
            let out = node.output_at(n).unwrap().unwrap();
            let block = node.block(n).unwrap().unwrap();
            assert_eq!(out.block_ref.hash, block.hash);
            assert_eq!(out.block_ref.sequence_number, n, "standalone: every block in the genesis epoch");
            assert_eq!(out.state_root, block.header.state_root);
            // The dev genesis has no message passer: its storage root is the empty root.
            assert_eq!(out.message_passer_storage_root, alloy_trie::EMPTY_ROOT_HASH);
        }
        assert!(node.output_at(4).unwrap().is_none());

        // With L1 origins: the sequence number restarts at each new origin. Both L1 blocks are
        // older than the L2 clock, so the producer takes each as soon as it is queued.
        let info = |n: u64| temporis_protocol::l1::L1BlockInfo {
            number: n,
            hash: B256::repeat_byte(n as u8),
            parent_hash: B256::repeat_byte(n as u8 - 1),
            timestamp: n * 12,
            base_fee: 1,
            blob_base_fee: 1,
        };
        for n in [7, 8] {
            node.push_l1_epoch(temporis_protocol::l1::L1Epoch { info: info(n), deposits: vec![] }).unwrap();
        }
        for _ in 0..5 {
            node.produce_block().unwrap();
        }
        let seqs: Vec<(u64, u64)> = (4..=8)
            .map(|n| {
                let r = node.l2_block_ref(n).unwrap().unwrap();
                (r.l1_origin.number, r.sequence_number)
            })
            .collect();
        assert_eq!(seqs, [(7, 0), (8, 0), (8, 1), (8, 2), (8, 3)]);
        assert_eq!(node.l2_block_ref(4).unwrap().unwrap().l1_origin.hash, B256::repeat_byte(7));
    }

    fn rollup_node(dir: &std::path::Path, genesis: B256, follow: bool) -> Node {
        let args = ["temporis-sequencer", "--dev", "--datadir", dir.to_str().unwrap()];
        let cli = crate::Cli::try_parse_from(args).unwrap();
        let mut config = Config::from_cli(&cli).unwrap();
        // As `--follow --rollup.config` would set them, with the rollup config built in memory.
        config.follow = follow;
        let rollup = temporis_protocol::rollup::RollupConfig {
            l1_chain_id: 31337,
            l2_chain_id: temporis_protocol::chain::DEVNET_L2_CHAIN_ID,
            genesis: temporis_protocol::rollup::RollupGenesis {
                l1: temporis_protocol::rollup::BlockId { number: 0, hash: B256::ZERO },
                l2: temporis_protocol::rollup::BlockId { number: 0, hash: genesis },
                l2_time: 0,
            },
            block_time: 1,
            max_sequencer_drift: 600,
            l2_gas_limit: config.sequencer.gas_limit,
            fee_recipient: Address::ZERO,
            batcher: Address::repeat_byte(0xba),
            batch_inbox: Address::repeat_byte(1),
            portal: Address::repeat_byte(2),
            output_oracle: Address::repeat_byte(3),
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
        };
        config.apply_rollup(rollup).unwrap();
        Node::open(config).unwrap()
    }

    fn transfer(nonce: u64) -> TxEnvelope {
        use alloy::consensus::{SignableTransaction, TxEip1559};
        use alloy::signers::SignerSync;
        let key = alloy::signers::local::PrivateKeySigner::from_bytes(&temporis_protocol::dev::DEV_KEYS[0])
            .unwrap();
        let tx = TxEip1559 {
            chain_id: temporis_protocol::chain::DEVNET_L2_CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1,
            to: alloy_primitives::TxKind::Call(Address::repeat_byte(0x77)),
            value: U256::from(1),
            ..Default::default()
        };
        let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
        TxEnvelope::from(tx.into_signed(sig))
    }

    #[test]
    fn an_l1_reorg_replaces_queued_l1_blocks_and_is_refused_below_an_l2_origin() {
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let genesis = dev_node(dirs[0].path()).block(0).unwrap().unwrap().hash;
        let seq = rollup_node(dirs[1].path(), genesis, false);
        // L1 blocks of branch `a` or `b`, hashed by number and branch.
        let l1 = |number: u64, branch: u8, parent: B256, timestamp: u64| L1BlockInfo {
            number,
            hash: alloy_primitives::keccak256([branch, number as u8]),
            parent_hash: parent,
            timestamp,
            base_fee: 7,
            blob_base_fee: 1,
        };
        let now = now_secs();
        let b1 = l1(1, b'a', B256::ZERO, now - 30);
        seq.push_l1_epoch(L1Epoch { info: b1, deposits: vec![] }).unwrap();
        assert_eq!(seq.produce_block().unwrap().l1_origin.unwrap().hash, b1.hash);
        // Two more of branch a, timed in the future: queued, not yet taken by an L2 block.
        let a2 = l1(2, b'a', b1.hash, now + 1000);
        let a3 = l1(3, b'a', a2.hash, now + 1012);
        for info in [a2, a3] {
            seq.push_l1_epoch(L1Epoch { info, deposits: vec![] }).unwrap();
        }
        // Branch b's block 2, pushed without the reorg being followed first: refused by name.
        let b2 = l1(2, b'b', b1.hash, now - 20);
        let e = seq.push_l1_epoch(L1Epoch { info: b2, deposits: vec![] }).unwrap_err().to_string();
        assert!(e.contains(&format!("L1 block 2 is {}, already known as {}", b2.hash, a2.hash)), "{e}");
        // The same block again is a no-op.
        seq.push_l1_epoch(L1Epoch { info: a2, deposits: vec![] }).unwrap();

        // The reorg back to block 1 drops both queued blocks of branch a; branch b queues.
        assert_eq!(seq.l1_reorg(1).unwrap(), 2);
        seq.push_l1_epoch(L1Epoch { info: b2, deposits: vec![] }).unwrap();
        let b3 = l1(3, b'b', b2.hash, now + 1000);
        seq.push_l1_epoch(L1Epoch { info: b3, deposits: vec![] }).unwrap();
        let e = seq.push_l1_epoch(L1Epoch { info: a3, deposits: vec![] }).unwrap_err().to_string();
        assert!(e.contains(&format!("already known as {}", b3.hash)), "{e}");
        // The next L2 block takes branch b's block 2 as its origin.
        let block = seq.produce_block().unwrap();
        assert_eq!(block.l1_origin.unwrap().hash, b2.hash);
        assert_eq!(seq.l2_block_ref(block.header.number).unwrap().unwrap().l1_origin.hash, b2.hash);

        // A reorg below the head's origin would need the L2 rewound: refused, queue untouched.
        let e = seq.l1_reorg(1).unwrap_err().to_string();
        assert!(e.contains(&format!("L1 block 2 ({}), is no longer canonical", b2.hash)), "{e}");
        assert!(e.contains("does not rewind L2 blocks"), "{e}");
        seq.push_l1_epoch(L1Epoch { info: b3, deposits: vec![] }).unwrap();
        // A reorg at the origin itself (block 2 still canonical) drops only block 3.
        assert_eq!(seq.l1_reorg(2).unwrap(), 1);
        assert_eq!(seq.l1_reorg(2).unwrap(), 0);
    }

    #[test]
    fn a_follower_imports_the_sequencers_blocks_and_both_keep_the_sequencer_drift() {
        use temporis_pipeline::derive::{DerivedBatch, DerivedBlock};
        let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
        let genesis = dev_node(dirs[0].path()).block(0).unwrap().unwrap().hash;
        let seq = rollup_node(dirs[1].path(), genesis, false);
        let info = |number: u64, timestamp: u64| L1BlockInfo {
            number,
            hash: B256::repeat_byte(number as u8),
            parent_hash: B256::repeat_byte(number as u8 - 1),
            timestamp,
            base_fee: 7,
            blob_base_fee: 1,
        };
        // No L1 origin yet: a rollup sequencer does not build.
        assert!(!seq.ready_to_produce());
        // An L1 block long past the drift (600 s): its L2 block carries no user transaction.
        let old = info(1, now_secs() - 10_000);
        seq.push_l1_epoch(L1Epoch { info: old, deposits: vec![] }).unwrap();
        assert!(seq.ready_to_produce());
        let tx = transfer(0);
        seq.submit(tx.clone()).unwrap();
        let b1 = seq.produce_block().unwrap();
        assert_eq!(b1.txs.len(), 1, "only the L1 attributes deposit past the drift");
        // A fresh L1 block: the transaction goes in.
        let fresh = info(2, now_secs());
        seq.push_l1_epoch(L1Epoch { info: fresh, deposits: vec![] }).unwrap();
        let b2 = seq.produce_block().unwrap();
        assert_eq!(b2.txs.len(), 2);
        assert_eq!(b2.l1_origin.unwrap().number, 2);

        let raw = Bytes::from(tx.encoded_2718());
        let block = |number: u64, ts: u64, origin: L1BlockInfo, txs: Vec<Bytes>| DerivedBlock {
            number,
            timestamp: ts,
            origin,
            deposits: vec![],
            txs,
        };
        let batch = DerivedBatch {
            l1_block: 9,
            batch_index: 0,
            parent_hash: genesis,
            blocks: vec![
                block(1, b1.header.timestamp, old, vec![]),
                block(2, b2.header.timestamp, fresh, vec![raw.clone()]),
            ],
        };
        let fol = rollup_node(dirs[2].path(), genesis, true);
        assert_eq!(fol.import_batch(&batch).unwrap(), Some(2));
        for n in 1..=2 {
            assert_eq!(fol.block(n).unwrap().unwrap().hash, seq.block(n).unwrap().unwrap().hash, "block {n}");
        }
        // Read again (a restarted follower reads the inbox from its start): skipped.
        assert_eq!(fol.import_batch(&batch).unwrap(), None);
        // A follower takes no transaction.
        assert_eq!(fol.submit_raw(&transfer(1).encoded_2718()), Err(SubmitError::ReadOnly));

        // A batch that does not build on the chain, or puts a user transaction past the drift,
        // is refused, naming why; nothing is imported.
        let other = rollup_node(dirs[3].path(), genesis, true);
        let mut wrong_parent = batch.clone();
        wrong_parent.parent_hash = B256::repeat_byte(9);
        let e = other.import_batch(&wrong_parent).unwrap_err().to_string();
        assert!(e.contains("builds on"), "{e}");
        let mut past_drift = batch;
        past_drift.blocks[0].txs = vec![raw];
        past_drift.blocks.truncate(1);
        let e = other.import_batch(&past_drift).unwrap_err().to_string();
        assert!(e.contains("sequencer drift"), "{e}");
        assert_eq!(other.head().header.number, 0);
    }
}
