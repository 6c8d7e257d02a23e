// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IBatchInbox
/// @notice Where the batcher records, on L1, the OP Alt-DA commitment of each batch it put in DA.
///         The payload of a batch is the OP batcher transaction data for Alt-DA:
///         `0x01 ‖ commitment`, where `commitment` is `0x00 ‖ keccak256(data)` (keccak commitment,
///         34 payload bytes in all) or `0x01 ‖ da_layer_byte ‖ da_payload` (generic commitment).
///         The contract keeps keccak256(payload) per batch; the payload itself is in the event.
interface IBatchInbox {
    /// @notice Batch `batchIndex` was posted; `payload` is `0x01 ‖ commitment`.
    event BatchPosted(uint256 indexed batchIndex, bytes payload);
    /// @notice The batcher changed.
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);
    /// @notice The guardian changed.
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);
    /// @notice Posting was paused by `account`.
    event Paused(address account);
    /// @notice Posting was resumed by `account`.
    event Unpaused(address account);

    /// @notice The caller is not the batcher.
    error BatchInbox_NotBatcher(address caller);
    /// @notice The caller is not the guardian.
    error BatchInbox_NotGuardian(address caller);
    /// @notice Posting is paused.
    error BatchInbox_Paused();
    /// @notice `unpause` while not paused.
    error BatchInbox_NotPaused();
    /// @notice A zero address for a role.
    error BatchInbox_ZeroAddress();
    /// @notice The payload is shorter than a version byte and a commitment type byte.
    error BatchInbox_PayloadTooShort(uint256 length);
    /// @notice The payload's first byte is not 0x01 (Alt-DA derivation version).
    error BatchInbox_UnsupportedDerivationVersion(uint8 version);
    /// @notice The commitment type byte is neither 0x00 (keccak) nor 0x01 (generic).
    error BatchInbox_UnknownCommitmentType(uint8 commitmentType);
    /// @notice A keccak commitment whose payload is not exactly 34 bytes.
    error BatchInbox_InvalidKeccakCommitmentLength(uint256 length);
    /// @notice A generic commitment without a DA layer byte and at least one payload byte.
    error BatchInbox_GenericCommitmentTooShort(uint256 length);
    /// @notice No batch with this index has been posted.
    error BatchInbox_BatchNotFound(uint256 batchIndex);

    /// @notice Records batch `batchCount()` with `payload` (`0x01 ‖ commitment`). Batcher only.
    /// @dev Emits {BatchPosted}.
    /// @param payload The Alt-DA batcher payload.
    /// @return batchIndex The index given to the batch.
    function postBatch(bytes calldata payload) external returns (uint256 batchIndex);

    /// @notice Replaces the batcher. Owner only.
    /// @dev Emits {BatcherUpdated}.
    /// @param newBatcher The new batcher (non-zero).
    function setBatcher(address newBatcher) external;

    /// @notice Replaces the guardian. Owner only.
    /// @dev Emits {GuardianUpdated}.
    /// @param newGuardian The new guardian (non-zero).
    function setGuardian(address newGuardian) external;

    /// @notice Stops `postBatch`. Guardian only.
    /// @dev Emits {Paused}.
    function pause() external;

    /// @notice Resumes `postBatch`. Guardian only.
    /// @dev Emits {Unpaused}.
    function unpause() external;

    /// @notice keccak256 of the payload of batch `batchIndex`.
    /// @param batchIndex A posted batch's index.
    /// @return The payload hash.
    function batchHash(uint256 batchIndex) external view returns (bytes32);

    /// @notice Number of batches posted, which is also the index the next batch gets.
    /// @return The count.
    function batchCount() external view returns (uint256);

    /// @notice The account allowed to post.
    /// @return The batcher.
    function batcher() external view returns (address);

    /// @notice The account allowed to pause and unpause.
    /// @return The guardian.
    function guardian() external view returns (address);

    /// @notice Whether posting is paused.
    /// @return True when paused.
    function paused() external view returns (bool);
}
