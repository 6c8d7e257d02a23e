//! Published vectors, an independent CID implementation, and property tests.
//!
//! The vectors are the "Test Cases" section of FRC-0069 ("Piece Multihash and v2 Piece CID",
//! filecoin-project/FIPs, `FRCs/frc-0069.md`), copied as data. The independent implementation
//! is the `cid`/`multihash` crates (rust-multiformats).

use super::cid::*;
use super::commp::{commp, zero_root};
use super::{FilecoinCommitment, PieceCid};
use proptest::prelude::*;

/// `n` bytes each of the values 0, 1, 2, 3 in turn, then `zeros` zero bytes (the FRC's inputs).
fn quads(n: usize, zeros: usize) -> Vec<u8> {
    let mut d: Vec<u8> = (0..4u8).flat_map(|v| std::iter::repeat_n(v, n)).collect();
    d.resize(d.len() + zeros, 0);
    d
}

/// (payload, v1 piece CID or "" if the FRC gives none, v2 piece CID), from FRC-0069's Test Cases.
fn frc0069_payload_vectors() -> Vec<(Vec<u8>, &'static str, &'static str)> {
    vec![
        (
            quads(127, 0),
            "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
            "bafkzcibcaaces3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi",
        ),
        (vec![], "", "bafkzcibcp4bdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy"),
        (vec![0; 127], "", "bafkzcibcaabdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy"),
        (vec![0; 128], "", "bafkzcibcpybwiktap34inmaex4wbs6cghlq5i2j2yd2bb2zndn5ep7ralzphkdy"),
        (
            quads(127, 127 * 4),
            "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa",
            "bafkzcibcaac542av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa",
        ),
        (
            quads(127, 4),
            "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa",
            "bafkzcibd7abqlxticxolgseegik2stpfgkkuwyf6kufex3doorkvmzpjuxwe4dz4",
        ),
        (
            quads(127, 5),
            "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa",
            "bafkzcibd64bqlxticxolgseegik2stpfgkkuwyf6kufex3doorkvmzpjuxwe4dz4",
        ),
    ]
}

#[test]
fn frc0069_commp_of_given_payloads() {
    for (data, v1, v2) in frc0069_payload_vectors() {
        let piece = commp(&data);
        assert_eq!(piece.to_string(), v2, "v2 piece CID of {} bytes", data.len());
        assert_eq!(piece.payload_size(), data.len() as u64);
        if !v1.is_empty() {
            assert_eq!(piece.to_v1().to_string(), v1, "v1 piece CID of {} bytes", data.len());
            // v1 + size -> v2, and v2 -> v1.
            let from_v1 = PieceCid::from_v1(&v1.parse().unwrap(), data.len() as u64).unwrap();
            assert_eq!(from_v1, piece);
        }
        let parsed: PieceCid = v2.parse().unwrap();
        assert_eq!(parsed, piece);
        assert_eq!(PieceCid::from_v2_bytes(&parsed.to_v2_bytes()).unwrap(), piece);
    }
}

#[test]
fn frc0069_field_breakdown_and_base16_form() {
    // The FRC spells this one out: f | 01 | 55 | 9120 | 22 | 00 (padding) | 04 (height) | root.
    let piece = commp(&quads(127, 0));
    let hex = "f01559120220004496dae0cc9e265efe5a006e80626a5dc5c409e5d3155c13984caf6c8d5cfd605";
    assert_eq!(piece.to_v2().to_base16(), hex);
    assert_eq!(hex.parse::<Cid>().unwrap(), piece.to_v2());
    assert_eq!((piece.padding(), piece.height()), (0, 4));
    // The FRC's other stated fields.
    let empty = commp(&[]);
    assert_eq!((empty.padding(), empty.height()), (127, 2));
    let zeros127 = commp(&[0; 127]);
    assert_eq!((zeros127.padding(), zeros127.height()), (0, 2));
    let zeros128 = commp(&[0; 128]);
    assert_eq!((zeros128.padding(), zeros128.height()), (126, 3));
    assert_eq!(commp(&quads(127, 4)).padding(), 504);
    assert_eq!(commp(&quads(127, 5)).padding(), 503);
}

#[test]
fn frc0069_empty_sector_conversions() {
    // Empty 32 GiB and 64 GiB pieces (32/64 GiB * 127/128 zero bytes), v1 -> v2. Their roots are
    // the zero subtrees of heights 30 and 31, which checks the precomputed padding subtrees.
    for (height, gib, v1, v2) in [
        (
            30u8,
            32u64,
            "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq",
            "bafkzcibcaapao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq",
        ),
        (
            31,
            64,
            "baga6ea4seaqomqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq",
            "bafkzcibcaap6mqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq",
        ),
    ] {
        let size = (gib << 30) / 128 * 127;
        let piece = PieceCid::from_v1(&v1.parse().unwrap(), size).unwrap();
        assert_eq!(piece.to_string(), v2);
        assert_eq!(piece.height(), height);
        assert_eq!(piece.root(), zero_root(height as usize));
        let back: PieceCid = v2.parse().unwrap();
        assert_eq!(back.to_v1().to_string(), v1);
        assert_eq!(back.payload_size(), size);
    }
}

