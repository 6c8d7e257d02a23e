// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOutputOracle} from "../interfaces/IOutputOracle.sol";
import {IPortal} from "../interfaces/IPortal.sol";
import {AddressAlias} from "../libraries/AddressAlias.sol";
import {Hashing} from "../libraries/Hashing.sol";
import {MerkleTrie} from "../libraries/MerkleTrie.sol";
import {Types} from "../libraries/Types.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title Portal
/// @notice The L1 end of the bridge (OP's OptimismPortal of the L2OutputOracle era).
///         Deposits: {depositTransaction} emits OP's `TransactionDeposited`, which the L2 turns into
///         a type-0x7E deposit transaction; `msg.value` stays here and is minted on L2.
///         Withdrawals: {proveWithdrawalTransaction} checks an output root's preimage and a storage
///         proof that the L2ToL1MessagePasser recorded the withdrawal; after the finalization
///         period {finalizeWithdrawalTransaction} executes it, once.
/// @dev Roles: owner (sets the guardian) and guardian (pauses withdrawals; deposits stay open so
///      that users can always reach L2, as in OP). During a withdrawal call `l2Sender()` is the
///      withdrawal's L2 sender; it lives in transient storage and doubles as the reentrancy lock
///      of {finalizeWithdrawalTransaction}.
contract Portal is IPortal, Ownable2Step {
    /// @notice Version of the `TransactionDeposited` opaqueData encoding.
    uint256 public constant DEPOSIT_VERSION = 0;
    /// @notice `l2Sender()` outside a withdrawal call (OP's value).
    address public constant DEFAULT_L2_SENDER = 0x000000000000000000000000000000000000dEaD;
    /// @notice Gas limit of the deposit made by sending ETH to the portal (OP's value).
    uint64 public constant RECEIVE_DEFAULT_GAS_LIMIT = 100_000;
    /// @notice Largest deposit calldata (OP's value).
    uint256 public constant MAX_DEPOSIT_DATA_SIZE = 120_000;
    /// @notice Largest deposit gas limit: a deposit must fit in an L2 block (OP's resource limit).
    uint64 public constant MAX_DEPOSIT_GAS_LIMIT = 20_000_000;
    /// @notice Most L2 gas the deposits of one L1 block may buy together (OP's `maxResourceLimit`),
    ///         so that an epoch's deposits always fit the first L2 block of the epoch.
    uint64 public constant MAX_RESOURCE_LIMIT = 20_000_000;
    /// @notice Target deposit gas per L1 block is `MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER`.
    uint64 public constant ELASTICITY_MULTIPLIER = 10;
    /// @notice The deposit gas price moves by at most 1/8 per L1 block (as EIP-1559's base fee).
    uint64 public constant BASE_FEE_MAX_CHANGE_DENOMINATOR = 8;
    /// @notice Floor of the deposit gas price (OP's `minimumBaseFee`).
    uint128 public constant MINIMUM_BASE_FEE = 1 gwei;
    /// @dev Empty L1 blocks applied one by one when the market catches up: past this many the price
    ///      is at its floor from any start (2^128 · (7/8)^k < 1 gwei for k ≥ 440).
    uint256 internal constant MAX_DECAY_STEPS = 512;
    /// @notice `tx.origin` of gas estimation calls (OP's convention): a failing withdrawal call then
    ///         reverts so that estimation finds the gas that makes it succeed.
    address internal constant ESTIMATION_ADDRESS = address(1);
    /// @dev Gas kept on top of the withdrawal's gas limit for the CALL itself (cold access, value
    ///      transfer, account creation) and the work after it (OP's SafeCall margin).
    uint256 internal constant CALL_GAS_MARGIN = 40_000;
    /// @dev Transient slot of the L2 sender: keccak256("temporis.portal.l2sender") - 1.
    bytes32 internal constant L2_SENDER_SLOT = 0x5cdf0fa9f66c44f50fd96ae56da31c58a52bcb81ff8c83cf520655c0bdc9ff89;

    /// @inheritdoc IPortal
    IOutputOracle public immutable L2_ORACLE;
    /// @inheritdoc IPortal
    uint256 public immutable FINALIZATION_PERIOD_SECONDS;

    /// @inheritdoc IPortal
    address public guardian;
    /// @inheritdoc IPortal
    bool public paused;

    /// @inheritdoc IPortal
    mapping(bytes32 withdrawalHash => bool) public finalizedWithdrawals;

    /// @inheritdoc IPortal
    mapping(bytes32 withdrawalHash => Types.ProvenWithdrawal) public provenWithdrawals;

    /// @dev The deposit gas market, packed in one slot (see {params}).
    ResourceParams internal _params;

    /// @dev OP's `ResourceMetering.ResourceParams`.
    struct ResourceParams {
        uint128 prevBaseFee;
        uint64 prevBoughtGas;
        uint64 prevBlockNum;
    }

    /// @param _oracle   The OutputOracle (its finalization period is copied here).
    /// @param _owner    Owner (sets the guardian).
    /// @param _guardian Account allowed to pause withdrawals.
    constructor(IOutputOracle _oracle, address _owner, address _guardian) Ownable(_owner) {
        if (address(_oracle) == address(0) || _guardian == address(0)) revert Portal_ZeroAddress();
        L2_ORACLE = _oracle;
        FINALIZATION_PERIOD_SECONDS = _oracle.FINALIZATION_PERIOD_SECONDS();
        guardian = _guardian;
        emit GuardianUpdated(address(0), _guardian);
        _params = ResourceParams({
            prevBaseFee: MINIMUM_BASE_FEE,
            prevBoughtGas: 0,
            // forge-lint: disable-next-line(unsafe-typecast)
            prevBlockNum: uint64(block.number)
        });
    }

    modifier whenNotPaused() {
        if (paused) revert Portal_Paused();
        _;
    }

    // ------------------------------------------------------------------ deposits

    /// @notice Sending ETH deposits it to the sender's (aliased, for a contract) L2 address, like
    ///         `depositTransaction(msg.sender, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, false, "")`.
    /// @dev Emits {TransactionDeposited}.
    receive() external payable {
        uint256 initialGas = gasleft();
        // The checks of {depositTransaction} hold for these arguments (no data, 100k gas, a call).
        _meter(RECEIVE_DEFAULT_GAS_LIMIT, initialGas);
        emit TransactionDeposited(
            _depositor(),
            msg.sender,
            DEPOSIT_VERSION,
            abi.encodePacked(msg.value, msg.value, RECEIVE_DEFAULT_GAS_LIMIT, false)
        );
    }

    /// @inheritdoc IPortal
    function depositTransaction(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data)
        external
        payable
    {
        _deposit(to, value, gasLimit, isCreation, data);
    }

    /// @inheritdoc IPortal
    function minimumGasLimit(uint64 byteCount) public pure returns (uint64) {
        return byteCount * 16 + 21_000;
    }

    function _deposit(address to, uint256 value, uint64 gasLimit, bool isCreation, bytes calldata data) private {
        uint256 initialGas = gasleft();
        if (isCreation && to != address(0)) revert Portal_CreationWithNonZeroTarget(to);
        if (data.length > MAX_DEPOSIT_DATA_SIZE) revert Portal_CalldataTooLarge(data.length, MAX_DEPOSIT_DATA_SIZE);
        // No overflow: data.length <= 120_000.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 minimum = minimumGasLimit(uint64(data.length));
        if (gasLimit < minimum) revert Portal_GasLimitTooLow(gasLimit, minimum);
        if (gasLimit > MAX_DEPOSIT_GAS_LIMIT) revert Portal_GasLimitTooHigh(gasLimit, MAX_DEPOSIT_GAS_LIMIT);
        _meter(gasLimit, initialGas);

        emit TransactionDeposited(
            _depositor(), to, DEPOSIT_VERSION, abi.encodePacked(msg.value, value, gasLimit, isCreation, data)
        );
    }

    /// @inheritdoc IPortal
    function params() external view returns (uint128 prevBaseFee, uint64 prevBoughtGas, uint64 prevBlockNum) {
        ResourceParams memory p = _params;
        return (p.prevBaseFee, p.prevBoughtGas, p.prevBlockNum);
    }

    /// @dev OP's resource metering: buys `amount` of L2 gas for the deposit in this L1 block.
    ///      On the first deposit of a block the price moves as EIP-1559's base fee does, from the
    ///      gas bought in the last block with deposits against a target of
    ///      `MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER`, by at most 1/8, then falls by 1/8 for
    ///      each L1 block without deposits since, never below `MINIMUM_BASE_FEE`. The block's
    ///      deposits may buy `MAX_RESOURCE_LIMIT` in all. The depositor pays `amount · price` wei
    ///      as L1 gas at the block's base fee (at least 1 gwei): the gas the deposit has used
    ///      since `initialGas` counts, the rest is burned (OP's `metered` modifier).
    function _meter(uint64 amount, uint256 initialGas) private {
        ResourceParams memory p = _params;
        uint256 blockDiff = block.number - p.prevBlockNum;
        if (blockDiff > 0) {
            int256 target = int256(uint256(MAX_RESOURCE_LIMIT / ELASTICITY_MULTIPLIER));
            int256 fee = int256(uint256(p.prevBaseFee));
            // No overflow: |fee · (bought - target)| < 2^128 · 2^64, and the sum is clamped to
            // [MINIMUM_BASE_FEE, type(uint128).max] below.
            int256 delta = (fee * (int256(uint256(p.prevBoughtGas)) - target))
                / (target * int256(uint256(BASE_FEE_MAX_CHANGE_DENOMINATOR)));
            uint256 next = _clamp(fee + delta);
            for (uint256 i = 1; i < blockDiff && i <= MAX_DECAY_STEPS && next > MINIMUM_BASE_FEE; ++i) {
                next -= next / BASE_FEE_MAX_CHANGE_DENOMINATOR;
                if (next < MINIMUM_BASE_FEE) next = MINIMUM_BASE_FEE;
            }
            // forge-lint: disable-next-line(unsafe-typecast)
            p = ResourceParams({prevBaseFee: uint128(next), prevBoughtGas: 0, prevBlockNum: uint64(block.number)});
        }
        uint64 remaining = MAX_RESOURCE_LIMIT - p.prevBoughtGas;
        if (amount > remaining) revert Portal_OutOfDepositGas(amount, remaining);
        p.prevBoughtGas += amount;
        _params = p;

        uint256 l1BaseFee = block.basefee < 1 gwei ? 1 gwei : block.basefee;
        uint256 gasCost = uint256(amount) * p.prevBaseFee / l1BaseFee;
        uint256 used = initialGas - gasleft();
        if (gasCost > used) _burnGas(gasCost - used);
    }

    /// @dev `value` clamped to `[MINIMUM_BASE_FEE, type(uint128).max]`.
    function _clamp(int256 value) private pure returns (uint256) {
        if (value < int256(uint256(MINIMUM_BASE_FEE))) return MINIMUM_BASE_FEE;
        if (value > int256(uint256(type(uint128).max))) return type(uint128).max;
        return uint256(value);
    }

    /// @dev Spends at least `amount` gas doing nothing (OP's `Burn.gas`).
    function _burnGas(uint256 amount) private view {
        uint256 start = gasleft();
        while (start - gasleft() < amount) {}
    }

    /// @dev The L2 `from` of a deposit: the caller, aliased unless it is an EOA.
    function _depositor() private view returns (address) {
        return _isSenderEOA() ? msg.sender : AddressAlias.applyL1ToL2Alias(msg.sender);
    }

    /// @dev OP's rule: an EOA is `tx.origin` itself, or an EIP-7702 delegated EOA (code
    ///      `0xef0100 ‖ address`, 23 bytes). Anything else (a contract, or a contract's
    ///      constructor) is aliased.
    function _isSenderEOA() private view returns (bool eoa) {
        if (msg.sender == tx.origin) return true;
        if (msg.sender.code.length != 23) return false;
        assembly ("memory-safe") {
            extcodecopy(caller(), 0, 0, 3)
            eoa := eq(shr(232, mload(0)), 0xef0100)
        }
    }

    // ------------------------------------------------------------------ withdrawals

    /// @inheritdoc IPortal
    function proveWithdrawalTransaction(
        Types.WithdrawalTransaction calldata withdrawal,
        uint256 l2OutputIndex,
        Types.OutputRootProof calldata outputRootProof,
        bytes[] calldata withdrawalProof
    ) external whenNotPaused {
        if (withdrawal.target == address(this)) revert Portal_TargetIsPortal();
        if (outputRootProof.version != Hashing.OUTPUT_VERSION_V0) {
            revert Portal_UnsupportedOutputVersion(outputRootProof.version);
        }
        bytes32 outputRoot = L2_ORACLE.getL2Output(l2OutputIndex).outputRoot;
        bytes32 computed = Hashing.hashOutputRootProof(outputRootProof);
        if (computed != outputRoot) revert Portal_InvalidOutputRootProof(computed, outputRoot);

        bytes32 withdrawalHash = Hashing.hashWithdrawal(withdrawal);
        Types.ProvenWithdrawal storage proven = provenWithdrawals[withdrawalHash];
        // A withdrawal may be proven again only if its proof can no longer finalize: the output it
        // was proven against was deleted by the dispute game (and maybe proposed anew). This is
        // the negation of the output check in {finalizeWithdrawalTransaction}.
        if (proven.timestamp != 0) {
            uint256 provenIndex = proven.l2OutputIndex;
            if (provenIndex < L2_ORACLE.nextOutputIndex()) {
                Types.OutputProposal memory current = L2_ORACLE.getL2Output(provenIndex);
                if (current.outputRoot == proven.outputRoot && current.timestamp <= proven.timestamp) {
                    revert Portal_WithdrawalAlreadyProven(withdrawalHash);
                }
            }
        }

        uint256 stored = MerkleTrie.getStorageValue(
            Hashing.withdrawalStorageSlot(withdrawalHash), withdrawalProof, outputRootProof.messagePasserStorageRoot
        );
        if (stored != 1) revert Portal_WithdrawalNotSent(withdrawalHash, stored);

        // Both fit in 128 bits: a timestamp, and an index that exists in the oracle (below 2^64).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 provenAt = uint128(block.timestamp);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 index = uint128(l2OutputIndex);
        provenWithdrawals[withdrawalHash] =
            Types.ProvenWithdrawal({outputRoot: outputRoot, timestamp: provenAt, l2OutputIndex: index});
        emit WithdrawalProven(withdrawalHash, withdrawal.sender, withdrawal.target);
    }

    /// @inheritdoc IPortal
    function finalizeWithdrawalTransaction(Types.WithdrawalTransaction calldata withdrawal) external whenNotPaused {
        (bool inProgress,) = _loadL2Sender();
        if (inProgress) revert Portal_FinalizationInProgress();
        if (withdrawal.target == address(this)) revert Portal_TargetIsPortal();

        bytes32 withdrawalHash = Hashing.hashWithdrawal(withdrawal);
        Types.ProvenWithdrawal memory proven = provenWithdrawals[withdrawalHash];
        if (proven.timestamp == 0) revert Portal_WithdrawalNotProven(withdrawalHash);
        uint256 finalizedAfter = proven.timestamp + FINALIZATION_PERIOD_SECONDS;
        if (block.timestamp <= finalizedAfter) revert Portal_ProofNotFinalized(proven.timestamp, finalizedAfter);

        // The output must still be the one proven against. It was proposed no later than the proof,
        // so it is finalized too (its period ended no later than the proof's).
        Types.OutputProposal memory output = L2_ORACLE.getL2Output(proven.l2OutputIndex);
        if (output.outputRoot != proven.outputRoot || output.timestamp > proven.timestamp) {
            revert Portal_OutputRootChanged(proven.outputRoot, output.outputRoot);
        }
        if (finalizedWithdrawals[withdrawalHash]) revert Portal_WithdrawalAlreadyFinalized(withdrawalHash);

        finalizedWithdrawals[withdrawalHash] = true;
        _setL2Sender(withdrawal.sender);
        bool success = _callWithMinGas(withdrawal.target, withdrawal.gasLimit, withdrawal.value, withdrawal.data);
        _clearL2Sender();

        emit WithdrawalFinalized(withdrawalHash, success);
        if (!success && tx.origin == ESTIMATION_ADDRESS) revert Portal_GasEstimation();
    }

    /// @inheritdoc IPortal
    function l2Sender() external view returns (address) {
        (bool inProgress, address sender) = _loadL2Sender();
        return inProgress ? sender : DEFAULT_L2_SENDER;
    }

    /// @dev Calls `target` with all remaining gas after checking that this is at least `gasLimit`
    ///      (all but 1/64 of the gas is forwarded, EIP-150), so a relayer cannot make a withdrawal
    ///      fail by giving too little gas: the whole transaction reverts instead. Return data is not
    ///      copied (no return-bomb).
    function _callWithMinGas(address target, uint256 gasLimit, uint256 value, bytes calldata data)
        private
        returns (bool success)
    {
        // Copy the calldata to memory BEFORE measuring gas: the copy's memory expansion grows
        // quadratically with the data size and, done after the check, could eat the margin, so
        // that a relayer could starve the target of a large-data withdrawal and burn it for good.
        bytes memory payload = data;
        // gas * 63 >= gasLimit * 64 + CALL_GAS_MARGIN * 63; limits above 2^64 can never be met.
        if (gasLimit > type(uint64).max || gasleft() * 63 < gasLimit * 64 + CALL_GAS_MARGIN * 63) {
            revert Portal_InsufficientGas(gasleft(), gasLimit);
        }
        assembly ("memory-safe") {
            success := call(gas(), target, value, add(payload, 32), mload(payload), 0, 0)
        }
    }

    /// @dev The transient word holds `1 << 160 | sender` during a withdrawal call and 0 otherwise, so
    ///      that "in progress" does not depend on the sender being non-zero.
    function _loadL2Sender() private view returns (bool inProgress, address sender) {
        bytes32 slot = L2_SENDER_SLOT;
        uint256 word;
        assembly ("memory-safe") {
            word := tload(slot)
        }
        inProgress = word != 0;
        sender = address(uint160(word));
    }

    function _setL2Sender(address sender) private {
        bytes32 slot = L2_SENDER_SLOT;
        assembly ("memory-safe") {
            tstore(slot, or(shl(160, 1), sender))
        }
    }

    function _clearL2Sender() private {
        bytes32 slot = L2_SENDER_SLOT;
        assembly ("memory-safe") {
            tstore(slot, 0)
        }
    }

    // ------------------------------------------------------------------ guardian / owner

    /// @inheritdoc IPortal
    function pause() external {
        if (msg.sender != guardian) revert Portal_NotGuardian(msg.sender);
        if (paused) revert Portal_Paused();
        paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IPortal
    function unpause() external {
        if (msg.sender != guardian) revert Portal_NotGuardian(msg.sender);
        if (!paused) revert Portal_NotPaused();
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @inheritdoc IPortal
    function setGuardian(address newGuardian) external onlyOwner {
        if (newGuardian == address(0)) revert Portal_ZeroAddress();
        emit GuardianUpdated(guardian, newGuardian);
        guardian = newGuardian;
    }
}
