//! L1 blocks as the L2 sees them: the L1 origin of L2 blocks, the L1 attributes deposit that
//! opens every L2 block (OP Stack, Ecotone `setL1BlockValuesEcotone()`), and the system
//! transactions a block starts with.
//!
//! Sequencer and follower both build a block's system transactions with [`block_system_txs`],
//! so they agree by construction.

use alloy::sol_types::SolCall;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use op_alloy_consensus::{L1InfoDepositSource, OpTxEnvelope, TxDeposit};

use crate::chain::{DEPOSITOR_ACCOUNT, L1_BLOCK_PREDEPLOY};
use crate::deposit::DepositLog;
use crate::{ProtocolError, Result};

/// Gas limit of the L1 attributes deposit (OP Stack, Regolith and later).
pub const L1_INFO_DEPOSIT_GAS: u64 = 1_000_000;

alloy::sol! {
    /// `L1Block.setL1BlockValuesEcotone()`: its arguments are packed after the selector, not
    /// ABI-encoded (see [`L1BlockValues::encode_ecotone`]).
    function setL1BlockValuesEcotone();
}

/// Selector of `setL1BlockValuesEcotone()` (`0x440a5e20`).
pub const SET_L1_BLOCK_VALUES_ECOTONE: [u8; 4] = setL1BlockValuesEcotoneCall::SELECTOR;

/// Length of `setL1BlockValuesEcotone` calldata: selector, two `uint32`, three `uint64`, four
/// 32-byte words.
pub const ECOTONE_CALLDATA_LEN: usize = 4 + 4 + 4 + 8 + 8 + 8 + 32 * 4;

/// An L1 block as the L2 needs it (origin of L2 blocks; input of the L1 attributes tx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockInfo {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// EIP-1559 base fee.
    pub base_fee: u64,
    /// EIP-4844 blob base fee.
    pub blob_base_fee: u128,
}

/// The L1 block and its deposits, in log order: one "epoch" input of the L2.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct L1Epoch {
    /// The L1 block.
    pub info: L1BlockInfo,
    /// Its portal deposits, in log order.
    pub deposits: Vec<DepositLog>,
}

/// The L1 data fee parameters the L1 attributes carry (OP's `SystemConfig` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeParams {
    /// Scalar on the L1 base fee (Ecotone `baseFeeScalar`).
    pub base_fee_scalar: u32,
    /// Scalar on the L1 blob base fee (Ecotone `blobBaseFeeScalar`).
    pub blob_base_fee_scalar: u32,
    /// `bytes32(uint256(uint160(batcher)))`: who may post batches.
    pub batcher_hash: B256,
}

impl FeeParams {
    /// The scalars of OP's devnet deploy config (`1368`, `810949`), batcher hash `batcher`'s.
    pub fn devnet(batcher: Address) -> Self {
        Self { base_fee_scalar: 1368, blob_base_fee_scalar: 810_949, batcher_hash: batcher.into_word() }
    }
}

impl Default for FeeParams {
    /// [`FeeParams::devnet`] with no batcher.
    fn default() -> Self {
        Self::devnet(Address::ZERO)
    }
}

/// What `L1Block` holds after an Ecotone L1 attributes deposit: the calldata's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockValues {
    /// L1 block number.
    pub number: u64,
    /// L1 timestamp.
    pub timestamp: u64,
    /// L1 base fee.
    pub base_fee: U256,
    /// L1 block hash.
    pub hash: B256,
    /// Position of the L2 block in its epoch (0 for the first).
    pub sequence_number: u64,
    /// L1 blob base fee.
    pub blob_base_fee: U256,
    /// Scalar on the L1 base fee.
    pub base_fee_scalar: u32,
    /// Scalar on the L1 blob base fee.
    pub blob_base_fee_scalar: u32,
    /// Batcher hash.
    pub batcher_hash: B256,
}

impl L1BlockValues {
    /// The values of L2 block `seq` of the epoch of `info`.
    pub fn new(info: &L1BlockInfo, seq: u64, fees: &FeeParams) -> Self {
        Self {
            number: info.number,
            timestamp: info.timestamp,
            base_fee: U256::from(info.base_fee),
            hash: info.hash,
            sequence_number: seq,
            blob_base_fee: U256::from(info.blob_base_fee),
            base_fee_scalar: fees.base_fee_scalar,
            blob_base_fee_scalar: fees.blob_base_fee_scalar,
            batcher_hash: fees.batcher_hash,
        }
    }

