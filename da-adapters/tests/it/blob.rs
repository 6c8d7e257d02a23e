//! The EIP-4844 blob backend: its field-element codec against the OP Stack's test vectors and
//! properties, and the backend against real anvil nodes (the default fork, Osaka with EIP-7594
//! cell-proof sidecars, and `--hardfork prague` with EIP-4844 blob proofs), reading blobs back
//! over anvil's JSON-RPC and over its beacon `blobs` endpoint.

use crate::{anvil, anvil_with, signer};
use alloy::consensus::Transaction as _;
use alloy::eips::eip4844::{BYTES_PER_BLOB, Blob};
use alloy::network::{EthereumWallet, TransactionBuilder, TransactionBuilder4844};
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, Bytes, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use proptest::prelude::*;
use std::time::Instant;
use temporis_da_adapters::blob::codec::{self, BlobCodecError, MAX_BLOB_DATA_SIZE};
use temporis_da_adapters::blob::{
    BeaconBlockId, BeaconClient, BlobBackend, BlobSource, DA_LAYER_ETHEREUM_BLOB, DEFAULT_INBOX,
    MAX_BLOB_TX_DATA, MAX_BLOBS_PER_TX, SidecarFormat, build_sidecar, preload_trusted_setup, versioned_hash,
};
use temporis_da_adapters::{DaBackend, DaError};
use temporis_protocol::commitment::Commitment;

