//! Invalid transactions are left out of the block with a clear reason (or fail it, when the
//! block must be valid), and leave the state as it was.

use alloy_primitives::{Address, Bytes, TxKind, U256};
use temporis_aivm::stf::{InvalidTxPolicy, RejectedTx};
use temporis_aivm::{ExecError, ExecOptions, Executor, InvalidTx, State};

use crate::{eip1559, genesis_json, keys, test_block};

fn setup() -> (Vec<alloy::signers::local::PrivateKeySigner>, State) {
    let k = keys(2);
    let genesis = genesis_json(&[k[0].address()], U256::from(10u128.pow(18)), &[]);
    (k, State::from_genesis_json(&genesis).unwrap())
}

#[test]
fn invalid_transactions_are_skipped_with_their_reason() {
    let (k, mut state) = setup();
    let to = TxKind::Call(Address::repeat_byte(1));
    let one = U256::from(1);
    let txs = vec![
        eip1559(&k[0], 1, to, one, Bytes::new(), 21_000), // nonce too high
        eip1559(&k[0], 0, to, one, Bytes::new(), 21_000), // fine
        eip1559(&k[0], 0, to, one, Bytes::new(), 21_000), // nonce too low now
        eip1559(&k[1], 0, to, one, Bytes::new(), 21_000), // no funds at all
        eip1559(&k[0], 1, to, U256::from(10u128.pow(18)), Bytes::new(), 21_000), // value + fee > balance
        eip1559(&k[0], 1, to, one, Bytes::new(), 20_000), // below intrinsic gas
        eip1559(&k[0], 1, to, one, Bytes::new(), 16_000_000), // fine (under the EIP-7825 cap)
        // The block's gas pool shrinks by the gas used: 16.1M - 42k left, 16M no longer fits.
        eip1559(&k[0], 2, to, one, Bytes::new(), 16_070_000),
    ];
    let sender = k[0].address();
    let block = temporis_aivm::BlockInput { gas_limit: 16_100_000, ..test_block(1) };
    let out = Executor::new(crate::CHAIN_ID)
        .execute_block(&mut state, &block, &txs, &ExecOptions::default())
        .unwrap();
    assert_eq!(out.tx_hashes, vec![txs[1].tx_hash(), txs[6].tx_hash()]);
    let reasons: Vec<(usize, InvalidTx)> =
        out.rejected.iter().map(|RejectedTx { index, reason, .. }| (*index, reason.clone())).collect();
    let fee = U256::from(21_000u64 * 3 * crate::GENESIS_BASE_FEE);
    assert!(matches!(reasons[0], (0, InvalidTx::NonceTooHigh { tx: 1, state: 0 })), "{reasons:?}");
    assert!(matches!(reasons[1], (2, InvalidTx::NonceTooLow { tx: 0, state: 1 })), "{reasons:?}");
    assert_eq!(reasons[2], (3, InvalidTx::InsufficientFunds { needed: fee + one, balance: U256::ZERO }));
    assert!(matches!(reasons[3], (4, InvalidTx::InsufficientFunds { .. })), "{reasons:?}");
    assert_eq!(reasons[4], (5, InvalidTx::IntrinsicGasTooLow { needed: 21_000, gas_limit: 20_000 }));
    assert_eq!(
        reasons[5],
        (7, InvalidTx::GasAboveBlockLimit { gas_limit: 16_070_000, available: 16_100_000 - 42_000 })
    );
    assert_eq!(reasons.len(), 6);
    // The messages say what is wrong.
    assert_eq!(reasons[0].1.to_string(), "nonce too high: transaction has 1, sender's is 0");
    assert!(reasons[2].1.to_string().starts_with("insufficient funds: needs"));
    // Only the two included transactions changed the sender.
    assert_eq!(state.account(&sender).unwrap().nonce, 2);
    assert_eq!(state.account(&k[1].address()), None, "a rejected sender is not created");
    assert_eq!(out.gas_used, 42_000);
}

#[test]
fn an_invalid_transaction_fails_a_block_that_must_be_valid() {
    let (k, mut state) = setup();
    let before = state.clone().state_root();
    let to = TxKind::Call(Address::repeat_byte(1));
    let txs = vec![eip1559(&k[0], 5, to, U256::from(1), Bytes::new(), 21_000)];
    let options = ExecOptions { on_invalid: InvalidTxPolicy::FailBlock, ..Default::default() };
    let err =
        Executor::new(crate::CHAIN_ID).execute_block(&mut state, &test_block(1), &txs, &options).unwrap_err();
    let ExecError::InvalidTransaction { index: 0, hash, reason: InvalidTx::NonceTooHigh { tx: 5, state: 0 } } =
        &err
    else {
        panic!("unexpected {err}")
    };
    assert_eq!(*hash, txs[0].tx_hash());
    assert!(err.to_string().contains("nonce too high"), "{err}");
    assert_eq!(state.state_root(), before);
}

#[test]
fn gas_above_the_per_transaction_cap_is_rejected() {
    let (k, mut state) = setup();
    let tx = eip1559(&k[0], 0, TxKind::Call(Address::ZERO), U256::ZERO, Bytes::new(), 1 << 25);
    let block = temporis_aivm::BlockInput { gas_limit: 60_000_000, ..test_block(1) };
    let out = Executor::new(crate::CHAIN_ID)
        .execute_block(&mut state, &block, &[tx], &ExecOptions::default())
        .unwrap();
    // EIP-7825 (Osaka) caps a transaction at 2^24 gas, whatever the block's limit.
    assert_eq!(out.rejected[0].reason, InvalidTx::GasAboveTxCap { gas_limit: 1 << 25, cap: 1 << 24 });
}

#[test]
fn a_transaction_for_another_chain_is_rejected() {
    let (k, mut state) = setup();
    let out = Executor::new(1)
        .execute_block(
            &mut state,
            &test_block(1),
            &[eip1559(&k[0], 0, TxKind::Call(Address::ZERO), U256::ZERO, Bytes::new(), 21_000)],
            &ExecOptions::default(),
        )
        .unwrap();
    assert_eq!(out.rejected[0].reason, InvalidTx::WrongChainId);
}
