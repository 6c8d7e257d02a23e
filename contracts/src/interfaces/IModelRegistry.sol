// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelRegistry
/// @notice The L2 predeploy at 0x4200000000000000000000000000000000000A00 through which models and
///         LoRA adapters are published on chain and through which contracts run inference on them.
///         A publication is announced with its manifest (content id, kind, parent, chunk hashes),
///         its chunks then arrive as calldata of `uploadChunk` transactions, and when the last one
///         lands the AIVM's VERIFY precompile checks the reassembled files; the publication ends
///         Verified or Rejected with a reason code. Only a verified model (with, optionally, a
///         verified adapter of that model) can be used by `infer`. Spec: docs/aivm-precompiles.md.
interface IModelRegistry {
    /// @notice What a publication holds.
    enum Kind {
        None,
        Model,
        Adapter
    }

    /// @notice Where a publication stands.
    enum Status {
        None,
        Pending,
        Verified,
        Rejected
    }

    /// @notice The consensus record of one publication (the bytes live in the nodes' chunk store).
    /// @param contentId    The content id of the files (model id or adapter id, as `temporis-aivm`
    ///                     prints it); not the publication id.
    /// @param parent       For an adapter, the content id of its base model; zero for a model.
    /// @param kind         Model or adapter.
    /// @param status       Pending, Verified or Rejected.
    /// @param reason       Rejection reason code (0 unless Rejected); see docs/aivm-precompiles.md.
    /// @param configChunks How many of the leading chunks make up the config JSON file.
    /// @param chunkCount   Number of chunks.
    /// @param received     Number of chunks received so far.
    /// @param sizeBytes    Total bytes received so far.
    /// @param publisher    Who announced it.
    struct Publication {
        bytes32 contentId;
        bytes32 parent;
        Kind kind;
        Status status;
        uint16 reason;
        uint32 configChunks;
        uint32 chunkCount;
        uint32 received;
        uint64 sizeBytes;
        address publisher;
    }

    /// @notice What is known about a content id: its publication record and, once verified, the
    ///         shapes the MODEL_INFO precompile reads from the files (an adapter's are its base's,
    ///         `macs` with the adapter applied).
    /// @param publicationId  Its verified publication, else the latest announced (zero if none).
    /// @param kind           Model or adapter.
    /// @param status         Status of that publication.
    /// @param reason         Rejection reason code (0 unless Rejected).
    /// @param parent         Base model of an adapter.
    /// @param chunkCount     Number of chunks.
    /// @param sizeBytes      Bytes received.
    /// @param inputFeatures  Input width (0 unless Verified).
    /// @param outputFeatures Output width (0 unless Verified).
    /// @param layers         Number of layers (0 unless Verified).
    /// @param macs           Multiply-accumulates of one inference (0 unless Verified).
    struct ModelInfo {
        bytes32 publicationId;
        Kind kind;
        Status status;
        uint16 reason;
        bytes32 parent;
        uint32 chunkCount;
        uint64 sizeBytes;
        uint32 inputFeatures;
        uint32 outputFeatures;
        uint32 layers;
        uint64 macs;
    }

    /// @notice The manifest is malformed (kind, parent, chunk split or count).
    error ModelRegistry_InvalidManifest(string why);
    /// @notice This exact manifest was announced before.
    error ModelRegistry_AlreadyAnnounced(bytes32 publicationId);
    /// @notice An adapter names a base model that is not verified.
    error ModelRegistry_ParentNotVerified(bytes32 parent);
    /// @notice No publication has this id.
    error ModelRegistry_UnknownPublication(bytes32 publicationId);
    /// @notice The publication no longer accepts chunks.
    error ModelRegistry_NotPending(bytes32 publicationId, Status status);
    /// @notice The chunk index is out of range.
    error ModelRegistry_ChunkIndex(uint256 index, uint256 chunkCount);
    /// @notice The chunk was received before.
    error ModelRegistry_ChunkAlreadyReceived(uint256 index);
    /// @notice The chunk's keccak256 is not the one of the manifest.
    error ModelRegistry_ChunkHashMismatch(uint256 index, bytes32 expected, bytes32 found);
    /// @notice An AIVM precompile failed (absent, out of gas, or reverted with `data`).
    error ModelRegistry_PrecompileFailed(address precompile, bytes data);
    /// @notice The model is not usable: never published, pending, or rejected with `reason`.
    error ModelRegistry_ModelNotUsable(bytes32 contentId, Status status, uint16 reason);
    /// @notice The adapter is not usable: never published, pending, or rejected with `reason`.
    error ModelRegistry_AdapterNotUsable(bytes32 contentId, Status status, uint16 reason);
    /// @notice The adapter was verified against another base model.
    error ModelRegistry_AdapterBaseMismatch(bytes32 adapter, bytes32 base, bytes32 model);

