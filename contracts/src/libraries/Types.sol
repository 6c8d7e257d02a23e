// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Types
/// @notice Structs shared by the rollup contracts, the Rust node and the challenger. Field order and
///         types follow the OP Stack's `Types` library so that OP tooling decodes them unchanged.
library Types {
    /// @notice One output proposal as the OutputOracle reports it (OP's `Types.OutputProposal`).
    struct OutputProposal {
        /// The output root (see {OutputRootProof} for its v0 preimage).
        bytes32 outputRoot;
        /// L1 timestamp of the block in which the output was proposed.
        uint128 timestamp;
        /// The L2 block the output root commits to.
        uint128 l2BlockNumber;
    }

    /// @notice Preimage of a v0 output root:
    ///         `keccak256(abi.encode(version, stateRoot, messagePasserStorageRoot, latestBlockhash))`.
    struct OutputRootProof {
        /// Output root version; only `bytes32(0)` is defined.
        bytes32 version;
        /// State root of the L2 block.
        bytes32 stateRoot;
        /// Storage root of the L2ToL1MessagePasser predeploy in that state.
        bytes32 messagePasserStorageRoot;
        /// Hash of the L2 block.
        bytes32 latestBlockhash;
    }

    /// @notice A withdrawal (L2 -> L1 message) as the L2ToL1MessagePasser recorded it.
    struct WithdrawalTransaction {
        /// Version-encoded nonce (version 1 in the top two bytes).
        uint256 nonce;
        /// The L2 account that called `initiateWithdrawal` (not aliased).
        address sender;
        /// The L1 account to call.
        address target;
        /// Wei to send to `target` out of the portal's balance.
        uint256 value;
        /// Minimum gas the portal must give the call to `target`.
        uint256 gasLimit;
        /// Calldata for `target`.
        bytes data;
    }

    /// @notice What the Portal records when a withdrawal is proven (OP's `ProvenWithdrawal`).
    struct ProvenWithdrawal {
        /// The output root the withdrawal was proven against.
        bytes32 outputRoot;
        /// L1 timestamp of the proof; zero when not proven.
        uint128 timestamp;
        /// Index of that output in the OutputOracle.
        uint128 l2OutputIndex;
    }
}
