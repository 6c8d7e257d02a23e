//! Packing into content-addressed chunks and back.

use crate::aivm_support::{Lcg, TempDir, random_adapter, random_model};
use temporis_aivm::{
    Adapter, Model,
    model::{AdapterFiles, ModelFiles, verify::make_test_vector},
    pack::{self, CHUNKS_DIR, MANIFEST_FILE, PackError, PackKind, chunk_path, read_manifest},
};

fn model_dir(dir: &std::path::Path) -> (ModelFiles, AdapterFiles) {
    let base = random_model(&[300, 40, 10], 21);
    let mut config = base.config().clone();
    config.test_vectors = vec![make_test_vector(&base, None, &Lcg(22).i8s(300)).unwrap()];
    let files = ModelFiles::encode(&config, &base.weights());
    files.write(&dir.join("model")).unwrap();
    let base = Model::from_files(&files).unwrap();
    let (mut ac, aw) = random_adapter(&base, &["fc1"], 4, 23);
    let a = Adapter::from_parts(&ac, &aw, &base).unwrap();
    ac.temporis.test_vectors = vec![make_test_vector(&base, Some(&a), &Lcg(24).i8s(300)).unwrap()];
    let afiles = AdapterFiles::encode(&ac, &aw, &base).unwrap();
    afiles.write(&dir.join("adapter")).unwrap();
    (files, afiles)
}

#[test]
fn pack_unpack_roundtrip() {
    let t = TempDir::new("pack");
    let (files, afiles) = model_dir(t.path());
    let m = pack::pack(&t.path().join("model"), &t.path().join("p"), 1000, None).unwrap();
    assert_eq!(m.kind, PackKind::Model);
    assert_eq!(m.id, files.id());
    assert_eq!(m.files[1].size as usize, files.weights.len());
    assert_eq!(m.files[1].chunks.len(), files.weights.len().div_ceil(1000));
    // The id does not depend on the chunk size.
    let m2 = pack::pack(&t.path().join("model"), &t.path().join("p2"), 4096, None).unwrap();
    assert_eq!(m2.id, m.id);
    assert_ne!(m2.files, m.files);

    let back = pack::unpack(&t.path().join("p"), &t.path().join("u")).unwrap();
    assert_eq!(back, m);
    assert_eq!(ModelFiles::read(&t.path().join("u")).unwrap(), files);

    let am = pack::pack(&t.path().join("adapter"), &t.path().join("pa"), 500, Some(&t.path().join("model")))
        .unwrap();
    assert_eq!(am.kind, PackKind::Adapter);
    assert_eq!(am.id, afiles.id());
    pack::unpack(&t.path().join("pa"), &t.path().join("ua")).unwrap();
    assert_eq!(AdapterFiles::read(&t.path().join("ua")).unwrap(), afiles);
}

#[test]
fn equal_chunks_are_stored_once() {
    let t = TempDir::new("dedup");
    model_dir(t.path());
    let p = t.path().join("p");
    let m = pack::pack(&t.path().join("model"), &p, 1, None).unwrap();
    let stored = std::fs::read_dir(p.join(CHUNKS_DIR)).unwrap().count();
    // One-byte chunks: at most 256 distinct ones.
    assert!(stored <= 256);
    assert_eq!(stored, m.chunk_hashes().len());
}

#[test]
fn tampering_is_detected() {
    let t = TempDir::new("tamper");
    model_dir(t.path());
    let p = t.path().join("p");
    let m = pack::pack(&t.path().join("model"), &p, 1000, None).unwrap();

    // A chunk whose bytes changed.
    let c = chunk_path(&p.join(CHUNKS_DIR), &m.files[1].chunks[1]);
    let orig = std::fs::read(&c).unwrap();
    let mut bad = orig.clone();
    bad[0] ^= 0x80;
    std::fs::write(&c, &bad).unwrap();
    assert!(matches!(pack::unpack(&p, &t.path().join("u")), Err(PackError::ChunkHash { .. })));
    std::fs::write(&c, &orig).unwrap();

    // A missing chunk.
    std::fs::remove_file(&c).unwrap();
    assert!(matches!(pack::unpack(&p, &t.path().join("u")), Err(PackError::Io { .. })));
    std::fs::write(&c, &orig).unwrap();

    // A manifest with a wrong id, wrong file order, wrong format, inconsistent chunk count.
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join(MANIFEST_FILE)).unwrap()).unwrap();
        f(&mut v);
        let q = t.path().join("q");
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join(MANIFEST_FILE), serde_json::to_vec(&v).unwrap()).unwrap();
        let _ = std::fs::remove_file(q.join(CHUNKS_DIR));
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(p.join(CHUNKS_DIR), q.join(CHUNKS_DIR));
        pack::unpack(&q, &t.path().join("uq"))
    };
    let r = edit(&|v| v["id"] = alloy_primitives::B256::ZERO.to_string().into());
    assert!(matches!(r, Err(PackError::IdMismatch { .. })), "{r:?}");
    let r = edit(&|v| v["files"].as_array_mut().unwrap().reverse());
    assert!(matches!(r, Err(PackError::ManifestInvalid(_))), "{r:?}");
    let r = edit(&|v| v["format"] = "other/1".into());
    assert!(matches!(r, Err(PackError::ManifestInvalid(_))), "{r:?}");
    let r = edit(&|v| v["files"][1]["chunks"].as_array_mut().unwrap().truncate(1));
    assert!(matches!(r, Err(PackError::ManifestInvalid(_))), "{r:?}");
    let r = edit(&|v| {
        let h = v["files"][1]["keccak256"].clone();
        v["files"][0]["keccak256"] = h;
    });
    assert!(matches!(r, Err(PackError::FileMismatch { what: "keccak256", .. })), "{r:?}");
    assert!(read_manifest(&t.path().join("nope.json")).is_err());
}

#[test]
fn invalid_inputs_are_refused() {
    let t = TempDir::new("refuse");
    model_dir(t.path());
    assert!(matches!(pack::pack(t.path(), &t.path().join("p"), 1000, None), Err(PackError::NotAModelDir(_))));
    assert!(matches!(
        pack::pack(&t.path().join("model"), &t.path().join("p"), 0, None),
        Err(PackError::ChunkSize(0))
    ));
    // A model whose test vector no longer matches is not packed.
    let cfg = t.path().join("model").join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    v["test_vectors"][0]["argmax"] = 7.into();
    std::fs::write(&cfg, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(matches!(
        pack::pack(&t.path().join("model"), &t.path().join("p"), 1000, None),
        Err(PackError::Model(_))
    ));
}
