//! CIDs, just enough of them for piece CIDs and IPFS content CIDs: unsigned varints, CIDv1 binary
//! form, the multibase string forms `b` (base32 lower, RFC 4648 without padding, what every
//! Filecoin and IPFS tool prints) and `f` (base16 lower), and the two piece-CID forms of
//! [FRC-0069](https://github.com/filecoin-project/FIPs/blob/master/FRCs/frc-0069.md).
//!
//! Parsing is strict, because these bytes come from the L1 inbox and from remote nodes: a
//! non-minimal or over-long varint, a CIDv0, a digest length that does not match the bytes that
//! follow, trailing bytes, a wrong codec or multihash, and a non-canonical base32 string are all
//! errors, so that every value has exactly one encoding and `parse(encode(x)) == x`.
//!
//! Codes (multicodec table): CIDv1 `0x01`; codecs raw `0x55`, fil-commitment-unsealed `0xf101`;
//! multihashes sha2-256 `0x12`, sha2-256-trunc254-padded `0x1012`,
//! fr32-sha256-trunc254-padbintree `0x1011`.

use core::fmt;
use core::str::FromStr;

/// CID version byte of CIDv1.
pub const CID_V1: u64 = 0x01;
/// The raw codec (the v2 piece CID's codec; kubo's codec for raw leaves).
pub const CODEC_RAW: u64 = 0x55;
/// The dag-pb codec (kubo's codec for a UnixFS root of more than one block).
pub const CODEC_DAG_PB: u64 = 0x70;
/// The fil-commitment-unsealed codec (the v1 piece CID's codec).
pub const CODEC_FIL_COMMITMENT_UNSEALED: u64 = 0xf101;
/// The sha2-256 multihash.
pub const MH_SHA2_256: u64 = 0x12;
/// The sha2-256-trunc254-padded multihash (the v1 piece CID's: the bare 32-byte CommP).
pub const MH_SHA2_256_TRUNC254_PADDED: u64 = 0x1012;
/// The fr32-sha256-trunc254-padbintree multihash of FRC-0069 (the v2 piece CID's).
pub const MH_FR32_SHA256_TRUNC254_PADBINTREE: u64 = 0x1011;

/// Longest unsigned varint the multiformats spec allows (9 bytes, 63 bits).
pub const MAX_UVARINT_LEN: usize = 9;
/// Longest multihash digest accepted (a sanity bound; no hash in use has more than 64 bytes).
pub const MAX_DIGEST_LEN: usize = 128;
/// Smallest tree height of a piece: 4 leaves, 128 padded bytes, 127 payload bytes (FRC-0069 pads
/// smaller payloads up to 127 bytes).
pub const MIN_PIECE_HEIGHT: u8 = 2;
/// Largest tree height accepted: 2^63 padded bytes, the most a 64-bit size (and the 63-bit
/// varint of the padding) can describe.
pub const MAX_PIECE_HEIGHT: u8 = 58;

