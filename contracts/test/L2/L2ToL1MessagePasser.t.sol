// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {L2ToL1MessagePasser} from "../../src/L2/L2ToL1MessagePasser.sol";
import {IL2ToL1MessagePasser} from "../../src/interfaces/IL2ToL1MessagePasser.sol";
import {Hashing} from "../../src/libraries/Hashing.sol";
import {Test} from "../utils/Test.sol";

contract L2ToL1MessagePasserTest is Test {
    address internal constant PREDEPLOY = 0x4200000000000000000000000000000000000016;
    uint256 internal constant VERSION_1 = uint256(1) << 240;

    IL2ToL1MessagePasser internal passer = IL2ToL1MessagePasser(payable(PREDEPLOY));
    address internal alice;
    address internal target;

    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );
    event WithdrawerBalanceBurnt(uint256 indexed amount);

    function setUp() public {
        // As in the L2 genesis: the runtime code at the predeploy address, no constructor.
        vm.etch(PREDEPLOY, address(new L2ToL1MessagePasser()).code);
        alice = makeAddr("alice");
        target = makeAddr("target");
        vm.deal(alice, 100 ether);
    }

    function test_initiateWithdrawal_recordsAndEmits_succeeds() public {
        bytes memory data = hex"cafe";
        bytes32 hash = Hashing.hashWithdrawal(VERSION_1, alice, target, 1 ether, 200_000, data);
        vm.expectEmit(PREDEPLOY);
        emit MessagePassed(VERSION_1, alice, target, 1 ether, 200_000, data, hash);
        vm.prank(alice);
        passer.initiateWithdrawal{value: 1 ether}(target, 200_000, data);

        vm.assertTrue(passer.sentMessages(hash));
        vm.assertEq(passer.messageNonce(), VERSION_1 + 1);
        vm.assertEq(PREDEPLOY.balance, 1 ether);
        // OP's layout: sentMessages at slot 0 (the L1 Portal proves this slot), msgNonce at slot 1.
        vm.assertEq(vm.load(PREDEPLOY, Hashing.withdrawalStorageSlot(hash)), bytes32(uint256(1)));
        vm.assertEq(vm.load(PREDEPLOY, bytes32(uint256(1))), bytes32(uint256(1)));
    }

    function test_initiateWithdrawal_noncesIncrease_succeeds() public {
        vm.startPrank(alice);
        for (uint256 i; i < 3; ++i) {
            bytes32 hash = Hashing.hashWithdrawal(VERSION_1 | i, alice, target, 0, 21_000, "");
            vm.assertFalse(passer.sentMessages(hash));
            passer.initiateWithdrawal(target, 21_000, "");
            vm.assertTrue(passer.sentMessages(hash));
        }
        vm.stopPrank();
        vm.assertEq(passer.messageNonce(), VERSION_1 | 3);
    }

    function test_messageNonce_versionInTopBytes_succeeds() public view {
        vm.assertEq(passer.messageNonce(), VERSION_1);
        vm.assertEq(passer.messageNonce() >> 240, 1);
        vm.assertEq(uint256(passer.MESSAGE_VERSION()), 1);
    }

    function test_receive_withdrawsToSender_succeeds() public {
        bytes32 hash = Hashing.hashWithdrawal(VERSION_1, alice, alice, 2 ether, 100_000, "");
        vm.expectEmit(PREDEPLOY);
        emit MessagePassed(VERSION_1, alice, alice, 2 ether, 100_000, "", hash);
        vm.prank(alice);
        (bool ok,) = PREDEPLOY.call{value: 2 ether}("");
        vm.assertTrue(ok);
        vm.assertTrue(passer.sentMessages(hash));
    }

    function test_burn_destroysBalance_succeeds() public {
        vm.prank(alice);
        passer.initiateWithdrawal{value: 3 ether}(target, 21_000, "");
        uint256 nonceBefore = vm.getNonce(PREDEPLOY);
        address burner = _createAddress(PREDEPLOY, nonceBefore);
        vm.expectEmit(PREDEPLOY);
        emit WithdrawerBalanceBurnt(3 ether);
        passer.burn();
        vm.assertEq(PREDEPLOY.balance, 0);
        vm.assertEq(burner.balance, 0, "burner self-destructed with the ETH");
        vm.assertEq(burner.code.length, 0);
    }

    function test_burn_outOfGas_reverts() public {
        vm.prank(alice);
        passer.initiateWithdrawal{value: 1 ether}(target, 21_000, "");
        // Find a gas amount at which CREATE itself is paid for but the burner's init code runs out
        // of gas: burn() must then fail with its named error, not succeed silently.
        bool found;
        for (uint256 g = 33_000; g < 40_000 && !found; g += 25) {
            try passer.burn{gas: g}() {
                break;
            } catch (bytes memory reason) {
                if (bytes4(reason) == IL2ToL1MessagePasser.L2ToL1MessagePasser_BurnFailed.selector) found = true;
            }
        }
        vm.assertTrue(found, "BurnFailed reached");
        vm.assertEq(PREDEPLOY.balance, 1 ether);
    }

    function testFuzz_initiateWithdrawal_hashMatchesHashing(
        address sender,
        address to,
        uint96 value,
        uint256 gasLimit,
        bytes memory data
    ) public {
        vm.assume(sender != PREDEPLOY);
        vm.deal(sender, value);
        vm.recordLogs();
        vm.prank(sender);
        passer.initiateWithdrawal{value: value}(to, gasLimit, data);
        bytes32 hash = Hashing.hashWithdrawal(VERSION_1, sender, to, value, gasLimit, data);
        vm.assertTrue(passer.sentMessages(hash));
    }

    function _createAddress(address deployer, uint256 nonce) internal pure returns (address) {
        bytes memory n = nonce == 0 ? bytes(hex"80") : abi.encodePacked(uint8(nonce));
        require(nonce < 0x80, "small nonces only");
        return address(uint160(uint256(keccak256(abi.encodePacked(hex"d694", deployer, n)))));
    }
}
