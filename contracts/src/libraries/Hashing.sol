// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Types} from "./Types.sol";

/// @title Hashing
/// @notice The hashes and encodings that L1 contracts, L2 predeploys and the Rust node must agree
///         on bit for bit. Each one is the OP Stack's (Bedrock) definition.
library Hashing {
    /// @notice Storage slot of the L2ToL1MessagePasser's `sentMessages` mapping.
    uint256 internal constant SENT_MESSAGES_SLOT = 0;

    /// @notice Output root version 0.
    bytes32 internal constant OUTPUT_VERSION_V0 = bytes32(0);

    /// @notice The withdrawal hash: `keccak256(abi.encode(nonce, sender, target, value, gasLimit, data))`.
    function hashWithdrawal(Types.WithdrawalTransaction memory _tx) internal pure returns (bytes32) {
        return keccak256(abi.encode(_tx.nonce, _tx.sender, _tx.target, _tx.value, _tx.gasLimit, _tx.data));
    }

    /// @notice The same hash from loose fields (what the L2ToL1MessagePasser has at hand).
    function hashWithdrawal(
        uint256 _nonce,
        address _sender,
        address _target,
        uint256 _value,
        uint256 _gasLimit,
        bytes memory _data
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(_nonce, _sender, _target, _value, _gasLimit, _data));
    }

    /// @notice The output root of `_proof`:
    ///         `keccak256(abi.encode(version, stateRoot, messagePasserStorageRoot, latestBlockhash))`.
    function hashOutputRootProof(Types.OutputRootProof memory _proof) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(_proof.version, _proof.stateRoot, _proof.messagePasserStorageRoot, _proof.latestBlockhash)
        );
    }

    /// @notice Storage slot of `sentMessages[_withdrawalHash]` in the L2ToL1MessagePasser:
    ///         `keccak256(abi.encode(_withdrawalHash, uint256(0)))`.
    function withdrawalStorageSlot(bytes32 _withdrawalHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(_withdrawalHash, SENT_MESSAGES_SLOT));
    }

    /// @notice The `opaqueData` of a `TransactionDeposited` event (version 0):
    ///         `abi.encodePacked(mint, value, gasLimit, isCreation, data)` — 32 + 32 + 8 + 1 bytes,
    ///         then the calldata.
    function encodeDepositOpaqueData(
        uint256 _mint,
        uint256 _value,
        uint64 _gasLimit,
        bool _isCreation,
        bytes memory _data
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(_mint, _value, _gasLimit, _isCreation, _data);
    }
}
