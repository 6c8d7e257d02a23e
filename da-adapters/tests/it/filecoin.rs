//! The Filecoin backend over real HTTP on loopback, against two local servers written here: a
//! Curio PDP-style piece server (`PUT /piece/{cid}`, Curio's `POST /pdp/piece` + `PUT` upload
//! flow, `GET /piece/{cid}`) and a kubo-RPC-style node (`POST /api/v0/add` multipart,
//! `POST /api/v0/cat?arg=`). Both store what they get and can be told to corrupt what they
//! serve. They parse CIDs with the `cid` crate, not with the backend's own parser, and the PDP
//! one refuses bytes that do not hash to the piece CID in the URL, as Curio does.
//!
//! No real Curio or kubo runs here: these servers follow the APIs' documented shapes.

use alloy_primitives::{Bytes, hex};
use axum::Router;
use axum::body::Bytes as Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use temporis_da_adapters::filecoin::{
    DA_LAYER_FILECOIN, FilecoinBackend, FilecoinCommitment, FilecoinConfig, PdpUpload, PieceCid, Transport,
    commp,
};
use temporis_da_adapters::{DaBackend, DaError};
use temporis_protocol::commitment::Commitment;

/// How a test server corrupts what it serves.
#[derive(Default)]
struct Faults {
    flip: AtomicBool,
    extra_byte: AtomicBool,
    drop_last: AtomicBool,
    /// kubo `add` answers the CID of other bytes.
    wrong_name: AtomicBool,
}

impl Faults {
    fn apply(&self, mut data: Vec<u8>) -> Vec<u8> {
        if self.flip.load(Ordering::Relaxed) && !data.is_empty() {
            let i = data.len() / 2;
            data[i] ^= 0x01;
        }
        if self.extra_byte.load(Ordering::Relaxed) {
            data.push(0);
        }
        if self.drop_last.load(Ordering::Relaxed) {
            data.pop();
        }
        data
    }
}

#[derive(Default)]
struct Store {
    /// v2 piece CID string (or kubo CID string) → bytes.
    blobs: Mutex<HashMap<String, Vec<u8>>>,
    /// PDP v0 upload id → (hex root, size).
    uploads: Mutex<HashMap<String, (String, u64)>>,
    next_upload: AtomicU64,
    requests: AtomicUsize,
    token: Option<String>,
    faults: Faults,
}

type Shared = Arc<Store>;

struct TestServer {
    url: String,
    store: Shared,
}

async fn serve(app: Router<Shared>, token: Option<&str>) -> TestServer {
    let store = Arc::new(Store { token: token.map(str::to_string), ..Store::default() });
    let app = app.layer(DefaultBodyLimit::disable()).with_state(Arc::clone(&store));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer { url, store }
}

fn authorized(s: &Store, headers: &HeaderMap) -> bool {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let Some(t) = &s.token else { return true };
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {t}"))
}

/// A v2 piece CID from a URL, parsed by the `cid` crate and checked to be raw +
/// fr32-sha256-trunc254-padbintree.
fn piece_from_url(s: &str) -> Option<cid::Cid> {
    let c = cid::Cid::try_from(s).ok()?;
    (c.codec() == 0x55 && c.hash().code() == 0x1011).then_some(c)
}

// ---- the Curio PDP-style piece server ----

fn pdp_app() -> Router<Shared> {
    Router::new()
        .route("/piece/{cid}", put(pdp_put).get(pdp_get))
        .route("/pdp/piece", post(pdp_v0_post))
        .route("/pdp/piece/upload/{id}", put(pdp_v0_upload))
}

