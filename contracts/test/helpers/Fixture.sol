// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Types} from "../../src/libraries/Types.sol";
import {Vm} from "../utils/Test.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @notice One withdrawal of test/fixtures/withdrawals.json with its storage proof.
struct FixtureWithdrawal {
    Types.WithdrawalTransaction tx_;
    bytes32 withdrawalHash;
    bytes32 slot;
    uint256 storedValue;
    bytes[] proof;
}

/// @notice Reads test/fixtures/withdrawals.json (real eth_getProof output from anvil, see generate.sh).
library Fixture {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    string internal constant PATH = "/test/fixtures/withdrawals.json";

    function load() internal view returns (string memory) {
        return vm.readFile(string.concat(vm.projectRoot(), PATH));
    }

    function withdrawalCount(string memory json) internal pure returns (uint256) {
        return vm.parseJsonUint(json, ".withdrawalCount");
    }

    /// @notice The v0 output root proof of the fixture's block.
    function outputRootProof(string memory json) internal pure returns (Types.OutputRootProof memory) {
        return Types.OutputRootProof({
            version: bytes32(0),
            stateRoot: vm.parseJsonBytes32(json, ".stateRoot"),
            messagePasserStorageRoot: vm.parseJsonBytes32(json, ".messagePasserStorageRoot"),
            latestBlockhash: vm.parseJsonBytes32(json, ".blockHash")
        });
    }

    /// @notice Withdrawal `i` of `.withdrawals`.
    function withdrawal(string memory json, uint256 i) internal pure returns (FixtureWithdrawal memory) {
        return entry(json, string.concat(".withdrawals[", Strings.toString(i), "]"));
    }

    /// @notice The entry at `key` (e.g. ".unsent", ".wrongValue").
    function entry(string memory json, string memory key) internal pure returns (FixtureWithdrawal memory w) {
        w.tx_ = Types.WithdrawalTransaction({
            nonce: vm.parseJsonUint(json, string.concat(key, ".nonce")),
            sender: vm.parseJsonAddress(json, string.concat(key, ".sender")),
            target: vm.parseJsonAddress(json, string.concat(key, ".target")),
            value: vm.parseJsonUint(json, string.concat(key, ".value")),
            gasLimit: vm.parseJsonUint(json, string.concat(key, ".gasLimit")),
            data: vm.parseJsonBytes(json, string.concat(key, ".data"))
        });
        w.withdrawalHash = vm.parseJsonBytes32(json, string.concat(key, ".withdrawalHash"));
        w.slot = vm.parseJsonBytes32(json, string.concat(key, ".slot"));
        w.storedValue = vm.parseJsonUint(json, string.concat(key, ".storedValue"));
        w.proof = vm.parseJsonBytesArray(json, string.concat(key, ".proof"));
    }
}
