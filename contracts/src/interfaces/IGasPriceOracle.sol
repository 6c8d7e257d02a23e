// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IGasPriceOracle
/// @notice The L2 predeploy at 0x420000000000000000000000000000000000000F that prices the L1 data
///         fee before a transaction is sent: OP Stack's GasPriceOracle ABI (the view functions of its
///         Fjord and Isthmus releases) over the L1 values of the `L1Block` predeploy. The chain starts
///         at Fjord, so the fork flags are constants and there are no setters.
interface IGasPriceOracle {
    /// @notice A function OP removed with Ecotone was called.
    /// @param selector The selector of the deprecated function (`overhead()` or `scalar()`).
    error GasPriceOracle_Deprecated(bytes4 selector);

    /// @notice Number of decimals of the fixed-point scalars.
    /// @return 6.
    function DECIMALS() external view returns (uint256);

    /// @notice Number of decimals of the fixed-point scalars.
    /// @return 6.
    function decimals() external pure returns (uint256);

    /// @notice Semantic version.
    /// @return The version string.
    function version() external pure returns (string memory);

    /// @notice Whether the Ecotone fee rules are active.
    /// @return Always true.
    function isEcotone() external pure returns (bool);

    /// @notice Whether the Fjord fee rules (FastLZ size estimate) are active.
    /// @return Always true.
    function isFjord() external pure returns (bool);

    /// @notice Whether Isthmus (operator fee) is active.
    /// @return Always false: Temporis charges no operator fee.
    function isIsthmus() external pure returns (bool);

    /// @notice The L1 data fee the chain charges a transaction, estimated from its unsigned
    ///         encoding: Fjord's cost of `flzCompressLen(_data) + 68`, the 68 bytes standing in for
    ///         the signature the data lacks.
    /// @param _data The unsigned EIP-2718 encoding of the transaction.
    /// @return The fee in wei.
    function getL1Fee(bytes memory _data) external view returns (uint256);

    /// @notice An upper bound of the L1 data fee of a transaction whose unsigned encoding is
    ///         `_unsignedTxSize` bytes, without its bytes: Fjord's cost of `txSize + txSize / 255 + 16`
    ///         with `txSize = _unsignedTxSize + 68`. As OP's, it is a practical bound (OP measured it
    ///         to cover more than 99.99% of transactions), not a strict one: incompressible data of
    ///         more than 576 bytes can compress to more than it allows.
    /// @param _unsignedTxSize Length of the unsigned EIP-2718 encoding.
    /// @return The fee in wei.
    function getL1FeeUpperBound(uint256 _unsignedTxSize) external view returns (uint256);

    /// @notice Fjord's L1 gas estimate of a transaction: `estimatedSize * 16 / 1e6`, with the
    ///         same `+ 68` as {getL1Fee}.
    /// @param _data The unsigned EIP-2718 encoding of the transaction.
    /// @return The L1 gas.
    function getL1GasUsed(bytes memory _data) external view returns (uint256);

    /// @notice The operator fee (Isthmus) of a transaction using `_gasUsed` gas.
    /// @param _gasUsed The transaction's L2 gas.
    /// @return Always 0: Isthmus is not active.
    function getOperatorFee(uint256 _gasUsed) external view returns (uint256);

    /// @notice The L2 gas price: the block's base fee.
    /// @return `block.basefee`.
    function gasPrice() external view returns (uint256);

    /// @notice The L2 base fee.
    /// @return `block.basefee`.
    function baseFee() external view returns (uint256);

    /// @notice The latest L1 base fee, from `L1Block`.
    /// @return The L1 base fee in wei.
    function l1BaseFee() external view returns (uint256);

    /// @notice The latest L1 blob base fee, from `L1Block`.
    /// @return The L1 blob base fee in wei.
    function blobBaseFee() external view returns (uint256);

    /// @notice The scalar on the L1 base fee, from `L1Block`.
    /// @return The scalar (6 decimals).
    function baseFeeScalar() external view returns (uint32);

    /// @notice The scalar on the L1 blob base fee, from `L1Block`.
    /// @return The scalar (6 decimals).
    function blobBaseFeeScalar() external view returns (uint32);

    /// @notice Bedrock's fee overhead; removed by Ecotone. Always reverts with
    ///         {GasPriceOracle_Deprecated}, as OP's reverts once Ecotone is active.
    /// @return Never returns.
    function overhead() external view returns (uint256);

    /// @notice Bedrock's fee scalar; removed by Ecotone. Always reverts with
    ///         {GasPriceOracle_Deprecated}, as OP's reverts once Ecotone is active.
    /// @return Never returns.
    function scalar() external view returns (uint256);
}
