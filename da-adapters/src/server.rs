//! The DA server: the OP Alt-DA HTTP API in front of a [`DaBackend`].
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /put` (body = data) | `200`, body = the raw commitment bytes (as op-alt-da's client expects) |
//! | `POST /put/0x<commitment>` | `200` if the data matches the commitment, `400` otherwise |
//! | `GET /get/0x<commitment>` | `200` with the verified data; `404` unknown; `400` malformed commitment |
//! | `GET /health` | `200 ok`, or `200 degraded: …` naming the failing parts of the backend |
//! | `GET /metrics` | Prometheus text |
//!
//! Writes need `Authorization: Bearer <token>` when a token is configured (`401` otherwise);
//! bodies above the size limit get `413`, with the limit in the `x-temporis-max-blob-size`
//! header, refused as soon as the declared length or the bytes read pass it (a body is never
//! buffered beyond the limit).
//!
//! `POST /put` bodies stream into the backend as they arrive ([`DaBackend::put_stream`]: the
//! local store writes and hashes them piece by piece, never holding a blob whole); a
//! `POST /put/0x<commitment>` body is read first (up to the limit), so that data that does not
//! match its commitment never reaches the store. A `get` answers only after the backend has
//! checked the whole blob against its commitment: a response streamed before that check could
//! hand a client bytes that turn out to be wrong.
//!
//! The inference market's `dx_upload(key, data)` / `dx_download(key)` are `POST /put/0x<key>`
//! and `GET /get/0x<key>` with `key` the payload's keccak commitment (see [`crate::http`]).

// Helpers return `Result<_, Response>` so that handlers can answer an error at once; the
// response is built once per failed request, so its size on the stack does not matter.
#![allow(clippy::result_large_err)]

use crate::{DaBackend, DaError};
use alloy_primitives::Bytes;
use axum::Router;
use axum::body::Bytes as Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use temporis_protocol::commitment::Commitment;
use tracing::warn;

/// Response header of a `413` that gives the server's size limit in bytes.
pub const MAX_BLOB_SIZE_HEADER: &str = "x-temporis-max-blob-size";

/// Server settings.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Bearer token required for writes; `None` leaves writes open (local development only).
    pub auth_token: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_size: usize,
}

#[derive(Debug, Default)]
struct Metrics {
    puts: AtomicU64,
    gets: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    not_found: AtomicU64,
    errors: AtomicU64,
}

struct AppState<B> {
    backend: B,
    config: ServerConfig,
    metrics: Metrics,
}

/// The API's routes over `backend`.
pub fn router<B: DaBackend + 'static>(backend: B, config: ServerConfig) -> Router {
    let limit = config.max_body_size;
    let state = Arc::new(AppState { backend, config, metrics: Metrics::default() });
    Router::new()
        .route("/put", post(put::<B>))
        .route("/put/{commitment}", post(put_with_commitment::<B>))
        .route("/get/{commitment}", get(get_blob::<B>))
        .route("/health", get(health::<B>))
        .route("/metrics", get(metrics::<B>))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, msg.into()).into_response()
}

fn authorized<B>(state: &AppState<B>, headers: &HeaderMap) -> Result<(), Response> {
    let Some(token) = &state.config.auth_token else { return Ok(()) };
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if given.and_then(|v| v.strip_prefix("Bearer ")) == Some(token.as_str()) {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, "writes need Authorization: Bearer <token>"))
    }
}

fn parse_commitment(s: &str) -> Result<Commitment, Response> {
    let hex = s
        .strip_prefix("0x")
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "commitment must start with 0x"))?;
    let bytes = alloy_primitives::hex::decode(hex)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("commitment is not hex: {e}")))?;
    Commitment::decode(&bytes).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))
}

fn too_large<B>(state: &AppState<B>, size: Option<usize>) -> Response {
    let limit = state.config.max_body_size;
    let msg = match size {
        Some(size) => format!("blob of {size} bytes exceeds the limit of {limit} bytes"),
        None => format!("body exceeds the limit of {limit} bytes"),
    };
    (StatusCode::PAYLOAD_TOO_LARGE, [(MAX_BLOB_SIZE_HEADER, limit.to_string())], msg).into_response()
}

/// The body, or the answer to a body that could not be read (`413` past the limit).
fn read_body<B>(state: &AppState<B>, body: Result<Body, BytesRejection>) -> Result<Body, Response> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(state, None),
        _ => rejection.into_response(),
    })
}

fn backend_error<B>(state: &AppState<B>, e: DaError) -> Response {
    match e {
        DaError::NotFound(_) => {
            state.metrics.not_found.fetch_add(1, Ordering::Relaxed);
            error(StatusCode::NOT_FOUND, e.to_string())
        }
        DaError::TooLarge { size, .. } => too_large(state, Some(size)),
        DaError::UnsupportedCommitment { .. } | DaError::Commitment(_) => {
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
        other => {
            state.metrics.errors.fetch_add(1, Ordering::Relaxed);
            warn!(target: "da::server", err = %other, "backend failure");
            error(StatusCode::INTERNAL_SERVER_ERROR, other.to_string())
        }
    }
}

async fn store<B: DaBackend>(state: &AppState<B>, body: Body) -> Result<Commitment, Response> {
    let len = body.len() as u64;
    let c = state.backend.put(Bytes::from(body)).await.map_err(|e| backend_error(state, e))?;
    state.metrics.puts.fetch_add(1, Ordering::Relaxed);
    state.metrics.bytes_in.fetch_add(len, Ordering::Relaxed);
    Ok(c)
}

async fn put<B: DaBackend + 'static>(
    State(state): State<Arc<AppState<B>>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use futures_util::StreamExt;
    if let Err(r) = authorized(&state, &headers) {
        return r;
    }
    let limit = state.config.max_body_size;
    // A declared length past the limit is refused before a byte is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(len) = declared.filter(|len| *len > limit) {
        return too_large(&state, Some(len));
    }
    // The body goes to the backend as it arrives (the local store writes it to disk piece by
    // piece); the backend refuses it once it passes the limit.
    let counted = Arc::clone(&state);
    let stream = body.into_data_stream().map(move |piece| {
        let piece = piece.map_err(std::io::Error::other)?;
        counted.metrics.bytes_in.fetch_add(piece.len() as u64, Ordering::Relaxed);
        Ok(Bytes::from(piece))
    });
    match state.backend.put_stream(Box::pin(stream), limit).await {
        Ok(c) => {
            state.metrics.puts.fetch_add(1, Ordering::Relaxed);
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], c.encode().to_vec())
                .into_response()
        }
        Err(e) => backend_error(&state, e),
    }
}

async fn put_with_commitment<B: DaBackend>(
    State(state): State<Arc<AppState<B>>>,
    Path(commitment): Path<String>,
    headers: HeaderMap,
    body: Result<Body, BytesRejection>,
) -> Response {
    if let Err(r) = authorized(&state, &headers) {
        return r;
    }
    let body = match read_body(&state, body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let expected = match parse_commitment(&commitment) {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Check before storing, so that mismatched data never lands in the store.
    if expected.verifies_keccak(&body) == Some(false) {
        return error(StatusCode::BAD_REQUEST, "data does not match the commitment");
    }
    match store(&state, body).await {
        Ok(c) if c == expected => StatusCode::OK.into_response(),
        Ok(_) => error(StatusCode::BAD_REQUEST, "this backend cannot store data under that commitment"),
        Err(r) => r,
    }
}

async fn get_blob<B: DaBackend>(
    State(state): State<Arc<AppState<B>>>,
    Path(commitment): Path<String>,
) -> Response {
    let c = match parse_commitment(&commitment) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match state.backend.get(&c).await {
        Ok(data) => {
            state.metrics.gets.fetch_add(1, Ordering::Relaxed);
            state.metrics.bytes_out.fetch_add(data.len() as u64, Ordering::Relaxed);
            // `Bytes` hands its buffer to the response without a copy.
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], data.0).into_response()
        }
        Err(e) => backend_error(&state, e),
    }
}

async fn health<B: DaBackend>(State(state): State<Arc<AppState<B>>>) -> String {
    let degraded = state.backend.degraded();
    if degraded.is_empty() { "ok".to_string() } else { format!("degraded: {}", degraded.join("; ")) }
}

async fn metrics<B>(State(state): State<Arc<AppState<B>>>) -> String {
    let m = &state.metrics;
    let mut out = String::new();
    for (name, help, v) in [
        ("temporis_da_puts_total", "Blobs stored.", &m.puts),
        ("temporis_da_gets_total", "Blobs served.", &m.gets),
        ("temporis_da_bytes_in_total", "Bytes stored.", &m.bytes_in),
        ("temporis_da_bytes_out_total", "Bytes served.", &m.bytes_out),
        ("temporis_da_not_found_total", "Gets of unknown commitments.", &m.not_found),
        ("temporis_da_errors_total", "Backend failures.", &m.errors),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
            v.load(Ordering::Relaxed)
        ));
    }
    out
}
