//! The Ethereum JSON-RPC server (jsonrpsee, HTTP and WebSocket on one socket).
//!
//! Errors carry geth's codes and words (`-32000` with "nonce too low", "insufficient funds for
//! gas * price + value", …; `3` with "execution reverted: …" and the revert data), because
//! wallets and libraries match on them. Parameter errors are `-32602`, unknown methods
//! `-32601`, malformed JSON `-32700`, oversized bodies and batches are refused by the server
//! with an error, never a crash.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use alloy::consensus::transaction::Recovered;
use alloy::consensus::{ReceiptWithBloom, Transaction as _};
use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip1898::BlockId;
use alloy::rpc::types::state::StateOverride;
use alloy::rpc::types::{BlockTransactions, FeeHistory, Filter, Log, TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolError;
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use jsonrpsee::server::{
    BatchRequestConfig, PendingSubscriptionSink, RpcModule, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use op_alloy_consensus::{OpReceipt, OpReceiptEnvelope, OpTxEnvelope};
use op_alloy_rpc_types::{L1BlockInfo, OpTransactionReceipt, Transaction};
use revm::context_interface::result::ExecutionResult;
use serde_json::{Value, json};
use temporis_aivm::State;
use temporis_aivm::l1fee::L1FeeParams;
use temporis_protocol::chain::L1_BLOCK_PREDEPLOY;
use temporis_protocol::l1::L1BlockValues;

use crate::evm::{self, CallEnv, CallError, Failure};
use crate::node::{Head, Node, SubmitError};
use crate::store::StoredBlock;

type RpcResult = Result<Value, ErrorObjectOwned>;

/// A block as served: OP transactions.
type Block = alloy::rpc::types::Block<Transaction>;

/// The suggested priority fee (1 Mwei, as OP Stack chains suggest by default: blocks are not
/// full, so any tip is included).
pub const SUGGESTED_TIP: u128 = 1_000_000;
/// Most blocks one `eth_getLogs` may scan.
pub const MAX_LOG_RANGE: u64 = 100_000;
/// Most logs one `eth_getLogs` returns.
pub const MAX_LOGS: usize = 20_000;
/// Most storage keys one `eth_getProof` proves (each costs a pass over the account's storage).
pub const MAX_PROOF_KEYS: usize = 1024;

fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn server_err(message: impl std::fmt::Display) -> ErrorObjectOwned {
    err(-32000, message.to_string())
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    err(-32603, e.to_string())
}

fn to_value<T: serde::Serialize>(v: T) -> RpcResult {
    serde_json::to_value(v).map_err(internal)
}

/// geth's revert error: code 3, "execution reverted" with the decoded reason if any, the
/// revert data as `data`.
fn revert_err(output: &Bytes) -> ErrorObjectOwned {
    // geth unpacks `Error(string)` into the message and leaves other data (custom errors,
    // panics) to the `data` field.
    let message = match alloy::sol_types::Revert::abi_decode(output) {
        Ok(revert) => format!("execution reverted: {}", revert.reason),
        Err(_) => "execution reverted".to_owned(),
    };
    ErrorObjectOwned::owned(3, message, Some(output.to_string()))
}

fn failure_err(f: &Failure) -> ErrorObjectOwned {
    match f {
        Failure::Revert(output) => revert_err(output),
        Failure::Halt(reason) => server_err(halt_message(reason)),
    }
}

fn halt_message(reason: &revm::context_interface::result::HaltReason) -> String {
    use revm::context_interface::result::{HaltReason, OutOfGasError};
    match reason {
        HaltReason::OutOfGas(OutOfGasError::Basic) | HaltReason::OutOfGas(_) => "out of gas".into(),
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode => "invalid opcode".into(),
        HaltReason::StackUnderflow => "stack underflow".into(),
        HaltReason::StackOverflow => "stack limit reached 1024".into(),
        HaltReason::InvalidJump => "invalid jump destination".into(),
        other => format!("execution halted: {other:?}"),
    }
}

fn call_err(e: CallError) -> ErrorObjectOwned {
    server_err(e)
}

/// geth answers every refused transaction, undecodable bytes included, with `-32000`.
fn submit_err(e: SubmitError) -> ErrorObjectOwned {
    server_err(e)
}

/// Resolves a block tag or number to a block number (`None`: beyond the head).
fn resolve_number(head: &Head, tag: BlockNumberOrTag) -> Option<u64> {
    match tag {
        BlockNumberOrTag::Earliest => Some(0),
        BlockNumberOrTag::Number(n) if n <= head.header.number => Some(n),
        BlockNumberOrTag::Number(_) => None,
        _ => Some(head.header.number),
    }
}

/// The block an account or storage read names: its number, or none for the head (`latest`,
/// `pending`, `safe`, `finalized`, resolved under the state lock).
fn state_block(node: &Node, block: Option<BlockId>) -> Result<Option<u64>, ErrorObjectOwned> {
    match block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
        BlockId::Number(BlockNumberOrTag::Number(n)) => Ok(Some(n)),
        BlockId::Number(BlockNumberOrTag::Earliest) => Ok(Some(0)),
        BlockId::Number(_) => Ok(None),
        BlockId::Hash(h) => node
            .store()
            .number_of(&h.block_hash)
            .map_err(internal)?
            .map(Some)
            .ok_or_else(|| server_err("header not found")),
    }
}

/// Runs `f` on the accounts and storage at `block` (any stored block, see
/// [`Node::with_view_at`]).
fn view_at(
    node: &Node,
    block: Option<BlockId>,
    f: impl FnOnce(&crate::node::HeadView<'_>) -> RpcResult,
) -> RpcResult {
    node.with_view_at(state_block(node, block)?, |view, _| f(view))
        .map_err(server_err)?
        .unwrap_or_else(|| Err(server_err("header not found")))
}

/// Runs `f` on the state at `block` and the block it belongs to: the head state (shared, no
/// copy) for the head, `pending` and the other tags; for a past block a copy of the state
/// rebuilt from the undo logs ([`Node::state_at`], O(state)). Calls run in the environment of
/// the block after the one named, as they do at the head.
fn with_state_at(n: &Node, block: Option<BlockId>, f: impl FnOnce(&State, &Head) -> RpcResult) -> RpcResult {
    let pending = matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending)));
    let at = if pending { None } else { state_block(n, block)? };
    let mut f = Some(f);
    if at.is_none_or(|a| a >= n.head().header.number) {
        // The head may move between the check and the lock: then the past path below serves it.
        let served = n.with_state(|state, head| {
            if at.is_some_and(|a| a != head.header.number) {
                return None;
            }
            f.take().map(|f| f(state, head))
        });
        if let Some(r) = served {
            return r;
        }
    }
    let at = at.ok_or_else(|| server_err("header not found"))?;
    if at > n.head().header.number {
        return Err(server_err("header not found"));
    }
    let past = n.state_at(at).map_err(server_err)?;
    let b = n.block(at).map_err(internal)?.ok_or_else(|| server_err("header not found"))?;
    let head = Head { header: b.header.clone(), hash: b.hash };
    let f = f.take().ok_or_else(|| internal("call already served"))?;
    f(&past, &head)
}

