//! The Filecoin backend: batches are Filecoin pieces, named by their piece CID (CommP), stored
//! and retrieved through a Curio PDP-style piece server or through a kubo (IPFS) node's RPC.
//!
//! - [`commp`](mod@commp): the piece commitment, fr32 padding and the sha256-trunc254 binary tree, streamed.
//! - [`cid`]: CIDv1, the v1 piece CID (`baga6ea4sea…`) and the FRC-0069 v2 piece CID
//!   (`bafkzcib…`), strictly parsed.
//! - [`FilecoinBackend`]: [`DaBackend`] over one of two [`Transport`]s. Every `get` recomputes
//!   the piece CID of the bytes it received, while they arrive, and returns them only if it is
//!   the one committed to.
//!
//! # Commitment
//!
//! `Commitment::Generic { da_layer: 0xfc, payload }` with
//! `payload = v2 piece CID (binary) ‖ locator`, see [`FilecoinCommitment`]. The v2 piece CID
//! carries the root, the tree height and the padding, so it fixes the payload's exact size; it
//! is self-delimiting, so the locator simply follows it:
//!
//! - no locator (PDP transport): the piece CID is the address (`GET /piece/{cid}`);
//! - a CIDv1 (kubo transport): kubo's own content CID of the bytes, the name `cat` needs
//!   (kubo cannot look data up by piece CID). It only says where to look; what is accepted is
//!   decided by the piece CID alone.

pub mod cid;
pub mod commp;
mod transport;
#[cfg(test)]
mod vectors;

pub use self::cid::{Cid, CidError, PieceCid};
pub use self::commp::{CommP, commp};
pub use temporis_protocol::commitment::DA_LAYER_FILECOIN;

use crate::{DaBackend, DaError, Result};
use alloy_primitives::Bytes;
use core::fmt;
use core::str::FromStr;
use std::time::Duration;
use temporis_protocol::commitment::Commitment;
use tracing::debug;

/// Backend name in errors and logs.
pub const BACKEND: &str = "filecoin";
/// Default largest blob: 16 MiB, like the local store (a 32 MiB padded piece).
pub const DEFAULT_MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;
/// Default timeout of one HTTP request (a kubo `cat` of an unknown CID searches the network
/// until it gives up or this runs out).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How pieces are stored and fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A Curio PDP-style piece server: upload per [`PdpUpload`], `GET /piece/{v2 piece CID}`.
    Pdp,
    /// A kubo node's RPC: `POST /api/v0/add` (multipart), `POST /api/v0/cat?arg={cid}`.
    Kubo,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pdp => "pdp",
            Self::Kubo => "kubo",
        })
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pdp" => Ok(Self::Pdp),
            "kubo" => Ok(Self::Kubo),
            other => Err(format!("unknown Filecoin transport {other:?} (expected `pdp` or `kubo`)")),
        }
    }
}

/// How the PDP transport uploads a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PdpUpload {
    /// `PUT /piece/{v2 piece CID}` with the bytes (the piece-storage API proposed to Curio for
    /// hot-storage services: `201` created, `200`/`204` already there, `400` if the bytes do not
    /// hash to the CID).
    #[default]
    Put,
    /// Curio's `pdp` v0 flow: `POST /pdp/piece` with `{"check": {"name":
    /// "sha2-256-trunc254-padded", "hash": <hex root>, "size": <bytes>}}`, answered `200
    /// {"pieceCID": …}` if the piece is there or `201` with a `Location` to `PUT` the bytes to
    /// (`204`). Curio's hasher refuses payloads under 65 bytes.
    PdpV0,
}

impl fmt::Display for PdpUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Put => "put",
            Self::PdpV0 => "pdp-v0",
        })
    }
}

impl FromStr for PdpUpload {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "put" => Ok(Self::Put),
            "pdp-v0" => Ok(Self::PdpV0),
            other => Err(format!("unknown PDP upload mode {other:?} (expected `put` or `pdp-v0`)")),
        }
    }
}

