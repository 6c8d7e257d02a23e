//! Packing models and adapters for publication: content-addressed chunks and a manifest.
//!
//! A model (or adapter) directory is cut into chunks of at most `chunk_size` bytes, file by
//! file, in a fixed order (`config.json`, `model.safetensors`; or `adapter_config.json`,
//! `adapter_model.safetensors`). Each chunk is named by its keccak256 and stored as
//! `chunks/<64 hex digits>`; equal chunks are stored once. The manifest (`manifest.json`)
//! lists, per file, its size, its keccak256 and its chunks in order, and carries the content id
//! ([`crate::model::model_id`] or [`crate::model::AdapterFiles::id`]), which does not depend on
//! the chunk size. `docs/aivm-model-format.md` documents the manifest.
//!
//! [`unpack`] is the inverse and trusts nothing: each chunk, each file and the id are checked.

use crate::model::{
    ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, AdapterConfig, AdapterFiles, CONFIG_FILE, Model, ModelError,
    ModelFiles, WEIGHTS_FILE, verify,
};
use alloy_primitives::{B256, hex, keccak256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` of manifests this build writes and reads.
pub const MANIFEST_FORMAT: &str = "temporis-aivm-pack/1";
/// File name of the manifest in a pack directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Sub-directory of a pack directory holding the chunks.
pub const CHUNKS_DIR: &str = "chunks";
/// Default chunk size: 24 KiB, so that one chunk with its transaction overhead stays well below
/// the 128 KiB transaction size that Ethereum-style mempools accept.
pub const DEFAULT_CHUNK_SIZE: usize = 24 * 1024;
/// Largest chunk size accepted.
pub const MAX_CHUNK_SIZE: usize = 120 * 1024;

/// What a pack holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackKind {
    /// A base model.
    Model,
    /// A LoRA adapter.
    Adapter,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Model or adapter.
    pub kind: PackKind,
    /// The content id of the files.
    pub id: B256,
    /// Largest chunk size used.
    pub chunk_size: usize,
    /// The files, in their fixed order.
    pub files: Vec<FileEntry>,
}

/// One file of a pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name inside the model directory.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// keccak256 of the whole file.
    pub keccak256: B256,
    /// keccak256 of each chunk, in order; every chunk but the last has `chunk_size` bytes.
    pub chunks: Vec<B256>,
}

impl Manifest {
    /// All distinct chunk hashes, in first-use order.
    pub fn chunk_hashes(&self) -> Vec<B256> {
        let mut seen = std::collections::HashSet::new();
        self.files.iter().flat_map(|f| f.chunks.iter().copied()).filter(|h| seen.insert(*h)).collect()
    }
}

/// Errors of packing and unpacking.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The directory holds neither `config.json` nor `adapter_config.json`.
    #[error("{}: neither {CONFIG_FILE} nor {ADAPTER_CONFIG_FILE} found", .0.display())]
    NotAModelDir(PathBuf),
    /// The chunk size is 0 or above [`MAX_CHUNK_SIZE`].
    #[error("chunk size {0} must be in 1..={MAX_CHUNK_SIZE}")]
    ChunkSize(usize),
    /// The files are not a valid model or adapter.
    #[error(transparent)]
    Model(#[from] Box<ModelError>),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The manifest does not parse.
    #[error("{MANIFEST_FILE}: {0}")]
    ManifestJson(serde_json::Error),
    /// The manifest is of another format, or its file list is not the fixed one of its kind.
    #[error("{MANIFEST_FILE}: {0}")]
    ManifestInvalid(String),
    /// A chunk's bytes do not hash to its name.
    #[error("chunk {expected} hashes to {found}")]
    ChunkHash {
        /// The hash the manifest lists.
        expected: B256,
        /// The hash of the bytes found.
        found: B256,
    },
    /// A reassembled file does not have the manifest's size or hash.
    #[error("{name}: reassembled file does not match the manifest ({what})")]
    FileMismatch {
        /// The file.
        name: String,
        /// `size` or `keccak256`.
        what: &'static str,
    },
    /// The reassembled files do not have the manifest's id.
    #[error("files have id {found}, manifest says {expected}")]
    IdMismatch {
        /// The manifest's id.
        expected: B256,
        /// The id of the files.
        found: B256,
    },
}

impl From<ModelError> for PackError {
    fn from(e: ModelError) -> Self {
        Self::Model(Box::new(e))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackError + '_ {
    move |source| PackError::Io { path: path.to_owned(), source }
}

/// Path of a chunk in a chunk directory.
pub fn chunk_path(chunks_dir: &Path, hash: &B256) -> PathBuf {
    chunks_dir.join(hex::encode(hash))
}

const fn names(kind: PackKind) -> [&'static str; 2] {
    match kind {
        PackKind::Model => [CONFIG_FILE, WEIGHTS_FILE],
        PackKind::Adapter => [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE],
    }
}

/// Packs the model or adapter in `dir` into `out` (`out/manifest.json`, `out/chunks/…`).
///
/// A model is verified in full first (test vectors included); an adapter is verified against
/// `base` when one is given, otherwise only its config is checked.
pub fn pack(dir: &Path, out: &Path, chunk_size: usize, base: Option<&Path>) -> Result<Manifest, PackError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(PackError::ChunkSize(chunk_size));
    }
    let (kind, files, id) = if dir.join(CONFIG_FILE).is_file() {
        let files = ModelFiles::read(dir)?;
        verify::verify_files(&files, None)?;
        let id = files.id();
        (PackKind::Model, [files.config, files.weights], id)
    } else if dir.join(ADAPTER_CONFIG_FILE).is_file() {
        let files = AdapterFiles::read(dir)?;
        match base {
            Some(b) => {
                verify::verify_files(&ModelFiles::read(b)?, Some(&files))?;
            }
            None => {
                AdapterConfig::from_json(&files.config)?;
            }
        }
        let id = files.id();
        (PackKind::Adapter, [files.config, files.weights], id)
    } else {
        return Err(PackError::NotAModelDir(dir.to_owned()));
    };
    let chunks_dir = out.join(CHUNKS_DIR);
    std::fs::create_dir_all(&chunks_dir).map_err(io(&chunks_dir))?;
    let mut entries = Vec::new();
    for (name, bytes) in names(kind).into_iter().zip(&files) {
        let mut chunks = Vec::new();
        for chunk in bytes.chunks(chunk_size) {
            let h = keccak256(chunk);
            let p = chunk_path(&chunks_dir, &h);
            if !p.is_file() {
                std::fs::write(&p, chunk).map_err(io(&p))?;
            }
            chunks.push(h);
        }
        entries.push(FileEntry {
            name: name.to_owned(),
            size: bytes.len() as u64,
            keccak256: keccak256(bytes),
            chunks,
        });
    }
    let manifest = Manifest { format: MANIFEST_FORMAT.to_owned(), kind, id, chunk_size, files: entries };
    tracing::debug!(target: "aivm::pack", %id, ?kind, chunks = manifest.chunk_hashes().len(), "packed");
    let mut json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    json.push(b'\n');
    let mp = out.join(MANIFEST_FILE);
    std::fs::write(&mp, json).map_err(io(&mp))?;
    Ok(manifest)
}

/// Reads and checks a manifest.
pub fn read_manifest(path: &Path) -> Result<Manifest, PackError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let m: Manifest = serde_json::from_slice(&bytes).map_err(PackError::ManifestJson)?;
    if m.format != MANIFEST_FORMAT {
        return Err(PackError::ManifestInvalid(format!("format {:?} is not {MANIFEST_FORMAT:?}", m.format)));
    }
    let want = names(m.kind);
    if m.files.len() != 2 || m.files.iter().zip(want).any(|(f, n)| f.name != n) {
        return Err(PackError::ManifestInvalid(format!("files must be {want:?} in this order")));
    }
    if m.chunk_size == 0 || m.chunk_size > MAX_CHUNK_SIZE {
        return Err(PackError::ChunkSize(m.chunk_size));
    }
    for f in &m.files {
        if f.size.div_ceil(m.chunk_size as u64) != f.chunks.len() as u64 {
            return Err(PackError::ManifestInvalid(format!(
                "{}: {} chunks for {} bytes",
                f.name,
                f.chunks.len(),
                f.size
            )));
        }
    }
    Ok(m)
}

/// Reassembles the files of `manifest` from `chunks_dir`, checking every chunk, every file and
/// the id, and returns them as `[config, weights]`.
pub fn reassemble(manifest: &Manifest, chunks_dir: &Path) -> Result<[Vec<u8>; 2], PackError> {
    let mut out: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (f, buf) in manifest.files.iter().zip(out.iter_mut()) {
        for h in &f.chunks {
            let p = chunk_path(chunks_dir, h);
            let bytes = std::fs::read(&p).map_err(io(&p))?;
            let found = keccak256(&bytes);
            if found != *h {
                return Err(PackError::ChunkHash { expected: *h, found });
            }
            buf.extend_from_slice(&bytes);
        }
        if buf.len() as u64 != f.size {
            return Err(PackError::FileMismatch { name: f.name.clone(), what: "size" });
        }
        if keccak256(&buf[..]) != f.keccak256 {
            return Err(PackError::FileMismatch { name: f.name.clone(), what: "keccak256" });
        }
    }
    let [config, weights] = out;
    let found = match manifest.kind {
        PackKind::Model => crate::model::model_id(&config, &weights),
        PackKind::Adapter => AdapterFiles { config: config.clone(), weights: weights.clone() }.id(),
    };
    if found != manifest.id {
        tracing::debug!(target: "aivm::pack", expected = %manifest.id, %found, "reassembled files have another id");
        return Err(PackError::IdMismatch { expected: manifest.id, found });
    }
    Ok([config, weights])
}

/// Unpacks the pack directory `pack_dir` into `out` (the original two files), and returns the
/// manifest. A model is also loaded, to check it parses.
pub fn unpack(pack_dir: &Path, out: &Path) -> Result<Manifest, PackError> {
    let manifest = read_manifest(&pack_dir.join(MANIFEST_FILE))?;
    let [config, weights] = reassemble(&manifest, &pack_dir.join(CHUNKS_DIR))?;
    if manifest.kind == PackKind::Model {
        Model::from_files(&ModelFiles { config: config.clone(), weights: weights.clone() })?;
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    for (name, bytes) in names(manifest.kind).into_iter().zip([config, weights]) {
        let p = out.join(name);
        std::fs::write(&p, bytes).map_err(io(&p))?;
    }
    Ok(manifest)
}