/// Checks that `block` names the head (or pending): only the head state is kept.
fn check_state_block(node: &Node, head: &Head, block: Option<BlockId>) -> Result<(), ErrorObjectOwned> {
    let number = match block.unwrap_or(BlockId::Number(BlockNumberOrTag::Latest)) {
        BlockId::Number(tag) => resolve_number(head, tag).ok_or_else(|| server_err("header not found"))?,
        BlockId::Hash(h) => node
            .store()
            .number_of(&h.block_hash)
            .map_err(internal)?
            .ok_or_else(|| server_err("header not found"))?,
    };
    if number != head.header.number {
        return Err(server_err(format!(
            "historical state unavailable: block {number} is behind the head {} (this node keeps the head state only)",
            head.header.number
        )));
    }
    Ok(())
}

/// Transaction `index` of `block` as OP nodes serve it: a deposit with `sourceHash`, `mint`,
/// `isSystemTx`, its `from`, `gasPrice` 0, the sender's nonce before it (`nonce`, from its
/// receipt), `depositReceiptVersion`, and the zero signature op-geth and op-reth show.
fn rpc_tx(block: &StoredBlock, index: usize) -> Transaction {
    let tx = &block.txs[index];
    let receipt = &block.receipts[index];
    let effective_gas_price =
        if tx.is_deposit() { 0 } else { tx.effective_gas_price(block.header.base_fee_per_gas) };
    Transaction {
        inner: alloy::rpc::types::Transaction {
            effective_gas_price: Some(effective_gas_price),
            inner: Recovered::new_unchecked(tx.clone(), block.senders[index]),
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            transaction_index: Some(index as u64),
            block_timestamp: None,
        },
        deposit_nonce: receipt.deposit_nonce(),
        deposit_receipt_version: receipt.deposit_receipt_version(),
    }
}

/// The L1 values of `block`: those its L1 attributes deposit (its first transaction) set, as
/// the STF read them for the block's transactions; zeros for a standalone block (no L1 origin,
/// no deposit, and `L1Block` never written: the STF charged no L1 fee).
fn block_l1_values(block: &StoredBlock) -> L1BlockValues {
    block
        .txs
        .first()
        .and_then(|tx| tx.as_deposit())
        .filter(|d| d.to.to() == Some(&L1_BLOCK_PREDEPLOY))
        .and_then(|d| L1BlockValues::decode_ecotone(&d.input).ok())
        .unwrap_or_default()
}

/// The L1 fee fields of a non-deposit receipt (OP's Ecotone/Fjord receipt fields).
fn l1_fee_fields(values: &L1BlockValues, tx: &OpTxEnvelope) -> L1BlockInfo {
    let fee = L1FeeParams::from_values(values).compute(&alloy::eips::Encodable2718::encoded_2718(tx));
    L1BlockInfo {
        l1_gas_price: Some(values.base_fee.saturating_to()),
        l1_gas_used: Some(u128::from(fee.gas_used)),
        l1_fee: Some(fee.fee.saturating_to()),
        l1_base_fee_scalar: Some(u128::from(values.base_fee_scalar)),
        l1_blob_base_fee: Some(values.blob_base_fee.saturating_to()),
        l1_blob_base_fee_scalar: Some(u128::from(values.blob_base_fee_scalar)),
        ..Default::default()
    }
}

