//! The two HTTP APIs a [`FilecoinBackend`] speaks.
//!
//! Curio PDP-style piece server (piece CIDs in the v2 string form):
//! - [`PdpUpload::Put`]: `PUT /piece/{cid}` with the bytes: `200`/`201`/`204`;
//! - [`PdpUpload::PdpV0`]: `POST /pdp/piece` with a JSON `check` (`200 {"pieceCID"}` when the
//!   server has the piece, `201` + `Location` otherwise), then `PUT {Location}`: `204`;
//! - `GET /piece/{cid}` (FRC-0066 piece retrieval): `200` with the bytes, `404` unknown.
//!
//! kubo RPC (every call is a `POST`; errors are `500` with `{"Message", "Code", "Type"}`):
//! - `/api/v0/add?cid-version=1&pin=true&quieter=true`, a `multipart/form-data` body with one
//!   file part; the answer is newline-delimited JSON objects `{"Name","Hash","Size"}`, the last
//!   one naming the file's root CID (`cid-version=1` implies raw leaves);
//! - `/api/v0/cat?arg={cid}`: the bytes.

use super::{Cid, FilecoinBackend, PdpUpload, PieceCid, chain, malformed};
use crate::{DaError, Result};
use alloy_primitives::{Bytes, hex};
use reqwest::{Response, StatusCode, header};
use sha2::{Digest, Sha256};
use tracing::debug;

/// Largest JSON answer read from a server (kubo `add`, Curio `POST /pdp/piece`).
const MAX_ANSWER: usize = 64 * 1024;

impl FilecoinBackend {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url);
        match &self.config.auth_token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
}

async fn send(r: reqwest::RequestBuilder, what: &str) -> Result<Response> {
    r.send().await.map_err(|e| chain(format!("{what}: {e}")))
}

