//! The portal's `TransactionDeposited` event (OP Stack, version 0).
//!
//! `event TransactionDeposited(address indexed from, address indexed to, uint256 indexed version, bytes opaqueData)`
//! with `opaqueData = abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`.

use crate::{ProtocolError, Result};
use alloy_primitives::{Bytes, U256};

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

#[cfg(test)]
mod tests {
    use super::*;

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
