//! The node-side model store behind the publishing and inference precompiles.
//!
//! Consensus state about publications (what was announced, which chunks arrived, the verdict)
//! lives in the `ModelRegistry` predeploy's storage. The bytes do not: [`ModelStore`] keeps them,
//! keyed by keccak256, filled by `STORE_CHUNK` from transaction calldata, so it is a pure
//! function of chain history that every replayer rebuilds. Next to the chunks it keeps one
//! [`PublicationRecord`] per content id that `VERIFY` accepted (how to reassemble it) and, in
//! memory only, the loaded [`Model`]s and [`Adapter`]s, so inference does not parse files per
//! call.
//!
//! Soundness does not rest on the store holding *only* what the chain committed: a chunk or a
//! record written by a transaction that later reverted (or by an `eth_call`) stays, harmlessly,
//! because the precompiles look up only what the registry's state names (chunk hashes of an
//! announced manifest, content ids the registry marked Verified), and a content id fixes its
//! bytes.
//!
//! With a directory ([`ModelStore::open`]) the store persists: `chunks/<hex hash>` and
//! `verified/<hex id>.json`, each written to a temporary file and renamed into place, so a crash
//! leaves either the whole file or none; on reopening, chunks are re-hashed when read. Without
//! one ([`ModelStore::in_memory`]) it lives as long as the process and is rebuilt by replay.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use alloy_primitives::{B256, Bytes, hex, keccak256};
use serde::{Deserialize, Serialize};

use super::model_info::{ModelDirectory, ModelSummary};
use crate::model::{
    ADAPTER_CONFIG_FILE, Adapter, AdapterFiles, CONFIG_FILE, Model, ModelError, ModelFiles, verify,
};
use crate::pack::PackKind;

/// Sub-directory of a store directory holding the chunks.
pub const CHUNKS_DIR: &str = "chunks";
/// Sub-directory of a store directory holding the records of verified publications.
pub const VERIFIED_DIR: &str = "verified";

/// How to reassemble a verified model or adapter from the chunk store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationRecord {
    /// Model or adapter.
    pub kind: PackKind,
    /// The base model of an adapter; zero for a model.
    pub parent: B256,
    /// How many leading chunks form the config file.
    pub config_chunks: u32,
    /// The chunk hashes, in order.
    pub chunks: Vec<B256>,
    /// Total size of the files.
    pub size_bytes: u64,
}

/// Why `VERIFY` rejected a publication: a stable code (recorded in the registry's state) and a
/// description (emitted in its `Rejected` event).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rejected ({code}): {detail}")]
pub struct Rejection {
    /// One of the `REJECT_*` codes.
    pub code: u16,
    /// What was wrong.
    pub detail: String,
}

/// The manifest itself is inconsistent (kind, parent, split of chunks between the files).
pub const REJECT_MANIFEST: u16 = 1;
/// A chunk the manifest lists is not in the store (cannot happen through the registry, which
/// stores every chunk before verification).
pub const REJECT_MISSING_CHUNK: u16 = 2;
/// The reassembled files do not have the declared content id.
pub const REJECT_ID_MISMATCH: u16 = 3;
/// The config file does not parse or is not a valid config.
pub const REJECT_CONFIG: u16 = 4;
/// The weights file does not parse, lacks a tensor, has an extra one or a wrong dtype.
pub const REJECT_WEIGHTS: u16 = 5;
/// A tensor's shape does not agree with the config.
pub const REJECT_SHAPE: u16 = 6;
/// No test vector is declared.
pub const REJECT_NO_TEST_VECTOR: u16 = 7;
/// A declared test vector does not reproduce its declared output.
pub const REJECT_TEST_VECTOR: u16 = 8;
/// An adapter targets a layer its base model does not have.
pub const REJECT_UNKNOWN_TARGET: u16 = 9;
/// An adapter declares another base model than its publication's parent, or the parent is not
/// a verified model.
pub const REJECT_BASE_MISMATCH: u16 = 10;

