// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OutputOracle} from "../../src/L1/OutputOracle.sol";
import {Portal} from "../../src/L1/Portal.sol";
import {IOutputOracle} from "../../src/interfaces/IOutputOracle.sol";
import {IPortal} from "../../src/interfaces/IPortal.sol";
import {Hashing} from "../../src/libraries/Hashing.sol";
import {MerkleTrie} from "../../src/libraries/MerkleTrie.sol";
import {Types} from "../../src/libraries/Types.sol";
import {Fixture, FixtureWithdrawal} from "../helpers/Fixture.sol";
import {Recorder} from "../helpers/Targets.sol";
import {Test} from "../utils/Test.sol";

/// @notice The full prove -> finalize flow with REAL storage proofs of our L2ToL1MessagePasser, taken
///         from anvil by test/fixtures/generate.sh, against an output root built from that block's
///         state root, message passer storage root and block hash.
contract PortalRealProofsTest is Test {
    uint256 internal constant PERIOD = 7 days;
    address internal constant RECORDER = 0x000000000000000000000000000000000000bEEF;

    OutputOracle internal oracle;
    Portal internal portal;
    address internal proposer;
    address internal game;
    string internal json;
    Types.OutputRootProof internal outputProof;
    uint256 internal outputIndex;

    event WithdrawalProven(bytes32 indexed withdrawalHash, address indexed from, address indexed to);
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, bool success);

    function setUp() public {
        vm.warp(1_700_000_000);
        proposer = makeAddr("proposer");
        game = makeAddr("game");
        address owner = makeAddr("owner");
        oracle = new OutputOracle(1, 1, 0, block.timestamp - 100, PERIOD, 0, owner, proposer, game);
        portal = new Portal(IOutputOracle(address(oracle)), owner, makeAddr("guardian"));
        vm.etch(RECORDER, address(new Recorder()).code);

        json = Fixture.load();
        outputProof = Fixture.outputRootProof(json);
        vm.prank(proposer);
        oracle.proposeL2Output(Hashing.hashOutputRootProof(outputProof), 1, bytes32(0), 0);
        outputIndex = 0;

        uint256 total;
        for (uint256 i; i < Fixture.withdrawalCount(json); ++i) {
            total += Fixture.withdrawal(json, i).tx_.value;
        }
        vm.deal(address(portal), total);
    }

    function test_proveAndFinalize_realProofs_succeeds() public {
        uint256 n = Fixture.withdrawalCount(json);
        FixtureWithdrawal[] memory ws = new FixtureWithdrawal[](n);
        for (uint256 i; i < n; ++i) {
            ws[i] = Fixture.withdrawal(json, i);
            vm.expectEmit(address(portal));
            emit WithdrawalProven(ws[i].withdrawalHash, ws[i].tx_.sender, ws[i].tx_.target);
            portal.proveWithdrawalTransaction(ws[i].tx_, outputIndex, outputProof, ws[i].proof);
        }

        vm.warp(block.timestamp + PERIOD + 1);
        uint256[] memory before = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            before[i] = ws[i].tx_.target.balance;
        }
        for (uint256 i; i < n; ++i) {
            vm.expectEmit(address(portal));
            emit WithdrawalFinalized(ws[i].withdrawalHash, true);
            portal.finalizeWithdrawalTransaction(ws[i].tx_);
            vm.assertTrue(portal.finalizedWithdrawals(ws[i].withdrawalHash));
        }
        vm.assertEq(address(portal).balance, 0, "every wei paid out");

        // Withdrawal 0 called the recorder with record(42) and 1 ether, from account 0 on L2.
        Recorder recorder = Recorder(payable(RECORDER));
        vm.assertEq(recorder.recorded(), 42);
        vm.assertEq(recorder.received(), 1 ether);
        vm.assertEq(recorder.l2SenderSeen(), ws[0].tx_.sender);
        // EOA targets got their value (targets can repeat, so compare per distinct withdrawal).
        vm.assertEq(ws[1].tx_.target.balance, before[1] + 0.5 ether);
        vm.assertEq(ws[5].tx_.target.balance, before[5] + 3 ether);
    }

    function test_proveWithdrawalTransaction_tamperedProofNode_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 2);
        bytes32 expected = keccak256(w.proof[2]);
        w.proof[2][10] ^= 0xff;
        vm.expectRevert(
            abi.encodeWithSelector(MerkleTrie.MerkleTrie_InvalidNodeHash.selector, 2, expected, keccak256(w.proof[2]))
        );
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, outputProof, w.proof);
    }

    function test_proveWithdrawalTransaction_proofOfOtherSlot_reverts() public {
        FixtureWithdrawal memory a = Fixture.withdrawal(json, 0);
        FixtureWithdrawal memory b = Fixture.withdrawal(json, 3);
        vm.expectPartialRevert(MerkleTrie.MerkleTrie_InvalidNodeHash.selector);
        portal.proveWithdrawalTransaction(b.tx_, outputIndex, outputProof, a.proof);
    }

    function test_proveWithdrawalTransaction_alteredWithdrawal_reverts() public {
        // Claiming more value than was withdrawn changes the hash, hence the slot.
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 1);
        w.tx_.value += 1;
        vm.expectPartialRevert(MerkleTrie.MerkleTrie_InvalidNodeHash.selector);
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, outputProof, w.proof);
    }

    function test_proveWithdrawalTransaction_valueNotOne_reverts() public {
        FixtureWithdrawal memory w = Fixture.entry(json, ".wrongValue");
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalNotSent.selector, w.withdrawalHash, 2));
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, outputProof, w.proof);
    }

    function test_proveWithdrawalTransaction_neverSent_reverts() public {
        FixtureWithdrawal memory w = Fixture.entry(json, ".unsent");
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalNotSent.selector, w.withdrawalHash, 0));
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, outputProof, w.proof);
    }

    function test_proveWithdrawalTransaction_wrongOutputRoot_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        Types.OutputRootProof memory bad = outputProof;
        bad.latestBlockhash = keccak256("another block");
        vm.expectRevert(
            abi.encodeWithSelector(
                IPortal.Portal_InvalidOutputRootProof.selector,
                Hashing.hashOutputRootProof(bad),
                Hashing.hashOutputRootProof(outputProof)
            )
        );
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, bad, w.proof);
    }

    function test_proveWithdrawalTransaction_outputWithOtherStorageRoot_reverts() public {
        // An output whose preimage names another storage root: the proof's root node does not match it.
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 0);
        Types.OutputRootProof memory other = outputProof;
        other.messagePasserStorageRoot = keccak256("other storage");
        vm.warp(block.timestamp + 10);
        vm.prank(proposer);
        oracle.proposeL2Output(Hashing.hashOutputRootProof(other), 2, bytes32(0), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                MerkleTrie.MerkleTrie_InvalidNodeHash.selector, 0, other.messagePasserStorageRoot, keccak256(w.proof[0])
            )
        );
        portal.proveWithdrawalTransaction(w.tx_, 1, other, w.proof);
    }

    function test_finalizeWithdrawalTransaction_realProofTwice_reverts() public {
        FixtureWithdrawal memory w = Fixture.withdrawal(json, 4);
        portal.proveWithdrawalTransaction(w.tx_, outputIndex, outputProof, w.proof);
        vm.warp(block.timestamp + PERIOD + 1);
        portal.finalizeWithdrawalTransaction(w.tx_);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalAlreadyFinalized.selector, w.withdrawalHash));
        portal.finalizeWithdrawalTransaction(w.tx_);
    }
}
