//! Property tests of the Alt-DA commitment codec (`temporis_protocol::commitment`), the first
//! thing every DA `get` parses from untrusted L1 data.

use proptest::prelude::*;
use temporis_protocol::commitment::Commitment;

fn arb_commitment() -> impl Strategy<Value = Commitment> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(|h| Commitment::Keccak(h.into())),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 1..200))
            .prop_map(|(da_layer, p)| Commitment::Generic { da_layer, payload: p.into() }),
    ]
}

proptest! {
    #[test]
    fn decode_of_encode_is_identity(c in arb_commitment()) {
        prop_assert_eq!(&Commitment::decode(&c.encode()).unwrap(), &c);
        prop_assert_eq!(Commitment::from_inbox_payload(&c.to_inbox_payload()).unwrap(), c);
    }

    #[test]
    fn decode_never_panics_and_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        // Whatever decodes encodes back to the very same bytes.
        if let Ok(c) = Commitment::decode(&bytes) {
            prop_assert_eq!(&c.encode()[..], &bytes[..]);
        }
        let _ = Commitment::from_inbox_payload(&bytes);
    }

    #[test]
    fn decode_of_filecoin_like_bytes_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![0x01, 0xfc];
        bytes.extend_from_slice(&payload);
        match Commitment::decode(&bytes) {
            Ok(c) => prop_assert_eq!(c.encode().to_vec(), bytes),
            Err(_) => prop_assert!(payload.is_empty()),
        }
    }
}
