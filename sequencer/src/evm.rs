//! `eth_call` and `eth_estimateGas`: a transaction request run by revm with the AIVM
//! precompiles on a read-only view of the head state (with optional state overrides),
//! nothing committed.

use std::convert::Infallible;
use std::sync::Arc;

use alloy::rpc::types::TransactionRequest;
use alloy::rpc::types::state::StateOverride;
use alloy_primitives::map::B256Map;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, TxKind, U256, keccak256};
use revm::bytecode::Bytecode;
use revm::context::{BlockEnv, CfgEnv, Evm, FrameStack, TxEnv};
use revm::context_interface::block::BlobExcessGasAndPrice;
use revm::context_interface::either::Either;
use revm::context_interface::result::{EVMError, ExecutionResult, HaltReason, InvalidTransaction};
use revm::handler::EthFrame;
use revm::handler::instructions::EthInstructions;
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;
use revm::state::AccountInfo;
use revm::{Context, Database, ExecuteEvm, Journal};
use temporis_aivm::{AivmPrecompileSet, AivmPrecompiles, State};

/// The largest gas a call may use: EIP-7825's per-transaction cap (Osaka).
pub const CALL_GAS_CAP: u64 = 1 << 24;

/// A read-only view of the state with overrides applied on top (both revm's `Database` and,
/// for the prestate tracer, `DatabaseRef`).
pub struct CallDb<'a> {
    state: &'a State,
    overrides: Option<&'a StateOverride>,
    /// Code of the overrides, by hash (computed once, so that reads need no mutation).
    override_codes: B256Map<Bytecode>,
    block_hash: &'a dyn Fn(u64) -> B256,
}

impl<'a> CallDb<'a> {
    /// A view of `state` with `overrides`.
    pub fn new(
        state: &'a State,
        overrides: Option<&'a StateOverride>,
        block_hash: &'a dyn Fn(u64) -> B256,
    ) -> Self {
        let override_codes = overrides
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(|a| a.code.as_ref())
            .filter(|code| !code.is_empty())
            .map(|code| {
                let bytecode = Bytecode::new_raw_checked(code.clone())
                    .unwrap_or_else(|_| Bytecode::new_legacy(code.clone()));
                (keccak256(code), bytecode)
            })
            .collect();
        Self { state, overrides, override_codes, block_hash }
    }
}

impl revm::DatabaseRef for CallDb<'_> {
    type Error = Infallible;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        let base = self.state.account(&address).map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            account_id: None,
            code: None,
        });
        let Some(over) = self.overrides.and_then(|o| o.get(&address)) else { return Ok(base) };
        let mut info = base.unwrap_or_default();
        if let Some(balance) = over.balance {
            info.balance = balance;
        }
        if let Some(nonce) = over.nonce {
            info.nonce = nonce;
        }
        if let Some(code) = &over.code {
            info.code_hash = if code.is_empty() { KECCAK256_EMPTY } else { keccak256(code) };
            info.code = self.override_codes.get(&info.code_hash).cloned();
        }
        Ok(Some(info))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Infallible> {
        if let Some(code) = self.override_codes.get(&code_hash) {
            return Ok(code.clone());
        }
        Ok(self.state.code(&code_hash).map(Bytecode::new_raw).unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Infallible> {
        if let Some(over) = self.overrides.and_then(|o| o.get(&address)) {
            let key = B256::from(index);
            if let Some(state) = &over.state {
                // `state` replaces the whole storage.
                return Ok(state.get(&key).map(|v| (*v).into()).unwrap_or_default());
            }
            if let Some(value) = over.state_diff.as_ref().and_then(|d| d.get(&key)) {
                return Ok((*value).into());
            }
        }
        Ok(self.state.storage(&address, index))
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Infallible> {
        Ok((self.block_hash)(number))
    }
}

impl Database for CallDb<'_> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        revm::DatabaseRef::basic_ref(self, address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        revm::DatabaseRef::code_by_hash_ref(self, code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        revm::DatabaseRef::storage_ref(self, address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        revm::DatabaseRef::block_hash_ref(self, number)
    }
}

/// The revm context of calls and traces.
pub type CallCtx<'a> = Context<BlockEnv, TxEnv, CfgEnv, CallDb<'a>, Journal<CallDb<'a>>>;

/// The EVM of calls and traces: mainnet instructions, Ethereum + AIVM precompiles.
pub type CallEvm<'a, I> = Evm<
    CallCtx<'a>,
    I,
    EthInstructions<EthInterpreter, CallCtx<'a>>,
    AivmPrecompiles,
    EthFrame<EthInterpreter>,
>;

