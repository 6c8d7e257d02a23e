//! Training and fine-tuning tools: float training with candle's autograd, then post-training
//! quantization into the integer format.
//!
//! **Not part of the consensus path.** Everything here uses floating point (and its
//! transcendental functions, in the loss); its only outputs that matter are the int8/int32
//! files, which are then checked and run by the integer engine like any other model.
//! Results are reproducible on one machine (weights are initialised and samples shuffled from a
//! seeded generator, not from the OS), not necessarily bit-identical across machines — which
//! does not matter, because the published artefact is the integer files, not the recipe.

pub mod digits;

use self::digits::{CLASSES, Digits, INPUT_GAIN, PIXELS};
use crate::{
    Adapter, Model,
    engine::infer_batch,
    model::{
        Activation, AdapterConfig, AdapterFiles, Architecture, FORMAT_VERSION, LayerConfig, LinearConfig,
        LinearWeights, LoraWeights, ModelConfig, ModelError, ModelFiles, adapter::LoraQuant,
        verify::make_test_vector,
    },
    quant::Requant,
};
use candle_core::{D, DType, Device, Tensor, Var};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;

/// Errors of the training tools.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data set could not be read or parsed.
    #[error("data: {0}")]
    Data(String),
    /// The tensor backend failed.
    #[error("tensor backend: {0}")]
    Backend(#[from] Box<candle_core::Error>),
    /// A quantization parameter is out of range (e.g. a layer whose weights are all zero).
    #[error("quantization: {0}")]
    Quantization(String),
    /// The resulting files are not a valid model or adapter.
    #[error(transparent)]
    Model(#[from] Box<ModelError>),
}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        Self::Backend(Box::new(e))
    }
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        Self::Model(Box::new(e))
    }
}

type Result<T, E = TrainError> = core::result::Result<T, E>;

/// A seeded 64-bit LCG (Knuth's constants), for reproducible initialisation and shuffling.
#[derive(Clone, Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    /// Next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
    /// Uniform in `0..n` (`n > 0`).
    pub const fn below(&mut self, n: u64) -> u64 {
        (self.next_u64() >> 33) % n
    }
    /// Uniform in `[-a, a)`.
    pub fn uniform(&mut self, a: f32) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * a
    }
}

/// Hyper-parameters of [`train_mlp`].
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Hidden width.
    pub hidden: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed of initialisation and shuffling.
    pub seed: u64,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self { hidden: 32, epochs: 60, batch: 32, lr: 3e-3, seed: 1, progress: true }
    }
}

/// Adam over a set of variables.
struct Adam {
    vars: Vec<Var>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: i32,
    lr: f64,
}

impl Adam {
    fn new(vars: Vec<Var>, lr: f64) -> Result<Self> {
        let m = vars.iter().map(|v| v.zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
        let v = vars.iter().map(|v| v.zeros_like()).collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self { vars, m, v, t: 0, lr })
    }

    fn step(&mut self, loss: &Tensor) -> Result<()> {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
        let grads = loss.backward()?;
        self.t += 1;
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for ((var, m), v) in self.vars.iter().zip(&mut self.m).zip(&mut self.v) {
            let Some(g) = grads.get(var) else { continue };
            *m = ((&*m * b1)? + (g * (1.0 - b1))?)?;
            *v = ((&*v * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            let update = ((&*m / c1)? / ((&*v / c2)?.sqrt()? + eps)?)?;
            var.set(&(var.as_tensor() - (update * self.lr)?)?)?;
        }
        Ok(())
    }
}

fn glorot(out: usize, inp: usize, rng: &mut Lcg, dev: &Device) -> Result<Var> {
    let a = (6.0 / (out + inp) as f32).sqrt();
    let w: Vec<f32> = (0..out * inp).map(|_| rng.uniform(a)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(w, (out, inp), dev)?)?)
}

/// Mean cross-entropy of `logits` `[n, 10]` against `labels` `[n]` (u32).
fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let max = logits.max_keepdim(D::Minus1)?;
    let shifted = logits.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let picked = shifted.gather(&labels.unsqueeze(1)?, D::Minus1)?;
    Ok((lse - picked)?.mean_all()?)
}