/// Our CID bytes and string against the `cid` crate's, both ways.
fn cross_check(ours: &Cid) {
    let bytes = ours.to_bytes();
    let theirs = cid::Cid::try_from(bytes.as_slice()).expect("the cid crate parses our bytes");
    assert_eq!(theirs.version(), cid::Version::V1);
    assert_eq!(theirs.codec(), ours.codec());
    assert_eq!(theirs.hash().code(), ours.multihash_code());
    assert_eq!(theirs.hash().digest(), ours.digest());
    assert_eq!(theirs.to_bytes(), bytes);
    assert_eq!(theirs.to_string(), ours.to_string());
    let mh = cid::multihash::Multihash::<64>::wrap(ours.multihash_code(), ours.digest()).unwrap();
    let built = cid::Cid::new_v1(ours.codec(), mh);
    assert_eq!(built.to_string().parse::<Cid>().unwrap(), *ours);
}

#[test]
fn cid_encoding_matches_the_cid_crate() {
    for (data, v1, v2) in frc0069_payload_vectors() {
        let piece = commp(&data);
        cross_check(&piece.to_v2());
        cross_check(&piece.to_v1());
        for s in [v1, v2].into_iter().filter(|s| !s.is_empty()) {
            assert_eq!(cid::Cid::try_from(s).unwrap().to_bytes(), s.parse::<Cid>().unwrap().to_bytes());
        }
    }
    // A kubo-style raw-leaf CID (sha2-256).
    cross_check(&Cid::new(CODEC_RAW, MH_SHA2_256, &[0xab; 32]).unwrap());
}

fn arb_piece() -> impl Strategy<Value = PieceCid> {
    (any::<[u8; 32]>(), MIN_PIECE_HEIGHT..=MAX_PIECE_HEIGHT, any::<u64>()).prop_map(
        |(mut root, height, p)| {
            root[31] &= 0x3f;
            let cap = payload_capacity(height);
            let padding = if height == MIN_PIECE_HEIGHT { p % (cap + 1) } else { p % (cap / 2) };
            PieceCid::new(root, height, padding).unwrap()
        },
    )
}

fn arb_cid() -> impl Strategy<Value = Cid> {
    (any::<u64>(), any::<u64>(), proptest::collection::vec(any::<u8>(), 0..=64)).prop_map(|(codec, mh, d)| {
        // Varints carry 63 bits.
        Cid::new(codec >> 1, mh >> 1, &d).unwrap()
    })
}

proptest! {
    #[test]
    fn piece_cid_round_trips(piece in arb_piece()) {
        prop_assert_eq!(PieceCid::from_v2_bytes(&piece.to_v2_bytes()).unwrap(), piece);
        prop_assert_eq!(piece.to_string().parse::<PieceCid>().unwrap(), piece);
        prop_assert_eq!(PieceCid::from_root_and_size(piece.root(), piece.payload_size()).unwrap(), piece);
        prop_assert_eq!(PieceCid::from_v1(&piece.to_v1(), piece.payload_size()).unwrap(), piece);
        cross_check(&piece.to_v2());
    }

    #[test]
    fn cid_round_trips(c in arb_cid()) {
        prop_assert_eq!(&Cid::from_bytes(&c.to_bytes()).unwrap(), &c);
        prop_assert_eq!(&c.to_string().parse::<Cid>().unwrap(), &c);
        prop_assert_eq!(&c.to_base16().parse::<Cid>().unwrap(), &c);
        cross_check(&c);
    }

    #[test]
    fn commitment_payload_round_trips(piece in arb_piece(), locator in proptest::option::of(arb_cid())) {
        let fc = FilecoinCommitment { piece, locator };
        prop_assert_eq!(&FilecoinCommitment::decode(&fc.encode()).unwrap(), &fc);
        let c = fc.to_commitment();
        prop_assert_eq!(FilecoinCommitment::from_commitment(&c).unwrap(), Some(fc));
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        // Whatever parses re-encodes to the same bytes (one encoding per value).
        if let Ok(c) = Cid::from_bytes(&bytes) {
            prop_assert_eq!(c.to_bytes(), bytes.clone());
        }
        if let Ok(p) = PieceCid::from_v2_bytes(&bytes) {
            prop_assert_eq!(p.to_v2_bytes(), bytes.clone());
        }
        if let Ok(fc) = FilecoinCommitment::decode(&bytes) {
            prop_assert_eq!(fc.encode(), bytes.clone());
        }
        let _ = read_uvarint(&bytes, "fuzz");
    }

    #[test]
    fn parsers_never_panic_on_mutated_piece_cids(piece in arb_piece(), at in any::<usize>(), bit in 0u8..8) {
        let mut bytes = piece.to_v2_bytes();
        let i = at % bytes.len();
        bytes[i] ^= 1 << bit;
        if let Ok(p) = PieceCid::from_v2_bytes(&bytes) {
            prop_assert_eq!(p.to_v2_bytes(), bytes);
        }
    }

    #[test]
    fn string_parsers_never_panic(s in "[bfBz]?[a-z2-7A-F0-9=]{0,80}") {
        if let Ok(c) = s.parse::<Cid>() {
            // Canonical strings only: what parses prints back the same (base32) or is base16.
            if s.starts_with('b') {
                prop_assert_eq!(c.to_string(), s.clone());
            }
        }
        let _ = s.parse::<PieceCid>();
    }
}
