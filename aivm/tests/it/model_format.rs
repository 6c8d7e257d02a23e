//! Model and adapter files: a round trip through a directory, and one distinct error for each
//! defect `verify` must catch.

use crate::aivm_support::{Lcg, TempDir, random_adapter, random_model};
use alloy_primitives::B256;
use std::collections::BTreeMap;
use temporis_aivm::{
    Adapter, Model, ModelError,
    model::{
        AdapterFiles, ModelConfig, ModelFiles,
        verify::{make_test_vector, verify_dirs, verify_files},
    },
};

/// A model with two test vectors and an adapter on fc2 with one, as files.
fn fixture() -> (ModelFiles, AdapterFiles) {
    let base = random_model(&[16, 8, 4], 11);
    let mut config = base.config().clone();
    let mut rng = Lcg(12);
    config.test_vectors = vec![
        make_test_vector(&base, None, &rng.i8s(16)).unwrap(),
        make_test_vector(&base, None, &rng.i8s(16)).unwrap(),
    ];
    let files = ModelFiles::encode(&config, &base.weights());
    let base = Model::from_files(&files).unwrap();
    let (mut ac, aw) = random_adapter(&base, &["fc2"], 2, 13);
    let adapter = Adapter::from_parts(&ac, &aw, &base).unwrap();
    ac.temporis.test_vectors = vec![make_test_vector(&base, Some(&adapter), &rng.i8s(16)).unwrap()];
    let afiles = AdapterFiles::encode(&ac, &aw, &base).unwrap();
    (files, afiles)
}

fn with_config(files: &ModelFiles, edit: impl FnOnce(&mut serde_json::Value)) -> ModelFiles {
    let mut v: serde_json::Value = serde_json::from_slice(&files.config).unwrap();
    edit(&mut v);
    ModelFiles { config: serde_json::to_vec(&v).unwrap(), weights: files.weights.clone() }
}

fn with_adapter_config(files: &AdapterFiles, edit: impl FnOnce(&mut serde_json::Value)) -> AdapterFiles {
    let mut v: serde_json::Value = serde_json::from_slice(&files.config).unwrap();
    edit(&mut v);
    AdapterFiles { config: serde_json::to_vec(&v).unwrap(), weights: files.weights.clone() }
}