/// Why bytes or a string are not a valid CID of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidError {
    /// The input ended inside a field.
    #[error("CID truncated: {0}")]
    Truncated(&'static str),
    /// A varint longer than 9 bytes, with a redundant trailing zero group, or over 63 bits.
    #[error("bad unsigned varint in {0}")]
    Varint(&'static str),
    /// A CID version other than 1 (CIDv0 is a bare sha2-256 multihash and is not accepted).
    #[error("unsupported CID version {0} (only CIDv1 is accepted)")]
    Version(u64),
    /// A codec other than the one expected.
    #[error("codec {got:#x} where {want} ({want_code:#x}) was expected")]
    Codec {
        /// The codec found.
        got: u64,
        /// Name of the expected codec.
        want: &'static str,
        /// The expected codec.
        want_code: u64,
    },
    /// A multihash other than the one expected.
    #[error("multihash {got:#x} where {want} ({want_code:#x}) was expected")]
    Multihash {
        /// The multihash code found.
        got: u64,
        /// Name of the expected multihash.
        want: &'static str,
        /// The expected multihash code.
        want_code: u64,
    },
    /// A digest of a length its multihash does not have.
    #[error("digest of {got} bytes where {want} were expected")]
    DigestLength {
        /// Length found.
        got: usize,
        /// Length expected.
        want: usize,
    },
    /// Bytes left after a complete CID.
    #[error("{0} trailing bytes after the CID")]
    TrailingBytes(usize),
    /// A piece tree height outside [`MIN_PIECE_HEIGHT`]..=[`MAX_PIECE_HEIGHT`].
    #[error("piece tree height {0} outside {MIN_PIECE_HEIGHT}..={MAX_PIECE_HEIGHT}")]
    Height(u8),
    /// Padding that a minimal tree would not have (FRC-0069: less than half the tree, or up to
    /// 127 bytes for the smallest tree).
    #[error("padding of {padding} bytes is not minimal for a tree of height {height}")]
    Padding {
        /// The padding found.
        padding: u64,
        /// The tree height.
        height: u8,
    },
    /// A root whose top two bits are set: no sha256-trunc254 node has them.
    #[error("piece root is not a trunc254 digest (top bits of its last byte set)")]
    RootNotTrunc254,
    /// A payload too large for any piece.
    #[error("payload of {0} bytes is too large for a piece")]
    PayloadTooLarge(u64),
    /// A string without a known multibase prefix.
    #[error("unsupported multibase prefix {0:?} (expected 'b' base32 lower or 'f' base16 lower)")]
    Multibase(char),
    /// An empty string.
    #[error("empty CID string")]
    Empty,
    /// A character outside the base's alphabet, or a non-canonical ending.
    #[error("invalid {base} string: {msg}")]
    BaseEncoding {
        /// The base.
        base: &'static str,
        /// What is wrong.
        msg: &'static str,
    },
}

type Result<T> = core::result::Result<T, CidError>;

/// Appends the unsigned varint of `v` (LEB128, 7 bits a byte, low group first).
pub fn write_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Length of the unsigned varint of `v`.
pub fn uvarint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Reads one unsigned varint from the front of `bytes`: the value and the bytes it took. Strict
/// per the multiformats spec: at most 9 bytes (63 bits) and minimal (no trailing zero group).
pub fn read_uvarint(bytes: &[u8], what: &'static str) -> Result<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(MAX_UVARINT_LEN) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            // A final zero group after the first byte means the same value had a shorter form.
            if b == 0 && i > 0 {
                return Err(CidError::Varint(what));
            }
            return Ok((v, i + 1));
        }
    }
    if bytes.len() < MAX_UVARINT_LEN { Err(CidError::Truncated(what)) } else { Err(CidError::Varint(what)) }
}

/// A CIDv1: codec and multihash (code and digest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cid {
    codec: u64,
    mh_code: u64,
    digest: Vec<u8>,
}

impl Cid {
    /// A CIDv1 of `codec` over the multihash `mh_code` with `digest`. Fails for a digest longer
    /// than [`MAX_DIGEST_LEN`].
    pub fn new(codec: u64, mh_code: u64, digest: &[u8]) -> Result<Self> {
        if digest.len() > MAX_DIGEST_LEN {
            return Err(CidError::DigestLength { got: digest.len(), want: MAX_DIGEST_LEN });
        }
        Ok(Self { codec, mh_code, digest: digest.to_vec() })
    }

    /// The codec.
    pub fn codec(&self) -> u64 {
        self.codec
    }

    /// The multihash code.
    pub fn multihash_code(&self) -> u64 {
        self.mh_code
    }

