//! Kernel benchmark.
#![allow(missing_docs)]

fn main() {}
