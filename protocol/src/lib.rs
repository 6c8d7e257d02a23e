#![doc = include_str!("../README.md")]

pub mod chain;
pub mod commitment;
pub mod deposit;
pub mod dev;
mod error;
pub mod l1;
pub mod output;
pub mod rollup;
pub mod withdrawal;

pub use error::{ProtocolError, Result};
