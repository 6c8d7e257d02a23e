//! OP Alt-DA commitments and the batch-inbox payload that carries them to L1.
//!
//! A batch is put to a DA layer, which answers with a commitment; the batcher then posts
//! `0x01 ‖ commitment` to the L1 `BatchInbox`, where `0x01` is the Alt-DA derivation version.
//! Two commitment forms exist (OP Alt-DA spec):
//!
//! - keccak256: `0x00 ‖ keccak256(data)`: the data is identified by its hash alone;
//! - generic: `0x01 ‖ da_layer_byte ‖ payload`: the DA layer's own reference (a transaction hash,
//!   a piece CID, …) whose meaning the layer's adapter knows.

use crate::{ProtocolError, Result};
use alloy_primitives::{B256, Bytes, keccak256};

/// Alt-DA derivation version byte at the head of a batch-inbox payload.
pub const ALT_DA_DERIVATION_VERSION: u8 = 0x01;
/// Commitment type byte of a keccak256 commitment.
pub const KECCAK_COMMITMENT_TYPE: u8 = 0x00;
/// Commitment type byte of a generic commitment.
pub const GENERIC_COMMITMENT_TYPE: u8 = 0x01;
/// DA layer byte of NEAR DA in generic commitments (the byte NEAR DA itself uses).
pub const DA_LAYER_NEAR: u8 = 0x6e;
/// DA layer byte of Ethereum calldata in generic commitments (ours; no known layer uses it).
pub const DA_LAYER_ETHEREUM_CALLDATA: u8 = 0xe1;
/// DA layer byte of Ethereum EIP-4844 blobs in generic commitments (ours).
pub const DA_LAYER_ETHEREUM_BLOB: u8 = 0xe4;
/// DA layer byte of Polygon PoS calldata in generic commitments (ours; 137 is Polygon's chain id).
pub const DA_LAYER_POLYGON: u8 = 0x89;
/// DA layer byte of Filecoin piece CIDs in generic commitments (ours).
pub const DA_LAYER_FILECOIN: u8 = 0xfc;
/// DA layer byte of a replicated commitment, which carries the commitments of several layers
/// (ours; the layout is in `temporis_da_adapters::replicated`).
pub const DA_LAYER_REPLICATED: u8 = 0xee;

/// An OP Alt-DA commitment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Commitment {
    /// `0x00 ‖ keccak256(data)`.
    Keccak(B256),
    /// `0x01 ‖ da_layer ‖ payload`.
    Generic {
        /// Which DA layer the payload refers to.
        da_layer: u8,
        /// The layer's own reference to the data.
        payload: Bytes,
    },
}

impl Commitment {
    /// The keccak256 commitment of `data`.
    pub fn keccak(data: &[u8]) -> Self {
        Self::Keccak(keccak256(data))
    }

    /// The commitment's wire bytes (what `POST /put` returns and what follows `0x01` on L1).
    pub fn encode(&self) -> Bytes {
        match self {
            Self::Keccak(hash) => {
                let mut out = Vec::with_capacity(33);
                out.push(KECCAK_COMMITMENT_TYPE);
                out.extend_from_slice(hash.as_slice());
                out.into()
            }
            Self::Generic { da_layer, payload } => {
                let mut out = Vec::with_capacity(2 + payload.len());
                out.push(GENERIC_COMMITMENT_TYPE);
                out.push(*da_layer);
                out.extend_from_slice(payload);
                out.into()
            }
        }
    }

    /// Parses a commitment's wire bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (&kind, rest) =
            bytes.split_first().ok_or(ProtocolError::TooShort { what: "commitment", needed: 1, got: 0 })?;
        match kind {
            KECCAK_COMMITMENT_TYPE => {
                if rest.len() != 32 {
                    return Err(ProtocolError::KeccakCommitmentLength(bytes.len()));
                }
                Ok(Self::Keccak(B256::from_slice(rest)))
            }
            GENERIC_COMMITMENT_TYPE => {
                let (&da_layer, payload) = rest.split_first().ok_or(ProtocolError::TooShort {
                    what: "generic commitment",
                    needed: 2,
                    got: bytes.len(),
                })?;
                if payload.is_empty() {
                    return Err(ProtocolError::EmptyGenericPayload(da_layer));
                }
                Ok(Self::Generic { da_layer, payload: Bytes::copy_from_slice(payload) })
            }
            other => Err(ProtocolError::UnknownCommitmentType(other)),
        }
    }

    /// Whether `data` is what a keccak commitment names. Generic commitments cannot be checked
    /// here: their adapter knows how (it returns `None` for them).
    pub fn verifies_keccak(&self, data: &[u8]) -> Option<bool> {
        match self {
            Self::Keccak(hash) => Some(keccak256(data) == *hash),
            Self::Generic { .. } => None,
        }
    }

    /// The batch-inbox payload: `0x01 ‖ commitment`.
    pub fn to_inbox_payload(&self) -> Bytes {
        let encoded = self.encode();
        let mut out = Vec::with_capacity(1 + encoded.len());
        out.push(ALT_DA_DERIVATION_VERSION);
        out.extend_from_slice(&encoded);
        out.into()
    }

    /// Parses a batch-inbox payload.
    pub fn from_inbox_payload(payload: &[u8]) -> Result<Self> {
        let (&version, rest) = payload.split_first().ok_or(ProtocolError::TooShort {
            what: "inbox payload",
            needed: 1,
            got: 0,
        })?;
        if version != ALT_DA_DERIVATION_VERSION {
            return Err(ProtocolError::InboxVersion(version));
        }
        Self::decode(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_commitment_round_trips_and_verifies() {
        let c = Commitment::keccak(b"batch");
        let wire = c.encode();
        assert_eq!(wire.len(), 33);
        assert_eq!(wire[0], 0x00);
        assert_eq!(Commitment::decode(&wire).unwrap(), c);
        assert_eq!(c.verifies_keccak(b"batch"), Some(true));
        assert_eq!(c.verifies_keccak(b"batcH"), Some(false));
        let inbox = c.to_inbox_payload();
        assert_eq!(inbox[0], 0x01);
        assert_eq!(Commitment::from_inbox_payload(&inbox).unwrap(), c);
    }

    #[test]
    fn generic_commitment_round_trips() {
        let c = Commitment::Generic { da_layer: DA_LAYER_NEAR, payload: Bytes::from_static(&[7; 32]) };
        let wire = c.encode();
        assert_eq!(&wire[..2], &[0x01, 0x6e]);
        assert_eq!(Commitment::decode(&wire).unwrap(), c);
        assert_eq!(c.verifies_keccak(b"anything"), None);
    }

    #[test]
    fn malformed_commitments_are_named() {
        assert_eq!(
            Commitment::decode(&[]),
            Err(ProtocolError::TooShort { what: "commitment", needed: 1, got: 0 })
        );
        assert_eq!(Commitment::decode(&[0x00; 32]), Err(ProtocolError::KeccakCommitmentLength(32)));
        assert_eq!(Commitment::decode(&[0x00; 34]), Err(ProtocolError::KeccakCommitmentLength(34)));
        assert_eq!(Commitment::decode(&[0x02, 1]), Err(ProtocolError::UnknownCommitmentType(2)));
        assert_eq!(Commitment::decode(&[0x01, 0x6e]), Err(ProtocolError::EmptyGenericPayload(0x6e)));
        assert!(matches!(Commitment::decode(&[0x01]), Err(ProtocolError::TooShort { .. })));
        assert_eq!(Commitment::from_inbox_payload(&[0x00, 0x00]), Err(ProtocolError::InboxVersion(0)));
    }
}