async fn pdp_put(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Body,
) -> Response {
    if !authorized(&s, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(parsed) = piece_from_url(&cid) else {
        return (StatusCode::BAD_REQUEST, "not a v2 piece CID").into_response();
    };
    // The bytes must hash to the CID they are put under.
    if commp(&body).to_v2_bytes() != parsed.to_bytes() {
        return (StatusCode::BAD_REQUEST, "data does not hash to the piece CID").into_response();
    }
    let mut blobs = s.blobs.lock().unwrap();
    if blobs.contains_key(&cid) {
        return StatusCode::NO_CONTENT.into_response();
    }
    blobs.insert(cid, body.to_vec());
    StatusCode::CREATED.into_response()
}

async fn pdp_get(State(s): State<Shared>, headers: HeaderMap, Path(cid): Path<String>) -> Response {
    if !authorized(&s, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if piece_from_url(&cid).is_none() {
        return (StatusCode::BAD_REQUEST, "only v2 piece CIDs").into_response();
    }
    match s.blobs.lock().unwrap().get(&cid) {
        Some(d) => s.faults.apply(d.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn pdp_v0_post(State(s): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    if !authorized(&s, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid JSON").into_response();
    };
    let check = &v["check"];
    let (Some("sha2-256-trunc254-padded"), Some(hash), Some(size)) =
        (check["name"].as_str(), check["hash"].as_str(), check["size"].as_u64())
    else {
        return (StatusCode::BAD_REQUEST, "bad check").into_response();
    };
    let Ok(root) = <[u8; 32]>::try_from(hex::decode(hash).unwrap_or_default()) else {
        return (StatusCode::BAD_REQUEST, "bad hash").into_response();
    };
    // Known piece: answer its v1 piece CID, as Curio does.
    if let Ok(piece) = PieceCid::from_root_and_size(root, size)
        && s.blobs.lock().unwrap().contains_key(&piece.to_string())
    {
        let v1 = cid::Cid::new_v1(0xf101, cid::multihash::Multihash::<64>::wrap(0x1012, &root).unwrap());
        return (StatusCode::OK, serde_json::json!({ "pieceCID": v1.to_string() }).to_string())
            .into_response();
    }
    let id = format!("upload-{}", s.next_upload.fetch_add(1, Ordering::Relaxed));
    s.uploads.lock().unwrap().insert(id.clone(), (hash.to_string(), size));
    (StatusCode::CREATED, [(header::LOCATION, format!("/pdp/piece/upload/{id}"))]).into_response()
}

async fn pdp_v0_upload(
    State(s): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    if !authorized(&s, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some((hash, size)) = s.uploads.lock().unwrap().remove(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let piece = commp(&body);
    if body.len() as u64 != size || hex::encode(piece.root()) != hash {
        return (StatusCode::BAD_REQUEST, "computed hash does not match expected hash").into_response();
    }
    s.blobs.lock().unwrap().insert(piece.to_string(), body.to_vec());
    StatusCode::NO_CONTENT.into_response()
}

// ---- the kubo-RPC-style node ----

fn kubo_app() -> Router<Shared> {
    Router::new().route("/api/v0/add", post(kubo_add)).route("/api/v0/cat", post(kubo_cat))
}

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=').map(str::to_string))
}

fn kubo_error(msg: &str) -> Response {
    let body = serde_json::json!({ "Message": msg, "Code": 0, "Type": "error" }).to_string();
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The one file part of a `multipart/form-data` body (RFC 7578).
fn file_part<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<&'a [u8]> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = ct.strip_prefix("multipart/form-data; boundary=")?;
    let open = format!("--{boundary}\r\n");
    let close = format!("\r\n--{boundary}--\r\n");
    let rest = body.strip_prefix(open.as_bytes())?.strip_suffix(close.as_bytes())?;
    let header_end = rest.windows(4).position(|w| w == b"\r\n\r\n")?;
    let part_headers = std::str::from_utf8(&rest[..header_end]).ok()?;
    part_headers.contains("Content-Disposition: form-data; name=\"file\"").then_some(&rest[header_end + 4..])
}

async fn kubo_add(State(s): State<Shared>, headers: HeaderMap, uri: Uri, body: Body) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    if query(&uri, "cid-version").as_deref() != Some("1") {
        return kubo_error("this node only answers cid-version=1");
    }
    let Some(data) = file_part(&headers, &body) else { return kubo_error("no file part") };
    // kubo names a single-block file added with cid-version=1 by a raw-leaf sha2-256 CID. (Over
    // its 256 KiB chunk size the real node would answer a dag-pb root; the client takes either.)
    let mut digest = Sha256::digest(data);
    if s.faults.wrong_name.load(Ordering::Relaxed) {
        digest[0] ^= 1;
    }
    let c = cid::Cid::new_v1(0x55, cid::multihash::Multihash::<64>::wrap(0x12, &digest).unwrap());
    s.blobs.lock().unwrap().insert(c.to_string(), data.to_vec());
    let line = serde_json::json!({ "Name": "blob", "Hash": c.to_string(), "Size": data.len().to_string() });
    format!("{line}\n").into_response()
}

async fn kubo_cat(State(s): State<Shared>, uri: Uri) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let Some(arg) = query(&uri, "arg") else {
        return kubo_error("argument \"ipfs-path\" is required");
    };
    let Ok(c) = cid::Cid::try_from(arg.as_str()) else { return kubo_error(&format!("invalid path {arg:?}")) };
    match s.blobs.lock().unwrap().get(&c.to_string()) {
        Some(d) => s.faults.apply(d.clone()).into_response(),
        None => kubo_error(&format!("block was not found locally (offline): ipld: could not find {c}")),
    }
}

// ---- the tests ----

/// Payload sizes around the fr32 and tree edges, and a few MiB.
const SIZES: [usize; 9] = [0, 1, 64, 127, 128, 254, 255, 100_000, 3 * 1024 * 1024 + 17];

fn payload(size: usize, seed: u8) -> Bytes {
    (0..size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect::<Vec<_>>()
        .into()
}

fn backend(config: FilecoinConfig) -> FilecoinBackend {
    FilecoinBackend::new(config).unwrap()
}

async fn round_trips(da: &FilecoinBackend, kubo: bool) {
    for (i, size) in SIZES.into_iter().enumerate() {
        let data = payload(size, i as u8);
        let c = da.put(data.clone()).await.unwrap();
        let Commitment::Generic { da_layer, payload } = &c else { panic!("generic commitment expected") };
        assert_eq!(*da_layer, DA_LAYER_FILECOIN);
        // The payload starts with the v2 piece CID of the data.
        let piece = commp(&data);
        let v2 = piece.to_v2_bytes();
        assert_eq!(&payload[..v2.len()], v2.as_slice(), "size {size}");
        let fc = FilecoinCommitment::decode(payload).unwrap();
        assert_eq!(fc.piece.payload_size(), size as u64);
        if kubo {
            // ... then kubo's CID of the same bytes (raw leaf, sha2-256, as the cid crate makes it).
            let want = cid::Cid::new_v1(
                0x55,
                cid::multihash::Multihash::<64>::wrap(0x12, &Sha256::digest(&data)).unwrap(),
            );
            assert_eq!(&payload[v2.len()..], want.to_bytes().as_slice(), "size {size}");
        } else {
            assert_eq!(payload.len(), v2.len(), "size {size}: no locator");
        }
        // Through the wire encoding and back.
        let c = Commitment::decode(&c.encode()).unwrap();
        assert_eq!(da.get(&c).await.unwrap(), data, "size {size}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdp_put_round_trips_of_all_sizes() {
    let s = serve(pdp_app(), Some("jwt")).await;
    let mut config = FilecoinConfig::pdp(&s.url);
    config.auth_token = Some("jwt".into());
    let da = backend(config);
    round_trips(&da, false).await;
    assert_eq!(s.store.blobs.lock().unwrap().len(), SIZES.len());
    // The same data again: the server already has it (204), same commitment.
    let data = payload(1000, 9);
    assert_eq!(da.put(data.clone()).await.unwrap(), da.put(data).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdp_v0_upload_flow_round_trips_and_dedups() {
    let s = serve(pdp_app(), None).await;
    let mut config = FilecoinConfig::pdp(&s.url);
    config.pdp_upload = PdpUpload::PdpV0;
    let da = backend(config);
    round_trips(&da, false).await;
    // A second put of known data is answered 200 with the v1 piece CID, and no upload.
    let before = s.store.requests.load(Ordering::Relaxed);
    let c = da.put(payload(255, 6)).await.unwrap();
    assert_eq!(s.store.requests.load(Ordering::Relaxed), before + 1);
    assert_eq!(da.get(&c).await.unwrap(), payload(255, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubo_round_trips_of_all_sizes() {
    let s = serve(kubo_app(), None).await;
    let da = backend(FilecoinConfig::kubo(format!("{}/", s.url)));
    round_trips(&da, true).await;
    assert_eq!(s.store.blobs.lock().unwrap().len(), SIZES.len());
}

/// A server that corrupts what it serves gets a mismatch, never data.
async fn corruption_is_refused(s: &TestServer, da: &FilecoinBackend) {
    let data = payload(5000, 3);
    let c = da.put(data.clone()).await.unwrap();
    for fault in [&s.store.faults.flip, &s.store.faults.extra_byte, &s.store.faults.drop_last] {
        fault.store(true, Ordering::Relaxed);
        let got = da.get(&c).await;
        assert!(matches!(got, Err(DaError::CommitmentMismatch { .. })), "{:?}", got.map(|d| d.len()));
        fault.store(false, Ordering::Relaxed);
    }
    assert_eq!(da.get(&c).await.unwrap(), data);
    // A kubo that names the blob wrongly is caught at put time.
    s.store.faults.wrong_name.store(true, Ordering::Relaxed);
    if let Transport::Kubo = da.config().transport {
        let r = da.put(payload(300, 1)).await;
        assert!(matches!(&r, Err(DaError::Malformed { msg, .. }) if msg.contains("sha2-256")), "{r:?}");
    }
    s.store.faults.wrong_name.store(false, Ordering::Relaxed);
    // A one-byte payload flipped.
    let one = da.put(Bytes::from_static(&[0x42])).await.unwrap();
    s.store.faults.flip.store(true, Ordering::Relaxed);
    assert!(matches!(da.get(&one).await, Err(DaError::CommitmentMismatch { .. })));
    s.store.faults.flip.store(false, Ordering::Relaxed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_answers_are_mismatches() {
    let pdp = serve(pdp_app(), None).await;
    corruption_is_refused(&pdp, &backend(FilecoinConfig::pdp(&pdp.url))).await;
    let kubo = serve(kubo_app(), None).await;
    corruption_is_refused(&kubo, &backend(FilecoinConfig::kubo(&kubo.url))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_oversize_and_foreign_commitments() {
    let pdp_server = serve(pdp_app(), None).await;
    let kubo_server = serve(kubo_app(), None).await;
    let mut config = FilecoinConfig::pdp(&pdp_server.url);
    config.max_blob_size = 4096;
    let pdp = backend(config);
    let mut config = FilecoinConfig::kubo(&kubo_server.url);
    config.max_blob_size = 4096;
    let kubo = backend(config);

    // Never stored: NotFound from both (a 404, and kubo's "not found" error).
    let piece = commp(b"never stored");
    let unknown = FilecoinCommitment { piece, locator: None }.to_commitment();
    assert!(matches!(pdp.get(&unknown).await, Err(DaError::NotFound(_))));
    let kubo_name = cid::Cid::new_v1(0x55, cid::multihash::Multihash::<64>::wrap(0x12, &[7; 32]).unwrap());
    let unknown_kubo =
        FilecoinCommitment { piece, locator: Some(kubo_name.to_string().parse().unwrap()) }.to_commitment();
    assert!(matches!(kubo.get(&unknown_kubo).await, Err(DaError::NotFound(_))));

    // Oversize: refused on put, and on get before any request (the piece CID states the size).
    for da in [&pdp, &kubo] {
        let r = da.put(payload(4097, 0)).await;
        assert!(matches!(r, Err(DaError::TooLarge { size: 4097, limit: 4096 })), "{r:?}");
    }
    let big = FilecoinCommitment { piece: commp(&payload(4097, 0)), locator: None }.to_commitment();
    let before = pdp_server.store.requests.load(Ordering::Relaxed);
    assert!(matches!(pdp.get(&big).await, Err(DaError::TooLarge { size: 4097, limit: 4096 })));
    assert_eq!(pdp_server.store.requests.load(Ordering::Relaxed), before);
    assert!(pdp.put(payload(4096, 0)).await.is_ok(), "the limit itself is allowed");

    // Not ours: keccak, another layer, a PDP commitment given to kubo (no locator).
    let keccak = Commitment::keccak(b"x");
    let near = Commitment::Generic { da_layer: 0x6e, payload: Bytes::from_static(&[1; 32]) };
    for c in [&keccak, &near] {
        assert!(matches!(pdp.get(c).await, Err(DaError::UnsupportedCommitment { backend: "filecoin", .. })));
    }
    assert!(matches!(kubo.get(&unknown).await, Err(DaError::UnsupportedCommitment { .. })));

    // Ours but malformed: a v1 piece CID, trailing garbage, truncation.
    let v1 = Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload: piece.to_v1().to_bytes().into() };
    let mut trailing = piece.to_v2_bytes();
    trailing.push(0xff);
    let trailing = Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload: trailing.into() };
    let v2 = piece.to_v2_bytes();
    let short =
        Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload: v2[..v2.len() - 1].to_vec().into() };
    for c in [&v1, &trailing, &short] {
        let r = pdp.get(c).await;
        assert!(matches!(r, Err(DaError::Malformed { backend: "filecoin", .. })), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_failures_are_chain_errors() {
    // The server wants a token the client does not send: 401.
    let s = serve(pdp_app(), Some("jwt")).await;
    let da = backend(FilecoinConfig::pdp(&s.url));
    let r = da.put(payload(10, 0)).await;
    assert!(matches!(&r, Err(DaError::Chain { backend: "filecoin", msg }) if msg.contains("401")), "{r:?}");
    let r = da.get(&FilecoinCommitment { piece: commp(b"x"), locator: None }.to_commitment()).await;
    assert!(matches!(r, Err(DaError::Chain { .. })), "{r:?}");

    // Nobody listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let da = backend(FilecoinConfig::kubo(format!("http://{closed}")));
    assert!(matches!(da.put(payload(10, 0)).await, Err(DaError::Chain { .. })));

    // Not an HTTP URL.
    assert!(matches!(FilecoinBackend::new(FilecoinConfig::pdp("ftp://x")), Err(DaError::Chain { .. })));
    assert!(matches!(FilecoinBackend::new(FilecoinConfig::pdp("not a url")), Err(DaError::Chain { .. })));
}

/// A bare HTTP/1.1 server (std sockets, no framework) answering every request with `body` in
/// chunked transfer encoding, so no length is announced and only the bytes tell.
fn chunked_server(body: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            // Skip the request head (GET requests have no body).
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let mut out =
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
            for chunk in body.chunks(1000) {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            let _ = stream.write_all(&out);
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_answers_without_a_length_are_checked_as_they_arrive() {
    let data = payload(20_000, 5).to_vec();
    let c = FilecoinCommitment { piece: commp(&data), locator: None }.to_commitment();
    // The right bytes, streamed: served.
    let da = backend(FilecoinConfig::pdp(chunked_server(data.clone())));
    assert_eq!(da.get(&c).await.unwrap().to_vec(), data);
    // One byte too many, one too few, one flipped: refused.
    let mut longer = data.clone();
    longer.push(0);
    let mut flipped = data.clone();
    flipped[12_345] ^= 0x80;
    for bad in [longer, data[..data.len() - 1].to_vec(), flipped] {
        let da = backend(FilecoinConfig::pdp(chunked_server(bad)));
        let r = da.get(&c).await;
        assert!(matches!(r, Err(DaError::CommitmentMismatch { .. })), "{:?}", r.map(|d| d.len()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporis_da_server_over_the_filecoin_backend() {
    use temporis_da_adapters::server::{ServerConfig, router};
    // The OP Alt-DA API in front of the backend, in front of the kubo-style node.
    let kubo = serve(kubo_app(), None).await;
    let da = backend(FilecoinConfig::kubo(&kubo.url));
    let app = router(da, ServerConfig { auth_token: None, max_body_size: 1 << 20 });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::new();
    let data = payload(70_000, 8).to_vec();
    let raw = http.post(format!("{url}/put")).body(data.clone()).send().await.unwrap().bytes().await.unwrap();
    let c = Commitment::decode(&raw).unwrap();
    let Commitment::Generic { da_layer: DA_LAYER_FILECOIN, payload } = &c else { panic!("{c:?}") };
    assert_eq!(FilecoinCommitment::decode(payload).unwrap().piece, commp(&data));
    let r = http.get(format!("{url}/get/0x{}", hex::encode(&raw))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);
    // The node starts serving other bytes: the DA server answers an error, not the bytes.
    kubo.store.faults.flip.store(true, Ordering::Relaxed);
    let r = http.get(format!("{url}/get/0x{}", hex::encode(&raw))).send().await.unwrap();
    assert_eq!(r.status(), 500);
}
