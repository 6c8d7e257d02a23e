#![doc = include_str!("../README.md")]

pub mod batcher;
pub mod config;
pub mod derive;
mod error;
pub mod inbox;
pub mod l1;
pub mod proposer;
pub mod types;
pub mod withdraw;

pub use error::{PipelineError, Result, SourceError};
