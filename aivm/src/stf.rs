//! The state transition function: a block's transactions applied to a [`State`] by revm with
//! the AIVM precompiles, producing receipts, the post-state and its state root (and, on demand,
//! the state root after every transaction, which the fraud prover bisects over).
//!
//! The sequencer (building blocks), followers and the prover (replaying them) all call
//! [`Executor::execute_block`]; they differ only in [`InvalidTxPolicy`].
//!
//! Transactions are OP Stack envelopes: besides the Ethereum types, deposits (type `0x7E`) run
//! with OP's Regolith+ rules (see `docs/deposits.md`), and every other transaction also pays
//! the L1 data fee ([`crate::l1fee`]).

use std::sync::Arc;

use alloy::consensus::transaction::Recovered;
use alloy::consensus::{Eip658Value, Receipt, ReceiptWithBloom, Transaction};
use alloy::eips::Encodable2718;
use alloy::eips::eip2935::HISTORY_STORAGE_ADDRESS;
use alloy::eips::eip4788::SYSTEM_ADDRESS;
use alloy_primitives::{Address, B256, Bloom, Log, U256};
use op_alloy_consensus::{OpDepositReceipt, OpReceiptEnvelope, OpTxEnvelope, TxDeposit};
use revm::context::{BlockEnv, CfgEnv, Evm, TxEnv};
use revm::context_interface::ContextTr;
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::either::Either;
use revm::context_interface::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction};
use revm::handler::EthFrame;
use revm::handler::instructions::EthInstructions;
use revm::inspector::NoOpInspector;
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::{Context, DatabaseCommit, ExecuteEvm, InspectEvm, Inspector, Journal, SystemCallEvm};
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};

use crate::l1fee::{L1_FEE_VAULT, L1FeeParams};
use crate::precompiles::{AivmPrecompileSet, AivmPrecompiles};
use crate::state::State;

/// The hardfork the AIVM runs: the newest one revm 43 implements in full (Amsterdam is still a
/// draft there).
pub const AIVM_SPEC: SpecId = SpecId::OSAKA;

/// The revm context of the AIVM, over a borrowed [`State`].
pub type AivmContext<'a> = Context<BlockEnv, TxEnv, CfgEnv, &'a mut State, Journal<&'a mut State>>;

/// The revm EVM of the AIVM: mainnet instructions, Ethereum + AIVM precompiles.
pub type AivmEvm<'a, I = ()> = Evm<
    AivmContext<'a>,
    I,
    EthInstructions<EthInterpreter, AivmContext<'a>>,
    AivmPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// The block environment a block is executed in (the header fields the EVM can see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInput {
    /// Block number.
    pub number: u64,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// Fee recipient (`COINBASE`).
    pub beneficiary: Address,
    /// EIP-1559 base fee per gas.
    pub base_fee: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// `PREVRANDAO` (the header's mix hash).
    pub prevrandao: B256,
    /// Hash of the parent block: what `BLOCKHASH(number - 1)` returns and what the EIP-2935
    /// history contract records at the start of the block.
    pub parent_hash: B256,
}

impl BlockInput {
    fn to_env(self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.beneficiary,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prevrandao),
            // The L2 carries no blobs; the blob base fee is the minimum, as with zero excess.
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(0, 1)),
            ..Default::default()
        }
    }
}

/// What to do with a transaction that cannot be included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InvalidTxPolicy {
    /// Leave it out and report it in [`BlockOutcome::rejected`] (block building).
    #[default]
    Skip,
    /// Fail the whole block (replaying a block that must be valid).
    FailBlock,
}

/// Options of [`Executor::execute_block`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecOptions {
    /// Also compute the state root after every included transaction.
    pub per_tx_roots: bool,
    /// What to do with invalid transactions.
    pub on_invalid: InvalidTxPolicy,
}

