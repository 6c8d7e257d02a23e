//! Deposits (type 0x7E) with OP's Regolith+ rules, the L1 attributes deposit against the real
//! forge-compiled `L1Block`, and the L1 data fee charged to every other transaction.

use alloy::consensus::transaction::Recovered;
use alloy::eips::Encodable2718;
use alloy::sol_types::SolCall;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope, TxDeposit};
use revm_inspectors::tracing::TracingInspectorConfig;
use temporis_aivm::l1fee::{L1_FEE_VAULT, L1FeeParams, estimated_size, flz_compress_len};
use temporis_aivm::stf::InvalidTxPolicy;
use temporis_aivm::{BlockInput, BlockOutcome, ExecOptions, Executor, InvalidTx, State};
use temporis_contracts::L1Block;
use temporis_protocol::chain::{DEPOSITOR_ACCOUNT, L1_BLOCK_PREDEPLOY};
use temporis_protocol::l1::{FeeParams, L1BlockInfo, l1_info_deposit};

use crate::{eip1559, genesis_json, keys, test_block};

const ETH: u128 = 1_000_000_000_000_000_000;

fn deposit(
    from: Address,
    to: TxKind,
    mint: u128,
    value: U256,
    gas_limit: u64,
    input: Bytes,
) -> Recovered<OpTxEnvelope> {
    // Distinct source hashes keep the transactions' hashes distinct.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tx = TxDeposit {
        source_hash: B256::left_padding_from(&n.to_be_bytes()),
        from,
        to,
        mint,
        value,
        gas_limit,
        is_system_transaction: false,
        input,
    };
    Recovered::new_unchecked(OpTxEnvelope::from(tx), from)
}

fn run(state: &mut State, block: &BlockInput, txs: &[Recovered<OpTxEnvelope>]) -> BlockOutcome {
    Executor::new(crate::CHAIN_ID).execute_block(state, block, txs, &ExecOptions::default()).unwrap()
}

fn balance(state: &State, a: &Address) -> U256 {
    state.account(a).map_or(U256::ZERO, |x| x.balance)
}

fn nonce(state: &State, a: &Address) -> u64 {
    state.account(a).map_or(0, |x| x.nonce)
}

/// `(status, gas used, deposit nonce, deposit receipt version)` of receipt `i`.
fn receipt(out: &BlockOutcome, i: usize) -> (bool, u64, Option<u64>, Option<u64>) {
    let r = &out.receipts[i];
    let status = alloy::consensus::TxReceipt::status(r);
    (status, out.gas_used_per_tx[i], r.deposit_nonce(), r.deposit_receipt_version())
}

/// Code that stores `BASEFEE` in slot 0: `BASEFEE PUSH1 0 SSTORE STOP`.
const STORE_BASEFEE: &str = "4860005500";
/// Code that reverts at once: `PUSH1 0 PUSH1 0 REVERT`.
const REVERTS: &str = "60006000fd";

