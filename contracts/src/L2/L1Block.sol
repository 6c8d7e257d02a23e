// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IL1Block} from "../interfaces/IL1Block.sol";

/// @title L1Block
/// @notice L2 predeploy (0x4200000000000000000000000000000000000015) holding the attributes of the
///         latest L1 block, written by the first deposit transaction of each L2 block.
/// @dev The storage layout is OP's (Ecotone) slot for slot, so that tools reading the slots and the
///      packed `setL1BlockValuesEcotone` calldata work unchanged:
///        slot 0: number (uint64) | timestamp (uint64 at byte 8)
///        slot 1: basefee            slot 2: hash
///        slot 3: sequenceNumber (uint64) | blobBaseFeeScalar (uint32 at 8) | baseFeeScalar (uint32 at 12)
///        slot 4: batcherHash        slot 5: l1FeeOverhead     slot 6: l1FeeScalar    slot 7: blobBaseFee
///      The contract has no constructor state: its runtime code is placed in the L2 genesis.
contract L1Block is IL1Block {
    /// @inheritdoc IL1Block
    address public constant DEPOSITOR_ACCOUNT = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    /// @inheritdoc IL1Block
    uint64 public number;
    /// @inheritdoc IL1Block
    uint64 public timestamp;
    /// @inheritdoc IL1Block
    uint256 public basefee;
    /// @inheritdoc IL1Block
    bytes32 public hash;
    /// @inheritdoc IL1Block
    uint64 public sequenceNumber;
    /// @inheritdoc IL1Block
    uint32 public blobBaseFeeScalar;
    /// @inheritdoc IL1Block
    uint32 public baseFeeScalar;
    /// @inheritdoc IL1Block
    bytes32 public batcherHash;
    /// @inheritdoc IL1Block
    uint256 public l1FeeOverhead;
    /// @inheritdoc IL1Block
    uint256 public l1FeeScalar;
    /// @inheritdoc IL1Block
    uint256 public blobBaseFee;

    /// @inheritdoc IL1Block
    function setL1BlockValues(
        uint64 _number,
        uint64 _timestamp,
        uint256 _basefee,
        bytes32 _hash,
        uint64 _sequenceNumber,
        bytes32 _batcherHash,
        uint256 _l1FeeOverhead,
        uint256 _l1FeeScalar
    ) external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert L1Block_NotDepositor(msg.sender);
        number = _number;
        timestamp = _timestamp;
        basefee = _basefee;
        hash = _hash;
        sequenceNumber = _sequenceNumber;
        batcherHash = _batcherHash;
        l1FeeOverhead = _l1FeeOverhead;
        l1FeeScalar = _l1FeeScalar;
    }

    /// @inheritdoc IL1Block
    function setL1BlockValuesEcotone() external {
        if (msg.sender != DEPOSITOR_ACCOUNT) revert L1Block_NotDepositor(msg.sender);
        assembly {
            // Calldata after the selector: baseFeeScalar(4) blobBaseFeeScalar(4) sequenceNumber(8)
            // timestamp(8) number(8) basefee(32) blobBaseFee(32) hash(32) batcherHash(32).
            // Bytes 4..20 read as one 128-bit number are, low bits first, sequenceNumber,
            // blobBaseFeeScalar, baseFeeScalar: slot 3's packing.
            sstore(sequenceNumber.slot, shr(128, calldataload(4)))
            // Bytes 20..36: number in the low 64 bits, timestamp above: slot 0's packing.
            sstore(number.slot, shr(128, calldataload(20)))
            sstore(basefee.slot, calldataload(36))
            sstore(blobBaseFee.slot, calldataload(68))
            sstore(hash.slot, calldataload(100))
            sstore(batcherHash.slot, calldataload(132))
        }
    }
}
