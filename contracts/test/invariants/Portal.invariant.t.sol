// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OutputOracle} from "../../src/L1/OutputOracle.sol";
import {Portal} from "../../src/L1/Portal.sol";
import {IOutputOracle} from "../../src/interfaces/IOutputOracle.sol";
import {IPortal} from "../../src/interfaces/IPortal.sol";
import {Hashing} from "../../src/libraries/Hashing.sol";
import {Types} from "../../src/libraries/Types.sol";
import {ReentrantFinalizer, Rejecter} from "../helpers/Targets.sol";
import {TrieHelper} from "../helpers/TrieHelper.sol";
import {FuzzSelector, Test, Vm} from "../utils/Test.sol";

/// @notice Drives the Portal like a mix of users, a proposer and a dispute game would: deposits,
///         withdrawals proven against freshly proposed outputs, finalizations (timely, early, repeated,
///         reentrant), output invalidations, re-proofs, pauses and time passing. It keeps ghost
///         accounts of what the portal should hold and how often each withdrawal was paid.
contract PortalHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant VERSION_1 = uint256(1) << 240;

    Portal public immutable portal;
    OutputOracle public immutable oracle;
    address public immutable guardian;
    Rejecter public immutable rejecter;
    ReentrantFinalizer public immutable reentrant;

    address[] internal actors;
    Types.WithdrawalTransaction[] internal withdrawals;
    bytes32[] public hashes;
    mapping(bytes32 => uint256) public finalizeCount;

    uint256 public ghostDeposited;
    uint256 public ghostPaidOut;
    uint256 public finalizations;
    uint256 public failedCalls;
    uint256 internal nonce;

    constructor(Portal _portal, OutputOracle _oracle, address _guardian) {
        portal = _portal;
        oracle = _oracle;
        guardian = _guardian;
        rejecter = new Rejecter();
        reentrant = new ReentrantFinalizer();
        for (uint256 i; i < 4; ++i) {
            actors.push(address(uint160(0xA11CE0 + i)));
        }
    }

    function hashCount() external view returns (uint256) {
        return hashes.length;
    }

    // ---------------------------------------------------------------- actions

    function deposit(uint256 actorSeed, uint256 amount, bool viaReceive) external {
        address actor = actors[actorSeed % actors.length];
        amount = amount % 50 ether;
        vm.deal(actor, amount);
        vm.prank(actor, actor);
        if (viaReceive) {
            (bool ok,) = address(portal).call{value: amount}("");
            require(ok, "receive failed");
        } else {
            portal.depositTransaction{value: amount}(actor, 0, 100_000, false, "");
        }
        ghostDeposited += amount;
    }

    /// A withdrawal of up to 60 ether (more than the portal may hold: then its call fails) to an EOA,
    /// a rejecting contract or a reentrant one; an output containing it is proposed and it is proven.
    function withdrawAndProve(uint256 actorSeed, uint256 value, uint8 targetKind) external {
        address target = targetKind % 3 == 0
            ? actors[(actorSeed % actors.length + 1) % actors.length]
            : targetKind % 3 == 1 ? address(rejecter) : address(reentrant);
        Types.WithdrawalTransaction memory w = Types.WithdrawalTransaction({
            nonce: VERSION_1 | nonce++,
            sender: actors[actorSeed % actors.length],
            target: target,
            value: value % 60 ether,
            gasLimit: 200_000,
            data: ""
        });
        bytes32 hash = Hashing.hashWithdrawal(w);
        _proveInNewOutput(w, hash);
        withdrawals.push(w);
        hashes.push(hash);
    }

    function finalize(uint256 seed, bool waitFirst) external {
        if (withdrawals.length == 0) return;
        uint256 i = seed % withdrawals.length;
        Types.WithdrawalTransaction memory w = withdrawals[i];
        if (waitFirst) vm.warp(block.timestamp + portal.FINALIZATION_PERIOD_SECONDS() + 1);
        if (w.target == address(reentrant)) {
            // Arm it to try the same withdrawal, or another one, again from inside the call.
            reentrant.arm(withdrawals[(seed >> 128) % withdrawals.length]);
        }
        uint256 balanceBefore = address(portal).balance;
        vm.recordLogs();
        try portal.finalizeWithdrawalTransaction(w) {
            ++finalizeCount[hashes[i]];
            Vm.Log[] memory logs = vm.getRecordedLogs();
            bool success = abi.decode(logs[logs.length - 1].data, (bool));
            if (success) ghostPaidOut += w.value;
            else ++failedCalls;
            ++finalizations;
            // The portal pays exactly the value of a successful call, nothing otherwise.
            require(balanceBefore - address(portal).balance == (success ? w.value : 0), "balance delta");
        } catch {}
    }

    /// The dispute game deletes a recent output (and all after it).
    function invalidate(uint256 seed) external {
        uint256 next = oracle.nextOutputIndex();
        if (next == 0) return;
        uint256 index = next - 1 - (seed % (next < 3 ? next : 3));
        if (oracle.isFinalized(index)) return;
        vm.prank(oracle.disputeGame());
        oracle.invalidateOutput(index, address(this));
    }

    /// Proves a known withdrawal again in a new output (allowed only if its old proof is dead).
    function reprove(uint256 seed) external {
        if (withdrawals.length == 0) return;
        uint256 i = seed % withdrawals.length;
        _proveInNewOutput(withdrawals[i], hashes[i]);
    }

    function togglePause(bool on) external {
        vm.prank(guardian);
        if (on) {
            try portal.pause() {} catch {}
        } else {
            try portal.unpause() {} catch {}
        }
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + secs % 10 days);
    }

    // ---------------------------------------------------------------- helpers

    function _proveInNewOutput(Types.WithdrawalTransaction memory w, bytes32 hash) internal {
        (bytes32 storageRoot, bytes[] memory proof) = TrieHelper.singleLeaf(Hashing.withdrawalStorageSlot(hash), 1);
        Types.OutputRootProof memory p =
            Types.OutputRootProof(bytes32(0), keccak256(abi.encode(hash, block.timestamp)), storageRoot, hash);
        uint256 l2Block = oracle.nextBlockNumber();
        uint256 l2Ts = oracle.computeL2Timestamp(l2Block);
        if (block.timestamp <= l2Ts) vm.warp(l2Ts + 1);
        uint256 index = oracle.nextOutputIndex();
        oracle.proposeL2Output(Hashing.hashOutputRootProof(p), l2Block, bytes32(0), 0);
        try portal.proveWithdrawalTransaction(w, index, p, proof) {} catch {}
    }

    receive() external payable {}
}

