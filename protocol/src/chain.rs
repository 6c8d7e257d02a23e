//! Chain ids, devnet ports, predeploy addresses and L1→L2 address aliasing.

use alloy_primitives::{Address, U160, address};

/// Chain id of the Temporis devnet L2.
pub const DEVNET_L2_CHAIN_ID: u64 = 73571;
/// Chain id of anvil, the devnet L1.
pub const DEVNET_L1_CHAIN_ID: u64 = 31337;

/// L1 JSON-RPC port of the devnet (anvil).
pub const DEVNET_L1_PORT: u16 = 8545;
/// L2 JSON-RPC port (HTTP and WS) of the devnet sequencer.
pub const DEVNET_L2_PORT: u16 = 9545;
/// Port of the DA server (OP Alt-DA HTTP API).
pub const DEVNET_DA_PORT: u16 = 3100;
/// Port of the indexer API and the marketplace web app.
pub const DEVNET_INDEXER_PORT: u16 = 8080;

/// `GasPriceOracle` predeploy: quotes the L1 data fee of a transaction before it is sent (OP
/// Stack address; `contracts/src/L2/GasPriceOracle.sol`, docs/l1-fee.md).
pub const GAS_PRICE_ORACLE_PREDEPLOY: Address = address!("420000000000000000000000000000000000000F");
/// `L1Block` predeploy: the latest L1 origin as seen by L2 (OP Stack address).
pub const L1_BLOCK_PREDEPLOY: Address = address!("4200000000000000000000000000000000000015");
/// `L2ToL1MessagePasser` predeploy: withdrawals start here (OP Stack address).
pub const L2_TO_L1_MESSAGE_PASSER_PREDEPLOY: Address = address!("4200000000000000000000000000000000000016");
/// The system account that sends L1-attributes deposits (OP Stack).
pub const DEPOSITOR_ACCOUNT: Address = address!("deaddeaddeaddeaddeaddeaddeaddeaddead0001");

/// Offset added to an L1 contract's address when it sends a deposit, so that it cannot pose as
/// the L2 contract at the same address (OP Stack `AddressAliasHelper`).
pub const L1_TO_L2_ALIAS_OFFSET: Address = address!("1111000000000000000000000000000000001111");

/// The L2 sender of a deposit made by L1 contract `l1`: `l1 + 0x1111…1111` modulo 2¹⁶⁰.
pub fn apply_l1_to_l2_alias(l1: Address) -> Address {
    let sum = U160::from_be_bytes(l1.0.0).wrapping_add(U160::from_be_bytes(L1_TO_L2_ALIAS_OFFSET.0.0));
    Address::from(sum.to_be_bytes())
}

/// Inverse of [`apply_l1_to_l2_alias`].
pub fn undo_l1_to_l2_alias(l2: Address) -> Address {
    let diff = U160::from_be_bytes(l2.0.0).wrapping_sub(U160::from_be_bytes(L1_TO_L2_ALIAS_OFFSET.0.0));
    Address::from(diff.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_matches_op_stack_examples() {
        // The zero address aliases to the offset itself.
        assert_eq!(apply_l1_to_l2_alias(Address::ZERO), L1_TO_L2_ALIAS_OFFSET);
        // Wrapping past 2^160.
        let high = address!("ffffffffffffffffffffffffffffffffffffffff");
        assert_eq!(apply_l1_to_l2_alias(high), address!("1111000000000000000000000000000000001110"));
    }

    #[test]
    fn alias_round_trips() {
        for a in
            [Address::ZERO, Address::repeat_byte(0xee), address!("5fbdb2315678afecb367f032d93f642f64180aa3")]
        {
            assert_eq!(undo_l1_to_l2_alias(apply_l1_to_l2_alias(a)), a);
        }
    }
}
