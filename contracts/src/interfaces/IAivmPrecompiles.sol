// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAivmPrecompiles
/// @notice The ABI of the AIVM precompiles that the ModelRegistry predeploy calls. They sit at
///         0x…0A00 (INFERENCE), 0x…0A02 (STORE_CHUNK) and 0x…0A03 (VERIFY); all three serve only
///         the ModelRegistry (0x4200000000000000000000000000000000000A00) and revert for any other
///         caller. Each reverts with `Error(string)` on bad input. Spec: docs/aivm-precompiles.md.
interface IAivmPrecompiles {
    /// @notice Runs a model (and adapter, if non-zero) on one int8 input. Gas: see the spec.
    /// @param model   Content id of a verified model.
    /// @param adapter Content id of a verified adapter of `model`, or zero.
    /// @param input   The int8 input vector (its length must be the model's input width).
    /// @return output The last layer's requantized int8 output.
    /// @return logits The last layer's int32 accumulator.
    /// @return argmax Index of the largest logit (lowest on ties).
    function infer(bytes32 model, bytes32 adapter, int8[] calldata input)
        external
        view
        returns (int8[] memory output, int32[] memory logits, uint256 argmax);

    /// @notice Puts a chunk in the node's content-addressed chunk store.
    /// @param data The chunk.
    /// @return hash keccak256(data), the key it is stored under.
    function storeChunk(bytes calldata data) external returns (bytes32 hash);

    /// @notice Reassembles a publication from the chunk store and verifies it.
    /// @param contentId    The declared content id.
    /// @param kind         1 = model, 2 = adapter.
    /// @param parent       The base model's content id for an adapter; zero for a model.
    /// @param configChunks Number of leading chunks forming the config file.
    /// @param chunkHashes  The chunk hashes, in order.
    /// @return reason 0 when the files verify, else a reason code.
    /// @return detail A human-readable description of the failure (empty when verified).
    function verify(bytes32 contentId, uint8 kind, bytes32 parent, uint32 configChunks, bytes32[] calldata chunkHashes)
        external
        returns (uint16 reason, string memory detail);
}