fn batches(n: usize, batch: usize, rng: &mut Lcg) -> Vec<Vec<u32>> {
    let mut idx: Vec<u32> = (0..n as u32).collect();
    for i in (1..idx.len()).rev() {
        idx.swap(i, rng.below(i as u64 + 1) as usize);
    }
    idx.chunks(batch).map(<[u32]>::to_vec).collect()
}

fn progress(enabled: bool, len: u64, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] epoch {pos}/{len} {prefix}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// A float two-layer MLP `64 → hidden → 10` with ReLU.
#[derive(Clone, Debug)]
pub struct FloatMlp {
    /// `[hidden, 64]`.
    pub w1: Vec<f32>,
    /// `[hidden]`.
    pub b1: Vec<f32>,
    /// `[10, hidden]`.
    pub w2: Vec<f32>,
    /// `[10]`.
    pub b2: Vec<f32>,
    /// Hidden width.
    pub hidden: usize,
}

/// Trains a float MLP on `data` (inputs `pixel / 16`).
pub fn train_mlp(data: &Digits, opts: &TrainOptions) -> Result<FloatMlp> {
    let dev = Device::Cpu;
    let mut rng = Lcg(opts.seed);
    let h = opts.hidden;
    let w1 = glorot(h, PIXELS, &mut rng, &dev)?;
    let b1 = Var::zeros(h, DType::F32, &dev)?;
    let w2 = glorot(CLASSES, h, &mut rng, &dev)?;
    let b2 = Var::zeros(CLASSES, DType::F32, &dev)?;
    let x_all = Tensor::from_vec(data.float_inputs(), (data.len(), PIXELS), &dev)?;
    let y_all =
        Tensor::from_vec(data.labels.iter().map(|&l| u32::from(l)).collect::<Vec<_>>(), data.len(), &dev)?;
    let mut adam = Adam::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], opts.lr)?;
    let pb = progress(opts.progress, opts.epochs as u64, "train");
    for _ in 0..opts.epochs {
        let mut total = 0f32;
        let bs = batches(data.len(), opts.batch, &mut rng);
        for b in &bs {
            let ids = Tensor::from_vec(b.clone(), b.len(), &dev)?;
            let x = x_all.index_select(&ids, 0)?;
            let y = y_all.index_select(&ids, 0)?;
            let hid = x.matmul(&w1.t()?)?.broadcast_add(&b1)?.relu()?;
            let logits = hid.matmul(&w2.t()?)?.broadcast_add(&b2)?;
            let loss = cross_entropy(&logits, &y)?;
            total += loss.to_scalar::<f32>()?;
            adam.step(&loss)?;
        }
        pb.set_prefix(format!("loss {:.4}", total / bs.len() as f32));
        pb.inc(1);
    }
    pb.finish();
    let v = |t: &Var| t.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>());
    Ok(FloatMlp { w1: v(&w1)?, b1: v(&b1)?, w2: v(&w2)?, b2: v(&b2)?, hidden: h })
}

impl FloatMlp {
    /// Float hidden activations and logits for `x` `[n, 64]`.
    fn forward(&self, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let n = x.len() / PIXELS;
        let h = self.hidden;
        let mut hid = vec![0f32; n * h];
        let mut logits = vec![0f32; n * CLASSES];
        for i in 0..n {
            for o in 0..h {
                let s: f32 = (0..PIXELS).map(|j| x[i * PIXELS + j] * self.w1[o * PIXELS + j]).sum::<f32>()
                    + self.b1[o];
                hid[i * h + o] = s.max(0.0);
            }
            for o in 0..CLASSES {
                logits[i * CLASSES + o] =
                    (0..h).map(|j| hid[i * h + j] * self.w2[o * h + j]).sum::<f32>() + self.b2[o];
            }
        }
        (hid, logits)
    }

    /// Accuracy of the float model on `data`.
    pub fn accuracy(&self, data: &Digits) -> f64 {
        let (_, logits) = self.forward(&data.float_inputs());
        accuracy_of(&logits.chunks(CLASSES).map(argmax_f).collect::<Vec<_>>(), &data.labels)
    }
}

