// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IL2ToL1MessagePasser
/// @notice The L2 predeploy at 0x4200000000000000000000000000000000000016 where withdrawals start
///         (OP's L2ToL1MessagePasser). `sentMessages` is at storage slot 0, so a withdrawal is
///         proven on L1 by the storage proof of slot `keccak256(abi.encode(withdrawalHash, 0))`
///         holding 1.
interface IL2ToL1MessagePasser {
    /// @notice OP's event: a withdrawal was initiated.
    event MessagePassed(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint256 gasLimit,
        bytes data,
        bytes32 withdrawalHash
    );
    /// @notice OP's event: the contract's balance was burnt.
    event WithdrawerBalanceBurnt(uint256 indexed amount);

    /// @notice Creating the burner contract failed (out of gas).
    error L2ToL1MessagePasser_BurnFailed();

    /// @notice Starts a withdrawal to `_target` on L1 carrying `msg.value`.
    /// @dev Emits {MessagePassed}.
    /// @param _target   L1 account to call.
    /// @param _gasLimit Minimum gas for the L1 call.
    /// @param _data     Calldata for the L1 call.
    function initiateWithdrawal(address _target, uint256 _gasLimit, bytes memory _data) external payable;

    /// @notice Destroys the ETH held by the contract (it is unlocked on L1 by the withdrawals).
    /// @dev Emits {WithdrawerBalanceBurnt}.
    function burn() external;

    /// @notice Whether a withdrawal with this hash was initiated.
    /// @param withdrawalHash The withdrawal hash.
    /// @return True when sent.
    function sentMessages(bytes32 withdrawalHash) external view returns (bool);

    /// @notice The nonce the next withdrawal gets: `MESSAGE_VERSION << 240 | count`.
    /// @return The version-encoded nonce.
    function messageNonce() external view returns (uint256);

    /// @notice The withdrawal format version, 1.
    /// @return The version.
    function MESSAGE_VERSION() external view returns (uint16);
}