    /// @notice A publication was announced.
    event Announced(
        bytes32 indexed publicationId, bytes32 indexed contentId, Kind kind, bytes32 parent, uint32 chunkCount
    );
    /// @notice A chunk arrived and was stored.
    event ChunkStored(bytes32 indexed publicationId, uint256 index, bytes32 hash, uint256 size);
    /// @notice All chunks arrived and the files passed verification.
    event Verified(bytes32 indexed publicationId, bytes32 indexed contentId);
    /// @notice All chunks arrived and the files failed verification.
    event Rejected(bytes32 indexed publicationId, bytes32 indexed contentId, uint16 reason, string detail);

    /// @notice Announces a model or adapter: its manifest, as chunk hashes in file order (first the
    ///         config file's chunks, then the weights file's).
    /// @param contentId    Content id of the files.
    /// @param kind         Model or adapter.
    /// @param parent       Base model's content id for an adapter (must be verified); zero for a model.
    /// @param configChunks Number of leading chunks that form the config file (at least 1).
    /// @param chunkHashes  keccak256 of every chunk, in order.
    /// @return publicationId keccak256(abi.encode(contentId, kind, parent, configChunks, chunkHashes)).
    /// Emits {Announced}.
    function announce(bytes32 contentId, Kind kind, bytes32 parent, uint32 configChunks, bytes32[] calldata chunkHashes)
        external
        returns (bytes32 publicationId);

    /// @notice Uploads chunk `index` of a pending publication. The last chunk triggers verification.
    /// @param publicationId The publication.
    /// @param index         Chunk index.
    /// @param data          The chunk's bytes.
    /// Emits {ChunkStored}; with the last chunk also {Verified} or {Rejected}.
    function uploadChunk(bytes32 publicationId, uint256 index, bytes calldata data) external;

    /// @notice Runs a verified model, with a verified adapter of it or none (`adapter` zero).
    /// @param model   Content id of the model.
    /// @param adapter Content id of the adapter, or zero.
    /// @param input   The int8 input vector.
    /// @return output The last layer's requantized int8 output.
    /// @return logits The last layer's int32 accumulator.
    /// @return argmax Index of the largest logit (lowest on ties).
    function infer(bytes32 model, bytes32 adapter, int8[] calldata input)
        external
        view
        returns (int8[] memory output, int32[] memory logits, uint256 argmax);

    /// @notice A publication's record.
    /// @param publicationId The publication.
    /// @return The record (all zero when unknown).
    function publication(bytes32 publicationId) external view returns (Publication memory);

    /// @notice The chunk hashes of a publication.
    /// @param publicationId The publication.
    /// @return The hashes, in order.
    function chunkHashes(bytes32 publicationId) external view returns (bytes32[] memory);

    /// @notice Whether chunk `index` of a publication has arrived.
    /// @param publicationId The publication.
    /// @param index         Chunk index.
    /// @return True once received.
    function chunkReceived(bytes32 publicationId, uint256 index) external view returns (bool);

    /// @notice Everything known about a content id (see {ModelInfo}).
    /// @param contentId A model or adapter content id.
    /// @return info The record, with shapes once verified.
    function modelInfo(bytes32 contentId) external view returns (ModelInfo memory info);

    /// @notice What a content id resolves to: its verified publication if there is one, else the
    ///         latest one announced.
    /// @param contentId A model or adapter content id.
    /// @return publicationId The publication (zero if none).
    /// @return status        Its status.
    /// @return reason        Its rejection reason (0 unless rejected).
    function statusOf(bytes32 contentId) external view returns (bytes32 publicationId, Status status, uint16 reason);
}