/// Re-encodes the weights file with `edit` applied to the tensor list.
fn with_tensors(
    weights: &[u8],
    edit: impl FnOnce(&mut BTreeMap<String, (safetensors::Dtype, Vec<usize>, Vec<u8>)>),
) -> Vec<u8> {
    let st = safetensors::SafeTensors::deserialize(weights).unwrap();
    let mut map: BTreeMap<_, _> =
        st.iter().map(|(n, v)| (n.to_owned(), (v.dtype(), v.shape().to_vec(), v.data().to_vec()))).collect();
    edit(&mut map);
    let views: Vec<_> = map
        .iter()
        .map(|(n, (d, s, b))| (n.clone(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn roundtrip_through_a_directory_and_verify() {
    let (files, afiles) = fixture();
    let dir = TempDir::new("fmt");
    let (md, ad) = (dir.path().join("model"), dir.path().join("adapter"));
    files.write(&md).unwrap();
    afiles.write(&ad).unwrap();
    let report = verify_dirs(&md, Some(&ad)).unwrap();
    assert_eq!(report.test_vectors, 3);
    assert_eq!(report.model_id, files.id());
    assert_eq!(report.adapter_id, Some(afiles.id()));
    assert_eq!(report.macs, 16 * 8 + 8 * 4 + 2 * (8 + 4));
    // fc1 has a bias (8), fc2 none; the adapter has 2·8 + 4·2.
    assert_eq!(report.parameters, 16 * 8 + 8 + 8 * 4 + 2 * 8 + 4 * 2);
    let loaded = Model::load(&md).unwrap();
    assert_eq!(loaded.id(), files.id());
    assert_eq!(ModelConfig::from_json(&files.config).unwrap(), *loaded.config());
    // The id commits to every byte.
    let mut flipped = files.clone();
    *flipped.weights.last_mut().unwrap() ^= 1;
    assert_ne!(flipped.id(), files.id());
}

#[test]
fn test_vector_mismatches_are_reported_precisely() {
    let (files, _) = fixture();
    let bad = with_config(&files, |v| {
        let l = &mut v["test_vectors"][1]["logits"][2];
        *l = (l.as_i64().unwrap() + 1).into();
    });
    match verify_files(&bad, None) {
        Err(ModelError::TestVectorMismatch {
            vector: 1, field: "logits", index: 2, declared, found, ..
        }) => {
            assert_eq!(declared, found + 1)
        }
        other => panic!("{other:?}"),
    }
    let bad = with_config(&files, |v| v["test_vectors"][0]["argmax"] = 99.into());
    assert!(matches!(
        verify_files(&bad, None),
        Err(ModelError::TestVectorMismatch { field: "argmax", declared: 99, .. })
    ));
    let bad = with_config(&files, |v| {
        v["test_vectors"][0]["output"].as_array_mut().unwrap().pop().map(drop).unwrap()
    });
    assert!(matches!(verify_files(&bad, None), Err(ModelError::TestVectorLength { field: "output", .. })));
    let bad = with_config(&files, |v| v["test_vectors"][0]["input"].as_array_mut().unwrap().push(1.into()));
    assert!(matches!(verify_files(&bad, None), Err(ModelError::InputLength { expected: 16, found: 17 })));
    let bad = with_config(&files, |v| v["test_vectors"] = serde_json::json!([]));
    assert!(matches!(verify_files(&bad, None), Err(ModelError::NoTestVector { file: "config.json" })));
    let bad = with_config(&files, |v| v["test_vectors"][0]["input"][0] = 300.into());
    assert!(matches!(verify_files(&bad, None), Err(ModelError::ConfigJson { .. })));
}

#[test]
fn weight_file_defects() {
    let (files, _) = fixture();
    let check = |weights: Vec<u8>| verify_files(&ModelFiles { config: files.config.clone(), weights }, None);

    let e = check(with_tensors(&files.weights, |m| drop(m.remove("fc2.weight")))).unwrap_err();
    assert!(matches!(&e, ModelError::MissingTensor { name, .. } if name == "fc2.weight"), "{e}");

    let e = check(with_tensors(&files.weights, |m| {
        m.insert("fc3.weight".into(), (safetensors::Dtype::I8, vec![1], vec![0]));
    }))
    .unwrap_err();
    assert!(matches!(&e, ModelError::UnexpectedTensor { name, .. } if name == "fc3.weight"), "{e}");

    let e = check(with_tensors(&files.weights, |m| {
        let t = m.get_mut("fc2.weight").unwrap();
        t.1 = vec![8, 4];
    }))
    .unwrap_err();
    assert!(
        matches!(&e, ModelError::TensorShape { expected, found, .. } if *expected == [4, 8] && *found == [8, 4])
    );

    let e = check(with_tensors(&files.weights, |m| {
        let t = m.get_mut("fc1.bias").unwrap();
        t.0 = safetensors::Dtype::F32;
    }))
    .unwrap_err();
    assert!(matches!(&e, ModelError::TensorDtype { expected: "I32", .. }), "{e}");

    assert!(matches!(check(b"not a safetensors file".to_vec()), Err(ModelError::Safetensors { .. })));
    assert!(matches!(check(Vec::new()), Err(ModelError::Safetensors { .. })));

    let dir = TempDir::new("missing");
    assert!(matches!(verify_dirs(dir.path(), None), Err(ModelError::Io { .. })));
}

#[test]
fn adapter_defects() {
    let (files, afiles) = fixture();
    let check = |a: &AdapterFiles| verify_files(&files, Some(a));
    check(&afiles).unwrap();

    let bad = with_adapter_config(&afiles, |v| v["target_modules"] = serde_json::json!(["fc2", "fc9"]));
    assert!(matches!(check(&bad), Err(ModelError::TargetQuantMismatch(t)) if t == "fc9"));

    let bad = with_adapter_config(&afiles, |v| {
        v["target_modules"] = serde_json::json!(["fc9"]);
        let q = v["temporis"]["targets"]["fc2"].take();
        v["temporis"]["targets"] = serde_json::json!({ "fc9": q });
    });
    assert!(matches!(check(&bad), Err(ModelError::UnknownTarget(t)) if t == "fc9"));

    let bad = with_adapter_config(&afiles, |v| v["target_modules"] = "fc.*".into());
    assert!(matches!(check(&bad), Err(ModelError::InvalidTargetModules)));
    let bad = with_adapter_config(&afiles, |v| v["target_modules"] = serde_json::json!(["fc2", "fc2"]));
    assert!(matches!(check(&bad), Err(ModelError::InvalidTargetModules)));

    let bad = with_adapter_config(&afiles, |v| v["peft_type"] = "IA3".into());
    assert!(matches!(check(&bad), Err(ModelError::NotLora(t)) if t == "IA3"));

    let bad = with_adapter_config(&afiles, |v| v["use_dora"] = true.into());
    assert!(matches!(check(&bad), Err(ModelError::UnsupportedPeftOption { key: "use_dora", .. })));

    let bad = with_adapter_config(&afiles, |v| v["bias"] = "all".into());
    assert!(matches!(check(&bad), Err(ModelError::UnsupportedPeftOption { key: "bias", .. })));

    let bad = with_adapter_config(&afiles, |v| v["r"] = 3.into());
    assert!(matches!(check(&bad), Err(ModelError::TensorShape { .. })));

    let bad = with_adapter_config(&afiles, |v| v["temporis"]["targets"]["fc2"]["scale"]["shift"] = 70.into());
    assert!(matches!(check(&bad), Err(ModelError::Requant { .. })));

    let bad = with_adapter_config(&afiles, |v| {
        v["temporis"]["base_model_id"] = B256::repeat_byte(7).to_string().into()
    });
    assert!(matches!(check(&bad), Err(ModelError::BaseModelMismatch { .. })));

    let bad = with_adapter_config(&afiles, |v| {
        let l = &mut v["temporis"]["test_vectors"][0]["logits"][0];
        *l = (l.as_i64().unwrap() - 1).into();
    });
    assert!(matches!(
        check(&bad),
        Err(ModelError::TestVectorMismatch { file: "adapter_config.json", field: "logits", index: 0, .. })
    ));

    let bad = AdapterFiles {
        config: afiles.config.clone(),
        weights: with_tensors(&afiles.weights, |m| drop(m.remove("base_model.model.fc2.lora_B.weight"))),
    };
    assert!(matches!(check(&bad), Err(ModelError::MissingTensor { .. })));

    // An adapter whose declared rank would make a node allocate too much is refused before its
    // tensors are read.
    let wide = random_model(&[65536, 1], 14);
    let (mut big, _) = random_adapter(&random_model(&[4, 1], 15), &["fc1"], 1, 16);
    big.r = 65536;
    big.temporis.base_model_id = wide.id();
    let files = AdapterFiles { config: big.to_json(), weights: Vec::new() };
    assert!(matches!(Adapter::from_files(&files, &wide), Err(ModelError::TooLarge { what: "adapter", .. })));

    // Unknown PEFT keys are kept and ignored; the id still commits to them.
    let extra = with_adapter_config(&afiles, |v| v["revision"] = serde_json::Value::Null);
    check(&extra).unwrap();
    assert_ne!(extra.id(), afiles.id());
}
