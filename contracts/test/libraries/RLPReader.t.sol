// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RLPItem, RLPReader} from "../../src/libraries/RLPReader.sol";
import {RLPWriter} from "../helpers/RLPWriter.sol";
import {Test} from "../utils/Test.sol";

/// @notice Exposes RLPReader on whole buffers so that reverts happen one call below the test.
contract RLPReaderHarness {
    function readBytes(bytes memory b) external pure returns (bytes memory) {
        return RLPReader.readBytes(RLPReader.toItem(b));
    }

    function readRawBytes(bytes memory b) external pure returns (bytes memory) {
        return RLPReader.readRawBytes(RLPReader.toItem(b));
    }

    function readUint(bytes memory b) external pure returns (uint256) {
        return RLPReader.readUint(RLPReader.toItem(b));
    }

    function isList(bytes memory b) external pure returns (bool) {
        return RLPReader.isList(RLPReader.toItem(b));
    }

    function isListOfEmptyItem() external pure returns (bool) {
        return RLPReader.isList(RLPItem.wrap(0));
    }

    function decodeHeader(bytes memory b) external pure returns (uint256, uint256, bool) {
        return RLPReader.decodeHeader(RLPReader.toItem(b));
    }

    function readStringPayloadLength(bytes memory b) external pure returns (uint256 length) {
        (, length) = RLPReader.readStringPayload(RLPReader.toItem(b));
    }

    /// @notice The list's items, each as a byte string.
    function readListOfBytes(bytes memory b) external pure returns (bytes[] memory out) {
        RLPItem[] memory items = RLPReader.readList(RLPReader.toItem(b));
        out = new bytes[](items.length);
        for (uint256 i; i < items.length; ++i) {
            out[i] = RLPReader.readBytes(items[i]);
        }
    }

    /// @notice The list's items, each as its raw encoding.
    function readListRaw(bytes memory b) external pure returns (bytes[] memory out) {
        RLPItem[] memory items = RLPReader.readList(RLPReader.toItem(b));
        out = new bytes[](items.length);
        for (uint256 i; i < items.length; ++i) {
            out[i] = RLPReader.readRawBytes(items[i]);
        }
    }
}

