//! Sender recovery: what the node pays per transaction, with the backend it is built with.
//!
//! ```text
//! cargo run --release -p temporis-sequencer --example recover_bench [-- N]
//! ```
//!
//! Signs N EIP-1559 transfers (default 20 000) with the ten dev keys, then recovers every
//! sender on one thread twice: through `SignerRecoverable::recover_signer`, the call the node
//! makes in `eth_sendRawTransaction` and in a follower's `Node::import_batch` (libsecp256k1,
//! which the crate's `alloy-consensus/secp256k1` feature selects), and through the pure-Rust
//! `k256` crate's `VerifyingKey::recover_from_prehash` (alloy's default backend, which the node
//! used before). Prints µs per recovery and recoveries per second, and checks every recovered
//! address. Figures are printed, never asserted.

use std::hint::black_box;
use std::time::Instant;

use alloy::consensus::transaction::SignerRecoverable;
use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy_primitives::{Address, TxKind, U256};
use temporis_sequencer::genesis::DEV_KEYS;

fn main() -> eyre::Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(s) => s.parse().map_err(|e| eyre::eyre!("N must be a count of transactions: {e}"))?,
        None => 20_000,
    };
    let keys: Vec<PrivateKeySigner> =
        DEV_KEYS.iter().map(PrivateKeySigner::from_bytes).collect::<Result<_, _>>()?;

    eprintln!("signing {n} transfers …");
    let mut txs = Vec::with_capacity(n);
    for i in 0..n {
        let key = &keys[i % keys.len()];
        let tx = TxEip1559 {
            chain_id: 73571,
            nonce: (i / keys.len()) as u64,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1_000_000,
            to: TxKind::Call(Address::with_last_byte((i % 251) as u8)),
            value: U256::from(i),
            input: Default::default(),
            access_list: Default::default(),
        };
        let sig = key.sign_hash_sync(&tx.signature_hash())?;
        txs.push((key.address(), TxEnvelope::from(tx.into_signed(sig))));
    }

    let started = Instant::now();
    for (signer, tx) in &txs {
        let got = black_box(tx).recover_signer()?;
        eyre::ensure!(got == *signer, "recover_signer gave {got}, expected {signer}");
    }
    let secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for (signer, tx) in &txs {
        let got = k256_recover(black_box(tx))?;
        eyre::ensure!(got == *signer, "k256 gave {got}, expected {signer}");
    }
    let k256_secs = started.elapsed().as_secs_f64();

    println!("{n} recoveries on one thread:");
    for (name, secs) in [("node (recover_signer, libsecp256k1)", secs), ("k256 (pure Rust)", k256_secs)] {
        println!("  {name:<36} {:>7.1} µs each {:>8.0}/s", secs * 1e6 / n as f64, n as f64 / secs);
    }
    println!("  k256 / node: {:.2}×", k256_secs / secs);
    Ok(())
}

/// The sender of an EIP-1559 transaction, recovered with `k256` alone.
fn k256_recover(tx: &TxEnvelope) -> eyre::Result<Address> {
    let TxEnvelope::Eip1559(signed) = tx else { eyre::bail!("the corpus is EIP-1559 only") };
    let sig = signed.signature();
    let signature =
        k256::ecdsa::Signature::from_scalars(sig.r().to_be_bytes::<32>(), sig.s().to_be_bytes::<32>())?;
    let recovery_id = k256::ecdsa::RecoveryId::new(sig.v(), false);
    let key = k256::ecdsa::VerifyingKey::recover_from_prehash(
        signed.signature_hash().as_slice(),
        &signature,
        recovery_id,
    )?;
    let point = key.to_encoded_point(false);
    Ok(Address::from_slice(&alloy_primitives::keccak256(&point.as_bytes()[1..])[12..]))
}
