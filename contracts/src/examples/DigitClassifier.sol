// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title DigitClassifier
/// @notice An example consumer of on-chain inference: classifies 8×8 digit images (64 int8 pixels)
///         with a model (and optional LoRA adapter) published through the ModelRegistry predeploy,
///         and keeps the latest result in storage.
contract DigitClassifier {
    /// @notice The registry that runs inference.
    IModelRegistry public immutable registry;
    /// @notice Content id of the model.
    bytes32 public immutable model;
    /// @notice Content id of the adapter, or zero.
    bytes32 public immutable adapter;

    /// @notice The digit of the latest classification.
    uint256 public lastDigit;
    /// @notice Who asked for the latest classification.
    address public lastCaller;
    /// @notice Number of classifications so far.
    uint256 public classifications;
    int32[] internal _lastLogits;

    /// @notice An image was classified.
    /// @param caller Who asked.
    /// @param digit  The class (argmax of the logits).
    /// @param output The model's int8 output.
    /// @param logits The model's int32 logits.
    event Classified(address indexed caller, uint256 digit, int8[] output, int32[] logits);

    /// @param registry_ The ModelRegistry predeploy.
    /// @param model_    Content id of the model.
    /// @param adapter_  Content id of the adapter, or zero.
    constructor(IModelRegistry registry_, bytes32 model_, bytes32 adapter_) {
        registry = registry_;
        model = model_;
        adapter = adapter_;
    }

    /// @notice Classifies one image and records the result.
    /// @param pixels The image, 64 int8 values.
    /// @return digit The class.
    /// Emits {Classified}.
    function classify(int8[] calldata pixels) external returns (uint256 digit) {
        (int8[] memory output, int32[] memory logits, uint256 argmax) = registry.infer(model, adapter, pixels);
        digit = argmax;
        lastDigit = digit;
        lastCaller = msg.sender;
        _lastLogits = logits;
        classifications += 1;
        emit Classified(msg.sender, digit, output, logits);
    }

    /// @notice The logits of the latest classification.
    /// @return The logits.
    function lastLogits() external view returns (int32[] memory) {
        return _lastLogits;
    }
}
