//! The models shipped in `aivm/models/`, and the training tools that made them.

use std::path::{Path, PathBuf};
use temporis_aivm::{
    Adapter, Model,
    model::verify::{verify_dirs, verify_files},
    train::{
        self, LoraOptions, TrainOptions,
        digits::{Digits, Shift},
    },
};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The split `train` and `finetune` use by default (test fraction 0.2, split seed 7).
fn split() -> (Digits, Digits) {
    Digits::load_csv_gz(&models().join("data/digits.csv.gz")).unwrap().split(0.2, 7)
}

#[test]
fn shipped_model_and_adapter_verify() {
    let report =
        verify_dirs(&models().join("digits-mlp"), Some(&models().join("digits-mlp-translate-lora"))).unwrap();
    assert_eq!(report.test_vectors, 8);
    assert_eq!(report.macs, 64 * 32 + 32 * 10 + 4 * (64 + 32) + 4 * (32 + 10));
}

#[test]
fn shipped_adapter_improves_held_out_accuracy_on_shifted_images() {
    let (train_set, test_set) = split();
    assert_eq!((train_set.len(), test_set.len()), (1438, 359));
    let model = Model::load(&models().join("digits-mlp")).unwrap();
    let adapter = Adapter::load(&models().join("digits-mlp-translate-lora"), &model).unwrap();
    let shifted = test_set.shifted(Shift::Translate);
    let base_clean = train::int_accuracy(&model, None, &test_set).unwrap();
    let base_shifted = train::int_accuracy(&model, None, &shifted).unwrap();
    let adapted_shifted = train::int_accuracy(&model, Some(&adapter), &shifted).unwrap();
    eprintln!(
        "held out: base {base_clean:.3}, base on shifted {base_shifted:.3}, adapted {adapted_shifted:.3}"
    );
    assert!(base_clean > 0.9, "{base_clean}");
    assert!(adapted_shifted > base_shifted + 0.5, "{base_shifted} -> {adapted_shifted}");
}

/// A short run of the whole tool chain: train, quantize, fine-tune, and the results are valid
/// files that verify and classify better than chance.
#[test]
fn train_and_finetune_produce_valid_files() {
    let (train_set, test_set) = split();
    let mlp =
        train::train_mlp(&train_set, &TrainOptions { epochs: 4, progress: false, ..TrainOptions::default() })
            .unwrap();
    let (files, _) = train::quantize_mlp(&mlp, &train_set, "short", 2).unwrap();
    verify_files(&files, None).unwrap();
    let model = Model::from_files(&files).unwrap();
    let acc = train::int_accuracy(&model, None, &test_set).unwrap();
    assert!(acc > 0.7, "int8 accuracy after 4 epochs: {acc}");
    // The quantized model follows the float one closely.
    assert!((acc - mlp.accuracy(&test_set)).abs() < 0.05);

    let shifted = (train_set.shifted(Shift::Translate), test_set.shifted(Shift::Translate));
    let afiles = train::finetune_lora(
        &model,
        &shifted.0,
        &shifted.1,
        &LoraOptions { epochs: 4, progress: false, ..LoraOptions::default() },
        2,
    )
    .unwrap();
    verify_files(&files, Some(&afiles)).unwrap();
    let adapter = Adapter::from_files(&afiles, &model).unwrap();
    let before = train::int_accuracy(&model, None, &shifted.1).unwrap();
    let after = train::int_accuracy(&model, Some(&adapter), &shifted.1).unwrap();
    assert!(after > before, "{before} -> {after}");
}
