//! NEAR protocol types in their borsh wire form, as nearcore defines them: account ids, ed25519
//! keys and signatures, the (V0) `Transaction`, `SignedTransaction`, and the NEAR DA
//! `SubmitRequest` that is the argument of the blob store's `submit`.
//!
//! Only what a blob submission needs is modelled: `FunctionCall` actions (and `Transfer`, so the
//! published transaction vectors of NEAR's documentation decode), ed25519 keys. Anything else
//! decodes to an error that names it, never to a wrong value.

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

/// Errors parsing the text forms of NEAR keys, hashes and account ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a valid NEAR account id.
    #[error("invalid NEAR account id {id:?}: {reason}")]
    AccountId {
        /// The text given.
        id: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A key without the `ed25519:` prefix (secp256k1 keys are not supported).
    #[error("unsupported key {0:?}: only `ed25519:<base58>` keys are supported")]
    KeyType(String),
    /// Bad base58.
    #[error("invalid base58 in {what}: {msg}")]
    Base58 {
        /// What was being parsed.
        what: &'static str,
        /// The decoder's complaint.
        msg: String,
    },
    /// Decoded to the wrong number of bytes.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// Bytes needed.
        expected: usize,
        /// Bytes found.
        got: usize,
    },
    /// A 64-byte secret key whose second half is not the public key of its first half.
    #[error("secret key: its public half does not match its seed")]
    KeyMismatch,
    /// A namespace that is not `<version>:<id>`.
    #[error("invalid namespace {0:?}: expected `<version u8>:<id u32>`")]
    Namespace(String),
}

fn base58<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], ParseError> {
    let bytes = bs58::decode(s).into_vec().map_err(|e| ParseError::Base58 { what, msg: e.to_string() })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| ParseError::Length {
        what,
        expected: N,
        got: bytes.len(),
    })
}

fn invalid_data(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A NEAR account id (`alice.near`, `blobs.testnet`, a 64-hex implicit account), validated by
/// nearcore's rules: 2 to 64 characters of `a-z 0-9 - _ .`, separators neither first, last nor
/// next to each other. Borsh: a string (`u32` length, UTF-8).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Shortest account id.
    pub const MIN_LEN: usize = 2;
    /// Longest account id.
    pub const MAX_LEN: usize = 64;

    /// Checks `id` against NEAR's account id rules.
    pub fn validate(id: &str) -> Result<(), ParseError> {
        let err = |reason| Err(ParseError::AccountId { id: id.to_string(), reason });
        if id.len() < Self::MIN_LEN {
            return err("shorter than 2 characters");
        }
        if id.len() > Self::MAX_LEN {
            return err("longer than 64 characters");
        }
        let mut last_was_separator = true; // so a leading separator is refused
        for c in id.chars() {
            match c {
                'a'..='z' | '0'..='9' => last_was_separator = false,
                '-' | '_' | '.' => {
                    if last_was_separator {
                        return err("a separator (- _ .) at the start or next to another");
                    }
                    last_was_separator = true;
                }
                _ => return err("only lowercase a-z, 0-9 and the separators - _ . are allowed"),
            }
        }
        if last_was_separator {
            return err("ends with a separator");
        }
        Ok(())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::validate(s)?;
        Ok(Self(s.to_string()))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

impl BorshSerialize for AccountId {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        self.0.serialize(w)
    }
}

impl BorshDeserialize for AccountId {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        let s = String::deserialize_reader(r)?;
        Self::validate(&s).map_err(|e| invalid_data(e.to_string()))?;
        Ok(Self(s))
    }
}

/// A sha256 hash (NEAR's `CryptoHash`): block hashes and transaction hashes. Text form: base58.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, BorshSerialize, BorshDeserialize)]
pub struct CryptoHash(pub [u8; 32]);

impl CryptoHash {
    /// sha256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl FromStr for CryptoHash {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        base58("hash", s).map(Self)
    }
}

