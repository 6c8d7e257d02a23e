//! End-to-end checks of model and adapter files: everything [`Model::from_files`] and
//! [`Adapter::from_files`] check, plus the declared test vectors recomputed by the engine.

use super::{
    ADAPTER_CONFIG_FILE, Adapter, AdapterFiles, CONFIG_FILE, Model, ModelError, ModelFiles, ModelResult,
    TestVector,
};
use crate::engine::{self, Output};
use alloy_primitives::B256;
use serde::Serialize;
use std::path::Path;

/// What a successful verification found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// [`Model::id`].
    pub model_id: B256,
    /// [`Adapter::id`], when an adapter was verified too.
    pub adapter_id: Option<B256>,
    /// Number of layers.
    pub layers: usize,
    /// Number of int8 weights and int32 biases (adapter included).
    pub parameters: u64,
    /// Multiply-accumulates of one inference ([`engine::macs`]).
    pub macs: u64,
    /// Test vectors recomputed and matched.
    pub test_vectors: usize,
}

/// Verifies the model in `model_dir` and, if given, the adapter in `adapter_dir` against it.
pub fn verify_dirs(model_dir: &Path, adapter_dir: Option<&Path>) -> ModelResult<Report> {
    let model = ModelFiles::read(model_dir)?;
    let adapter = adapter_dir.map(AdapterFiles::read).transpose()?;
    verify_files(&model, adapter.as_ref())
}

/// Verifies files given as bytes.
pub fn verify_files(model: &ModelFiles, adapter: Option<&AdapterFiles>) -> ModelResult<Report> {
    let model = Model::from_files(model)?;
    let mut n = check_test_vectors(&model, None, &model.config().test_vectors, CONFIG_FILE)?;
    let adapter = adapter.map(|a| Adapter::from_files(a, &model)).transpose()?;
    if let Some(a) = &adapter {
        n += check_test_vectors(&model, Some(a), &a.config().temporis.test_vectors, ADAPTER_CONFIG_FILE)?;
    }
    let mut parameters: u64 = model
        .layers
        .iter()
        .map(|l| (l.weight.len() + if l.config.bias { l.bias.len() } else { 0 }) as u64)
        .sum();
    if let Some(a) = &adapter {
        parameters += a.targets.values().map(|t| (t.a.len() + t.b.len()) as u64).sum::<u64>();
    }
    Ok(Report {
        model_id: model.id(),
        adapter_id: adapter.as_ref().map(Adapter::id),
        layers: model.layers.len(),
        parameters,
        macs: engine::macs(&model, adapter.as_ref()),
        test_vectors: n,
    })
}

/// Recomputes each test vector and compares it, field by field, with what is declared.
/// At least one test vector is required.
pub fn check_test_vectors(
    model: &Model,
    adapter: Option<&Adapter>,
    vectors: &[TestVector],
    file: &'static str,
) -> ModelResult<usize> {
    if vectors.is_empty() {
        return Err(ModelError::NoTestVector { file });
    }
    for (i, tv) in vectors.iter().enumerate() {
        let got = engine::infer(model, adapter, &tv.input)?;
        compare(file, i, tv, &got)?;
        tracing::trace!(target: "aivm::verify", file, vector = i, argmax = got.argmax, "test vector matches");
    }
    Ok(vectors.len())
}

fn compare(file: &'static str, vector: usize, tv: &TestVector, got: &Output) -> ModelResult<()> {
    let fields: [(&'static str, Vec<i64>, Vec<i64>); 2] = [
        (
            "output",
            tv.output.iter().map(|&v| i64::from(v)).collect(),
            got.output.iter().map(|&v| i64::from(v)).collect(),
        ),
        (
            "logits",
            tv.logits.iter().map(|&v| i64::from(v)).collect(),
            got.logits.iter().map(|&v| i64::from(v)).collect(),
        ),
    ];
    for (field, declared, found) in fields {
        if declared.len() != found.len() {
            return Err(ModelError::TestVectorLength {
                file,
                vector,
                field,
                expected: found.len(),
                found: declared.len(),
            });
        }
        if let Some(index) = declared.iter().zip(&found).position(|(d, f)| d != f) {
            return Err(ModelError::TestVectorMismatch {
                file,
                vector,
                field,
                index,
                declared: declared[index],
                found: found[index],
            });
        }
    }
    if tv.argmax != got.argmax {
        return Err(ModelError::TestVectorMismatch {
            file,
            vector,
            field: "argmax",
            index: 0,
            declared: tv.argmax as i64,
            found: got.argmax as i64,
        });
    }
    Ok(())
}

/// A test vector for `input`, computed by the engine (what tools write into configs).
pub fn make_test_vector(model: &Model, adapter: Option<&Adapter>, input: &[i8]) -> ModelResult<TestVector> {
    let o = engine::infer(model, adapter, input)?;
    Ok(TestVector { input: input.to_vec(), output: o.output, logits: o.logits, argmax: o.argmax })
}
