//! The Solidity ABI of the AIVM precompiles that the `ModelRegistry` predeploy calls, the same
//! as `contracts/src/interfaces/IAivmPrecompiles.sol` (`tests/it/publish_infer.rs` runs every
//! call of the forge-compiled registry through these precompiles).

#![allow(missing_docs)]

alloy::sol! {
    /// The publishing and inference precompiles.
    #[derive(Debug, PartialEq, Eq)]
    interface IAivmPrecompiles {
        /// INFERENCE (`0x…0A00`).
        function infer(bytes32 model, bytes32 adapter, int8[] input)
            external view returns (int8[] output, int32[] logits, uint256 argmax);
        /// STORE_CHUNK (`0x…0A02`).
        function storeChunk(bytes data) external returns (bytes32 hash);
        /// VERIFY (`0x…0A03`).
        function verify(bytes32 contentId, uint8 kind, bytes32 parent, uint32 configChunks, bytes32[] chunkHashes)
            external returns (uint16 reason, string detail);
    }
}