/// @notice Invariants of the Portal under the handler above.
contract PortalInvariantTest is Test {
    Portal internal portal;
    OutputOracle internal oracle;
    PortalHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        address owner = address(0x0A);
        address guardian = address(0x6A);
        // The handler is proposer (bond 0) and dispute game.
        oracle = new OutputOracle(1, 1, 0, block.timestamp, 1 days, 0, owner, address(1), address(1));
        portal = new Portal(IOutputOracle(address(oracle)), owner, guardian);
        handler = new PortalHandler(portal, oracle, guardian);
        vm.startPrank(owner);
        oracle.setProposer(address(handler));
        oracle.setDisputeGame(address(handler));
        vm.stopPrank();

        bytes4[] memory selectors = new bytes4[](7);
        selectors[0] = PortalHandler.deposit.selector;
        selectors[1] = PortalHandler.withdrawAndProve.selector;
        selectors[2] = PortalHandler.finalize.selector;
        selectors[3] = PortalHandler.invalidate.selector;
        selectors[4] = PortalHandler.reprove.selector;
        selectors[5] = PortalHandler.togglePause.selector;
        selectors[6] = PortalHandler.warp.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    /// A withdrawal is finalized at most once: no sequence of proofs, re-proofs, invalidations,
    /// pauses or reentrant calls gets the portal to execute the same withdrawal hash twice, and the
    /// portal's `finalizedWithdrawals` agrees with the number of successful finalizations.
    function invariant_withdrawalFinalizedAtMostOnce() public view {
        uint256 n = handler.hashCount();
        for (uint256 i; i < n; ++i) {
            bytes32 hash = handler.hashes(i);
            uint256 count = handler.finalizeCount(hash);
            vm.assertLe(count, 1, "finalized twice");
            vm.assertEq(portal.finalizedWithdrawals(hash), count == 1);
        }
    }

    /// ETH is conserved: the portal holds exactly what was deposited minus the values of the
    /// withdrawals whose call succeeded (a failed call leaves its value in the portal).
    function invariant_ethConservation() public view {
        vm.assertEq(address(portal).balance, handler.ghostDeposited() - handler.ghostPaidOut());
    }

    /// Outside a finalization the L2 sender reads as OP's default.
    function invariant_l2SenderIsDefault() public view {
        vm.assertEq(portal.l2Sender(), portal.DEFAULT_L2_SENDER());
    }
}
