// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelRegistry} from "../../src/L2/ModelRegistry.sol";
import {DigitClassifier} from "../../src/examples/DigitClassifier.sol";
import {IModelRegistry} from "../../src/interfaces/IModelRegistry.sol";
import {MockInference, MockModelInfo, MockStoreChunk, MockVerify} from "../mocks/MockAivmPrecompiles.sol";
import {Test} from "../utils/Test.sol";

contract ModelRegistryTest is Test {
    address internal constant PREDEPLOY = 0x4200000000000000000000000000000000000A00;
    address internal constant INFERENCE = address(0x0A00);
    address internal constant MODEL_INFO = address(0x0A01);
    address internal constant STORE_CHUNK = address(0x0A02);
    address internal constant VERIFY = address(0x0A03);

    IModelRegistry internal registry = IModelRegistry(PREDEPLOY);
    bytes32 internal constant MODEL = keccak256("model");
    bytes32 internal constant ADAPTER = keccak256("adapter");

    function setUp() public {
        vm.etch(PREDEPLOY, address(new ModelRegistry()).code);
        vm.etch(INFERENCE, address(new MockInference()).code);
        vm.etch(STORE_CHUNK, address(new MockStoreChunk()).code);
        vm.etch(VERIFY, address(new MockVerify()).code);
        vm.etch(MODEL_INFO, address(new MockModelInfo()).code);
    }

    function _chunks(string memory tag) internal pure returns (bytes[] memory c, bytes32[] memory h) {
        c = new bytes[](3);
        h = new bytes32[](3);
        for (uint256 i; i < 3; ++i) {
            c[i] = abi.encodePacked(tag, i);
            h[i] = keccak256(c[i]);
        }
    }

    function _publish(bytes32 id, IModelRegistry.Kind kind, bytes32 parent) internal returns (bytes32 pub) {
        (bytes[] memory c, bytes32[] memory h) = _chunks(string(abi.encode(id)));
        pub = registry.announce(id, kind, parent, 1, h);
        for (uint256 i; i < c.length; ++i) {
            registry.uploadChunk(pub, i, c[i]);
        }
    }

    function test_uploadChunk_allChunks_verifies_succeeds() public {
        (bytes[] memory c, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        vm.assertEq(pub, keccak256(abi.encode(MODEL, IModelRegistry.Kind.Model, bytes32(0), uint32(1), h)));
        registry.uploadChunk(pub, 2, c[2]);
        registry.uploadChunk(pub, 0, c[0]);
        IModelRegistry.Publication memory p = registry.publication(pub);
        vm.assertTrue(p.status == IModelRegistry.Status.Pending);
        vm.assertEq(uint256(p.received), 2);
        vm.assertTrue(registry.chunkReceived(pub, 2) && !registry.chunkReceived(pub, 1));
        vm.expectEmit(PREDEPLOY);
        emit IModelRegistry.Verified(pub, MODEL);
        registry.uploadChunk(pub, 1, c[1]);
        p = registry.publication(pub);
        vm.assertTrue(p.status == IModelRegistry.Status.Verified);
        vm.assertEq(uint256(p.sizeBytes), c[0].length + c[1].length + c[2].length);
        vm.assertEq(MockStoreChunk(STORE_CHUNK).stored(), 3);
        (bytes32 q, IModelRegistry.Status s,) = registry.statusOf(MODEL);
        vm.assertEq(q, pub);
        vm.assertTrue(s == IModelRegistry.Status.Verified);
    }

    function test_uploadChunk_hashMismatch_reverts() public {
        (, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_ChunkHashMismatch.selector, 0, h[0], keccak256("corrupted")
            )
        );
        registry.uploadChunk(pub, 0, "corrupted");
    }

    function test_uploadChunk_twice_reverts() public {
        (bytes[] memory c, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        registry.uploadChunk(pub, 0, c[0]);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistry_ChunkAlreadyReceived.selector, 0));
        registry.uploadChunk(pub, 0, c[0]);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistry_ChunkIndex.selector, 3, 3));
        registry.uploadChunk(pub, 3, c[0]);
    }

    function test_uploadChunk_withoutPrecompile_reverts() public {
        vm.etch(STORE_CHUNK, "");
        (bytes[] memory c, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistry_PrecompileFailed.selector, STORE_CHUNK, ""));
        registry.uploadChunk(pub, 0, c[0]);
    }

    function test_uploadChunk_rejected_recordsReason_succeeds() public {
        MockVerify(VERIFY).set(6, "config.json: test vector 0: logits[3] declared 5, found 7");
        (bytes[] memory c, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        registry.uploadChunk(pub, 0, c[0]);
        registry.uploadChunk(pub, 1, c[1]);
        vm.expectEmit(PREDEPLOY);
        emit IModelRegistry.Rejected(pub, MODEL, 6, "config.json: test vector 0: logits[3] declared 5, found 7");
        registry.uploadChunk(pub, 2, c[2]);
        IModelRegistry.Publication memory p = registry.publication(pub);
        vm.assertTrue(p.status == IModelRegistry.Status.Rejected);
        vm.assertEq(uint256(p.reason), 6);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_NotPending.selector, pub, IModelRegistry.Status.Rejected
            )
        );
        registry.uploadChunk(pub, 0, c[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_ModelNotUsable.selector, MODEL, IModelRegistry.Status.Rejected, 6
            )
        );
        registry.infer(MODEL, bytes32(0), new int8[](4));
    }

    function test_announce_invalidManifest_reverts() public {
        (, bytes32[] memory h) = _chunks("m");
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.ModelRegistry_InvalidManifest.selector, "a model has no parent")
        );
        registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(uint256(1)), 1, h);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_InvalidManifest.selector, "config and weights need at least one chunk each"
            )
        );
        registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 3, h);
        registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        vm.expectPartialRevert(IModelRegistry.ModelRegistry_AlreadyAnnounced.selector);
        registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
    }

    function test_announce_adapterOfUnverifiedBase_reverts() public {
        (, bytes32[] memory h) = _chunks("a");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelRegistry_ParentNotVerified.selector, MODEL));
        registry.announce(ADAPTER, IModelRegistry.Kind.Adapter, MODEL, 1, h);
    }

    function test_infer_verified_succeeds() public {
        _publish(MODEL, IModelRegistry.Kind.Model, bytes32(0));
        _publish(ADAPTER, IModelRegistry.Kind.Adapter, MODEL);
        int8[] memory x = new int8[](4);
        x[0] = -3;
        x[2] = 9;
        (int8[] memory out, int32[] memory logits, uint256 argmax) = registry.infer(MODEL, ADAPTER, x);
        vm.assertEq(argmax, 2);
        vm.assertEq(int256(out[0]), -3);
        vm.assertEq(int256(logits[2]), 9);
        // The precompile's own `Error(string)` comes back unchanged.
        vm.expectRevert(abi.encodeWithSignature("Error(string)", "AIVM: input length"));
        registry.infer(MODEL, bytes32(0), new int8[](3));
    }

    function test_infer_unknownOrPending_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_ModelNotUsable.selector, MODEL, IModelRegistry.Status.None, 0
            )
        );
        registry.infer(MODEL, bytes32(0), new int8[](4));
        (, bytes32[] memory h) = _chunks("m");
        registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_ModelNotUsable.selector, MODEL, IModelRegistry.Status.Pending, 0
            )
        );
        registry.infer(MODEL, bytes32(0), new int8[](4));
    }

    function test_infer_adapterOfOtherModel_reverts() public {
        bytes32 other = keccak256("other");
        _publish(MODEL, IModelRegistry.Kind.Model, bytes32(0));
        _publish(other, IModelRegistry.Kind.Model, bytes32(0));
        _publish(ADAPTER, IModelRegistry.Kind.Adapter, MODEL);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.ModelRegistry_AdapterBaseMismatch.selector, ADAPTER, MODEL, other)
        );
        registry.infer(other, ADAPTER, new int8[](4));
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.ModelRegistry_AdapterNotUsable.selector, MODEL, IModelRegistry.Status.Verified, 0
            )
        );
        registry.infer(other, MODEL, new int8[](4));
    }

    function test_classify_storesAndEmits_succeeds() public {
        _publish(MODEL, IModelRegistry.Kind.Model, bytes32(0));
        DigitClassifier c = new DigitClassifier(registry, MODEL, bytes32(0));
        int8[] memory x = new int8[](4);
        x[3] = 1;
        vm.assertEq(c.classify(x), 3);
        vm.assertEq(c.lastDigit(), 3);
        vm.assertEq(c.classifications(), 1);
        vm.assertEq(int256(c.lastLogits()[3]), 1);
    }

    function test_modelInfo_pendingThenVerified_succeeds() public {
        IModelRegistry.ModelInfo memory info = registry.modelInfo(MODEL);
        vm.assertTrue(info.status == IModelRegistry.Status.None);
        (bytes[] memory c, bytes32[] memory h) = _chunks("m");
        bytes32 pub = registry.announce(MODEL, IModelRegistry.Kind.Model, bytes32(0), 1, h);
        info = registry.modelInfo(MODEL);
        vm.assertTrue(info.status == IModelRegistry.Status.Pending);
        vm.assertEq(uint256(info.chunkCount), 3);
        vm.assertEq(uint256(info.macs), 0);
        for (uint256 i; i < 3; ++i) {
            registry.uploadChunk(pub, i, c[i]);
        }
        info = registry.modelInfo(MODEL);
        vm.assertTrue(info.status == IModelRegistry.Status.Verified);
        vm.assertEq(info.publicationId, pub);
        vm.assertEq(uint256(info.inputFeatures), 4);
        vm.assertEq(uint256(info.layers), 1);
        vm.assertEq(uint256(info.macs), 16);
    }
}