contract RLPReaderTest is Test {
    RLPReaderHarness internal h;

    function setUp() public {
        h = new RLPReaderHarness();
    }

    // ---------------------------------------------------------------- strings

    function test_readBytes_shortString_succeeds() public view {
        vm.assertEq(h.readBytes(hex"83646f67"), bytes("dog"));
    }

    function test_readBytes_singleByte_succeeds() public view {
        vm.assertEq(h.readBytes(hex"7f"), hex"7f");
        vm.assertEq(h.readBytes(hex"00"), hex"00");
    }

    function test_readBytes_singleHighByte_succeeds() public view {
        vm.assertEq(h.readBytes(hex"8180"), hex"80");
    }

    function test_readBytes_emptyString_succeeds() public view {
        vm.assertEq(h.readBytes(hex"80"), hex"");
    }

    function test_readBytes_longString_succeeds() public view {
        bytes memory data = bytes("Lorem ipsum dolor sit amet, consectetur adipisicing elit");
        vm.assertEq(data.length, 56);
        vm.assertEq(h.readBytes(bytes.concat(hex"b838", data)), data);
    }

    function test_readBytes_twoByteLength_succeeds() public view {
        bytes memory data = new bytes(1024);
        data[1023] = 0x42;
        vm.assertEq(h.readBytes(bytes.concat(hex"b90400", data)), data);
    }

    function test_readBytes_list_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_NotAString.selector);
        h.readBytes(hex"c0");
    }

    function test_readBytes_trailingBytes_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_TrailingBytes.selector, 4, 5));
        h.readBytes(hex"83646f6700");
    }

    function test_readBytes_truncated_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 4, 3));
        h.readBytes(hex"836465");
    }

    function test_readBytes_truncatedSingleByte_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 2, 1));
        h.readBytes(hex"81");
    }

    function test_readBytes_truncatedLongLength_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 3, 2));
        h.readBytes(hex"b904");
    }

    function test_readBytes_hugeLength_reverts() public {
        // 8 length bytes announcing 2^64 - 1 bytes.
        vm.expectRevert(
            abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, uint256(type(uint64).max) + 9, 10)
        );
        h.readBytes(hex"bfffffffffffffffff00");
    }

    function test_readBytes_empty_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_EmptyItem.selector);
        h.readBytes(hex"");
    }

    function test_readBytes_nonCanonicalSingleByte_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_NonCanonicalSingleByte.selector, uint8(0x7f)));
        h.readBytes(hex"817f");
    }

    function test_readBytes_longFormForShortString_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_NonCanonicalLength.selector, 3));
        h.readBytes(hex"b803646f67");
    }

    function test_readBytes_lengthWithLeadingZero_reverts() public {
        bytes memory data = new bytes(56);
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_NonCanonicalLength.selector, 56));
        h.readBytes(bytes.concat(hex"b90038", data));
    }

    function test_readStringPayload_lengthOnly_succeeds() public view {
        vm.assertEq(h.readStringPayloadLength(hex"83646f67"), 3);
    }

    function test_readRawBytes_wholeEncoding_succeeds() public view {
        vm.assertEq(h.readRawBytes(hex"c88363617483646f67"), hex"c88363617483646f67");
    }

    // ---------------------------------------------------------------- lists

    function test_readList_catDog_succeeds() public view {
        bytes[] memory items = h.readListOfBytes(hex"c88363617483646f67");
        vm.assertEq(items.length, 2);
        vm.assertEq(items[0], bytes("cat"));
        vm.assertEq(items[1], bytes("dog"));
    }

    function test_readList_empty_succeeds() public view {
        vm.assertEq(h.readListOfBytes(hex"c0").length, 0);
    }

    function test_readList_nested_succeeds() public view {
        // [ [], [[]], [ [], [[]] ] ]
        bytes[] memory items = h.readListRaw(hex"c7c0c1c0c3c0c1c0");
        vm.assertEq(items.length, 3);
        vm.assertEq(items[0], hex"c0");
        vm.assertEq(items[1], hex"c1c0");
        vm.assertEq(items[2], hex"c3c0c1c0");
        vm.assertEq(h.readListRaw(items[2]).length, 2);
    }

    function test_readList_longList_succeeds() public view {
        bytes[] memory raw = new bytes[](20);
        for (uint256 i; i < 20; ++i) {
            raw[i] = RLPWriter.writeBytes(bytes("abcd"));
        }
        bytes memory encoded = RLPWriter.writeList(raw);
        vm.assertEq(uint8(encoded[0]), 0xf8); // 100-byte payload: long form
        bytes[] memory items = h.readListOfBytes(encoded);
        vm.assertEq(items.length, 20);
        vm.assertEq(items[19], bytes("abcd"));
    }

    function test_readList_string_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_NotAList.selector);
        h.readListOfBytes(hex"83646f67");
    }

    function test_readList_itemOverrunsList_reverts() public {
        // The list says 3 bytes; its item says 3 bytes of payload after its header (4 in all).
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 4, 3));
        h.readListOfBytes(hex"c3836465");
    }

    function test_readList_truncatedHashItem_reverts() public {
        // A 32-byte string header (the branch fast path) with only 4 bytes behind it in the list.
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_ItemOutOfBounds.selector, 33, 5));
        h.readListOfBytes(hex"c5a001020304");
    }

    function test_readList_branchShapedItems_succeeds() public view {
        // [hash, "", hash]: the fast path's two item kinds, mixed with the general path ("cat").
        bytes32 x = keccak256("x");
        bytes[] memory raw = new bytes[](4);
        raw[0] = RLPWriter.writeBytes(abi.encodePacked(x));
        raw[1] = hex"80";
        raw[2] = RLPWriter.writeBytes(bytes("cat"));
        raw[3] = RLPWriter.writeBytes(abi.encodePacked(x));
        bytes[] memory items = h.readListOfBytes(RLPWriter.writeList(raw));
        vm.assertEq(items.length, 4);
        vm.assertEq(bytes32(items[0]), x);
        vm.assertEq(items[1].length, 0);
        vm.assertEq(items[2], bytes("cat"));
        vm.assertEq(bytes32(items[3]), x);
    }

    function test_readList_trailingBytes_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_TrailingBytes.selector, 1, 2));
        h.readListOfBytes(hex"c000");
    }

    function test_readList_longFormForShortList_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_NonCanonicalLength.selector, 0));
        h.readListOfBytes(hex"f800");
    }

    function test_isList_succeeds() public view {
        vm.assertTrue(h.isList(hex"c0"));
        vm.assertTrue(h.isList(hex"f838"));
        vm.assertFalse(h.isList(hex"bf"));
        vm.assertFalse(h.isList(hex"00"));
    }

    function test_isList_emptyItem_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_EmptyItem.selector);
        h.isListOfEmptyItem();
    }

    function test_decodeHeader_succeeds() public view {
        (uint256 offset, uint256 length, bool list) = h.decodeHeader(hex"7a");
        vm.assertEq(offset, 0);
        vm.assertEq(length, 1);
        vm.assertFalse(list);
        (offset, length, list) = h.decodeHeader(hex"c88363617483646f67");
        vm.assertEq(offset, 1);
        vm.assertEq(length, 8);
        vm.assertTrue(list);
    }

    // ---------------------------------------------------------------- integers

    function test_readUint_values_succeeds() public view {
        vm.assertEq(h.readUint(hex"80"), 0);
        vm.assertEq(h.readUint(hex"01"), 1);
        vm.assertEq(h.readUint(hex"7f"), 127);
        vm.assertEq(h.readUint(hex"8180"), 128);
        vm.assertEq(h.readUint(hex"820400"), 1024);
        vm.assertEq(
            h.readUint(hex"a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"), type(uint256).max
        );
    }

    function test_readUint_tooLong_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(RLPReader.RLPReader_UintTooLong.selector, 33));
        h.readUint(bytes.concat(hex"a1", new bytes(32), hex"01"));
    }

    function test_readUint_leadingZero_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_UintLeadingZero.selector);
        h.readUint(hex"820001");
    }

    function test_readUint_zeroByte_reverts() public {
        // Zero is 0x80; the byte 0x00 is a non-canonical integer.
        vm.expectRevert(RLPReader.RLPReader_UintLeadingZero.selector);
        h.readUint(hex"00");
    }

    function test_readUint_list_reverts() public {
        vm.expectRevert(RLPReader.RLPReader_NotAString.selector);
        h.readUint(hex"c0");
    }

    // ---------------------------------------------------------------- fuzz

    function testFuzz_readBytes_roundTrip(bytes memory data) public view {
        vm.assertEq(h.readBytes(RLPWriter.writeBytes(data)), data);
    }

    function testFuzz_readUint_roundTrip(uint256 value) public view {
        vm.assertEq(h.readUint(RLPWriter.writeUint(value)), value);
    }

    function testFuzz_readList_roundTrip(bytes[] memory data) public view {
        bytes[] memory encoded = new bytes[](data.length);
        for (uint256 i; i < data.length; ++i) {
            encoded[i] = RLPWriter.writeBytes(data[i]);
        }
        bytes[] memory items = h.readListOfBytes(RLPWriter.writeList(encoded));
        vm.assertEq(items.length, data.length);
        for (uint256 i; i < data.length; ++i) {
            vm.assertEq(items[i], data[i]);
        }
    }

    /// Whatever the input, an accepted header never points past the buffer.
    function testFuzz_decodeHeader_staysInBounds(bytes memory input) public view {
        vm.assume(input.length > 0);
        try h.decodeHeader(input) returns (uint256 offset, uint256 length, bool) {
            vm.assertLe(offset + length, input.length);
        } catch (bytes memory reason) {
            bytes4 selector = bytes4(reason);
            vm.assertTrue(
                selector == RLPReader.RLPReader_ItemOutOfBounds.selector
                    || selector == RLPReader.RLPReader_NonCanonicalSingleByte.selector
                    || selector == RLPReader.RLPReader_NonCanonicalLength.selector,
                "unexpected revert"
            );
        }
    }

    /// A one-byte change to the header of a canonical string is either rejected or changes its meaning
    /// (never a second encoding that decodes to the same payload).
    function testFuzz_readBytes_canonical(bytes memory data, uint8 newPrefix) public view {
        vm.assume(data.length > 1);
        bytes memory encoded = RLPWriter.writeBytes(data);
        vm.assume(uint8(encoded[0]) != newPrefix);
        encoded[0] = bytes1(newPrefix);
        try h.readBytes(encoded) returns (bytes memory out) {
            vm.assertNotEq(keccak256(out), keccak256(data));
        } catch {}
    }
}