/// An OP receipt envelope as the RPC receipt's inner receipt (the same fields, typed by `type`).
fn op_receipt<T>(receipt: OpReceiptEnvelope<T>) -> ReceiptWithBloom<OpReceipt<T>> {
    let (receipt, logs_bloom) = match receipt {
        OpReceiptEnvelope::Legacy(r) => (OpReceipt::Legacy(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip2930(r) => (OpReceipt::Eip2930(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip1559(r) => (OpReceipt::Eip1559(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Eip7702(r) => (OpReceipt::Eip7702(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::PostExec(r) => (OpReceipt::PostExec(r.receipt), r.logs_bloom),
        OpReceiptEnvelope::Deposit(r) => (OpReceipt::Deposit(r.receipt), r.logs_bloom),
    };
    ReceiptWithBloom { receipt, logs_bloom }
}

fn rpc_block(block: &StoredBlock, full: bool) -> Block {
    let transactions = if full {
        BlockTransactions::Full((0..block.txs.len()).map(|i| rpc_tx(block, i)).collect())
    } else {
        BlockTransactions::Hashes(block.txs.iter().map(|t| t.tx_hash()).collect())
    };
    let body = alloy::consensus::BlockBody {
        transactions: block.txs.clone(),
        ommers: vec![],
        withdrawals: Some(Default::default()),
    };
    let size = alloy::rlp::Encodable::length(&alloy::consensus::Block::new(block.header.clone(), body));
    Block {
        header: alloy::rpc::types::Header {
            hash: block.hash,
            inner: block.header.clone(),
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(size)),
        },
        uncles: vec![],
        transactions,
        withdrawals: Some(Default::default()),
    }
}

/// The logs of the block with their positions (block, transaction, log index).
fn block_logs(block: &StoredBlock) -> Vec<Log> {
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, receipt) in block.receipts.iter().enumerate() {
        for log in receipt.logs() {
            out.push(Log {
                inner: log.clone(),
                block_hash: Some(block.hash),
                block_number: Some(block.header.number),
                block_timestamp: Some(block.header.timestamp),
                transaction_hash: Some(block.txs[i].tx_hash()),
                transaction_index: Some(i as u64),
                log_index: Some(log_index),
                removed: false,
            });
            log_index += 1;
        }
    }
    out
}

fn rpc_receipt(block: &StoredBlock, index: usize) -> OpTransactionReceipt {
    let tx = &block.txs[index];
    let receipt = &block.receipts[index];
    let prev_cumulative = index.checked_sub(1).map_or(0, |p| block.receipts[p].cumulative_gas_used());
    let first_log: usize = block.receipts[..index].iter().map(|r| r.logs().len()).sum();
    let mut log_index = first_log as u64;
    let tx_hash = tx.tx_hash();
    let inner = receipt.clone().map_logs(|log| {
        let l = Log {
            inner: log,
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            block_timestamp: Some(block.header.timestamp),
            transaction_hash: Some(tx_hash),
            transaction_index: Some(index as u64),
            log_index: Some(log_index),
            removed: false,
        };
        log_index += 1;
        l
    });
    let from = block.senders[index];
    // A deposit's nonce is its sender's before it, which its receipt records.
    let nonce = receipt.deposit_nonce().unwrap_or_else(|| tx.nonce());
    let (effective_gas_price, l1_block_info) = if tx.is_deposit() {
        (0, L1BlockInfo::default())
    } else {
        (tx.effective_gas_price(block.header.base_fee_per_gas), l1_fee_fields(&block_l1_values(block), tx))
    };
    OpTransactionReceipt {
        inner: TransactionReceipt {
            inner: op_receipt(inner),
            transaction_hash: tx_hash,
            transaction_index: Some(index as u64),
            block_hash: Some(block.hash),
            block_number: Some(block.header.number),
            gas_used: receipt.cumulative_gas_used() - prev_cumulative,
            effective_gas_price,
            blob_gas_used: None,
            blob_gas_price: None,
            from,
            to: tx.to(),
            contract_address: tx.is_create().then(|| from.create(nonce)),
        },
        l1_block_info,
        op_gas_refund: None,
    }
}

fn receipt_of(node: &Node, hash: &B256) -> Result<Option<OpTransactionReceipt>, ErrorObjectOwned> {
    // Wallets poll for receipts of pending transactions: answer those without a store read.
    if node.with_pool(|p| p.contains(hash)) {
        return Ok(None);
    }
    let Some((number, index)) = node.tx_location(hash).map_err(internal)? else { return Ok(None) };
    let block = node.block(number).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
    Ok(Some(rpc_receipt(&block, index as usize)))
}

fn block_by_tag(node: &Node, tag: BlockNumberOrTag) -> Result<Option<Arc<StoredBlock>>, ErrorObjectOwned> {
    let head = node.head();
    match resolve_number(&head, tag) {
        Some(n) => node.block(n).map_err(internal),
        None => Ok(None),
    }
}

fn block_by_id(node: &Node, id: BlockId) -> Result<Option<Arc<StoredBlock>>, ErrorObjectOwned> {
    match id {
        BlockId::Number(tag) => block_by_tag(node, tag),
        BlockId::Hash(h) => match node.store().number_of(&h.block_hash).map_err(internal)? {
            Some(n) => node.block(n).map_err(internal),
            None => Ok(None),
        },
    }
}

/// `BLOCKHASH` for calls and traces: the stored header's hash, zero for a block not stored.
fn block_hashes(n: &Node) -> impl Fn(u64) -> B256 + '_ {
    |num: u64| n.store().header(num).ok().flatten().map(|h| h.hash_slow()).unwrap_or_default()
}

fn call_env<'a>(
    node: &Node,
    state: &'a State,
    head: &Head,
    overrides: Option<&'a StateOverride>,
    block_hash: &'a dyn Fn(u64) -> B256,
) -> CallEnv<'a> {
    // Calls run in the environment of the block after the head, as geth's "pending" and as the
    // transaction itself will run.
    let block = evm::block_env(
        head.header.number + 1,
        head.header.timestamp,
        node.config().sequencer.coinbase,
        head.header.next_block_base_fee(alloy::eips::eip1559::BaseFeeParams::ethereum()).unwrap_or_default(),
        node.config().sequencer.gas_limit,
        alloy_primitives::keccak256(head.hash),
    );
    CallEnv {
        state,
        overrides,
        block,
        chain_id: node.chain_id(),
        spec: node.executor().spec(),
        precompiles: node.precompiles().clone(),
        block_hash,
        uncapped: false,
    }
}

fn parse_call(
    params: &Params<'_>,
) -> Result<(TransactionRequest, Option<BlockId>, Option<StateOverride>), ErrorObjectOwned> {
    let mut seq = params.sequence();
    let req: TransactionRequest = seq.next()?;
    let block: Option<BlockId> = seq.optional_next()?;
    let overrides: Option<StateOverride> = seq.optional_next()?;
    Ok((req, block, overrides))
}

fn address_and_block(params: &Params<'_>) -> Result<(Address, Option<BlockId>), ErrorObjectOwned> {
    let mut seq = params.sequence();
    let address: Address = seq.next()?;
    let block: Option<BlockId> = seq.optional_next()?;
    Ok((address, block))
}

fn get_logs(node: &Node, filter: &Filter) -> Result<Vec<Log>, ErrorObjectOwned> {
    let head = node.head();
    let blocks: Vec<u64> = if let Some(hash) = filter.get_block_hash() {
        match node.store().number_of(&hash).map_err(internal)? {
            Some(n) => vec![n],
            None => return Err(server_err("unknown block")),
        }
    } else {
        let resolve = |b: Option<&BlockNumberOrTag>| match b {
            None => head.header.number,
            Some(tag) => resolve_number(&head, *tag).unwrap_or(head.header.number + 1),
        };
        let from = resolve(filter.block_option.get_from_block());
        let to = resolve(filter.block_option.get_to_block()).min(head.header.number);
        if from > to {
            return Ok(vec![]);
        }
        if to - from >= MAX_LOG_RANGE {
            return Err(server_err(format!("query exceeds max block range {MAX_LOG_RANGE}")));
        }
        (from..=to).collect()
    };
    let mut out = Vec::new();
    for n in blocks {
        let Some(header) = node.store().header(n).map_err(internal)? else { continue };
        if !filter.matches_bloom(header.logs_bloom) {
            continue;
        }
        let Some(block) = node.block(n).map_err(internal)? else { continue };
        out.extend(block_logs(&block).into_iter().filter(|l| filter.matches(&l.inner)));
        if out.len() > MAX_LOGS {
            return Err(server_err(format!("query returned more than {MAX_LOGS} results")));
        }
    }
    Ok(out)
}

/// `eth_feeHistory`: base fees (with the next block's), gas used ratios and the requested
/// percentiles of effective tips weighted by gas used, as geth computes them.
fn fee_history(
    node: &Node,
    count: u64,
    newest: BlockNumberOrTag,
    percentiles: Option<Vec<f64>>,
) -> RpcResult {
    let head = node.head();
    if let Some(p) = &percentiles
        && (p.iter().any(|x| !(0.0..=100.0).contains(x)) || p.windows(2).any(|w| w[0] > w[1]))
    {
        return Err(err(-32602, "invalid reward percentiles"));
    }
    let newest = resolve_number(&head, newest).ok_or_else(|| server_err("header not found"))?;
    let count = count.clamp(0, 1024).min(newest + 1);
    if count == 0 {
        return to_value(FeeHistory::default());
    }
    let oldest = newest + 1 - count;
    let mut history = FeeHistory { oldest_block: oldest, ..Default::default() };
    let mut rewards = Vec::new();
    for n in oldest..=newest {
        let block = node.block(n).map_err(internal)?.ok_or_else(|| internal("block missing"))?;
        let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
        history.base_fee_per_gas.push(u128::from(base_fee));
        history.gas_used_ratio.push(block.header.gas_used as f64 / block.header.gas_limit.max(1) as f64);
        history.base_fee_per_blob_gas.push(1);
        history.blob_gas_used_ratio.push(0.0);
        if let Some(percentiles) = &percentiles {
            let mut tips: Vec<(u128, u64)> = block
                .txs
                .iter()
                .enumerate()
                .map(|(i, tx)| {
                    let prev = i.checked_sub(1).map_or(0, |p| block.receipts[p].cumulative_gas_used());
                    let gas = block.receipts[i].cumulative_gas_used() - prev;
                    (tx.effective_tip_per_gas(base_fee).unwrap_or_default(), gas)
                })
                .collect();
            tips.sort_unstable();
            let row = percentiles
                .iter()
                .map(|p| {
                    if tips.is_empty() {
                        return 0;
                    }
                    let threshold = (block.header.gas_used as f64 * p / 100.0) as u64;
                    let mut sum = 0;
                    for (tip, gas) in &tips {
                        sum += gas;
                        if sum >= threshold {
                            return *tip;
                        }
                    }
                    tips.last().map_or(0, |t| t.0)
                })
                .collect();
            rewards.push(row);
        }
    }
    let last = node.store().header(newest).map_err(internal)?.ok_or_else(|| internal("block missing"))?;
    history.base_fee_per_gas.push(u128::from(
        last.next_block_base_fee(alloy::eips::eip1559::BaseFeeParams::ethereum()).unwrap_or_default(),
    ));
    history.base_fee_per_blob_gas.push(1);
    history.reward = percentiles.map(|_| rewards);
    to_value(history)
}

fn pool_tx_json(node: &Node, tx: &Recovered<OpTxEnvelope>) -> RpcResult {
    to_value(Transaction {
        inner: alloy::rpc::types::Transaction {
            effective_gas_price: None,
            inner: tx.clone(),
            block_hash: None,
            block_number: None,
            transaction_index: None,
            block_timestamp: None,
        },
        deposit_nonce: None,
        deposit_receipt_version: None,
    })
    .map(|mut v| {
        let _ = node;
        if let Some(o) = v.as_object_mut() {
            o.insert("blockHash".into(), Value::Null);
            o.insert("blockNumber".into(), Value::Null);
            o.insert("transactionIndex".into(), Value::Null);
        }
        v
    })
}

/// Waits until `hash` is included, up to `timeout`, and returns its receipt.
async fn wait_for_receipt(
    node: &Node,
    blocks: &mut tokio::sync::broadcast::Receiver<Arc<StoredBlock>>,
    hash: B256,
    timeout: Duration,
) -> Result<Option<OpTransactionReceipt>, ErrorObjectOwned> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(r) = receipt_of(node, &hash)? {
            return Ok(Some(r));
        }
        match tokio::time::timeout_at(deadline, blocks.recv()).await {
            Err(_) => return Ok(None),
            Ok(Ok(block)) => {
                if let Some(i) = block.txs.iter().position(|t| t.tx_hash() == hash) {
                    return Ok(Some(rpc_receipt(&block, i)));
                }
            }
            // Lagged or closed: look in the store again.
            Ok(Err(_)) => {}
        }
    }
}

/// Traces transaction `index` of `block` on `pre`, the state before it.
fn trace_included(
    n: &Node,
    pre: &State,
    block: &StoredBlock,
    index: usize,
    opts: &alloy::rpc::types::trace::geth::GethDebugTracingOptions,
) -> Result<alloy::rpc::types::trace::geth::GethTrace, ErrorObjectOwned> {
    let hash_of = block_hashes(n);
    let h = &block.header;
    let mut base_fee = h.base_fee_per_gas.unwrap_or_default();
    // A deposit runs as the STF runs it: its mint credited first, no fee, `BASEFEE` 0, no
    // per-transaction gas cap. (A user transaction's L1 fee, taken by the STF before it runs,
    // is not taken here: only code reading the sender's balance would see the difference.)
    let minted;
    let (pre, tx, uncapped) = match block.txs[index].as_deposit() {
        Some(deposit) => {
            let mut state = pre.clone();
            let account = state.account(&deposit.from);
            if deposit.mint > 0 {
                let balance = account.map_or(U256::ZERO, |a| a.balance);
                state.set_balance(deposit.from, balance.saturating_add(U256::from(deposit.mint)));
            }
            let nonce = account.map_or(0, |a| a.nonce);
            base_fee = 0;
            minted = state;
            (&minted, temporis_aivm::stf::deposit_env(deposit, nonce, n.chain_id()), true)
        }
        None => {
            let recovered = Recovered::new_unchecked(block.txs[index].clone(), block.senders[index]);
            (pre, temporis_aivm::stf::tx_env(&recovered).map_err(server_err)?, false)
        }
    };
    let env = CallEnv {
        state: pre,
        overrides: None,
        block: evm::block_env(h.number, h.timestamp, h.beneficiary, base_fee, h.gas_limit, h.mix_hash),
        chain_id: n.chain_id(),
        spec: n.executor().spec(),
        precompiles: n.precompiles().clone(),
        block_hash: &hash_of,
        uncapped,
    };
    crate::trace::trace(&env, tx, opts, false).map_err(server_err)
}

/// geth's `debug_traceBlock*`: `[{txHash, result}]`, each transaction traced on the state left
/// by the ones before it (the block's start state comes from a replay; see `state_before`).
fn trace_block(
    n: &Node,
    block: &StoredBlock,
    opts: &alloy::rpc::types::trace::geth::GethDebugTracingOptions,
) -> RpcResult {
    let mut state = n.state_before(block.header.number, 0).map_err(internal)?;
    let strict = temporis_aivm::ExecOptions {
        per_tx_roots: false,
        on_invalid: temporis_aivm::stf::InvalidTxPolicy::FailBlock,
    };
    let input = crate::node::block_input(&block.header);
    let mut out = Vec::with_capacity(block.txs.len());
    for i in 0..block.txs.len() {
        // As geth, a transaction that cannot be traced gets an `error` entry, not the whole
        // block: a deposit that failed revm's checks (value above balance and mint) was
        // included without running, so there is nothing to trace.
        match trace_included(n, &state, block, i, opts) {
            Ok(trace) => out.push(json!({ "txHash": block.txs[i].tx_hash(), "result": trace })),
            Err(e) => out.push(json!({ "txHash": block.txs[i].tx_hash(), "error": e.message() })),
        }
        // Apply it alone: the block's system call at its start is idempotent (it stores the
        // same parent hash in the same slot), so a block run one transaction at a time ends in
        // the block's state.
        let one = [Recovered::new_unchecked(block.txs[i].clone(), block.senders[i])];
        n.executor().execute_block(&mut state, &input, &one, &strict).map_err(internal)?;
    }
    Ok(Value::Array(out))
}

/// Builds the RPC module over `node`.
pub fn module(node: Node) -> RpcModule<Node> {
    let mut m = RpcModule::new(node);
    macro_rules! method {
        ($name:literal, |$p:ident, $n:ident| $body:expr) => {
            m.register_method($name, |$p, $n, _| -> RpcResult { $body }).expect("unique method names");
        };
    }
    macro_rules! blocking {
        ($name:literal, |$p:ident, $n:ident| $body:expr) => {
            m.register_blocking_method($name, |$p, $n, _| -> RpcResult {
                let $n: &Node = &$n;
                $body
            })
            .expect("unique method names");
        };
    }

    method!("web3_clientVersion", |_p, _n| to_value(concat!("temporis/v", env!("CARGO_PKG_VERSION"))));
    method!("web3_sha3", |p, _n| {
        let data: Bytes = p.one()?;
        to_value(alloy_primitives::keccak256(&data))
    });
    method!("net_version", |_p, n| to_value(n.chain_id().to_string()));
    method!("net_listening", |_p, _n| to_value(true));
    method!("net_peerCount", |_p, _n| to_value(U64::ZERO));
    method!("eth_chainId", |_p, n| to_value(U64::from(n.chain_id())));
    method!("eth_blockNumber", |_p, n| to_value(U64::from(n.head().header.number)));
    method!("eth_syncing", |_p, _n| to_value(false));
    method!("eth_mining", |_p, _n| to_value(false));
    method!("eth_hashrate", |_p, _n| to_value(U64::ZERO));
    method!("eth_accounts", |_p, _n| to_value(Vec::<Address>::new()));
    method!("eth_coinbase", |_p, n| to_value(n.config().sequencer.coinbase));
    method!("eth_gasPrice", |_p, n| to_value(U256::from(u128::from(n.next_base_fee()) + SUGGESTED_TIP)));
    method!("eth_maxPriorityFeePerGas", |_p, _n| to_value(U256::from(SUGGESTED_TIP)));
    method!("eth_blobBaseFee", |_p, _n| to_value(U256::from(1)));
    method!("eth_feeHistory", |p, n| {
        let mut seq = p.sequence();
        let count: U64 = seq.next()?;
        let newest: BlockNumberOrTag = seq.next()?;
        let percentiles: Option<Vec<f64>> = seq.optional_next()?;
        fee_history(n, count.to(), newest, percentiles)
    });

    method!("eth_getBalance", |p, n| {
        let (address, block) = address_and_block(&p)?;
        view_at(n, block, |view| to_value(view.account(&address).map_or(U256::ZERO, |a| a.balance)))
    });
    method!("eth_getTransactionCount", |p, n| {
        let (address, block) = address_and_block(&p)?;
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return to_value(U64::from(n.pending_nonce(&address)));
        }
        view_at(n, block, |view| to_value(U64::from(view.account(&address).map_or(0, |a| a.nonce))))
    });
    method!("eth_getCode", |p, n| {
        let (address, block) = address_and_block(&p)?;
        view_at(n, block, |view| to_value(view.code(&address)))
    });
    method!("eth_getStorageAt", |p, n| {
        let mut seq = p.sequence();
        let address: Address = seq.next()?;
        let slot: U256 = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        view_at(n, block, |view| to_value(B256::from(view.storage(&address, slot))))
    });

    blocking!("eth_getProof", |p, n| {
        let mut seq = p.sequence();
        let address: Address = seq.next()?;
        let keys: Vec<alloy::serde::JsonStorageKey> = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        if keys.len() > MAX_PROOF_KEYS {
            return Err(err(-32602, format!("too many storage keys (at most {MAX_PROOF_KEYS})")));
        }
        let slots: Vec<B256> = keys.iter().map(|k| k.as_b256()).collect();
        let head = n.head().header.number;
        match state_block(n, block)? {
            // A past block: its state rebuilt from the undo logs (withdrawal proofs open the
            // message passer at an output's block, which the head has passed).
            Some(at) if at < head => {
                let mut past = n.state_at(at).map_err(server_err)?;
                to_value(crate::proof::get_proof(&mut past, address, &slots))
            }
            _ => n.with_state_mut(|state, head| {
                check_state_block(n, head, block)?;
                to_value(crate::proof::get_proof(state, address, &slots))
            }),
        }
    });
    blocking!("eth_createAccessList", |p, n| {
        let (req, block, overrides) = parse_call(&p)?;
        let hash_of = block_hashes(n);
        with_state_at(n, block, |state, head| {
            let env = call_env(n, state, head, overrides.as_ref(), &hash_of);
            let tx = evm::request_env(&req, &env, None).map_err(call_err)?;
            to_value(crate::trace::create_access_list(&env, tx).map_err(server_err)?)
        })
    });
    blocking!("debug_traceCall", |p, n| {
        let mut seq = p.sequence();
        let req: TransactionRequest = seq.next()?;
        let block: Option<BlockId> = seq.optional_next()?;
        let opts: Option<alloy::rpc::types::trace::geth::GethDebugTracingCallOptions> =
            seq.optional_next()?;
        let opts = opts.unwrap_or_default();
        let overrides = opts.state_overrides.clone();
        let hash_of = block_hashes(n);
        n.with_state(|state, head| {
            check_state_block(n, head, block)?;
            let env = call_env(n, state, head, overrides.as_ref(), &hash_of);
            let tx = evm::request_env(&req, &env, None).map_err(call_err)?;
            to_value(crate::trace::trace(&env, tx, &opts.tracing_options, true).map_err(server_err)?)
        })
    });
    blocking!("debug_traceTransaction", |p, n| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let opts: Option<alloy::rpc::types::trace::geth::GethDebugTracingOptions> = seq.optional_next()?;
        let opts = opts.unwrap_or_default();
        let (number, index) =
            n.tx_location(&hash).map_err(internal)?.ok_or_else(|| server_err("transaction not found"))?;
        let block = n.block(number).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
        let pre = n.state_before(number, index as usize).map_err(internal)?;
        to_value(trace_included(n, &pre, &block, index as usize, &opts)?)
    });
    blocking!("debug_traceBlockByNumber", |p, n| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let opts: Option<alloy::rpc::types::trace::geth::GethDebugTracingOptions> = seq.optional_next()?;
        let block = block_by_tag(n, tag)?.ok_or_else(|| server_err("block not found"))?;
        trace_block(n, &block, &opts.unwrap_or_default())
    });
    blocking!("debug_traceBlockByHash", |p, n| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let opts: Option<alloy::rpc::types::trace::geth::GethDebugTracingOptions> = seq.optional_next()?;
        let block = block_by_id(n, BlockId::from(hash))?.ok_or_else(|| server_err("block not found"))?;
        trace_block(n, &block, &opts.unwrap_or_default())
    });
    blocking!("eth_call", |p, n| {
        let (req, block, overrides) = parse_call(&p)?;
        let hash_of = block_hashes(n);
        with_state_at(n, block, |state, head| {
            let env = call_env(n, state, head, overrides.as_ref(), &hash_of);
            match evm::call(&env, &req, None).map_err(call_err)? {
                ExecutionResult::Success { output, .. } => to_value(output.into_data()),
                ExecutionResult::Revert { output, .. } => Err(revert_err(&output)),
                ExecutionResult::Halt { reason, .. } => Err(server_err(halt_message(&reason))),
            }
        })
    });
    blocking!("eth_estimateGas", |p, n| {
        let (req, block, overrides) = parse_call(&p)?;
        let hash_of = block_hashes(n);
        with_state_at(n, block, |state, head| {
            let env = call_env(n, state, head, overrides.as_ref(), &hash_of);
            match evm::estimate_gas(&env, &req).map_err(call_err)? {
                Ok(gas) => to_value(U64::from(gas)),
                Err(f) => Err(failure_err(&f)),
            }
        })
    });

    method!("eth_sendRawTransaction", |p, n| {
        let raw: Bytes = p.one()?;
        to_value(n.submit_raw(&raw).map_err(submit_err)?)
    });
    m.register_async_method("eth_sendRawTransactionSync", |p, n, _| async move {
        let mut seq = p.sequence();
        let raw: Bytes = seq.next()?;
        let timeout_ms: Option<u64> = seq.optional_next()?;
        let default = n.config().rpc.send_sync_timeout;
        let timeout = timeout_ms.map_or(default, |ms| Duration::from_millis(ms).min(default));
        let mut blocks = n.subscribe_blocks();
        let hash = n.submit_raw(&raw).map_err(submit_err)?;
        match wait_for_receipt(&n, &mut blocks, hash, timeout).await? {
            Some(r) => to_value(r),
            // EIP-7966's timeout error: code 4, the hash as data.
            None => Err(ErrorObjectOwned::owned(
                4,
                "The transaction was added to the mempool but wasn't processed within the designated timeout interval.",
                Some(hash),
            )),
        }
    })
    .expect("unique method names");

    method!("eth_getTransactionByHash", |p, n| {
        let hash: B256 = p.one()?;
        if let Some((number, index)) = n.tx_location(&hash).map_err(internal)? {
            let block =
                n.block(number).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
            return to_value(rpc_tx(&block, index as usize));
        }
        match n.with_pool(|pool| pool.get(&hash).map(|t| t.tx.clone())) {
            Some(tx) => pool_tx_json(n, &tx),
            None => Ok(Value::Null),
        }
    });
    method!("eth_getRawTransactionByHash", |p, n| {
        let hash: B256 = p.one()?;
        if let Some((number, index)) = n.tx_location(&hash).map_err(internal)? {
            let block =
                n.block(number).map_err(internal)?.ok_or_else(|| internal("indexed block missing"))?;
            return to_value(Bytes::from(alloy::eips::Encodable2718::encoded_2718(
                &block.txs[index as usize],
            )));
        }
        to_value(n.pooled_raw(&hash))
    });
    method!("eth_getTransactionReceipt", |p, n| {
        let hash: B256 = p.one()?;
        to_value(receipt_of(n, &hash)?)
    });
    method!("eth_getBlockByNumber", |p, n| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let full: bool = seq.optional_next()?.unwrap_or(false);
        to_value(block_by_tag(n, tag)?.map(|b| rpc_block(&b, full)))
    });
    method!("eth_getBlockByHash", |p, n| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let full: bool = seq.optional_next()?.unwrap_or(false);
        to_value(block_by_id(n, BlockId::from(hash))?.map(|b| rpc_block(&b, full)))
    });
    method!("eth_getBlockReceipts", |p, n| {
        let id: BlockId = p.one()?;
        to_value(
            block_by_id(n, id)?.map(|b| (0..b.txs.len()).map(|i| rpc_receipt(&b, i)).collect::<Vec<_>>()),
        )
    });
    method!("eth_getBlockTransactionCountByNumber", |p, n| {
        let tag: BlockNumberOrTag = p.one()?;
        to_value(block_by_tag(n, tag)?.map(|b| U64::from(b.txs.len())))
    });
    method!("eth_getBlockTransactionCountByHash", |p, n| {
        let hash: B256 = p.one()?;
        to_value(block_by_id(n, BlockId::from(hash))?.map(|b| U64::from(b.txs.len())))
    });
    method!("eth_getTransactionByBlockNumberAndIndex", |p, n| {
        let mut seq = p.sequence();
        let tag: BlockNumberOrTag = seq.next()?;
        let index: U64 = seq.next()?;
        let block = block_by_tag(n, tag)?;
        to_value(block.and_then(|b| (index.to::<usize>() < b.txs.len()).then(|| rpc_tx(&b, index.to()))))
    });
    method!("eth_getTransactionByBlockHashAndIndex", |p, n| {
        let mut seq = p.sequence();
        let hash: B256 = seq.next()?;
        let index: U64 = seq.next()?;
        let block = block_by_id(n, BlockId::from(hash))?;
        to_value(block.and_then(|b| (index.to::<usize>() < b.txs.len()).then(|| rpc_tx(&b, index.to()))))
    });
    method!("temporis_getL1Origin", |p, n| {
        let id: BlockId = p.one()?;
        match block_by_id(n, id)? {
            Some(b) => to_value(b.l1_origin),
            None => Err(server_err("header not found")),
        }
    });
    method!("temporis_derivationStatus", |_p, n| {
        // Operators of a follower ask this (not in the OP Stack): whether it derives, how far,
        // and, when it stopped, where and why.
        let head = n.head().header.number;
        Ok(serde_json::json!({
            "mode": if n.config().follow { "follower" } else if n.config().rollup.is_some() { "sequencer" } else { "standalone" },
            "head": head,
            "error": n.derivation_error(),
        }))
    });
    blocking!("optimism_outputAtBlock", |p, n| {
        // op-node takes a quantity; block tags are accepted too (`safe` and `finalized` name
        // the sync status' heads).
        let tag: BlockNumberOrTag = p.one()?;
        let status = n.sync_status().map_err(internal)?;
        let number = match tag {
            BlockNumberOrTag::Number(number) => number,
            BlockNumberOrTag::Earliest => 0,
            BlockNumberOrTag::Safe => status.safe_l2.number,
            BlockNumberOrTag::Finalized => status.finalized_l2.number,
            _ => status.unsafe_l2.number,
        };
        match n.output_at(number).map_err(server_err)? {
            Some(output) => to_value(output.response(status)),
            None => Err(server_err(format!(
                "no output for L2 block {number}: the head is block {}",
                status.unsafe_l2.number
            ))),
        }
    });
    blocking!("optimism_syncStatus", |_p, n| to_value(n.sync_status().map_err(internal)?));
    method!("eth_getUncleCountByBlockNumber", |_p, _n| to_value(U64::ZERO));
    method!("eth_getUncleCountByBlockHash", |_p, _n| to_value(U64::ZERO));
    blocking!("eth_getLogs", |p, n| {
        let filter: Filter = p.one()?;
        to_value(get_logs(n, &filter)?)
    });

    method!("txpool_status", |_p, n| {
        n.with_state(|state, _| {
            let status = n.with_pool(|pool| pool.status(|a| state.account(a).map_or(0, |x| x.nonce)));
            to_value(json!({ "pending": U64::from(status.pending), "queued": U64::from(status.queued) }))
        })
    });
    method!("txpool_content", |_p, n| {
        n.with_state(|state, _| {
            n.with_pool(|pool| {
                let (pending, queued) = pool.content(|a| state.account(a).map_or(0, |x| x.nonce));
                let group =
                    |m: alloy_primitives::map::AddressMap<Vec<&crate::mempool::PoolTx>>| -> RpcResult {
                        let mut out = serde_json::Map::new();
                        for (sender, txs) in m {
                            let mut by_nonce = serde_json::Map::new();
                            for t in txs {
                                by_nonce.insert(t.tx.nonce().to_string(), pool_tx_json(n, &t.tx)?);
                            }
                            out.insert(sender.to_checksum(None), Value::Object(by_nonce));
                        }
                        Ok(Value::Object(out))
                    };
                to_value(json!({ "pending": group(pending)?, "queued": group(queued)? }))
            })
        })
    });

    register_filters(&mut m);
    register_subscriptions(&mut m);
    m
}