/// Why a transaction cannot be included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTx {
    /// The nonce is below the sender's.
    #[error("nonce too low: transaction has {tx}, sender's is {state}")]
    NonceTooLow {
        /// The transaction's nonce.
        tx: u64,
        /// The sender's nonce.
        state: u64,
    },
    /// The nonce is above the sender's.
    #[error("nonce too high: transaction has {tx}, sender's is {state}")]
    NonceTooHigh {
        /// The transaction's nonce.
        tx: u64,
        /// The sender's nonce.
        state: u64,
    },
    /// The sender cannot pay `gas_limit · max_fee + value`.
    #[error("insufficient funds: needs {needed} wei, sender has {balance}")]
    InsufficientFunds {
        /// What the transaction may cost at most.
        needed: U256,
        /// The sender's balance.
        balance: U256,
    },
    /// The transaction's gas limit does not fit in what is left of the block's.
    #[error("gas limit {gas_limit} exceeds the block's remaining gas {available}")]
    GasAboveBlockLimit {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// Gas left in the block.
        available: u64,
    },
    /// The gas limit is below the intrinsic gas (or the EIP-7623 calldata floor).
    #[error("intrinsic gas too low: needs {needed}, gas limit is {gas_limit}")]
    IntrinsicGasTooLow {
        /// Intrinsic gas (or floor) of the transaction.
        needed: u64,
        /// The transaction's gas limit.
        gas_limit: u64,
    },
    /// The gas limit is above the per-transaction cap (EIP-7825).
    #[error("gas limit {gas_limit} exceeds the per-transaction cap {cap}")]
    GasAboveTxCap {
        /// The transaction's gas limit.
        gas_limit: u64,
        /// The cap.
        cap: u64,
    },
    /// The max fee per gas is below the block's base fee.
    #[error("max fee per gas below the base fee")]
    FeeBelowBaseFee,
    /// The transaction is signed for another chain.
    #[error("wrong chain id")]
    WrongChainId,
    /// A transaction type the L2 does not carry.
    #[error("unsupported transaction type: {0}")]
    Unsupported(&'static str),
    /// Another reason revm gives.
    #[error("{0}")]
    Other(String),
}

impl From<InvalidTransaction> for InvalidTx {
    fn from(err: InvalidTransaction) -> Self {
        match err {
            InvalidTransaction::NonceTooLow { tx, state } => Self::NonceTooLow { tx, state },
            InvalidTransaction::NonceTooHigh { tx, state } => Self::NonceTooHigh { tx, state },
            InvalidTransaction::LackOfFundForMaxFee { fee, balance } => {
                Self::InsufficientFunds { needed: *fee, balance: *balance }
            }
            InvalidTransaction::CallGasCostMoreThanGasLimit { initial_gas, gas_limit } => {
                Self::IntrinsicGasTooLow { needed: initial_gas, gas_limit }
            }
            InvalidTransaction::GasFloorMoreThanGasLimit { gas_floor, gas_limit } => {
                Self::IntrinsicGasTooLow { needed: gas_floor, gas_limit }
            }
            InvalidTransaction::TxGasLimitGreaterThanCap { gas_limit, cap } => {
                Self::GasAboveTxCap { gas_limit, cap }
            }
            InvalidTransaction::GasPriceLessThanBasefee => Self::FeeBelowBaseFee,
            InvalidTransaction::InvalidChainId | InvalidTransaction::MissingChainId => Self::WrongChainId,
            other => Self::Other(other.to_string()),
        }
    }
}

/// A transaction left out of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTx {
    /// Its position in the input list.
    pub index: usize,
    /// Its hash.
    pub hash: B256,
    /// Why.
    pub reason: InvalidTx,
}

/// Errors of block execution.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A transaction is invalid and the policy is [`InvalidTxPolicy::FailBlock`].
    #[error("transaction {index} ({hash}) is invalid: {reason}")]
    InvalidTransaction {
        /// Its position in the block.
        index: usize,
        /// Its hash.
        hash: B256,
        /// Why.
        reason: InvalidTx,
    },
    /// `index` is not a transaction of the block.
    #[error("no transaction {index} in a block of {len}")]
    NoSuchTransaction {
        /// The index asked for.
        index: usize,
        /// Transactions in the block.
        len: usize,
    },
    /// revm failed for a reason other than the transaction (a bug, never the input's fault).
    #[error("EVM failure: {0}")]
    Evm(String),
}

