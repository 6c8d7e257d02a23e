// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Types} from "../libraries/Types.sol";
import {IOutputOracle} from "./IOutputOracle.sol";

/// @title IPortal
/// @notice The L1 end of the bridge (OP's OptimismPortal, L2OutputOracle flavour): deposits L1 -> L2
///         as `TransactionDeposited` events that the L2 turns into type-0x7E transactions, and
///         withdrawals L2 -> L1 proven against an output root of the OutputOracle and finalized after
///         the finalization period.
interface IPortal {
    /// @notice OP's event. `version` is 0 and `opaqueData` is
    ///         `abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`.
    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
    /// @notice OP's event: a withdrawal was proven.
    event WithdrawalProven(bytes32 indexed withdrawalHash, address indexed from, address indexed to);
    /// @notice OP's event: a withdrawal was finalized; `success` is the outcome of the call.
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, bool success);
    /// @notice The guardian changed.
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);
    /// @notice Withdrawals were paused by `account`.
    event Paused(address account);
    /// @notice Withdrawals were resumed by `account`.
    event Unpaused(address account);

    /// @notice Withdrawals are paused.
    error Portal_Paused();
    /// @notice `unpause` while not paused.
    error Portal_NotPaused();
    /// @notice The caller is not the guardian.
    error Portal_NotGuardian(address caller);
    /// @notice A zero address where one is required.
    error Portal_ZeroAddress();
    /// @notice A contract creation deposit with a non-zero `to`.
    error Portal_CreationWithNonZeroTarget(address to);
    /// @notice The deposit's gas limit does not pay for its intrinsic gas.
    error Portal_GasLimitTooLow(uint64 gasLimit, uint64 minimum);
    /// @notice The deposit's gas limit is above `MAX_DEPOSIT_GAS_LIMIT`.
    error Portal_GasLimitTooHigh(uint64 gasLimit, uint64 maximum);
    /// @notice The deposit's calldata is above `MAX_DEPOSIT_DATA_SIZE`.
    error Portal_CalldataTooLarge(uint256 size, uint256 maximum);
    /// @notice The deposits of this L1 block would buy more than `MAX_RESOURCE_LIMIT` L2 gas.
    error Portal_OutOfDepositGas(uint64 gasLimit, uint64 remaining);
    /// @notice A withdrawal whose target is the portal itself.
    error Portal_TargetIsPortal();
    /// @notice An output root proof with a version other than 0.
    error Portal_UnsupportedOutputVersion(bytes32 version);
    /// @notice The output root proof does not hash to the output root at the given index.
    error Portal_InvalidOutputRootProof(bytes32 computed, bytes32 outputRoot);
    /// @notice The withdrawal is already proven against the output root now at its index.
    error Portal_WithdrawalAlreadyProven(bytes32 withdrawalHash);
    /// @notice The message passer's `sentMessages[withdrawalHash]` is not 1 in the proven state.
    error Portal_WithdrawalNotSent(bytes32 withdrawalHash, uint256 storedValue);
    /// @notice The withdrawal has not been proven.
    error Portal_WithdrawalNotProven(bytes32 withdrawalHash);
    /// @notice The output the withdrawal was proven against was replaced (invalidated and proposed
    ///         again): the withdrawal must be proven again.
    error Portal_OutputRootChanged(bytes32 provenOutputRoot, bytes32 currentOutputRoot);
    /// @notice The finalization period since the proof has not elapsed.
    error Portal_ProofNotFinalized(uint256 provenAt, uint256 finalizedAfter);
    /// @notice The withdrawal was already finalized.
    error Portal_WithdrawalAlreadyFinalized(bytes32 withdrawalHash);
    /// @notice A withdrawal call is in progress (reentrant finalization).
    error Portal_FinalizationInProgress();
    /// @notice Too little gas left to give the withdrawal call its gas limit.
    error Portal_InsufficientGas(uint256 available, uint256 gasLimit);
    /// @notice The withdrawal call failed during gas estimation (`tx.origin == address(1)`).
    error Portal_GasEstimation();

    /// @notice Deposits a transaction to L2 (OP's signature). `msg.value` is minted on L2 to the
    ///         sender. A contract caller's address is aliased (+0x1111…1111).
    /// @dev Emits {TransactionDeposited}.
    /// @param to          L2 recipient (zero for a creation).
    /// @param value       Wei the L2 transaction sends to `to` (out of the sender's L2 balance).
    /// @param gasLimit    L2 gas limit, at least `minimumGasLimit(data.length)`.
    /// @param isCreation  Whether the L2 transaction creates a contract (`to` must then be zero).
    /// @param data        L2 calldata or init code.
    function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data)
        external
        payable;

    /// @notice Proves that `withdrawal` was sent on L2, in the state committed to by output
    ///         `l2OutputIndex`.
    /// @dev Emits {WithdrawalProven}.
    /// @param withdrawal        The withdrawal as the L2ToL1MessagePasser recorded it.
    /// @param l2OutputIndex     Index of the output in the OutputOracle.
    /// @param outputRootProof   Preimage of that output root.
    /// @param withdrawalProof   Merkle-Patricia proof (eth_getProof's storageProof[].proof) of the
    ///                          message passer's slot `keccak256(abi.encode(withdrawalHash, 0))`.
    function proveWithdrawalTransaction(
        Types.WithdrawalTransaction calldata withdrawal,
        uint256 l2OutputIndex,
        Types.OutputRootProof calldata outputRootProof,
        bytes[] calldata withdrawalProof
    ) external;

    /// @notice Executes a proven withdrawal once the finalization period since its proof has
    ///         elapsed: calls `target` with `data`, `value` and at least `gasLimit` gas. A failed
    ///         call still finalizes the withdrawal (its value stays in the portal).
    /// @dev Emits {WithdrawalFinalized}.
    /// @param withdrawal The withdrawal.
    function finalizeWithdrawalTransaction(Types.WithdrawalTransaction calldata withdrawal) external;

    /// @notice Stops proving and finalizing withdrawals (deposits stay open). Guardian only.
    /// @dev Emits {Paused}.
    function pause() external;

    /// @notice Resumes withdrawals. Guardian only.
    /// @dev Emits {Unpaused}.
    function unpause() external;

    /// @notice Replaces the guardian. Owner only.
    /// @dev Emits {GuardianUpdated}.
    /// @param newGuardian The new guardian (non-zero).
    function setGuardian(address newGuardian) external;

    /// @notice Smallest gas limit a deposit with `byteCount` bytes of calldata may ask for.
    /// @param byteCount Calldata length.
    /// @return `byteCount * 16 + 21000`.
    function minimumGasLimit(uint64 byteCount) external pure returns (uint64);

    /// @notice The deposit gas market (OP's `ResourceMetering`): the L2 gas bought by deposits
    ///         in the latest L1 block that had any, and the price per unit of it, in L1 wei, that
    ///         deposits pay by burning L1 gas.
    /// @return prevBaseFee   Price of one unit of deposit gas in the block `prevBlockNum`.
    /// @return prevBoughtGas Deposit gas bought in that block.
    /// @return prevBlockNum  The L1 block.
    function params() external view returns (uint128 prevBaseFee, uint64 prevBoughtGas, uint64 prevBlockNum);

    /// @notice The L2 sender of the withdrawal being finalized, or `0x…dEaD` outside a finalization.
    /// @return The sender.
    function l2Sender() external view returns (address);

    /// @notice Whether withdrawal `withdrawalHash` was finalized.
    /// @param withdrawalHash The withdrawal hash.
    /// @return True when finalized.
    function finalizedWithdrawals(bytes32 withdrawalHash) external view returns (bool);

    /// @notice The proof record of `withdrawalHash` (zero timestamp when not proven).
    /// @param withdrawalHash The withdrawal hash.
    /// @return outputRoot The output root proven against.
    /// @return timestamp  When it was proven.
    /// @return l2OutputIndex The output's index.
    function provenWithdrawals(bytes32 withdrawalHash)
        external
        view
        returns (bytes32 outputRoot, uint128 timestamp, uint128 l2OutputIndex);

    /// @notice The OutputOracle withdrawals are proven against.
    /// @return The oracle.
    function L2_ORACLE() external view returns (IOutputOracle);

    /// @notice Seconds between proving a withdrawal and finalizing it (the oracle's).
    /// @return The period.
    function FINALIZATION_PERIOD_SECONDS() external view returns (uint256);

    /// @notice The account allowed to pause and unpause.
    /// @return The guardian.
    function guardian() external view returns (address);

    /// @notice Whether withdrawals are paused.
    /// @return True when paused.
    function paused() external view returns (bool);
}