/// How long a filter lives without being polled (geth's 5 minutes).
const FILTER_TIMEOUT: Duration = Duration::from_secs(300);

enum FilterKind {
    /// New block hashes; the last block reported.
    Blocks { last: u64 },
    /// Logs matching the filter; the last block scanned.
    Logs { filter: Box<Filter>, last: u64 },
    /// Hashes of transactions entering the pool.
    Pending(tokio::sync::broadcast::Receiver<B256>),
}

struct FilterEntry {
    kind: FilterKind,
    polled: std::time::Instant,
}

#[derive(Default)]
struct Filters {
    next_id: u64,
    entries: std::collections::HashMap<u64, FilterEntry>,
}

impl Filters {
    fn install(&mut self, kind: FilterKind) -> U256 {
        let now = std::time::Instant::now();
        self.entries.retain(|_, e| now.duration_since(e.polled) < FILTER_TIMEOUT);
        self.next_id += 1;
        self.entries.insert(self.next_id, FilterEntry { kind, polled: now });
        U256::from(self.next_id)
    }
}

fn filter_id(p: &Params<'_>) -> Result<u64, ErrorObjectOwned> {
    let id: U256 = p.one()?;
    u64::try_from(id).map_err(|_| server_err("filter not found"))
}

/// Polling filters: `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
/// `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`.
fn register_filters(m: &mut RpcModule<Node>) {
    let filters: Arc<std::sync::Mutex<Filters>> = Arc::default();
    let f = filters.clone();
    m.register_method("eth_newFilter", move |p, n, _| -> RpcResult {
        let filter: Filter = p.one()?;
        let last = n.head().header.number;
        // Changes start after the head, or just before the filter's first block if later.
        let last = filter.get_from_block().map_or(last, |from| last.max(from.saturating_sub(1)));
        to_value(f.lock().expect("filters lock").install(FilterKind::Logs { filter: Box::new(filter), last }))
    })
    .expect("unique method names");
    let f = filters.clone();
    m.register_method("eth_newBlockFilter", move |_p, n, _| -> RpcResult {
        let last = n.head().header.number;
        to_value(f.lock().expect("filters lock").install(FilterKind::Blocks { last }))
    })
    .expect("unique method names");
    let f = filters.clone();
    m.register_method("eth_newPendingTransactionFilter", move |_p, n, _| -> RpcResult {
        to_value(f.lock().expect("filters lock").install(FilterKind::Pending(n.subscribe_pending())))
    })
    .expect("unique method names");
    let f = filters.clone();
    m.register_method("eth_uninstallFilter", move |p, _n, _| -> RpcResult {
        let id = filter_id(&p)?;
        to_value(f.lock().expect("filters lock").entries.remove(&id).is_some())
    })
    .expect("unique method names");
    let f = filters.clone();
    m.register_method("eth_getFilterLogs", move |p, n, _| -> RpcResult {
        let id = filter_id(&p)?;
        let filter = {
            let mut filters = f.lock().expect("filters lock");
            let entry = filters.entries.get_mut(&id).ok_or_else(|| server_err("filter not found"))?;
            entry.polled = std::time::Instant::now();
            match &entry.kind {
                FilterKind::Logs { filter, .. } => (**filter).clone(),
                _ => return Err(server_err("filter not found")),
            }
        };
        to_value(get_logs(n, &filter)?)
    })
    .expect("unique method names");
    let f = filters;
    m.register_method("eth_getFilterChanges", move |p, n, _| -> RpcResult {
        let id = filter_id(&p)?;
        let head = n.head().header.number;
        let mut filters = f.lock().expect("filters lock");
        let entry = filters.entries.get_mut(&id).ok_or_else(|| server_err("filter not found"))?;
        entry.polled = std::time::Instant::now();
        match &mut entry.kind {
            FilterKind::Blocks { last } => {
                let mut hashes = Vec::new();
                for number in *last + 1..=head {
                    if let Some(b) = n.block(number).map_err(internal)? {
                        hashes.push(b.hash);
                    }
                }
                *last = head;
                to_value(hashes)
            }
            FilterKind::Logs { filter, last } => {
                if *last >= head {
                    return to_value(Vec::<Log>::new());
                }
                let to = filter.get_to_block().map_or(head, |t| t.min(head));
                let window = (**filter).clone().from_block(*last + 1).to_block(to);
                *last = head;
                to_value(get_logs(n, &window)?)
            }
            FilterKind::Pending(rx) => {
                let mut hashes = Vec::new();
                loop {
                    match rx.try_recv() {
                        Ok(h) => hashes.push(h),
                        Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
                        Err(_) => break,
                    }
                }
                to_value(hashes)
            }
        }
    })
    .expect("unique method names");
}