/// The result of executing a block.
#[derive(Debug, Clone)]
pub struct BlockOutcome {
    /// The receipts of the included transactions, in order (with bloom and cumulative gas;
    /// deposits' with their deposit nonce and receipt version 1).
    pub receipts: Vec<OpReceiptEnvelope>,
    /// Hashes of the included transactions, in order.
    pub tx_hashes: Vec<B256>,
    /// Gas used by each included transaction.
    pub gas_used_per_tx: Vec<u64>,
    /// L1 data fee paid by each included transaction (zero for deposits).
    pub l1_fee_per_tx: Vec<U256>,
    /// Gas used by the block.
    pub gas_used: u64,
    /// State root after the block.
    pub state_root: B256,
    /// State root after each included transaction (with [`ExecOptions::per_tx_roots`]).
    pub per_tx_state_roots: Option<Vec<B256>>,
    /// Root of the receipts trie (the header's `receiptsRoot`).
    pub receipts_root: B256,
    /// Root of the transactions trie (the header's `transactionsRoot`).
    pub transactions_root: B256,
    /// The block's logs bloom.
    pub logs_bloom: Bloom,
    /// Transactions left out (with [`InvalidTxPolicy::Skip`]).
    pub rejected: Vec<RejectedTx>,
}

impl BlockOutcome {
    /// All logs of the block, in order.
    pub fn logs(&self) -> impl Iterator<Item = &Log> {
        self.receipts.iter().flat_map(|r| r.logs())
    }
}

/// The STF of one chain: its chain id, hardfork and AIVM precompiles.
#[derive(Debug, Clone)]
pub struct Executor {
    chain_id: u64,
    spec: SpecId,
    precompiles: Arc<AivmPrecompileSet>,
}

impl Executor {
    /// The STF of chain `chain_id` at [`AIVM_SPEC`] with no AIVM precompile.
    pub fn new(chain_id: u64) -> Self {
        Self { chain_id, spec: AIVM_SPEC, precompiles: Arc::new(AivmPrecompileSet::new()) }
    }

    /// With the AIVM precompiles `precompiles`.
    pub fn with_precompiles(mut self, precompiles: AivmPrecompileSet) -> Self {
        self.precompiles = Arc::new(precompiles);
        self
    }

