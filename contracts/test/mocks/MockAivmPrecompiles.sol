// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAivmPrecompiles} from "../../src/interfaces/IAivmPrecompiles.sol";

/// @notice Stand-ins for the AIVM precompiles, etched at their addresses in forge tests (forge's EVM
///         has no AIVM). The real ones are exercised by the Rust tests in aivm/tests/it. Each mock
///         keeps its behaviour in storage so a test can steer it.
contract MockStoreChunk {
    /// @notice Chunks stored so far.
    uint256 public stored;

    fallback(bytes calldata input) external returns (bytes memory) {
        bytes memory data = abi.decode(input[4:], (bytes));
        stored += 1;
        return abi.encode(keccak256(data));
    }
}

/// @notice VERIFY stand-in: answers `reason` (0 = verified) with `detail`.
contract MockVerify {
    uint16 public reason;
    string public detail;

    function set(uint16 reason_, string calldata detail_) external {
        reason = reason_;
        detail = detail_;
    }

    fallback(bytes calldata input) external returns (bytes memory) {
        require(bytes4(input[:4]) == IAivmPrecompiles.verify.selector, "MockVerify: selector");
        return abi.encode(reason, detail);
    }
}

/// @notice INFERENCE stand-in: answers the argmax of the input, echoing it as output and logits.
contract MockInference {
    fallback(bytes calldata input) external returns (bytes memory) {
        (,, int8[] memory x) = abi.decode(input[4:], (bytes32, bytes32, int8[]));
        if (x.length != 4) {
            bytes memory reason = abi.encodeWithSignature("Error(string)", "AIVM: input length");
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
        int32[] memory logits = new int32[](x.length);
        uint256 best;
        for (uint256 i; i < x.length; ++i) {
            logits[i] = x[i];
            if (x[i] > x[best]) best = i;
        }
        return abi.encode(x, logits, best);
    }
}

/// @notice MODEL_INFO stand-in: size, chunks, 4 inputs, 4 outputs, 1 layer, 16 MACs.
contract MockModelInfo {
    fallback(bytes calldata input) external returns (bytes memory) {
        require(input.length == 32, "MockModelInfo: input");
        return abi.encode(uint256(100), uint256(3), uint256(4), uint256(4), uint256(1), uint256(16));
    }
}