/// A blob whose first bytes are `prefix` and the rest zero (as OP's vectors are written).
fn blob_with(prefix: &[u8]) -> Blob {
    let mut b = Blob::ZERO;
    b[..prefix.len()].copy_from_slice(prefix);
    b
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

// ---- codec: OP Stack vectors (op-service/eth/blob_test.go) -------------------------------

#[test]
fn blob_codec_op_decode_vectors() {
    // An all-zero blob is version 0, length 0: empty data.
    assert_eq!(codec::decode_blob(&Blob::ZERO).unwrap(), b"");
    // Length 1: one zero byte.
    assert_eq!(codec::decode_blob(&blob_with(b"\x00\x00\x00\x00\x01")).unwrap(), b"\x00");
    // Length 130044 (0x01fbfc), the capacity: that many zeros.
    assert_eq!(codec::decode_blob(&blob_with(b"\x00\x00\x01\xfb\xfc")).unwrap(), vec![0u8; 130_044]);
    // Length 130045: too long.
    assert_eq!(
        codec::decode_blob(&blob_with(b"\x00\x00\x01\xfb\xfd")),
        Err(BlobCodecError::Length { blob: 0, len: 130_045 })
    );
    // Length 10, ending in 0xff.
    let b = blob_with(b"\x00\x00\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff");
    assert_eq!(codec::decode_blob(&b).unwrap(), b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff");
    // 27 bytes of 0xff: exactly the rest of the first field element.
    let mut v = b"\x00\x00\x00\x00\x1b".to_vec();
    v.extend([0xff; 27]);
    assert_eq!(codec::decode_blob(&blob_with(&v)).unwrap(), vec![0xffu8; 27]);
    // 32 bytes of 0xff: byte 28 is split over the top bits of field elements 0 and 1.
    let mut v = b"\x3f\x00\x00\x00\x20".to_vec();
    v.extend([0xff; 27]);
    v.extend(b"\x30\xff\xff\xff\xff");
    assert_eq!(codec::decode_blob(&blob_with(&v)).unwrap(), vec![0xffu8; 32]);
}

#[test]
fn blob_codec_op_encode_vectors() {
    assert_eq!(codec::encode_blob(b"").unwrap(), Blob::ZERO);
    assert_eq!(codec::encode_blob(&[0u8; MAX_BLOB_DATA_SIZE]).unwrap(), blob_with(b"\x00\x00\x01\xfb\xfc"));
    assert!(matches!(
        codec::encode_blob(&[0u8; MAX_BLOB_DATA_SIZE + 1]),
        Err(BlobCodecError::TooLarge { size: 130_045, .. })
    ));
    let mut v = b"\x00\x00\x00\x00\x1b".to_vec();
    v.extend([0xff; 27]);
    assert_eq!(codec::encode_blob(&[0xff; 27]).unwrap(), blob_with(&v));
    let mut v = b"\x3f\x00\x00\x00\x1c".to_vec();
    v.extend([0xff; 27]);
    v.push(0x30);
    assert_eq!(codec::encode_blob(&[0xff; 28]).unwrap(), blob_with(&v));
    // A whole blob is never encodable (each field element loses two bits).
    assert!(codec::encode_blob(&[0u8; BYTES_PER_BLOB]).is_err());
}

#[test]
fn blob_codec_round_trips_op_cases() {
    let cases: &[&[u8]] = &[
        b"this is a test of blob encoding/decoding",
        b"short",
        b"\x00",
        b"\x00\x01\x00",
        &[0; 27],
        &[0; 26],
        &[0; 25],
        b"",
    ];
    for c in cases {
        assert_eq!(codec::decode_blob(&codec::encode_blob(c).unwrap()).unwrap(), *c);
    }
    // The boundaries of the first round and of a full blob, and the lengths just below.
    let big = noise(MAX_BLOB_DATA_SIZE, 99);
    for len in
        [0, 1, 27, 28, 31, 32, 123, 124, 127, 128, 250, 251, MAX_BLOB_DATA_SIZE - 1, MAX_BLOB_DATA_SIZE]
    {
        assert_eq!(codec::decode_blob(&codec::encode_blob(&big[..len]).unwrap()).unwrap(), &big[..len]);
    }
    for skip in 1..256 {
        let d = &big[skip..];
        assert_eq!(codec::decode_blob(&codec::encode_blob(d).unwrap()).unwrap(), d);
    }
}

#[test]
fn blob_codec_rejects_malformed_blobs() {
    let mut b = codec::encode_blob(b"this is a test of invalid blob decoding").unwrap();
    // The top bit, then the second-top bit, of field element 1.
    for bit in [0b1000_0000, 0b0100_0000] {
        b[32] = bit;
        assert_eq!(
            codec::decode_blob(&b),
            Err(BlobCodecError::InvalidFieldElement { blob: 0, index: 1, byte: bit })
        );
    }
    b[32] = 0;
    // A top bit far past the data is refused too (the field element may be above the modulus).
    b[4095 * 32] = 0x80;
    assert!(matches!(codec::decode_blob(&b), Err(BlobCodecError::InvalidFieldElement { index: 4095, .. })));
    b[4095 * 32] = 0;
    b[1] = 0x01;
    assert_eq!(codec::decode_blob(&b), Err(BlobCodecError::Version { blob: 0, version: 1 }));
    b[1] = 0;
    b[2] = 0xff;
    assert!(matches!(codec::decode_blob(&b), Err(BlobCodecError::Length { .. })));

    // OP's extraneous-data cases: top-bit payload in a zero-length blob…
    assert!(matches!(
        codec::decode_blob(&blob_with(b"\x30\x00\x00\x00\x00")),
        Err(BlobCodecError::ExtraneousData { .. })
    ));
    assert!(matches!(
        codec::decode_blob(&blob_with(b"\x01\x00\x00\x00\x00")),
        Err(BlobCodecError::ExtraneousData { .. })
    ));
    // …and a one anywhere after a 5-byte payload.
    let good = codec::encode_blob(b"hello").unwrap();
    for i in (5..BYTES_PER_BLOB).step_by(7).chain([32, 64, 96, BYTES_PER_BLOB - 1]) {
        let mut b = good;
        b[i] ^= 1;
        if (5..10).contains(&i) {
            // Inside the payload: decodes, to different data.
            assert_ne!(codec::decode_blob(&b).unwrap(), b"hello");
            continue;
        }
        assert!(matches!(codec::decode_blob(&b), Err(BlobCodecError::ExtraneousData { .. })), "byte {i}");
    }
}

#[test]
fn blob_codec_multi_blob_chunking() {
    let data = noise(2 * MAX_BLOB_DATA_SIZE + 1000, 7);
    let blobs = codec::encode(&data, 3).unwrap();
    assert_eq!(blobs.len(), 3);
    assert_eq!(codec::decode_blob(&blobs[0]).unwrap(), &data[..MAX_BLOB_DATA_SIZE]);
    assert_eq!(codec::decode(&blobs).unwrap(), data);
    assert_eq!(codec::encode(&data[..MAX_BLOB_DATA_SIZE], 1).unwrap().len(), 1);
    assert_eq!(codec::encode(&data[..MAX_BLOB_DATA_SIZE + 1], 2).unwrap().len(), 2);
    assert_eq!(codec::encode(b"", 1).unwrap(), vec![Blob::ZERO]);
    assert!(matches!(codec::encode(&data, 2), Err(BlobCodecError::TooLarge { max_blobs: 2, .. })));
    assert_eq!(codec::decode(&[]), Err(BlobCodecError::NoBlobs));
    // A short blob before the last, and an empty last blob, are not this codec's chunking.
    let short = codec::encode_blob(b"short").unwrap();
    assert!(matches!(codec::decode(&[short, blobs[2]]), Err(BlobCodecError::ShortChunk { blob: 0, .. })));
    assert!(matches!(
        codec::decode(&[blobs[0], Blob::ZERO]),
        Err(BlobCodecError::EmptyLastChunk { count: 2 })
    ));
    // An error names the blob it is in.
    let mut bad = blobs;
    bad[1][1] = 7;
    assert_eq!(codec::decode(&bad), Err(BlobCodecError::Version { blob: 1, version: 7 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn blob_codec_prop_round_trip(data in prop::collection::vec(any::<u8>(), 0..3 * MAX_BLOB_DATA_SIZE)) {
        let blobs = codec::encode(&data, 3).unwrap();
        prop_assert_eq!(blobs.len(), codec::blobs_needed(data.len()));
        prop_assert_eq!(codec::decode(&blobs).unwrap(), data);
    }

    /// Any blob at all: decoding never panics, and what decodes re-encodes to the same blob (the
    /// encoding is a bijection, so no two blobs carry the same data).
    #[test]
    fn blob_codec_prop_random_blobs(bytes in prop::collection::vec(any::<u8>(), BYTES_PER_BLOB)) {
        let blob = Blob::from_slice(&bytes);
        if let Ok(data) = codec::decode_blob(&blob) {
            prop_assert_eq!(codec::encode_blob(&data).unwrap(), blob);
        }
    }

    /// Encoded blobs with a few bits flipped (random blobs almost never get past the first
    /// check): decoding never panics, and a blob that still decodes is canonical.
    #[test]
    fn blob_codec_prop_flipped_bits(
        data in prop::collection::vec(any::<u8>(), 0..4000),
        flips in prop::collection::vec((0..BYTES_PER_BLOB, 0u8..8), 1..4),
    ) {
        let mut blob = codec::encode_blob(&data).unwrap();
        for (i, bit) in flips {
            blob[i] ^= 1 << bit;
        }
        if let Ok(decoded) = codec::decode_blob(&blob) {
            prop_assert_eq!(codec::encode_blob(&decoded).unwrap(), blob);
        }
    }
}

// ---- the backend against anvil ------------------------------------------------------------

fn provider(a: &AnvilInstance) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(signer(a))).connect_http(a.endpoint_url()).erased()
}

fn tx_hash_of(c: &Commitment) -> B256 {
    let Commitment::Generic { payload, .. } = c else { panic!("generic commitment expected") };
    B256::from_slice(&payload[..32])
}

/// Puts `data`, checks the commitment and the number of blobs the transaction carries, and
/// reads it back. Prints how long put and get took (`--nocapture` shows it).
async fn round_trip(da: &BlobBackend, p: &DynProvider, data: Vec<u8>) -> Commitment {
    let data = Bytes::from(data);
    let format = da.sidecar_format().await.unwrap();
    let start = Instant::now();
    let c = da.put(data.clone()).await.unwrap();
    let put = start.elapsed();
    let Commitment::Generic { da_layer, payload } = &c else { panic!("generic commitment expected") };
    assert_eq!(*da_layer, DA_LAYER_ETHEREUM_BLOB);
    assert_eq!(payload.len(), 64);
    assert_eq!(&payload[32..], keccak256(&data).as_slice());
    let tx = p.get_transaction_by_hash(tx_hash_of(&c)).await.unwrap().unwrap();
    let blobs = tx.blob_versioned_hashes().unwrap().len();
    assert_eq!(blobs, codec::blobs_needed(data.len()));
    let start = Instant::now();
    assert_eq!(da.get(&c).await.unwrap(), data);
    let get = start.elapsed();
    eprintln!(
        "blob round trip: {} bytes, {blobs} blob(s), {format:?}: put {put:.2?}, get {get:.2?}",
        data.len()
    );
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_blob_default_fork_round_trips_and_checks() {
    let a = anvil(31337);
    let p = provider(&a);
    let da = BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::AnvilRpc).unwrap();
    let start = Instant::now();
    preload_trusted_setup().await.unwrap();
    eprintln!("KZG trusted setup loaded in {:.2?} (shared by the tests of this process)", start.elapsed());
    // anvil's default ("latest") fork is past Osaka: cell-proof sidecars.
    assert_eq!(da.sidecar_format().await.unwrap(), SidecarFormat::Eip7594);

    let small = round_trip(&da, &p, b"an L2 batch".repeat(100)).await;
    round_trip(&da, &p, noise(MAX_BLOB_DATA_SIZE, 1)).await; // exactly one full blob
    round_trip(&da, &p, noise(2 * MAX_BLOB_DATA_SIZE + 1, 2)).await; // three blobs, the last of one byte
    round_trip(&da, &p, Vec::new()).await; // empty data is one blob of length 0
    // The commitment survives its wire encoding.
    let data = b"an L2 batch".repeat(100);
    assert_eq!(da.get(&Commitment::decode(&small.encode()).unwrap()).await.unwrap(), data);

    // The same blobs through anvil's beacon endpoint.
    let beacon = BlobBackend::new(
        &a.endpoint(),
        signer(&a),
        DEFAULT_INBOX,
        BlobSource::anvil_beacon(&a.endpoint()).unwrap(),
    )
    .unwrap();
    assert_eq!(beacon.get(&small).await.unwrap(), data);

    // A flipped bit in the commitment's data hash.
    let Commitment::Generic { da_layer, payload } = &small else { unreachable!() };
    let mut bad = payload.to_vec();
    bad[40] ^= 1;
    let bad = Commitment::Generic { da_layer: *da_layer, payload: bad.into() };
    assert!(matches!(da.get(&bad).await, Err(DaError::CommitmentMismatch { .. })));
    assert!(matches!(beacon.get(&bad).await, Err(DaError::CommitmentMismatch { .. })));

    // Unknown transaction → NotFound; keccak, other layers, short payloads → unsupported.
    let mut missing = vec![0u8; 64];
    missing[..32].copy_from_slice(B256::repeat_byte(7).as_slice());
    let missing = Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload: missing.into() };
    assert!(matches!(da.get(&missing).await, Err(DaError::NotFound(_))));
    assert!(matches!(da.get(&Commitment::keccak(&data)).await, Err(DaError::UnsupportedCommitment { .. })));
    let other = Commitment::Generic { da_layer: 0xe1, payload: payload.clone() };
    assert!(matches!(da.get(&other).await, Err(DaError::UnsupportedCommitment { .. })));
    let short = Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload: payload.slice(..32) };
    assert!(matches!(da.get(&short).await, Err(DaError::UnsupportedCommitment { .. })));

    // A plain (calldata) transaction to the inbox carries no blobs: not this backend's data.
    let receipt = p
        .send_transaction(TransactionRequest::default().with_to(DEFAULT_INBOX).with_input(data.clone()))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let mut plain = receipt.transaction_hash.to_vec();
    plain.extend_from_slice(keccak256(&data).as_slice());
    let plain = Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload: plain.into() };
    assert!(matches!(da.get(&plain).await, Err(DaError::CommitmentMismatch { .. })));

    // Oversize blobs are refused before anything is sent, at the default and a lower cap.
    assert_eq!(da.max_size(), MAX_BLOB_TX_DATA);
    let big = Bytes::from(vec![1u8; MAX_BLOB_TX_DATA + 1]);
    assert!(
        matches!(da.put(big).await, Err(DaError::TooLarge { size, limit }) if size == MAX_BLOB_TX_DATA + 1 && limit == MAX_BLOB_TX_DATA)
    );
    let one = BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::AnvilRpc)
        .unwrap()
        .with_max_blobs(1)
        .unwrap();
    assert!(matches!(
        one.put(Bytes::from(vec![0u8; MAX_BLOB_DATA_SIZE + 1])).await,
        Err(DaError::TooLarge { .. })
    ));
    assert!(
        BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::AnvilRpc)
            .unwrap()
            .with_max_blobs(MAX_BLOBS_PER_TX + 1)
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_blob_refuses_blobs_it_did_not_encode() {
    // Someone else's blob transaction to the inbox, with a blob that is valid KZG-wise but not
    // this encoding (version 1): the backend says so instead of returning anything.
    let a = anvil(31337);
    let p = provider(&a);
    let da = BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::AnvilRpc).unwrap();
    let mut blob = codec::encode_blob(b"not ours").unwrap();
    blob[1] = 1;
    let vh = versioned_hash(&blob).unwrap();
    let sidecar = build_sidecar(vec![blob], SidecarFormat::Eip7594).unwrap();
    assert_eq!(sidecar.versioned_hashes().collect::<Vec<_>>(), vec![vh]);
    let fee = p.get_blob_base_fee().await.unwrap() * 2;
    let tx = TransactionRequest::default()
        .with_to(DEFAULT_INBOX)
        .with_blob_sidecar(sidecar)
        .with_max_fee_per_blob_gas(fee);
    let receipt = p.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    let mut c = receipt.transaction_hash.to_vec();
    c.extend_from_slice(keccak256(b"not ours").as_slice());
    let c = Commitment::Generic { da_layer: DA_LAYER_ETHEREUM_BLOB, payload: c.into() };
    match da.get(&c).await {
        Err(DaError::Malformed { msg, .. }) => assert!(msg.contains("encoding version 1"), "{msg}"),
        other => panic!("expected Malformed, got {other:?}"),
    }

    // The same blob through the beacon endpoint, and a transaction to another address.
    let beacon = BlobBackend::new(
        &a.endpoint(),
        signer(&a),
        DEFAULT_INBOX,
        BlobSource::anvil_beacon(&a.endpoint()).unwrap(),
    )
    .unwrap();
    assert!(matches!(beacon.get(&c).await, Err(DaError::Malformed { .. })));
    let elsewhere =
        BlobBackend::new(&a.endpoint(), signer(&a), Address::repeat_byte(1), BlobSource::AnvilRpc).unwrap();
    assert!(matches!(elsewhere.get(&c).await, Err(DaError::CommitmentMismatch { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_blob_prague_uses_eip4844_sidecars() {
    let a = anvil_with(31337, &["--hardfork", "prague"]);
    let p = provider(&a);
    let da = BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::AnvilRpc).unwrap();
    assert_eq!(da.sidecar_format().await.unwrap(), SidecarFormat::Eip4844);
    let c = round_trip(&da, &p, noise(MAX_BLOB_DATA_SIZE + 500, 3)).await;
    let beacon = BlobBackend::new(
        &a.endpoint(),
        signer(&a),
        DEFAULT_INBOX,
        BlobSource::anvil_beacon(&a.endpoint()).unwrap(),
    )
    .unwrap();
    assert_eq!(beacon.get(&c).await.unwrap(), noise(MAX_BLOB_DATA_SIZE + 500, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_blob_beacon_by_slot() {
    // A real beacon node is asked by slot, computed from the block timestamp and the beacon
    // genesis time. anvil has no slots, but with 12 s between block timestamps starting at its
    // beacon genesis time, slot n is block n, which its beacon endpoint serves: the slot path
    // (genesis fetch, slot arithmetic, slot-addressed request) runs against a real peer.
    let a = anvil(31337);
    let p = provider(&a);
    let () = p.raw_request("anvil_setBlockTimestampInterval".into(), (12u64,)).await.unwrap();
    let by_slot = |seconds_per_slot| {
        let beacon = BeaconClient::new(&a.endpoint(), BeaconBlockId::Slot { seconds_per_slot }).unwrap();
        BlobBackend::new(&a.endpoint(), signer(&a), DEFAULT_INBOX, BlobSource::Beacon(beacon)).unwrap()
    };
    let da = by_slot(Some(12));
    let data = noise(5000, 4);
    let c = round_trip(&da, &p, data.clone()).await;
    let block = p.get_transaction_by_hash(tx_hash_of(&c)).await.unwrap().unwrap().block_number.unwrap();
    assert!(block > 0);

    // Slots of 5 s do not fit 12 s blocks: refused, not guessed.
    assert!(matches!(by_slot(Some(5)).get(&c).await, Err(DaError::Malformed { .. })));
    // Without a slot length the node is asked for its spec, which anvil does not serve.
    match by_slot(None).get(&c).await {
        Err(DaError::Chain { msg, .. }) => assert!(msg.contains("config/spec"), "{msg}"),
        other => panic!("expected a Chain error, got {other:?}"),
    }
}