/// The rejection code of a model-format error.
pub fn rejection_code(e: &ModelError) -> u16 {
    match e {
        ModelError::ConfigJson { .. }
        | ModelError::UnsupportedFormatVersion { .. }
        | ModelError::NoLayers
        | ModelError::InvalidLayerName(_)
        | ModelError::DuplicateLayerName(_)
        | ModelError::Dimension { .. }
        | ModelError::LayerChain { .. }
        | ModelError::Requant { .. }
        | ModelError::NotLora(_)
        | ModelError::UnsupportedPeftOption { .. }
        | ModelError::InvalidTargetModules
        | ModelError::TargetQuantMismatch(_)
        | ModelError::TooLarge { .. }
        | ModelError::Io { .. } => REJECT_CONFIG,
        ModelError::Safetensors { .. }
        | ModelError::MissingTensor { .. }
        | ModelError::UnexpectedTensor { .. }
        | ModelError::TensorDtype { .. } => REJECT_WEIGHTS,
        ModelError::TensorShape { .. } | ModelError::InputLength { .. } | ModelError::Kernel(_) => {
            REJECT_SHAPE
        }
        ModelError::NoTestVector { .. } => REJECT_NO_TEST_VECTOR,
        ModelError::TestVectorMismatch { .. } | ModelError::TestVectorLength { .. } => REJECT_TEST_VECTOR,
        ModelError::UnknownTarget(_) => REJECT_UNKNOWN_TARGET,
        ModelError::BaseModelMismatch { .. } => REJECT_BASE_MISMATCH,
    }
}

fn reject(code: u16, detail: impl Into<String>) -> Rejection {
    Rejection { code, detail: detail.into() }
}

impl From<ModelError> for Rejection {
    fn from(e: ModelError) -> Self {
        reject(rejection_code(&e), e.to_string())
    }
}

/// A publication as `VERIFY` receives it from the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    /// The declared content id.
    pub content_id: B256,
    /// Model or adapter.
    pub kind: PackKind,
    /// The base model of an adapter; zero for a model.
    pub parent: B256,
    /// How many leading chunks form the config file.
    pub config_chunks: u32,
    /// The chunk hashes, in order.
    pub chunks: Vec<B256>,
}

/// A publication's files, reassembled and checked, ready to be run.
#[derive(Clone, Debug)]
pub enum Loaded {
    /// A model.
    Model(Arc<Model>),
    /// An adapter and the base it was checked against.
    Adapter(Arc<Adapter>, Arc<Model>),
}

impl Loaded {
    /// What `VERIFY` charges for running the test vectors: their count and the MACs of each.
    pub fn test_vector_work(&self) -> (usize, u64) {
        match self {
            Self::Model(m) => (m.config().test_vectors.len(), crate::engine::macs(m, None)),
            Self::Adapter(a, m) => (a.config().temporis.test_vectors.len(), crate::engine::macs(m, Some(a))),
        }
    }

    /// Runs the declared test vectors through the integer engine.
    pub fn check_test_vectors(&self) -> Result<(), Rejection> {
        match self {
            Self::Model(m) => verify::check_test_vectors(m, None, &m.config().test_vectors, CONFIG_FILE)?,
            Self::Adapter(a, m) => verify::check_test_vectors(
                m,
                Some(a),
                &a.config().temporis.test_vectors,
                ADAPTER_CONFIG_FILE,
            )?,
        };
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Chunks held in memory (all of them without a directory; none with one).
    chunks: HashMap<B256, Bytes>,
    records: HashMap<B256, PublicationRecord>,
    models: HashMap<B256, Arc<Model>>,
    adapters: HashMap<B256, Arc<Adapter>>,
}

/// Errors of the store itself (the disk), as opposed to rejections of what it holds.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file of the store could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A record file does not parse.
    #[error("{}: {source}", path.display())]
    Record {
        /// The path.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
}

/// The content-addressed store of chunks and verified publications (see the module doc).
#[derive(Debug)]
pub struct ModelStore {
    dir: Option<PathBuf>,
    inner: RwLock<Inner>,
    /// Files written since the last [`ModelStore::sync`].
    unsynced: std::sync::Mutex<Vec<PathBuf>>,
}

impl ModelStore {
    /// A store that lives in memory only.
    pub fn in_memory() -> Self {
        Self { dir: None, inner: RwLock::new(Inner::default()), unsynced: Default::default() }
    }