/// Settings of a [`FilecoinBackend`].
#[derive(Clone)]
pub struct FilecoinConfig {
    /// Which API `url` speaks.
    pub transport: Transport,
    /// Base URL of the piece server or of the kubo RPC (e.g. `http://127.0.0.1:5001`).
    pub url: String,
    /// Upload flow of the PDP transport (ignored by kubo).
    pub pdp_upload: PdpUpload,
    /// Sent as `Authorization: Bearer <token>` (Curio PDP wants a JWT; kubo behind an
    /// authenticating proxy may want one too).
    pub auth_token: Option<String>,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Largest blob put or fetched, in bytes.
    pub max_blob_size: usize,
}

/// Shows everything but the token.
impl fmt::Debug for FilecoinConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilecoinConfig")
            .field("transport", &self.transport)
            .field("url", &self.url)
            .field("pdp_upload", &self.pdp_upload)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_blob_size", &self.max_blob_size)
            .finish()
    }
}

impl FilecoinConfig {
    /// A PDP piece server at `url` with the defaults.
    pub fn pdp(url: impl Into<String>) -> Self {
        Self::new(Transport::Pdp, url)
    }

    /// A kubo RPC at `url` with the defaults.
    pub fn kubo(url: impl Into<String>) -> Self {
        Self::new(Transport::Kubo, url)
    }

    /// `transport` at `url` with the defaults.
    pub fn new(transport: Transport, url: impl Into<String>) -> Self {
        Self {
            transport,
            url: url.into(),
            pdp_upload: PdpUpload::default(),
            auth_token: None,
            timeout: DEFAULT_TIMEOUT,
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
        }
    }
}

/// What a Filecoin commitment's payload says: the piece, and where a transport finds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilecoinCommitment {
    /// The piece (root, height, padding): what the fetched bytes must hash to.
    pub piece: PieceCid,
    /// kubo's content CID of the bytes, for the kubo transport; `None` for the PDP transport.
    pub locator: Option<Cid>,
}

impl FilecoinCommitment {
    /// `v2 piece CID ‖ locator CID (if any)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.piece.to_v2_bytes();
        if let Some(l) = &self.locator {
            out.extend_from_slice(&l.to_bytes());
        }
        out
    }

    /// Parses a payload: a v2 piece CID, then nothing or exactly one CIDv1.
    pub fn decode(payload: &[u8]) -> Result<Self, CidError> {
        let (piece, n) = PieceCid::read_v2(payload)?;
        let rest = &payload[n..];
        let locator = if rest.is_empty() { None } else { Some(Cid::from_bytes(rest)?) };
        Ok(Self { piece, locator })
    }

    /// The Alt-DA commitment.
    pub fn to_commitment(&self) -> Commitment {
        Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload: self.encode().into() }
    }

    /// Reads a Filecoin commitment: `Ok(None)` if `c` is not one (another layer or a keccak
    /// commitment), an error if it claims to be one but its payload is malformed.
    pub fn from_commitment(c: &Commitment) -> Result<Option<Self>, CidError> {
        match c {
            Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload } => Self::decode(payload).map(Some),
            _ => Ok(None),
        }
    }
}

/// The Filecoin DA backend.
#[derive(Debug, Clone)]
pub struct FilecoinBackend {
    http: reqwest::Client,
    config: FilecoinConfig,
    base: String,
}

pub(crate) fn malformed(msg: impl fmt::Display) -> DaError {
    DaError::Malformed { backend: BACKEND, msg: msg.to_string() }
}

pub(crate) fn chain(msg: impl fmt::Display) -> DaError {
    DaError::Chain { backend: BACKEND, msg: msg.to_string() }
}

impl FilecoinBackend {
    /// A backend with `config`. Fails for a URL that is not `http(s)://…`.
    pub fn new(config: FilecoinConfig) -> Result<Self> {
        let base = config.url.trim_end_matches('/').to_string();
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| chain(format!("bad URL {:?}: {e}", config.url)))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(chain(format!("URL {:?} is not http(s)", config.url)));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| chain(format!("HTTP client: {e}")))?;
        Ok(Self { http, config, base })
    }

    /// The settings.
    pub fn config(&self) -> &FilecoinConfig {
        &self.config
    }

    /// Largest blob accepted, in bytes.
    pub fn max_blob_size(&self) -> usize {
        self.config.max_blob_size
    }

    fn unsupported(&self, c: &Commitment) -> DaError {
        DaError::UnsupportedCommitment { backend: BACKEND, commitment: c.clone() }
    }
}

