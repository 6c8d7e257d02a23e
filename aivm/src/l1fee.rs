//! The L1 data fee (OP Stack Fjord): what a non-deposit transaction pays for the L1 data its
//! bytes will take in a batch, on top of its L2 gas.
//!
//! ```text
//! estimatedSize = max(100e6, -42_585_600 + 836_500 · flzCompressLen(tx))      (bytes · 1e6)
//! l1Fee         = estimatedSize · (baseFeeScalar · l1BaseFee · 16
//!                                  + blobBaseFeeScalar · l1BlobBaseFee) / 1e12
//! ```
//!
//! `tx` is the transaction's EIP-2718 encoding. The L1 values come from the `L1Block`
//! predeploy's storage, which the L1 attributes deposit at the start of each block writes; a
//! chain that never had one (standalone dev) reads zeros there and pays no L1 fee. The fee goes
//! to the `L1FeeVault` predeploy. See `docs/l1-fee.md`.

use alloy_primitives::{Address, U256, address};
use temporis_protocol::chain::L1_BLOCK_PREDEPLOY;
use temporis_protocol::l1::L1BlockValues;

use crate::State;

/// `L1FeeVault` predeploy: where L1 data fees accumulate (OP Stack address).
pub const L1_FEE_VAULT: Address = address!("420000000000000000000000000000000000001A");

/// `L1Block` slot 1: the L1 base fee.
pub const L1_BASE_FEE_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);
/// `L1Block` slot 3: `sequenceNumber (uint64) | blobBaseFeeScalar (uint32) | baseFeeScalar
/// (uint32)`, low bits first.
pub const L1_FEE_SCALARS_SLOT: U256 = U256::from_limbs([3, 0, 0, 0]);
/// `L1Block` slot 7: the L1 blob base fee.
pub const L1_BLOB_BASE_FEE_SLOT: U256 = U256::from_limbs([7, 0, 0, 0]);

/// Fjord's intercept of the size estimate (bytes · 1e6; negative).
pub const FJORD_INTERCEPT: i64 = -42_585_600;
/// Fjord's FastLZ coefficient of the size estimate (bytes · 1e6 per compressed byte).
pub const FJORD_FASTLZ_COEF: u64 = 836_500;
/// Fjord's floor on the size estimate: 100 bytes (· 1e6).
pub const FJORD_MIN_SIZE: u64 = 100_000_000;
/// Bytes the `GasPriceOracle` predeploy adds to the compressed length of an *unsigned*
/// transaction for the signature it lacks (OP's `getL1Fee`, `getL1GasUsed`,
/// `getL1FeeUpperBound`).
pub const UNSIGNED_TX_SIGNATURE_ALLOWANCE: u32 = 68;

/// The L1 values the fee is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1FeeParams {
    /// L1 base fee (wei).
    pub l1_base_fee: U256,
    /// L1 blob base fee (wei).
    pub l1_blob_base_fee: U256,
    /// Scalar on the base fee (Ecotone `baseFeeScalar`).
    pub base_fee_scalar: u32,
    /// Scalar on the blob base fee (Ecotone `blobBaseFeeScalar`).
    pub blob_base_fee_scalar: u32,
}

/// One transaction's L1 fee and the figures OP receipts report with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Fee {
    /// The fee (wei).
    pub fee: U256,
    /// Fjord's L1 gas estimate: `estimatedSize · 16 / 1e6` (the receipt's `l1GasUsed`).
    pub gas_used: u64,
    /// FastLZ-compressed length of the transaction.
    pub fastlz_len: u32,
}

impl L1FeeParams {
    /// The values in `L1Block`'s storage in `state` (zeros where it has none).
    pub fn from_state(state: &State) -> Self {
        let scalars = state.storage(&L1_BLOCK_PREDEPLOY, L1_FEE_SCALARS_SLOT);
        let word = scalars.to_be_bytes::<32>();
        // Bytes 16..20 of the big-endian word are bits 96..128 (baseFeeScalar), 20..24 are bits
        // 64..96 (blobBaseFeeScalar): the packing `setL1BlockValuesEcotone` stores.
        let base_fee_scalar = u32::from_be_bytes(word[16..20].try_into().expect("4 bytes"));
        let blob_base_fee_scalar = u32::from_be_bytes(word[20..24].try_into().expect("4 bytes"));
        Self {
            l1_base_fee: state.storage(&L1_BLOCK_PREDEPLOY, L1_BASE_FEE_SLOT),
            l1_blob_base_fee: state.storage(&L1_BLOCK_PREDEPLOY, L1_BLOB_BASE_FEE_SLOT),
            base_fee_scalar,
            blob_base_fee_scalar,
        }
    }

