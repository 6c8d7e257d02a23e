// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {L1Block} from "../../src/L2/L1Block.sol";
import {IL1Block} from "../../src/interfaces/IL1Block.sol";
import {Test} from "../utils/Test.sol";

contract L1BlockTest is Test {
    address internal constant PREDEPLOY = 0x4200000000000000000000000000000000000015;
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    IL1Block internal l1Block = IL1Block(PREDEPLOY);

    function setUp() public {
        vm.etch(PREDEPLOY, address(new L1Block()).code);
    }

    function test_DEPOSITOR_ACCOUNT_isOpDepositor_succeeds() public view {
        vm.assertEq(l1Block.DEPOSITOR_ACCOUNT(), DEPOSITOR);
    }

    function test_setL1BlockValues_depositor_succeeds() public {
        vm.prank(DEPOSITOR);
        l1Block.setL1BlockValues(
            19_000_000, 1_700_000_000, 30 gwei, keccak256("l1"), 3, bytes32(uint256(0xba7c4e7)), 188, 684_000
        );
        vm.assertEq(uint256(l1Block.number()), 19_000_000);
        vm.assertEq(uint256(l1Block.timestamp()), 1_700_000_000);
        vm.assertEq(l1Block.basefee(), 30 gwei);
        vm.assertEq(l1Block.hash(), keccak256("l1"));
        vm.assertEq(uint256(l1Block.sequenceNumber()), 3);
        vm.assertEq(l1Block.batcherHash(), bytes32(uint256(0xba7c4e7)));
        vm.assertEq(l1Block.l1FeeOverhead(), 188);
        vm.assertEq(l1Block.l1FeeScalar(), 684_000);
        // OP's slots: number | timestamp << 64 in slot 0, basefee in 1, hash in 2.
        vm.assertEq(vm.load(PREDEPLOY, bytes32(0)), bytes32((uint256(1_700_000_000) << 64) | 19_000_000));
        vm.assertEq(vm.load(PREDEPLOY, bytes32(uint256(1))), bytes32(uint256(30 gwei)));
        vm.assertEq(vm.load(PREDEPLOY, bytes32(uint256(5))), bytes32(uint256(188)));
        vm.assertEq(vm.load(PREDEPLOY, bytes32(uint256(6))), bytes32(uint256(684_000)));
    }

    function test_setL1BlockValues_notDepositor_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IL1Block.L1Block_NotDepositor.selector, address(this)));
        l1Block.setL1BlockValues(1, 2, 3, bytes32(0), 4, bytes32(0), 5, 6);
    }

    function test_setL1BlockValuesEcotone_depositor_succeeds() public {
        bytes memory data =
            _ecotone(1368, 810_949, 2, 1_700_000_123, 19_000_001, 12 gwei, 1 wei, keccak256("h"), bytes32(uint256(7)));
        vm.prank(DEPOSITOR);
        (bool ok,) = PREDEPLOY.call(data);
        vm.assertTrue(ok);
        vm.assertEq(uint256(l1Block.baseFeeScalar()), 1368);
        vm.assertEq(uint256(l1Block.blobBaseFeeScalar()), 810_949);
        vm.assertEq(uint256(l1Block.sequenceNumber()), 2);
        vm.assertEq(uint256(l1Block.timestamp()), 1_700_000_123);
        vm.assertEq(uint256(l1Block.number()), 19_000_001);
        vm.assertEq(l1Block.basefee(), 12 gwei);
        vm.assertEq(l1Block.blobBaseFee(), 1);
        vm.assertEq(l1Block.hash(), keccak256("h"));
        vm.assertEq(l1Block.batcherHash(), bytes32(uint256(7)));
        // OP's slot 3: sequenceNumber | blobBaseFeeScalar << 64 | baseFeeScalar << 96; slot 7: blobBaseFee.
        vm.assertEq(
            vm.load(PREDEPLOY, bytes32(uint256(3))),
            bytes32(uint256(2) | (uint256(810_949) << 64) | (uint256(1368) << 96))
        );
        vm.assertEq(vm.load(PREDEPLOY, bytes32(uint256(7))), bytes32(uint256(1)));
    }

    function test_setL1BlockValuesEcotone_notDepositor_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IL1Block.L1Block_NotDepositor.selector, address(this)));
        l1Block.setL1BlockValuesEcotone();
    }

    function test_setL1BlockValuesEcotone_selector_isOps() public pure {
        vm.assertEq(uint256(uint32(IL1Block.setL1BlockValuesEcotone.selector)), 0x440a5e20);
    }

    function testFuzz_setL1BlockValuesEcotone_roundTrip(
        uint32 baseFeeScalar,
        uint32 blobBaseFeeScalar,
        uint64 seq,
        uint64 ts,
        uint64 num,
        uint256 basefee,
        uint256 blobBaseFee,
        bytes32 h,
        bytes32 batcherHash
    ) public {
        vm.prank(DEPOSITOR);
        (bool ok,) = PREDEPLOY.call(
            _ecotone(baseFeeScalar, blobBaseFeeScalar, seq, ts, num, basefee, blobBaseFee, h, batcherHash)
        );
        vm.assertTrue(ok);
        vm.assertEq(uint256(l1Block.baseFeeScalar()), baseFeeScalar);
        vm.assertEq(uint256(l1Block.blobBaseFeeScalar()), blobBaseFeeScalar);
        vm.assertEq(uint256(l1Block.sequenceNumber()), seq);
        vm.assertEq(uint256(l1Block.timestamp()), ts);
        vm.assertEq(uint256(l1Block.number()), num);
        vm.assertEq(l1Block.basefee(), basefee);
        vm.assertEq(l1Block.blobBaseFee(), blobBaseFee);
        vm.assertEq(l1Block.hash(), h);
        vm.assertEq(l1Block.batcherHash(), batcherHash);
    }

    /// OP's packed Ecotone calldata (164 bytes).
    function _ecotone(
        uint32 baseFeeScalar,
        uint32 blobBaseFeeScalar,
        uint64 seq,
        uint64 ts,
        uint64 num,
        uint256 basefee,
        uint256 blobBaseFee,
        bytes32 h,
        bytes32 batcherHash
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(
            IL1Block.setL1BlockValuesEcotone.selector,
            baseFeeScalar,
            blobBaseFeeScalar,
            seq,
            ts,
            num,
            basefee,
            blobBaseFee,
            h,
            batcherHash
        );
    }
}