/// An EVM over `env` with `inspector`; `is_call`: an RPC call (no nonce check; no base fee
/// when the call pays no fee), else a real transaction's replay.
pub fn build_evm<'a, I>(env: &CallEnv<'a>, inspector: I, tx: &TxEnv, is_call: bool) -> CallEvm<'a, I> {
    let db = CallDb::new(env.state, env.overrides, env.block_hash);
    let mut cfg = CfgEnv::new_with_spec(env.spec);
    cfg.chain_id = env.chain_id;
    cfg.disable_nonce_check = is_call;
    if env.uncapped {
        cfg.tx_gas_limit_cap = Some(u64::MAX);
    }
    let mut ctx: CallCtx<'a> = Context::new(db, env.spec);
    ctx.cfg = cfg;
    ctx.block = env.block.clone();
    if is_call && tx.gas_price == 0 {
        // As geth's `NoBaseFee` for calls without a fee: nothing is charged, so no base fee
        // check applies (revm has no switch for it without an extra feature build).
        ctx.block.basefee = 0;
    }
    Evm {
        ctx,
        inspector,
        instruction: EthInstructions::new_mainnet_with_spec(env.spec),
        precompiles: AivmPrecompiles::new(env.spec, env.precompiles.clone()),
        frame_stack: FrameStack::new_prealloc(8),
    }
}

/// Why a call could not run (as opposed to running and reverting).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The request is not a valid transaction.
    #[error("{0}")]
    Invalid(String),
    /// The sender cannot pay.
    #[error("insufficient funds for gas * price + value")]
    InsufficientFunds,
    /// revm failed for another reason.
    #[error("{0}")]
    Evm(String),
}

/// The context a call runs in.
pub struct CallEnv<'a> {
    /// The head state.
    pub state: &'a State,
    /// Overrides on top of it.
    pub overrides: Option<&'a StateOverride>,
    /// The block environment (the next block's, as geth's `pending`, or the head's).
    pub block: BlockEnv,
    /// Chain id.
    pub chain_id: u64,
    /// Hardfork.
    pub spec: SpecId,
    /// AIVM precompiles.
    pub precompiles: Arc<AivmPrecompileSet>,
    /// Block hashes for `BLOCKHASH`.
    pub block_hash: &'a dyn Fn(u64) -> B256,
    /// No EIP-7825 per-transaction gas cap (a deposit's replay: deposits are exempt).
    pub uncapped: bool,
}

/// The block environment of block `number` as the EVM sees it.
pub fn block_env(
    number: u64,
    timestamp: u64,
    beneficiary: Address,
    base_fee: u64,
    gas_limit: u64,
    prevrandao: B256,
) -> BlockEnv {
    BlockEnv {
        number: U256::from(number),
        beneficiary,
        timestamp: U256::from(timestamp),
        gas_limit,
        basefee: base_fee,
        difficulty: U256::ZERO,
        prevrandao: Some(prevrandao),
        blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(0, 1)),
        ..Default::default()
    }
}

/// The transaction environment of a call request; `gas` overrides the request's gas.
pub fn request_env(
    req: &TransactionRequest,
    env: &CallEnv<'_>,
    gas: Option<u64>,
) -> Result<TxEnv, CallError> {
    let caller = req.from.unwrap_or_default();
    let nonce = match req.nonce {
        Some(n) => n,
        None => env.state.account(&caller).map_or(0, |a| a.nonce),
    };
    let gas_limit = gas.or(req.gas).unwrap_or_else(|| env.block.gas_limit.min(CALL_GAS_CAP));
    // As geth: without a fee the call pays nothing (and the base fee check is off); with
    // one, it pays it.
    let gas_price = req.max_fee_per_gas.or(req.gas_price).unwrap_or(0);
    let tx_type = if req.authorization_list.is_some() {
        4
    } else if req.max_fee_per_gas.is_some() || req.max_priority_fee_per_gas.is_some() {
        2
    } else if req.access_list.is_some() {
        1
    } else {
        0
    };
    Ok(TxEnv {
        tx_type,
        caller,
        gas_limit,
        gas_price,
        kind: req.to.unwrap_or(TxKind::Create),
        value: req.value.unwrap_or_default(),
        data: req.input.input().cloned().unwrap_or_default(),
        nonce,
        chain_id: Some(env.chain_id),
        access_list: req.access_list.clone().unwrap_or_default(),
        gas_priority_fee: req.max_priority_fee_per_gas.or((tx_type >= 2).then_some(0)),
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list: req
            .authorization_list
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(Either::Left)
            .collect(),
    })
}

