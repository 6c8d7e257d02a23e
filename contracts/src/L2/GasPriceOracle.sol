// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGasPriceOracle} from "../interfaces/IGasPriceOracle.sol";
import {IL1Block} from "../interfaces/IL1Block.sol";
import {FastLZ} from "../libraries/FastLZ.sol";

/// @title GasPriceOracle
/// @notice L2 predeploy (0x420000000000000000000000000000000000000F) that prices the L1 data fee
///         before a transaction is sent, so that OP tooling (viem's `estimateL1Fee`, the op SDK,
///         wallets) works unchanged. Same ABI and results as OP's GasPriceOracle with Fjord active:
///           getL1Fee(data)        = fjordL1Cost(flzCompressLen(data) + 68)
///           fjordL1Cost(size)     = max(100e6, -42_585_600 + 836_500 * size)
///                                   * (baseFeeScalar * l1BaseFee * 16 + blobBaseFeeScalar * blobBaseFee) / 1e12
///         which is the fee the STF charges (`aivm/src/l1fee.rs`, docs/l1-fee.md) except that it is
///         computed from the unsigned transaction, 68 bytes standing in for the signature.
/// @dev The chain starts at Fjord: `isEcotone` and `isFjord` are constants, there is no
///      `setEcotone`/`setFjord`, and the contract has no storage at all (its runtime code is
///      placed in the L2 genesis, as `L1Block`'s is). The L1 values are read from `L1Block` on
///      every call. Arithmetic is checked: where the Rust fee saturates, this reverts, which
///      needs an L1 base fee above 2^219 wei.
contract GasPriceOracle is IGasPriceOracle {
    /// @notice The `L1Block` predeploy the L1 values come from.
    IL1Block internal constant L1_BLOCK = IL1Block(0x4200000000000000000000000000000000000015);

    /// @inheritdoc IGasPriceOracle
    uint256 public constant DECIMALS = 6;

    /// @notice Fjord's floor on the size estimate: 100 bytes, scaled by 1e6.
    uint256 internal constant MIN_TRANSACTION_SIZE_SCALED = 100e6;
    /// @notice Fjord's intercept of the size estimate (bytes scaled by 1e6).
    int256 internal constant COST_INTERCEPT = -42_585_600;
    /// @notice Fjord's FastLZ coefficient of the size estimate (bytes scaled by 1e6 per byte).
    uint256 internal constant COST_FASTLZ_COEF = 836_500;
    /// @notice Bytes added to an unsigned transaction's size for its missing signature.
    uint256 internal constant SIGNATURE_ALLOWANCE = 68;

    /// @inheritdoc IGasPriceOracle
    function decimals() external pure returns (uint256) {
        return DECIMALS;
    }

    /// @inheritdoc IGasPriceOracle
    /// @dev The version of OP's GasPriceOracle whose view functions this one has (Isthmus' ABI,
    ///      with Isthmus inactive).
    function version() external pure returns (string memory) {
        return "1.4.0";
    }

    /// @inheritdoc IGasPriceOracle
    function isEcotone() external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IGasPriceOracle
    function isFjord() external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IGasPriceOracle
    function isIsthmus() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IGasPriceOracle
    function getL1Fee(bytes memory _data) external view returns (uint256) {
        return _fjordL1Cost(FastLZ.flzCompressLen(_data) + SIGNATURE_ALLOWANCE);
    }

    /// @inheritdoc IGasPriceOracle
    function getL1FeeUpperBound(uint256 _unsignedTxSize) external view returns (uint256) {
        uint256 txSize = _unsignedTxSize + SIGNATURE_ALLOWANCE;
        // FastLZ's practical worst case, borrowed by OP from LZ4: 1/255 of the input plus 16.
        return _fjordL1Cost(txSize + txSize / 255 + 16);
    }

    /// @inheritdoc IGasPriceOracle
    function getL1GasUsed(bytes memory _data) external pure returns (uint256) {
        // As if the compressed bytes were all non-zero calldata: 16 gas each.
        return _fjordEstimatedSize(FastLZ.flzCompressLen(_data) + SIGNATURE_ALLOWANCE) * 16 / 1e6;
    }

    /// @inheritdoc IGasPriceOracle
    function getOperatorFee(uint256) external pure returns (uint256) {
        return 0;
    }

    /// @inheritdoc IGasPriceOracle
    function gasPrice() external view returns (uint256) {
        return block.basefee;
    }

    /// @inheritdoc IGasPriceOracle
    function baseFee() external view returns (uint256) {
        return block.basefee;
    }

    /// @inheritdoc IGasPriceOracle
    function l1BaseFee() public view returns (uint256) {
        return L1_BLOCK.basefee();
    }

    /// @inheritdoc IGasPriceOracle
    function blobBaseFee() public view returns (uint256) {
        return L1_BLOCK.blobBaseFee();
    }

    /// @inheritdoc IGasPriceOracle
    function baseFeeScalar() public view returns (uint32) {
        return L1_BLOCK.baseFeeScalar();
    }

    /// @inheritdoc IGasPriceOracle
    function blobBaseFeeScalar() public view returns (uint32) {
        return L1_BLOCK.blobBaseFeeScalar();
    }

    /// @inheritdoc IGasPriceOracle
    function overhead() external pure returns (uint256) {
        revert GasPriceOracle_Deprecated(IGasPriceOracle.overhead.selector);
    }

    /// @inheritdoc IGasPriceOracle
    function scalar() external pure returns (uint256) {
        revert GasPriceOracle_Deprecated(IGasPriceOracle.scalar.selector);
    }

    /// @notice Fjord's L1 fee of a transaction whose FastLZ size (signature included) is
    ///         `_fastLzSize`, at the L1 values in `L1Block`.
    /// @param _fastLzSize The compressed size in bytes.
    /// @return The fee in wei.
    function _fjordL1Cost(uint256 _fastLzSize) internal view returns (uint256) {
        uint256 feeScaled = uint256(baseFeeScalar()) * 16 * l1BaseFee() + uint256(blobBaseFeeScalar()) * blobBaseFee();
        return _fjordEstimatedSize(_fastLzSize) * feeScaled / 1e12;
    }

    /// @notice Fjord's linear regression of a transaction's share of a compressed batch on its
    ///         FastLZ size, floored at 100 bytes.
    /// @param _fastLzSize The compressed size in bytes.
    /// @return The estimated size in bytes, scaled by 1e6.
    function _fjordEstimatedSize(uint256 _fastLzSize) internal pure returns (uint256) {
        uint256 scaled = COST_FASTLZ_COEF * _fastLzSize;
        // The intercept is negative: below the floor whenever the product does not exceed the
        // floor plus its magnitude, so the subtraction below cannot underflow.
        if (scaled <= MIN_TRANSACTION_SIZE_SCALED + uint256(-COST_INTERCEPT)) return MIN_TRANSACTION_SIZE_SCALED;
        return scaled - uint256(-COST_INTERCEPT);
    }
}