fn argmax_f(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |b, (i, &x)| if x > v[b] { i } else { b })
}

fn accuracy_of(pred: &[usize], labels: &[u8]) -> f64 {
    pred.iter().zip(labels).filter(|(p, l)| **p == usize::from(**l)).count() as f64 / labels.len() as f64
}

/// Largest magnitude; NaN if any value is NaN (so callers' finiteness checks see it).
fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, x| if x.is_nan() || m.is_nan() { f32::NAN } else { m.max(x.abs()) })
}

/// Symmetric per-tensor int8 quantization: `(q, scale)` with `q = round(v / scale)`.
fn quantize_i8(v: &[f32]) -> Result<(Vec<i8>, f64)> {
    let m = max_abs(v);
    if m == 0.0 || !m.is_finite() {
        return Err(TrainError::Quantization("a tensor is all zeros or not finite".into()));
    }
    let scale = f64::from(m) / 127.0;
    Ok((v.iter().map(|&x| (f64::from(x) / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale))
}

fn requant(real: f64, what: &str) -> Result<Requant> {
    Requant::from_real(real).map_err(|e| TrainError::Quantization(format!("{what}: {e}")))
}

/// Real scales of a quantized MLP, kept in its metadata so that tools (and fine-tuning) can
/// relate integers to floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scales {
    /// Input (`pixel / 16 = x · s_x`).
    pub input: f64,
    /// `fc1.weight`.
    pub w1: f64,
    /// Hidden activation (fc1 output).
    pub hidden: f64,
    /// `fc2.weight`.
    pub w2: f64,
}

/// Post-training quantization of a float MLP into the integer format, with the hidden scale
/// calibrated on `calib` and test vectors taken from its first `n_vectors` samples.
pub fn quantize_mlp(
    mlp: &FloatMlp,
    calib: &Digits,
    name: &str,
    n_vectors: usize,
) -> Result<(ModelFiles, Scales)> {
    let h = mlp.hidden;
    let s_x = 1.0 / (16.0 * f64::from(INPUT_GAIN));
    let (w1q, s_w1) = quantize_i8(&mlp.w1)?;
    let (w2q, s_w2) = quantize_i8(&mlp.w2)?;
    let (hid, logits) = mlp.forward(&calib.float_inputs());
    let s_h = f64::from(max_abs(&hid)) / 127.0;
    let s_out = f64::from(max_abs(&logits)) / 127.0;
    let b1q: Vec<i32> = mlp.b1.iter().map(|&b| (f64::from(b) / (s_w1 * s_x)).round() as i32).collect();
    let b2q: Vec<i32> = mlp.b2.iter().map(|&b| (f64::from(b) / (s_w2 * s_h)).round() as i32).collect();
    let layer = |name: &str, i, o, act, rq| {
        LayerConfig::Linear(LinearConfig {
            name: name.into(),
            in_features: i,
            out_features: o,
            bias: true,
            activation: act,
            requant: rq,
        })
    };
    let scales = Scales { input: s_x, w1: s_w1, hidden: s_h, w2: s_w2 };
    let mut metadata = BTreeMap::new();
    metadata.insert(
        "source".into(),
        "UCI optical recognition of handwritten digits (scikit-learn's digits.csv.gz), see ../DATA.md".into(),
    );
    metadata.insert("input".into(), "8x8 image, x = 7 * pixel (pixel 0..=16), row-major".into());
    metadata.insert(
        "scales".into(),
        serde_json::json!({ "input": s_x, "fc1.weight": s_w1, "hidden": s_h, "fc2.weight": s_w2, "output": s_out }),
    );
    let config = ModelConfig {
        format_version: FORMAT_VERSION,
        name: name.into(),
        architecture: Architecture::Mlp,
        input_features: PIXELS,
        layers: vec![
            layer("fc1", PIXELS, h, Activation::Relu, requant(s_w1 * s_x / s_h, "fc1 requant")?),
            layer("fc2", h, CLASSES, Activation::None, requant(s_w2 * s_h / s_out, "fc2 requant")?),
        ],
        test_vectors: Vec::new(),
        metadata,
    };
    let weights =
        [LinearWeights { weight: w1q, bias: Some(b1q) }, LinearWeights { weight: w2q, bias: Some(b2q) }];
    let model = Model::from_parts(&config, &weights)?;
    let mut config = config;
    let inputs = calib.int8_inputs();
    config.test_vectors = (0..n_vectors.min(calib.len()))
        .map(|i| make_test_vector(&model, None, &inputs[i * PIXELS..(i + 1) * PIXELS]))
        .collect::<Result<_, _>>()?;
    Ok((ModelFiles::encode(&config, &weights), scales))
}

/// Accuracy of the integer engine (model, optionally with an adapter) on `data`.
pub fn int_accuracy(model: &Model, adapter: Option<&Adapter>, data: &Digits) -> Result<f64> {
    let out = infer_batch(model, adapter, &data.int8_inputs())?;
    Ok(accuracy_of(&out.iter().map(|o| o.argmax).collect::<Vec<_>>(), &data.labels))
}

/// Reads the real scales a model produced by [`quantize_mlp`] keeps in its metadata.
pub fn scales_of(model: &Model) -> Result<Scales> {
    let s = model
        .config()
        .metadata
        .get("scales")
        .ok_or_else(|| TrainError::Quantization("model metadata has no scales".into()))?;
    let get = |k: &str| {
        s.get(k)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| TrainError::Quantization(format!("scale {k} missing")))
    };
    Ok(Scales {
        input: get("input")?,
        w1: get("fc1.weight")?,
        hidden: get("hidden")?,
        w2: get("fc2.weight")?,
    })
}