fn with_code(address: Address, code: &str) -> String {
    format!(r#""{address}":{{"balance":"0x0","code":"0x{code}"}}"#)
}

#[test]
fn a_deposit_mints_transfers_and_bumps_the_nonce() {
    let mut state = State::from_genesis_json(&genesis_json(&[], U256::ZERO, &[])).unwrap();
    let from = Address::repeat_byte(0xd1);
    let to = Address::repeat_byte(0xd2);
    let block = test_block(1);
    let value = U256::from(3 * ETH / 10);
    let out = run(&mut state, &block, &[deposit(from, TxKind::Call(to), ETH, value, 100_000, Bytes::new())]);
    assert!(out.rejected.is_empty());
    assert_eq!(receipt(&out, 0), (true, 21_000, Some(0), Some(1)));
    assert!(matches!(out.receipts[0], OpReceiptEnvelope::Deposit(_)));
    assert_eq!(balance(&state, &from), U256::from(ETH) - value, "minted, minus the value, no fee");
    assert_eq!(balance(&state, &to), value);
    assert_eq!(nonce(&state, &from), 1);
    assert_eq!(state.account(&block.beneficiary), None, "the coinbase earns nothing from a deposit");
    assert_eq!(out.l1_fee_per_tx, vec![U256::ZERO]);

    // The next deposit of the same sender reports its nonce.
    let out = run(
        &mut state,
        &test_block(2),
        &[deposit(from, TxKind::Call(to), 0, U256::ZERO, 50_000, Bytes::new())],
    );
    assert_eq!(receipt(&out, 0), (true, 21_000, Some(1), Some(1)));
    assert_eq!(nonce(&state, &from), 2);
}

#[test]
fn a_failed_deposit_keeps_its_mint_and_nonce_and_uses_its_gas_limit() {
    let reverter = Address::repeat_byte(0xee);
    let mut state =
        State::from_genesis_json(&genesis_json(&[], U256::ZERO, &[with_code(reverter, REVERTS)])).unwrap();
    let from = Address::repeat_byte(0xd3);
    let to = Address::repeat_byte(0xd4);
    let txs = [
        // Value above balance + mint: refused by revm's checks, so it never runs.
        deposit(from, TxKind::Call(to), 10, U256::from(11), 60_000, Bytes::new()),
        // Reverts: the value goes back, the mint stays.
        deposit(from, TxKind::Call(reverter), 100, U256::from(5), 70_000, Bytes::new()),
        // Gas limit below the intrinsic gas.
        deposit(from, TxKind::Call(to), 1, U256::ZERO, 20_000, Bytes::new()),
    ];
    let out = run(&mut state, &test_block(1), &txs);
    assert!(out.rejected.is_empty(), "deposits are never left out: {:?}", out.rejected);
    assert_eq!(receipt(&out, 0), (false, 60_000, Some(0), Some(1)));
    assert_eq!(receipt(&out, 1), (false, 70_000, Some(1), Some(1)));
    assert_eq!(receipt(&out, 2), (false, 20_000, Some(2), Some(1)));
    assert_eq!(out.gas_used, 150_000, "failed deposits count their whole gas limit");
    assert_eq!(balance(&state, &from), U256::from(111), "every mint is kept");
    assert_eq!(nonce(&state, &from), 3, "the nonce moves on failures too");
    assert_eq!(balance(&state, &to), U256::ZERO);
    assert_eq!(balance(&state, &reverter), U256::ZERO);
    assert!(out.receipts.iter().all(|r| r.logs().is_empty()));
}

#[test]
fn a_deposit_is_exempt_from_the_per_transaction_gas_cap() {
    let mut state = State::new();
    let from = Address::repeat_byte(0xd5);
    let block = BlockInput { gas_limit: 60_000_000, ..test_block(1) };
    // EIP-7825 caps user transactions at 2^24 gas; a deposit above it runs.
    let out = run(
        &mut state,
        &block,
        &[deposit(from, TxKind::Call(Address::ZERO), 0, U256::ZERO, 1 << 25, Bytes::new())],
    );
    assert_eq!(receipt(&out, 0), (true, 21_000, Some(0), Some(1)));
}

#[test]
fn a_creation_deposit_creates_at_the_senders_nonce_address() {
    let mut state = State::new();
    let from = Address::repeat_byte(0xd6);
    // Init code returning the one-byte runtime 0x00: PUSH1 0 PUSH1 0 MSTORE8 PUSH1 1 PUSH1 0 RETURN.
    let init = Bytes::from(hex!("600060005360016000f3"));
    let txs = [
        deposit(from, TxKind::Call(Address::ZERO), 0, U256::ZERO, 30_000, Bytes::new()),
        deposit(from, TxKind::Create, 5, U256::from(5), 100_000, init),
    ];
    let out = run(&mut state, &test_block(1), &txs);
    assert!(receipt(&out, 1).0);
    let created = from.create(1);
    let account = state.account(&created).expect("created");
    assert_eq!(state.code(&account.code_hash).unwrap().as_ref(), &[0u8][..]);
    assert_eq!(account.balance, U256::from(5));
    assert_eq!(nonce(&state, &from), 2);
}

#[test]
fn basefee_reads_zero_inside_a_deposit_only() {
    let probe = Address::repeat_byte(0xbf);
    let k = keys(1);
    let genesis = genesis_json(&[k[0].address()], U256::from(ETH), &[with_code(probe, STORE_BASEFEE)]);
    let mut state = State::from_genesis_json(&genesis).unwrap();
    let block = test_block(1);
    let out = run(
        &mut state,
        &block,
        &[deposit(Address::repeat_byte(1), TxKind::Call(probe), 0, U256::ZERO, 100_000, Bytes::new())],
    );
    assert!(receipt(&out, 0).0);
    // The slot was zero and stays zero: the deposit saw BASEFEE = 0.
    assert_eq!(state.storage(&probe, U256::ZERO), U256::ZERO);
    let out =
        run(&mut state, &block, &[eip1559(&k[0], 0, TxKind::Call(probe), U256::ZERO, Bytes::new(), 100_000)]);
    assert!(receipt(&out, 0).0);
    assert_eq!(
        state.storage(&probe, U256::ZERO),
        U256::from(block.base_fee),
        "restored for the next transaction"
    );
}

#[test]
fn deposits_count_toward_the_block_gas_and_are_never_refused() {
    let k = keys(1);
    let mut state = State::from_genesis_json(&genesis_json(&[k[0].address()], U256::from(ETH), &[])).unwrap();
    let block = BlockInput { gas_limit: 100_000, ..test_block(1) };
    let txs = [
        // A deposit above what is left of the block still runs (and here fails: no funds).
        deposit(Address::repeat_byte(2), TxKind::Call(Address::ZERO), 0, U256::from(1), 90_000, Bytes::new()),
        eip1559(&k[0], 0, TxKind::Call(Address::ZERO), U256::ZERO, Bytes::new(), 21_000),
    ];
    let strict = ExecOptions { on_invalid: InvalidTxPolicy::FailBlock, ..Default::default() };
    let err =
        Executor::new(crate::CHAIN_ID).execute_block(&mut state.clone(), &block, &txs, &strict).unwrap_err();
    assert!(err.to_string().contains("exceeds the block's remaining gas 10000"), "{err}");
    let out = run(&mut state, &block, &txs);
    assert_eq!(out.tx_hashes, vec![txs[0].inner().tx_hash()]);
    assert_eq!(
        out.rejected[0].reason,
        InvalidTx::GasAboveBlockLimit { gas_limit: 21_000, available: 10_000 }
    );
    assert_eq!(out.gas_used, 90_000);
}

/// A genesis with `funded` and the forge-compiled `L1Block` at its predeploy address.
fn l1_genesis(funded: &[Address], balance: U256) -> State {
    let code = hex::encode(L1Block::DEPLOYED_BYTECODE.as_ref());
    let extra = format!(r#""{L1_BLOCK_PREDEPLOY}":{{"balance":"0x0","nonce":"0x1","code":"0x{code}"}}"#);
    State::from_genesis_json(&genesis_json(funded, balance, &[extra])).unwrap()
}

fn l1_info() -> L1BlockInfo {
    L1BlockInfo {
        number: 21_000_123,
        hash: B256::repeat_byte(0x1b),
        parent_hash: B256::repeat_byte(0x1a),
        timestamp: 1_733_000_000,
        base_fee: 30_000_000_000,
        blob_base_fee: 2_000_000_000,
    }
}

fn fee_params() -> FeeParams {
    FeeParams {
        base_fee_scalar: 1368,
        blob_base_fee_scalar: 810_949,
        batcher_hash: Address::repeat_byte(0xba).into_word(),
    }
}

/// Calls `L1Block` with `call` from `caller` on a copy of `state` and returns the output.
fn l1_block_view(
    state: &State,
    caller: &alloy::signers::local::PrivateKeySigner,
    nonce: u64,
    call: Vec<u8>,
) -> Bytes {
    let tx = eip1559(caller, nonce, TxKind::Call(L1_BLOCK_PREDEPLOY), U256::ZERO, call.into(), 100_000);
    let (_, result) = Executor::new(crate::CHAIN_ID)
        .trace_transaction(state.clone(), &test_block(2), &[tx], 0, TracingInspectorConfig::none())
        .unwrap();
    assert!(result.is_success(), "{result:?}");
    result.output().cloned().unwrap_or_default()
}

#[test]
fn the_l1_info_deposit_sets_every_l1_block_field() {
    let k = keys(1);
    let mut state = l1_genesis(&[k[0].address()], U256::from(ETH));
    let info = l1_info();
    let tx = l1_info_deposit(&info, 3, &fee_params());
    assert_eq!(
        tx.input[..4],
        L1Block::setL1BlockValuesEcotoneCall::SELECTOR,
        "our selector is the contract's"
    );
    let out = run(
        &mut state,
        &test_block(1),
        &[Recovered::new_unchecked(OpTxEnvelope::from(tx), DEPOSITOR_ACCOUNT)],
    );
    assert!(receipt(&out, 0).0, "the depositor may set the values");

    let get = |call: Vec<u8>| l1_block_view(&state, &k[0], 0, call);
    use L1Block::*;
    assert_eq!(numberCall::abi_decode_returns(&get(numberCall {}.abi_encode())).unwrap(), info.number);
    assert_eq!(
        timestampCall::abi_decode_returns(&get(timestampCall {}.abi_encode())).unwrap(),
        info.timestamp
    );
    assert_eq!(
        basefeeCall::abi_decode_returns(&get(basefeeCall {}.abi_encode())).unwrap(),
        U256::from(info.base_fee)
    );
    assert_eq!(hashCall::abi_decode_returns(&get(hashCall {}.abi_encode())).unwrap(), info.hash);
    assert_eq!(sequenceNumberCall::abi_decode_returns(&get(sequenceNumberCall {}.abi_encode())).unwrap(), 3);
    assert_eq!(
        blobBaseFeeCall::abi_decode_returns(&get(blobBaseFeeCall {}.abi_encode())).unwrap(),
        U256::from(info.blob_base_fee)
    );
    assert_eq!(baseFeeScalarCall::abi_decode_returns(&get(baseFeeScalarCall {}.abi_encode())).unwrap(), 1368);
    assert_eq!(
        blobBaseFeeScalarCall::abi_decode_returns(&get(blobBaseFeeScalarCall {}.abi_encode())).unwrap(),
        810_949
    );
    assert_eq!(
        batcherHashCall::abi_decode_returns(&get(batcherHashCall {}.abi_encode())).unwrap(),
        fee_params().batcher_hash
    );
    // The L1 fee parameters the STF reads from the slots are the ones just set.
    let params = L1FeeParams::from_state(&state);
    assert_eq!(params.l1_base_fee, U256::from(info.base_fee));
    assert_eq!(params.l1_blob_base_fee, U256::from(info.blob_base_fee));
    assert_eq!((params.base_fee_scalar, params.blob_base_fee_scalar), (1368, 810_949));

    // Anyone else calling the setter is refused by the contract.
    let calldata = l1_info_deposit(&info, 4, &fee_params()).input;
    let forged = eip1559(&k[0], 0, TxKind::Call(L1_BLOCK_PREDEPLOY), U256::ZERO, calldata, 200_000);
    let out = run(&mut state, &test_block(2), &[forged]);
    assert!(!receipt(&out, 0).0);
    assert_eq!(
        sequenceNumberCall::abi_decode_returns(&l1_block_view(
            &state,
            &k[0],
            1,
            sequenceNumberCall {}.abi_encode()
        ))
        .unwrap(),
        3
    );
}

#[test]
fn the_l1_fee_is_charged_by_the_formula_and_lands_in_the_vault() {
    let k = keys(1);
    let start = U256::from(ETH);
    let mut state = l1_genesis(&[k[0].address()], start);
    let info = l1_info();
    let sys = Recovered::new_unchecked(
        OpTxEnvelope::from(l1_info_deposit(&info, 0, &fee_params())),
        DEPOSITOR_ACCOUNT,
    );
    let value = U256::from(12_345);
    let user = eip1559(
        &k[0],
        0,
        TxKind::Call(Address::repeat_byte(9)),
        value,
        Bytes::from(vec![0xab; 200]),
        100_000,
    );
    let block = test_block(1);
    let out = run(&mut state, &block, &[sys, user.clone()]);
    assert!(out.rejected.is_empty());

    // The formula written out: Fjord size estimate, Ecotone fee scalars.
    let raw = user.inner().encoded_2718();
    let size = (i128::from(flz_compress_len(&raw)) * 836_500 - 42_585_600).max(100_000_000);
    let scaled = 1368u128 * u128::from(info.base_fee) * 16 + 810_949u128 * info.blob_base_fee;
    let expected = U256::from(size as u128) * U256::from(scaled) / U256::from(1_000_000_000_000u64);
    assert_eq!(estimated_size(flz_compress_len(&raw)) as i128, size);
    assert!(expected > U256::ZERO);
    assert_eq!(out.l1_fee_per_tx, vec![U256::ZERO, expected]);
    assert_eq!(balance(&state, &L1_FEE_VAULT), expected, "the vault holds the fee");

    let gas = U256::from(out.gas_used_per_tx[1]);
    let price = U256::from(block.base_fee + 1_000_000);
    assert_eq!(balance(&state, &k[0].address()), start - gas * price - value - expected);
}

#[test]
fn insufficient_funds_count_the_l1_fee() {
    let k = keys(1);
    let to = TxKind::Call(Address::repeat_byte(9));
    let tx = eip1559(&k[0], 0, to, U256::ZERO, Bytes::new(), 21_000);
    // Exactly enough for gas_limit · max_fee, not for the L1 fee on top.
    let max_cost = U256::from(21_000u64) * U256::from(3 * crate::GENESIS_BASE_FEE);
    let sys = Recovered::new_unchecked(
        OpTxEnvelope::from(l1_info_deposit(&l1_info(), 0, &fee_params())),
        DEPOSITOR_ACCOUNT,
    );

    let mut state = l1_genesis(&[k[0].address()], max_cost);
    let out = run(&mut state, &test_block(1), &[sys, tx.clone()]);
    let fee = L1FeeParams::from_state(&state).fee(&tx.inner().encoded_2718());
    assert!(fee > U256::ZERO);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(
        out.rejected[0].reason,
        InvalidTx::InsufficientFunds { needed: max_cost + fee, balance: max_cost }
    );
    assert_eq!(balance(&state, &k[0].address()), max_cost, "nothing taken");
    assert_eq!(balance(&state, &L1_FEE_VAULT), U256::ZERO);

    // Standalone (no L1 attributes ever set) the L1 fee is zero and the same balance suffices.
    let mut state = l1_genesis(&[k[0].address()], max_cost);
    let out = run(&mut state, &test_block(1), &[tx]);
    assert!(out.rejected.is_empty());
    assert_eq!(out.l1_fee_per_tx, vec![U256::ZERO]);
    assert_eq!(state.account(&L1_FEE_VAULT), None);
}
