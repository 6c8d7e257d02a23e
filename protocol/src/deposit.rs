//! The portal's `TransactionDeposited` event (OP Stack, version 0).
//!
//! `event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData)`
//! with `opaqueData = abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`,
//! and the L2 deposit transaction (type `0x7E`) each such log becomes.

use crate::{ProtocolError, Result};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use op_alloy_consensus::{TxDeposit, UserDepositSource};

/// Deposit event version this code understands.
pub const DEPOSIT_VERSION: u64 = 0;

/// The fields packed into a version-0 deposit's opaque data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositOpaqueData {
    /// Wei minted on L2 (the ETH sent to the portal).
    pub mint: U256,
    /// Wei the L2 call transfers.
    pub value: U256,
    /// L2 gas limit.
    pub gas_limit: u64,
    /// Contract creation (then `to` is zero).
    pub is_creation: bool,
    /// Call data or init code.
    pub data: Bytes,
}

impl DepositOpaqueData {
    const HEAD: usize = 32 + 32 + 8 + 1;

    /// `abi.encodePacked(mint, value, gasLimit, isCreation, data)`.
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(Self::HEAD + self.data.len());
        out.extend_from_slice(&self.mint.to_be_bytes::<32>());
        out.extend_from_slice(&self.value.to_be_bytes::<32>());
        out.extend_from_slice(&self.gas_limit.to_be_bytes());
        out.push(u8::from(self.is_creation));
        out.extend_from_slice(&self.data);
        out.into()
    }

    /// Parses version-0 opaque data.
    pub fn decode(version: U256, opaque: &[u8]) -> Result<Self> {
        if version != U256::from(DEPOSIT_VERSION) {
            return Err(ProtocolError::DepositVersion(version.saturating_to()));
        }
        if opaque.len() < Self::HEAD {
            return Err(ProtocolError::TooShort {
                what: "deposit opaque data",
                needed: Self::HEAD,
                got: opaque.len(),
            });
        }
        let is_creation = match opaque[72] {
            0 => false,
            1 => true,
            other => return Err(ProtocolError::DepositCreationFlag(other)),
        };
        Ok(Self {
            mint: U256::from_be_slice(&opaque[0..32]),
            value: U256::from_be_slice(&opaque[32..64]),
            gas_limit: u64::from_be_bytes(opaque[64..72].try_into().expect("8 bytes")),
            is_creation,
            data: Bytes::copy_from_slice(&opaque[Self::HEAD..]),
        })
    }
}

/// One `TransactionDeposited` log of the portal, as read from L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositLog {
    /// Hash of the L1 block holding the log.
    pub l1_block_hash: B256,
    /// Index of the log in that block (the receipt-wide log index, as `eth_getLogs` reports it).
    pub log_index: u64,
    /// The L2 sender, as the portal emitted it (it already aliased contract senders).
    pub from: Address,
    /// The L2 recipient (zero for a contract creation).
    pub to: Address,
    /// The opaque-data version (the indexed `version` topic).
    pub version: U256,
    /// `abi.encodePacked(mint, value, gasLimit, isCreation, data)`.
    pub opaque_data: Bytes,
}

impl DepositLog {
    /// The OP user-deposit source hash:
    /// `keccak256(bytes32(0) ‖ keccak256(l1BlockHash ‖ bytes32(logIndex)))`.
    pub fn source_hash(&self) -> B256 {
        UserDepositSource::new(self.l1_block_hash, self.log_index).source_hash()
    }

