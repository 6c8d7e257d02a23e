// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";

import {IERC4907} from "../interfaces/IERC4907.sol";
import {IModelNFT} from "../interfaces/IModelNFT.sol";

/// @title ModelNFT
/// @notice One token per AI model or model version published on Temporis. A token records the
///         model's manifest hash, its lineage (a fine-tune or LoRA adapter points at its base),
///         its royalties (ERC-2981 plus a lineage share paid to ancestors' owners), rentals
///         (ERC-4907) and, for encrypted weights, who has been granted access.
/// @dev Storage per token is two slots besides ERC-721's owner and balance:
///      - `_contentHash[id]` (bytes32), and
///      - `_meta[id]`, one packed slot: royaltyReceiver(160) | royaltyBps(16) | lineageBps(16) |
///        version(16) | encrypted(8) | parentId(40).
///      The license and the DA commitment are not stored: they are in {ModelMinted} (and
///      {DACommitmentUpdated}), from which an indexer rebuilds them. Token ids are bounded by
///      uint40 (about 1.1e12 tokens) so that a parent id fits the packed slot.
///      Version: a base model (parentId 0) is version 1; a derived model is its parent's version + 1.
///      Lineage royalties look at most {MAX_LINEAGE_DEPTH} ancestors; the sum of a token's own
///      royalty and those ancestors' lineage shares is capped by {MAX_TOTAL_ROYALTY_BPS} at mint
///      (all shares are immutable), so {royaltySplit} never exceeds a quarter of the amount.
///      Tokens cannot be burned, so a non-empty `_meta` slot means "exists".
contract ModelNFT is IModelNFT, IERC4907, ERC721, ERC2981, Ownable2Step {
    // ---------------------------------------------------------------- constants

    /// @notice Basis-point denominator (100%).
    uint256 public constant BPS = 10_000;
    /// @notice Cap on a token's own ERC-2981 royalty.
    uint16 public constant MAX_ROYALTY_BPS = 1_000;
    /// @notice Cap on the lineage share a token asks of each of its descendants.
    uint16 public constant MAX_LINEAGE_BPS = 1_000;
    /// @notice Cap on a token's royalty plus the lineage shares of its counted ancestors.
    uint16 public constant MAX_TOTAL_ROYALTY_BPS = 2_500;
    /// @notice How many ancestors (parent, grandparent, …) are paid a lineage share.
    uint256 public constant MAX_LINEAGE_DEPTH = 4;
    /// @notice ERC-165 id of ERC-4907.
    bytes4 public constant ERC4907_INTERFACE_ID = 0xad092b5c;

    // ---------------------------------------------------------------- types

    /// @dev One storage slot (160 + 16 + 16 + 16 + 8 + 40 = 256 bits).
    struct Meta {
        address royaltyReceiver;
        uint16 royaltyBps;
        uint16 lineageBps;
        uint16 version;
        bool encrypted;
        uint40 parentId;
    }

    /// @dev ERC-4907 user and the token's transfer counter, one slot (160 + 64 + 32 bits). The
    ///      counter shares the user's slot because every transfer already touches it (to clear
    ///      the user), so counting costs no extra slot and mint writes nothing here.
    struct UserInfo {
        address user;
        uint64 expires;
        uint32 transfers;
    }

    /// @notice Everything stored about a model, as returned by {model}.
    struct ModelInfo {
        bytes32 contentHash;
        uint256 parentId;
        uint16 version;
        bool encrypted;
        address royaltyReceiver;
        uint16 royaltyBps;
        uint16 lineageBps;
    }

    // ---------------------------------------------------------------- storage

    /// @dev Next token id to mint; starts at 1 (set in the constructor so the first mint pays a
    ///      warm non-zero write, not a fresh slot).
    uint256 private _nextId;
    mapping(uint256 tokenId => Meta) private _meta;
    mapping(uint256 tokenId => bytes32) private _contentHash;
    mapping(uint256 tokenId => UserInfo) private _users;
    /// @dev A grant is valid while the owner who made it (`grantor`) still owns the token, so a
    ///      transfer silently voids every grant without touching storage.
    mapping(uint256 tokenId => mapping(address grantee => address grantor)) private _grants;
    string private _baseTokenURI;

    // ---------------------------------------------------------------- events

    /// @notice A model token was minted; carries every {MintParams} field so indexers need no calls.
    /// @param tokenId  The new token.
    /// @param creator  Who called {mint} (the publisher).
    /// @param parentId The base model (0 for none).
    event ModelMinted(
        uint256 indexed tokenId,
        address indexed creator,
        uint256 indexed parentId,
        bytes32 contentHash,
        bytes32 license,
        bool encrypted,
        address royaltyReceiver,
        uint16 royaltyBps,
        uint16 lineageBps,
        uint16 version,
        bytes daCommitment
    );

    /// @notice The DA commitment under which the manifest of `tokenId` is fetched changed.
    event DACommitmentUpdated(uint256 indexed tokenId, bytes daCommitment);

    /// @notice The ERC-2981 receiver of `tokenId` changed.
    event RoyaltyReceiverUpdated(uint256 indexed tokenId, address indexed receiver);

    /// @notice `grantee` was granted access to the encrypted weights of `tokenId` by `grantor` (the
    ///         owner). `keyCommitment` is a hash or handle of the key envelope, which stays off chain.
    event AccessGranted(
        uint256 indexed tokenId, address indexed grantee, address indexed grantor, bytes32 keyCommitment
    );

    /// @notice The access grant of `grantee` on `tokenId` was revoked.
    event AccessRevoked(uint256 indexed tokenId, address indexed grantee);

    /// @notice The base URI of {tokenURI} changed.
    event BaseURIUpdated(string baseURI);

    // ---------------------------------------------------------------- errors

    /// @notice The manifest hash is zero.
    error ModelNFT_ZeroContentHash();
    /// @notice The DA commitment is empty.
    error ModelNFT_EmptyDACommitment();
    /// @notice The parent token does not exist.
    error ModelNFT_UnknownParent(uint256 parentId);
    /// @notice The royalty is above {MAX_ROYALTY_BPS}.
    error ModelNFT_RoyaltyTooHigh(uint256 royaltyBps, uint256 max);
    /// @notice The lineage share is above {MAX_LINEAGE_BPS}.
    error ModelNFT_LineageShareTooHigh(uint256 lineageBps, uint256 max);
    /// @notice Royalty plus the ancestors' lineage shares are above {MAX_TOTAL_ROYALTY_BPS}.
    error ModelNFT_TotalRoyaltyTooHigh(uint256 totalBps, uint256 max);
    /// @notice The parent is at the highest version number (uint16).
    error ModelNFT_VersionOverflow(uint256 parentId);
    /// @notice All uint40 token ids are used.
    error ModelNFT_TooManyTokens();
    /// @notice Access grants only make sense for encrypted models.
    error ModelNFT_NotEncrypted(uint256 tokenId);
    /// @notice An address argument is zero.
    error ModelNFT_ZeroAddress();
    /// @notice There is no valid access grant to revoke.
    error ModelNFT_NoAccessGrant(uint256 tokenId, address grantee);
    /// @notice Only the current royalty receiver may name a new one.
    error ModelNFT_NotRoyaltyReceiver(address caller, address receiver);

    // ---------------------------------------------------------------- construction

    /// @param initialOwner Admin (may set the base URI); mint is permissionless.
    constructor(address initialOwner) ERC721("Temporis Model", "TMODEL") Ownable(initialOwner) {
        _nextId = 1;
    }

    // ---------------------------------------------------------------- minting

    /// @inheritdoc IModelNFT
    /// @dev Permissionless. Emits {Transfer} and {ModelMinted}.
    /// @param to      Owner of the new token (and royalty receiver unless one is given).
    /// @param params  What the minter declares (see {IModelNFT-MintParams}).
    /// @return tokenId The new token's id.
    function mint(address to, MintParams calldata params) external returns (uint256 tokenId) {
        if (params.contentHash == bytes32(0)) revert ModelNFT_ZeroContentHash();
        if (params.daCommitment.length == 0) revert ModelNFT_EmptyDACommitment();
        uint16 royaltyBps = params.royaltyBps;
        uint16 lineageBps = params.lineageBps;
        if (royaltyBps > MAX_ROYALTY_BPS) revert ModelNFT_RoyaltyTooHigh(royaltyBps, MAX_ROYALTY_BPS);
        if (lineageBps > MAX_LINEAGE_BPS) revert ModelNFT_LineageShareTooHigh(lineageBps, MAX_LINEAGE_BPS);

        uint256 parentId = params.parentId;
        uint16 version = 1;
        if (parentId != 0) {
            Meta memory p = _meta[parentId];
            if (p.royaltyReceiver == address(0)) revert ModelNFT_UnknownParent(parentId);
            if (p.version == type(uint16).max) revert ModelNFT_VersionOverflow(parentId);
            // Cannot overflow: checked against type(uint16).max just above.
            unchecked {
                version = p.version + 1;
            }
            uint256 total = uint256(royaltyBps) + p.lineageBps;
            uint256 ancestor = p.parentId;
            for (uint256 depth = 1; depth < MAX_LINEAGE_DEPTH && ancestor != 0; ++depth) {
                Meta storage a = _meta[ancestor];
                total += a.lineageBps;
                ancestor = a.parentId;
            }
            if (total > MAX_TOTAL_ROYALTY_BPS) revert ModelNFT_TotalRoyaltyTooHigh(total, MAX_TOTAL_ROYALTY_BPS);
        }

        tokenId = _nextId;
        if (tokenId > type(uint40).max) revert ModelNFT_TooManyTokens();
        // Cannot overflow: bounded by type(uint40).max just above.
        unchecked {
            _nextId = tokenId + 1;
        }

        address receiver = params.royaltyReceiver == address(0) ? to : params.royaltyReceiver;
        _meta[tokenId] = Meta({
            royaltyReceiver: receiver,
            royaltyBps: royaltyBps,
            lineageBps: lineageBps,
            version: version,
            encrypted: params.encrypted,
            // Cannot truncate: parentId was found in `_meta`, whose keys are all < 2**40.
            // forge-lint: disable-next-line(unsafe-typecast)
            parentId: uint40(parentId)
        });
        _contentHash[tokenId] = params.contentHash;
        _mint(to, tokenId);

        _emitMinted(tokenId, version, receiver, params);
    }

    /// @dev Split out of {mint} to keep its stack shallow.
    function _emitMinted(uint256 tokenId, uint16 version, address receiver, MintParams calldata params) private {
        emit ModelMinted(
            tokenId,
            msg.sender,
            params.parentId,
            params.contentHash,
            params.license,
            params.encrypted,
            receiver,
            params.royaltyBps,
            params.lineageBps,
            version,
            params.daCommitment
        );
    }

    // ---------------------------------------------------------------- royalties

    /// @inheritdoc IModelNFT
    /// @dev Reverts with {ERC721NonexistentToken} for an unknown token. Amounts are rounded down.
    /// @param tokenId The token paid for.
    /// @param amount  The payment (sale price or rental cost).
    function royaltySplit(uint256 tokenId, uint256 amount)
        external
        view
        returns (address[] memory receivers, uint256[] memory amounts)
    {
        Meta memory m = _meta[tokenId];
        if (m.royaltyReceiver == address(0)) revert ERC721NonexistentToken(tokenId);

        receivers = new address[](MAX_LINEAGE_DEPTH + 1);
        amounts = new uint256[](MAX_LINEAGE_DEPTH + 1);
        uint256 n;
        uint256 own = _bps(amount, m.royaltyBps);
        if (own != 0) {
            receivers[0] = m.royaltyReceiver;
            amounts[0] = own;
            n = 1;
        }
        uint256 ancestor = m.parentId;
        for (uint256 depth; depth < MAX_LINEAGE_DEPTH && ancestor != 0; ++depth) {
            Meta storage a = _meta[ancestor];
            uint256 share = _bps(amount, a.lineageBps);
            if (share != 0) {
                receivers[n] = _ownerOf(ancestor);
                amounts[n] = share;
                // Cannot overflow: n <= MAX_LINEAGE_DEPTH.
                unchecked {
                    ++n;
                }
            }
            ancestor = a.parentId;
        }
        // Shrink both arrays to the `n` entries written (n never exceeds the allocated length).
        assembly ("memory-safe") {
            mstore(receivers, n)
            mstore(amounts, n)
        }
    }

    /// @notice ERC-2981: the token's own royalty only (lineage shares are in {royaltySplit}).
    /// @param tokenId   The token.
    /// @param salePrice The sale price.
    /// @return receiver The royalty receiver (address(0) for an unknown token).
    /// @return amount   The royalty, rounded down.
    function royaltyInfo(uint256 tokenId, uint256 salePrice)
        public
        view
        override
        returns (address receiver, uint256 amount)
    {
        Meta storage m = _meta[tokenId];
        receiver = m.royaltyReceiver;
        amount = _bps(salePrice, m.royaltyBps);
    }

    /// @notice Names a new ERC-2981 receiver for `tokenId`; only the current receiver may.
    /// @dev Emits {RoyaltyReceiverUpdated}.
    /// @param tokenId  The token.
    /// @param receiver The new receiver (non-zero).
    function setRoyaltyReceiver(uint256 tokenId, address receiver) external {
        if (receiver == address(0)) revert ModelNFT_ZeroAddress();
        Meta storage m = _meta[tokenId];
        address current = m.royaltyReceiver;
        if (current == address(0)) revert ERC721NonexistentToken(tokenId);
        if (msg.sender != current) revert ModelNFT_NotRoyaltyReceiver(msg.sender, current);
        m.royaltyReceiver = receiver;
        emit RoyaltyReceiverUpdated(tokenId, receiver);
    }

    // ---------------------------------------------------------------- model data

    /// @inheritdoc IModelNFT
    /// @param tokenId The token.
    /// @return hash The manifest hash.
    function contentHash(uint256 tokenId) external view returns (bytes32 hash) {
        hash = _contentHash[tokenId];
        if (hash == bytes32(0)) revert ERC721NonexistentToken(tokenId);
    }

    /// @inheritdoc IModelNFT
    /// @param tokenId The token.
    /// @return The parent token id (0 for a base model).
    function parentOf(uint256 tokenId) external view returns (uint256) {
        return _existingMeta(tokenId).parentId;
    }

    /// @notice The version number: 1 for a base model, parent's version + 1 for a derived one.
    /// @param tokenId The token.
    /// @return The version.
    function versionOf(uint256 tokenId) external view returns (uint16) {
        return _existingMeta(tokenId).version;
    }

    /// @notice Everything stored about `tokenId` (license and DA commitment are in events only).
    /// @param tokenId The token.
    /// @return info The model record.
    function model(uint256 tokenId) external view returns (ModelInfo memory info) {
        Meta memory m = _existingMeta(tokenId);
        info = ModelInfo({
            contentHash: _contentHash[tokenId],
            parentId: m.parentId,
            version: m.version,
            encrypted: m.encrypted,
            royaltyReceiver: m.royaltyReceiver,
            royaltyBps: m.royaltyBps,
            lineageBps: m.lineageBps
        });
    }

    /// @notice The number of tokens minted so far (ids are 1..totalMinted).
    /// @return The count.
    function totalMinted() external view returns (uint256) {
        return _nextId - 1;
    }

    /// @notice Points `tokenId` at a new DA commitment (e.g. after re-posting the manifest).
    ///         Harmless to holders: clients check the fetched manifest against {contentHash}.
    /// @dev Owner or approved only. Emits {DACommitmentUpdated}.
    /// @param tokenId      The token.
    /// @param daCommitment The new OP Alt-DA commitment (non-empty).
    function updateDACommitment(uint256 tokenId, bytes calldata daCommitment) external {
        if (daCommitment.length == 0) revert ModelNFT_EmptyDACommitment();
        _checkAuthorized(_requireOwned(tokenId), msg.sender, tokenId);
        emit DACommitmentUpdated(tokenId, daCommitment);
    }

    // ---------------------------------------------------------------- access grants

    /// @notice Records that `grantee` may decrypt the weights of `tokenId`. The key envelope stays
    ///         off chain; `keyCommitment` (its hash or a handle) is only emitted. A grant lasts
    ///         until revoked or until the token changes owner.
    /// @dev Owner or approved only; the token must be encrypted. Emits {AccessGranted}.
    /// @param tokenId       The token.
    /// @param grantee       Who gets access.
    /// @param keyCommitment Hash or handle of the encrypted key envelope (off chain).
    function grantAccess(uint256 tokenId, address grantee, bytes32 keyCommitment) external {
        if (grantee == address(0)) revert ModelNFT_ZeroAddress();
        address owner = _requireOwned(tokenId);
        _checkAuthorized(owner, msg.sender, tokenId);
        if (!_meta[tokenId].encrypted) revert ModelNFT_NotEncrypted(tokenId);
        _grants[tokenId][grantee] = owner;
        emit AccessGranted(tokenId, grantee, owner, keyCommitment);
    }

    /// @notice Revokes the access grant of `grantee` on `tokenId`.
    /// @dev Owner or approved only. Emits {AccessRevoked}.
    /// @param tokenId The token.
    /// @param grantee Whose grant is revoked.
    function revokeAccess(uint256 tokenId, address grantee) external {
        address owner = _requireOwned(tokenId);
        _checkAuthorized(owner, msg.sender, tokenId);
        if (_grants[tokenId][grantee] != owner) revert ModelNFT_NoAccessGrant(tokenId, grantee);
        delete _grants[tokenId][grantee];
        emit AccessRevoked(tokenId, grantee);
    }

    /// @notice Whether `account` may use the weights of `tokenId`: always for a non-encrypted
    ///         model; otherwise the owner, the current ERC-4907 user, or a grantee of the owner.
    /// @param tokenId The token.
    /// @param account The account.
    /// @return Whether it has access.
    function hasAccess(uint256 tokenId, address account) external view returns (bool) {
        address owner = _requireOwned(tokenId);
        if (!_meta[tokenId].encrypted || account == owner) return true;
        if (account != address(0) && _activeUser(tokenId) == account) return true;
        return _grants[tokenId][account] == owner;
    }

    // ---------------------------------------------------------------- ERC-4907

    /// @inheritdoc IERC4907
    /// @dev Owner or approved only. Emits {UpdateUser}.
    function setUser(uint256 tokenId, address user, uint64 expires) external {
        _checkAuthorized(_requireOwned(tokenId), msg.sender, tokenId);
        UserInfo storage u = _users[tokenId];
        u.user = user;
        u.expires = expires;
        emit UpdateUser(tokenId, user, expires);
    }

    /// @inheritdoc IERC4907
    function userOf(uint256 tokenId) external view returns (address) {
        return _activeUser(tokenId);
    }

    /// @inheritdoc IERC4907
    function userExpires(uint256 tokenId) external view returns (uint256) {
        return _users[tokenId].expires;
    }

    // ---------------------------------------------------------------- transfer counter

    /// @inheritdoc IModelNFT
    /// @dev 0 for a token never transferred (or not minted). Stored as uint32: it would take
    ///      2**32 transfers of one token to wrap it.
    /// @param tokenId The token.
    /// @return The number of transfers since mint.
    function transferCount(uint256 tokenId) external view returns (uint256) {
        return _users[tokenId].transfers;
    }

    /// @inheritdoc IModelNFT
    /// @dev Reads the owner, user and approval slots that a following transfer reads again
    ///      (warm), in the same order as ERC721._isAuthorized.
    /// @param tokenId  The token.
    /// @param operator The marketplace (or any would-be transferrer).
    function marketState(uint256 tokenId, address operator)
        external
        view
        returns (address owner, uint256 transfers, address user, uint256 expires, bool approved)
    {
        owner = _ownerOf(tokenId);
        UserInfo memory u = _users[tokenId];
        transfers = u.transfers;
        expires = u.expires;
        // Same rule as {userOf}: a validator's few seconds of timestamp leeway are harmless.
        // forge-lint: disable-next-line(block-timestamp)
        if (expires >= block.timestamp) user = u.user;
        approved = owner != address(0) && (isApprovedForAll(owner, operator) || _getApproved(tokenId) == operator);
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the base of {tokenURI} (token URI = base ‖ decimal id).
    /// @dev Owner only. Emits {BaseURIUpdated}.
    /// @param baseURI The new base URI.
    function setBaseURI(string calldata baseURI) external onlyOwner {
        _baseTokenURI = baseURI;
        emit BaseURIUpdated(baseURI);
    }

    // ---------------------------------------------------------------- ERC-165

    /// @notice ERC-165: ERC-721 (+ metadata), ERC-2981, ERC-4907 and IModelNFT (current id and the
    ///         id before {marketState}).
    /// @param interfaceId The interface id.
    /// @return Whether it is supported.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, ERC2981) returns (bool) {
        // No deployment ever answered an earlier IModelNFT id, so only the current one is claimed.
        return interfaceId == ERC4907_INTERFACE_ID || interfaceId == type(IModelNFT).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- internals

    /// @dev On every transfer (not on mint): counts it in {transferCount} and, when the token
    ///      changes hands, clears the ERC-4907 user. One read and one write of the user slot.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0)) {
            UserInfo memory u = _users[tokenId];
            if (from != to && u.user != address(0)) {
                u.user = address(0);
                u.expires = 0;
                emit UpdateUser(tokenId, address(0), 0);
            }
            // Wraps only after 2**32 transfers of one token, which no one can pay for.
            unchecked {
                ++u.transfers;
            }
            _users[tokenId] = u;
        }
    }

    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }

    function _activeUser(uint256 tokenId) private view returns (address) {
        UserInfo memory u = _users[tokenId];
        // Expiry is a rental deadline: a validator's few seconds of timestamp leeway are harmless.
        // forge-lint: disable-next-line(block-timestamp)
        return uint256(u.expires) >= block.timestamp ? u.user : address(0);
    }

    function _existingMeta(uint256 tokenId) private view returns (Meta memory m) {
        m = _meta[tokenId];
        if (m.royaltyReceiver == address(0)) revert ERC721NonexistentToken(tokenId);
    }

    /// @dev floor(amount * bps / BPS) without overflow for any uint256 amount (bps <= BPS).
    function _bps(uint256 amount, uint256 bps) private pure returns (uint256) {
        // Cannot overflow: (amount / BPS) * bps <= amount, and (amount % BPS) * bps < BPS**2.
        // Exact: amount = q·BPS + r, so amount·bps/BPS = q·bps + r·bps/BPS (floor on the second term only).
        unchecked {
            // forge-lint: disable-next-line(divide-before-multiply)
            return (amount / BPS) * bps + ((amount % BPS) * bps) / BPS;
        }
    }
}