impl fmt::Display for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CryptoHash({self})")
    }
}

/// Key type byte of ed25519 in borsh `PublicKey` and `Signature` (secp256k1 is 1).
pub const KEY_TYPE_ED25519: u8 = 0;
const KEY_TYPE_SECP256K1: u8 = 1;

fn read_key_type<R: Read>(r: &mut R, what: &str) -> io::Result<()> {
    match u8::deserialize_reader(r)? {
        KEY_TYPE_ED25519 => Ok(()),
        KEY_TYPE_SECP256K1 => Err(invalid_data(format!("secp256k1 {what}s are not supported"))),
        other => Err(invalid_data(format!("unknown {what} key type {other}"))),
    }
}

/// An ed25519 public key. Borsh: key type `0` then 32 bytes; text: `ed25519:<base58>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Whether `signature` is this key's ed25519 signature of `message`, checked as nearcore's
    /// `near-crypto` checks it (ed25519-dalek's `verify`).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else { return false };
        key.verify(message, &ed25519_dalek::Signature::from_bytes(&signature.0)).is_ok()
    }
}

impl FromStr for PublicKey {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let b58 = s.strip_prefix("ed25519:").ok_or_else(|| ParseError::KeyType(s.to_string()))?;
        base58("public key", b58).map(Self)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl BorshSerialize for PublicKey {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        KEY_TYPE_ED25519.serialize(w)?;
        self.0.serialize(w)
    }
}

impl BorshDeserialize for PublicKey {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        read_key_type(r, "public key")?;
        Ok(Self(<[u8; 32]>::deserialize_reader(r)?))
    }
}

/// An ed25519 signature. Borsh: key type `0` then 64 bytes; text: `ed25519:<base58>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl FromStr for Signature {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let b58 = s.strip_prefix("ed25519:").ok_or_else(|| ParseError::KeyType(s.to_string()))?;
        base58("signature", b58).map(Self)
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl BorshSerialize for Signature {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        KEY_TYPE_ED25519.serialize(w)?;
        self.0.serialize(w)
    }
}

impl BorshDeserialize for Signature {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        read_key_type(r, "signature")?;
        Ok(Self(<[u8; 64]>::deserialize_reader(r)?))
    }
}

/// An ed25519 secret key in NEAR's text form `ed25519:<base58 of seed (32) ‖ public key (32)>`,
/// the form of NEAR CLI key files and near-api-js. Its `Debug` shows only the public key.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key with this 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` (for a transaction: its 32-byte hash).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }

    /// The secret in its `ed25519:<base58>` text form. Named loudly: it is the secret.
    pub fn to_secret_string(&self) -> String {
        let mut bytes = [0u8; 64];
        bytes[..32].copy_from_slice(self.0.as_bytes());
        bytes[32..].copy_from_slice(&self.public_key().0);
        format!("ed25519:{}", bs58::encode(bytes).into_string())
    }
}

impl FromStr for SecretKey {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        // Never echo the secret in an error.
        let b58 = s.strip_prefix("ed25519:").ok_or_else(|| ParseError::KeyType("<secret key>".into()))?;
        let bytes: [u8; 64] = base58("secret key", b58).map_err(|e| match e {
            // The decoder names the offending character: a piece of the secret.
            ParseError::Base58 { what, .. } => ParseError::Base58 { what, msg: "not base58".into() },
            other => other,
        })?;
        let key = Self::from_seed(bytes[..32].try_into().expect("32 of 64 bytes"));
        if key.public_key().0[..] != bytes[32..] {
            return Err(ParseError::KeyMismatch);
        }
        Ok(key)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public_key())
    }
}

/// nearcore `FunctionCallAction`: call `method_name` of the receiver with `args`, `gas` attached
/// and `deposit` yoctoNEAR.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct FunctionCallAction {
    /// Method to call.
    pub method_name: String,
    /// Its input bytes (for `submit`: a borsh [`SubmitRequest`]).
    pub args: Vec<u8>,
    /// Gas attached.
    pub gas: u64,
    /// yoctoNEAR attached.
    pub deposit: u128,
}

