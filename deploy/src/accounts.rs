//! The devnet's funded accounts and the roles they play.
//!
//! These are anvil's default accounts, derived from the public test mnemonic
//! `test test test test test test test test test test test junk` (BIP-44 path
//! `m/44'/60'/0'/0/i`). Their keys are published everywhere: never send real value to them.

use alloy::primitives::{Address, B256, b256};
use alloy::signers::local::PrivateKeySigner;
use serde::Serialize;

/// The public test mnemonic anvil and hardhat fund by default.
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Private keys of the first ten accounts of [`DEV_MNEMONIC`].
pub const DEV_KEYS: [B256; 10] = [
    b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    b256!("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    b256!("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    b256!("7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    b256!("47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    b256!("8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    b256!("92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    b256!("4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    b256!("dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    b256!("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
];

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
