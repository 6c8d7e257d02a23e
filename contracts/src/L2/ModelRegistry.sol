// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAivmPrecompiles} from "../interfaces/IAivmPrecompiles.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice L2 predeploy (0x4200000000000000000000000000000000000A00) that publishes models and LoRA
///         adapters on chain and is the only door to the AIVM inference precompile.
/// @dev Consensus state lives here; the bytes live in each node's content-addressed chunk store,
///      which the STORE_CHUNK precompile fills from the calldata of `uploadChunk`, so every replayer
///      of the chain rebuilds it. The AIVM precompiles serve only this contract (they check the
///      caller), and this contract calls nothing but them: no other code can run with this contract
///      as `msg.sender`, so no DELEGATECALL can impersonate it. The runtime code is placed in the
///      L2 genesis; the contract has no constructor state and no immutables.
contract ModelRegistry is IModelRegistry {
    /// @notice The AIVM inference precompile.
    address public constant INFERENCE = address(0x0A00);
    /// @notice The AIVM model-info precompile.
    address public constant MODEL_INFO = address(0x0A01);
    /// @notice The AIVM chunk-store precompile.
    address public constant STORE_CHUNK = address(0x0A02);
    /// @notice The AIVM verification precompile.
    address public constant VERIFY = address(0x0A03);
    /// @notice Most chunks one publication may have (4096 × 24 KiB = 96 MiB).
    uint256 public constant MAX_CHUNKS = 4096;

    mapping(bytes32 publicationId => Publication) internal _publications;
    mapping(bytes32 publicationId => bytes32[]) internal _chunkHashes;
    mapping(bytes32 publicationId => mapping(uint256 word => uint256 bits)) internal _received;
    /// @dev The verified publication of a content id, once there is one (first one wins: a content
    ///      id fixes the bytes, so any two verified publications of it hold the same files).
    mapping(bytes32 contentId => bytes32 publicationId) internal _verified;
    /// @dev The latest publication announced for a content id (for status queries).
    mapping(bytes32 contentId => bytes32 publicationId) internal _latest;

    /// @inheritdoc IModelRegistry
    function announce(bytes32 contentId, Kind kind, bytes32 parent, uint32 configChunks, bytes32[] calldata hashes)
        external
        returns (bytes32 publicationId)
    {
        if (contentId == bytes32(0)) revert ModelRegistry_InvalidManifest("zero content id");
        if (kind == Kind.Model) {
            if (parent != bytes32(0)) revert ModelRegistry_InvalidManifest("a model has no parent");
        } else if (kind == Kind.Adapter) {
            bytes32 base = _verified[parent];
            if (base == bytes32(0) || _publications[base].kind != Kind.Model) {
                revert ModelRegistry_ParentNotVerified(parent);
            }
        } else {
            revert ModelRegistry_InvalidManifest("kind must be Model or Adapter");
        }
        if (hashes.length > MAX_CHUNKS) revert ModelRegistry_InvalidManifest("too many chunks");
        if (configChunks == 0 || configChunks >= hashes.length) {
            revert ModelRegistry_InvalidManifest("config and weights need at least one chunk each");
        }
        publicationId = keccak256(abi.encode(contentId, kind, parent, configChunks, hashes));
        if (_publications[publicationId].status != Status.None) revert ModelRegistry_AlreadyAnnounced(publicationId);

        _publications[publicationId] = Publication({
            contentId: contentId,
            parent: parent,
            kind: kind,
            status: Status.Pending,
            reason: 0,
            configChunks: configChunks,
            chunkCount: uint32(hashes.length),
            received: 0,
            sizeBytes: 0,
            publisher: msg.sender
        });
        _chunkHashes[publicationId] = hashes;
        _latest[contentId] = publicationId;
        emit Announced(publicationId, contentId, kind, parent, uint32(hashes.length));
    }

    /// @inheritdoc IModelRegistry
    function uploadChunk(bytes32 publicationId, uint256 index, bytes calldata data) external {
        Publication storage p = _publications[publicationId];
        if (p.status == Status.None) revert ModelRegistry_UnknownPublication(publicationId);
        if (p.status != Status.Pending) revert ModelRegistry_NotPending(publicationId, p.status);
        if (index >= p.chunkCount) revert ModelRegistry_ChunkIndex(index, p.chunkCount);
        // One bit per chunk, 256 chunks per word: bit `index % 256` of word `index / 256`.
        // forge-lint: disable-next-line(incorrect-shift)
        uint256 bit = 1 << (index & 255);
        uint256 bits = _received[publicationId][index >> 8];
        if (bits & bit != 0) revert ModelRegistry_ChunkAlreadyReceived(index);
        bytes32 expected = _chunkHashes[publicationId][index];
        bytes32 found = keccak256(data);
        if (found != expected) revert ModelRegistry_ChunkHashMismatch(index, expected, found);

        (bool ok, bytes memory ret) = STORE_CHUNK.call(abi.encodeCall(IAivmPrecompiles.storeChunk, (data)));
        // An empty answer means no precompile at that address (a plain EVM): nothing was stored.
        if (!ok || ret.length != 32 || abi.decode(ret, (bytes32)) != found) {
            revert ModelRegistry_PrecompileFailed(STORE_CHUNK, ret);
        }
        _received[publicationId][index >> 8] = bits | bit;
        p.received += 1;
        p.sizeBytes += uint64(data.length);
        emit ChunkStored(publicationId, index, found, data.length);

        if (p.received == p.chunkCount) _verify(publicationId, p);
    }

    /// @dev Runs VERIFY on a complete publication and records the verdict. A VERIFY that fails
    ///      (out of gas) reverts the whole upload, so the sender can retry with more gas.
    function _verify(bytes32 publicationId, Publication storage p) internal {
        (bool ok, bytes memory ret) = VERIFY.call(
            abi.encodeCall(
                IAivmPrecompiles.verify,
                (p.contentId, uint8(p.kind), p.parent, p.configChunks, _chunkHashes[publicationId])
            )
        );
        if (!ok || ret.length < 64) revert ModelRegistry_PrecompileFailed(VERIFY, ret);
        (uint16 reason, string memory detail) = abi.decode(ret, (uint16, string));
        if (reason == 0) {
            p.status = Status.Verified;
            if (_verified[p.contentId] == bytes32(0)) _verified[p.contentId] = publicationId;
            emit Verified(publicationId, p.contentId);
        } else {
            p.status = Status.Rejected;
            p.reason = reason;
            emit Rejected(publicationId, p.contentId, reason, detail);
        }
    }

    /// @inheritdoc IModelRegistry
    function infer(bytes32 model, bytes32 adapter, int8[] calldata input)
        external
        view
        returns (int8[] memory output, int32[] memory logits, uint256 argmax)
    {
        bytes32 m = _verified[model];
        if (m == bytes32(0) || _publications[m].kind != Kind.Model) {
            (, Status status, uint16 reason) = statusOf(model);
            revert ModelRegistry_ModelNotUsable(model, status, reason);
        }
        if (adapter != bytes32(0)) {
            bytes32 a = _verified[adapter];
            if (a == bytes32(0) || _publications[a].kind != Kind.Adapter) {
                (, Status status, uint16 reason) = statusOf(adapter);
                revert ModelRegistry_AdapterNotUsable(adapter, status, reason);
            }
            bytes32 base = _publications[a].parent;
            if (base != model) revert ModelRegistry_AdapterBaseMismatch(adapter, base, model);
        }
        (bool ok, bytes memory ret) =
            INFERENCE.staticcall(abi.encodeCall(IAivmPrecompiles.infer, (model, adapter, input)));
        if (!ok) {
            // The precompile's own revert (an `Error(string)` with its reason) is passed on as is.
            if (ret.length == 0) revert ModelRegistry_PrecompileFailed(INFERENCE, ret);
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (ret.length == 0) revert ModelRegistry_PrecompileFailed(INFERENCE, ret);
        (output, logits, argmax) = abi.decode(ret, (int8[], int32[], uint256));
    }

    /// @inheritdoc IModelRegistry
    function publication(bytes32 publicationId) external view returns (Publication memory) {
        return _publications[publicationId];
    }

    /// @inheritdoc IModelRegistry
    function chunkHashes(bytes32 publicationId) external view returns (bytes32[] memory) {
        return _chunkHashes[publicationId];
    }

    /// @inheritdoc IModelRegistry
    function chunkReceived(bytes32 publicationId, uint256 index) external view returns (bool) {
        // forge-lint: disable-next-line(incorrect-shift)
        return _received[publicationId][index >> 8] & (1 << (index & 255)) != 0;
    }

    /// @inheritdoc IModelRegistry
    function modelInfo(bytes32 contentId) external view returns (ModelInfo memory info) {
        (bytes32 publicationId, Status status, uint16 reason) = statusOf(contentId);
        Publication storage p = _publications[publicationId];
        info.publicationId = publicationId;
        info.kind = p.kind;
        info.status = status;
        info.reason = reason;
        info.parent = p.parent;
        info.chunkCount = p.chunkCount;
        info.sizeBytes = p.sizeBytes;
        if (status != Status.Verified) return info;
        (bool ok, bytes memory ret) = MODEL_INFO.staticcall(abi.encodePacked(contentId));
        if (!ok || ret.length != 192) revert ModelRegistry_PrecompileFailed(MODEL_INFO, ret);
        (,, uint256 inputFeatures, uint256 outputFeatures, uint256 layers, uint256 macs) =
            abi.decode(ret, (uint256, uint256, uint256, uint256, uint256, uint256));
        // MODEL_INFO encodes these from u32 and u64 values: the casts cannot truncate.
        // forge-lint: disable-next-line(unsafe-typecast)
        info.inputFeatures = uint32(inputFeatures);
        // forge-lint: disable-next-line(unsafe-typecast)
        info.outputFeatures = uint32(outputFeatures);
        // forge-lint: disable-next-line(unsafe-typecast)
        info.layers = uint32(layers);
        // forge-lint: disable-next-line(unsafe-typecast)
        info.macs = uint64(macs);
    }

    /// @inheritdoc IModelRegistry
    function statusOf(bytes32 contentId) public view returns (bytes32 publicationId, Status status, uint16 reason) {
        publicationId = _verified[contentId];
        if (publicationId == bytes32(0)) publicationId = _latest[contentId];
        Publication storage p = _publications[publicationId];
        return (publicationId, p.status, p.reason);
    }
}