    /// The multihash digest.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// The binary form: `0x01 ‖ varint codec ‖ varint mh code ‖ varint digest length ‖ digest`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.digest.len());
        write_uvarint(&mut out, CID_V1);
        write_uvarint(&mut out, self.codec);
        write_uvarint(&mut out, self.mh_code);
        write_uvarint(&mut out, self.digest.len() as u64);
        out.extend_from_slice(&self.digest);
        out
    }

    /// Reads a CID from the front of `bytes`; returns it and the number of bytes it took (a CID
    /// is self-delimiting, so other data may follow).
    pub fn read(bytes: &[u8]) -> Result<(Self, usize)> {
        let (version, mut at) = read_uvarint(bytes, "CID version")?;
        if version != CID_V1 {
            return Err(CidError::Version(version));
        }
        let (codec, n) = read_uvarint(&bytes[at..], "codec")?;
        at += n;
        let (mh_code, n) = read_uvarint(&bytes[at..], "multihash code")?;
        at += n;
        let (len, n) = read_uvarint(&bytes[at..], "digest length")?;
        at += n;
        if len > MAX_DIGEST_LEN as u64 {
            return Err(CidError::DigestLength { got: len as usize, want: MAX_DIGEST_LEN });
        }
        let len = len as usize;
        let digest = bytes.get(at..at + len).ok_or(CidError::Truncated("digest"))?;
        Ok((Self { codec, mh_code, digest: digest.to_vec() }, at + len))
    }

    /// Parses a CID that must span all of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (cid, n) = Self::read(bytes)?;
        if n != bytes.len() {
            return Err(CidError::TrailingBytes(bytes.len() - n));
        }
        Ok(cid)
    }

    /// The base16 (`f`) multibase string.
    pub fn to_base16(&self) -> String {
        let mut s = String::from("f");
        s.push_str(&alloy_primitives::hex::encode(self.to_bytes()));
        s
    }

    fn expect_codec(&self, want: &'static str, want_code: u64) -> Result<()> {
        if self.codec != want_code {
            return Err(CidError::Codec { got: self.codec, want, want_code });
        }
        Ok(())
    }

    fn expect_multihash(&self, want: &'static str, want_code: u64) -> Result<()> {
        if self.mh_code != want_code {
            return Err(CidError::Multihash { got: self.mh_code, want, want_code });
        }
        Ok(())
    }
}

/// The base32 (`b`) multibase string, the usual text form.
impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b")?;
        f.write_str(&base32_encode(&self.to_bytes()))
    }
}

impl FromStr for Cid {
    type Err = CidError;

    /// Parses the `b` (base32 lower) or `f` (base16 lower) multibase form.
    fn from_str(s: &str) -> Result<Self> {
        let mut chars = s.chars();
        let prefix = chars.next().ok_or(CidError::Empty)?;
        let rest = chars.as_str();
        let bytes = match prefix {
            'b' => base32_decode(rest)?,
            'f' => {
                if rest.bytes().any(|c| c.is_ascii_uppercase()) {
                    return Err(CidError::BaseEncoding { base: "base16", msg: "upper-case digit" });
                }
                // The hex decoder would also take a `0x` prefix, which multibase has no place for.
                if rest.starts_with("0x") {
                    return Err(CidError::BaseEncoding { base: "base16", msg: "0x prefix" });
                }
                alloy_primitives::hex::decode(rest)
                    .map_err(|_| CidError::BaseEncoding { base: "base16", msg: "not hex" })?
            }
            other => return Err(CidError::Multibase(other)),
        };
        Self::from_bytes(&bytes)
    }
}

const BASE32_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// RFC 4648 base32, lower case, no padding.
fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Inverse of [`base32_encode`]; rejects characters outside the alphabet, lengths no encoding
/// produces, and non-zero leftover bits (so each byte string has exactly one text form).
fn base32_decode(s: &str) -> Result<Vec<u8>> {
    const BASE: &str = "base32";
    if matches!(s.len() % 8, 1 | 3 | 6) {
        return Err(CidError::BaseEncoding { base: BASE, msg: "impossible length" });
    }
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => {
                return Err(CidError::BaseEncoding {
                    base: BASE,
                    msg: "character outside the lower-case alphabet",
                });
            }
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(CidError::BaseEncoding { base: BASE, msg: "non-zero trailing bits" });
    }
    Ok(out)
}

