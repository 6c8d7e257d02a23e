// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelNFT
/// @notice The part of ModelNFT that other Temporis contracts (marketplace, inference market) and
///         off-chain tools rely on. ModelNFT is also ERC-721, ERC-2981 and ERC-4907.
/// @dev This signature set is a contract between components: change it only together with its
///      callers (ModelMarketplace, InferenceMarket, the Rust bindings, the devnet tests).
interface IModelNFT {
    /// @notice What a minter declares about a model or model version.
    struct MintParams {
        /// keccak256 of the model's manifest (the list of chunk hashes): the model's identity.
        bytes32 contentHash;
        /// OP Alt-DA commitment under which the manifest can be fetched (emitted, not stored).
        bytes daCommitment;
        /// Short license identifier, e.g. bytes32("Apache-2.0") (right-padded ASCII).
        bytes32 license;
        /// Base model this one derives from (fine-tune or LoRA adapter); 0 for a base model.
        uint256 parentId;
        /// Whether the weights in DA are encrypted (access is then granted off chain, recorded on chain).
        bool encrypted;
        /// ERC-2981 receiver for this token; address(0) means `to`.
        address royaltyReceiver;
        /// ERC-2981 royalty on sales of this token, in basis points.
        uint16 royaltyBps;
        /// Share, in basis points of the price, that sales and rentals of this token's descendants
        /// pay to this token's owner (lineage royalty).
        uint16 lineageBps;
    }

    /// @notice Mints a model token to `to`. Token ids start at 1.
    function mint(address to, MintParams calldata params) external returns (uint256 tokenId);

    /// @notice Every royalty owed on a payment of `amount` for `tokenId`: the token's ERC-2981
    ///         receiver first, then the owners of its ancestors that ask a lineage share (bounded depth).
    /// @return receivers Who is owed, in order (entries with a zero amount are omitted).
    /// @return amounts   How much each is owed; their sum never exceeds `amount`.
    function royaltySplit(uint256 tokenId, uint256 amount)
        external
        view
        returns (address[] memory receivers, uint256[] memory amounts);

    /// @notice The model's manifest hash.
    function contentHash(uint256 tokenId) external view returns (bytes32);

    /// @notice The base this model derives from (0 for a base model).
    function parentOf(uint256 tokenId) external view returns (uint256);

    /// @notice How many times `tokenId` was transferred since mint (0 for a fresh or unknown
    ///         token). Changes on every transfer, so a marketplace can tell that an order signed
    ///         or listed at an earlier count is stale even if the token came back to its seller.
    function transferCount(uint256 tokenId) external view returns (uint256);

    /// @notice In one call, what a marketplace checks before it sells or rents `tokenId` through
    ///         `operator`. Never reverts: an unknown token has owner address(0).
    /// @return owner       The owner (address(0) for an unknown token).
    /// @return transfers   {transferCount} of the token.
    /// @return user        The ERC-4907 user while its rental runs, else address(0) (as `userOf`).
    /// @return expires     The stored ERC-4907 expiry (as `userExpires`).
    /// @return approved    Whether `operator` may transfer the token (approved for all by the
    ///                     owner, or approved for this token); false for an unknown token.
    function marketState(uint256 tokenId, address operator)
        external
        view
        returns (address owner, uint256 transfers, address user, uint256 expires, bool approved);
}
