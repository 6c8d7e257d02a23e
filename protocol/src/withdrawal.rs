//! Withdrawals: the hash the `L2ToL1MessagePasser` records and the storage slot a proof opens.

use alloy::sol_types::SolValue;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};

/// A withdrawal as the portal takes it (OP Stack `Types.WithdrawalTransaction`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalTransaction {
    /// Message nonce, version-encoded (version in the top two bytes).
    pub nonce: U256,
    /// L2 sender.
    pub sender: Address,
    /// L1 target.
    pub target: Address,
    /// Wei to send to the target.
    pub value: U256,
    /// Gas the L1 call gets.
    pub gas_limit: U256,
    /// Call data.
    pub data: Bytes,
}

impl WithdrawalTransaction {
    /// `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`.
    pub fn hash(&self) -> B256 {
        keccak256(
            (self.nonce, self.sender, self.target, self.value, self.gas_limit, self.data.clone())
                .abi_encode_params(),
        )
    }
}

/// Storage slot of `sentMessages[withdrawalHash]` in the message passer: the mapping sits at slot
/// 0, so the slot is `keccak256(abi.encode(withdrawalHash, uint256(0)))`.
pub fn sent_message_slot(withdrawal_hash: B256) -> B256 {
    keccak256((withdrawal_hash, U256::ZERO).abi_encode())
}

/// Message nonces carry a version in their top two bytes (OP `Encoding.encodeVersionedNonce`).
pub fn encode_versioned_nonce(nonce: u64, version: u16) -> U256 {
    (U256::from(version) << 240) | U256::from(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn versioned_nonce_puts_version_on_top() {
        let n = encode_versioned_nonce(5, 1);
        assert_eq!(n >> 240, U256::from(1));
        assert_eq!(n & ((U256::from(1) << 240) - U256::from(1)), U256::from(5));
    }

    #[test]
    fn hash_changes_with_every_field() {
        let base = WithdrawalTransaction {
            nonce: encode_versioned_nonce(0, 1),
            sender: address!("f39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
            target: address!("70997970c51812dc3a010c7d01b50e0d17dc79c8"),
            value: U256::from(10),
            gas_limit: U256::from(100_000),
            data: Bytes::from_static(b"hi"),
        };
        let h = base.hash();
        let mut t = base.clone();
        t.value = U256::from(11);
        assert_ne!(t.hash(), h);
        let mut t = base;
        t.data = Bytes::new();
        assert_ne!(t.hash(), h);
        // The slot is keccak(hash ‖ 0).
        let mut pre = [0u8; 64];
        pre[..32].copy_from_slice(h.as_slice());
        assert_eq!(sent_message_slot(h), keccak256(pre));
    }
}
