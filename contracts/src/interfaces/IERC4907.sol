// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IERC4907
/// @notice ERC-4907 "Rental NFT": an owner grants a time-limited `user` role on a token.
/// @dev https://eips.ethereum.org/EIPS/eip-4907. The ERC-165 interface id is 0xad092b5c.
interface IERC4907 {
    /// @notice Emitted when the user of a token or its expiry changes; `user` 0 means no user.
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    /// @notice Sets the user of `tokenId` until `expires` (unix seconds). Owner or approved only.
    /// @param tokenId The token.
    /// @param user    The new user (address(0) clears it).
    /// @param expires Last second (inclusive) at which `user` is the user.
    function setUser(uint256 tokenId, address user, uint64 expires) external;

    /// @notice The current user of `tokenId`; address(0) when there is none or it expired.
    /// @param tokenId The token.
    /// @return The user address.
    function userOf(uint256 tokenId) external view returns (address);

    /// @notice When the user of `tokenId` expires (0 when there is none).
    /// @param tokenId The token.
    /// @return The expiry timestamp.
    function userExpires(uint256 tokenId) external view returns (uint256);
}
