//! Batches of real signed txs come back byte for byte, with the same tx hashes.

use crate::corpus::{self, CHAIN_ID, Shape};
use alloy::{
    consensus::TxEnvelope,
    eips::eip2718::{Decodable2718, Encodable2718},
};
use alloy_primitives::{B256, Bytes, keccak256};
use temporis_batch::{
    Batch, BatchBlock, BatchConfig, BatchError, ChannelConfig, ChannelReader, Compression, DecodeLimits,
};

const CFG: BatchConfig = BatchConfig::new(CHAIN_ID);

fn block(number: u64, timestamp: u64, origin: u64, txs: Vec<Bytes>) -> BatchBlock {
    BatchBlock { number, timestamp, l1_origin_number: origin, txs }
}

fn batch(blocks: Vec<BatchBlock>) -> Batch {
    Batch { parent_hash: B256::repeat_byte(0xaa), l1_origin_hash: B256::repeat_byte(0xbb), blocks }
}

/// Encodes with every compression, reads back through a ChannelReader, and checks equality
/// (and that tx hashes match).
fn assert_round_trip(b: &Batch) {
    let body = b.encode_body(&CFG).unwrap();
    let decoded = Batch::decode_body(&body, &CFG).unwrap();
    assert_eq!(&decoded, b);
    assert_eq!(decoded.encode_body(&CFG).unwrap(), body, "re-encoding gives the same body");
    for compression in [
        Compression::None,
        Compression::Brotli { level: 5 },
        Compression::DEFAULT,
        Compression::Zstd { level: 3 },
    ] {
        let cfg = ChannelConfig::new(CHAIN_ID).with_compression(compression);
        let mut reader = ChannelReader::new(DecodeLimits::new(CHAIN_ID));
        let mut out = Vec::new();
        for p in b.encode(&cfg).unwrap() {
            out.extend(reader.push(&p).unwrap());
        }
        assert_eq!(out.len(), 1, "{compression:?}");
        assert_eq!(&out[0], b, "{compression:?}");
    }
    for (ours, theirs) in decoded.blocks.iter().flat_map(|b| &b.txs).zip(b.blocks.iter().flat_map(|b| &b.txs))
    {
        let a = TxEnvelope::decode_2718(&mut ours.as_ref()).unwrap();
        assert_eq!(*a.tx_hash(), keccak256(theirs));
        assert_eq!(a.encoded_2718(), theirs.to_vec());
    }
}

#[test]
fn every_tx_type_round_trips() {
    let txs = corpus::every_type(CHAIN_ID);
    assert_eq!(txs.len(), 6);
    assert_round_trip(&batch(vec![block(10, 100, 5, txs)]));
}

#[test]
fn empty_blocks_and_origin_changes_round_trip() {
    let txs = corpus::every_type(CHAIN_ID);
    let b = batch(vec![
        block(u64::MAX - 4, 100, 5, vec![]),
        block(u64::MAX - 3, 100, 6, txs[..2].to_vec()),
        block(u64::MAX - 2, 102, 6, vec![]),
        block(u64::MAX - 1, 1_000_000, 7, txs[2..].to_vec()),
        block(u64::MAX, 1_000_001, 8, vec![]),
    ]);
    assert_round_trip(&b);
    // A single empty block.
    assert_round_trip(&batch(vec![block(0, 0, 0, vec![])]));
}

#[test]
fn corpora_round_trip() {
    let shape = Shape { blocks: 13, txs_per_block: 7, senders: 20 };
    for b in [corpus::eth_transfers(shape), corpus::erc20_transfers(shape), corpus::marketplace_mix(shape)] {
        assert_eq!(b.tx_count(), 91);
        assert_round_trip(&b);
    }
}

#[test]
fn wrong_chain_id_is_refused() {
    let txs = corpus::every_type(CHAIN_ID + 1);
    for (index, tx) in txs.iter().enumerate() {
        let got = batch(vec![block(1, 1, 1, vec![tx.clone()])]).encode_body(&CFG);
        if index == 1 {
            // The pre-EIP-155 legacy tx names no chain: valid on any chain.
            assert!(got.is_ok());
        } else {
            assert_eq!(
                got,
                Err(BatchError::WrongChainId { block: 1, index: 0, expected: CHAIN_ID, got: CHAIN_ID + 1 }),
                "tx {index}"
            );
        }
    }
}

#[test]
fn deposits_blobs_and_garbage_are_refused() {
    let one = |tx: &[u8]| batch(vec![block(3, 1, 1, vec![Bytes::copy_from_slice(tx)])]).encode_body(&CFG);
    assert_eq!(one(&[0x7e, 0xc0]), Err(BatchError::DepositTx { block: 3, index: 0 }));
    assert_eq!(one(&[0x03, 0xc0]), Err(BatchError::BlobTx { block: 3, index: 0 }));
    assert!(matches!(one(&[]), Err(BatchError::InvalidTx { .. })));
    assert!(matches!(one(&[0x02, 0x01]), Err(BatchError::InvalidTx { .. })));
    // A valid tx with a byte after it.
    let mut tx = corpus::every_type(CHAIN_ID)[3].to_vec();
    tx.push(0);
    assert!(matches!(one(&tx), Err(BatchError::InvalidTx { .. })));
}

