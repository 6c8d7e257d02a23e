// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title AddressAlias
/// @notice The OP Stack's L1 -> L2 address aliasing: a contract on L1 appears on L2 as its address
///         plus `0x1111000000000000000000000000000000001111` (mod 2^160), so that it cannot pose as
///         an L2 contract with the same address that somebody else controls.
library AddressAlias {
    /// @notice The alias offset.
    uint160 internal constant OFFSET = uint160(0x1111000000000000000000000000000000001111);

    /// @notice The L2 address under which the L1 contract `_l1Address` acts.
    function applyL1ToL2Alias(address _l1Address) internal pure returns (address l2Address) {
        // Unchecked: the alias is defined modulo 2^160 (wrap-around is intended).
        unchecked {
            l2Address = address(uint160(_l1Address) + OFFSET);
        }
    }

    /// @notice The L1 address whose alias is `_l2Address`.
    function undoL1ToL2Alias(address _l2Address) internal pure returns (address l1Address) {
        // Unchecked: the alias is defined modulo 2^160 (wrap-around is intended).
        unchecked {
            l1Address = address(uint160(_l2Address) - OFFSET);
        }
    }
}
