// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GasPriceOracle} from "../../src/L2/GasPriceOracle.sol";
import {L1Block} from "../../src/L2/L1Block.sol";
import {IGasPriceOracle} from "../../src/interfaces/IGasPriceOracle.sol";
import {IL1Block} from "../../src/interfaces/IL1Block.sol";
import {FastLZ} from "../../src/libraries/FastLZ.sol";
import {Test} from "../utils/Test.sol";

/// @notice Exposes the library to the tests.
contract FastLZHarness {
    function flzCompressLen(bytes memory data) external pure returns (uint256) {
        return FastLZ.flzCompressLen(data);
    }
}

contract GasPriceOracleTest is Test {
    address internal constant ORACLE = 0x420000000000000000000000000000000000000F;
    address internal constant L1_BLOCK = 0x4200000000000000000000000000000000000015;
    address internal constant DEPOSITOR = 0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001;

    // OP mainnet block 124665056's L1 values (docs/l1-fee.md, worked example).
    uint256 internal constant OP_L1_BASE_FEE = 1_055_991_687;
    uint256 internal constant OP_BLOB_BASE_FEE = 1;
    uint32 internal constant OP_BASE_FEE_SCALAR = 5227;
    uint32 internal constant OP_BLOB_BASE_FEE_SCALAR = 1_014_213;

    IGasPriceOracle internal oracle = IGasPriceOracle(ORACLE);
    FastLZHarness internal flz;

    function setUp() public {
        vm.etch(L1_BLOCK, address(new L1Block()).code);
        vm.etch(ORACLE, address(new GasPriceOracle()).code);
        flz = new FastLZHarness();
        _setL1(OP_BASE_FEE_SCALAR, OP_BLOB_BASE_FEE_SCALAR, OP_L1_BASE_FEE, OP_BLOB_BASE_FEE);
    }

    // ---------------------------------------------------------------- FastLZ

    function test_flzCompressLen_referenceVectors_succeeds() public view {
        // The vectors of op-alloy-flz's `flz_compress_len` (and op-geth's FlzCompressLen).
        vm.assertEq(flz.flzCompressLen(""), 0);
        vm.assertEq(flz.flzCompressLen(new bytes(1000)), 21);
        vm.assertEq(flz.flzCompressLen(_repeat(0x2a, 1000)), 21);
        vm.assertEq(flz.flzCompressLen(hex"FACADE"), 4);
        vm.assertEq(
            flz.flzCompressLen(
                hex"02f901550a758302df1483be21b88304743f94f80e51afb613d764fa61751affd3313c190a86bb870151bd62fd12adb8e41ef24f3f000000000000000000000000000000000000000000000000000000000000006e000000000000000000000000af88d065e77c8cc2239327c5edb3a432268e5831000000000000000000000000000000000000000000000000000000000003c1e5000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a000000000000000000000000000000000000000000000000000000000000000148c89ed219d02f1a5be012c689b4f5b731827bebe000000000000000000000000c001a033fd89cb37c31b2cba46b6466e040c61fc9b2a3675a7f5f493ebd5ad77c497f8a07cdf65680e238392693019b4092f610222e71b7cec06449cb922b93b6a12744e"
            ),
            202
        );
        // The OP mainnet Fjord transaction of docs/l1-fee.md: 1176 bytes, 385 compressed.
        bytes memory opTx = _opMainnetTx();
        vm.assertEq(opTx.length, 1176);
        vm.assertEq(flz.flzCompressLen(opTx), 385);
    }

    function test_flzCompressLen_shortInputs_areLiterals_succeeds() public view {
        // Under 13 bytes nothing is matched: one header byte and the bytes.
        for (uint256 n = 1; n < 13; n++) {
            vm.assertEq(flz.flzCompressLen(new bytes(n)), n + 1);
        }
    }

    function test_flzCompressLen_noRepeats_grows_succeeds() public view {
        // 0, 1, ..., 255: no 3-byte sequence repeats, so every prefix is all literals and each
        // byte adds to the length.
        bytes memory data = new bytes(256);
        for (uint256 i = 0; i < 256; i++) {
            data[i] = bytes1(uint8(i));
        }
        uint256 previous;
        for (uint256 n = 1; n <= 256; n++) {
            // The first n bytes, in place.
            assembly ("memory-safe") {
                mstore(data, n)
            }
            uint256 len = flz.flzCompressLen(data);
            vm.assertGt(len, previous);
            vm.assertEq(len, _literals(n));
            previous = len;
        }
    }

    function test_flzCompressLen_longMatch_succeeds() public view {
        // 10 KiB of one byte: literals for the first bytes, then matches of 262-byte steps.
        uint256 len = flz.flzCompressLen(new bytes(10_240));
        vm.assertLt(len, 200);
        vm.assertGt(len, 100);
    }

    function testFuzz_flzCompressLen_atMostLiterals(bytes memory data) public view {
        // A match costs no more than the literals it replaces (with the header byte a split run
        // may add), so the length never exceeds the all-literals encoding.
        vm.assertLe(flz.flzCompressLen(data), _literals(data.length));
    }

    function testFuzz_flzCompressLen_repeatedData_compresses(uint256 seed, uint256 copies) public view {
        // 16 pseudo-random bytes repeated: matches cover all but the first copy and the tail.
        copies = bound(copies, 8, 400);
        bytes16 unit = bytes16(keccak256(abi.encode(seed)));
        bytes memory data;
        for (uint256 i = 0; i < copies; i++) {
            data = abi.encodePacked(data, unit);
        }
        vm.assertLe(flz.flzCompressLen(data), 64 + 3 * (data.length / 262));
    }

    // ---------------------------------------------------------------- getL1Fee, getL1GasUsed

    function test_getL1Fee_opMainnetWorkedExample_succeeds() public view {
        // 307 bytes of a two-byte counter have no repeated 3-byte sequence: 317 compressed, so
        // with the 68 bytes of the missing signature the size is the example's 385.
        bytes memory data = _counter(307);
        vm.assertEq(flz.flzCompressLen(data), 317);
        vm.assertEq(oracle.getL1Fee(data), 24_681_034_813);
        vm.assertEq(oracle.getL1Fee(data), 0x5bf1ab43d);
        vm.assertEq(oracle.getL1GasUsed(data), 4471);
    }

    function test_getL1Fee_opMainnetUnsignedTx_succeeds() public view {
        // The example transaction without its signature (1109 bytes) compresses to 320: 388
        // with the 68, 3 bytes over the signed transaction's 385. The estimate is 0.9% above
        // the fee OP charged (24 681 034 813 wei): the random signature adds 65 compressed bytes
        // here, not 68.
        bytes memory unsigned = _unsigned(_opMainnetTx());
        vm.assertEq(unsigned.length, 1109);
        vm.assertEq(flz.flzCompressLen(unsigned), 320);
        // (836 500 * 388 - 42 585 600) * 88 314 697 781 397 / 1e12.
        vm.assertEq(oracle.getL1Fee(unsigned), 24_902_660_547);
        vm.assertEq(oracle.getL1GasUsed(unsigned), 4511);
        vm.assertGe(oracle.getL1Fee(unsigned), 24_681_034_813);
        // The upper bound from its length alone: 1109 + 68 = 1177, + 1177 / 255 + 16 = 1197.
        vm.assertEq(oracle.getL1FeeUpperBound(unsigned.length), 84_667_733_505);
        vm.assertGe(oracle.getL1FeeUpperBound(unsigned.length), oracle.getL1Fee(unsigned));
    }

    function test_getL1Fee_smallData_floor_succeeds() public view {
        // 0 + 68 bytes estimate 56.9e6 bytes: under the 100-byte floor.
        uint256 feeScaled = _feeScaled(OP_BASE_FEE_SCALAR, OP_BLOB_BASE_FEE_SCALAR, OP_L1_BASE_FEE, OP_BLOB_BASE_FEE);
        vm.assertEq(oracle.getL1Fee(""), 100e6 * feeScaled / 1e12);
        vm.assertEq(oracle.getL1Fee(hex"01"), 100e6 * feeScaled / 1e12);
        vm.assertEq(oracle.getL1GasUsed(""), 1600);
        vm.assertEq(oracle.getL1FeeUpperBound(0), 100e6 * feeScaled / 1e12);
    }

    function test_getL1Fee_opRevmValues_succeeds() public {
        // op-revm's test values: all four 1000, so the fee scaled is 17e6.
        _setL1(1000, 1000, 1000, 1000);
        // FACADE compresses to 4 bytes, 72 with the 68: under the 100-byte floor.
        vm.assertEq(oracle.getL1Fee(hex"FACADE"), 100e6 * 17e6 / 1e12);
        vm.assertEq(oracle.getL1Fee(hex"FACADE"), 1700);
        // 194 literals: 6 runs of 32 (198 bytes) and one of 2 (3 bytes); 269 with the 68.
        bytes memory data = _counter(194);
        vm.assertEq(flz.flzCompressLen(data), 201);
        vm.assertEq(oracle.getL1Fee(data), uint256(836_500 * 269 - 42_585_600) * 17e6 / 1e12);
    }

    function test_getL1Fee_noL1Values_isZero_succeeds() public {
        // A chain whose L1Block was never written (standalone dev) charges and quotes nothing.
        for (uint256 i = 0; i < 8; i++) {
            vm.store(L1_BLOCK, bytes32(i), bytes32(0));
        }
        vm.assertEq(oracle.getL1Fee(_opMainnetTx()), 0);
        vm.assertEq(oracle.getL1FeeUpperBound(1000), 0);
        vm.assertEq(oracle.getL1GasUsed(_opMainnetTx()), uint256(836_500 * (385 + 68) - 42_585_600) * 16 / 1e6);
    }

    function test_getL1FeeUpperBound_incompressibleKiB_isExceeded_succeeds() public view {
        // OP's bound is practical, not strict: 1000 bytes without repeats compress to 1032, and
        // 1032 + 68 = 1100 > 1068 + 1068 / 255 + 16 = 1088.
        bytes memory data = _counter(1000);
        vm.assertEq(flz.flzCompressLen(data), 1032);
        vm.assertGt(oracle.getL1Fee(data), oracle.getL1FeeUpperBound(data.length));
    }

    function testFuzz_getL1Fee_matchesFormula(
        bytes memory data,
        uint32 baseFeeScalar,
        uint32 blobBaseFeeScalar,
        uint64 l1BaseFee,
        uint64 blobBaseFee
    ) public {
        _setL1(baseFeeScalar, blobBaseFeeScalar, l1BaseFee, blobBaseFee);
        uint256 size = _estimatedSize(flz.flzCompressLen(data) + 68);
        uint256 feeScaled = _feeScaled(baseFeeScalar, blobBaseFeeScalar, l1BaseFee, blobBaseFee);
        vm.assertEq(oracle.getL1Fee(data), size * feeScaled / 1e12);
        vm.assertEq(oracle.getL1GasUsed(data), size * 16 / 1e6);
    }

    function testFuzz_getL1FeeUpperBound_coversDataUpTo576Bytes(bytes memory data, uint64 l1BaseFee) public {
        // Up to 576 bytes even incompressible data fits the bound (see the test above).
        if (data.length > 576) {
            assembly ("memory-safe") {
                mstore(data, 576)
            }
        }
        _setL1(OP_BASE_FEE_SCALAR, OP_BLOB_BASE_FEE_SCALAR, l1BaseFee, OP_BLOB_BASE_FEE);
        vm.assertGe(oracle.getL1FeeUpperBound(data.length), oracle.getL1Fee(data));
    }

    function testFuzz_getL1FeeUpperBound_coversCompressibleData(uint256 seed, uint256 length) public view {
        // Transaction-like data of any size: random words separated by zero padding, as in ABI
        // calldata.
        length = bound(length, 0, 20_000);
        bytes memory data = new bytes(length);
        for (uint256 i = 0; i + 32 <= length; i += 64) {
            bytes32 word = keccak256(abi.encode(seed, i));
            assembly ("memory-safe") {
                mstore(add(add(data, 0x20), i), word)
            }
        }
        vm.assertGe(oracle.getL1FeeUpperBound(length), oracle.getL1Fee(data));
    }

    function testFuzz_getL1FeeUpperBound_monotonicInSize(uint256 a, uint256 b) public view {
        a = bound(a, 0, 1e9);
        b = bound(b, a, 1e9);
        vm.assertLe(oracle.getL1FeeUpperBound(a), oracle.getL1FeeUpperBound(b));
    }

    function testFuzz_getL1Fee_monotonicInScalars(
        bytes memory data,
        uint32 baseFeeScalar,
        uint32 blobBaseFeeScalar,
        uint32 moreBase,
        uint32 moreBlob
    ) public {
        moreBase = uint32(bound(moreBase, baseFeeScalar, type(uint32).max));
        moreBlob = uint32(bound(moreBlob, blobBaseFeeScalar, type(uint32).max));
        _setL1(baseFeeScalar, blobBaseFeeScalar, OP_L1_BASE_FEE, 3 gwei);
        uint256 fee = oracle.getL1Fee(data);
        uint256 bound_ = oracle.getL1FeeUpperBound(data.length);
        _setL1(moreBase, moreBlob, OP_L1_BASE_FEE, 3 gwei);
        vm.assertLe(fee, oracle.getL1Fee(data));
        vm.assertLe(bound_, oracle.getL1FeeUpperBound(data.length));
    }

    function testFuzz_getL1Fee_monotonicInL1Fees(
        bytes memory data,
        uint128 l1BaseFee,
        uint128 blobBaseFee,
        uint128 more
    ) public {
        _setL1(OP_BASE_FEE_SCALAR, OP_BLOB_BASE_FEE_SCALAR, l1BaseFee, blobBaseFee);
        uint256 fee = oracle.getL1Fee(data);
        _setL1(OP_BASE_FEE_SCALAR, OP_BLOB_BASE_FEE_SCALAR, uint256(l1BaseFee) + more, uint256(blobBaseFee) + more);
        vm.assertLe(fee, oracle.getL1Fee(data));
    }

    // ---------------------------------------------------------------- L1 and L2 values

    function test_l1Values_readL1Block_succeeds() public {
        vm.assertEq(oracle.l1BaseFee(), OP_L1_BASE_FEE);
        vm.assertEq(oracle.blobBaseFee(), OP_BLOB_BASE_FEE);
        vm.assertEq(uint256(oracle.baseFeeScalar()), OP_BASE_FEE_SCALAR);
        vm.assertEq(uint256(oracle.blobBaseFeeScalar()), OP_BLOB_BASE_FEE_SCALAR);
        _setL1(1368, 810_949, 30 gwei, 2 gwei);
        vm.assertEq(oracle.l1BaseFee(), 30 gwei);
        vm.assertEq(oracle.blobBaseFee(), 2 gwei);
        vm.assertEq(uint256(oracle.baseFeeScalar()), 1368);
        vm.assertEq(uint256(oracle.blobBaseFeeScalar()), 810_949);
    }

    function test_gasPrice_isL2BaseFee_succeeds() public {
        vm.fee(7 gwei);
        vm.assertEq(oracle.gasPrice(), 7 gwei);
        vm.assertEq(oracle.baseFee(), 7 gwei);
    }

    function test_constants_areFjords_succeeds() public view {
        vm.assertEq(oracle.decimals(), 6);
        vm.assertEq(oracle.DECIMALS(), 6);
        vm.assertTrue(oracle.isEcotone());
        vm.assertTrue(oracle.isFjord());
        vm.assertFalse(oracle.isIsthmus());
        vm.assertEq(oracle.getOperatorFee(1_000_000), 0);
        vm.assertEq(oracle.version(), "1.4.0");
    }

    function test_overhead_deprecated_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IGasPriceOracle.GasPriceOracle_Deprecated.selector, IGasPriceOracle.overhead.selector
            )
        );
        oracle.overhead();
    }

    function test_scalar_deprecated_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IGasPriceOracle.GasPriceOracle_Deprecated.selector, IGasPriceOracle.scalar.selector)
        );
        oracle.scalar();
    }

    function test_selectors_areOps_succeeds() public pure {
        // The selectors OP tooling calls (viem's gasPriceOracleAbi).
        vm.assertEq(uint256(uint32(IGasPriceOracle.getL1Fee.selector)), 0x49948e0e);
        vm.assertEq(uint256(uint32(IGasPriceOracle.getL1GasUsed.selector)), 0xde26c4a1);
        vm.assertEq(uint256(uint32(IGasPriceOracle.getL1FeeUpperBound.selector)), 0xf1c7a58b);
        vm.assertEq(uint256(uint32(IGasPriceOracle.l1BaseFee.selector)), 0x519b4bd3);
    }

    function test_storage_isEmpty_succeeds() public view {
        // No state of its own: the runtime code alone is the predeploy.
        for (uint256 i = 0; i < 8; i++) {
            vm.assertEq(vm.load(ORACLE, bytes32(i)), bytes32(0));
        }
    }

    // ---------------------------------------------------------------- helpers

    function _setL1(uint32 baseFeeScalar, uint32 blobBaseFeeScalar, uint256 l1BaseFee, uint256 blobBaseFee) internal {
        vm.prank(DEPOSITOR);
        (bool ok,) = L1_BLOCK.call(
            abi.encodePacked(
                IL1Block.setL1BlockValuesEcotone.selector,
                baseFeeScalar,
                blobBaseFeeScalar,
                uint64(0),
                uint64(1_700_000_000),
                uint64(20_000_000),
                l1BaseFee,
                blobBaseFee,
                keccak256("l1"),
                bytes32(0)
            )
        );
        vm.assertTrue(ok);
    }

    function _feeScaled(uint256 baseFeeScalar, uint256 blobBaseFeeScalar, uint256 l1BaseFee, uint256 blobBaseFee)
        internal
        pure
        returns (uint256)
    {
        return baseFeeScalar * l1BaseFee * 16 + blobBaseFeeScalar * blobBaseFee;
    }

    function _estimatedSize(uint256 fastLzSize) internal pure returns (uint256) {
        int256 size = -42_585_600 + int256(836_500 * fastLzSize);
        return size < 100e6 ? 100e6 : uint256(size);
    }

    /// The all-literals length of `n` bytes: a header byte per run of up to 32.
    function _literals(uint256 n) internal pure returns (uint256) {
        return n / 32 * 33 + (n % 32 == 0 ? 0 : n % 32 + 1);
    }

    function _repeat(uint8 b, uint256 n) internal pure returns (bytes memory data) {
        data = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            data[i] = bytes1(b);
        }
    }

    /// The first `n` bytes of a big-endian uint16 counter 0, 1, 2, …: no 3-byte sequence repeats
    /// (for n ≤ 512), so FastLZ finds no match.
    function _counter(uint256 n) internal pure returns (bytes memory data) {
        data = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            data[i] = i % 2 == 0 ? bytes1(uint8(i / 512)) : bytes1(uint8(i / 2));
        }
    }

    /// The OP mainnet transaction of docs/l1-fee.md (hex, one line, no 0x prefix).
    function _opMainnetTx() internal view returns (bytes memory) {
        bytes memory text =
            bytes(vm.readFile(string.concat(vm.projectRoot(), "/../aivm/tests/fixtures/op-mainnet-fjord-tx.hex")));
        uint256 n = text.length;
        while (n > 0 && (text[n - 1] == "\n" || text[n - 1] == "\r")) n--;
        assembly ("memory-safe") {
            mstore(text, n)
        }
        return vm.parseBytes(string.concat("0x", string(text)));
    }

    /// An EIP-1559 transaction without its signature: `0x02 ‖ rlp([chainId … accessList])`, as
    /// viem's `serializeTransaction` and the wallet's signing hash make it. Takes off the last
    /// 67 bytes (yParity, r, s of 32 bytes each) and rewrites the list's 2-byte length.
    function _unsigned(bytes memory signed) internal pure returns (bytes memory out) {
        require(signed[0] == 0x02 && signed[1] == 0xf9, "EIP-1559 with a 2-byte list length");
        uint256 len = signed.length;
        require(signed[len - 33] == 0xa0 && signed[len - 66] == 0xa0, "r and s of 32 bytes");
        uint256 body = len - 4 - 67;
        out = new bytes(body + 4);
        out[0] = 0x02;
        out[1] = 0xf9;
        out[2] = bytes1(uint8(body >> 8));
        out[3] = bytes1(uint8(body));
        for (uint256 i = 0; i < body; i++) {
            out[4 + i] = signed[4 + i];
        }
    }
}
