// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPortal} from "../../src/interfaces/IPortal.sol";
import {Types} from "../../src/libraries/Types.sol";

/// @notice Withdrawal target that records what it was called with and who the L2 sender was.
contract Recorder {
    uint256 public recorded;
    uint256 public received;
    address public l2SenderSeen;
    uint256 public calls;

    function record(uint256 x) external payable {
        recorded = x;
        received += msg.value;
        l2SenderSeen = IPortal(msg.sender).l2Sender();
        ++calls;
    }

    receive() external payable {
        received += msg.value;
        ++calls;
    }
}

/// @notice Withdrawal target (or bond holder) that rejects every call.
contract Rejecter {
    error Rejecter_No();

    fallback() external payable {
        revert Rejecter_No();
    }
}

/// @notice Withdrawal target that, when called, tries to finalize a withdrawal again (its own or
///         another) and records the revert data it got.
contract ReentrantFinalizer {
    Types.WithdrawalTransaction internal _next;
    bool internal _armed;
    bytes public lastError;
    bool public reentrySucceeded;

    function arm(Types.WithdrawalTransaction calldata next) external {
        _next = next;
        _armed = true;
    }

    receive() external payable {
        if (!_armed) return;
        _armed = false;
        try IPortal(msg.sender).finalizeWithdrawalTransaction(_next) {
            reentrySucceeded = true;
        } catch (bytes memory reason) {
            lastError = reason;
        }
    }
}