/// Reads a small answer body, refusing more than [`MAX_ANSWER`] bytes.
async fn small_body(mut r: Response, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| chain(format!("{what}: {e}")))? {
        if out.len() + chunk.len() > MAX_ANSWER {
            return Err(malformed(format!("{what}: answer over {MAX_ANSWER} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// An error for an unexpected status, with the start of the server's explanation.
async fn status_error(r: Response, what: &str) -> DaError {
    let status = r.status();
    let body = small_body(r, what).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_string();
    chain(format!("{what}: HTTP {status}: {text}"))
}

pub(super) async fn pdp_put(b: &FilecoinBackend, piece: &PieceCid, data: Bytes) -> Result<()> {
    match b.config.pdp_upload {
        PdpUpload::Put => {
            let what = "PUT /piece";
            let r = send(
                b.request(reqwest::Method::PUT, &b.url(&format!("/piece/{piece}")))
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(data.0),
                what,
            )
            .await?;
            match r.status() {
                StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT => Ok(()),
                _ => Err(status_error(r, what).await),
            }
        }
        PdpUpload::PdpV0 => pdp_v0_put(b, piece, data).await,
    }
}

async fn pdp_v0_put(b: &FilecoinBackend, piece: &PieceCid, data: Bytes) -> Result<()> {
    let what = "POST /pdp/piece";
    let check = serde_json::json!({
        "check": {
            "name": "sha2-256-trunc254-padded",
            "hash": hex::encode(piece.root()),
            "size": data.len(),
        }
    });
    let r = send(
        b.request(reqwest::Method::POST, &b.url("/pdp/piece"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(check.to_string()),
        what,
    )
    .await?;
    match r.status() {
        StatusCode::OK => {
            // Already stored: the server names it by its v1 piece CID, which must be ours.
            let body = small_body(r, what).await?;
            let v: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| malformed(format!("{what}: answer is not JSON: {e}")))?;
            let named =
                v["pieceCID"].as_str().ok_or_else(|| malformed(format!("{what}: no pieceCID in {v}")))?;
            let cid: Cid =
                named.parse().map_err(|e| malformed(format!("{what}: pieceCID {named:?}: {e}")))?;
            if cid != piece.to_v1() && cid != piece.to_v2() {
                return Err(malformed(format!("{what}: server has {named} for piece {piece}")));
            }
            debug!(target: "da::filecoin", %piece, "PDP server already has the piece");
            Ok(())
        }
        StatusCode::CREATED => {
            let location = r
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| malformed(format!("{what}: 201 without a Location")))?;
            // Curio answers a path; an absolute URL is taken as it is.
            let upload = if location.starts_with('/') { b.url(location) } else { location.to_string() };
            let what = "PUT upload";
            let r = send(
                b.request(reqwest::Method::PUT, &upload)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(data.0),
                what,
            )
            .await?;
            match r.status() {
                StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT => Ok(()),
                _ => Err(status_error(r, what).await),
            }
        }
        _ => Err(status_error(r, what).await),
    }
}

/// `GET /piece/{cid}`: the answer whose body is to be read, or `None` if the server has no such
/// piece.
pub(super) async fn pdp_get(b: &FilecoinBackend, piece: &PieceCid) -> Result<Option<Response>> {
    let what = "GET /piece";
    let r = send(b.request(reqwest::Method::GET, &b.url(&format!("/piece/{piece}"))), what).await?;
    match r.status() {
        StatusCode::OK => Ok(Some(r)),
        StatusCode::NOT_FOUND => Ok(None),
        _ => Err(status_error(r, what).await),
    }
}

/// A `multipart/form-data` body with one file part holding `data`. The boundary contains the
/// piece root: to contain it, the data would have to contain its own hash, so no scan is needed.
fn multipart(piece: &PieceCid, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("temporis-{}", hex::encode(piece.root()));
    let mut body = Vec::with_capacity(data.len() + 256);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n");
    body.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The message of a kubo error answer (`{"Message": …}`), or the raw text.
fn kubo_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["Message"].as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned())
}

pub(super) async fn kubo_add(b: &FilecoinBackend, piece: &PieceCid, data: Bytes) -> Result<Cid> {
    let what = "kubo add";
    let (content_type, body) = multipart(piece, &data);
    let r = send(
        b.request(reqwest::Method::POST, &b.url("/api/v0/add?cid-version=1&pin=true&quieter=true"))
            .header(header::CONTENT_TYPE, content_type)
            .body(body),
        what,
    )
    .await?;
    let status = r.status();
    let body = small_body(r, what).await?;
    if status != StatusCode::OK {
        return Err(chain(format!("{what}: HTTP {status}: {}", kubo_message(&body))));
    }
    // Newline-delimited JSON; the last object names the root of what was added.
    let text = std::str::from_utf8(&body).map_err(|_| malformed(format!("{what}: answer is not UTF-8")))?;
    let last = text
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .ok_or_else(|| malformed(format!("{what}: empty answer")))?;
    let v: serde_json::Value =
        serde_json::from_str(last).map_err(|e| malformed(format!("{what}: answer is not JSON: {e}")))?;
    let hash = v["Hash"].as_str().ok_or_else(|| malformed(format!("{what}: no Hash in {v}")))?;
    let cid: Cid = hash.parse().map_err(|e| malformed(format!("{what}: Hash {hash:?}: {e}")))?;
    // A single-block file is named by a raw-leaf sha2-256 CID, which can be checked here at the
    // cost of one hash, so a node cannot hand out a name it will never resolve. (A dag-pb root
    // of a chunked file would need the UnixFS DAG rebuilt; the piece CID guards reads anyway.)
    let sha256: [u8; 32] = Sha256::digest(data.as_ref()).into();
    if cid.codec() == super::cid::CODEC_RAW
        && cid.multihash_code() == super::cid::MH_SHA2_256
        && cid.digest() != sha256
    {
        return Err(malformed(format!("{what}: kubo named the blob {cid}, which is not its sha2-256")));
    }
    if let Some(size) = v["Size"].as_str() {
        debug!(target: "da::filecoin", %cid, size, "kubo added the blob");
    }
    Ok(cid)
}

/// `cat`: the answer whose body is to be read, or `None` if kubo reports the CID unknown.
pub(super) async fn kubo_cat(b: &FilecoinBackend, cid: &Cid) -> Result<Option<Response>> {
    let what = "kubo cat";
    let r = send(b.request(reqwest::Method::POST, &b.url(&format!("/api/v0/cat?arg={cid}"))), what).await?;
    if r.status() == StatusCode::OK {
        return Ok(Some(r));
    }
    let status = r.status();
    let body = small_body(r, what).await.unwrap_or_default();
    let msg = kubo_message(&body);
    // kubo answers 500 for every failure; a missing block reads "… not found …" (offline) or
    // "could not find …".
    let lower = msg.to_ascii_lowercase();
    if status == StatusCode::NOT_FOUND || lower.contains("not found") || lower.contains("could not find") {
        return Ok(None);
    }
    Err(chain(format!("{what}: HTTP {status}: {msg}")))
}