#[test]
fn block_sequence_rules() {
    let enc = |blocks| batch(blocks).encode_body(&CFG);
    assert_eq!(enc(vec![]), Err(BatchError::EmptyBatch));
    assert_eq!(
        enc(vec![block(1, 1, 1, vec![]), block(3, 1, 1, vec![])]),
        Err(BatchError::NonConsecutiveBlocks { prev: 1, got: 3 })
    );
    assert_eq!(
        enc(vec![block(1, 5, 1, vec![]), block(2, 4, 1, vec![])]),
        Err(BatchError::TimestampDecreases { number: 2, timestamp: 4, parent_timestamp: 5 })
    );
    assert_eq!(
        enc(vec![block(1, 5, 1, vec![]), block(2, 5, 3, vec![])]),
        Err(BatchError::BadOriginStep { number: 2, origin: 3, parent_origin: 1 })
    );
    assert_eq!(
        enc(vec![block(1, 5, 2, vec![]), block(2, 5, 1, vec![])]),
        Err(BatchError::BadOriginStep { number: 2, origin: 1, parent_origin: 2 })
    );
}

#[test]
fn decoding_with_another_chain_id_changes_the_txs() {
    // The chain id is implied: a reader configured for another chain rebuilds txs for that
    // chain, whose signatures then recover other senders. Readers must use the right config.
    let b = batch(vec![block(1, 1, 1, corpus::every_type(CHAIN_ID))]);
    let body = b.encode_body(&CFG).unwrap();
    let other = Batch::decode_body(&body, &BatchConfig::new(CHAIN_ID + 1)).unwrap();
    assert_ne!(other, b);
    // The pre-EIP-155 legacy tx is the same under every chain id.
    assert_eq!(other.blocks[0].txs[1], b.blocks[0].txs[1]);
}

#[test]
fn malformed_bodies_name_their_error() {
    let b = batch(vec![block(1, 1, 1, corpus::every_type(CHAIN_ID))]);
    let body = b.encode_body(&CFG).unwrap();
    let dec = |bytes: &[u8]| Batch::decode_body(bytes, &CFG);
    let mut v = body.clone();
    v[0] = 0x02;
    assert_eq!(dec(&v), Err(BatchError::UnknownBatchVersion(0x02)));
    let mut v = body;
    v.push(0);
    assert_eq!(dec(&v), Err(BatchError::TrailingBytes(1)));
    assert_eq!(dec(&[]), Err(BatchError::Truncated { field: "batch_version" }));
    // Zero blocks.
    let mut v = vec![temporis_batch::BATCH_VERSION, 1, 1, 1];
    v.extend_from_slice(&[0; 64]);
    v.push(0);
    assert_eq!(dec(&v), Err(BatchError::EmptyBatch));
    // A block count far over what the input could hold.
    let mut v = vec![temporis_batch::BATCH_VERSION, 1, 1, 1];
    v.extend_from_slice(&[0; 64]);
    v.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(matches!(dec(&v), Err(BatchError::InvalidField { field: "block_count", .. })));
    // One block of one tx, whose type byte is a deposit's: refused as a column value.
    let mut v = vec![temporis_batch::BATCH_VERSION, 1, 1, 1];
    v.extend_from_slice(&[0; 64]);
    v.extend_from_slice(&[1, 1, 0x7e]);
    v.extend_from_slice(&[0; 200]);
    assert!(matches!(dec(&v), Err(BatchError::InvalidField { field: "tx_types", .. })));
}

#[test]
fn a_creating_eip7702_tx_is_refused_by_the_decoder() {
    // Tx 5 of `every_type` is the EIP-7702 one; set its creation bit.
    let b = batch(vec![block(1, 1, 1, corpus::every_type(CHAIN_ID))]);
    let body = b.encode_body(&CFG).unwrap();
    // Prefix: version 1 + three one-byte varints (1, 1, 1) + two hashes + block count (1) +
    // tx count (1), then 6 type bytes, then the parity bits byte, then the creation bits byte.
    let creation = 1 + 3 + 64 + 1 + 1 + 6 + 1;
    let mut v = body;
    assert_eq!(v[creation] & (1 << 5), 0);
    v[creation] |= 1 << 5;
    assert!(matches!(
        Batch::decode_body(&v, &CFG),
        Err(BatchError::InvalidField { field: "contract_creation_bits", .. })
    ));
}