/// A piece: the root of its sha256-trunc254 binary tree (CommP), the tree's height and how many
/// zero bytes pad the payload to the tree's capacity. It is what a v2 piece CID says in full;
/// a v1 piece CID says only the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PieceCid {
    root: [u8; 32],
    height: u8,
    padding: u64,
}

impl PieceCid {
    /// A piece of `root`, `height` and `padding`, checked to be the canonical (smallest) tree
    /// for its payload size.
    pub fn new(root: [u8; 32], height: u8, padding: u64) -> Result<Self> {
        if !(MIN_PIECE_HEIGHT..=MAX_PIECE_HEIGHT).contains(&height) {
            return Err(CidError::Height(height));
        }
        if root[31] & 0xc0 != 0 {
            return Err(CidError::RootNotTrunc254);
        }
        let capacity = payload_capacity(height);
        // The smallest tree may be all padding (payloads under 127 bytes are padded up to 127);
        // any larger tree must be more than half full, or the tree below would have held it.
        let minimal = if height == MIN_PIECE_HEIGHT { padding <= capacity } else { padding < capacity / 2 };
        if !minimal {
            return Err(CidError::Padding { padding, height });
        }
        Ok(Self { root, height, padding })
    }

    /// The piece of a payload of `payload_size` bytes whose tree has `root` (the v1 CID plus a
    /// size, converted to the v2 form).
    pub fn from_root_and_size(root: [u8; 32], payload_size: u64) -> Result<Self> {
        let height = height_for_payload(payload_size)?;
        Self::new(root, height, payload_capacity(height) - payload_size)
    }

    /// The tree root (CommP).
    pub fn root(&self) -> [u8; 32] {
        self.root
    }

    /// The tree height (leaves are 32 bytes: the padded piece is `32 << height` bytes).
    pub fn height(&self) -> u8 {
        self.height
    }

    /// Zero bytes that pad the payload to the tree's capacity.
    pub fn padding(&self) -> u64 {
        self.padding
    }

    /// Size of the payload this piece commits to.
    pub fn payload_size(&self) -> u64 {
        payload_capacity(self.height) - self.padding
    }

    /// Size of the fr32-padded piece (Filecoin's "padded piece size").
    pub fn padded_size(&self) -> u64 {
        32u64 << self.height
    }

    /// The v2 piece CID's multihash digest: `varint padding ‖ height ‖ root`.
    pub fn v2_digest(&self) -> Vec<u8> {
        let mut d = Vec::with_capacity(uvarint_len(self.padding) + 33);
        write_uvarint(&mut d, self.padding);
        d.push(self.height);
        d.extend_from_slice(&self.root);
        d
    }

    /// The v2 piece CID (FRC-0069): raw codec, fr32-sha256-trunc254-padbintree multihash.
    pub fn to_v2(&self) -> Cid {
        Cid { codec: CODEC_RAW, mh_code: MH_FR32_SHA256_TRUNC254_PADBINTREE, digest: self.v2_digest() }
    }

    /// The v1 piece CID: fil-commitment-unsealed codec, sha2-256-trunc254-padded multihash over
    /// the bare root. It loses the size (see [`PieceCid::from_v1`]).
    pub fn to_v1(&self) -> Cid {
        Cid {
            codec: CODEC_FIL_COMMITMENT_UNSEALED,
            mh_code: MH_SHA2_256_TRUNC254_PADDED,
            digest: self.root.to_vec(),
        }
    }

    /// The v2 piece CID's binary form.
    pub fn to_v2_bytes(&self) -> Vec<u8> {
        self.to_v2().to_bytes()
    }

    /// Reads a v2 piece CID from `cid`.
    pub fn from_v2(cid: &Cid) -> Result<Self> {
        cid.expect_codec("raw", CODEC_RAW)?;
        cid.expect_multihash("fr32-sha256-trunc254-padbintree", MH_FR32_SHA256_TRUNC254_PADBINTREE)?;
        let d = cid.digest();
        let (padding, n) = read_uvarint(d, "piece padding")?;
        if d.len() != n + 33 {
            return Err(CidError::DigestLength { got: d.len(), want: n + 33 });
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&d[n + 1..]);
        Self::new(root, d[n], padding)
    }