/// CommP of `data`, off the async threads when it is big enough to matter (~1 ms per 256 KiB).
async fn piece_of(data: Bytes) -> Result<PieceCid> {
    if data.len() <= 256 * 1024 {
        return Ok(commp(&data));
    }
    tokio::task::spawn_blocking(move || commp(&data)).await.map_err(|e| DaError::Task(e.to_string()))
}

impl DaBackend for FilecoinBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let limit = self.config.max_blob_size;
        if data.len() > limit {
            return Err(DaError::TooLarge { size: data.len(), limit });
        }
        let piece = piece_of(data.clone()).await?;
        let locator = match self.config.transport {
            Transport::Pdp => {
                transport::pdp_put(self, &piece, data).await?;
                None
            }
            Transport::Kubo => Some(transport::kubo_add(self, &piece, data).await?),
        };
        debug!(target: "da::filecoin", transport = %self.config.transport, %piece,
            locator = ?locator.as_ref().map(ToString::to_string), "piece stored");
        Ok(FilecoinCommitment { piece, locator }.to_commitment())
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let fc = FilecoinCommitment::from_commitment(commitment)
            .map_err(|e| malformed(format!("commitment payload: {e}")))?
            .ok_or_else(|| self.unsupported(commitment))?;
        let size = fc.piece.payload_size();
        let limit = self.config.max_blob_size;
        if size > limit as u64 {
            return Err(DaError::TooLarge { size: usize::try_from(size).unwrap_or(usize::MAX), limit });
        }
        let fetched = match (self.config.transport, &fc.locator) {
            (Transport::Pdp, _) => transport::pdp_get(self, &fc.piece).await?,
            (Transport::Kubo, Some(locator)) => transport::kubo_cat(self, locator).await?,
            // A piece stored through PDP has no kubo name.
            (Transport::Kubo, None) => return Err(self.unsupported(commitment)),
        };
        let Some(mut fetched) = fetched else { return Err(DaError::NotFound(commitment.clone())) };
        // The size is part of the piece CID: read no more than it says, hashing as bytes arrive.
        let expected = size as usize;
        if fetched.content_length().is_some_and(|n| n != size) {
            debug!(target: "da::filecoin", piece = %fc.piece, expected, announced = ?fetched.content_length(),
                "server announces another size than the piece holds");
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        let mut data = Vec::with_capacity(expected);
        let mut hasher = CommP::new();
        while let Some(chunk) = fetched.chunk().await.map_err(|e| chain(format!("reading the piece: {e}")))? {
            if data.len() + chunk.len() > expected {
                debug!(target: "da::filecoin", piece = %fc.piece, expected, "server sent more bytes than the piece holds");
                return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
            }
            hasher.update(&chunk);
            data.extend_from_slice(&chunk);
        }
        let got = hasher.finish().map_err(malformed)?;
        if got != fc.piece {
            debug!(target: "da::filecoin", want = %fc.piece, %got, "fetched bytes have another piece CID");
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        Ok(data.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_hide_the_token() {
        assert_eq!("pdp".parse::<Transport>().unwrap(), Transport::Pdp);
        assert_eq!("kubo".parse::<Transport>().unwrap(), Transport::Kubo);
        assert!("ipfs".parse::<Transport>().is_err());
        assert_eq!("put".parse::<PdpUpload>().unwrap(), PdpUpload::Put);
        assert_eq!("pdp-v0".parse::<PdpUpload>().unwrap(), PdpUpload::PdpV0);
        for t in [Transport::Pdp, Transport::Kubo] {
            assert_eq!(t.to_string().parse::<Transport>().unwrap(), t);
        }
        let mut c = FilecoinConfig::kubo("http://127.0.0.1:5001");
        c.auth_token = Some("s3cret-jwt".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret") && shown.contains("redacted"), "{shown}");
        let b = FilecoinBackend::new(c).unwrap();
        assert!(!format!("{b:?}").contains("s3cret"));
    }
}
