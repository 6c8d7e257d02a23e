#![doc = include_str!("../README.md")]

pub mod config;
mod error;
pub mod l1;
pub mod proposer;
pub mod types;

pub use error::{PipelineError, Result, SourceError};