    /// With another hardfork (for tests against other clients' defaults).
    pub fn with_spec(mut self, spec: SpecId) -> Self {
        self.spec = spec;
        self
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The hardfork.
    pub fn spec(&self) -> SpecId {
        self.spec
    }

    fn evm<'a, I>(&self, state: &'a mut State, block: &BlockInput, inspector: I) -> AivmEvm<'a, I> {
        if let Some(parent) = block.number.checked_sub(1) {
            state.set_block_hash(parent, block.parent_hash);
        }
        let mut cfg = CfgEnv::new_with_spec(self.spec);
        cfg.chain_id = self.chain_id;
        let mut ctx = AivmContext::new(state, self.spec);
        ctx.cfg = cfg;
        ctx.block = block.to_env();
        Evm {
            ctx,
            inspector,
            instruction: EthInstructions::new_mainnet_with_spec(self.spec),
            precompiles: AivmPrecompiles::new(self.spec, self.precompiles.clone()),
            frame_stack: revm::context::FrameStack::new_prealloc(8),
        }
    }

    /// Executes `txs` on `state` in block `block`: the state is left at the post-state.
    pub fn execute_block(
        &self,
        state: &mut State,
        block: &BlockInput,
        txs: &[Recovered<OpTxEnvelope>],
        options: &ExecOptions,
    ) -> Result<BlockOutcome, ExecError> {
        let mut evm = self.evm(state, block, NoOpInspector);
        run_block(&mut evm, block, txs, options, false)
    }

    /// As [`Executor::execute_block`], with `inspector` seeing every transaction.
    pub fn execute_block_inspected<I>(
        &self,
        state: &mut State,
        block: &BlockInput,
        txs: &[Recovered<OpTxEnvelope>],
        options: &ExecOptions,
        inspector: I,
    ) -> Result<BlockOutcome, ExecError>
    where
        I: for<'a> Inspector<AivmContext<'a>>,
    {
        let mut evm = self.evm(state, block, inspector);
        run_block(&mut evm, block, txs, options, true)
    }

    /// Replays the block on its pre-state `state` up to transaction `index` and traces that
    /// one with revm-inspectors' [`TracingInspector`] (what `debug_traceTransaction` serves:
    /// turn it into a geth or parity trace with its builders). The pre-state is taken by value
    /// (the replay consumes it): hand over a snapshot, or clone.
    pub fn trace_transaction(
        &self,
        mut state: State,
        block: &BlockInput,
        txs: &[Recovered<OpTxEnvelope>],
        index: usize,
        config: TracingInspectorConfig,
    ) -> Result<(TracingInspector, ExecutionResult<HaltReason>), ExecError> {
        let target = txs.get(index).ok_or(ExecError::NoSuchTransaction { index, len: txs.len() })?;
        let strict = ExecOptions { per_tx_roots: false, on_invalid: InvalidTxPolicy::FailBlock };
        let before = {
            let mut evm = self.evm(&mut state, block, NoOpInspector);
            run_block(&mut evm, block, &txs[..index], &strict, false)?
        };
        let mut evm = self.evm(&mut state, block, TracingInspector::new(config));
        let invalid =
            |reason| ExecError::InvalidTransaction { index, hash: target.inner().tx_hash(), reason };
        let available = block.gas_limit.saturating_sub(before.gas_used);
        let applied = match apply_tx(&mut evm, target, available, true)? {
            Ok(applied) => applied,
            Err(reason) => return Err(invalid(reason)),
        };
        // A deposit refused by revm's checks never ran: there is nothing to trace.
        let result = applied.result.ok_or_else(|| {
            invalid(InvalidTx::Other("the deposit failed its validation and did not execute".into()))
        })?;
        Ok((evm.inspector, result))
    }
}

