//! A client of the OP Alt-DA HTTP API: another `temporis-da` server, op-alt-da's reference
//! server, or any proxy that speaks the same API (EigenDA's proxy does).
//!
//! What the batcher and the follower use to reach a DA server, and what lets one server
//! replicate onto another ([`crate::ReplicatedBackend`]). The client trusts the server for
//! nothing: a commitment it answers to a `put` must name the data (for keccak commitments), and
//! the bytes it answers to a `get` are checked before they are returned.
//!
//! Only keccak commitments are served: for a generic commitment (another DA layer's own
//! reference) this client has no way to check the bytes a server returns, so it refuses
//! ([`DaError::UnsupportedCommitment`]) rather than pass on unchecked data. Talk to such a
//! layer with its own backend instead.
//!
//! The inference market's payload exchange by hash, `dx_upload(key, data)` /
//! `dx_download(key)`, is the same API: the key is the keccak commitment of the payload,
//! [`AltDaClient::dx_upload`] is `POST /put/0x<key>` and [`AltDaClient::dx_download`] is
//! `GET /get/0x<key>`.

use crate::server::MAX_BLOB_SIZE_HEADER;
use crate::{DaBackend, DaError, Result};
use alloy_primitives::{Bytes, hex};
use std::time::Duration;
use temporis_protocol::commitment::Commitment;
use tracing::debug;

const BACKEND: &str = "alt-da";

/// Default timeout of one request: a 16 MiB blob over a slow link still fits.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A client of one Alt-DA server.
#[derive(Debug, Clone)]
pub struct AltDaClient {
    base: String,
    http: reqwest::Client,
    auth_token: Option<String>,
}

impl AltDaClient {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:3100`), sending
    /// `Authorization: Bearer <auth_token>` on writes when a token is given.
    pub fn new(base_url: &str, auth_token: Option<String>) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(DaError::Chain {
                backend: BACKEND,
                msg: format!("DA server URL {base_url:?} must start with http:// or https://"),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .map_err(|e| DaError::Chain { backend: BACKEND, msg: format!("HTTP client: {e}") })?;
        Ok(Self { base, http, auth_token })
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Uploads an inference-market payload under `key` (its keccak commitment).
    pub async fn dx_upload(&self, key: &Commitment, data: Bytes) -> Result<()> {
        check_keccak(key, &data)?;
        let url = format!("{}/put/0x{}", self.base, hex::encode(key.encode()));
        let size = data.len();
        let resp = self.authorized(self.http.post(url)).body(data.0).send().await.map_err(transport)?;
        expect_ok(resp, key, size).await.map(drop)
    }

    /// Downloads the payload stored under `key`, checked against it.
    pub async fn dx_download(&self, key: &Commitment) -> Result<Bytes> {
        self.get(key).await
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth_token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
}

#[expect(clippy::needless_pass_by_value, reason = "shaped for `map_err(transport)`")]
fn transport(e: reqwest::Error) -> DaError {
    DaError::Chain { backend: BACKEND, msg: format!("request failed: {e}") }
}

/// Fails unless `commitment` is a keccak commitment of `data`.
fn check_keccak(commitment: &Commitment, data: &[u8]) -> Result<()> {
    match commitment.verifies_keccak(data) {
        Some(true) => Ok(()),
        Some(false) => Err(DaError::CommitmentMismatch { commitment: commitment.clone() }),
        None => Err(DaError::UnsupportedCommitment { backend: BACKEND, commitment: commitment.clone() }),
    }
}

/// Maps a non-200 answer to the error it stands for; `size` is what was sent (for a 413).
async fn expect_ok(resp: reqwest::Response, commitment: &Commitment, size: usize) -> Result<Bytes> {
    let status = resp.status().as_u16();
    let limit = resp
        .headers()
        .get(MAX_BLOB_SIZE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if status == 200 {
        return resp.bytes().await.map(Bytes::from).map_err(transport);
    }
    let body = resp.text().await.unwrap_or_default();
    Err(match status {
        404 => DaError::NotFound(commitment.clone()),
        413 => DaError::TooLarge { size, limit: limit.unwrap_or(0) },
        _ => DaError::Chain { backend: BACKEND, msg: format!("server answered {status}: {}", body.trim()) },
    })
}

impl DaBackend for AltDaClient {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let expected = Commitment::keccak(&data);
        let size = data.len();
        let resp = self
            .authorized(self.http.post(format!("{}/put", self.base)))
            .body(data.0)
            .send()
            .await
            .map_err(transport)?;
        let raw = expect_ok(resp, &expected, size).await?;
        let answered = Commitment::decode(&raw)?;
        // A server that answers a keccak commitment must name this data; a generic one (a
        // server in front of another layer) is passed on as the server's own reference.
        if matches!(answered, Commitment::Keccak(_)) && answered != expected {
            return Err(DaError::CommitmentMismatch { commitment: answered });
        }
        debug!(target: "da::http", url = %self.base, size, "blob put");
        Ok(answered)
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        if !matches!(commitment, Commitment::Keccak(_)) {
            return Err(DaError::UnsupportedCommitment { backend: BACKEND, commitment: commitment.clone() });
        }
        let url = format!("{}/get/0x{}", self.base, hex::encode(commitment.encode()));
        let resp = self.http.get(url).send().await.map_err(transport)?;
        let data = expect_ok(resp, commitment, 0).await?;
        check_keccak(commitment, &data)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_http_urls() {
        assert!(AltDaClient::new("127.0.0.1:3100", None).is_err());
        assert!(AltDaClient::new("ftp://x", None).is_err());
        assert_eq!(AltDaClient::new("http://127.0.0.1:3100/", None).unwrap().url(), "http://127.0.0.1:3100");
    }

    #[test]
    fn keccak_check() {
        let c = Commitment::keccak(b"payload");
        assert!(check_keccak(&c, b"payload").is_ok());
        assert!(matches!(check_keccak(&c, b"payloaD"), Err(DaError::CommitmentMismatch { .. })));
        let g = Commitment::Generic { da_layer: 0x6e, payload: Bytes::from_static(&[1]) };
        assert!(matches!(check_keccak(&g, b"x"), Err(DaError::UnsupportedCommitment { .. })));
    }
}
