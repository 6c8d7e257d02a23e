// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IL2ToL1MessagePasser} from "../interfaces/IL2ToL1MessagePasser.sol";
import {Hashing} from "../libraries/Hashing.sol";

/// @title L2ToL1MessagePasser
/// @notice L2 predeploy (0x4200000000000000000000000000000000000016) where withdrawals start. Each
///         withdrawal sets `sentMessages[withdrawalHash] = true`; the L1 Portal proves that storage
///         slot against an output root.
/// @dev Storage layout is OP's: slot 0 `sentMessages`, slot 1 `msgNonce` (uint240). The contract has
///      no constructor state: its runtime code is placed in the L2 genesis.
contract L2ToL1MessagePasser is IL2ToL1MessagePasser {
    /// @inheritdoc IL2ToL1MessagePasser
    uint16 public constant MESSAGE_VERSION = 1;
    /// @notice Gas limit of the withdrawal made by sending ETH to this contract (OP's value).
    uint256 public constant RECEIVE_DEFAULT_GAS_LIMIT = 100_000;

    /// @inheritdoc IL2ToL1MessagePasser
    mapping(bytes32 withdrawalHash => bool) public sentMessages;

    /// @dev Withdrawals initiated so far (slot 1).
    uint240 internal msgNonce;

    /// @notice Sending ETH withdraws it to the same address on L1, like
    ///         `initiateWithdrawal(msg.sender, RECEIVE_DEFAULT_GAS_LIMIT, "")`.
    /// @dev Emits {MessagePassed}.
    receive() external payable {
        initiateWithdrawal(msg.sender, RECEIVE_DEFAULT_GAS_LIMIT, "");
    }

    /// @inheritdoc IL2ToL1MessagePasser
    function initiateWithdrawal(address _target, uint256 _gasLimit, bytes memory _data) public payable {
        uint256 nonce = messageNonce();
        bytes32 withdrawalHash = Hashing.hashWithdrawal(nonce, msg.sender, _target, msg.value, _gasLimit, _data);
        sentMessages[withdrawalHash] = true;
        emit MessagePassed(nonce, msg.sender, _target, msg.value, _gasLimit, _data, withdrawalHash);
        // Unchecked: 2^240 withdrawals will not happen.
        unchecked {
            ++msgNonce;
        }
    }

    /// @inheritdoc IL2ToL1MessagePasser
    function burn() external {
        uint256 amount = address(this).balance;
        // Init code `ADDRESS SELFDESTRUCT` (0x30ff): a contract created and self-destructed to itself
        // in one transaction is deleted with its balance (EIP-6780 keeps this case), destroying it.
        address burner;
        assembly ("memory-safe") {
            mstore(0, 0x30ff)
            burner := create(amount, 30, 2)
        }
        if (burner == address(0)) revert L2ToL1MessagePasser_BurnFailed();
        emit WithdrawerBalanceBurnt(amount);
    }

    /// @inheritdoc IL2ToL1MessagePasser
    function messageNonce() public view returns (uint256) {
        // Version in the top two bytes, count below (OP's Encoding.encodeVersionedNonce).
        return (uint256(MESSAGE_VERSION) << 240) | msgNonce;
    }
}