/// The L1 data fee the transaction of `tx` would pay if sent, at the L1 values in the state:
/// its EIP-1559 encoding with a placeholder signature of full-size, incompressible words (a
/// signed transaction is the same size but for a leading zero byte of `r` or `s`, and its
/// signature does not compress either).
pub fn request_l1_fee(env: &CallEnv<'_>, tx: &TxEnv) -> U256 {
    use alloy::consensus::SignableTransaction;
    use alloy::eips::Encodable2718;
    let params = temporis_aivm::l1fee::L1FeeParams::from_state(env.state);
    if params == temporis_aivm::l1fee::L1FeeParams::default() {
        return U256::ZERO;
    }
    let unsigned = alloy::consensus::TxEip1559 {
        chain_id: env.chain_id,
        nonce: tx.nonce,
        gas_limit: tx.gas_limit,
        max_fee_per_gas: tx.gas_price,
        max_priority_fee_per_gas: tx.gas_priority_fee.unwrap_or_default(),
        to: tx.kind,
        value: tx.value,
        access_list: tx.access_list.clone(),
        input: tx.data.clone(),
    };
    let r = U256::from_be_bytes(keccak256(b"placeholder r").0);
    let s = U256::from_be_bytes(keccak256(b"placeholder s").0);
    let signed = unsigned.into_signed(alloy_primitives::Signature::new(r, s, false));
    params.fee(&alloy::consensus::TxEnvelope::from(signed).encoded_2718())
}

/// Runs `req` with gas `gas` (or the request's, or the cap) and returns the result. A call
/// that pays a fee (`gasPrice` or `maxFeePerGas` set) must also afford its L1 data fee
/// ([`request_l1_fee`]), as the transaction will: else "insufficient funds".
pub fn call(
    env: &CallEnv<'_>,
    req: &TransactionRequest,
    gas: Option<u64>,
) -> Result<ExecutionResult<HaltReason>, CallError> {
    let tx = request_env(req, env, gas)?;
    if tx.gas_price > 0 {
        let l1_fee = request_l1_fee(env, &tx);
        if !l1_fee.is_zero() {
            let db = CallDb::new(env.state, env.overrides, env.block_hash);
            let balance = revm::DatabaseRef::basic_ref(&db, tx.caller)
                .map_err(|e| match e {})?
                .map_or(U256::ZERO, |a| a.balance);
            let needed = U256::from(tx.gas_limit)
                .saturating_mul(U256::from(tx.gas_price))
                .saturating_add(tx.value)
                .saturating_add(l1_fee);
            if balance < needed {
                return Err(CallError::InsufficientFunds);
            }
        }
    }
    let mut evm = build_evm(env, (), &tx, true);
    match evm.transact(tx) {
        Ok(r) => Ok(r.result),
        Err(EVMError::Transaction(InvalidTransaction::LackOfFundForMaxFee { .. })) => {
            Err(CallError::InsufficientFunds)
        }
        Err(EVMError::Transaction(e)) => Err(CallError::Invalid(e.to_string())),
        Err(e) => Err(CallError::Evm(e.to_string())),
    }
}

/// The outcome of a call that did not succeed, for the error a client sees.
#[derive(Debug, Clone)]
pub enum Failure {
    /// `REVERT`, with its data.
    Revert(Bytes),
    /// An exceptional halt.
    Halt(HaltReason),
}

/// Estimates the gas `req` needs: the least gas limit with which it succeeds, found by binary
/// search between the gas it used and the cap (as geth, starting from the used gas × 64/63 to
/// cover the EIP-150 retention most calls need).
pub fn estimate_gas(env: &CallEnv<'_>, req: &TransactionRequest) -> Result<Result<u64, Failure>, CallError> {
    let hi_cap = req.gas.unwrap_or_else(|| env.block.gas_limit.min(CALL_GAS_CAP));
    let first = call(env, req, Some(hi_cap))?;
    let used = match first {
        ExecutionResult::Success { gas, .. } => gas.tx_gas_used(),
        ExecutionResult::Revert { output, .. } => return Ok(Err(Failure::Revert(output))),
        ExecutionResult::Halt { reason, .. } => return Ok(Err(Failure::Halt(reason))),
    };
    let succeeds = |gas: u64| -> Result<bool, CallError> {
        match call(env, req, Some(gas)) {
            Ok(r) => Ok(r.is_success()),
            // Below the intrinsic gas or the calldata floor: too little.
            Err(CallError::Invalid(_)) => Ok(false),
            Err(e) => Err(e),
        }
    };
    // Refunds make the used gas smaller than the limit a transaction needs; so do the 1/64
    // retained by calls. Try the common case first.
    let mut lo = used.saturating_sub(1);
    let mut hi = hi_cap;
    let optimistic = (used + 2300) * 64 / 63;
    if optimistic < hi {
        if succeeds(optimistic)? {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    if used < hi && succeeds(used)? {
        return Ok(Ok(used));
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if succeeds(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Ok(hi))
}