    /// The piece of a v1 piece CID and the size of the payload it commits to.
    pub fn from_v1(cid: &Cid, payload_size: u64) -> Result<Self> {
        cid.expect_codec("fil-commitment-unsealed", CODEC_FIL_COMMITMENT_UNSEALED)?;
        cid.expect_multihash("sha2-256-trunc254-padded", MH_SHA2_256_TRUNC254_PADDED)?;
        let root: [u8; 32] = cid
            .digest()
            .try_into()
            .map_err(|_| CidError::DigestLength { got: cid.digest().len(), want: 32 })?;
        Self::from_root_and_size(root, payload_size)
    }

    /// Reads a v2 piece CID from the front of `bytes`; returns it and the bytes it took.
    pub fn read_v2(bytes: &[u8]) -> Result<(Self, usize)> {
        let (cid, n) = Cid::read(bytes)?;
        Ok((Self::from_v2(&cid)?, n))
    }

    /// Parses a v2 piece CID that must span all of `bytes`.
    pub fn from_v2_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_v2(&Cid::from_bytes(bytes)?)
    }
}

/// The v2 piece CID in base32 (`bafkzcib…`).
impl fmt::Display for PieceCid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_v2(), f)
    }
}

impl FromStr for PieceCid {
    type Err = CidError;

    /// Parses a v2 piece CID string (a v1 string lacks the size and is refused).
    fn from_str(s: &str) -> Result<Self> {
        Self::from_v2(&s.parse()?)
    }
}

/// Payload bytes a tree of `height` holds: 127 of every 128 padded bytes.
pub fn payload_capacity(height: u8) -> u64 {
    127u64 << (height - 2)
}