    /// A store persisted in `dir` (created if needed); records already there are loaded.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        for sub in [CHUNKS_DIR, VERIFIED_DIR] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(io(&p))?;
        }
        let mut inner = Inner::default();
        let vdir = dir.join(VERIFIED_DIR);
        for entry in std::fs::read_dir(&vdir).map_err(io(&vdir))? {
            let path = entry.map_err(io(&vdir))?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|h| h.parse::<B256>().ok())
            else {
                continue; // a temporary file of an interrupted write, or a stranger
            };
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let record =
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Record { path, source })?;
            inner.records.insert(id, record);
        }
        tracing::debug!(target: "aivm::store", dir = %dir.display(), verified = inner.records.len(), "opened model store");
        Ok(Self { dir: Some(dir.to_owned()), inner: RwLock::new(inner), unsynced: Default::default() })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, then rename.
    /// Not synced here (a sync per chunk would cost more than STORE_CHUNK's gas pays for): the
    /// path is remembered for the next [`ModelStore::sync`], which the node calls before it
    /// commits the block that wrote it.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let tmp =
            path.with_extension(format!("tmp.{}.{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&tmp, bytes).map_err(|source| StoreError::Io { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, path).map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_owned());
        Ok(())
    }

    /// Makes every file written since the last call durable (fsync of each file and of the
    /// store's directories), so that a block committed after it never refers to chunks or
    /// verdicts a power loss could take back. A no-op for an in-memory store.
    pub fn sync(&self) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let paths = std::mem::take(&mut *self.unsynced.lock().unwrap_or_else(|e| e.into_inner()));
        if paths.is_empty() {
            return Ok(());
        }
        let sync = |p: &Path| {
            std::fs::File::open(p)
                .and_then(|f| f.sync_all())
                .map_err(|source| StoreError::Io { path: p.to_owned(), source })
        };
        for p in &paths {
            sync(p)?;
        }
        for sub in [CHUNKS_DIR, VERIFIED_DIR] {
            sync(&dir.join(sub))?;
        }
        Ok(())
    }

    /// Stores the files of a publication (`[config, weights]`) cut into chunks of
    /// `chunk_size` bytes, as their uploads would; returns the chunk hashes in order and how many
    /// of them are the config's — the `chunkHashes` and `configChunks` of its announcement.
    pub fn put_files(&self, files: [&[u8]; 2], chunk_size: usize) -> Result<(Vec<B256>, u32), StoreError> {
        let mut hashes = Vec::new();
        let mut config_chunks = 0;
        for (i, file) in files.iter().enumerate() {
            for c in file.chunks(chunk_size.max(1)) {
                hashes.push(self.put_chunk(c)?);
                config_chunks += u32::from(i == 0);
            }
        }
        Ok((hashes, config_chunks))
    }

    /// Stores a chunk under its keccak256 and returns the hash. Idempotent.
    pub fn put_chunk(&self, data: &[u8]) -> Result<B256, StoreError> {
        let hash = keccak256(data);
        match &self.dir {
            Some(dir) => {
                let path = dir.join(CHUNKS_DIR).join(hex::encode(hash));
                if !path.is_file() {
                    self.write_atomic(&path, data)?;
                }
            }
            None => {
                self.write().chunks.entry(hash).or_insert_with(|| Bytes::copy_from_slice(data));
            }
        }
        Ok(hash)
    }

    /// The chunk stored under `hash`, if any (re-hashed when read from disk).
    pub fn chunk(&self, hash: &B256) -> Option<Bytes> {
        match &self.dir {
            Some(dir) => {
                let bytes = std::fs::read(dir.join(CHUNKS_DIR).join(hex::encode(hash))).ok()?;
                if keccak256(&bytes) != *hash {
                    tracing::warn!(target: "aivm::store", %hash, "corrupt chunk on disk ignored");
                    return None;
                }
                Some(bytes.into())
            }
            None => self.read().chunks.get(hash).cloned(),
        }
    }

    /// The record of a verified publication.
    pub fn record(&self, id: &B256) -> Option<PublicationRecord> {
        self.read().records.get(id).cloned()
    }

    /// Reassembles `[config, weights]` from chunks; `Err` names the first missing chunk.
    fn assemble(&self, config_chunks: u32, chunks: &[B256]) -> Result<[Vec<u8>; 2], Rejection> {
        let mut files = [Vec::new(), Vec::new()];
        for (i, h) in chunks.iter().enumerate() {
            let bytes = self.chunk(h).ok_or_else(|| {
                reject(REJECT_MISSING_CHUNK, format!("chunk {i} ({h}) is not in the store"))
            })?;
            files[usize::from(i >= config_chunks as usize)].extend_from_slice(&bytes);
        }
        Ok(files)
    }

    /// Total size of the chunks of `p` (for gas), or the rejection if one is missing or the
    /// manifest is inconsistent.
    pub fn publication_size(&self, p: &Publication) -> Result<u64, Rejection> {
        if p.config_chunks == 0 || p.config_chunks as usize >= p.chunks.len() {
            return Err(reject(REJECT_MANIFEST, "config and weights need at least one chunk each"));
        }
        let mut size = 0u64;
        for (i, h) in p.chunks.iter().enumerate() {
            let c = self.chunk(h).ok_or_else(|| {
                reject(REJECT_MISSING_CHUNK, format!("chunk {i} ({h}) is not in the store"))
            })?;
            size += c.len() as u64;
        }
        Ok(size)
    }

    /// Reassembles `p` and checks everything but the test vectors: content id, config, tensors
    /// and shapes, and for an adapter that its parent is a verified model it was made for.
    pub fn load_publication(&self, p: &Publication) -> Result<Loaded, Rejection> {
        let size = self.publication_size(p)?;
        let [config, weights] = self.assemble(p.config_chunks, &p.chunks)?;
        debug_assert_eq!(size, (config.len() + weights.len()) as u64);
        match p.kind {
            PackKind::Model => {
                if !p.parent.is_zero() {
                    return Err(reject(REJECT_MANIFEST, "a model has no parent"));
                }
                let files = ModelFiles { config, weights };
                let found = files.id();
                if found != p.content_id {
                    return Err(reject(
                        REJECT_ID_MISMATCH,
                        format!("files have model id {found}, declared {}", p.content_id),
                    ));
                }
                Ok(Loaded::Model(Arc::new(Model::from_files(&files)?)))
            }
            PackKind::Adapter => {
                let files = AdapterFiles { config, weights };
                let found = files.id();
                if found != p.content_id {
                    return Err(reject(
                        REJECT_ID_MISMATCH,
                        format!("files have adapter id {found}, declared {}", p.content_id),
                    ));
                }
                let base = self.model(&p.parent).ok_or_else(|| {
                    reject(REJECT_BASE_MISMATCH, format!("parent {} is not a verified model", p.parent))
                })?;
                let adapter = Adapter::from_files(&files, &base)?;
                Ok(Loaded::Adapter(Arc::new(adapter), base))
            }
        }
    }

    /// Records a publication that passed verification (and keeps its loaded form).
    pub fn insert_verified(&self, p: &Publication, loaded: Loaded) -> Result<(), StoreError> {
        let size_bytes = p.chunks.iter().filter_map(|h| self.chunk(h)).map(|c| c.len() as u64).sum();
        let record = PublicationRecord {
            kind: p.kind,
            parent: p.parent,
            config_chunks: p.config_chunks,
            chunks: p.chunks.clone(),
            size_bytes,
        };
        if let Some(dir) = &self.dir {
            let path = dir.join(VERIFIED_DIR).join(format!("{}.json", hex::encode(p.content_id)));
            if !path.is_file() {
                self.write_atomic(&path, &serde_json::to_vec(&record).expect("a record serializes"))?;
            }
        }
        let mut inner = self.write();
        inner.records.entry(p.content_id).or_insert(record);
        match loaded {
            Loaded::Model(m) => {
                inner.models.insert(p.content_id, m);
            }
            Loaded::Adapter(a, _) => {
                inner.adapters.insert(p.content_id, a);
            }
        }
        Ok(())
    }

    fn publication_of(id: B256, r: PublicationRecord) -> Publication {
        Publication {
            content_id: id,
            kind: r.kind,
            parent: r.parent,
            config_chunks: r.config_chunks,
            chunks: r.chunks,
        }
    }

    /// The verified model `id`, loaded (from the cache, or reassembled from the chunks).
    pub fn model(&self, id: &B256) -> Option<Arc<Model>> {
        if let Some(m) = self.read().models.get(id) {
            return Some(m.clone());
        }
        let record = self.record(id).filter(|r| r.kind == PackKind::Model)?;
        match self.load_publication(&Self::publication_of(*id, record)) {
            Ok(Loaded::Model(m)) => {
                self.write().models.insert(*id, m.clone());
                Some(m)
            }
            Ok(Loaded::Adapter(..)) => None,
            Err(e) => {
                tracing::warn!(target: "aivm::store", %id, %e, "verified model does not reload");
                None
            }
        }
    }

    /// The verified adapter `id` and its base model, loaded.
    pub fn adapter(&self, id: &B256) -> Option<(Arc<Adapter>, Arc<Model>)> {
        let record = self.record(id).filter(|r| r.kind == PackKind::Adapter)?;
        let base = self.model(&record.parent)?;
        if let Some(a) = self.read().adapters.get(id) {
            return Some((a.clone(), base));
        }
        match self.load_publication(&Self::publication_of(*id, record)) {
            Ok(Loaded::Adapter(a, base)) => {
                self.write().adapters.insert(*id, a.clone());
                Some((a, base))
            }
            Ok(Loaded::Model(_)) => None,
            Err(e) => {
                tracing::warn!(target: "aivm::store", %id, %e, "verified adapter does not reload");
                None
            }
        }
    }
}

