//! CommP (Filecoin piece commitment) throughput, one thread, for 1 MiB and 32 MiB payloads,
//! next to plain SHA-256 of the same bytes for scale (a CommP hashes about 4 bytes of tree
//! per payload byte: 128/127 for fr32, two compressions per 64-byte node, nodes summing to the
//! leaves' size). Prints figures; asserts nothing.
//!
//! ```sh
//! cargo run --release -p temporis-da-adapters --example commp_bench
//! ```

use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use temporis_da_adapters::filecoin::CommP;

fn time(mut f: impl FnMut(), min: Duration) -> (Duration, u32) {
    let start = Instant::now();
    let mut n = 0;
    while n == 0 || start.elapsed() < min {
        f();
        n += 1;
    }
    (start.elapsed(), n)
}

fn main() {
    let sha_ni = std::arch::is_x86_feature_detected!("sha");
    println!("CPU SHA extensions (SHA-NI) detected: {sha_ni}");
    println!("| payload | CommP MB/s | SHA-256 MB/s | piece CID |\n|---:|---:|---:|---|");
    for (label, size) in [("1 MiB", 1usize << 20), ("32 MiB", 32 << 20)] {
        let data: Vec<u8> =
            (0..size).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2]).collect();
        let mut piece = None;
        let (t, n) = time(
            || {
                // Fed in 64 KiB writes, as a body arrives from the network.
                let mut c = CommP::new();
                for part in data.chunks(64 * 1024) {
                    c.update(part);
                }
                piece = Some(c.finish().expect("small payload"));
            },
            Duration::from_secs(2),
        );
        let commp_mbs = (size as f64 * f64::from(n)) / 1e6 / t.as_secs_f64();
        let (t, n) = time(
            || {
                std::hint::black_box(Sha256::digest(&data));
            },
            Duration::from_secs(1),
        );
        let sha_mbs = (size as f64 * f64::from(n)) / 1e6 / t.as_secs_f64();
        println!("| {label} | {commp_mbs:.0} | {sha_mbs:.0} | {} |", piece.expect("ran at least once"));
    }
}
