//! The local backend: a content-addressed directory of files, the devnet's embedded default.
//!
//! Layout: `<dir>/blobs/<first byte as hex>/<keccak256 as hex>`, written atomically (a temp file
//! in `<dir>/tmp`, fsync, rename into place, fsync of the directory), so a crash leaves either
//! the whole blob or nothing under its name. Identical data is stored once (the name is its
//! hash). Every read is hashed again before it is returned: a flipped bit on disk is an error,
//! never wrong data. A blob given as a stream ([`DaBackend::put_stream`], what the server does
//! with a request body) is written and hashed as it arrives, never held in memory whole.

use crate::{BlobStream, DaBackend, DaError, Result};
use alloy_primitives::{B256, Bytes, keccak256};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use temporis_protocol::commitment::Commitment;
use tracing::debug;

/// Default upper bound on one blob: 16 MiB.
pub const DEFAULT_MAX_BLOB_SIZE: usize = 16 * 1024 * 1024;

/// Content-addressed blob store in a local directory.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    blobs: PathBuf,
    tmp: PathBuf,
    max_blob_size: usize,
    tmp_counter: AtomicU64,
}

impl LocalBackend {
    /// Opens (creating if needed) a store in `dir` that accepts blobs up to `max_blob_size` bytes.
    /// Temporary files left by a crash are removed.
    pub fn open(dir: impl AsRef<Path>, max_blob_size: usize) -> Result<Self> {
        let dir = dir.as_ref();
        let blobs = dir.join("blobs");
        let tmp = dir.join("tmp");
        for d in [&blobs, &tmp] {
            fs::create_dir_all(d).map_err(|source| DaError::Io {
                op: "creating",
                path: d.clone(),
                source,
            })?;
        }
        // A temp file is only ever renamed into place whole, so leftovers are garbage.
        let entries =
            fs::read_dir(&tmp).map_err(|source| DaError::Io { op: "listing", path: tmp.clone(), source })?;
        for entry in entries.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        Ok(Self { inner: Arc::new(Inner { blobs, tmp, max_blob_size, tmp_counter: AtomicU64::new(0) }) })
    }

    /// Largest blob accepted, in bytes.
    pub fn max_blob_size(&self) -> usize {
        self.inner.max_blob_size
    }

    /// Where the blob with this hash lives.
    pub fn blob_path(&self, hash: &B256) -> PathBuf {
        self.inner.blob_path(hash)
    }

    /// Stores `data` synchronously (what [`DaBackend::put`] runs on a blocking thread).
    pub fn put_blocking(&self, data: &[u8]) -> Result<Commitment> {
        self.inner.put(data)
    }

    /// Reads and verifies a blob synchronously (what [`DaBackend::get`] runs on a blocking thread).
    pub fn get_blocking(&self, commitment: &Commitment) -> Result<Bytes> {
        self.inner.get(commitment)
    }
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DaError + 'a {
    move |source| DaError::Io { op, path: path.to_path_buf(), source }
}

impl Inner {
    fn blob_path(&self, hash: &B256) -> PathBuf {
        let hex = alloy_primitives::hex::encode(hash);
        self.blobs.join(&hex[..2]).join(hex)
    }

    fn put(&self, data: &[u8]) -> Result<Commitment> {
        if data.len() > self.max_blob_size {
            return Err(DaError::TooLarge { size: data.len(), limit: self.max_blob_size });
        }
        let hash = keccak256(data);
        let path = self.blob_path(&hash);
        if path.exists() {
            debug!(target: "da::local", %hash, "blob already stored");
            return Ok(Commitment::Keccak(hash));
        }
        let tmp = self.tmp_path();
        {
            let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
            f.write_all(data).map_err(io("writing", &tmp))?;
            f.sync_all().map_err(io("syncing", &tmp))?;
        }
        self.install(&tmp, hash, data.len())
    }

    /// A fresh name in the temp directory.
    fn tmp_path(&self) -> PathBuf {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{}.{n}", std::process::id()))
    }

