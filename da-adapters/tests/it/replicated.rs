//! The Alt-DA HTTP client against a real `temporis-da` server, and the replicated backend over
//! local stores and servers, with one replica down or corrupt.

use crate::server::{Server, start};
use alloy_primitives::{Bytes, hex};
use temporis_da_adapters::replicated::decode_replicated;
use temporis_da_adapters::{AltDaClient, AnyBackend, DaBackend, DaError, LocalBackend, ReplicatedBackend};
use temporis_protocol::commitment::{Commitment, DA_LAYER_REPLICATED};

fn corrupt(server: &Server, c: &Commitment) {
    let Commitment::Keccak(hash) = c else { panic!("keccak commitment expected") };
    let name = hex::encode(hash);
    let path = server.dir.join("blobs").join(&name[..2]).join(&name);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
}

/// A URL nothing listens on.
fn dead_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_client_round_trip_dx_and_errors() {
    let s = start("client", Some("tok"), 4096).await;
    let client = AltDaClient::new(&s.url, Some("tok".into())).unwrap();
    let data = Bytes::from_static(b"a batch over HTTP");
    let c = client.put(data.clone()).await.unwrap();
    assert_eq!(c, Commitment::keccak(&data));
    assert_eq!(client.get(&c).await.unwrap(), data);

    // The inference market's payload exchange is the same API, by key.
    let payload = Bytes::from_static(b"inference request payload");
    let key = Commitment::keccak(&payload);
    client.dx_upload(&key, payload.clone()).await.unwrap();
    assert_eq!(client.dx_download(&key).await.unwrap(), payload);
    // A key that does not name the payload is refused before anything is sent.
    assert!(matches!(client.dx_upload(&key, data.clone()).await, Err(DaError::CommitmentMismatch { .. })));

    // Errors keep their meaning across HTTP.
    assert!(matches!(client.get(&Commitment::keccak(b"never")).await, Err(DaError::NotFound(_))));
    assert!(matches!(
        client.put(Bytes::from(vec![0u8; 5000])).await,
        Err(DaError::TooLarge { size: 5000, limit: 4096 })
    ));
    let no_token = AltDaClient::new(&s.url, None).unwrap();
    assert!(matches!(no_token.put(data.clone()).await, Err(DaError::Chain { .. })));
    let generic = Commitment::Generic { da_layer: 0x6e, payload: Bytes::from_static(&[1; 32]) };
    assert!(matches!(client.get(&generic).await, Err(DaError::UnsupportedCommitment { .. })));

    // Bytes corrupted on the server's disk never reach the caller.
    corrupt(&s, &c);
    assert!(client.get(&c).await.is_err());
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_serves_with_one_replica_down_and_reports_it() {
    let a = start("replica-a", None, 1 << 20).await;
    let b = start("replica-b", None, 1 << 20).await;
    let dir = std::env::temp_dir().join(format!("temporis-da-replica-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let local = LocalBackend::open(&dir, 1 << 20).unwrap();
    let replicas = vec![
        ("server-a".to_string(), AnyBackend::new(AltDaClient::new(&a.url, None).unwrap())),
        ("local".to_string(), AnyBackend::new(local.clone())),
        ("server-b".to_string(), AnyBackend::new(AltDaClient::new(&b.url, None).unwrap())),
    ];
    let rep = ReplicatedBackend::new(replicas).unwrap();
    let data = Bytes::from(b"replicated batch".repeat(100));
    let c = rep.put(data.clone()).await.unwrap();
    // Every replica answers the keccak commitment, so that is the answer.
    assert_eq!(c, Commitment::keccak(&data));
    assert!(rep.degraded().is_empty());
    // Each replica holds the blob on its own.
    assert_eq!(local.get(&c).await.unwrap(), data);
    assert_eq!(AltDaClient::new(&b.url, None).unwrap().get(&c).await.unwrap(), data);

    // The first replica's copy is corrupted: the read comes from the next, and the first is
    // reported as degraded.
    corrupt(&a, &c);
    assert_eq!(rep.get(&c).await.unwrap(), data);
    let degraded = rep.degraded();
    assert_eq!(degraded.len(), 1, "{degraded:?}");
    assert!(degraded[0].starts_with("server-a:"), "{degraded:?}");

    // With one replica down, writes need min_writes = 2 to succeed, and reads still work.
    let replicas = vec![
        ("down".to_string(), AnyBackend::new(AltDaClient::new(&dead_url(), None).unwrap())),
        ("server-b".to_string(), AnyBackend::new(AltDaClient::new(&b.url, None).unwrap())),
        ("local".to_string(), AnyBackend::new(local.clone())),
    ];
    let strict = ReplicatedBackend::new(replicas).unwrap();
    let more = Bytes::from_static(b"written while a replica is down");
    match strict.put(more.clone()).await {
        Err(DaError::Replication { written: 2, wanted: 3, failures }) => {
            assert!(failures.contains("down:"), "{failures}")
        }
        other => panic!("expected a replication error, got {other:?}"),
    }
    let replicas = vec![
        ("down".to_string(), AnyBackend::new(AltDaClient::new(&dead_url(), None).unwrap())),
        ("server-b".to_string(), AnyBackend::new(AltDaClient::new(&b.url, None).unwrap())),
        ("local".to_string(), AnyBackend::new(local.clone())),
    ];
    let tolerant = ReplicatedBackend::new(replicas).unwrap().with_min_writes(2);
    let c2 = tolerant.put(more.clone()).await.unwrap();
    assert_eq!(tolerant.get(&c2).await.unwrap(), more);
    assert_eq!(tolerant.get(&c).await.unwrap(), data);
    assert!(tolerant.degraded().iter().any(|d| d.starts_with("down:")));
    // Data the live replicas lack is not called missing while a replica is down: it may be
    // there, so the answer is a replication error that names the unreachable replica.
    match tolerant.get(&Commitment::keccak(b"nobody")).await {
        Err(DaError::Replication { failures, .. }) => assert!(failures.starts_with("down:"), "{failures}"),
        other => panic!("expected a replication error, got {other:?}"),
    }
    // With every replica up, it is NotFound.
    assert!(matches!(rep.get(&Commitment::keccak(b"nobody")).await, Err(DaError::NotFound(_))));

    // The server reports a degraded backend on /health.
    let app = temporis_da_adapters::server::router(
        tolerant,
        temporis_da_adapters::server::ServerConfig { auth_token: None, max_body_size: 1 << 20 },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let health = reqwest::get(format!("{url}/health")).await.unwrap().text().await.unwrap();
    assert!(health.starts_with("degraded: down:"), "{health}");

    for d in [&a.dir, &b.dir, &dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_different_commitments_give_a_replicated_commitment() {
    // A local store (keccak commitments) and a replica that answers a generic one: here a
    // second local store behind a wrapper, standing for any other layer.
    #[derive(Clone)]
    struct Tagged(LocalBackend);
    impl DaBackend for Tagged {
        async fn put(&self, data: Bytes) -> temporis_da_adapters::Result<Commitment> {
            let Commitment::Keccak(h) = self.0.put(data).await? else { unreachable!() };
            Ok(Commitment::Generic { da_layer: 0xe1, payload: Bytes::copy_from_slice(h.as_slice()) })
        }
        async fn get(&self, c: &Commitment) -> temporis_da_adapters::Result<Bytes> {
            match c {
                Commitment::Generic { da_layer: 0xe1, payload } if payload.len() == 32 => {
                    self.0.get(&Commitment::Keccak(alloy_primitives::B256::from_slice(payload))).await
                }
                other => Err(DaError::UnsupportedCommitment { backend: "tagged", commitment: other.clone() }),
            }
        }
    }
    let base = std::env::temp_dir().join(format!("temporis-da-replica-mixed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let local = LocalBackend::open(base.join("a"), 1 << 20).unwrap();
    let tagged = Tagged(LocalBackend::open(base.join("b"), 1 << 20).unwrap());
    let rep = ReplicatedBackend::new(vec![
        ("local".into(), AnyBackend::new(local.clone())),
        ("tagged".into(), AnyBackend::new(tagged.clone())),
    ])
    .unwrap();
    let data = Bytes::from_static(b"mixed layers");
    let c = rep.put(data.clone()).await.unwrap();
    let Commitment::Generic { da_layer: DA_LAYER_REPLICATED, payload } = &c else { panic!("{c:?}") };
    let inner = decode_replicated(payload).unwrap();
    assert_eq!(inner.len(), 2);
    assert_eq!(inner[0], Commitment::keccak(&data));
    assert_eq!(rep.get(&c).await.unwrap(), data);

    // A reader that has only the second layer finds the data through the same commitment.
    let only_tagged = ReplicatedBackend::new(vec![("tagged".into(), AnyBackend::new(tagged))]).unwrap();
    assert_eq!(only_tagged.get(&c).await.unwrap(), data);
    // And one that has neither says the commitment is not its kind.
    let other = LocalBackend::open(base.join("c"), 1 << 20).unwrap();
    let neither = ReplicatedBackend::new(vec![("other".into(), AnyBackend::new(other))]).unwrap();
    assert!(matches!(neither.get(&inner[1]).await, Err(DaError::UnsupportedCommitment { .. })));
    let _ = std::fs::remove_dir_all(&base);
}
