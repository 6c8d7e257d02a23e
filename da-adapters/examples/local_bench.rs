//! Throughput of the local DA backend: put (hash + atomic write + fsync) and get (read + re-hash)
//! for 128 KiB and 4 MiB blobs. Prints figures; asserts nothing.
//!
//! ```sh
//! cargo run --release -p temporis-da-adapters --example local_bench [-- DIR]
//! ```
//! DIR defaults to a fresh directory under the system temp dir (so, usually, tmpfs or the root
//! disk: say which when you quote the figures).

use std::time::Instant;
use temporis_da_adapters::LocalBackend;

fn main() -> eyre::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("temporis-da-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir);
    let store = LocalBackend::open(&dir, 16 * 1024 * 1024)?;
    println!("local backend in {}", dir.display());
    println!("| blob | count | put MB/s | get MB/s |\n|---:|---:|---:|---:|");
    for (label, size, count) in [("128 KiB", 128 * 1024, 200usize), ("4 MiB", 4 * 1024 * 1024, 20)] {
        // Distinct blobs (no dedup shortcut): each starts with its index.
        let blobs: Vec<Vec<u8>> = (0..count)
            .map(|i| {
                let mut b: Vec<u8> =
                    (0..size).map(|j| (j as u32).wrapping_mul(2_654_435_761) as u8).collect();
                b[..8].copy_from_slice(&(i as u64).to_be_bytes());
                b
            })
            .collect();
        let start = Instant::now();
        let commitments = blobs.iter().map(|b| store.put_blocking(b)).collect::<Result<Vec<_>, _>>()?;
        let put = start.elapsed();
        let start = Instant::now();
        for c in &commitments {
            store.get_blocking(c)?;
        }
        let get = start.elapsed();
        let mb = (size * count) as f64 / 1e6;
        println!("| {label} | {count} | {:.0} | {:.0} |", mb / put.as_secs_f64(), mb / get.as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