    /// Moves a complete, synced temp file holding the blob `hash` to its place.
    fn install(&self, tmp: &Path, hash: B256, size: usize) -> Result<Commitment> {
        let path = self.blob_path(&hash);
        let shard = path.parent().expect("blob paths have a shard directory");
        fs::create_dir_all(shard).map_err(io("creating", shard))?;
        // Two writers of the same blob race harmlessly: both files hold the same bytes.
        fs::rename(tmp, &path).map_err(io("renaming into", &path))?;
        // Persist the rename itself.
        File::open(shard).and_then(|d| d.sync_all()).map_err(io("syncing", shard))?;
        debug!(target: "da::local", %hash, size, "blob stored");
        Ok(Commitment::Keccak(hash))
    }

    /// Writes `body` to a temp file as it arrives, hashing it on the way, then installs it: the
    /// blob is never held in memory whole.
    async fn put_stream(self: Arc<Self>, mut body: BlobStream, limit: usize) -> Result<Commitment> {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let limit = limit.min(self.max_blob_size);
        let tmp = self.tmp_path();
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io("creating", &tmp))?;
        let mut hasher = alloy_primitives::Keccak256::new();
        let mut size = 0usize;
        let written: Result<()> = async {
            while let Some(piece) = body.next().await {
                let piece = piece.map_err(io("reading the body for", &tmp))?;
                size += piece.len();
                if size > limit {
                    return Err(DaError::TooLarge { size, limit });
                }
                hasher.update(&piece);
                file.write_all(&piece).await.map_err(io("writing", &tmp))?;
            }
            file.sync_all().await.map_err(io("syncing", &tmp))
        }
        .await;
        drop(file);
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        let hash = hasher.finalize();
        tokio::task::spawn_blocking(move || {
            if self.blob_path(&hash).exists() {
                let _ = fs::remove_file(&tmp);
                debug!(target: "da::local", %hash, "blob already stored");
                return Ok(Commitment::Keccak(hash));
            }
            self.install(&tmp, hash, size)
        })
        .await
        .map_err(|e| DaError::Task(e.to_string()))?
    }

    fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let Commitment::Keccak(hash) = commitment else {
            return Err(DaError::UnsupportedCommitment { backend: "local", commitment: commitment.clone() });
        };
        let path = self.blob_path(hash);
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DaError::NotFound(commitment.clone()));
            }
            Err(source) => return Err(DaError::Io { op: "reading", path, source }),
        };
        if keccak256(&data) != *hash {
            return Err(DaError::CommitmentMismatch { commitment: commitment.clone() });
        }
        Ok(data.into())
    }
}

