//! OP Stack output roots, version 0.

use alloy_primitives::{B256, keccak256};

/// The version-0 output root preimage: what the proposer commits to on L1 and what a withdrawal
/// proof opens (`OutputRootProof` in the portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputRootV0 {
    /// State root of the L2 block.
    pub state_root: B256,
    /// Storage root of the `L2ToL1MessagePasser` predeploy in that state.
    pub message_passer_storage_root: B256,
    /// Hash of the L2 block.
    pub latest_block_hash: B256,
}

impl OutputRootV0 {
    /// Output root version 0 (`bytes32(0)`).
    pub const VERSION: B256 = B256::ZERO;

    /// `keccak256(bytes32(0) ‖ stateRoot ‖ messagePasserStorageRoot ‖ latestBlockHash)`.
    pub fn root(&self) -> B256 {
        let mut preimage = [0u8; 128];
        preimage[32..64].copy_from_slice(self.state_root.as_slice());
        preimage[64..96].copy_from_slice(self.message_passer_storage_root.as_slice());
        preimage[96..128].copy_from_slice(self.latest_block_hash.as_slice());
        keccak256(preimage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolValue;
    use alloy_primitives::b256;

    #[test]
    fn root_equals_abi_encoding_of_the_four_words() {
        let o = OutputRootV0 {
            state_root: b256!("1111111111111111111111111111111111111111111111111111111111111111"),
            message_passer_storage_root: b256!(
                "2222222222222222222222222222222222222222222222222222222222222222"
            ),
            latest_block_hash: b256!("3333333333333333333333333333333333333333333333333333333333333333"),
        };
        let encoded =
            (OutputRootV0::VERSION, o.state_root, o.message_passer_storage_root, o.latest_block_hash)
                .abi_encode();
        assert_eq!(o.root(), keccak256(encoded));
        // Changing any field changes the root.
        let mut other = o;
        other.latest_block_hash = B256::ZERO;
        assert_ne!(o.root(), other.root());
    }
}