    /// The values an L1 attributes deposit sets.
    pub fn from_values(values: &L1BlockValues) -> Self {
        Self {
            l1_base_fee: values.base_fee,
            l1_blob_base_fee: values.blob_base_fee,
            base_fee_scalar: values.base_fee_scalar,
            blob_base_fee_scalar: values.blob_base_fee_scalar,
        }
    }

    /// `baseFeeScalar · l1BaseFee · 16 + blobBaseFeeScalar · l1BlobBaseFee`.
    fn fee_scaled(&self) -> U256 {
        let calldata = self.l1_base_fee.saturating_mul(U256::from(16u64 * u64::from(self.base_fee_scalar)));
        let blob = self.l1_blob_base_fee.saturating_mul(U256::from(self.blob_base_fee_scalar));
        calldata.saturating_add(blob)
    }

    /// The L1 fee of a transaction whose EIP-2718 encoding is `tx`.
    pub fn fee(&self, tx: &[u8]) -> U256 {
        self.compute(tx).fee
    }

    /// The L1 fee of `tx` (EIP-2718 bytes) with its gas estimate and compressed length.
    pub fn compute(&self, tx: &[u8]) -> L1Fee {
        self.for_fastlz_len(flz_compress_len(tx))
    }

    /// The L1 fee and gas estimate of a transaction compressing to `fastlz_len` bytes.
    pub fn for_fastlz_len(&self, fastlz_len: u32) -> L1Fee {
        let size = estimated_size(fastlz_len);
        L1Fee {
            fee: U256::from(size).saturating_mul(self.fee_scaled()) / U256::from(1_000_000_000_000u64),
            gas_used: size.saturating_mul(16) / 1_000_000,
            fastlz_len,
        }
    }

    /// What the `GasPriceOracle` predeploy's `getL1Fee` / `getL1GasUsed` quote for a
    /// transaction whose *unsigned* EIP-2718 encoding is `unsigned` (the bytes a wallet signs):
    /// the fee of a compressed length of `flzCompressLen(unsigned) + 68`, the 68 bytes standing
    /// in for the signature. `fastlz_len` is that sum. Within a few bytes of the fee the signed
    /// transaction pays (see docs/l1-fee.md).
    pub fn quote_unsigned(&self, unsigned: &[u8]) -> L1Fee {
        self.for_fastlz_len(flz_compress_len(unsigned).saturating_add(UNSIGNED_TX_SIGNATURE_ALLOWANCE))
    }

    /// The `GasPriceOracle`'s `getL1FeeUpperBound(unsigned_len)`: the fee of a compressed
    /// length of `txSize + txSize / 255 + 16`, `txSize = unsigned_len + 68`. OP's practical
    /// bound on FastLZ's expansion, which all-literal (incompressible) data of more than 576
    /// bytes exceeds.
    pub fn upper_bound(&self, unsigned_len: u32) -> U256 {
        let tx_size = unsigned_len.saturating_add(UNSIGNED_TX_SIGNATURE_ALLOWANCE);
        self.for_fastlz_len(tx_size.saturating_add(tx_size / 255).saturating_add(16)).fee
    }
}

/// Fjord's size estimate (bytes · 1e6) of a transaction compressing to `fastlz_len` bytes.
pub fn estimated_size(fastlz_len: u32) -> u64 {
    let scaled = i128::from(fastlz_len) * i128::from(FJORD_FASTLZ_COEF) + i128::from(FJORD_INTERCEPT);
    // At most 2^32 · 836 500: fits in a u64.
    (scaled.max(i128::from(FJORD_MIN_SIZE))) as u64
}