impl DaBackend for LocalBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.put(&data))
            .await
            .map_err(|e| DaError::Task(e.to_string()))?
    }

    async fn put_stream(&self, body: BlobStream, limit: usize) -> Result<Commitment> {
        Arc::clone(&self.inner).put_stream(body, limit).await
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let inner = Arc::clone(&self.inner);
        let commitment = commitment.clone();
        tokio::task::spawn_blocking(move || inner.get(&commitment))
            .await
            .map_err(|e| DaError::Task(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("temporis-da-local-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn round_trip_dedup_and_restart() {
        let dir = temp_dir("roundtrip");
        let store = LocalBackend::open(&dir, DEFAULT_MAX_BLOB_SIZE).unwrap();
        let data = Bytes::from(vec![7u8; 100_000]);
        let c = store.put(data.clone()).await.unwrap();
        assert_eq!(c, Commitment::keccak(&data));
        assert_eq!(store.get(&c).await.unwrap(), data);

        // Deduplicated: the same data is one file, and putting it again changes nothing.
        assert_eq!(store.put(data.clone()).await.unwrap(), c);
        let shard = store.blob_path(&keccak256(&data)).parent().unwrap().to_path_buf();
        assert_eq!(fs::read_dir(&shard).unwrap().count(), 1);

        // A reopened store (a restart) serves what was stored.
        drop(store);
        let store = LocalBackend::open(&dir, DEFAULT_MAX_BLOB_SIZE).unwrap();
        assert_eq!(store.get(&c).await.unwrap(), data);
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn corruption_missing_oversize_and_foreign_commitments_are_errors() {
        let dir = temp_dir("errors");
        let store = LocalBackend::open(&dir, 1024).unwrap();
        let c = store.put(Bytes::from_static(b"batch")).await.unwrap();

        // Flip one byte on disk: the read is refused, not served.
        let Commitment::Keccak(hash) = c else { unreachable!("local store returns keccak commitments") };
        let path = store.blob_path(&hash);
        let mut bytes = fs::read(&path).unwrap();
        bytes[0] ^= 1;
        fs::write(&path, bytes).unwrap();
        assert!(matches!(store.get(&c).await, Err(DaError::CommitmentMismatch { .. })));

        assert!(matches!(store.get(&Commitment::keccak(b"never stored")).await, Err(DaError::NotFound(_))));
        assert!(matches!(
            store.put(Bytes::from(vec![0u8; 1025])).await,
            Err(DaError::TooLarge { size: 1025, limit: 1024 })
        ));
        let generic = Commitment::Generic { da_layer: 0x6e, payload: Bytes::from_static(&[1; 32]) };
        assert!(matches!(store.get(&generic).await, Err(DaError::UnsupportedCommitment { .. })));
        let _ = fs::remove_dir_all(&dir);
    }

    fn pieces(data: &[u8], piece: usize) -> BlobStream {
        let v: Vec<std::io::Result<Bytes>> =
            data.chunks(piece.max(1)).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        Box::pin(futures_util::stream::iter(v))
    }

    #[tokio::test]
    async fn streamed_puts_match_whole_puts_and_stop_at_the_limit() {
        let dir = temp_dir("stream");
        let store = LocalBackend::open(&dir, 64 * 1024).unwrap();
        let data: Vec<u8> = (0..50_000u32).map(|i| (i * 7) as u8).collect();
        let c = store.put_stream(pieces(&data, 4096), 64 * 1024).await.unwrap();
        assert_eq!(c, Commitment::keccak(&data));
        assert_eq!(store.get(&c).await.unwrap().to_vec(), data);
        // The same blob again, cut differently, dedups to the same file.
        assert_eq!(store.put_stream(pieces(&data, 333), 64 * 1024).await.unwrap(), c);
        // An empty stream is the empty blob.
        assert_eq!(store.put_stream(pieces(&[], 1), 10).await.unwrap(), Commitment::keccak(&[]));
        // Past the limit the put stops, and leaves nothing behind.
        let big = vec![1u8; 10_000];
        assert!(matches!(
            store.put_stream(pieces(&big, 1000), 5000).await,
            Err(DaError::TooLarge { size: 6000, limit: 5000 })
        ));
        assert!(matches!(store.get(&Commitment::keccak(&big)).await, Err(DaError::NotFound(_))));
        // A body that fails midway stores nothing either.
        let broken: BlobStream = Box::pin(futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"half a blob")),
            Err(std::io::Error::other("connection reset")),
        ]));
        assert!(matches!(store.put_stream(broken, 1000).await, Err(DaError::Io { .. })));
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_puts_and_gets() {
        let dir = temp_dir("parallel");
        let store = LocalBackend::open(&dir, DEFAULT_MAX_BLOB_SIZE).unwrap();
        let mut tasks = Vec::new();
        for i in 0..64u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // Half the tasks write the same blob, to race the dedup path.
                let data = Bytes::from(if i % 2 == 0 { i.to_be_bytes().repeat(1000) } else { vec![9; 4000] });
                let c = store.put(data.clone()).await.unwrap();
                assert_eq!(store.get(&c).await.unwrap(), data);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // No temp file is left behind.
        assert_eq!(fs::read_dir(dir.join("tmp")).unwrap().count(), 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