    /// `setL1BlockValuesEcotone()` calldata, packed as OP's `L1Block` reads it:
    /// `selector ‖ baseFeeScalar (4) ‖ blobBaseFeeScalar (4) ‖ sequenceNumber (8) ‖
    /// timestamp (8) ‖ number (8) ‖ basefee (32) ‖ blobBaseFee (32) ‖ hash (32) ‖
    /// batcherHash (32)`, all big-endian.
    pub fn encode_ecotone(&self) -> Bytes {
        let mut out = Vec::with_capacity(ECOTONE_CALLDATA_LEN);
        out.extend_from_slice(&SET_L1_BLOCK_VALUES_ECOTONE);
        out.extend_from_slice(&self.base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.blob_base_fee_scalar.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.number.to_be_bytes());
        out.extend_from_slice(&self.base_fee.to_be_bytes::<32>());
        out.extend_from_slice(&self.blob_base_fee.to_be_bytes::<32>());
        out.extend_from_slice(self.hash.as_slice());
        out.extend_from_slice(self.batcher_hash.as_slice());
        out.into()
    }

    /// Parses [`L1BlockValues::encode_ecotone`]'s output (what the RPC reads back from a
    /// block's first transaction).
    pub fn decode_ecotone(data: &[u8]) -> Result<Self> {
        if data.len() != ECOTONE_CALLDATA_LEN {
            return Err(ProtocolError::L1InfoCalldata("wrong length"));
        }
        if data[..4] != SET_L1_BLOCK_VALUES_ECOTONE {
            return Err(ProtocolError::L1InfoCalldata("wrong selector"));
        }
        let u32_at = |i: usize| u32::from_be_bytes(data[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_be_bytes(data[i..i + 8].try_into().expect("8 bytes"));
        let word = |i: usize| B256::from_slice(&data[i..i + 32]);
        Ok(Self {
            base_fee_scalar: u32_at(4),
            blob_base_fee_scalar: u32_at(8),
            sequence_number: u64_at(12),
            timestamp: u64_at(20),
            number: u64_at(28),
            base_fee: word(36).into(),
            blob_base_fee: word(68).into(),
            hash: word(100),
            batcher_hash: word(132),
        })
    }
}

/// The L1 attributes deposit of L2 block `seq` of the epoch of `info`: from the depositor
/// account to `L1Block`, 1 000 000 gas, not a system transaction (Regolith), source hash
/// `keccak256(bytes32(1) ‖ keccak256(l1BlockHash ‖ bytes32(seq)))`.
pub fn l1_info_deposit(info: &L1BlockInfo, seq: u64, fees: &FeeParams) -> TxDeposit {
    TxDeposit {
        source_hash: L1InfoDepositSource::new(info.hash, seq).source_hash(),
        from: DEPOSITOR_ACCOUNT,
        to: TxKind::Call(L1_BLOCK_PREDEPLOY),
        mint: 0,
        value: U256::ZERO,
        gas_limit: L1_INFO_DEPOSIT_GAS,
        is_system_transaction: false,
        input: L1BlockValues::new(info, seq, fees).encode_ecotone(),
    }
}

/// The transactions an L2 block starts with: the L1 attributes deposit of `origin` with
/// sequence number `seq`, then, in the first block of the epoch (`seq == 0`) only, the epoch's
/// user deposits in log order. Fails on a deposit log that does not decode (the portal never
/// emits one), or on deposits given for a block that is not the first of its epoch.
pub fn block_system_txs(
    origin: &L1BlockInfo,
    seq: u64,
    deposits: &[DepositLog],
    fees: &FeeParams,
) -> Result<Vec<OpTxEnvelope>> {
    if seq != 0 && !deposits.is_empty() {
        return Err(ProtocolError::DepositsOutsideEpochStart { count: deposits.len(), seq });
    }
    let mut txs = Vec::with_capacity(1 + deposits.len());
    txs.push(OpTxEnvelope::from(l1_info_deposit(origin, seq, fees)));
    for log in deposits {
        txs.push(OpTxEnvelope::from(log.to_deposit_tx()?));
    }
    Ok(txs)
}

/// The sequence number of the next L2 block, OP's rule: a block takes the next L1 block
/// (`next`) as its origin, restarting at 0, once that block's timestamp is at most the L2
/// block's; else it stays in the epoch of `current` with the sequence number after `seq`.
/// Returns whether the origin advances, and the new sequence number.
pub fn next_origin(next: Option<&L1BlockInfo>, l2_timestamp: u64, seq: u64) -> (bool, u64) {
    match next {
        Some(n) if n.timestamp <= l2_timestamp => (true, 0),
        _ => (false, seq + 1),
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, b256, hex, keccak256};

    use super::*;

    fn info() -> L1BlockInfo {
        L1BlockInfo {
            number: 0x1234,
            hash: b256!("9ba3933dc6ce43c145349770a39c30f9b647f17668f004bd2e05c80a2e7262f7"),
            parent_hash: B256::repeat_byte(0x11),
            timestamp: 0x6543_2100,
            base_fee: 7_000_000_000,
            blob_base_fee: 3,
        }
    }

    #[test]
    fn selector_is_ops() {
        assert_eq!(SET_L1_BLOCK_VALUES_ECOTONE, hex!("440a5e20"));
        assert_eq!(SET_L1_BLOCK_VALUES_ECOTONE, keccak256("setL1BlockValuesEcotone()")[..4]);
    }

    #[test]
    fn l1_info_source_hash_matches_published_vector() {
        // viem's `getSourceHash` vector for an L1 info deposit, sequence number 1.
        let tx = l1_info_deposit(&info(), 1, &FeeParams::default());
        assert_eq!(tx.source_hash, b256!("722c43232e2f9dc07ebc07a02a3056993a2ed1328a1c81377ea99d135af39536"));
        assert_eq!(
            (tx.from, tx.to, tx.gas_limit, tx.mint),
            (DEPOSITOR_ACCOUNT, TxKind::Call(L1_BLOCK_PREDEPLOY), 1_000_000, 0)
        );
    }

    #[test]
    fn ecotone_calldata_matches_cast_and_round_trips() {
        let fees = FeeParams {
            base_fee_scalar: 1368,
            blob_base_fee_scalar: 810_949,
            batcher_hash: address!("70997970c51812dc3a010c7d01b50e0d17dc79c8").into_word(),
        };
        let values = L1BlockValues::new(&info(), 5, &fees);
        let data = values.encode_ecotone();
        // `cast concat-hex 0x440a5e20 $(cast abi-encode --packed
        //   "f(uint32,uint32,uint64,uint64,uint64,uint256,uint256,bytes32,bytes32)"
        //   1368 810949 5 0x65432100 0x1234 7000000000 3 0x9ba3…62f7 0x…70997970…79c8)`
        let expected = hex!(
            "440a5e20"
            "00000558" "000c5fc5" "0000000000000005" "0000000065432100" "0000000000001234"
            "00000000000000000000000000000000000000000000000000000001a13b8600"
            "0000000000000000000000000000000000000000000000000000000000000003"
            "9ba3933dc6ce43c145349770a39c30f9b647f17668f004bd2e05c80a2e7262f7"
            "00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8"
        );
        assert_eq!(data.as_ref(), &expected[..]);
        assert_eq!(data.len(), ECOTONE_CALLDATA_LEN);
        assert_eq!(L1BlockValues::decode_ecotone(&data).unwrap(), values);
        assert!(L1BlockValues::decode_ecotone(&data[..163]).is_err());
        let mut wrong = data.to_vec();
        wrong[0] ^= 1;
        assert_eq!(
            L1BlockValues::decode_ecotone(&wrong),
            Err(ProtocolError::L1InfoCalldata("wrong selector"))
        );
    }

    #[test]
    fn system_txs_of_first_and_later_blocks() {
        let fees = FeeParams::default();
        let log = DepositLog {
            l1_block_hash: info().hash,
            log_index: 0,
            from: Address::repeat_byte(1),
            to: Address::repeat_byte(2),
            version: U256::ZERO,
            opaque_data: crate::deposit::DepositOpaqueData {
                mint: U256::from(1),
                value: U256::ZERO,
                gas_limit: 21_000,
                is_creation: false,
                data: Bytes::new(),
            }
            .encode(),
        };
        let first = block_system_txs(&info(), 0, std::slice::from_ref(&log), &fees).unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(
            first[0].as_deposit().unwrap().input,
            L1BlockValues::new(&info(), 0, &fees).encode_ecotone()
        );
        assert_eq!(first[1].as_deposit().unwrap().source_hash, log.source_hash());
        let later = block_system_txs(&info(), 3, &[], &fees).unwrap();
        assert_eq!(later.len(), 1);
        assert_eq!(
            later[0].as_deposit().unwrap().source_hash,
            L1InfoDepositSource::new(info().hash, 3).source_hash()
        );
        assert!(matches!(
            block_system_txs(&info(), 1, &[log], &fees),
            Err(ProtocolError::DepositsOutsideEpochStart { count: 1, seq: 1 })
        ));
    }

    #[test]
    fn origin_advances_when_the_next_l1_block_is_not_in_the_future() {
        let next = L1BlockInfo { timestamp: 100, ..info() };
        assert_eq!(next_origin(Some(&next), 99, 4), (false, 5));
        assert_eq!(next_origin(Some(&next), 100, 4), (true, 0));
        assert_eq!(next_origin(None, 1000, 4), (false, 5));
    }
}
