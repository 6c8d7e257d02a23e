//! The engine: LoRA arithmetic by hand, fast path = reference path on random models and
//! adapters, batch = one by one, MAC counts.

use crate::aivm_support::{Lcg, random_adapter, random_model};
use proptest::prelude::*;
use std::collections::BTreeMap;
use temporis_aivm::{
    Adapter, Model, ModelError,
    engine::{self, Kernels, infer_batch, infer_batch_with},
    model::{
        Activation, AdapterConfig, Architecture, FORMAT_VERSION, LayerConfig, LinearConfig, LinearWeights,
        LoraWeights, ModelConfig, adapter::LoraQuant,
    },
    quant::Requant,
};

fn rq(m: i32, s: u32) -> Requant {
    Requant::new(m, s).unwrap()
}

/// A 2→2 identity layer (no bias, identity requantization), for arithmetic by hand.
fn identity_model() -> Model {
    let config = ModelConfig {
        format_version: FORMAT_VERSION,
        name: "id".into(),
        architecture: Architecture::Mlp,
        input_features: 2,
        layers: vec![LayerConfig::Linear(LinearConfig {
            name: "fc".into(),
            in_features: 2,
            out_features: 2,
            bias: false,
            activation: Activation::None,
            requant: Requant::IDENTITY,
        })],
        test_vectors: vec![],
        metadata: BTreeMap::new(),
    };
    Model::from_parts(&config, &[LinearWeights { weight: vec![1, 0, 0, 1], bias: None }]).unwrap()
}

fn rank1_adapter(base: &Model, a_requant: Requant, scale: Requant) -> Adapter {
    let quant = BTreeMap::from([("fc".to_owned(), LoraQuant { a_requant, scale })]);
    let config = AdapterConfig::new(base, 1, 2.0, quant);
    let weights = BTreeMap::from([("fc".to_owned(), LoraWeights { a: vec![1, 1], b: vec![1, 2] })]);
    Adapter::from_parts(&config, &weights, base).unwrap()
}

/// x = [3, 4], W = I, A = [1 1], B = [1 2]ᵀ, a_requant = 1/2, scale = 3/2:
/// h = 7 → h8 = round(3.5) = 4 → u = [4, 8] → scaled [6, 12] → acc = [9, 16].
/// Carrying h exactly would give u = [7, 14] → [10.5, 21] → [14, 25]: the requantization of A·x
/// before B is observable, and this pins it.
#[test]
fn lora_requantizes_a_x_before_b() {
    let base = identity_model();
    let adapter = rank1_adapter(&base, rq(1, 1), rq(3, 1));
    let out = engine::infer(&base, Some(&adapter), &[3, 4]).unwrap();
    assert_eq!(out.logits, vec![9, 16]);
    assert_eq!(out.output, vec![9, 16]);
    assert_eq!(out.argmax, 1);
    // Without the adapter: W·x.
    assert_eq!(engine::infer(&base, None, &[3, 4]).unwrap().logits, vec![3, 4]);
    // Negative side, rounding half away from zero: h = -7 → -4 → u = [-4, -8] → [-6, -12].
    let out = engine::infer(&base, Some(&adapter), &[-3, -4]).unwrap();
    assert_eq!(out.logits, vec![-9, -16]);
    assert_eq!(out.argmax, 0);
}

/// h8 saturates at 127: x = [127, 127] gives h = 254, identity a_requant → 127.
#[test]
fn lora_intermediate_saturates() {
    let base = identity_model();
    let adapter = rank1_adapter(&base, Requant::IDENTITY, Requant::IDENTITY);
    let out = engine::infer(&base, Some(&adapter), &[127, 127]).unwrap();
    assert_eq!(out.logits, vec![127 + 127, 127 + 254]);
    // The int8 output saturates too, the logits do not.
    assert_eq!(out.output, vec![127, 127]);
}

#[test]
fn argmax_takes_first_of_ties_and_relu_clamps() {
    let base = identity_model();
    assert_eq!(engine::infer(&base, None, &[5, 5]).unwrap().argmax, 0);
    assert_eq!(engine::infer(&base, None, &[-128, -128]).unwrap().output, vec![-128, -128]);
}

#[test]
fn input_length_and_foreign_adapter_are_errors() {
    let base = random_model(&[8, 6, 3], 1);
    assert!(matches!(
        engine::infer(&base, None, &[1; 7]),
        Err(ModelError::InputLength { expected: 8, found: 7 })
    ));
    assert!(matches!(infer_batch(&base, None, &[]), Err(ModelError::InputLength { .. })));
    let other = random_model(&[8, 6, 3], 2);
    let (c, w) = random_adapter(&other, &["fc1"], 2, 3);
    let adapter = Adapter::from_parts(&c, &w, &other).unwrap();
    assert!(matches!(
        engine::infer(&base, Some(&adapter), &[1; 8]),
        Err(ModelError::BaseModelMismatch { .. })
    ));
    assert!(matches!(Adapter::from_parts(&c, &w, &base), Err(ModelError::BaseModelMismatch { .. })));
}

#[test]
fn mac_count() {
    let base = random_model(&[64, 32, 16, 10], 4);
    assert_eq!(engine::macs(&base, None), 64 * 32 + 32 * 16 + 16 * 10);
    let (c, w) = random_adapter(&base, &["fc1", "fc3"], 4, 5);
    let adapter = Adapter::from_parts(&c, &w, &base).unwrap();
    assert_eq!(
        engine::macs(&base, Some(&adapter)),
        64 * 32 + 32 * 16 + 16 * 10 + 4 * (64 + 32) + 4 * (16 + 10)
    );
}

#[test]
fn batch_equals_one_by_one() {
    let base = random_model(&[20, 12, 5], 6);
    let (c, w) = random_adapter(&base, &["fc1", "fc2"], 3, 7);
    let adapter = Adapter::from_parts(&c, &w, &base).unwrap();
    let mut rng = Lcg(8);
    let inputs = rng.i8s(20 * 9);
    let batch = infer_batch(&base, Some(&adapter), &inputs).unwrap();
    for (i, out) in batch.iter().enumerate() {
        assert_eq!(*out, engine::infer(&base, Some(&adapter), &inputs[i * 20..(i + 1) * 20]).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whole models, with and without an adapter: fast kernels = reference kernels.
    #[test]
    fn fast_engine_equals_reference_engine(
        seed in any::<u64>(),
        dims in proptest::collection::vec(1usize..80, 2..5),
        k0 in prop_oneof![1usize..40, 1020usize..1030],
        rows in 1usize..4,
        r in 1usize..6,
    ) {
        let mut dims = dims;
        dims[0] = k0;
        let base = random_model(&dims, seed);
        let mut rng = Lcg(seed ^ 0xa5a5);
        let inputs = rng.i8s(rows * k0);
        let fast = infer_batch_with(&base, None, &inputs, Kernels::Fast).unwrap();
        let slow = infer_batch_with(&base, None, &inputs, Kernels::Reference).unwrap();
        prop_assert_eq!(fast, slow);
        let (c, w) = random_adapter(&base, &["fc1"], r, seed.rotate_left(7));
        let adapter = Adapter::from_parts(&c, &w, &base).unwrap();
        let fast = infer_batch_with(&base, Some(&adapter), &inputs, Kernels::Fast).unwrap();
        let slow = infer_batch_with(&base, Some(&adapter), &inputs, Kernels::Reference).unwrap();
        prop_assert_eq!(fast, slow);
    }
}