/// EIP-2935 (Prague): before the first transaction, the system address calls the history
/// contract with the parent hash, which stores it at slot `(number - 1) % 8191`. Like the
/// other clients, the call is skipped when the contract has no code (it is a genesis
/// predeploy) and its gas counts toward nothing; only the contract's own storage changes are
/// kept (not the system address's, which a system call does not create).
fn apply_history_storage<I>(evm: &mut AivmEvm<'_, I>, block: &BlockInput) -> Result<(), ExecError>
where
    I: for<'a> Inspector<AivmContext<'a>>,
{
    if !evm.ctx.cfg.spec.is_enabled_in(SpecId::PRAGUE) || block.number == 0 {
        return Ok(());
    }
    let has_code = evm
        .ctx
        .db_mut()
        .account(&HISTORY_STORAGE_ADDRESS)
        .is_some_and(|a| a.code_hash != alloy_primitives::KECCAK256_EMPTY);
    if !has_code {
        return Ok(());
    }
    let mut out = evm
        .system_call_with_caller(SYSTEM_ADDRESS, HISTORY_STORAGE_ADDRESS, block.parent_hash.into())
        .map_err(|e| ExecError::Evm(format!("EIP-2935 system call: {e}")))?;
    if !out.result.is_success() {
        return Err(ExecError::Evm(format!("EIP-2935 system call failed: {:?}", out.result)));
    }
    out.state.retain(|address, _| *address == HISTORY_STORAGE_ADDRESS);
    evm.ctx.db_mut().commit(out.state);
    Ok(())
}

/// The transaction environment revm runs `tx` in (not for deposits: see [`deposit_env`]).
pub fn tx_env(tx: &Recovered<OpTxEnvelope>) -> Result<TxEnv, InvalidTx> {
    let inner = tx.inner();
    match inner {
        OpTxEnvelope::Deposit(_) => {
            return Err(InvalidTx::Unsupported(
                "deposit transaction outside the block's system transactions",
            ));
        }
        OpTxEnvelope::PostExec(_) => return Err(InvalidTx::Unsupported("post-exec (0x7D) transaction")),
        _ => {}
    }
    Ok(TxEnv {
        tx_type: inner.tx_type() as u8,
        caller: tx.signer(),
        gas_limit: inner.gas_limit(),
        // For legacy and EIP-2930 transactions this is the gas price, else the max fee.
        gas_price: inner.max_fee_per_gas(),
        kind: inner.kind(),
        value: inner.value(),
        data: inner.input().clone(),
        nonce: inner.nonce(),
        chain_id: inner.chain_id(),
        access_list: inner.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: inner.max_priority_fee_per_gas(),
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: inner
            .authorization_list()
            .map(|list| list.iter().cloned().map(Either::Left).collect())
            .unwrap_or_default(),
    })
}

/// The transaction environment of deposit `tx` when its sender's nonce is `nonce`: a legacy
/// transaction at gas price 0 (deposits buy no gas on L2; their gas was paid for on L1), with
/// the sender's own nonce (deposits carry none, but the sender's nonce still increments).
pub fn deposit_env(tx: &TxDeposit, nonce: u64, chain_id: u64) -> TxEnv {
    TxEnv {
        tx_type: 0,
        caller: tx.from,
        gas_limit: tx.gas_limit,
        gas_price: 0,
        kind: tx.to,
        value: tx.value,
        data: tx.input.clone(),
        nonce,
        chain_id: Some(chain_id),
        access_list: Default::default(),
        gas_priority_fee: None,
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: Vec::new(),
    }
}

/// What one included transaction did.
struct Applied {
    success: bool,
    gas_used: u64,
    /// revm's result (none for a deposit that failed revm's checks and never ran).
    result: Option<ExecutionResult<HaltReason>>,
    /// The sender's nonce before a deposit (its receipt's `depositNonce`).
    deposit_nonce: Option<u64>,
    l1_fee: U256,
}

/// Applies `tx`: `Ok(Err(_))` when it cannot be included (never for a deposit), `Err(_)` on an
/// EVM failure that is no fault of the transaction's.
fn apply_tx<I>(
    evm: &mut AivmEvm<'_, I>,
    tx: &Recovered<OpTxEnvelope>,
    available: u64,
    inspect: bool,
) -> Result<Result<Applied, InvalidTx>, ExecError>
where
    I: for<'a> Inspector<AivmContext<'a>>,
{
    if let OpTxEnvelope::Deposit(deposit) = tx.inner() {
        return apply_deposit(evm, deposit.inner(), inspect).map(Ok);
    }
    if tx.gas_limit() > available {
        return Ok(Err(InvalidTx::GasAboveBlockLimit { gas_limit: tx.gas_limit(), available }));
    }
    let env = match tx_env(tx) {
        Ok(env) => env,
        Err(reason) => return Ok(Err(reason)),
    };
    // The L1 data fee is taken before execution (as op-revm does), so the transaction runs
    // with what is left, and it is checked with the rest of the transaction's cost.
    let sender = tx.signer();
    let params = L1FeeParams::from_state(evm.ctx.db_mut());
    let l1_fee =
        if params == L1FeeParams::default() { U256::ZERO } else { params.fee(&tx.inner().encoded_2718()) };
    let mut balance_before = None;
    if !l1_fee.is_zero() {
        let balance = evm.ctx.db_mut().account(&sender).map_or(U256::ZERO, |a| a.balance);
        let needed = U256::from(env.gas_limit)
            .saturating_mul(U256::from(env.gas_price))
            .saturating_add(env.value)
            .saturating_add(l1_fee);
        if balance < needed {
            return Ok(Err(InvalidTx::InsufficientFunds { needed, balance }));
        }
        evm.ctx.db_mut().set_balance(sender, balance - l1_fee);
        balance_before = Some(balance);
    }
    let result = if inspect { evm.inspect_tx(env) } else { evm.transact(env) };
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(balance) = balance_before {
                evm.ctx.db_mut().set_balance(sender, balance);
            }
            return match e {
                EVMError::Transaction(e) => Ok(Err(e.into())),
                e => Err(ExecError::Evm(e.to_string())),
            };
        }
    };
    evm.ctx.db_mut().commit(result.state);
    if !l1_fee.is_zero() {
        let db = evm.ctx.db_mut();
        let vault = db.account(&L1_FEE_VAULT).map_or(U256::ZERO, |a| a.balance);
        db.set_balance(L1_FEE_VAULT, vault.saturating_add(l1_fee));
    }
    Ok(Ok(Applied {
        success: result.result.is_success(),
        gas_used: result.result.tx_gas_used(),
        result: Some(result.result),
        deposit_nonce: None,
        l1_fee,
    }))
}

