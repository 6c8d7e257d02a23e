// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchInbox} from "../../src/L1/BatchInbox.sol";
import {IBatchInbox} from "../../src/interfaces/IBatchInbox.sol";
import {Test} from "../utils/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract BatchInboxTest is Test {
    BatchInbox internal inbox;
    address internal owner;
    address internal batcher;
    address internal guardian;
    address internal stranger;

    event BatchPosted(uint256 indexed batchIndex, bytes payload);
    event BatcherUpdated(address indexed previousBatcher, address indexed newBatcher);
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);
    event Paused(address account);
    event Unpaused(address account);

    function setUp() public {
        owner = makeAddr("owner");
        batcher = makeAddr("batcher");
        guardian = makeAddr("guardian");
        stranger = makeAddr("stranger");
        inbox = new BatchInbox(owner, batcher, guardian);
    }

    function _keccakPayload(bytes memory data) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(0x01), uint8(0x00), keccak256(data));
    }

    // ---------------------------------------------------------------- constructor

    function test_constructor_setsRoles_succeeds() public view {
        vm.assertEq(inbox.owner(), owner);
        vm.assertEq(inbox.batcher(), batcher);
        vm.assertEq(inbox.guardian(), guardian);
        vm.assertFalse(inbox.paused());
        vm.assertEq(inbox.batchCount(), 0);
    }

    function test_constructor_zeroBatcher_reverts() public {
        vm.expectRevert(IBatchInbox.BatchInbox_ZeroAddress.selector);
        new BatchInbox(owner, address(0), guardian);
    }

    function test_constructor_zeroGuardian_reverts() public {
        vm.expectRevert(IBatchInbox.BatchInbox_ZeroAddress.selector);
        new BatchInbox(owner, batcher, address(0));
    }

    function test_constructor_zeroOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new BatchInbox(address(0), batcher, guardian);
    }

    // ---------------------------------------------------------------- postBatch

    function test_postBatch_keccakCommitment_succeeds() public {
        bytes memory payload = _keccakPayload("batch 0");
        vm.expectEmit(address(inbox));
        emit BatchPosted(0, payload);
        vm.prank(batcher);
        uint256 index = inbox.postBatch(payload);
        vm.assertEq(index, 0);
        vm.assertEq(inbox.batchCount(), 1);
        vm.assertEq(inbox.batchHash(0), keccak256(payload));
    }

    function test_postBatch_indicesIncrease_succeeds() public {
        vm.startPrank(batcher);
        inbox.postBatch(_keccakPayload("a"));
        bytes memory second = _keccakPayload("b");
        vm.expectEmit(address(inbox));
        emit BatchPosted(1, second);
        uint256 index = inbox.postBatch(second);
        vm.stopPrank();
        vm.assertEq(index, 1);
        vm.assertEq(inbox.batchCount(), 2);
        vm.assertEq(inbox.batchHash(1), keccak256(second));
        vm.assertNotEq(inbox.batchHash(0), inbox.batchHash(1));
    }

    function test_postBatch_genericCommitment_succeeds() public {
        // 0x01 ‖ generic ‖ da_layer 0x0c ‖ 40 bytes of DA payload
        bytes memory payload = abi.encodePacked(uint8(0x01), uint8(0x01), uint8(0x0c), keccak256("blob"), bytes8(0));
        vm.prank(batcher);
        inbox.postBatch(payload);
        vm.assertEq(inbox.batchHash(0), keccak256(payload));
    }

    function test_postBatch_shortestGenericCommitment_succeeds() public {
        vm.prank(batcher);
        inbox.postBatch(hex"01010001");
        vm.assertEq(inbox.batchCount(), 1);
    }

    function test_postBatch_notBatcher_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_NotBatcher.selector, stranger));
        vm.prank(stranger);
        inbox.postBatch(_keccakPayload("x"));
    }

    function test_postBatch_paused_reverts() public {
        vm.prank(guardian);
        inbox.pause();
        vm.expectRevert(IBatchInbox.BatchInbox_Paused.selector);
        vm.prank(batcher);
        inbox.postBatch(_keccakPayload("x"));
    }

    function test_postBatch_emptyPayload_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_PayloadTooShort.selector, 0));
        vm.prank(batcher);
        inbox.postBatch("");
    }

    function test_postBatch_versionOnly_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_PayloadTooShort.selector, 1));
        vm.prank(batcher);
        inbox.postBatch(hex"01");
    }

    function test_postBatch_frameVersion_reverts() public {
        // 0x00 is OP's derivation version for frames posted directly on L1: not accepted here.
        bytes memory payload = abi.encodePacked(uint8(0x00), uint8(0x00), keccak256("x"));
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_UnsupportedDerivationVersion.selector, 0));
        vm.prank(batcher);
        inbox.postBatch(payload);
    }

    function test_postBatch_unknownCommitmentType_reverts() public {
        bytes memory payload = abi.encodePacked(uint8(0x01), uint8(0x02), keccak256("x"));
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_UnknownCommitmentType.selector, 2));
        vm.prank(batcher);
        inbox.postBatch(payload);
    }

    function test_postBatch_keccakCommitmentTooShort_reverts() public {
        bytes memory payload = abi.encodePacked(uint8(0x01), uint8(0x00), bytes31(keccak256("x")));
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_InvalidKeccakCommitmentLength.selector, 33));
        vm.prank(batcher);
        inbox.postBatch(payload);
    }

    function test_postBatch_keccakCommitmentTooLong_reverts() public {
        bytes memory payload = abi.encodePacked(_keccakPayload("x"), uint8(0));
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_InvalidKeccakCommitmentLength.selector, 35));
        vm.prank(batcher);
        inbox.postBatch(payload);
    }

    function test_postBatch_genericWithoutPayload_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_GenericCommitmentTooShort.selector, 3));
        vm.prank(batcher);
        inbox.postBatch(hex"010100");
    }

    function testFuzz_postBatch_generic_succeeds(uint8 daLayer, bytes memory daPayload) public {
        vm.assume(daPayload.length > 0);
        bytes memory payload = abi.encodePacked(uint8(0x01), uint8(0x01), daLayer, daPayload);
        vm.prank(batcher);
        uint256 index = inbox.postBatch(payload);
        vm.assertEq(inbox.batchHash(index), keccak256(payload));
    }

    function testFuzz_postBatch_badVersion_reverts(uint8 version, bytes32 h) public {
        vm.assume(version != 0x01);
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_UnsupportedDerivationVersion.selector, version));
        vm.prank(batcher);
        inbox.postBatch(abi.encodePacked(version, uint8(0x00), h));
    }

    // ---------------------------------------------------------------- batchHash

    function test_batchHash_notFound_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_BatchNotFound.selector, 0));
        inbox.batchHash(0);
    }

    // ---------------------------------------------------------------- setBatcher

    function test_setBatcher_owner_succeeds() public {
        vm.prank(batcher);
        inbox.postBatch(_keccakPayload("a"));
        address next = makeAddr("next");
        vm.expectEmit(address(inbox));
        emit BatcherUpdated(batcher, next);
        vm.prank(owner);
        inbox.setBatcher(next);
        vm.assertEq(inbox.batcher(), next);
        vm.assertEq(inbox.batchCount(), 1, "count kept");

        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_NotBatcher.selector, batcher));
        vm.prank(batcher);
        inbox.postBatch(_keccakPayload("b"));
        vm.prank(next);
        vm.assertEq(inbox.postBatch(_keccakPayload("b")), 1);
    }

    function test_setBatcher_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        inbox.setBatcher(stranger);
    }

    function test_setBatcher_zero_reverts() public {
        vm.expectRevert(IBatchInbox.BatchInbox_ZeroAddress.selector);
        vm.prank(owner);
        inbox.setBatcher(address(0));
    }

    // ---------------------------------------------------------------- guardian

    function test_setGuardian_owner_succeeds() public {
        address next = makeAddr("next");
        vm.expectEmit(address(inbox));
        emit GuardianUpdated(guardian, next);
        vm.prank(owner);
        inbox.setGuardian(next);
        vm.assertEq(inbox.guardian(), next);
    }

    function test_setGuardian_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        inbox.setGuardian(guardian);
    }

    function test_setGuardian_zero_reverts() public {
        vm.expectRevert(IBatchInbox.BatchInbox_ZeroAddress.selector);
        vm.prank(owner);
        inbox.setGuardian(address(0));
    }

    function test_pause_guardian_succeeds() public {
        vm.expectEmit(address(inbox));
        emit Paused(guardian);
        vm.prank(guardian);
        inbox.pause();
        vm.assertTrue(inbox.paused());
        vm.assertEq(inbox.batcher(), batcher, "packing kept the batcher");
    }

    function test_pause_notGuardian_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_NotGuardian.selector, owner));
        vm.prank(owner);
        inbox.pause();
    }

    function test_pause_alreadyPaused_reverts() public {
        vm.startPrank(guardian);
        inbox.pause();
        vm.expectRevert(IBatchInbox.BatchInbox_Paused.selector);
        inbox.pause();
        vm.stopPrank();
    }

    function test_unpause_guardian_succeeds() public {
        vm.startPrank(guardian);
        inbox.pause();
        vm.expectEmit(address(inbox));
        emit Unpaused(guardian);
        inbox.unpause();
        vm.stopPrank();
        vm.assertFalse(inbox.paused());
        vm.prank(batcher);
        inbox.postBatch(_keccakPayload("after"));
    }

    function test_unpause_notGuardian_reverts() public {
        vm.prank(guardian);
        inbox.pause();
        vm.expectRevert(abi.encodeWithSelector(IBatchInbox.BatchInbox_NotGuardian.selector, batcher));
        vm.prank(batcher);
        inbox.unpause();
    }

    function test_unpause_notPaused_reverts() public {
        vm.expectRevert(IBatchInbox.BatchInbox_NotPaused.selector);
        vm.prank(guardian);
        inbox.unpause();
    }
}