    /// The L2 deposit transaction of this log. `from` is taken as emitted: the portal aliases
    /// contract senders (`apply_l1_to_l2_alias`) before emitting, so it is not aliased again.
    pub fn to_deposit_tx(&self) -> Result<TxDeposit> {
        let data = DepositOpaqueData::decode(self.version, &self.opaque_data)?;
        // The portal takes the mint from `msg.value`, so it always fits; a log claiming more is
        // not the portal's.
        let mint = u128::try_from(data.mint).map_err(|_| ProtocolError::DepositMintTooLarge(data.mint))?;
        Ok(TxDeposit {
            source_hash: self.source_hash(),
            from: self.from,
            to: if data.is_creation { TxKind::Create } else { TxKind::Call(self.to) },
            mint,
            value: data.value,
            gas_limit: data.gas_limit,
            is_system_transaction: false,
            input: data.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, b256, keccak256};

    use super::*;

    #[test]
    fn user_deposit_source_hash_matches_published_vectors() {
        // viem's `getSourceHash` test vector (OP mainnet deposit).
        let log = DepositLog {
            l1_block_hash: b256!("9ba3933dc6ce43c145349770a39c30f9b647f17668f004bd2e05c80a2e7262f7"),
            log_index: 196,
            from: Address::ZERO,
            to: Address::ZERO,
            version: U256::ZERO,
            opaque_data: Bytes::new(),
        };
        assert_eq!(
            log.source_hash(),
            b256!("d0868c8764d81f1749edb7dec4a550966963540d9fe50aefce8cdb38ea7b2213")
        );
        // The Optimism contracts' `Hashing.hashDepositSource` test vector.
        let log = DepositLog {
            l1_block_hash: b256!("d25df7858efc1778118fb133ac561b138845361626dfb976699c5287ed0f4959"),
            log_index: 1,
            ..log
        };
        assert_eq!(
            log.source_hash(),
            b256!("f923fb07134d7d287cb52c770cc619e17e82606c21a875c92f4c63b65280a5cc")
        );
        // And from the definition, written out.
        let mut inner = [0u8; 64];
        inner[..32].copy_from_slice(log.l1_block_hash.as_slice());
        inner[63] = 1;
        let mut outer = [0u8; 64];
        outer[32..].copy_from_slice(keccak256(inner).as_slice());
        assert_eq!(log.source_hash(), keccak256(outer));
    }

    #[test]
    fn deposit_log_becomes_its_transaction() {
        let from = address!("70997970c51812dc3a010c7d01b50e0d17dc79c8");
        let to = address!("3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
        let opaque = DepositOpaqueData {
            mint: U256::from(3u64),
            value: U256::from(2u64),
            gas_limit: 100_000,
            is_creation: false,
            data: Bytes::from_static(&[1, 2, 3]),
        };
        let log = DepositLog {
            l1_block_hash: B256::repeat_byte(0xab),
            log_index: 7,
            from,
            to,
            version: U256::ZERO,
            opaque_data: opaque.encode(),
        };
        let tx = log.to_deposit_tx().unwrap();
        assert_eq!(tx.source_hash, log.source_hash());
        assert_eq!((tx.from, tx.to, tx.mint, tx.value), (from, TxKind::Call(to), 3, U256::from(2u64)));
        assert_eq!(
            (tx.gas_limit, tx.is_system_transaction, tx.input.as_ref()),
            (100_000, false, &[1u8, 2, 3][..])
        );

        let create = DepositLog {
            opaque_data: DepositOpaqueData { is_creation: true, ..opaque.clone() }.encode(),
            ..log
        };
        assert_eq!(create.to_deposit_tx().unwrap().to, TxKind::Create);

        let huge =
            DepositLog { opaque_data: DepositOpaqueData { mint: U256::MAX, ..opaque }.encode(), ..log };
        assert_eq!(huge.to_deposit_tx(), Err(ProtocolError::DepositMintTooLarge(U256::MAX)));
        let bad = DepositLog { version: U256::from(1), ..log };
        assert_eq!(bad.to_deposit_tx(), Err(ProtocolError::DepositVersion(1)));
    }

    #[test]
    fn opaque_data_round_trips() {
        let d = DepositOpaqueData {
            mint: U256::from(10u64.pow(18)),
            value: U256::from(5),
            gas_limit: 100_000,
            is_creation: false,
            data: Bytes::from_static(&[0xde, 0xad]),
        };
        let enc = d.encode();
        assert_eq!(enc.len(), 73 + 2);
        assert_eq!(DepositOpaqueData::decode(U256::ZERO, &enc).unwrap(), d);
    }

    #[test]
    fn bad_opaque_data_is_named() {
        assert_eq!(DepositOpaqueData::decode(U256::from(1), &[]), Err(ProtocolError::DepositVersion(1)));
        assert!(matches!(
            DepositOpaqueData::decode(U256::ZERO, &[0; 72]),
            Err(ProtocolError::TooShort { .. })
        ));
        let mut enc = DepositOpaqueData {
            mint: U256::ZERO,
            value: U256::ZERO,
            gas_limit: 1,
            is_creation: true,
            data: Bytes::new(),
        }
        .encode()
        .to_vec();
        enc[72] = 2;
        assert_eq!(DepositOpaqueData::decode(U256::ZERO, &enc), Err(ProtocolError::DepositCreationFlag(2)));
    }
}
