// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Types} from "../libraries/Types.sol";

/// @title IOutputOracle
/// @notice L2 output roots proposed by the bonded proposer every `SUBMISSION_INTERVAL` L2 blocks
///         (OP's L2OutputOracle, plus bonds). An output is final `FINALIZATION_PERIOD_SECONDS`
///         after its proposal; until then the dispute game may invalidate it, which deletes it and
///         every later output and awards their bonds to the challenger. Finalized outputs' bonds
///         go back to their proposer through {reclaimBond}.
interface IOutputOracle {
    /// @notice OP's event: an output root was proposed.
    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );
    /// @notice OP's event: outputs from `newNextOutputIndex` on were deleted.
    event OutputsDeleted(uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex);
    /// @notice The bonds of deleted outputs were credited to `challenger`.
    event BondsAwarded(address indexed challenger, uint256 amount);
    /// @notice The bond of a finalized output was paid back to the proposer who posted it.
    event BondReclaimed(uint256 indexed l2OutputIndex, address indexed proposer, uint256 amount);
    /// @notice `account` withdrew its credit.
    event CreditClaimed(address indexed account, uint256 amount);
    /// @notice The proposer changed.
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);
    /// @notice The dispute game changed.
    event DisputeGameUpdated(address indexed previousDisputeGame, address indexed newDisputeGame);

    /// @notice The caller is not the proposer.
    error OutputOracle_NotProposer(address caller);
    /// @notice The caller is not the dispute game.
    error OutputOracle_NotDisputeGame(address caller);
    /// @notice `msg.value` differs from `BOND`.
    error OutputOracle_WrongBond(uint256 sent, uint256 required);
    /// @notice The proposal is not for `nextBlockNumber()`.
    error OutputOracle_UnexpectedBlockNumber(uint256 l2BlockNumber, uint256 expected);
    /// @notice The L2 block's timestamp is not yet in the past.
    error OutputOracle_BlockInFuture(uint256 l2Timestamp, uint256 l1Timestamp);
    /// @notice A zero output root.
    error OutputOracle_EmptyOutputRoot();
    /// @notice The L1 block hash given does not match `blockhash(l1BlockNumber)` (reorg guard).
    error OutputOracle_L1BlockHashMismatch(bytes32 given, bytes32 actual);
    /// @notice No output at this index.
    error OutputOracle_OutputNotFound(uint256 l2OutputIndex);
    /// @notice The output is finalized and can no longer be invalidated.
    error OutputOracle_OutputFinalized(uint256 l2OutputIndex);
    /// @notice The output is not yet finalized.
    error OutputOracle_OutputNotFinalized(uint256 l2OutputIndex, uint256 finalizedAfter);
    /// @notice The output's bond was already paid back.
    error OutputOracle_BondAlreadyReclaimed(uint256 l2OutputIndex);
    /// @notice No output covers L2 block `l2BlockNumber` yet.
    error OutputOracle_NoOutputAfter(uint256 l2BlockNumber);
    /// @notice An L2 block before the starting block.
    error OutputOracle_BlockBeforeStart(uint256 l2BlockNumber, uint256 startingBlockNumber);
    /// @notice `latestOutputIndex` with no outputs.
    error OutputOracle_NoOutputs();
    /// @notice `claimCredit` with nothing to claim.
    error OutputOracle_NoCredit(address account);
    /// @notice Sending `amount` wei to `to` failed.
    error OutputOracle_TransferFailed(address to, uint256 amount);
    /// @notice A zero address where one is required.
    error OutputOracle_ZeroAddress();
    /// @notice A zero submission interval or L2 block time.
    error OutputOracle_ZeroInterval();
    /// @notice The starting timestamp is in the future.
    error OutputOracle_StartingTimestampInFuture(uint256 startingTimestamp, uint256 l1Timestamp);

    /// @notice Proposes `outputRoot` for L2 block `l2BlockNumber`, bonded with exactly `BOND` wei.
    ///         Proposer only.
    /// @dev Emits {OutputProposed}.
    /// @param outputRoot     The v0 output root of the L2 block.
    /// @param l2BlockNumber  Must equal `nextBlockNumber()`.
    /// @param l1BlockHash    A recent L1 block hash the proposer saw, or zero to skip the reorg guard.
    /// @param l1BlockNumber  The number of that L1 block.
    function proposeL2Output(bytes32 outputRoot, uint256 l2BlockNumber, bytes32 l1BlockHash, uint256 l1BlockNumber)
        external
        payable;

    /// @notice Deletes output `l2OutputIndex` and every later one, and credits their bonds to
    ///         `challenger`. Dispute game only; the output must not be finalized.
    /// @dev Emits {OutputsDeleted} and {BondsAwarded}.
    /// @param l2OutputIndex The first output to delete.
    /// @param challenger    Who receives the bonds (through {claimCredit}).
    function invalidateOutput(uint256 l2OutputIndex, address challenger) external;

    /// @notice Pays the bond of the finalized output `l2OutputIndex` back to the proposer who posted
    ///         it. Anyone may call; the bond always goes to that proposer.
    /// @dev Emits {BondReclaimed}.
    /// @param l2OutputIndex The output.
    function reclaimBond(uint256 l2OutputIndex) external;

    /// @notice Sends the caller its credit (bonds won as a challenger).
    /// @dev Emits {CreditClaimed}.
    /// @return amount Wei sent.
    function claimCredit() external returns (uint256 amount);

    /// @notice Replaces the proposer. Owner only.
    /// @dev Emits {ProposerUpdated}.
    /// @param newProposer The new proposer (non-zero).
    function setProposer(address newProposer) external;

    /// @notice Replaces the dispute game. Owner only.
    /// @dev Emits {DisputeGameUpdated}.
    /// @param newDisputeGame The new dispute game (non-zero).
    function setDisputeGame(address newDisputeGame) external;

    /// @notice Output `l2OutputIndex`.
    /// @param l2OutputIndex The output index.
    /// @return The proposal (root, L1 timestamp of proposal, L2 block number).
    function getL2Output(uint256 l2OutputIndex) external view returns (Types.OutputProposal memory);

    /// @notice Index of the first output whose L2 block is at or after `l2BlockNumber`.
    /// @param l2BlockNumber An L2 block number.
    /// @return The output index.
    function getL2OutputIndexAfter(uint256 l2BlockNumber) external view returns (uint256);

    /// @notice The first output whose L2 block is at or after `l2BlockNumber`.
    /// @param l2BlockNumber An L2 block number.
    /// @return The proposal.
    function getL2OutputAfter(uint256 l2BlockNumber) external view returns (Types.OutputProposal memory);

    /// @notice Index of the latest output; reverts with {OutputOracle_NoOutputs} when there is none.
    /// @return The index.
    function latestOutputIndex() external view returns (uint256);

    /// @notice Index the next output will get (the number of outputs).
    /// @return The index.
    function nextOutputIndex() external view returns (uint256);

    /// @notice L2 block of the latest output, or `startingBlockNumber` when there is none.
    /// @return The block number.
    function latestBlockNumber() external view returns (uint256);

    /// @notice L2 block the next output must be for.
    /// @return The block number.
    function nextBlockNumber() external view returns (uint256);

    /// @notice Timestamp of L2 block `l2BlockNumber` per the rollup's fixed block time.
    /// @param l2BlockNumber An L2 block number at or after the starting block.
    /// @return The timestamp.
    function computeL2Timestamp(uint256 l2BlockNumber) external view returns (uint256);

    /// @notice Whether output `l2OutputIndex` exists and its finalization period has elapsed.
    /// @param l2OutputIndex The output index.
    /// @return True when finalized.
    function isFinalized(uint256 l2OutputIndex) external view returns (bool);

    /// @notice Who gets the bond of output `l2OutputIndex` back; zero once reclaimed.
    /// @param l2OutputIndex The output index.
    /// @return The proposer that posted the output, or zero.
    function bondHolder(uint256 l2OutputIndex) external view returns (address);

    /// @notice Wei `account` can withdraw with {claimCredit}.
    /// @param account An account.
    /// @return The credit.
    function credit(address account) external view returns (uint256);

    /// @notice L2 blocks between two outputs.
    /// @return The interval.
    function SUBMISSION_INTERVAL() external view returns (uint256);

    /// @notice Seconds between two L2 blocks.
    /// @return The block time.
    function L2_BLOCK_TIME() external view returns (uint256);

    /// @notice Seconds after its proposal at which an output is final.
    /// @return The period.
    function FINALIZATION_PERIOD_SECONDS() external view returns (uint256);

    /// @notice Wei each proposal must carry.
    /// @return The bond.
    function BOND() external view returns (uint256);

    /// @notice L2 block the first output's interval starts from.
    /// @return The block number.
    function startingBlockNumber() external view returns (uint256);

    /// @notice Timestamp of the starting L2 block.
    /// @return The timestamp.
    function startingTimestamp() external view returns (uint256);

    /// @notice The account allowed to propose.
    /// @return The proposer.
    function proposer() external view returns (address);

    /// @notice The account allowed to invalidate outputs.
    /// @return The dispute game.
    function disputeGame() external view returns (address);
}