/// Hyper-parameters of [`finetune_lora`].
#[derive(Clone, Debug)]
pub struct LoraOptions {
    /// Rank.
    pub rank: usize,
    /// PEFT's alpha (the float update is `(alpha / r) · B·A`).
    pub alpha: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
    /// Show a progress bar.
    pub progress: bool,
}

impl Default for LoraOptions {
    fn default() -> Self {
        Self { rank: 4, alpha: 8.0, epochs: 80, batch: 32, lr: 5e-3, seed: 2, progress: true }
    }
}

/// Trains a LoRA adapter on `fc1` and `fc2` of a quantized digits MLP for `data` (typically a
/// shifted training set), against the *dequantized* integer base, then quantizes it.
/// Test vectors are taken from the first `n_vectors` samples of `vectors_from`.
pub fn finetune_lora(
    base: &Model,
    data: &Digits,
    vectors_from: &Digits,
    opts: &LoraOptions,
    n_vectors: usize,
) -> Result<AdapterFiles> {
    let dev = Device::Cpu;
    let sc = scales_of(base)?;
    let w = base.weights();
    let cfg1 = base.config().linear("fc1").ok_or_else(|| TrainError::Quantization("no fc1".into()))?.clone();
    let h = cfg1.out_features;
    let deq = |q: &[i8], s: f64| q.iter().map(|&v| (f64::from(v) * s) as f32).collect::<Vec<_>>();
    let deq_b = |q: &[i32], s: f64| q.iter().map(|&v| (f64::from(v) * s) as f32).collect::<Vec<_>>();
    let w1 = Tensor::from_vec(deq(&w[0].weight, sc.w1), (h, PIXELS), &dev)?;
    let b1 = Tensor::from_vec(deq_b(w[0].bias.as_deref().unwrap_or(&[]), sc.w1 * sc.input), h, &dev)?;
    let w2 = Tensor::from_vec(deq(&w[1].weight, sc.w2), (CLASSES, h), &dev)?;
    let b2 = Tensor::from_vec(deq_b(w[1].bias.as_deref().unwrap_or(&[]), sc.w2 * sc.hidden), CLASSES, &dev)?;

    let r = opts.rank;
    let factor = opts.alpha / r as f64;
    let mut rng = Lcg(opts.seed);
    // PEFT's initialisation: A random, B zero, so training starts from the base model.
    let a1 = glorot(r, PIXELS, &mut rng, &dev)?;
    let bb1 = Var::zeros((h, r), DType::F32, &dev)?;
    let a2 = glorot(r, h, &mut rng, &dev)?;
    let bb2 = Var::zeros((CLASSES, r), DType::F32, &dev)?;
    let x_all = Tensor::from_vec(data.float_inputs(), (data.len(), PIXELS), &dev)?;
    let y_all =
        Tensor::from_vec(data.labels.iter().map(|&l| u32::from(l)).collect::<Vec<_>>(), data.len(), &dev)?;
    let mut adam = Adam::new(vec![a1.clone(), bb1.clone(), a2.clone(), bb2.clone()], opts.lr)?;
    let forward = |x: &Tensor| -> candle_core::Result<(Tensor, Tensor, Tensor, Tensor)> {
        let ax1 = x.matmul(&a1.t()?)?;
        let hid = (x.matmul(&w1.t()?)? + (ax1.matmul(&bb1.t()?)? * factor)?)?.broadcast_add(&b1)?.relu()?;
        let ax2 = hid.matmul(&a2.t()?)?;
        let logits = (hid.matmul(&w2.t()?)? + (ax2.matmul(&bb2.t()?)? * factor)?)?.broadcast_add(&b2)?;
        Ok((ax1, hid, ax2, logits))
    };
    let pb = progress(opts.progress, opts.epochs as u64, "finetune");
    for _ in 0..opts.epochs {
        let mut total = 0f32;
        let bs = batches(data.len(), opts.batch, &mut rng);
        for b in &bs {
            let ids = Tensor::from_vec(b.clone(), b.len(), &dev)?;
            let (_, _, _, logits) = forward(&x_all.index_select(&ids, 0)?)?;
            let loss = cross_entropy(&logits, &y_all.index_select(&ids, 0)?)?;
            total += loss.to_scalar::<f32>()?;
            adam.step(&loss)?;
        }
        pb.set_prefix(format!("loss {:.4}", total / bs.len() as f32));
        pb.inc(1);
    }
    pb.finish();

    // Quantize: A, B per tensor; h8 = A·x calibrated on the training set.
    let (ax1, hid, ax2, _) = forward(&x_all)?;
    let flat = |t: &Tensor| t.flatten_all().and_then(|t| t.to_vec1::<f32>());
    let _ = hid;
    let mut quant = BTreeMap::new();
    let mut weights = BTreeMap::new();
    for (name, a, b, ax, s_in, s_w) in
        [("fc1", &a1, &bb1, &ax1, sc.input, sc.w1), ("fc2", &a2, &bb2, &ax2, sc.hidden, sc.w2)]
    {
        let (aq, s_a) = quantize_i8(&flat(a.as_tensor())?)?;
        let (bq, s_b) = quantize_i8(&flat(b.as_tensor())?)?;
        let s_h8 = f64::from(max_abs(&flat(ax)?)) / 127.0;
        if !s_h8.is_finite() || s_h8 == 0.0 {
            return Err(TrainError::Quantization(format!(
                "{name}: A·x is zero or not finite on the training set (training diverged?)"
            )));
        }
        quant.insert(
            name.to_owned(),
            LoraQuant {
                a_requant: requant(s_a * s_in / s_h8, "a_requant")?,
                scale: requant(factor * s_b * s_h8 / (s_w * s_in), "scale")?,
            },
        );
        weights.insert(name.to_owned(), LoraWeights { a: aq, b: bq });
    }
    let mut config = AdapterConfig::new(base, r, opts.alpha, quant);
    let adapter = Adapter::from_parts(&config, &weights, base)?;
    let inputs = vectors_from.int8_inputs();
    config.temporis.test_vectors = (0..n_vectors.min(vectors_from.len()))
        .map(|i| make_test_vector(base, Some(&adapter), &inputs[i * PIXELS..(i + 1) * PIXELS]))
        .collect::<Result<_, _>>()?;
    Ok(AdapterFiles::encode(&config, &weights, base)?)
}
