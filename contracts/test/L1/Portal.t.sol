// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OutputOracle} from "../../src/L1/OutputOracle.sol";
import {Portal} from "../../src/L1/Portal.sol";
import {IOutputOracle} from "../../src/interfaces/IOutputOracle.sol";
import {IPortal} from "../../src/interfaces/IPortal.sol";
import {AddressAlias} from "../../src/libraries/AddressAlias.sol";
import {Hashing} from "../../src/libraries/Hashing.sol";
import {Types} from "../../src/libraries/Types.sol";
import {Recorder, ReentrantFinalizer, Rejecter} from "../helpers/Targets.sol";
import {TrieHelper} from "../helpers/TrieHelper.sol";
import {Test, Vm} from "../utils/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice Calls the portal from a contract (deposits from it are aliased).
contract DepositingContract {
    function deposit(IPortal portal, address to) external payable {
        portal.depositTransaction{value: msg.value}(to, 0, 100_000, false, "");
    }

    function send(address portal) external payable {
        (bool ok,) = portal.call{value: msg.value}("");
        require(ok, "send failed");
    }
}

/// @notice Shared setup for the Portal tests: an oracle, a portal, and helpers to propose outputs
///         whose message passer storage is a one-leaf trie holding a given withdrawal.
abstract contract PortalTestBase is Test {
    uint256 internal constant PERIOD = 7 days;
    uint256 internal constant BOND = 0.1 ether;
    uint256 internal constant VERSION_1 = uint256(1) << 240;

    OutputOracle internal oracle;
    Portal internal portal;
    address internal owner;
    address internal proposer;
    address internal game;
    address internal guardian;
    address internal alice;
    address internal bob;

    event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData);
    event WithdrawalProven(bytes32 indexed withdrawalHash, address indexed from, address indexed to);
    event WithdrawalFinalized(bytes32 indexed withdrawalHash, bool success);
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);
    event Paused(address account);
    event Unpaused(address account);

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        owner = makeAddr("owner");
        proposer = makeAddr("proposer");
        game = makeAddr("game");
        guardian = makeAddr("guardian");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        oracle = new OutputOracle(1, 1, 0, block.timestamp, PERIOD, BOND, owner, proposer, game);
        portal = new Portal(IOutputOracle(address(oracle)), owner, guardian);
        vm.deal(proposer, 1000 ether);
        vm.deal(alice, 1000 ether);
    }

    function _withdrawal(address target, uint256 value, uint256 gasLimit, bytes memory data)
        internal
        view
        returns (Types.WithdrawalTransaction memory)
    {
        return Types.WithdrawalTransaction(VERSION_1, alice, target, value, gasLimit, data);
    }

    /// Proposes an output whose message passer storage holds `slot = value` and nothing else.
    function _proposeStorage(bytes32 slot, uint256 value)
        internal
        returns (uint256 index, Types.OutputRootProof memory proof, bytes[] memory storageProof)
    {
        bytes32 storageRoot;
        (storageRoot, storageProof) = TrieHelper.singleLeaf(slot, value);
        proof = Types.OutputRootProof(bytes32(0), keccak256(abi.encode("state", slot)), storageRoot, keccak256("block"));
        index = _proposeRoot(Hashing.hashOutputRootProof(proof));
    }

    function _proposeRoot(bytes32 root) internal returns (uint256 index) {
        index = oracle.nextOutputIndex();
        uint256 l2Block = oracle.nextBlockNumber();
        vm.warp(block.timestamp + 2);
        vm.prank(proposer);
        oracle.proposeL2Output{value: BOND}(root, l2Block, bytes32(0), 0);
    }

    /// Proposes an output containing `w` and proves `w` against it.
    function _proposeAndProve(Types.WithdrawalTransaction memory w) internal returns (uint256 index) {
        bytes32 hash = Hashing.hashWithdrawal(w);
        (uint256 i, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(hash), 1);
        portal.proveWithdrawalTransaction(w, i, p, sp);
        return i;
    }
}

