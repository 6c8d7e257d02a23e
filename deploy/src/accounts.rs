//! The devnet's funded accounts and the roles they play.
//!
//! These are anvil's default accounts, derived from the public test mnemonic
//! `test test test test test test test test test test test junk` (BIP-44 path
//! `m/44'/60'/0'/0/i`). Their keys are published everywhere: never send real value to them.

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use serde::Serialize;

pub use temporis_protocol::dev::{DEV_KEYS, DEV_MNEMONIC};

/// Which dev account plays which role on the devnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Deploys the contracts; admin and guardian (pause) of all of them.
    Admin,
    /// Posts batch commitments to the `BatchInbox`.
    Batcher,
    /// Posts output roots to the `OutputOracle`.
    Proposer,
    /// Arbiter of the inference market; dispute-game stand-in on the `OutputOracle`.
    Challenger,
    /// Receives protocol fees.
    Treasury,
    /// A dapp user (model creator).
    User1,
    /// A dapp user (buyer).
    User2,
    /// A dapp user (renter).
    User3,
    /// A dapp user (inference provider).
    User4,
    /// A dapp user (inference consumer).
    User5,
}

impl Role {
    /// Every role, in account-index order.
    pub const ALL: [Self; 10] = [
        Self::Admin,
        Self::Batcher,
        Self::Proposer,
        Self::Challenger,
        Self::Treasury,
        Self::User1,
        Self::User2,
        Self::User3,
        Self::User4,
        Self::User5,
    ];

    /// Index of the role's account in [`DEV_KEYS`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The role's signer.
    pub fn signer(self) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&DEV_KEYS[self.index()]).expect("dev keys are valid secp256k1 keys")
    }

    /// The role's address.
    pub fn address(self) -> Address {
        self.signer().address()
    }

    /// The role's private key, hex with `0x`.
    pub fn private_key(self) -> B256 {
        DEV_KEYS[self.index()]
    }

    /// Name as printed.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Batcher => "batcher",
            Self::Proposer => "proposer",
            Self::Challenger => "challenger",
            Self::Treasury => "treasury",
            Self::User1 => "user1",
            Self::User2 => "user2",
            Self::User3 => "user3",
            Self::User4 => "user4",
            Self::User5 => "user5",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::address;

    #[test]
    fn keys_derive_anvils_default_addresses() {
        assert_eq!(Role::Admin.address(), address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(Role::Batcher.address(), address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"));
        assert_eq!(Role::User5.address(), address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720"));
        for (i, role) in Role::ALL.iter().enumerate() {
            assert_eq!(role.index(), i);
        }
    }
}