/// Applies deposit `tx` with OP's Regolith+ rules: the mint is credited to `from` first and
/// kept whatever happens; no fee is charged (gas price and `BASEFEE` are 0 while it runs);
/// `from`'s nonce increments even if it fails; it is exempt from EIP-7825's gas cap; a failed
/// deposit (revert, halt, or refused by revm's checks) uses its whole gas limit. It is always
/// included.
fn apply_deposit<I>(evm: &mut AivmEvm<'_, I>, tx: &TxDeposit, inspect: bool) -> Result<Applied, ExecError>
where
    I: for<'a> Inspector<AivmContext<'a>>,
{
    let from = tx.from;
    let db = evm.ctx.db_mut();
    let account = db.account(&from);
    let nonce = account.map_or(0, |a| a.nonce);
    if tx.mint > 0 {
        let balance = account.map_or(U256::ZERO, |a| a.balance);
        db.set_balance(from, balance.saturating_add(U256::from(tx.mint)));
    }
    let failed = |evm: &mut AivmEvm<'_, I>, result| {
        let db = evm.ctx.db_mut();
        if db.account(&from).map_or(0, |a| a.nonce) == nonce {
            db.set_nonce(from, nonce.saturating_add(1));
        }
        Applied {
            success: false,
            gas_used: tx.gas_limit,
            result,
            deposit_nonce: Some(nonce),
            l1_fee: U256::ZERO,
        }
    };
    if tx.is_system_transaction {
        // System deposits were retired by Regolith: one is included as a failed deposit.
        tracing::debug!(target: "aivm::stf", source_hash = %tx.source_hash, "system deposit after Regolith: failed");
        return Ok(failed(evm, None));
    }
    let env = deposit_env(tx, nonce, evm.ctx.cfg.chain_id);
    // revm has no "no fee" switch without its optional features: run with a zero base fee and
    // no per-transaction gas cap, and put both back afterwards.
    let basefee = std::mem::replace(&mut evm.ctx.block.basefee, 0);
    let cap = evm.ctx.cfg.tx_gas_limit_cap.replace(u64::MAX);
    let result = if inspect { evm.inspect_tx(env) } else { evm.transact(env) };
    evm.ctx.block.basefee = basefee;
    evm.ctx.cfg.tx_gas_limit_cap = cap;
    match result {
        Ok(r) => {
            evm.ctx.db_mut().commit(r.state);
            if r.result.is_success() {
                Ok(Applied {
                    success: true,
                    gas_used: r.result.tx_gas_used(),
                    result: Some(r.result),
                    deposit_nonce: Some(nonce),
                    l1_fee: U256::ZERO,
                })
            } else {
                Ok(failed(evm, Some(r.result)))
            }
        }
        Err(EVMError::Transaction(reason)) => {
            tracing::debug!(target: "aivm::stf", source_hash = %tx.source_hash, %reason, "deposit failed validation");
            Ok(failed(evm, None))
        }
        Err(e) => Err(ExecError::Evm(e.to_string())),
    }
}