impl ModelDirectory for ModelStore {
    /// A verified model or adapter (an adapter's shapes are its base's, its MACs with it applied).
    fn model(&self, id: &B256) -> Option<ModelSummary> {
        let r = self.record(id)?;
        let (model, adapter) = match r.kind {
            PackKind::Model => (self.model(id)?, None),
            PackKind::Adapter => {
                let (a, m) = self.adapter(id)?;
                (m, Some(a))
            }
        };
        let last = model.config().layers.last().map(|crate::model::LayerConfig::Linear(l)| l.out_features);
        Some(ModelSummary {
            size_bytes: r.size_bytes,
            chunk_count: r.chunks.len() as u32,
            input_features: model.input_features() as u32,
            output_features: last.unwrap_or(0) as u32,
            layers: model.config().layers.len() as u32,
            macs: crate::engine::macs(&model, adapter.as_deref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_content_addressed_idempotent_and_persist() {
        let dir = std::env::temp_dir().join(format!("aivm-store-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = ModelStore::open(&dir).unwrap();
        let h = store.put_chunk(b"hello").unwrap();
        assert_eq!(h, keccak256(b"hello"));
        assert_eq!(store.put_chunk(b"hello").unwrap(), h);
        assert_eq!(store.chunk(&h).unwrap().as_ref(), b"hello");
        assert!(store.chunk(&keccak256(b"other")).is_none());
        drop(store);
        let reopened = ModelStore::open(&dir).unwrap();
        assert_eq!(reopened.chunk(&h).unwrap().as_ref(), b"hello");
        // A chunk corrupted on disk is not served.
        std::fs::write(dir.join(CHUNKS_DIR).join(hex::encode(h)), b"hellO").unwrap();
        assert!(reopened.chunk(&h).is_none());
        let _ = std::fs::remove_dir_all(&dir);

        let mem = ModelStore::in_memory();
        assert_eq!(mem.put_chunk(b"x").unwrap(), keccak256(b"x"));
        assert_eq!(mem.chunk(&keccak256(b"x")).unwrap().as_ref(), b"x");
        assert!(mem.sync().is_ok());
    }

    #[test]
    fn sync_makes_the_writes_since_the_last_sync_durable_once() {
        let dir = std::env::temp_dir().join(format!("aivm-store-sync-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = ModelStore::open(&dir).unwrap();
        store.put_chunk(b"a").unwrap();
        store.put_chunk(b"b").unwrap();
        // An idempotent put of a chunk already on disk writes nothing new.
        store.put_chunk(b"a").unwrap();
        assert_eq!(store.unsynced.lock().unwrap().len(), 2);
        store.sync().unwrap();
        assert!(store.unsynced.lock().unwrap().is_empty());
        // A file that vanished before its sync is an error naming it, not a silent success.
        store.put_chunk(b"c").unwrap();
        let c = dir.join(CHUNKS_DIR).join(hex::encode(keccak256(b"c")));
        std::fs::remove_file(&c).unwrap();
        match store.sync() {
            Err(StoreError::Io { path, .. }) => assert_eq!(path, c),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
