//! The fast kernel equals the reference bit for bit, with 1 and with 2 threads.
//!
//! candle's CPU matmul (gemm) takes its thread count from `RAYON_NUM_THREADS` (read by
//! `candle_core::utils::get_num_threads` on every call) and runs on rayon's global pool, whose
//! size is fixed when the pool starts. Both are process-global, so one process cannot honestly
//! test two thread counts. The test below therefore re-runs this test binary twice, with
//! `RAYON_NUM_THREADS=1` and `=2`, on the ignored test `property_in_child`, which checks that the
//! setting took (candle and rayon both report it) and that with 2 threads both pool workers did
//! run matmul work (their CPU time from `/proc/self/task/*/schedstat`, on Linux), then runs the property test.

use candle_core::Device;
use proptest::{prelude::*, test_runner::TestRunner};
use std::process::Command;
use temporis_aivm::kernels::{EXACT_K_CHUNK, ExactMatmul, reference};

const CHILD: &str = "kernels::property_in_child";
const THREADS_ENV: &str = "TEMPORIS_AIVM_TEST_THREADS";

#[test]
fn fast_path_is_exact_with_1_and_2_threads() {
    let exe = std::env::current_exe().unwrap();
    for threads in [1, 2] {
        let out = Command::new(&exe)
            .args([CHILD, "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
            .env("RAYON_NUM_THREADS", threads.to_string())
            .env(THREADS_ENV, threads.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child with {threads} thread(s) failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "child ran no test:\n{stdout}");
        for line in stdout.lines().filter_map(|l| l.split_once("aivm: ").map(|(_, r)| r)) {
            eprintln!("{line}");
        }
    }
}

/// int8 values with the extremes over-represented (they are what stresses exactness).
fn value() -> impl Strategy<Value = i8> {
    prop_oneof![4 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8)]
}

fn case() -> impl Strategy<Value = (usize, usize, usize, Vec<i8>, Vec<i8>)> {
    (1usize..6, 1usize..24, prop_oneof![1usize..64, 1000usize..1100, 2040usize..2100]).prop_flat_map(
        |(rows, out, k)| {
            (
                Just(rows),
                Just(out),
                Just(k),
                proptest::collection::vec(value(), rows * k),
                proptest::collection::vec(value(), out * k),
            )
        },
    )
}

/// Time on CPU, in nanoseconds, of this process's threads named `aivm-rayon-*` (the first field
/// of `/proc/self/task/<tid>/schedstat`, exact rather than sampled at clock ticks).
#[cfg(target_os = "linux")]
fn worker_cpu_ns() -> Vec<u64> {
    let mut ns = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("aivm-rayon-") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns.push(stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0));
    }
    ns
}

#[test]
#[ignore = "run by fast_path_is_exact_with_1_and_2_threads in a child process with RAYON_NUM_THREADS set"]
fn property_in_child() {
    let threads: usize = std::env::var(THREADS_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("aivm-rayon-{i}"))
            .build_global()
            .unwrap();
        assert_eq!(candle_core::utils::get_num_threads(), threads, "candle did not take RAYON_NUM_THREADS");
        assert_eq!(rayon::current_num_threads(), threads);
    }

    // A shape well above gemm's threading threshold (48·48·256 multiply-adds), across two
    // k-chunks, repeated so that each worker's share shows up in its CPU time.
    let (rows, out, k) = (128, 256, EXACT_K_CHUNK + 77);
    let mut seed = 0x5eed_u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 56) as i8
    };
    let x: Vec<i8> = (0..rows * k).map(|_| next()).collect();
    let w: Vec<i8> = (0..out * k).map(|_| next()).collect();
    let m = ExactMatmul::new(&w, out, k, &Device::Cpu).unwrap();
    let want = reference::matmul(&x, rows, &w, out, k).unwrap();
    for _ in 0..60 {
        assert_eq!(m.forward(&x, rows).unwrap(), want);
    }
    #[cfg(target_os = "linux")]
    if threads > 0 {
        let ns = worker_cpu_ns();
        let ms: Vec<String> = ns.iter().map(|n| format!("{:.1} ms", *n as f64 / 1e6)).collect();
        println!("aivm: RAYON_NUM_THREADS={threads}: CPU time of the rayon workers {ms:?}");
        assert_eq!(ns.len(), threads);
        if threads == 2 {
            // Both workers ran a real share of the matmuls (start-up alone is ~0.1 ms).
            assert!(ns.iter().all(|&t| t > 1_000_000), "a worker did no matmul work: {ms:?}");
        }
    }

    let mut runner = TestRunner::new(ProptestConfig { cases: 48, ..ProptestConfig::default() });
    runner
        .run(&case(), |(rows, out, k, x, w)| {
            let fast = ExactMatmul::new(&w, out, k, &Device::Cpu).unwrap().forward(&x, rows).unwrap();
            prop_assert_eq!(fast, reference::matmul(&x, rows, &w, out, k).unwrap());
            Ok(())
        })
        .unwrap();
    println!("aivm: RAYON_NUM_THREADS={threads}: 48 random shapes exact");
}
