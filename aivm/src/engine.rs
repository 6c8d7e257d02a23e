//! The inference engine: what the AIVM precompiles call.
//!
//! [`infer`] runs a [`Model`], optionally with an [`Adapter`], on one int8 input and returns the
//! last layer's int8 output, its int32 accumulator ("logits", before requantization) and the
//! arg-max. [`macs`] counts the multiply-accumulates of that call, the basis of its gas.
//!
//! Per layer (`docs/aivm-kernels.md` has the full rule):
//!
//! ```text
//! acc = sat_i32( W·x + bias [+ round(B·requant(A·x) · scale)] )   (sum in i64)
//! y   = requant(acc), clamp [-128,127] or [0,127] after ReLU
//! ```

use crate::{
    kernels::reference,
    model::{Adapter, Model, ModelError, ModelResult},
};
use serde::{Deserialize, Serialize};

/// The result of one inference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// The last layer's requantized int8 output.
    pub output: Vec<i8>,
    /// The last layer's int32 accumulator (bias and adapter included, before requantization).
    pub logits: Vec<i32>,
    /// Index of the largest logit; the lowest such index on ties.
    pub argmax: usize,
}

/// Which matmul implementation runs the layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// candle, exact by construction ([`crate::kernels::ExactMatmul`]).
    Fast,
    /// The plain integer loops ([`crate::kernels::reference`]).
    Reference,
}

/// Runs `model` (with `adapter`, if given) on one input of `model.input_features()` values.
pub fn infer(model: &Model, adapter: Option<&Adapter>, input: &[i8]) -> ModelResult<Output> {
    let mut out = infer_batch_with(model, adapter, input, Kernels::Fast)?;
    Ok(out.pop().expect("one input gives one output"))
}

/// Runs a batch: `inputs` holds `n · input_features` values, one input after the other.
pub fn infer_batch(model: &Model, adapter: Option<&Adapter>, inputs: &[i8]) -> ModelResult<Vec<Output>> {
    infer_batch_with(model, adapter, inputs, Kernels::Fast)
}

/// [`infer_batch`] with a chosen kernel implementation (the reference one exists to check the
/// fast one).
pub fn infer_batch_with(
    model: &Model,
    adapter: Option<&Adapter>,
    inputs: &[i8],
    kernels: Kernels,
) -> ModelResult<Vec<Output>> {
    let k0 = model.input_features();
    if inputs.is_empty() || !inputs.len().is_multiple_of(k0) {
        return Err(ModelError::InputLength { expected: k0, found: inputs.len() });
    }
    if let Some(a) = adapter
        && a.base_model_id() != model.id()
    {
        return Err(ModelError::BaseModelMismatch { declared: a.base_model_id(), actual: model.id() });
    }
    let rows = inputs.len() / k0;
    let mut x = inputs.to_vec();
    let last = model.layers.len() - 1;
    for (i, layer) in model.layers.iter().enumerate() {
        let c = &layer.config;
        let (out, k) = (c.out_features, c.in_features);
        let xw = match kernels {
            Kernels::Fast => layer.kernel.forward(&x, rows)?,
            Kernels::Reference => reference::matmul(&x, rows, &layer.weight, out, k)?,
        };
        let mut acc: Vec<i64> =
            xw.iter().enumerate().map(|(j, &v)| i64::from(v) + i64::from(layer.bias[j % out])).collect();
        if let Some(lora) = adapter.and_then(|a| a.targets.get(&c.name)) {
            let h = match kernels {
                Kernels::Fast => lora.a_kernel.forward(&x, rows)?,
                Kernels::Reference => reference::matmul(&x, rows, &lora.a, lora.r, k)?,
            };
            // The one intermediate requantization of LoRA: A·x back to int8 before B.
            let h8: Vec<i8> = h.iter().map(|&v| lora.quant.a_requant.to_i8(v, false)).collect();
            let u = match kernels {
                Kernels::Fast => lora.b_kernel.forward(&h8, rows)?,
                Kernels::Reference => reference::matmul(&h8, rows, &lora.b, out, lora.r)?,
            };
            // |W·x + b| < 2^32 and |scale(u)| ≤ 2^62: the i64 sum cannot overflow.
            for (a, &v) in acc.iter_mut().zip(&u) {
                *a += lora.quant.scale.scale(v);
            }
        }
        let acc: Vec<i32> = acc.into_iter().map(saturate_i32).collect();
        let relu = c.activation == crate::model::Activation::Relu;
        let y: Vec<i8> = acc.iter().map(|&v| c.requant.to_i8(v, relu)).collect();
        if i == last {
            return Ok(acc
                .chunks_exact(out)
                .zip(y.chunks_exact(out))
                .map(|(logits, output)| Output {
                    output: output.to_vec(),
                    logits: logits.to_vec(),
                    argmax: argmax(logits),
                })
                .collect());
        }
        x = y;
    }
    unreachable!("a checked model has at least one layer")
}

const fn saturate_i32(v: i64) -> i32 {
    if v > i32::MAX as i64 {
        i32::MAX
    } else if v < i32::MIN as i64 {
        i32::MIN
    } else {
        v as i32
    }
}

fn argmax(v: &[i32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Multiply-accumulates of one [`infer`] call: `Σ in·out` over the layers, plus `r·(in + out)`
/// for each layer an adapter targets.
pub fn macs(model: &Model, adapter: Option<&Adapter>) -> u64 {
    model
        .layers
        .iter()
        .map(|l| {
            let (i, o) = (l.config.in_features as u64, l.config.out_features as u64);
            let lora =
                adapter.and_then(|a| a.targets.get(&l.config.name)).map_or(0, |t| t.r as u64 * (i + o));
            i * o + lora
        })
        .sum()
}