/// The length of `data` compressed by FastLZ (level 1), as the L1 fee counts it: Solady's
/// `LibZip.flzCompress` length, which op-geth and op-revm also use.
pub fn flz_compress_len(data: &[u8]) -> u32 {
    op_alloy_flz::flz_compress_len(data)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::hex;

    use super::*;

    fn op_mainnet_tx() -> Vec<u8> {
        hex::decode(include_str!("../tests/fixtures/op-mainnet-fjord-tx.hex").trim()).unwrap()
    }

    #[test]
    fn matches_op_mainnet_fjord_block_124665056() {
        // Published figures of tx 0x1059e800…4a4a (second of OP mainnet block 124665056): the
        // block's L1 values, its `l1GasUsed` 4471 and `l1Fee` 0x5bf1ab43d.
        let params = L1FeeParams {
            l1_base_fee: U256::from(1_055_991_687u64),
            l1_blob_base_fee: U256::from(1),
            base_fee_scalar: 5227,
            blob_base_fee_scalar: 1_014_213,
        };
        // The worked example of docs/l1-fee.md.
        let fee = params.compute(&op_mainnet_tx());
        assert_eq!(op_mainnet_tx().len(), 1176);
        assert_eq!(fee.fastlz_len, 385);
        assert_eq!(estimated_size(fee.fastlz_len), 279_466_900);
        assert_eq!(params.fee_scaled(), U256::from(88_314_697_781_397u64));
        assert_eq!(fee.fee, U256::from(24_681_034_813u64));
        assert_eq!(fee.gas_used, 4471);
        assert_eq!(fee.fee, U256::from(0x5_bf1a_b43du64));
    }

    #[test]
    fn quotes_of_unsigned_transactions_add_68_bytes() {
        let params = L1FeeParams {
            l1_base_fee: U256::from(1_055_991_687u64),
            l1_blob_base_fee: U256::from(1),
            base_fee_scalar: 5227,
            blob_base_fee_scalar: 1_014_213,
        };
        // 307 bytes of a big-endian u16 counter repeat no 3-byte sequence: 317 literal bytes,
        // 385 with the 68: the worked example's figures (the forge test has the same vector).
        let counter: Vec<u8> = (0u16..154).flat_map(u16::to_be_bytes).take(307).collect();
        assert_eq!(flz_compress_len(&counter), 317);
        let quote = params.quote_unsigned(&counter);
        assert_eq!((quote.fastlz_len, quote.fee, quote.gas_used), (385, U256::from(24_681_034_813u64), 4471));
        assert_eq!(quote, params.compute(&op_mainnet_tx()));
        // The upper bound of a 1109-byte unsigned transaction (the example's, unsigned):
        // 1177 + 4 + 16 = 1197 compressed bytes.
        assert_eq!(params.upper_bound(1109), params.for_fastlz_len(1197).fee);
        assert_eq!(params.upper_bound(1109), U256::from(84_667_733_505u64));
        assert_eq!(L1FeeParams::default().upper_bound(u32::MAX), U256::ZERO);
    }

    #[test]
    fn small_inputs_hit_the_floor() {
        // op-revm's vectors: fee scaled 17e6; `FACADE` compresses to 4 bytes (floor: 100e6),
        // a 202-byte-compressed transaction estimates 126 387 400.
        let params = L1FeeParams {
            l1_base_fee: U256::from(1_000),
            l1_blob_base_fee: U256::from(1_000),
            base_fee_scalar: 1_000,
            blob_base_fee_scalar: 1_000,
        };
        assert_eq!(flz_compress_len(&hex!("FACADE")), 4);
        assert_eq!(params.fee(&hex!("FACADE")), U256::from(1700));
        assert_eq!(estimated_size(202), 126_387_400);
        assert_eq!(estimated_size(0), FJORD_MIN_SIZE);
        assert_eq!(L1FeeParams::default().fee(&op_mainnet_tx()), U256::ZERO, "no L1 values, no fee");
    }

    #[test]
    fn reads_the_l1_block_slots() {
        let mut state = State::new();
        state.insert_account(
            L1_BLOCK_PREDEPLOY,
            U256::ZERO,
            1,
            alloy_primitives::Bytes::from_static(&[0]),
            [],
        );
        // sequenceNumber 9, blobBaseFeeScalar 0x0c5fc5, baseFeeScalar 0x558, packed low first.
        let packed = U256::from(9u64) | (U256::from(0x0c5fc5u64) << 64) | (U256::from(0x558u64) << 96);
        state.set_storage(L1_BLOCK_PREDEPLOY, L1_FEE_SCALARS_SLOT, packed);
        state.set_storage(L1_BLOCK_PREDEPLOY, L1_BASE_FEE_SLOT, U256::from(7));
        state.set_storage(L1_BLOCK_PREDEPLOY, L1_BLOB_BASE_FEE_SLOT, U256::from(3));
        let params = L1FeeParams::from_state(&state);
        assert_eq!(
            params,
            L1FeeParams {
                l1_base_fee: U256::from(7),
                l1_blob_base_fee: U256::from(3),
                base_fee_scalar: 0x558,
                blob_base_fee_scalar: 0x0c5fc5
            }
        );
    }
}