/// Height of the smallest tree holding `payload_size` bytes (at least [`MIN_PIECE_HEIGHT`]).
pub fn height_for_payload(payload_size: u64) -> Result<u8> {
    let mut h = MIN_PIECE_HEIGHT;
    while payload_capacity(h) < payload_size {
        if h == MAX_PIECE_HEIGHT {
            return Err(CidError::PayloadTooLarge(payload_size));
        }
        h += 1;
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarints_are_minimal_and_bounded() {
        for v in [0u64, 1, 127, 128, 255, 300, 16_383, 16_384, u32::MAX as u64, (1 << 63) - 1] {
            let mut b = Vec::new();
            write_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v), "{v}");
            assert_eq!(read_uvarint(&b, "t").unwrap(), (v, b.len()));
        }
        // The multiformats spec's examples.
        let mut b = Vec::new();
        write_uvarint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        write_uvarint(&mut b, 16_384);
        assert_eq!(&b[2..], [0x80, 0x80, 0x01]);
        // 0 encoded as two bytes; 1 with a zero continuation group.
        assert_eq!(read_uvarint(&[0x80, 0x00], "t"), Err(CidError::Varint("t")));
        assert_eq!(read_uvarint(&[0x81, 0x00], "t"), Err(CidError::Varint("t")));
        // Ten bytes (over 63 bits), and an unfinished one.
        assert_eq!(read_uvarint(&[0xff; 10], "t"), Err(CidError::Varint("t")));
        assert_eq!(read_uvarint(&[0x80, 0x80], "t"), Err(CidError::Truncated("t")));
        assert_eq!(read_uvarint(&[], "t"), Err(CidError::Truncated("t")));
    }

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 section 10, lower case, padding removed.
        for (plain, enc) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        assert!(base32_decode("MZXW6").is_err(), "upper case is another multibase");
        assert!(base32_decode("mz").is_err(), "leftover bits must be zero");
        assert!(base32_decode("m").is_err(), "impossible length");
        assert!(base32_decode("mzxw6=").is_err(), "no padding characters");
    }

    #[test]
    fn strict_cid_parser_errors() {
        let piece = PieceCid::new([1; 32], 4, 0).unwrap();
        let bytes = piece.to_v2_bytes();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(Cid::from_bytes(&trailing), Err(CidError::TrailingBytes(1)));
        assert_eq!(Cid::from_bytes(&bytes[..bytes.len() - 1]), Err(CidError::Truncated("digest")));
        // CIDv0 (a bare sha2-256 multihash) begins with 0x12.
        let mut v0 = vec![0x12, 0x20];
        v0.extend_from_slice(&[0; 32]);
        assert_eq!(Cid::from_bytes(&v0), Err(CidError::Version(0x12)));
        // A v1 piece CID is not a v2 one, and the reverse.
        assert!(matches!(PieceCid::from_v2(&piece.to_v1()), Err(CidError::Codec { got: 0xf101, .. })));
        assert!(matches!(PieceCid::from_v1(&piece.to_v2(), 508), Err(CidError::Codec { got: 0x55, .. })));
        // Right codec, wrong multihash.
        let sha = Cid::new(CODEC_RAW, MH_SHA2_256, &[0; 32]).unwrap();
        assert!(matches!(PieceCid::from_v2(&sha), Err(CidError::Multihash { got: 0x12, .. })));
        // Digest one byte short of `padding ‖ height ‖ root`.
        let short = Cid::new(CODEC_RAW, MH_FR32_SHA256_TRUNC254_PADBINTREE, &[0; 33]).unwrap();
        assert_eq!(PieceCid::from_v2(&short), Err(CidError::DigestLength { got: 33, want: 34 }));
        assert!("".parse::<Cid>().is_err());
        assert_eq!("zabc".parse::<Cid>(), Err(CidError::Multibase('z')));
        let hex = piece.to_v2().to_base16();
        assert_eq!(hex.parse::<Cid>().unwrap(), piece.to_v2());
        assert!(format!("f0x{}", &hex[1..]).parse::<Cid>().is_err());
        let lettered = Cid::new(CODEC_RAW, MH_SHA2_256, &[0xab; 32]).unwrap().to_base16();
        assert!(lettered.parse::<Cid>().is_ok());
        assert!(
            lettered.to_uppercase().replacen('F', "f", 1).parse::<Cid>().is_err(),
            "F is another multibase"
        );
        assert!(piece.to_string().to_uppercase().parse::<Cid>().is_err(), "B (base32 upper) is not accepted");
    }

    #[test]
    fn piece_geometry_is_canonical() {
        assert_eq!(height_for_payload(0).unwrap(), 2);
        assert_eq!(height_for_payload(127).unwrap(), 2);
        assert_eq!(height_for_payload(128).unwrap(), 3);
        assert_eq!(height_for_payload(254).unwrap(), 3);
        assert_eq!(height_for_payload(255).unwrap(), 4);
        assert_eq!(height_for_payload(127 << 28).unwrap(), 30, "a 32 GiB sector");
        assert!(height_for_payload(u64::MAX).is_err());
        // Minimality: the smallest tree may be empty; larger trees must be over half full.
        assert!(PieceCid::new([0; 32], 2, 127).is_ok());
        assert!(PieceCid::new([0; 32], 2, 128).is_err());
        assert!(PieceCid::new([0; 32], 3, 126).is_ok());
        assert!(PieceCid::new([0; 32], 3, 127).is_err());
        assert!(PieceCid::new([0; 32], 1, 0).is_err());
        assert!(PieceCid::new([0; 32], 59, 0).is_err());
        let mut root = [0; 32];
        root[31] = 0x40;
        assert_eq!(PieceCid::new(root, 2, 0), Err(CidError::RootNotTrunc254));
        let p = PieceCid::new([0; 32], MAX_PIECE_HEIGHT, 0).unwrap();
        assert_eq!(PieceCid::from_v2_bytes(&p.to_v2_bytes()).unwrap(), p);
    }
}
