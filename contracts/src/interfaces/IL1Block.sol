// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IL1Block
/// @notice The L2 predeploy at 0x4200000000000000000000000000000000000015 that holds the latest L1
///         block the L2 has seen (OP's L1Block, Bedrock and Ecotone). The sequencer writes it in the
///         first (deposit) transaction of every L2 block, from the depositor account
///         0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001.
interface IL1Block {
    /// @notice The caller is not the depositor account.
    error L1Block_NotDepositor(address caller);

    /// @notice Bedrock's update: all L1 attributes as ABI arguments. Depositor only.
    /// @param _number         L1 block number.
    /// @param _timestamp      L1 block timestamp.
    /// @param _basefee        L1 base fee.
    /// @param _hash           L1 block hash.
    /// @param _sequenceNumber Number of L2 blocks since the start of this epoch.
    /// @param _batcherHash    Versioned hash of the batcher address.
    /// @param _l1FeeOverhead  L1 fee overhead.
    /// @param _l1FeeScalar    L1 fee scalar.
    function setL1BlockValues(
        uint64 _number,
        uint64 _timestamp,
        uint256 _basefee,
        bytes32 _hash,
        uint64 _sequenceNumber,
        bytes32 _batcherHash,
        uint256 _l1FeeOverhead,
        uint256 _l1FeeScalar
    ) external;

    /// @notice Ecotone's update, packed in raw calldata after the selector (160 bytes):
    ///         baseFeeScalar (uint32), blobBaseFeeScalar (uint32), sequenceNumber (uint64),
    ///         timestamp (uint64), number (uint64), basefee (uint256), blobBaseFee (uint256),
    ///         hash (bytes32), batcherHash (bytes32). Depositor only.
    function setL1BlockValuesEcotone() external;

    /// @notice The depositor account.
    /// @return 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001.
    function DEPOSITOR_ACCOUNT() external view returns (address);

    /// @notice L1 block number.
    /// @return The number.
    function number() external view returns (uint64);
    /// @notice L1 block timestamp.
    /// @return The timestamp.
    function timestamp() external view returns (uint64);
    /// @notice L1 base fee.
    /// @return The base fee in wei.
    function basefee() external view returns (uint256);
    /// @notice L1 block hash.
    /// @return The hash.
    function hash() external view returns (bytes32);
    /// @notice Number of L2 blocks since the start of this epoch.
    /// @return The sequence number.
    function sequenceNumber() external view returns (uint64);
    /// @notice Scalar on the L1 blob base fee (Ecotone).
    /// @return The scalar.
    function blobBaseFeeScalar() external view returns (uint32);
    /// @notice Scalar on the L1 base fee (Ecotone).
    /// @return The scalar.
    function baseFeeScalar() external view returns (uint32);
    /// @notice Versioned hash of the batcher address.
    /// @return The hash.
    function batcherHash() external view returns (bytes32);
    /// @notice L1 fee overhead (Bedrock; unused since Ecotone).
    /// @return The overhead.
    function l1FeeOverhead() external view returns (uint256);
    /// @notice L1 fee scalar (Bedrock; unused since Ecotone).
    /// @return The scalar.
    function l1FeeScalar() external view returns (uint256);
    /// @notice L1 blob base fee (Ecotone).
    /// @return The blob base fee in wei.
    function blobBaseFee() external view returns (uint256);
}
