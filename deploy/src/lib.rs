#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod devnet;
mod error;
pub mod gas;
pub mod l1;
pub mod l2;
pub mod process;

pub use error::{DeployError, Result};