fn register_subscriptions(m: &mut RpcModule<Node>) {
    m.register_subscription(
        "eth_subscribe",
        "eth_subscription",
        "eth_unsubscribe",
        |p, pending: PendingSubscriptionSink, n: Arc<Node>, _| async move {
            let mut seq = p.sequence();
            let kind: String = match seq.next() {
                Ok(k) => k,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            let filter: Option<Filter> = match kind.as_str() {
                "logs" => match seq.optional_next::<Filter>() {
                    Ok(f) => Some(f.unwrap_or_default()),
                    Err(e) => {
                        pending.reject(e).await;
                        return Ok(());
                    }
                },
                "newHeads" | "newPendingTransactions" => None,
                other => {
                    pending.reject(err(-32602, format!("unsupported subscription: {other}"))).await;
                    return Ok(());
                }
            };
            let sink = pending.accept().await?;
            if kind == "newPendingTransactions" {
                let mut rx = n.subscribe_pending();
                loop {
                    tokio::select! {
                        _ = sink.closed() => return Ok(()),
                        msg = rx.recv() => match msg {
                            Ok(hash) => {
                                let raw = serde_json::value::to_raw_value(&hash)?;
                                if sink.send(raw).await.is_err() { return Ok(()); }
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => return Ok(()),
                        }
                    }
                }
            }
            let mut rx = n.subscribe_blocks();
            loop {
                let block = tokio::select! {
                    _ = sink.closed() => return Ok(()),
                    msg = rx.recv() => match msg {
                        Ok(b) => b,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return Ok(()),
                    }
                };
                let items: Vec<Box<serde_json::value::RawValue>> = match &filter {
                    None => vec![serde_json::value::to_raw_value(&rpc_block(&block, false).header)?],
                    Some(f) => block_logs(&block)
                        .into_iter()
                        .filter(|l| f.matches(&l.inner))
                        .map(|l| serde_json::value::to_raw_value(&l))
                        .collect::<Result<_, _>>()?,
                };
                for raw in items {
                    if sink.send(raw).await.is_err() {
                        return Ok(());
                    }
                }
            }
        },
    )
    .expect("unique subscription names");
}

/// Subscription ids as geth writes them: `0x` and 32 hex digits. jsonrpsee's default is a JSON
/// integer, which viem (and other clients that keep subscriptions keyed by the string id)
/// never match notifications to, so they would silently receive nothing.
#[derive(Debug, Default)]
struct HexIdProvider {
    counter: std::sync::atomic::AtomicU64,
}

impl jsonrpsee::core::traits::IdProvider for HexIdProvider {
    fn next_id(&self) -> jsonrpsee::types::SubscriptionId<'static> {
        // Unguessable enough that one client cannot name another's subscription: a hash of a
        // counter, the time and this process's address space (ids are not consensus data).
        let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed =
            [n.to_be_bytes().as_slice(), &nanos.to_be_bytes(), &(self as *const Self as usize).to_be_bytes()]
                .concat();
        let hash = alloy_primitives::keccak256(seed);
        jsonrpsee::types::SubscriptionId::Str(
            format!("0x{}", alloy_primitives::hex::encode(&hash[..16])).into(),
        )
    }
}

/// Starts the server on the configured address; returns the bound address and its handle.
pub async fn serve(node: Node) -> crate::Result<(SocketAddr, ServerHandle)> {
    let rpc = node.config().rpc.clone();
    let config = ServerConfig::builder()
        .max_request_body_size(rpc.max_request_size)
        .max_response_body_size(rpc.max_response_size)
        .max_connections(rpc.max_connections)
        .set_batch_request_config(BatchRequestConfig::Limit(rpc.max_batch_size))
        .set_id_provider(HexIdProvider::default())
        .build();
    let server =
        Server::builder().set_config(config).build(SocketAddr::new(rpc.http_addr, rpc.http_port)).await?;
    let addr = server.local_addr()?;
    let handle = server.start(module(node));
    Ok((addr, handle))
}
