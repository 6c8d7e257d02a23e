//! Integration tests of the DA backends and the `temporis-da` server, one binary with a module
//! per backend (each starts the real peers it needs: anvil, HTTP servers on loopback).

mod blob;
mod calldata;
mod commitment;
mod filecoin;
mod near;
mod replicated;
mod server;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::signers::local::PrivateKeySigner;

/// A real anvil (the pinned one in `.tools/bin`) on a free port with `chain_id`.
pub(crate) fn anvil(chain_id: u64) -> AnvilInstance {
    anvil_with(chain_id, &[])
}

/// A real anvil with extra command-line arguments (e.g. `["--hardfork", "prague"]`).
pub(crate) fn anvil_with(chain_id: u64, args: &[&str]) -> AnvilInstance {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/bin/anvil");
    assert!(std::path::Path::new(path).exists(), "{path} missing: run `make bootstrap`");
    Anvil::at(path)
        .port(0u16)
        .chain_id(chain_id)
        .args(args.iter().copied())
        .try_spawn()
        .expect("anvil starts")
}

/// The first funded dev key of `a`.
pub(crate) fn signer(a: &AnvilInstance) -> PrivateKeySigner {
    a.keys()[0].clone().into()
}
