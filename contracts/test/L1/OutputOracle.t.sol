// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OutputOracle} from "../../src/L1/OutputOracle.sol";
import {IOutputOracle} from "../../src/interfaces/IOutputOracle.sol";
import {Types} from "../../src/libraries/Types.sol";
import {Rejecter} from "../helpers/Targets.sol";
import {Test} from "../utils/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice A challenger that tries to claim its credit twice in one go.
contract GreedyChallenger {
    IOutputOracle internal oracle;
    bytes public innerError;

    constructor(IOutputOracle _oracle) {
        oracle = _oracle;
    }

    function claim() external {
        oracle.claimCredit();
    }

    receive() external payable {
        try oracle.claimCredit() {}
        catch (bytes memory reason) {
            innerError = reason;
        }
    }
}

contract OutputOracleTest is Test {
    uint256 internal constant INTERVAL = 10;
    uint256 internal constant BLOCK_TIME = 2;
    uint256 internal constant START_BLOCK = 100;
    uint256 internal constant PERIOD = 1000;
    uint256 internal constant BOND = 1 ether;
    uint256 internal startTs;

    OutputOracle internal oracle;
    address internal owner;
    address internal proposer;
    address internal game;
    address internal challenger;
    address internal stranger;

    event OutputProposed(
        bytes32 indexed outputRoot, uint256 indexed l2OutputIndex, uint256 indexed l2BlockNumber, uint256 l1Timestamp
    );
    event OutputsDeleted(uint256 indexed prevNextOutputIndex, uint256 indexed newNextOutputIndex);
    event BondsAwarded(address indexed challenger, uint256 amount);
    event BondReclaimed(uint256 indexed l2OutputIndex, address indexed proposer, uint256 amount);
    event CreditClaimed(address indexed account, uint256 amount);
    event ProposerUpdated(address indexed previousProposer, address indexed newProposer);
    event DisputeGameUpdated(address indexed previousDisputeGame, address indexed newDisputeGame);

    function setUp() public {
        vm.warp(1_000_000);
        startTs = block.timestamp - 500;
        owner = makeAddr("owner");
        proposer = makeAddr("proposer");
        game = makeAddr("game");
        challenger = makeAddr("challenger");
        stranger = makeAddr("stranger");
        oracle = new OutputOracle(INTERVAL, BLOCK_TIME, START_BLOCK, startTs, PERIOD, BOND, owner, proposer, game);
        vm.deal(proposer, 100 ether);
    }

    /// Proposes the next output with root keccak(index); warps just enough for its L2 block to be past.
    function _propose() internal returns (uint256 index, bytes32 root) {
        index = oracle.nextOutputIndex();
        uint256 l2Block = oracle.nextBlockNumber();
        uint256 l2Ts = oracle.computeL2Timestamp(l2Block);
        if (block.timestamp <= l2Ts) vm.warp(l2Ts + 1);
        root = keccak256(abi.encode("root", index, block.timestamp));
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(root, l2Block, bytes32(0), 0);
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_setsParameters_succeeds() public view {
        vm.assertEq(oracle.SUBMISSION_INTERVAL(), INTERVAL);
        vm.assertEq(oracle.L2_BLOCK_TIME(), BLOCK_TIME);
        vm.assertEq(oracle.startingBlockNumber(), START_BLOCK);
        vm.assertEq(oracle.startingTimestamp(), startTs);
        vm.assertEq(oracle.FINALIZATION_PERIOD_SECONDS(), PERIOD);
        vm.assertEq(oracle.BOND(), BOND);
        vm.assertEq(oracle.owner(), owner);
        vm.assertEq(oracle.proposer(), proposer);
        vm.assertEq(oracle.disputeGame(), game);
        vm.assertEq(oracle.nextOutputIndex(), 0);
        vm.assertEq(oracle.latestBlockNumber(), START_BLOCK);
        vm.assertEq(oracle.nextBlockNumber(), START_BLOCK + INTERVAL);
    }

    function test_constructor_zeroDisputeGame_succeeds() public {
        OutputOracle o =
            new OutputOracle(INTERVAL, BLOCK_TIME, START_BLOCK, startTs, PERIOD, BOND, owner, proposer, address(0));
        vm.assertEq(o.disputeGame(), address(0));
    }

    function test_constructor_zeroInterval_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroInterval.selector);
        new OutputOracle(0, BLOCK_TIME, START_BLOCK, startTs, PERIOD, BOND, owner, proposer, game);
    }

    function test_constructor_zeroBlockTime_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroInterval.selector);
        new OutputOracle(INTERVAL, 0, START_BLOCK, startTs, PERIOD, BOND, owner, proposer, game);
    }

    function test_constructor_startInFuture_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOutputOracle.OutputOracle_StartingTimestampInFuture.selector, block.timestamp + 1, block.timestamp
            )
        );
        new OutputOracle(INTERVAL, BLOCK_TIME, START_BLOCK, block.timestamp + 1, PERIOD, BOND, owner, proposer, game);
    }

    function test_constructor_zeroProposer_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroAddress.selector);
        new OutputOracle(INTERVAL, BLOCK_TIME, START_BLOCK, startTs, PERIOD, BOND, owner, address(0), game);
    }

    function test_constructor_zeroOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new OutputOracle(INTERVAL, BLOCK_TIME, START_BLOCK, startTs, PERIOD, BOND, address(0), proposer, game);
    }

    // ---------------------------------------------------------------- proposeL2Output

    function test_proposeL2Output_first_succeeds() public {
        bytes32 root = keccak256("output 0");
        vm.expectEmit(address(oracle));
        emit OutputProposed(root, 0, START_BLOCK + INTERVAL, block.timestamp);
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(root, START_BLOCK + INTERVAL, bytes32(0), 0);

        Types.OutputProposal memory p = oracle.getL2Output(0);
        vm.assertEq(p.outputRoot, root);
        vm.assertEq(uint256(p.timestamp), block.timestamp);
        vm.assertEq(uint256(p.l2BlockNumber), START_BLOCK + INTERVAL);
        vm.assertEq(oracle.latestOutputIndex(), 0);
        vm.assertEq(oracle.nextOutputIndex(), 1);
        vm.assertEq(oracle.latestBlockNumber(), START_BLOCK + INTERVAL);
        vm.assertEq(oracle.nextBlockNumber(), START_BLOCK + 2 * INTERVAL);
        vm.assertEq(oracle.bondHolder(0), proposer);
        vm.assertEq(address(oracle).balance, BOND);
    }

    function test_proposeL2Output_second_succeeds() public {
        _propose();
        vm.warp(block.timestamp + 100);
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(keccak256("1"), START_BLOCK + 2 * INTERVAL, bytes32(0), 0);
        vm.assertEq(oracle.latestOutputIndex(), 1);
        vm.assertEq(address(oracle).balance, 2 * BOND);
    }

    function test_proposeL2Output_withL1BlockHash_succeeds() public {
        vm.roll(500);
        vm.setBlockhash(499, keccak256("l1 block 499"));
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL, keccak256("l1 block 499"), 499);
        vm.assertEq(oracle.nextOutputIndex(), 1);
    }

    function test_proposeL2Output_l1BlockHashMismatch_reverts() public {
        vm.roll(500);
        vm.setBlockhash(499, keccak256("l1 block 499"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOutputOracle.OutputOracle_L1BlockHashMismatch.selector, keccak256("fork"), keccak256("l1 block 499")
            )
        );
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL, keccak256("fork"), 499);
    }

    function test_proposeL2Output_notProposer_reverts() public {
        vm.deal(stranger, BOND);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NotProposer.selector, stranger));
        vm.prank(stranger);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL, bytes32(0), 0);
    }

    function test_proposeL2Output_noBond_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_WrongBond.selector, 0, BOND));
        vm.prank(proposer);
        oracle.proposeL2Output(keccak256("r"), START_BLOCK + INTERVAL, bytes32(0), 0);
    }

    function test_proposeL2Output_excessBond_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_WrongBond.selector, 2 * BOND, BOND));
        vm.prank(proposer);
        oracle.proposeL2Output{value: 2 * BOND}(keccak256("r"), START_BLOCK + INTERVAL, bytes32(0), 0);
    }

    function test_proposeL2Output_wrongBlockNumber_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IOutputOracle.OutputOracle_UnexpectedBlockNumber.selector,
                START_BLOCK + INTERVAL + 1,
                START_BLOCK + INTERVAL
            )
        );
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL + 1, bytes32(0), 0);
    }

    function test_proposeL2Output_blockInFuture_reverts() public {
        // Block start + 300 intervals has timestamp startTs + 6000 > now.
        for (uint256 i; i < 25; ++i) {
            _propose();
        }
        uint256 next = oracle.nextBlockNumber();
        uint256 l2Ts = oracle.computeL2Timestamp(next);
        vm.warp(l2Ts);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_BlockInFuture.selector, l2Ts, l2Ts));
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), next, bytes32(0), 0);
    }

    function test_proposeL2Output_emptyRoot_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_EmptyOutputRoot.selector);
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(bytes32(0), START_BLOCK + INTERVAL, bytes32(0), 0);
    }

    // ---------------------------------------------------------------- views

    function test_getL2Output_notFound_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, 0));
        oracle.getL2Output(0);
    }

    function test_latestOutputIndex_none_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_NoOutputs.selector);
        oracle.latestOutputIndex();
    }

    function test_bondHolder_notFound_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, 3));
        oracle.bondHolder(3);
    }

    function test_computeL2Timestamp_succeeds() public view {
        vm.assertEq(oracle.computeL2Timestamp(START_BLOCK), startTs);
        vm.assertEq(oracle.computeL2Timestamp(START_BLOCK + 7), startTs + 14);
    }

    function test_computeL2Timestamp_beforeStart_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IOutputOracle.OutputOracle_BlockBeforeStart.selector, START_BLOCK - 1, START_BLOCK)
        );
        oracle.computeL2Timestamp(START_BLOCK - 1);
    }

    function test_getL2OutputIndexAfter_succeeds() public {
        for (uint256 i; i < 3; ++i) {
            _propose();
        }
        // Outputs cover blocks 110, 120, 130.
        vm.assertEq(oracle.getL2OutputIndexAfter(0), 0);
        vm.assertEq(oracle.getL2OutputIndexAfter(110), 0);
        vm.assertEq(oracle.getL2OutputIndexAfter(111), 1);
        vm.assertEq(oracle.getL2OutputIndexAfter(120), 1);
        vm.assertEq(oracle.getL2OutputIndexAfter(121), 2);
        vm.assertEq(oracle.getL2OutputIndexAfter(130), 2);
        vm.assertEq(oracle.getL2OutputAfter(115).l2BlockNumber, 120);
        vm.assertEq(oracle.getL2OutputAfter(115).outputRoot, oracle.getL2Output(1).outputRoot);
    }

    function test_getL2OutputIndexAfter_beyondLatest_reverts() public {
        _propose();
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NoOutputAfter.selector, 111));
        oracle.getL2OutputIndexAfter(111);
    }

    function test_getL2OutputIndexAfter_noOutputs_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NoOutputAfter.selector, 0));
        oracle.getL2OutputIndexAfter(0);
    }

    function test_getL2OutputAfter_noOutputs_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NoOutputAfter.selector, 5));
        oracle.getL2OutputAfter(5);
    }

    function testFuzz_getL2OutputIndexAfter_matchesScan(uint8 outputs, uint256 l2Block) public {
        uint256 n = bound(outputs, 1, 20);
        for (uint256 i; i < n; ++i) {
            _propose();
        }
        l2Block = bound(l2Block, 0, oracle.latestBlockNumber());
        uint256 expected;
        while (oracle.getL2Output(expected).l2BlockNumber < l2Block) ++expected;
        vm.assertEq(oracle.getL2OutputIndexAfter(l2Block), expected);
    }

    function test_isFinalized_succeeds() public {
        (uint256 index,) = _propose();
        uint256 proposedAt = block.timestamp;
        vm.assertFalse(oracle.isFinalized(index));
        vm.warp(proposedAt + PERIOD);
        vm.assertFalse(oracle.isFinalized(index));
        vm.warp(proposedAt + PERIOD + 1);
        vm.assertTrue(oracle.isFinalized(index));
        vm.assertFalse(oracle.isFinalized(index + 1), "missing output is not finalized");
    }

    // ---------------------------------------------------------------- reclaimBond

    function test_reclaimBond_afterFinalization_succeeds() public {
        (uint256 index,) = _propose();
        vm.warp(block.timestamp + PERIOD + 1);
        uint256 before = proposer.balance;
        vm.expectEmit(address(oracle));
        emit BondReclaimed(index, proposer, BOND);
        vm.prank(stranger); // anyone may trigger it; the bond goes to the proposer
        oracle.reclaimBond(index);
        vm.assertEq(proposer.balance, before + BOND);
        vm.assertEq(oracle.bondHolder(index), address(0));
        vm.assertEq(address(oracle).balance, 0);
        // The output itself stays.
        vm.assertTrue(oracle.isFinalized(index));
    }

    function test_reclaimBond_twice_reverts() public {
        (uint256 index,) = _propose();
        vm.warp(block.timestamp + PERIOD + 1);
        oracle.reclaimBond(index);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_BondAlreadyReclaimed.selector, index));
        oracle.reclaimBond(index);
    }

    function test_reclaimBond_notFinalized_reverts() public {
        (uint256 index,) = _propose();
        uint256 proposedAt = block.timestamp;
        vm.warp(proposedAt + PERIOD);
        vm.expectRevert(
            abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFinalized.selector, index, proposedAt + PERIOD)
        );
        oracle.reclaimBond(index);
    }

    function test_reclaimBond_notFound_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, 0));
        oracle.reclaimBond(0);
    }

    function test_reclaimBond_proposerRejectsEth_reverts() public {
        Rejecter rejecter = new Rejecter();
        vm.prank(owner);
        oracle.setProposer(address(rejecter));
        vm.deal(address(rejecter), BOND);
        vm.prank(address(rejecter));
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL, bytes32(0), 0);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IOutputOracle.OutputOracle_TransferFailed.selector, address(rejecter), BOND)
        );
        oracle.reclaimBond(0);
    }

    function test_reclaimBond_afterProposerChange_paysOriginalProposer_succeeds() public {
        (uint256 index,) = _propose();
        address next = makeAddr("next proposer");
        vm.prank(owner);
        oracle.setProposer(next);
        vm.warp(block.timestamp + PERIOD + 1);
        uint256 before = proposer.balance;
        oracle.reclaimBond(index);
        vm.assertEq(proposer.balance, before + BOND);
        vm.assertEq(next.balance, 0);
    }

    // ---------------------------------------------------------------- invalidateOutput

    function test_invalidateOutput_deletesFromIndex_succeeds() public {
        for (uint256 i; i < 4; ++i) {
            _propose();
        }
        vm.expectEmit(address(oracle));
        emit OutputsDeleted(4, 1);
        vm.expectEmit(address(oracle));
        emit BondsAwarded(challenger, 3 * BOND);
        vm.prank(game);
        oracle.invalidateOutput(1, challenger);

        vm.assertEq(oracle.nextOutputIndex(), 1);
        vm.assertEq(oracle.latestOutputIndex(), 0);
        vm.assertEq(oracle.latestBlockNumber(), START_BLOCK + INTERVAL);
        vm.assertEq(oracle.nextBlockNumber(), START_BLOCK + 2 * INTERVAL);
        vm.assertEq(oracle.credit(challenger), 3 * BOND);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, 1));
        oracle.getL2Output(1);

        // The proposer can propose again at the deleted index, for the same L2 block.
        bytes32 fixedRoot = keccak256("corrected");
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(fixedRoot, START_BLOCK + 2 * INTERVAL, bytes32(0), 0);
        vm.assertEq(oracle.getL2Output(1).outputRoot, fixedRoot);
        vm.assertEq(oracle.bondHolder(1), proposer);
        // Balance = 2 live bonds + challenger's credit.
        vm.assertEq(address(oracle).balance, 2 * BOND + 3 * BOND);
    }

    function test_invalidateOutput_notDisputeGame_reverts() public {
        _propose();
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NotDisputeGame.selector, proposer));
        vm.prank(proposer);
        oracle.invalidateOutput(0, challenger);
    }

    function test_invalidateOutput_notFound_reverts() public {
        _propose();
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, 1));
        vm.prank(game);
        oracle.invalidateOutput(1, challenger);
    }

    function test_invalidateOutput_finalized_reverts() public {
        (uint256 index,) = _propose();
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputFinalized.selector, index));
        vm.prank(game);
        oracle.invalidateOutput(index, challenger);
    }

    function test_invalidateOutput_atLastMoment_succeeds() public {
        (uint256 index,) = _propose();
        vm.warp(block.timestamp + PERIOD);
        vm.prank(game);
        oracle.invalidateOutput(index, challenger);
        vm.assertEq(oracle.nextOutputIndex(), 0);
    }

    function test_invalidateOutput_zeroChallenger_reverts() public {
        _propose();
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroAddress.selector);
        vm.prank(game);
        oracle.invalidateOutput(0, address(0));
    }

    // ---------------------------------------------------------------- claimCredit

    function test_claimCredit_succeeds() public {
        _propose();
        _propose();
        vm.prank(game);
        oracle.invalidateOutput(0, challenger);
        vm.expectEmit(address(oracle));
        emit CreditClaimed(challenger, 2 * BOND);
        vm.prank(challenger);
        uint256 amount = oracle.claimCredit();
        vm.assertEq(amount, 2 * BOND);
        vm.assertEq(challenger.balance, 2 * BOND);
        vm.assertEq(oracle.credit(challenger), 0);
        vm.assertEq(address(oracle).balance, 0);
    }

    function test_claimCredit_nothing_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_NoCredit.selector, stranger));
        vm.prank(stranger);
        oracle.claimCredit();
    }

    function test_claimCredit_rejectingReceiver_reverts() public {
        Rejecter rejecter = new Rejecter();
        _propose();
        vm.prank(game);
        oracle.invalidateOutput(0, address(rejecter));
        vm.expectRevert(
            abi.encodeWithSelector(IOutputOracle.OutputOracle_TransferFailed.selector, address(rejecter), BOND)
        );
        vm.prank(address(rejecter));
        oracle.claimCredit();
        vm.assertEq(oracle.credit(address(rejecter)), BOND, "credit kept");
    }

    function test_claimCredit_reentrant_reverts() public {
        GreedyChallenger greedy = new GreedyChallenger(oracle);
        _propose();
        vm.prank(game);
        oracle.invalidateOutput(0, address(greedy));
        greedy.claim();
        vm.assertEq(address(greedy).balance, BOND, "paid once");
        vm.assertEq(bytes4(greedy.innerError()), ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
    }

    // ---------------------------------------------------------------- owner

    function test_setProposer_owner_succeeds() public {
        address next = makeAddr("next");
        vm.expectEmit(address(oracle));
        emit ProposerUpdated(proposer, next);
        vm.prank(owner);
        oracle.setProposer(next);
        vm.assertEq(oracle.proposer(), next);
        vm.deal(next, BOND);
        vm.prank(next);
        oracle.proposeL2Output{value: BOND}(keccak256("r"), START_BLOCK + INTERVAL, bytes32(0), 0);
        vm.assertEq(oracle.bondHolder(0), next);
    }

    function test_setProposer_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, proposer));
        vm.prank(proposer);
        oracle.setProposer(proposer);
    }

    function test_setProposer_zero_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroAddress.selector);
        vm.prank(owner);
        oracle.setProposer(address(0));
    }

    function test_setDisputeGame_owner_succeeds() public {
        address next = makeAddr("next game");
        vm.expectEmit(address(oracle));
        emit DisputeGameUpdated(game, next);
        vm.prank(owner);
        oracle.setDisputeGame(next);
        vm.assertEq(oracle.disputeGame(), next);
    }

    function test_setDisputeGame_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, game));
        vm.prank(game);
        oracle.setDisputeGame(game);
    }

    function test_setDisputeGame_zero_reverts() public {
        vm.expectRevert(IOutputOracle.OutputOracle_ZeroAddress.selector);
        vm.prank(owner);
        oracle.setDisputeGame(address(0));
    }

    // ---------------------------------------------------------------- bond accounting

    /// Whatever is proposed, invalidated and reclaimed, the oracle holds exactly the live bonds plus
    /// the unclaimed credit.
    function testFuzz_bonds_areConserved(uint8 proposals, uint8 invalidateAt, uint8 reclaimCount) public {
        uint256 n = bound(proposals, 1, 12);
        for (uint256 i; i < n; ++i) {
            _propose();
            vm.warp(block.timestamp + 200);
        }
        // Outputs older than PERIOD are final now; invalidate the first one that is not.
        uint256 firstOpen;
        while (firstOpen < n && oracle.isFinalized(firstOpen)) ++firstOpen;
        uint256 credited;
        if (firstOpen < n) {
            uint256 at = bound(invalidateAt, firstOpen, n - 1);
            vm.prank(game);
            oracle.invalidateOutput(at, challenger);
            credited = (n - at) * BOND;
        }
        uint256 reclaimed;
        uint256 r = bound(reclaimCount, 0, firstOpen);
        for (uint256 i; i < r; ++i) {
            oracle.reclaimBond(i);
            ++reclaimed;
        }
        uint256 live = oracle.nextOutputIndex() - reclaimed;
        vm.assertEq(address(oracle).balance, live * BOND + oracle.credit(challenger));
        vm.assertEq(oracle.credit(challenger), credited);
    }
}