/// Borsh tag of `Action::FunctionCall` in nearcore's `Action` enum.
pub const ACTION_FUNCTION_CALL: u8 = 2;
/// Borsh tag of `Action::Transfer`.
pub const ACTION_TRANSFER: u8 = 3;

/// The transaction actions this crate models. Borsh: a `u8` tag (nearcore's variant index) then
/// the action; other actions fail to decode with their tag named.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Action {
    /// Tag 2.
    FunctionCall(FunctionCallAction),
    /// Tag 3: a transfer of `deposit` yoctoNEAR.
    Transfer {
        /// yoctoNEAR sent.
        deposit: u128,
    },
}

impl BorshSerialize for Action {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        match self {
            Self::FunctionCall(call) => {
                ACTION_FUNCTION_CALL.serialize(w)?;
                call.serialize(w)
            }
            Self::Transfer { deposit } => {
                ACTION_TRANSFER.serialize(w)?;
                deposit.serialize(w)
            }
        }
    }
}

impl BorshDeserialize for Action {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        match u8::deserialize_reader(r)? {
            ACTION_FUNCTION_CALL => Ok(Self::FunctionCall(FunctionCallAction::deserialize_reader(r)?)),
            ACTION_TRANSFER => Ok(Self::Transfer { deposit: u128::deserialize_reader(r)? }),
            tag => Err(invalid_data(format!("unsupported action (borsh tag {tag})"))),
        }
    }
}

/// nearcore `TransactionV0`, the form every wallet and near-api-js sign. Its hash is
/// sha256 of its borsh bytes; that hash is what the signer signs and the transaction's id.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct Transaction {
    /// Account that signs and pays.
    pub signer_id: AccountId,
    /// Access key of `signer_id` that signs.
    pub public_key: PublicKey,
    /// Must exceed the access key's nonce.
    pub nonce: u64,
    /// Account the actions apply to (the blob store contract).
    pub receiver_id: AccountId,
    /// A recent block: the transaction expires after NEAR's validity period from it.
    pub block_hash: CryptoHash,
    /// What to do.
    pub actions: Vec<Action>,
}

impl Transaction {
    /// The borsh bytes.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// The transaction hash (id): sha256 of the borsh bytes.
    pub fn hash(&self) -> CryptoHash {
        CryptoHash::sha256(&self.encode())
    }

    /// Signs the hash with `key`.
    pub fn sign(self, key: &SecretKey) -> SignedTransaction {
        let signature = key.sign(&self.hash().0);
        SignedTransaction { transaction: self, signature }
    }
}

/// nearcore `SignedTransaction`: the transaction then the signature of its hash; what
/// `send_tx` takes (base64 of these bytes).
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub transaction: Transaction,
    /// Signature of its hash by `transaction.public_key`.
    pub signature: Signature,
}

impl SignedTransaction {
    /// The borsh bytes.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// Decodes borsh bytes; every byte must be used.
    pub fn decode(bytes: &[u8]) -> io::Result<Self> {
        borsh::from_slice(bytes)
    }

    /// The transaction's hash.
    pub fn hash(&self) -> CryptoHash {
        self.transaction.hash()
    }

    /// Whether the signature is the transaction key's signature of the hash.
    pub fn verify(&self) -> bool {
        self.transaction.public_key.verify(&self.hash().0, &self.signature)
    }
}

/// NEAR DA `Namespace { version: u8, id: u32 }`: who submits, for the blob registry.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct Namespace {
    /// Namespace version.
    pub version: u8,
    /// Namespace id.
    pub id: u32,
}

impl FromStr for Namespace {
    type Err = ParseError;
    /// `"<version>:<id>"`, e.g. `"1:1337"`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::Namespace(s.to_string());
        let (v, id) = s.split_once(':').ok_or_else(bad)?;
        Ok(Self { version: v.parse().map_err(|_| bad())?, id: id.parse().map_err(|_| bad())? })
    }
}

