// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashing} from "../../src/libraries/Hashing.sol";
import {Types} from "../../src/libraries/Types.sol";
import {PortalTestBase} from "./Portal.t.sol";

/// @dev A withdrawal target that only succeeds when given (almost) its whole gas limit.
contract GasHungryTarget {
    error GasHungryTarget_Starved(uint256 got, uint256 need);

    uint256 public immutable need;
    bool public hit;

    constructor(uint256 need_) {
        need = need_;
    }

    fallback() external payable {
        if (gasleft() < need) revert GasHungryTarget_Starved(gasleft(), need);
        hit = true;
    }
}

/// @notice Regression test for the security review's finding that a relayer could starve the
///         target of a large-calldata withdrawal: the minimum-gas check ran before the calldata
///         was copied to memory, and the copy's quadratic memory cost ate the safety margin. The
///         property: at the SMALLEST gas with which `finalizeWithdrawalTransaction` does not
///         revert, the target still receives its full gas limit and runs.
contract PortalMinGasTest is PortalTestBase {
    GasHungryTarget internal target;
    Types.WithdrawalTransaction internal w;

    uint256 internal constant GAS_LIMIT = 200_000;

    function _setUpWithdrawal(uint256 dataLen) internal {
        target = new GasHungryTarget(GAS_LIMIT - 2_000);
        bytes memory data = new bytes(dataLen);
        data[0] = 0x11;
        Types.WithdrawalTransaction memory wm = _withdrawal(address(target), 0, GAS_LIMIT, data);
        w = wm;
        _proposeAndProve(wm);
        vm.warp(block.timestamp + PERIOD + 1);
    }

    /// @dev Runs finalize with `g` gas, then reverts with (finalizeSucceeded, targetRan) so that
    ///      every probe leaves the state untouched.
    function probe(uint256 g) external {
        bool ok;
        try portal.finalizeWithdrawalTransaction{gas: g}(w) {
            ok = true;
        } catch {
            ok = false;
        }
        bytes memory r = abi.encode(ok, target.hit());
        assembly ("memory-safe") {
            revert(add(r, 32), mload(r))
        }
    }

    function _probe(uint256 g) internal returns (bool ok, bool ran) {
        try this.probe(g) {}
        catch (bytes memory r) {
            (ok, ran) = abi.decode(r, (bool, bool));
        }
    }

    /// @dev Binary search for the smallest gas at which finalize does not revert.
    function _minimumGas() internal returns (uint256 lo, bool ran) {
        lo = 100_000;
        uint256 hi = 3_000_000;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            (bool ok,) = _probe(mid);
            if (ok) hi = mid;
            else lo = mid + 1;
        }
        (, ran) = _probe(lo);
    }

    function test_finalizeWithdrawalTransaction_smallDataAtMinimumGas_succeeds() public {
        _setUpWithdrawal(100);
        (, bool ran) = _minimumGas();
        vm.assertTrue(ran, "the target must get its gas limit");
    }

    function test_finalizeWithdrawalTransaction_largeDataAtMinimumGas_succeeds() public {
        _setUpWithdrawal(64_000);
        (uint256 g, bool ran) = _minimumGas();
        vm.assertTrue(ran, "large calldata: the target must still get its gas limit");
        portal.finalizeWithdrawalTransaction{gas: g}(w);
        vm.assertTrue(portal.finalizedWithdrawals(Hashing.hashWithdrawal(w)));
        vm.assertTrue(target.hit());
    }
}
