// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice A broken collection whose royalty split claims the whole amount, to test that the
///         marketplace refuses royalties + fee above the price. Tests only.
contract GreedyModelNFT is ERC721 {
    constructor() ERC721("Greedy", "GREEDY") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }

    function royaltySplit(uint256 tokenId, uint256 amount)
        external
        view
        returns (address[] memory receivers, uint256[] memory amounts)
    {
        receivers = new address[](1);
        amounts = new uint256[](1);
        receivers[0] = ownerOf(tokenId);
        amounts[0] = amount;
    }

    function setUser(uint256, address, uint64) external {}

    function userOf(uint256) external pure returns (address) {
        return address(0);
    }

    function userExpires(uint256) external pure returns (uint256) {
        return 0;
    }

    /// @dev As ModelNFT's, with no transfer counter and no user.
    function marketState(uint256 tokenId, address operator)
        external
        view
        returns (address owner, uint256 transfers, address user, uint256 expires, bool approved)
    {
        owner = _ownerOf(tokenId);
        approved = owner != address(0) && (isApprovedForAll(owner, operator) || _getApproved(tokenId) == operator);
        (transfers, user, expires) = (0, address(0), 0);
    }
}
