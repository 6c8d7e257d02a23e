// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchInbox} from "../interfaces/IBatchInbox.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title BatchInbox
/// @notice The L1 record of batches: the batcher posts the OP Alt-DA payload
///         (`0x01 ‖ commitment`) of each batch it stored in DA; the contract checks the commitment's
///         form, numbers the batch and keeps only keccak256(payload). Followers read the payloads
///         from {BatchPosted} events (or the transactions' calldata).
/// @dev Roles: owner (sets batcher and guardian), batcher (posts), guardian (pauses).
contract BatchInbox is IBatchInbox, Ownable2Step {
    /// @notice First payload byte: OP derivation version 1, Alt-DA commitment.
    uint8 public constant DERIVATION_VERSION_ALT_DA = 0x01;
    /// @notice Commitment type: `0x00 ‖ keccak256(data)`.
    uint8 public constant COMMITMENT_TYPE_KECCAK = 0x00;
    /// @notice Commitment type: `0x01 ‖ da_layer_byte ‖ payload`.
    uint8 public constant COMMITMENT_TYPE_GENERIC = 0x01;

    /// @dev Payload length of a keccak commitment: version, type, 32-byte hash.
    uint256 private constant KECCAK_PAYLOAD_LENGTH = 34;
    /// @dev Smallest generic payload: version, type, DA layer byte, one byte of DA payload.
    uint256 private constant MIN_GENERIC_PAYLOAD_LENGTH = 4;

    /// @dev Everything `postBatch` reads, in one slot.
    struct State {
        address batcher;
        uint64 batchCount;
        bool paused;
    }

    State private _state;

    /// @inheritdoc IBatchInbox
    address public guardian;

    mapping(uint256 batchIndex => bytes32 payloadHash) private _batchHashes;

    /// @param _owner    Owner (sets batcher and guardian).
    /// @param _batcher  Account allowed to post.
    /// @param _guardian Account allowed to pause.
    constructor(address _owner, address _batcher, address _guardian) Ownable(_owner) {
        if (_batcher == address(0) || _guardian == address(0)) revert BatchInbox_ZeroAddress();
        _state.batcher = _batcher;
        guardian = _guardian;
        emit BatcherUpdated(address(0), _batcher);
        emit GuardianUpdated(address(0), _guardian);
    }

    /// @inheritdoc IBatchInbox
    function postBatch(bytes calldata payload) external returns (uint256 batchIndex) {
        State memory s = _state;
        if (s.paused) revert BatchInbox_Paused();
        if (msg.sender != s.batcher) revert BatchInbox_NotBatcher(msg.sender);
        _checkPayload(payload);

        batchIndex = s.batchCount;
        _batchHashes[batchIndex] = keccak256(payload);
        // Unchecked: 2^64 batches will not be posted.
        unchecked {
            s.batchCount += 1;
        }
        _state = s;
        emit BatchPosted(batchIndex, payload);
    }

    /// @inheritdoc IBatchInbox
    function setBatcher(address newBatcher) external onlyOwner {
        if (newBatcher == address(0)) revert BatchInbox_ZeroAddress();
        emit BatcherUpdated(_state.batcher, newBatcher);
        _state.batcher = newBatcher;
    }

    /// @inheritdoc IBatchInbox
    function setGuardian(address newGuardian) external onlyOwner {
        if (newGuardian == address(0)) revert BatchInbox_ZeroAddress();
        emit GuardianUpdated(guardian, newGuardian);
        guardian = newGuardian;
    }

    /// @inheritdoc IBatchInbox
    function pause() external {
        if (msg.sender != guardian) revert BatchInbox_NotGuardian(msg.sender);
        if (_state.paused) revert BatchInbox_Paused();
        _state.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IBatchInbox
    function unpause() external {
        if (msg.sender != guardian) revert BatchInbox_NotGuardian(msg.sender);
        if (!_state.paused) revert BatchInbox_NotPaused();
        _state.paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IBatchInbox
    function batchHash(uint256 batchIndex) external view returns (bytes32) {
        if (batchIndex >= _state.batchCount) revert BatchInbox_BatchNotFound(batchIndex);
        return _batchHashes[batchIndex];
    }

    /// @inheritdoc IBatchInbox
    function batchCount() external view returns (uint256) {
        return _state.batchCount;
    }

    /// @inheritdoc IBatchInbox
    function batcher() external view returns (address) {
        return _state.batcher;
    }

    /// @inheritdoc IBatchInbox
    function paused() external view returns (bool) {
        return _state.paused;
    }

    /// @dev Checks that `payload` is `0x01 ‖ (0x00 ‖ hash32 | 0x01 ‖ da_layer ‖ bytes1+)`.
    function _checkPayload(bytes calldata payload) private pure {
        uint256 length = payload.length;
        if (length < 2) revert BatchInbox_PayloadTooShort(length);
        uint8 version = uint8(payload[0]);
        if (version != DERIVATION_VERSION_ALT_DA) revert BatchInbox_UnsupportedDerivationVersion(version);
        uint8 commitmentType = uint8(payload[1]);
        if (commitmentType == COMMITMENT_TYPE_KECCAK) {
            if (length != KECCAK_PAYLOAD_LENGTH) revert BatchInbox_InvalidKeccakCommitmentLength(length);
        } else if (commitmentType == COMMITMENT_TYPE_GENERIC) {
            if (length < MIN_GENERIC_PAYLOAD_LENGTH) revert BatchInbox_GenericCommitmentTooShort(length);
        } else {
            revert BatchInbox_UnknownCommitmentType(commitmentType);
        }
    }
}
