//! Integration tests of `temporis-aivm` (one binary, one module per area).

mod aivm_support;
mod cli;
mod inference;
mod kernels;
mod model_format;
mod pack;
mod shipped_models;
