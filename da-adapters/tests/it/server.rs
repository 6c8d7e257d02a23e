//! The DA server over real HTTP on loopback, with the local backend on disk.

use alloy_primitives::{Bytes, hex};
use std::path::PathBuf;
use temporis_da_adapters::LocalBackend;
use temporis_da_adapters::server::{ServerConfig, router};
use temporis_protocol::commitment::Commitment;

pub(crate) struct Server {
    pub(crate) url: String,
    pub(crate) dir: PathBuf,
}

pub(crate) async fn start(name: &str, token: Option<&str>, limit: usize) -> Server {
    let dir = std::env::temp_dir().join(format!("temporis-da-server-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    serve(dir, token, limit).await
}

/// Serves the store in `dir` (created or reopened) on a free loopback port.
pub(crate) async fn serve(dir: PathBuf, token: Option<&str>, limit: usize) -> Server {
    let backend = LocalBackend::open(&dir, limit).unwrap();
    let app = router(backend, ServerConfig { auth_token: token.map(str::to_string), max_body_size: limit });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { url, dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_and_error_statuses() {
    let s = start("api", Some("s3cret"), 64 * 1024).await;
    let http = reqwest::Client::new();
    let data = b"a batch of L2 blocks".to_vec();

    // Writes need the token.
    let r = http.post(format!("{}/put", s.url)).body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // POST /put answers the raw commitment bytes.
    let r =
        http.post(format!("{}/put", s.url)).bearer_auth("s3cret").body(data.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let raw = r.bytes().await.unwrap();
    let c = Commitment::decode(&raw).unwrap();
    assert_eq!(c, Commitment::keccak(&data));
    let c_hex = format!("0x{}", hex::encode(&raw));

    // GET /get/0x<commitment> serves the data.
    let r = http.get(format!("{}/get/{c_hex}", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);

    // POST /put/0x<commitment>: accepted when it matches, 400 when it does not.
    let other = b"other data".to_vec();
    let other_c = format!("0x{}", hex::encode(Commitment::keccak(&other).encode()));
    let r = http
        .post(format!("{}/put/{other_c}", s.url))
        .bearer_auth("s3cret")
        .body(other.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{}/put/{other_c}", s.url))
        .bearer_auth("s3cret")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Unknown → 404; malformed → 400; oversize → 413.
    let unknown = format!("0x{}", hex::encode(Commitment::keccak(b"never").encode()));
    assert_eq!(http.get(format!("{}/get/{unknown}", s.url)).send().await.unwrap().status(), 404);
    for bad in ["0x02aa", "0xzz", "00aa", "0x00aa"] {
        assert_eq!(http.get(format!("{}/get/{bad}", s.url)).send().await.unwrap().status(), 400, "{bad}");
    }
    let big = vec![1u8; 64 * 1024 + 1];
    let r = http.post(format!("{}/put", s.url)).bearer_auth("s3cret").body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["x-temporis-max-blob-size"], "65536");

    // A flipped byte on disk is refused, never served.
    let Commitment::Keccak(hash) = c else { unreachable!() };
    let hexname = hex::encode(hash);
    let path = s.dir.join("blobs").join(&hexname[..2]).join(&hexname);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3] ^= 0x80;
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(http.get(format!("{}/get/{c_hex}", s.url)).send().await.unwrap().status(), 500);

    // Health and metrics.
    assert_eq!(http.get(format!("{}/health", s.url)).send().await.unwrap().text().await.unwrap(), "ok");
    let m = http.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("temporis_da_puts_total 2"), "{m}");
    assert!(m.contains("temporis_da_not_found_total 1"), "{m}");
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_and_restart() {
    let s = start("parallel", None, 1024 * 1024).await;
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let http = http.clone();
        let url = s.url.clone();
        tasks.push(tokio::spawn(async move {
            let data = i.to_be_bytes().repeat(4096);
            let raw = http
                .post(format!("{url}/put"))
                .body(data.clone())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let got = http
                .get(format!("{url}/get/0x{}", hex::encode(&raw)))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(got.to_vec(), data);
            Bytes::from(raw.to_vec())
        }));
    }
    let mut commitments = Vec::new();
    for t in tasks {
        commitments.push(t.await.unwrap());
    }

    // A new server over the same directory (a restart) serves everything.
    let restarted = serve(s.dir.clone(), None, 1024 * 1024).await;
    let url2 = restarted.url;
    for c in commitments {
        let r = http.get(format!("{url2}/get/0x{}", hex::encode(&c))).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// The `temporis-da` binary itself, as operators run it: a replicated backend over its own
/// local store and another Alt-DA server, chosen by flags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_a_replicated_backend_chosen_by_flags() {
    let other = start("bin-other", None, 1 << 20).await;
    let dir = std::env::temp_dir().join(format!("temporis-da-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_temporis-da"))
        .args([
            "--backend",
            "replicated",
            "--replicated.backends",
            "local,alt-da",
            "--alt-da.url",
            &other.url,
        ])
        .arg("--datadir")
        .arg(&dir)
        .args(["--port", &port.to_string(), "--auth-token", "tok"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed on drop, also when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while http.get(format!("{url}/health")).send().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "temporis-da did not start");
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("temporis-da exited: {status}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let data = b"through the binary".to_vec();
    let raw = http.post(format!("{url}/put")).bearer_auth("tok").body(data.clone()).send().await.unwrap();
    assert_eq!(raw.status(), 200);
    let raw = raw.bytes().await.unwrap();
    assert_eq!(Commitment::decode(&raw).unwrap(), Commitment::keccak(&data));
    // Both replicas hold it: the binary's own store and the other server.
    let c_hex = format!("0x{}", hex::encode(&raw));
    let from_other = http.get(format!("{}/get/{c_hex}", other.url)).send().await.unwrap();
    assert_eq!(from_other.bytes().await.unwrap().to_vec(), data);
    let local = LocalBackend::open(&dir, 1 << 20).unwrap();
    assert_eq!(local.get_blocking(&Commitment::keccak(&data)).unwrap().to_vec(), data);
    drop(child);
    for d in [&dir, &other.dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Sends a raw HTTP/1.1 request with a chunked body (no Content-Length, as a streaming client
/// does) and returns the status code and the response body.
async fn chunked_put(url: &str, pieces: &[Vec<u8>]) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.strip_prefix("http://").unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /put HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    for p in pieces {
        // The server may answer (413) and close before the whole body is sent.
        if conn.write_all(format!("{:x}\r\n", p.len()).as_bytes()).await.is_err()
            || conn.write_all(p).await.is_err()
            || conn.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body_at = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
    (status, answer[body_at..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_bodies_are_stored_and_bounded() {
    let s = start("stream", None, 64 * 1024).await;
    // 40 KiB in 1 KiB pieces, within the limit: stored under its keccak commitment.
    let pieces: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1024]).collect();
    let (status, raw) = chunked_put(&s.url, &pieces).await;
    assert_eq!(status, 200);
    let whole: Vec<u8> = pieces.concat();
    // The chunked response body of hyper is framed; find the commitment inside it.
    let expected = Commitment::keccak(&whole).encode();
    assert!(raw.windows(expected.len()).any(|w| w == expected.as_ref()), "{raw:?}");
    let got = reqwest::get(format!("{}/get/0x{}", s.url, hex::encode(&expected))).await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), whole);

    // 100 KiB in pieces, no declared length: refused with 413 once past the limit, nothing stored.
    let pieces: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 1024]).collect();
    let (status, _) = chunked_put(&s.url, &pieces).await;
    assert_eq!(status, 413);
    let missing = Commitment::keccak(&pieces.concat()).encode();
    let r = reqwest::get(format!("{}/get/0x{}", s.url, hex::encode(&missing))).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(std::fs::read_dir(s.dir.join("tmp")).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&s.dir);
}
