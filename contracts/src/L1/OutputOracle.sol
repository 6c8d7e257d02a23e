// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOutputOracle} from "../interfaces/IOutputOracle.sol";
import {Types} from "../libraries/Types.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title OutputOracle
/// @notice L2 output roots, one every `SUBMISSION_INTERVAL` L2 blocks, each bonded with `BOND` wei
///         by the proposer (OP's L2OutputOracle with bonds). Output `i` is for L2 block
///         `startingBlockNumber + (i + 1) * SUBMISSION_INTERVAL`. An output is finalized once
///         `block.timestamp > proposedAt + FINALIZATION_PERIOD_SECONDS`. Before that the dispute game
///         may invalidate it: it and every later output are deleted and their bonds are credited to
///         the challenger (pull, {claimCredit}). After it, {reclaimBond} pays the bond back to the
///         proposer that posted the output.
/// @dev Roles: owner (sets proposer and dispute game), proposer, dispute game. The dispute game may
///      be zero at deployment (it needs this contract's address) and set by the owner afterwards.
///      Bond accounting relies on proposal timestamps never decreasing: when output `i` is not
///      finalized no later output is, so no bond among the deleted ones has been reclaimed.
contract OutputOracle is IOutputOracle, Ownable2Step, ReentrancyGuardTransient {
    /// @inheritdoc IOutputOracle
    uint256 public immutable SUBMISSION_INTERVAL;
    /// @inheritdoc IOutputOracle
    uint256 public immutable L2_BLOCK_TIME;
    /// @inheritdoc IOutputOracle
    uint256 public immutable FINALIZATION_PERIOD_SECONDS;
    /// @inheritdoc IOutputOracle
    uint256 public immutable BOND;
    /// @inheritdoc IOutputOracle
    uint256 public immutable startingBlockNumber;
    /// @inheritdoc IOutputOracle
    uint256 public immutable startingTimestamp;

    /// @dev Everything `proposeL2Output` reads, in one slot.
    struct Head {
        address proposer;
        uint64 outputCount;
    }

    /// @dev One output in two slots; its L2 block number follows from its index.
    struct StoredOutput {
        bytes32 outputRoot;
        address bondHolder; // proposer owed the bond; zero once reclaimed
        uint64 timestamp; // L1 timestamp of the proposal
    }

    Head private _head;

    /// @inheritdoc IOutputOracle
    address public disputeGame;

    /// @inheritdoc IOutputOracle
    mapping(address account => uint256 amount) public credit;

    mapping(uint256 l2OutputIndex => StoredOutput) private _outputs;

    /// @param _submissionInterval       L2 blocks between outputs (> 0).
    /// @param _l2BlockTime              Seconds between L2 blocks (> 0).
    /// @param _startingBlockNumber      L2 block the first interval starts from.
    /// @param _startingTimestamp        Timestamp of that L2 block (not in the future).
    /// @param _finalizationPeriodSeconds Seconds during which an output can be invalidated.
    /// @param _bond                     Wei each proposal carries.
    /// @param _owner                    Owner.
    /// @param _proposer                 Proposer (non-zero).
    /// @param _disputeGame              Dispute game, or zero to set later with {setDisputeGame}.
    constructor(
        uint256 _submissionInterval,
        uint256 _l2BlockTime,
        uint256 _startingBlockNumber,
        uint256 _startingTimestamp,
        uint256 _finalizationPeriodSeconds,
        uint256 _bond,
        address _owner,
        address _proposer,
        address _disputeGame
    ) Ownable(_owner) {
        if (_submissionInterval == 0 || _l2BlockTime == 0) revert OutputOracle_ZeroInterval();
        if (_startingTimestamp > block.timestamp) {
            revert OutputOracle_StartingTimestampInFuture(_startingTimestamp, block.timestamp);
        }
        if (_proposer == address(0)) revert OutputOracle_ZeroAddress();
        SUBMISSION_INTERVAL = _submissionInterval;
        L2_BLOCK_TIME = _l2BlockTime;
        startingBlockNumber = _startingBlockNumber;
        startingTimestamp = _startingTimestamp;
        FINALIZATION_PERIOD_SECONDS = _finalizationPeriodSeconds;
        BOND = _bond;
        _head.proposer = _proposer;
        disputeGame = _disputeGame;
        emit ProposerUpdated(address(0), _proposer);
        emit DisputeGameUpdated(address(0), _disputeGame);
    }

    // ------------------------------------------------------------------ proposer

    /// @inheritdoc IOutputOracle
    function proposeL2Output(bytes32 outputRoot, uint256 l2BlockNumber, bytes32 l1BlockHash, uint256 l1BlockNumber)
        external
        payable
    {
        Head memory head = _head;
        if (msg.sender != head.proposer) revert OutputOracle_NotProposer(msg.sender);
        if (msg.value != BOND) revert OutputOracle_WrongBond(msg.value, BOND);
        uint256 expected = _blockNumberOf(head.outputCount);
        if (l2BlockNumber != expected) revert OutputOracle_UnexpectedBlockNumber(l2BlockNumber, expected);
        uint256 l2Timestamp = _computeL2Timestamp(l2BlockNumber);
        if (l2Timestamp >= block.timestamp) revert OutputOracle_BlockInFuture(l2Timestamp, block.timestamp);
        if (outputRoot == bytes32(0)) revert OutputOracle_EmptyOutputRoot();
        if (l1BlockHash != bytes32(0)) {
            // Guards against the proposal landing on a fork the proposer did not see.
            bytes32 actual = blockhash(l1BlockNumber);
            if (actual != l1BlockHash) revert OutputOracle_L1BlockHashMismatch(l1BlockHash, actual);
        }

        uint256 index = head.outputCount;
        // L1 timestamps fit in 64 bits for the next 500 billion years.
        // forge-lint: disable-next-line(unsafe-typecast)
        _outputs[index] =
            StoredOutput({outputRoot: outputRoot, bondHolder: msg.sender, timestamp: uint64(block.timestamp)});
        // Unchecked: 2^64 outputs will not be proposed.
        unchecked {
            head.outputCount += 1;
        }
        _head = head;
        emit OutputProposed(outputRoot, index, l2BlockNumber, block.timestamp);
    }

    /// @inheritdoc IOutputOracle
    function reclaimBond(uint256 l2OutputIndex) external nonReentrant {
        _checkExists(l2OutputIndex);
        StoredOutput storage output = _outputs[l2OutputIndex];
        (address holder, uint64 proposedAt) = (output.bondHolder, output.timestamp);
        if (holder == address(0)) revert OutputOracle_BondAlreadyReclaimed(l2OutputIndex);
        if (!_isFinalized(proposedAt)) {
            revert OutputOracle_OutputNotFinalized(l2OutputIndex, proposedAt + FINALIZATION_PERIOD_SECONDS);
        }
        output.bondHolder = address(0);
        emit BondReclaimed(l2OutputIndex, holder, BOND);
        _send(holder, BOND);
    }

    // ------------------------------------------------------------------ dispute game

    /// @inheritdoc IOutputOracle
    function invalidateOutput(uint256 l2OutputIndex, address challenger) external {
        if (msg.sender != disputeGame) revert OutputOracle_NotDisputeGame(msg.sender);
        Head memory head = _head;
        if (l2OutputIndex >= head.outputCount) revert OutputOracle_OutputNotFound(l2OutputIndex);
        if (_isFinalized(_outputs[l2OutputIndex].timestamp)) revert OutputOracle_OutputFinalized(l2OutputIndex);
        if (challenger == address(0)) revert OutputOracle_ZeroAddress();

        uint256 previousCount = head.outputCount;
        // None of the deleted outputs is finalized (timestamps never decrease), so none of their
        // bonds was reclaimed: all of them are forfeited. Stale entries past the new count are
        // never read and are overwritten by the next proposals.
        uint256 amount = (previousCount - l2OutputIndex) * BOND;
        // l2OutputIndex < outputCount, a uint64.
        // forge-lint: disable-next-line(unsafe-typecast)
        head.outputCount = uint64(l2OutputIndex);
        _head = head;
        credit[challenger] += amount;
        emit OutputsDeleted(previousCount, l2OutputIndex);
        emit BondsAwarded(challenger, amount);
    }

    /// @inheritdoc IOutputOracle
    function claimCredit() external nonReentrant returns (uint256 amount) {
        amount = credit[msg.sender];
        if (amount == 0) revert OutputOracle_NoCredit(msg.sender);
        credit[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ------------------------------------------------------------------ owner

    /// @inheritdoc IOutputOracle
    function setProposer(address newProposer) external onlyOwner {
        if (newProposer == address(0)) revert OutputOracle_ZeroAddress();
        emit ProposerUpdated(_head.proposer, newProposer);
        _head.proposer = newProposer;
    }

    /// @inheritdoc IOutputOracle
    function setDisputeGame(address newDisputeGame) external onlyOwner {
        if (newDisputeGame == address(0)) revert OutputOracle_ZeroAddress();
        emit DisputeGameUpdated(disputeGame, newDisputeGame);
        disputeGame = newDisputeGame;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IOutputOracle
    function getL2Output(uint256 l2OutputIndex) public view returns (Types.OutputProposal memory) {
        _checkExists(l2OutputIndex);
        StoredOutput storage output = _outputs[l2OutputIndex];
        return Types.OutputProposal({
            outputRoot: output.outputRoot,
            timestamp: output.timestamp,
            // Block numbers stay far below 2^128 (the index is below 2^64).
            // forge-lint: disable-next-line(unsafe-typecast)
            l2BlockNumber: uint128(_blockNumberOf(l2OutputIndex))
        });
    }

    /// @inheritdoc IOutputOracle
    function getL2OutputIndexAfter(uint256 l2BlockNumber) public view returns (uint256) {
        uint256 count = _head.outputCount;
        if (count == 0 || l2BlockNumber > _blockNumberOf(count - 1)) revert OutputOracle_NoOutputAfter(l2BlockNumber);
        uint256 first = _blockNumberOf(0);
        if (l2BlockNumber <= first) return 0;
        // Output i covers block start + (i + 1) * interval: the first at or after the block is
        // ceil((block - start) / interval) - 1.
        return (l2BlockNumber - startingBlockNumber + SUBMISSION_INTERVAL - 1) / SUBMISSION_INTERVAL - 1;
    }

    /// @inheritdoc IOutputOracle
    function getL2OutputAfter(uint256 l2BlockNumber) external view returns (Types.OutputProposal memory) {
        return getL2Output(getL2OutputIndexAfter(l2BlockNumber));
    }

    /// @inheritdoc IOutputOracle
    function latestOutputIndex() external view returns (uint256) {
        uint256 count = _head.outputCount;
        if (count == 0) revert OutputOracle_NoOutputs();
        return count - 1;
    }

    /// @inheritdoc IOutputOracle
    function nextOutputIndex() external view returns (uint256) {
        return _head.outputCount;
    }

    /// @inheritdoc IOutputOracle
    function latestBlockNumber() external view returns (uint256) {
        uint256 count = _head.outputCount;
        return count == 0 ? startingBlockNumber : _blockNumberOf(count - 1);
    }

    /// @inheritdoc IOutputOracle
    function nextBlockNumber() external view returns (uint256) {
        return _blockNumberOf(_head.outputCount);
    }

    /// @inheritdoc IOutputOracle
    function computeL2Timestamp(uint256 l2BlockNumber) external view returns (uint256) {
        return _computeL2Timestamp(l2BlockNumber);
    }

    /// @inheritdoc IOutputOracle
    function isFinalized(uint256 l2OutputIndex) external view returns (bool) {
        return l2OutputIndex < _head.outputCount && _isFinalized(_outputs[l2OutputIndex].timestamp);
    }

    /// @inheritdoc IOutputOracle
    function bondHolder(uint256 l2OutputIndex) external view returns (address) {
        _checkExists(l2OutputIndex);
        return _outputs[l2OutputIndex].bondHolder;
    }

    /// @inheritdoc IOutputOracle
    function proposer() external view returns (address) {
        return _head.proposer;
    }

    // ------------------------------------------------------------------ internals

    /// @dev L2 block of output `index`.
    function _blockNumberOf(uint256 index) private view returns (uint256) {
        return startingBlockNumber + (index + 1) * SUBMISSION_INTERVAL;
    }

    function _computeL2Timestamp(uint256 l2BlockNumber) private view returns (uint256) {
        if (l2BlockNumber < startingBlockNumber) {
            revert OutputOracle_BlockBeforeStart(l2BlockNumber, startingBlockNumber);
        }
        return startingTimestamp + (l2BlockNumber - startingBlockNumber) * L2_BLOCK_TIME;
    }

    function _isFinalized(uint256 proposedAt) private view returns (bool) {
        return block.timestamp > proposedAt + FINALIZATION_PERIOD_SECONDS;
    }

    function _checkExists(uint256 l2OutputIndex) private view {
        if (l2OutputIndex >= _head.outputCount) revert OutputOracle_OutputNotFound(l2OutputIndex);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert OutputOracle_TransferFailed(to, amount);
    }
}