fn run_block<I>(
    evm: &mut AivmEvm<'_, I>,
    block: &BlockInput,
    txs: &[Recovered<OpTxEnvelope>],
    options: &ExecOptions,
    inspect: bool,
) -> Result<BlockOutcome, ExecError>
where
    I: for<'a> Inspector<AivmContext<'a>>,
{
    let mut receipts = Vec::with_capacity(txs.len());
    let mut tx_hashes = Vec::with_capacity(txs.len());
    let mut gas_used_per_tx = Vec::with_capacity(txs.len());
    let mut l1_fee_per_tx = Vec::with_capacity(txs.len());
    let mut encoded = Vec::with_capacity(txs.len());
    let mut per_tx_roots = options.per_tx_roots.then(|| Vec::with_capacity(txs.len()));
    let mut rejected = Vec::new();
    let mut cumulative = 0u64;
    let mut logs_bloom = Bloom::ZERO;

    apply_history_storage(evm, block)?;

    for (index, tx) in txs.iter().enumerate() {
        let hash = tx.inner().tx_hash();
        // Deposits are never refused, so their gas may leave less than nothing for the rest.
        let available = block.gas_limit.saturating_sub(cumulative);
        let applied = match apply_tx(evm, tx, available, inspect)? {
            Ok(applied) => applied,
            Err(reason) => {
                tracing::debug!(target: "aivm::stf", index, %hash, %reason, "transaction rejected");
                match options.on_invalid {
                    InvalidTxPolicy::Skip => {
                        rejected.push(RejectedTx { index, hash, reason });
                        continue;
                    }
                    InvalidTxPolicy::FailBlock => {
                        return Err(ExecError::InvalidTransaction { index, hash, reason });
                    }
                }
            }
        };
        cumulative += applied.gas_used;
        // A failed deposit's logs are reverted with it.
        let logs: Vec<Log> = match applied.result {
            Some(r) if applied.success => r.into_logs(),
            _ => Vec::new(),
        };
        let bloom = alloy_primitives::logs_bloom(&logs);
        let receipt =
            Receipt { status: Eip658Value::Eip658(applied.success), cumulative_gas_used: cumulative, logs };
        let envelope = match applied.deposit_nonce {
            Some(nonce) => {
                let deposit = OpDepositReceipt {
                    inner: receipt,
                    deposit_nonce: Some(nonce),
                    // Canyon: deposit receipts carry their version, 1.
                    deposit_receipt_version: Some(1),
                };
                OpReceiptEnvelope::Deposit(ReceiptWithBloom { receipt: deposit, logs_bloom: bloom })
            }
            None => receipt_envelope(tx.inner(), ReceiptWithBloom { receipt, logs_bloom: bloom }),
        };
        logs_bloom |= bloom;
        receipts.push(envelope);
        if let Some(roots) = per_tx_roots.as_mut() {
            roots.push(evm.ctx.db_mut().state_root());
        }
        tx_hashes.push(hash);
        gas_used_per_tx.push(applied.gas_used);
        l1_fee_per_tx.push(applied.l1_fee);
        encoded.push(tx.inner());
    }

    let state_root = evm.ctx.db_mut().state_root();
    tracing::debug!(target: "aivm::stf", number = block.number, txs = tx_hashes.len(), rejected = rejected.len(), gas_used = cumulative, %state_root, "block executed");
    Ok(BlockOutcome {
        receipts_root: alloy::consensus::proofs::calculate_receipt_root(&receipts),
        transactions_root: alloy_trie::root::ordered_trie_root_with_encoder(&encoded, |tx, buf| {
            tx.encode_2718(buf)
        }),
        receipts,
        tx_hashes,
        gas_used_per_tx,
        l1_fee_per_tx,
        gas_used: cumulative,
        state_root,
        per_tx_state_roots: per_tx_roots,
        logs_bloom,
        rejected,
    })
}

/// The receipt envelope of a non-deposit transaction of `tx`'s type.
fn receipt_envelope(tx: &OpTxEnvelope, receipt: ReceiptWithBloom<Receipt>) -> OpReceiptEnvelope {
    match tx {
        OpTxEnvelope::Legacy(_) => OpReceiptEnvelope::Legacy(receipt),
        OpTxEnvelope::Eip2930(_) => OpReceiptEnvelope::Eip2930(receipt),
        OpTxEnvelope::Eip1559(_) => OpReceiptEnvelope::Eip1559(receipt),
        OpTxEnvelope::Eip7702(_) => OpReceiptEnvelope::Eip7702(receipt),
        // Refused by `tx_env`, so never included; deposits take the other branch.
        OpTxEnvelope::PostExec(_) | OpTxEnvelope::Deposit(_) => OpReceiptEnvelope::Legacy(receipt),
    }
}