contract PortalTest is PortalTestBase {
    // ---------------------------------------------------------------- constructor & roles

    function test_constructor_setsState_succeeds() public view {
        vm.assertEq(address(portal.L2_ORACLE()), address(oracle));
        vm.assertEq(portal.FINALIZATION_PERIOD_SECONDS(), PERIOD);
        vm.assertEq(portal.guardian(), guardian);
        vm.assertEq(portal.owner(), owner);
        vm.assertFalse(portal.paused());
        vm.assertEq(portal.l2Sender(), 0x000000000000000000000000000000000000dEaD);
    }

    function test_constructor_zeroOracle_reverts() public {
        vm.expectRevert(IPortal.Portal_ZeroAddress.selector);
        new Portal(IOutputOracle(address(0)), owner, guardian);
    }

    function test_constructor_zeroGuardian_reverts() public {
        vm.expectRevert(IPortal.Portal_ZeroAddress.selector);
        new Portal(IOutputOracle(address(oracle)), owner, address(0));
    }

    function test_transferOwnership_twoStep_succeeds() public {
        vm.prank(owner);
        portal.transferOwnership(bob);
        vm.assertEq(portal.owner(), owner, "not before acceptance");
        vm.prank(bob);
        portal.acceptOwnership();
        vm.assertEq(portal.owner(), bob);
        vm.prank(bob);
        portal.setGuardian(alice);
        vm.assertEq(portal.guardian(), alice);
    }

    function test_setGuardian_owner_succeeds() public {
        vm.expectEmit(address(portal));
        emit GuardianUpdated(guardian, bob);
        vm.prank(owner);
        portal.setGuardian(bob);
        vm.assertEq(portal.guardian(), bob);
    }

    function test_setGuardian_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        portal.setGuardian(bob);
    }

    function test_setGuardian_zero_reverts() public {
        vm.expectRevert(IPortal.Portal_ZeroAddress.selector);
        vm.prank(owner);
        portal.setGuardian(address(0));
    }

    function test_pause_guardian_succeeds() public {
        vm.expectEmit(address(portal));
        emit Paused(guardian);
        vm.prank(guardian);
        portal.pause();
        vm.assertTrue(portal.paused());
    }

    function test_pause_notGuardian_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_NotGuardian.selector, owner));
        vm.prank(owner);
        portal.pause();
    }

    function test_pause_alreadyPaused_reverts() public {
        vm.startPrank(guardian);
        portal.pause();
        vm.expectRevert(IPortal.Portal_Paused.selector);
        portal.pause();
        vm.stopPrank();
    }

    function test_unpause_guardian_succeeds() public {
        vm.startPrank(guardian);
        portal.pause();
        vm.expectEmit(address(portal));
        emit Unpaused(guardian);
        portal.unpause();
        vm.stopPrank();
        vm.assertFalse(portal.paused());
    }

    function test_unpause_notGuardian_reverts() public {
        vm.prank(guardian);
        portal.pause();
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_NotGuardian.selector, alice));
        vm.prank(alice);
        portal.unpause();
    }

    function test_unpause_notPaused_reverts() public {
        vm.expectRevert(IPortal.Portal_NotPaused.selector);
        vm.prank(guardian);
        portal.unpause();
    }

    // ---------------------------------------------------------------- deposits

    function test_depositTransaction_eoa_succeeds() public {
        bytes memory data = hex"a9059cbb";
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            alice, bob, 0, abi.encodePacked(uint256(1 ether), uint256(0.25 ether), uint64(150_000), false, data)
        );
        vm.prank(alice, alice);
        portal.depositTransaction{value: 1 ether}(bob, 0.25 ether, 150_000, false, data);
        vm.assertEq(address(portal).balance, 1 ether);
    }

    function test_depositTransaction_contractCallerIsAliased_succeeds() public {
        DepositingContract c = new DepositingContract();
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            AddressAlias.applyL1ToL2Alias(address(c)),
            bob,
            0,
            abi.encodePacked(uint256(2 ether), uint256(0), uint64(100_000), false, "")
        );
        vm.prank(alice, alice);
        c.deposit{value: 2 ether}(IPortal(address(portal)), bob);
    }

    function test_depositTransaction_delegatedEoaNotAliased_succeeds() public {
        // An EIP-7702 delegated EOA (code 0xef0100 ‖ delegate) calling through a sponsor.
        address eoa = makeAddr("7702 eoa");
        vm.etch(eoa, abi.encodePacked(hex"ef0100", address(0x1234)));
        vm.deal(eoa, 1 ether);
        vm.expectEmit(address(portal));
        emit TransactionDeposited(eoa, bob, 0, abi.encodePacked(uint256(1), uint256(0), uint64(21_000), false, ""));
        vm.prank(eoa, alice);
        portal.depositTransaction{value: 1}(bob, 0, 21_000, false, "");
    }

    function test_depositTransaction_23ByteContractAliased_succeeds() public {
        address c = makeAddr("odd contract");
        vm.etch(c, abi.encodePacked(hex"ef0000", address(0x1234)));
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            AddressAlias.applyL1ToL2Alias(c),
            bob,
            0,
            abi.encodePacked(uint256(0), uint256(0), uint64(21_000), false, "")
        );
        vm.prank(c, alice);
        portal.depositTransaction(bob, 0, 21_000, false, "");
    }

    function test_depositTransaction_constructorCallerAliased_succeeds() public {
        // msg.sender != tx.origin and no code yet: aliased.
        address c = makeAddr("constructing");
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            AddressAlias.applyL1ToL2Alias(c),
            bob,
            0,
            abi.encodePacked(uint256(0), uint256(0), uint64(21_000), false, "")
        );
        vm.prank(c, alice);
        portal.depositTransaction(bob, 0, 21_000, false, "");
    }

    function test_depositTransaction_creation_succeeds() public {
        bytes memory initCode = hex"600a600c600039600a6000f3602a60005260206000f3";
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            alice, address(0), 0, abi.encodePacked(uint256(0), uint256(0), uint64(1_000_000), true, initCode)
        );
        vm.prank(alice, alice);
        portal.depositTransaction(address(0), 0, 1_000_000, true, initCode);
    }

    function test_depositTransaction_creationWithTarget_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_CreationWithNonZeroTarget.selector, bob));
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 1_000_000, true, hex"00");
    }

    function test_depositTransaction_minimumGasLimit_succeeds() public {
        bytes memory data = new bytes(100);
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 21_000 + 1600, false, data);
    }

    function test_depositTransaction_gasLimitTooLow_reverts() public {
        bytes memory data = new bytes(100);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_GasLimitTooLow.selector, uint64(22_599), uint64(22_600)));
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 22_599, false, data);
    }

    function test_depositTransaction_gasLimitTooHigh_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IPortal.Portal_GasLimitTooHigh.selector, uint64(20_000_001), uint64(20_000_000))
        );
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 20_000_001, false, "");
    }

    function test_depositTransaction_calldataTooLarge_reverts() public {
        bytes memory data = new bytes(120_001);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_CalldataTooLarge.selector, 120_001, 120_000));
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 20_000_000, false, data);
    }

    // ------------------------------------------------------------------ deposit gas market

    /// @dev A deposit of `gasLimit` from alice; returns the L1 gas the call took.
    function _depositGas(uint64 gasLimit) internal returns (uint256 used) {
        vm.prank(alice, alice);
        uint256 start = gasleft();
        portal.depositTransaction(bob, 0, gasLimit, false, "");
        used = start - gasleft();
    }

    function _price() internal view returns (uint256 fee) {
        (fee,,) = portal.params();
    }

    function test_params_initial_succeeds() public view {
        (uint128 fee, uint64 bought, uint64 at) = portal.params();
        vm.assertEq(fee, 1 gwei);
        vm.assertEq(bought, 0);
        vm.assertEq(at, block.number);
    }

    function test_depositTransaction_blockDepositGasAboveLimit_reverts() public {
        vm.fee(1000 gwei); // little gas to burn
        vm.roll(block.number + 1);
        _depositGas(15_000_000);
        vm.expectRevert(
            abi.encodeWithSelector(IPortal.Portal_OutOfDepositGas.selector, uint64(6_000_000), uint64(5_000_000))
        );
        vm.prank(alice, alice);
        portal.depositTransaction(bob, 0, 6_000_000, false, "");
        _depositGas(5_000_000);
        (, uint64 bought,) = portal.params();
        vm.assertEq(bought, 20_000_000);
        // Sending ETH buys its 100k too.
        vm.prank(alice, alice);
        (bool ok, bytes memory err) = address(portal).call{value: 1 ether}("");
        vm.assertFalse(ok);
        vm.assertEq(err, abi.encodeWithSelector(IPortal.Portal_OutOfDepositGas.selector, uint64(100_000), uint64(0)));
        // The next L1 block has its own 20M.
        vm.roll(block.number + 1);
        _depositGas(20_000_000);
    }

    function test_params_priceFollowsDepositGas_succeeds() public {
        vm.fee(1000 gwei);
        vm.roll(block.number + 1);
        _depositGas(20_000_000);
        // A block without deposits before it: 1 gwei - 1/8, held at the 1 gwei floor.
        vm.assertEq(_price(), 1 gwei);
        // 20M bought against a 2M target: + 1 gwei · 18M / (2M · 8) = + 1.125 gwei.
        vm.roll(block.number + 1);
        _depositGas(2_000_000);
        vm.assertEq(_price(), 2_125_000_000);
        // Exactly the target: unchanged.
        vm.roll(block.number + 1);
        _depositGas(100_000);
        vm.assertEq(_price(), 2_125_000_000);
        // 100k against 2M: - 2.125 gwei · 1.9M / 16M = - 0.25234375 gwei.
        vm.roll(block.number + 1);
        _depositGas(100_000);
        vm.assertEq(_price(), 1_872_656_250);
    }

    function test_params_emptyBlocksLowerPrice_succeeds() public {
        vm.fee(1000 gwei);
        vm.roll(block.number + 1);
        _depositGas(20_000_000);
        uint256 full = block.number;
        // Three blocks on: the full block's rise to 2.125 gwei, then two empty blocks, each - 1/8.
        vm.roll(full + 3);
        _depositGas(100_000);
        vm.assertEq(_price(), 1_626_953_125);
        // Long idle: back at the floor.
        vm.roll(block.number + 10_000);
        _depositGas(100_000);
        vm.assertEq(_price(), 1 gwei);
    }

    function test_depositTransaction_burnsL1GasForDepositGas_succeeds() public {
        // At the 1 gwei floor and an L1 base fee of 1 gwei: one L1 gas per unit of deposit gas.
        vm.fee(1 gwei);
        vm.roll(block.number + 1);
        uint256 used = _depositGas(1_000_000);
        vm.assertGe(used, 1_000_000, "burns the deposit gas");
        vm.assertLe(used, 1_020_000, "the deposit's own work counts toward it");
        // At 10 gwei the same purchase costs a tenth.
        vm.fee(10 gwei);
        vm.roll(block.number + 1);
        used = _depositGas(1_000_000);
        vm.assertGe(used, 100_000);
        vm.assertLe(used, 120_000);
        // At 1000 gwei the purchase (1000 gas) is less than the deposit's own work: nothing burned.
        vm.fee(1000 gwei);
        vm.roll(block.number + 1);
        uint256 unburned = _depositGas(1_000_000);
        vm.assertLt(unburned, 40_000);
        // Below 1 gwei the L1 base fee counts as 1 gwei (OP's rule): no more than at 1 gwei.
        vm.fee(7);
        vm.roll(block.number + 1);
        used = _depositGas(1_000_000);
        vm.assertGe(used, 1_000_000);
        vm.assertLe(used, 1_020_000);
    }

    function testFuzz_depositTransaction_blockTotalNeverAboveLimit(uint64[8] memory limits) public {
        vm.fee(1000 gwei);
        vm.roll(block.number + 1);
        uint256 total;
        for (uint256 i = 0; i < limits.length; ++i) {
            uint64 gasLimit = uint64(bound(limits[i], 21_000, 20_000_000));
            vm.prank(alice, alice);
            try portal.depositTransaction(bob, 0, gasLimit, false, "") {
                total += gasLimit;
            } catch (bytes memory err) {
                vm.assertEq(
                    err,
                    abi.encodeWithSelector(
                        IPortal.Portal_OutOfDepositGas.selector, gasLimit, uint64(20_000_000 - total)
                    )
                );
                vm.assertGt(total + gasLimit, 20_000_000);
            }
        }
        (, uint64 bought,) = portal.params();
        vm.assertEq(bought, total);
        vm.assertLe(total, 20_000_000);
    }

    function test_receive_depositsToSender_succeeds() public {
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            alice, alice, 0, abi.encodePacked(uint256(3 ether), uint256(3 ether), uint64(100_000), false, "")
        );
        vm.prank(alice, alice);
        (bool ok,) = address(portal).call{value: 3 ether}("");
        vm.assertTrue(ok);
        vm.assertEq(address(portal).balance, 3 ether);
    }

    function test_receive_fromContractIsAliased_succeeds() public {
        DepositingContract c = new DepositingContract();
        vm.expectEmit(address(portal));
        emit TransactionDeposited(
            AddressAlias.applyL1ToL2Alias(address(c)),
            address(c),
            0,
            abi.encodePacked(uint256(1 ether), uint256(1 ether), uint64(100_000), false, "")
        );
        vm.prank(alice, alice);
        c.send{value: 1 ether}(address(portal));
    }

    function test_depositTransaction_whilePaused_succeeds() public {
        vm.prank(guardian);
        portal.pause();
        vm.prank(alice, alice);
        portal.depositTransaction{value: 1}(bob, 0, 21_000, false, "");
        vm.assertEq(address(portal).balance, 1);
    }

    function test_minimumGasLimit_succeeds() public view {
        vm.assertEq(uint256(portal.minimumGasLimit(0)), 21_000);
        vm.assertEq(uint256(portal.minimumGasLimit(120_000)), 21_000 + 1_920_000);
    }

    function testFuzz_depositTransaction_opaqueData(
        address to,
        uint96 mint,
        uint256 value,
        uint64 gasLimit,
        bytes memory data
    ) public {
        vm.assume(data.length <= 10_000);
        gasLimit = uint64(bound(gasLimit, 21_000 + 16 * data.length, 20_000_000));
        vm.deal(alice, mint);
        vm.recordLogs();
        vm.prank(alice, alice);
        portal.depositTransaction{value: mint}(to, value, gasLimit, false, data);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1);
        vm.assertEq(logs[0].topics[0], keccak256("TransactionDeposited(address,address,uint256,bytes)"));
        vm.assertEq(logs[0].topics[1], bytes32(uint256(uint160(alice))));
        vm.assertEq(logs[0].topics[2], bytes32(uint256(uint160(to))));
        vm.assertEq(logs[0].topics[3], bytes32(0));
        bytes memory opaque = abi.decode(logs[0].data, (bytes));
        vm.assertEq(opaque, abi.encodePacked(uint256(mint), value, gasLimit, false, data));
        vm.assertEq(opaque.length, 73 + data.length);
    }

    // ---------------------------------------------------------------- proveWithdrawalTransaction

    function test_proveWithdrawalTransaction_succeeds() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 1 ether, 100_000, "");
        bytes32 hash = Hashing.hashWithdrawal(w);
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(hash), 1);
        vm.expectEmit(address(portal));
        emit WithdrawalProven(hash, alice, bob);
        portal.proveWithdrawalTransaction(w, index, p, sp);
        (bytes32 root, uint128 ts, uint128 idx) = portal.provenWithdrawals(hash);
        vm.assertEq(root, Hashing.hashOutputRootProof(p));
        vm.assertEq(uint256(ts), block.timestamp);
        vm.assertEq(uint256(idx), index);
    }

    function test_proveWithdrawalTransaction_paused_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(w)), 1);
        vm.prank(guardian);
        portal.pause();
        vm.expectRevert(IPortal.Portal_Paused.selector);
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_targetIsPortal_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(address(portal), 0, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(w)), 1);
        vm.expectRevert(IPortal.Portal_TargetIsPortal.selector);
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_unsupportedVersion_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(w)), 1);
        p.version = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_UnsupportedOutputVersion.selector, bytes32(uint256(1))));
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_wrongOutputRoot_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(w)), 1);
        bytes32 root = Hashing.hashOutputRootProof(p);
        p.stateRoot = keccak256("another state");
        vm.expectRevert(
            abi.encodeWithSelector(IPortal.Portal_InvalidOutputRootProof.selector, Hashing.hashOutputRootProof(p), root)
        );
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_missingOutput_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(w)), 1);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, index + 1));
        portal.proveWithdrawalTransaction(w, index + 1, p, sp);
    }

    function test_proveWithdrawalTransaction_twice_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        bytes32 hash = Hashing.hashWithdrawal(w);
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(hash), 1);
        portal.proveWithdrawalTransaction(w, index, p, sp);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalAlreadyProven.selector, hash));
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_slotHoldsTwo_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        bytes32 hash = Hashing.hashWithdrawal(w);
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(hash), 2);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalNotSent.selector, hash, 2));
        portal.proveWithdrawalTransaction(w, index, p, sp);
    }

    function test_proveWithdrawalTransaction_otherWithdrawalInTrie_reverts() public {
        Types.WithdrawalTransaction memory sent = _withdrawal(bob, 0, 0, "");
        Types.WithdrawalTransaction memory claimed = _withdrawal(bob, 100 ether, 0, "");
        (uint256 index, Types.OutputRootProof memory p, bytes[] memory sp) =
            _proposeStorage(Hashing.withdrawalStorageSlot(Hashing.hashWithdrawal(sent)), 1);
        // The one-leaf trie proves the claimed withdrawal's slot absent.
        vm.expectRevert(
            abi.encodeWithSelector(IPortal.Portal_WithdrawalNotSent.selector, Hashing.hashWithdrawal(claimed), 0)
        );
        portal.proveWithdrawalTransaction(claimed, index, p, sp);
    }

    function test_proveWithdrawalTransaction_afterOutputReplaced_succeeds() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 1 ether, 0, "");
        uint256 index = _proposeAndProve(w);
        // The output is invalidated: the proof cannot finalize any more and may be redone.
        vm.prank(game);
        oracle.invalidateOutput(index, game);
        uint256 again = _proposeAndProve(w);
        vm.assertEq(again, index);
        (, uint128 ts,) = portal.provenWithdrawals(Hashing.hashWithdrawal(w));
        vm.assertEq(uint256(ts), block.timestamp);
    }

    function test_proveWithdrawalTransaction_afterOutputDeleted_succeeds() public {
        // Two outputs both contain the withdrawal; it is proven against the later one, which is then
        // deleted. Its index no longer exists, so proving again against the earlier one is allowed.
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 1 ether, 0, "");
        bytes32 hash = Hashing.hashWithdrawal(w);
        bytes32 slot = Hashing.withdrawalStorageSlot(hash);
        (uint256 i0, Types.OutputRootProof memory p0, bytes[] memory sp0) = _proposeStorage(slot, 1);
        (uint256 i1, Types.OutputRootProof memory p1, bytes[] memory sp1) = _proposeStorage(slot, 1);
        portal.proveWithdrawalTransaction(w, i1, p1, sp1);
        vm.prank(game);
        oracle.invalidateOutput(i1, game);
        vm.assertEq(oracle.nextOutputIndex(), i1);
        portal.proveWithdrawalTransaction(w, i0, p0, sp0);
        (,, uint128 idx) = portal.provenWithdrawals(hash);
        vm.assertEq(uint256(idx), i0);
    }

    // ---------------------------------------------------------------- finalizeWithdrawalTransaction

    function test_finalizeWithdrawalTransaction_succeeds() public {
        Recorder recorder = new Recorder();
        vm.deal(address(portal), 5 ether);
        Types.WithdrawalTransaction memory w =
            _withdrawal(address(recorder), 1 ether, 100_000, abi.encodeCall(Recorder.record, (42)));
        bytes32 hash = Hashing.hashWithdrawal(w);
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectEmit(address(portal));
        emit WithdrawalFinalized(hash, true);
        portal.finalizeWithdrawalTransaction(w);
        vm.assertTrue(portal.finalizedWithdrawals(hash));
        vm.assertEq(recorder.recorded(), 42);
        vm.assertEq(recorder.received(), 1 ether);
        vm.assertEq(recorder.l2SenderSeen(), alice, "l2Sender during the call");
        vm.assertEq(portal.l2Sender(), 0x000000000000000000000000000000000000dEaD, "reset after");
        vm.assertEq(address(portal).balance, 4 ether);
    }

    function test_finalizeWithdrawalTransaction_paused_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.prank(guardian);
        portal.pause();
        vm.expectRevert(IPortal.Portal_Paused.selector);
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_targetIsPortal_reverts() public {
        vm.expectRevert(IPortal.Portal_TargetIsPortal.selector);
        portal.finalizeWithdrawalTransaction(_withdrawal(address(portal), 0, 0, ""));
    }

    function test_finalizeWithdrawalTransaction_notProven_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_WithdrawalNotProven.selector, Hashing.hashWithdrawal(w)));
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_tooEarly_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        _proposeAndProve(w);
        uint256 provenAt = block.timestamp;
        vm.warp(provenAt + PERIOD);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_ProofNotFinalized.selector, provenAt, provenAt + PERIOD));
        portal.finalizeWithdrawalTransaction(w);
        vm.warp(provenAt + PERIOD + 1);
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_outputReplaced_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        uint256 index = _proposeAndProve(w);
        bytes32 provenRoot = oracle.getL2Output(index).outputRoot;
        vm.prank(game);
        oracle.invalidateOutput(index, game);
        bytes32 newRoot = keccak256("replacement");
        _proposeRoot(newRoot);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_OutputRootChanged.selector, provenRoot, newRoot));
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_outputReproposedSameRoot_reverts() public {
        // The same root proposed again after the proof: the proof predates the output, so it must be
        // redone (and may be: proving again is allowed).
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        uint256 index = _proposeAndProve(w);
        bytes32 root = oracle.getL2Output(index).outputRoot;
        vm.prank(game);
        oracle.invalidateOutput(index, game);
        _proposeRoot(root);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IPortal.Portal_OutputRootChanged.selector, root, root));
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_outputDeleted_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 0, "");
        uint256 index = _proposeAndProve(w);
        vm.prank(game);
        oracle.invalidateOutput(index, game);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(abi.encodeWithSelector(IOutputOracle.OutputOracle_OutputNotFound.selector, index));
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_twice_reverts() public {
        vm.deal(address(portal), 1 ether);
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 1 ether, 0, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        portal.finalizeWithdrawalTransaction(w);
        vm.expectRevert(
            abi.encodeWithSelector(IPortal.Portal_WithdrawalAlreadyFinalized.selector, Hashing.hashWithdrawal(w))
        );
        portal.finalizeWithdrawalTransaction(w);
        vm.assertEq(bob.balance, 1 ether);
    }

    function test_finalizeWithdrawalTransaction_failingCall_finalizesAnyway_succeeds() public {
        Rejecter rejecter = new Rejecter();
        vm.deal(address(portal), 1 ether);
        Types.WithdrawalTransaction memory w = _withdrawal(address(rejecter), 1 ether, 50_000, "");
        bytes32 hash = Hashing.hashWithdrawal(w);
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectEmit(address(portal));
        emit WithdrawalFinalized(hash, false);
        portal.finalizeWithdrawalTransaction(w);
        vm.assertTrue(portal.finalizedWithdrawals(hash));
        vm.assertEq(address(portal).balance, 1 ether, "value stays in the portal");
    }

    function test_finalizeWithdrawalTransaction_insufficientBalance_failsCall_succeeds() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 1 ether, 0, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectEmit(address(portal));
        emit WithdrawalFinalized(Hashing.hashWithdrawal(w), false);
        portal.finalizeWithdrawalTransaction(w);
        vm.assertEq(bob.balance, 0);
    }

    function test_finalizeWithdrawalTransaction_gasEstimation_reverts() public {
        Rejecter rejecter = new Rejecter();
        Types.WithdrawalTransaction memory w = _withdrawal(address(rejecter), 0, 50_000, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectRevert(IPortal.Portal_GasEstimation.selector);
        vm.prank(bob, address(1));
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_insufficientGas_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, 1_000_000, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        // 500k gas cannot cover a 1M gas limit: the transaction reverts instead of failing the call.
        vm.expectPartialRevert(IPortal.Portal_InsufficientGas.selector);
        portal.finalizeWithdrawalTransaction{gas: 500_000}(w);
        vm.assertFalse(portal.finalizedWithdrawals(Hashing.hashWithdrawal(w)));
        // With enough gas it goes through.
        portal.finalizeWithdrawalTransaction{gas: 1_200_000}(w);
        vm.assertTrue(portal.finalizedWithdrawals(Hashing.hashWithdrawal(w)));
    }

    function test_finalizeWithdrawalTransaction_hugeGasLimit_reverts() public {
        Types.WithdrawalTransaction memory w = _withdrawal(bob, 0, type(uint256).max, "");
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectPartialRevert(IPortal.Portal_InsufficientGas.selector);
        portal.finalizeWithdrawalTransaction(w);
    }

    function test_finalizeWithdrawalTransaction_givesAtLeastGasLimit_succeeds() public {
        GasBurner burner = new GasBurner();
        Types.WithdrawalTransaction memory w =
            _withdrawal(address(burner), 0, 300_000, abi.encodeCall(GasBurner.burn, (250_000)));
        _proposeAndProve(w);
        vm.warp(block.timestamp + PERIOD + 1);
        vm.expectEmit(address(portal));
        emit WithdrawalFinalized(Hashing.hashWithdrawal(w), true);
        portal.finalizeWithdrawalTransaction{gas: 400_000}(w);
    }

    function test_finalizeWithdrawalTransaction_reentrant_reverts() public {
        ReentrantFinalizer attacker = new ReentrantFinalizer();
        vm.deal(address(portal), 2 ether);
        Types.WithdrawalTransaction memory first = _withdrawal(address(attacker), 1 ether, 200_000, "");
        Types.WithdrawalTransaction memory second = _withdrawal(bob, 1 ether, 0, "");
        _proposeAndProve(first);
        _proposeAndProve(second);
        vm.warp(block.timestamp + PERIOD + 1);
        attacker.arm(second);
        portal.finalizeWithdrawalTransaction(first);
        vm.assertFalse(attacker.reentrySucceeded());
        vm.assertEq(bytes4(attacker.lastError()), IPortal.Portal_FinalizationInProgress.selector);
        vm.assertFalse(portal.finalizedWithdrawals(Hashing.hashWithdrawal(second)));
        // The second one still finalizes on its own.
        portal.finalizeWithdrawalTransaction(second);
        vm.assertEq(bob.balance, 1 ether);
    }

    function test_finalizeWithdrawalTransaction_reentrantFromZeroSender_reverts() public {
        // The lock does not rely on the L2 sender being non-zero.
        ReentrantFinalizer attacker = new ReentrantFinalizer();
        Types.WithdrawalTransaction memory first = _withdrawal(address(attacker), 0, 200_000, "");
        first.sender = address(0);
        Types.WithdrawalTransaction memory second = _withdrawal(bob, 0, 0, "");
        _proposeAndProve(first);
        _proposeAndProve(second);
        vm.warp(block.timestamp + PERIOD + 1);
        attacker.arm(second);
        portal.finalizeWithdrawalTransaction(first);
        vm.assertEq(bytes4(attacker.lastError()), IPortal.Portal_FinalizationInProgress.selector);
    }

    function test_l2Sender_default_succeeds() public view {
        vm.assertEq(portal.l2Sender(), portal.DEFAULT_L2_SENDER());
    }
}

/// @notice Burns a requested amount of gas (to check the portal forwards at least the gas limit).
contract GasBurner {
    function burn(uint256 amount) external view {
        uint256 target = gasleft() - amount;
        while (gasleft() > target) {}
    }
}
