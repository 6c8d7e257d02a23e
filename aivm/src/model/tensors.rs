//! Reading and writing the int8 / int32 tensors of model and adapter files (safetensors).

use super::error::{ModelError, ModelResult};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::collections::BTreeSet;

/// A parsed safetensors file, with the file name for error messages.
pub(crate) struct TensorFile<'a> {
    file: &'static str,
    st: SafeTensors<'a>,
    taken: BTreeSet<String>,
}

impl<'a> TensorFile<'a> {
    pub(crate) fn parse(file: &'static str, bytes: &'a [u8]) -> ModelResult<Self> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| ModelError::Safetensors { file, reason: e.to_string() })?;
        Ok(Self { file, st, taken: BTreeSet::new() })
    }

    fn view(&mut self, name: &str, dtype: Dtype, shape: &[usize]) -> ModelResult<TensorView<'a>> {
        let view = self
            .st
            .tensor(name)
            .map_err(|_| ModelError::MissingTensor { file: self.file, name: name.to_owned() })?;
        if view.dtype() != dtype {
            return Err(ModelError::TensorDtype {
                file: self.file,
                name: name.to_owned(),
                expected: if dtype == Dtype::I8 { "I8" } else { "I32" },
                found: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != shape {
            return Err(ModelError::TensorShape {
                file: self.file,
                name: name.to_owned(),
                expected: shape.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        self.taken.insert(name.to_owned());
        Ok(view)
    }

    /// The int8 tensor `name`, which must have exactly `shape`.
    pub(crate) fn i8(&mut self, name: &str, shape: &[usize]) -> ModelResult<Vec<i8>> {
        let view = self.view(name, Dtype::I8, shape)?;
        Ok(view.data().iter().map(|&b| b as i8).collect())
    }

    /// The int32 (little-endian) tensor `name`, which must have exactly `shape`.
    pub(crate) fn i32(&mut self, name: &str, shape: &[usize]) -> ModelResult<Vec<i32>> {
        let view = self.view(name, Dtype::I32, shape)?;
        Ok(view.data().chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// Fails if the file holds a tensor that was not taken: a content-addressed file must not
    /// carry bytes that no check covers.
    pub(crate) fn finish(self) -> ModelResult<()> {
        let mut names = self.st.names();
        names.sort();
        match names.into_iter().find(|n| !self.taken.contains(*n)) {
            Some(extra) => Err(ModelError::UnexpectedTensor { file: self.file, name: extra.to_owned() }),
            None => Ok(()),
        }
    }
}

/// One tensor to write.
pub(crate) enum OwnedTensor {
    I8(Vec<usize>, Vec<i8>),
    I32(Vec<usize>, Vec<i32>),
}

/// Serializes tensors (no metadata; safetensors orders them deterministically).
pub(crate) fn serialize(tensors: Vec<(String, OwnedTensor)>) -> Vec<u8> {
    let bytes: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .map(|(name, t)| match t {
            OwnedTensor::I8(shape, v) => (name, Dtype::I8, shape, v.into_iter().map(|x| x as u8).collect()),
            OwnedTensor::I32(shape, v) => {
                (name, Dtype::I32, shape, v.into_iter().flat_map(i32::to_le_bytes).collect())
            }
        })
        .collect();
    let views = bytes.iter().map(|(name, dtype, shape, data)| {
        (
            name.as_str(),
            TensorView::new(*dtype, shape.clone(), data).expect("length matches shape by construction"),
        )
    });
    safetensors::serialize(views, None).expect("valid views serialize")
}
