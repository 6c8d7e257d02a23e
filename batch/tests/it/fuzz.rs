//! Fuzz-style properties: random, truncated and flipped bytes give errors, never panics; and
//! random signed txs round-trip.

use crate::corpus::{self, CHAIN_ID, Shape};
use alloy::{
    consensus::{TxEip1559, TxEip2930, TxLegacy},
    eips::eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use proptest::prelude::*;
use std::sync::OnceLock;
use temporis_batch::{
    Batch, BatchBlock, BatchConfig, ChannelConfig, ChannelReader, Compression, DecodeLimits,
};

const CFG: BatchConfig = BatchConfig::new(CHAIN_ID);

/// A valid batch body and its payloads under each compression, built once.
fn samples() -> &'static (Vec<u8>, Vec<Vec<u8>>) {
    static S: OnceLock<(Vec<u8>, Vec<Vec<u8>>)> = OnceLock::new();
    S.get_or_init(|| {
        let mut b = corpus::marketplace_mix(Shape { blocks: 3, txs_per_block: 4, senders: 5 });
        b.blocks[1].txs.extend(corpus::every_type(CHAIN_ID));
        let body = b.encode_body(&CFG).unwrap();
        let payloads = [Compression::None, Compression::Brotli { level: 4 }, Compression::Zstd { level: 3 }]
            .into_iter()
            .map(|c| {
                let p = b.encode(&ChannelConfig::new(CHAIN_ID).with_compression(c)).unwrap();
                assert_eq!(p.len(), 1);
                p.into_iter().next().unwrap()
            })
            .collect();
        (body, payloads)
    })
}

fn reader() -> ChannelReader {
    ChannelReader::new(DecodeLimits::new(CHAIN_ID))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_payloads_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), frame_like in any::<bool>()) {
        let mut bytes = bytes;
        if frame_like && !bytes.is_empty() {
            bytes[0] = 0; // Get past the version byte more often.
        }
        let _ = reader().push(&bytes);
    }

    #[test]
    fn random_bodies_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = bytes;
        if !bytes.is_empty() {
            bytes[0] = temporis_batch::BATCH_VERSION;
        }
        if let Ok(b) = Batch::decode_body(&bytes, &CFG) {
            // Whatever decodes is canonical: it encodes back to the same bytes.
            prop_assert_eq!(b.encode_body(&CFG).unwrap(), bytes);
        }
    }

    #[test]
    fn flipped_bodies_are_errors_or_canonical(index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut body = samples().0.clone();
        let i = index.index(body.len());
        body[i] ^= 1 << bit;
        if let Ok(b) = Batch::decode_body(&body, &CFG) {
            prop_assert_eq!(b.encode_body(&CFG).unwrap(), body);
        }
    }

    #[test]
    fn truncated_bodies_are_errors(index in any::<prop::sample::Index>()) {
        let body = &samples().0;
        let cut = index.index(body.len());
        prop_assert!(Batch::decode_body(&body[..cut], &CFG).is_err());
    }

    #[test]
    fn flipped_payloads_do_not_panic(which in 0usize..3, index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut p = samples().1[which].clone();
        let i = index.index(p.len());
        p[i] ^= 1 << bit;
        let _ = reader().push(&p);
    }

    #[test]
    fn truncated_payloads_are_errors(which in 0usize..3, index in any::<prop::sample::Index>()) {
        let p = &samples().1[which];
        let cut = index.index(p.len());
        prop_assert!(reader().push(&p[..cut]).is_err());
    }
}

fn arb_u256() -> impl Strategy<Value = U256> {
    prop_oneof![
        Just(U256::ZERO),
        any::<u64>().prop_map(U256::from),
        any::<[u64; 4]>().prop_map(U256::from_limbs)
    ]
}

fn arb_to() -> impl Strategy<Value = TxKind> {
    prop_oneof![Just(TxKind::Create), any::<[u8; 20]>().prop_map(|a| TxKind::Call(Address::from(a)))]
}

fn arb_access_list() -> impl Strategy<Value = AccessList> {
    proptest::collection::vec(
        (any::<[u8; 20]>(), proptest::collection::vec(any::<[u8; 32]>(), 0..3)).prop_map(|(a, keys)| {
            AccessListItem {
                address: Address::from(a),
                storage_keys: keys.into_iter().map(B256::from).collect(),
            }
        }),
        0..3,
    )
    .prop_map(AccessList)
}

#[derive(Debug, Clone)]
struct Fields {
    ty: u8,
    protected: bool,
    nonce: u64,
    gas_limit: u64,
    fee: u128,
    tip: u128,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
    access_list: AccessList,
    key: usize,
}

fn arb_fields() -> impl Strategy<Value = Fields> {
    (
        (0u8..3, any::<bool>(), any::<u64>(), any::<u64>(), any::<u128>(), any::<u128>()),
        (arb_to(), arb_u256(), proptest::collection::vec(any::<u8>(), 0..80), arb_access_list(), 0usize..10),
    )
        .prop_map(
            |((ty, protected, nonce, gas_limit, fee, tip), (to, value, input, access_list, key))| Fields {
                ty,
                protected,
                nonce,
                gas_limit,
                fee,
                tip,
                to,
                value,
                input,
                access_list,
                key,
            },
        )
}

fn sign(f: Fields) -> Bytes {
    let s = corpus::dev_signer(f.key);
    let input = Bytes::from(f.input);
    match f.ty {
        0 => corpus::sign(
            TxLegacy {
                chain_id: f.protected.then_some(CHAIN_ID),
                nonce: f.nonce,
                gas_price: f.fee,
                gas_limit: f.gas_limit,
                to: f.to,
                value: f.value,
                input,
            },
            &s,
        ),
        1 => corpus::sign(
            TxEip2930 {
                chain_id: CHAIN_ID,
                nonce: f.nonce,
                gas_price: f.fee,
                gas_limit: f.gas_limit,
                to: f.to,
                value: f.value,
                access_list: f.access_list,
                input,
            },
            &s,
        ),
        _ => corpus::sign(
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce: f.nonce,
                gas_limit: f.gas_limit,
                max_fee_per_gas: f.fee,
                max_priority_fee_per_gas: f.tip,
                to: f.to,
                value: f.value,
                access_list: f.access_list,
                input,
            },
            &s,
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_signed_txs_round_trip(blocks in proptest::collection::vec((0u64..3, any::<bool>(), proptest::collection::vec(arb_fields(), 0..4)), 1..5)) {
        let mut number = 77;
        let mut timestamp = 1_000;
        let mut origin = 9;
        let blocks: Vec<_> = blocks
            .into_iter()
            .map(|(dt, new_origin, txs)| {
                number += 1;
                timestamp += dt;
                origin += u64::from(new_origin);
                BatchBlock { number, timestamp, l1_origin_number: origin, txs: txs.into_iter().map(sign).collect() }
            })
            .collect();
        let b = Batch { parent_hash: B256::repeat_byte(3), l1_origin_hash: B256::repeat_byte(4), blocks };
        let body = b.encode_body(&CFG).unwrap();
        prop_assert_eq!(&Batch::decode_body(&body, &CFG).unwrap(), &b);
        let mut r = reader();
        let out = r.push(&b.encode(&ChannelConfig::new(CHAIN_ID).with_compression(Compression::Zstd { level: 1 })).unwrap()[0]).unwrap();
        prop_assert_eq!(out, vec![b]);
    }
}
