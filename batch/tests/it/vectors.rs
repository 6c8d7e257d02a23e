//! Fixed byte vectors: an accidental change of the format fails here.

use crate::corpus::{self, CHAIN_ID};
use alloy_primitives::{B256, hex, keccak256};
use temporis_batch::{
    Batch, BatchBlock, BatchConfig, ChannelConfig, ChannelReader, Compression, DecodeLimits,
};

fn small_batch() -> Batch {
    Batch {
        parent_hash: B256::repeat_byte(0x11),
        l1_origin_hash: B256::repeat_byte(0x22),
        blocks: vec![
            BatchBlock { number: 300, timestamp: 1_700_000_000, l1_origin_number: 20, txs: vec![] },
            BatchBlock { number: 301, timestamp: 1_700_000_002, l1_origin_number: 21, txs: vec![] },
            BatchBlock { number: 302, timestamp: 1_700_000_002, l1_origin_number: 21, txs: vec![] },
        ],
    }
}

#[test]
fn empty_blocks_body_vector() {
    let body = small_batch().encode_body(&BatchConfig::new(CHAIN_ID)).unwrap();
    let expected = concat!(
        "01",         // batch version
        "ac02",       // first block number 300
        "80e2cfaa06", // first timestamp 1 700 000 000
        "14",         // first L1 origin 20
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        "03", // 3 blocks
        "02",
        "00", // timestamp deltas
        "01", // origin bits: block 1 changes origin, block 2 does not
        "00",
        "00",
        "00", // tx counts
    );
    assert_eq!(hex::encode(&body), expected);
}

#[test]
fn channel_vector() {
    // The uncompressed channel of the batch above, in one payload.
    let cfg = ChannelConfig::new(CHAIN_ID).with_compression(Compression::None);
    let payloads = small_batch().encode(&cfg).unwrap();
    assert_eq!(payloads.len(), 1);
    let p = &payloads[0];
    let channel = &p[23..p.len() - 1];
    assert_eq!(channel[0], 0x00, "compression: none");
    let id = &keccak256(channel)[..16];
    assert_eq!(&p[..1], &[0x00], "derivation version");
    assert_eq!(&p[1..17], id, "content-derived channel id");
    assert_eq!(&p[17..19], &[0, 0], "frame number");
    assert_eq!(&p[19..23], &(channel.len() as u32).to_be_bytes());
    assert_eq!(p[p.len() - 1], 1, "is_last");
}

#[test]
fn signed_txs_body_digest() {
    // A batch of one tx of every type (deterministic RFC 6979 signatures), pinned by the
    // keccak of its body; the tx bytes themselves are pinned by alloy's own tests.
    let b = Batch {
        parent_hash: B256::ZERO,
        l1_origin_hash: B256::ZERO,
        blocks: vec![BatchBlock {
            number: 1,
            timestamp: 2,
            l1_origin_number: 3,
            txs: corpus::every_type(CHAIN_ID),
        }],
    };
    let body = b.encode_body(&BatchConfig::new(CHAIN_ID)).unwrap();
    let txs_len: usize = b.blocks[0].txs.iter().map(|t| t.len()).sum();
    println!("body {} bytes for {txs_len} bytes of txs: {}", body.len(), keccak256(&body));
    assert_eq!(
        keccak256(&body),
        B256::from(hex!("5c31ef7e64269afa7717da7cc40d8938b8b36c065b8aa3be868e70f8dfe47ce3"))
    );
    let mut r = ChannelReader::new(DecodeLimits::new(CHAIN_ID));
    let out = r.push(&b.encode(&ChannelConfig::new(CHAIN_ID)).unwrap()[0]).unwrap();
    assert_eq!(out, vec![b]);
}