/// NEAR DA `SubmitRequest { namespace: Option<Namespace>, data: Vec<u8> }`, the borsh argument
/// of the blob store's `submit` as NEAR DA's client sends it.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct SubmitRequest {
    /// The submitter's namespace, if any.
    pub namespace: Option<Namespace>,
    /// The blob (or one piece of it).
    pub data: Vec<u8>,
}

impl SubmitRequest {
    /// Borsh bytes: `0` or `1 ‖ version ‖ id (u32 LE)`, then `u32 LE length ‖ data`.
    pub fn encode(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// Decodes borsh bytes; every byte must be used.
    pub fn decode(bytes: &[u8]) -> io::Result<Self> {
        borsh::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_follow_nearcore_rules() {
        for ok in ["ab", "alice.near", "a-b_c.d", "0x1234", &"f".repeat(64), "blobs.temporis.testnet"] {
            assert!(ok.parse::<AccountId>().is_ok(), "{ok}");
        }
        for bad in
            ["a", "", "Alice.near", ".alice", "alice.", "a..b", "a-_b", "a b", "é.near", &"f".repeat(65)]
        {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn submit_request_borsh_layout() {
        let none = SubmitRequest { namespace: None, data: vec![0xaa, 0xbb] };
        assert_eq!(none.encode(), [0, 2, 0, 0, 0, 0xaa, 0xbb]);
        let some = SubmitRequest { namespace: Some(Namespace { version: 1, id: 0x0102_0304 }), data: vec![] };
        assert_eq!(some.encode(), [1, 1, 4, 3, 2, 1, 0, 0, 0, 0]);
        assert_eq!(SubmitRequest::decode(&some.encode()).unwrap(), some);
        // A trailing byte or a length past the end is an error, never a short read.
        assert!(SubmitRequest::decode(&[0, 2, 0, 0, 0, 0xaa, 0xbb, 0]).is_err());
        assert!(SubmitRequest::decode(&[0, 0xff, 0xff, 0xff, 0xff, 1]).is_err());
        assert_eq!("1:1337".parse::<Namespace>().unwrap(), Namespace { version: 1, id: 1337 });
        assert!("1337".parse::<Namespace>().is_err());
    }

    #[test]
    fn keys_round_trip_their_text_forms() {
        let key = SecretKey::from_seed([7; 32]);
        let text = key.to_secret_string();
        let back: SecretKey = text.parse().unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(key.public_key().to_string().parse::<PublicKey>().unwrap(), key.public_key());
        // A secret whose public half was tampered with is refused, and the error hides it.
        let mut bytes = bs58::decode(&text[8..]).into_vec().unwrap();
        bytes[40] ^= 1;
        let tampered = format!("ed25519:{}", bs58::encode(&bytes).into_string());
        assert_eq!(tampered.parse::<SecretKey>().unwrap_err(), ParseError::KeyMismatch);
        assert!(
            matches!("secp256k1:abc".parse::<SecretKey>(), Err(ParseError::KeyType(s)) if !s.contains("abc"))
        );
        assert!(!format!("{key:?}").contains(&text[8..]));
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let key = SecretKey::from_seed([1; 32]);
        let sig = key.sign(b"hash");
        assert!(key.public_key().verify(b"hash", &sig));
        assert!(!key.public_key().verify(b"hasH", &sig));
        assert!(!SecretKey::from_seed([2; 32]).public_key().verify(b"hash", &sig));
    }

    #[test]
    fn unsupported_key_types_and_actions_are_named() {
        let err = PublicKey::try_from_slice(&[1; 65]).unwrap_err();
        assert!(err.to_string().contains("secp256k1"), "{err}");
        let err = Action::try_from_slice(&[0]).unwrap_err();
        assert!(err.to_string().contains("tag 0"), "{err}");
    }
}
