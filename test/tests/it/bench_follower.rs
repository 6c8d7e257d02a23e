//! Follower derivation speed (ignored by default; it prints figures and asserts none of them):
//!
//! ```text
//! cargo build --release -p temporis-sequencer
//! TEMPORIS_SEQUENCER_BIN=target/release/temporis-sequencer \
//!   cargo test -p temporis-e2e --test it bench_follower -- --ignored --nocapture
//! TEMPORIS_BENCH_N=10000 …   (default 3000 transactions)
//! ```
//!
//! A devnet L1 (anvil, 1 s blocks, the L1 contracts, the DA server) and a sequencer with its
//! batcher. The ten dev accounts send N transactions signed in-process, half ETH transfers and
//! half ERC-20 transfers (OpenZeppelin 5 `BenchToken`, built with forge from
//! `sequencer/tests/fixtures/tokens`). Once the batcher has posted batches covering every
//! block with a benchmark transaction and the L1 has confirmed the last of them, a fresh
//! follower starts on an empty data directory; the figure is the wall time from its spawn to
//! the first poll (10 ms) that finds the sequencer's hash at the last posted block. That time
//! holds everything derivation does: L1 log reads, DA gets, frame and channel decoding,
//! decompression, the replay of every block and the commits to the store. The follower's own
//! log gives the same span from its "deriving the chain" line (without the process start), and
//! its `block imported` lines the replay part of it (`executed`) and the whole import of each
//! block (`total`). `TEMPORIS_BENCH_RUNS` (default 3) fresh followers are timed one after the
//! other over the same chain.

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolValue};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, hex};
use eyre::{Context, ContextCompat, Result, bail, ensure};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};
use temporis_e2e::{Devnet, DevnetOptions, NodeProcess, http_rpc, repo_root, tool, wait_for};
use temporis_protocol::dev::DEV_KEYS;

use crate::crash::node_args;
use crate::rollup::{PostedPayload, posted_payloads};

/// The devnet L2's chain id.
const CHAIN_ID: u64 = 73_571;
/// Fee cap of every benchmark transaction: far above the base fee the load can push to.
const MAX_FEE: u128 = 100_000_000_000;
/// Priority fee of every benchmark transaction.
const TIP: u128 = 1_000_000;
/// Gas limit of an ERC-20 transfer (a first transfer to a fresh holder uses about 51k).
const ERC20_GAS: u64 = 80_000;
/// The L1 confirmations the follower's L1 watcher waits for (the pipeline's default).
const L1_CONFIRMATIONS: u64 = 4;

alloy::sol! {
    function transfer(address to, uint256 value) external returns (bool);
}

fn quantity(v: &serde_json::Value) -> Result<u64> {
    let s = v.as_str().with_context(|| format!("a quantity, got {v}"))?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

fn dev_key(i: usize) -> Result<PrivateKeySigner> {
    Ok(PrivateKeySigner::from_bytes(&DEV_KEYS[i])?)
}

/// An EIP-1559 transaction on the devnet L2, signed and 2718-encoded.
fn sign(
    key: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> Result<Bytes> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: TIP,
        to,
        value,
        input,
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash())?;
    let envelope: TxEnvelope = tx.into_signed(sig).into();
    Ok(envelope.encoded_2718().into())
}

/// Creation code of `BenchToken`, built with the pinned forge and solc into a scratch
/// directory (the fixture's tree stays clean).
fn bench_token_code(scratch: &Path) -> Result<Vec<u8>> {
    let project = repo_root().join("sequencer/tests/fixtures/tokens");
    let out_dir = scratch.join("forge-out");
    let out = std::process::Command::new(tool("forge")?)
        .arg("build")
        .arg("--root")
        .arg(&project)
        .arg("--use")
        .arg(tool("solc")?)
        .arg("--offline")
        .arg("--out")
        .arg(&out_dir)
        .arg("--cache-path")
        .arg(scratch.join("forge-cache"))
        .output()
        .context("running forge")?;
    ensure!(out.status.success(), "forge build failed: {}", String::from_utf8_lossy(&out.stderr));
    let artifact: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("BenchToken.sol/BenchToken.json"))?)?;
    Ok(hex::decode(artifact["bytecode"]["object"].as_str().context("bytecode")?)?)
}

fn wait_receipt(url: &str, hash: &str, timeout: Duration) -> Result<serde_json::Value> {
    wait_for(&format!("the receipt of {hash}"), timeout, || {
        let r = http_rpc(url, "eth_getTransactionReceipt", &format!(r#"["{hash}"]"#))?;
        Ok((!r.is_null()).then_some(r))
    })
}

/// Deploys `BenchToken` from dev account 0 with the ten dev accounts as holders.
fn deploy_token(url: &str, code: Vec<u8>, holders: &[Address]) -> Result<Address> {
    let key = dev_key(0)?;
    let nonce =
        quantity(&http_rpc(url, "eth_getTransactionCount", &format!(r#"["{}","pending"]"#, key.address()))?)?;
    let mut init = code;
    init.extend((holders.to_vec(), U256::from(10u64).pow(U256::from(24))).abi_encode_params());
    let raw = sign(&key, nonce, TxKind::Create, U256::ZERO, init.into(), 3_000_000)?;
    let hash = http_rpc(url, "eth_sendRawTransaction", &format!(r#"["{raw}"]"#))?;
    let receipt = wait_receipt(url, hash.as_str().context("tx hash")?, Duration::from_secs(30))?;
    ensure!(receipt["status"] == "0x1", "BenchToken deployment reverted: {receipt}");
    Ok(Address::from_str(receipt["contractAddress"].as_str().context("contractAddress")?)?)
}

/// Each sender's transactions in nonce order: even ones move 1 wei, odd ones 1 token unit, to
/// the sender's own recipient.
fn corpus(url: &str, token: Address, n: usize) -> Result<Vec<Vec<Bytes>>> {
    (0..DEV_KEYS.len())
        .map(|i| {
            let key = dev_key(i)?;
            let first = quantity(&http_rpc(
                url,
                "eth_getTransactionCount",
                &format!(r#"["{}","pending"]"#, key.address()),
            )?)?;
            let recipient = Address::repeat_byte(0x50 + i as u8);
            // The first `n % 10` senders take one more, so that the corpus has exactly n.
            let count = n / DEV_KEYS.len() + usize::from(i < n % DEV_KEYS.len());
            (0..count as u64)
                .map(|k| {
                    if k % 2 == 0 {
                        sign(&key, first + k, TxKind::Call(recipient), U256::from(1), Bytes::new(), 21_000)
                    } else {
                        let input = transferCall { to: recipient, value: U256::from(1) }.abi_encode();
                        sign(&key, first + k, TxKind::Call(token), U256::ZERO, input.into(), ERC20_GAS)
                    }
                })
                .collect()
        })
        .collect()
}

/// Sends every sender's transactions from its own thread; returns the hash of each sender's
/// last one.
fn send_all(url: &str, corpus: Vec<Vec<Bytes>>) -> Result<Vec<String>> {
    let threads: Vec<_> = corpus
        .into_iter()
        .map(|txs| {
            let url = url.to_owned();
            std::thread::spawn(move || -> Result<Option<String>> {
                let mut last = None;
                for raw in txs {
                    let hash = http_rpc(&url, "eth_sendRawTransaction", &format!(r#"["{raw}"]"#))?;
                    last = Some(hash.as_str().context("tx hash")?.to_owned());
                }
                Ok(last)
            })
        })
        .collect();
    let mut last = Vec::new();
    for t in threads {
        match t.join() {
            Ok(r) => last.extend(r?),
            Err(_) => bail!("a sender thread panicked"),
        }
    }
    Ok(last)
}

/// Strips the ANSI colour sequences the node's log formatter may write.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC '[' parameters… final byte in '@'..='~'.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `Debug`-printed `Duration` (`1.5ms`, `830.2µs`, `2.1s`, `75ns`).
fn parse_debug_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (value, unit) = s.split_at(split);
    let value: f64 = value.parse().ok()?;
    let secs = match unit {
        "s" => value,
        "ms" => value / 1e3,
        "µs" | "us" => value / 1e6,
        "ns" => value / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// Seconds since midnight UTC of a log line's RFC 3339 timestamp (`2026-12-02T00:13:00.098935Z`).
fn log_time(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split_once('T')?.1.strip_suffix('Z')?;
    let mut parts = time.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    Some(h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

/// What the follower's log says about blocks `1..=target`.
#[derive(Debug, Default)]
struct ImportLog {
    blocks: usize,
    /// Replay of the blocks' transactions (`executed`).
    executed: Duration,
    /// The whole import of each block: replay, roots, commit (`total`).
    total: Duration,
    /// From the line that starts the derivation to the one that imports `target`.
    window: Option<Duration>,
    /// From the line that starts the derivation to the start of the first import (the first
    /// `block imported` line less its `total`): L1 reads, DA gets, decoding of the batches.
    before_first_import: Option<Duration>,
}

fn import_log(log: &Path, target: u64) -> Result<ImportLog> {
    let text = std::fs::read_to_string(log)?;
    let mut sum = ImportLog::default();
    let (mut started, mut reached, mut first_import) = (None, None, None);
    for line in text.lines().map(strip_ansi) {
        if line.contains("deriving the chain") {
            started = log_time(&line);
        }
        if !line.contains("block imported") {
            continue;
        }
        let field = |name: &str| {
            line.split_whitespace().find_map(|w| w.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        };
        let number: u64 = field("number").with_context(|| format!("no number= in {line}"))?.parse()?;
        if number > target {
            continue;
        }
        let duration = |name: &str| {
            field(name).and_then(parse_debug_duration).with_context(|| format!("no {name}= in {line}"))
        };
        let total = duration("total")?;
        sum.blocks += 1;
        sum.executed += duration("executed")?;
        sum.total += total;
        if first_import.is_none() {
            first_import = log_time(&line).map(|t| t - total.as_secs_f64());
        }
        if number == target {
            reached = log_time(&line);
        }
    }
    // Seconds from `a` to `b`, for a run across midnight UTC too.
    let span = |a: f64, b: f64| Duration::from_secs_f64(if b >= a { b - a } else { b + 86_400.0 - a });
    if let Some(a) = started {
        sum.window = reached.map(|b| span(a, b));
        sum.before_first_import = first_import.map(|b| span(a, b));
    }
    Ok(sum)
}

fn block_hash(url: &str, n: u64) -> Result<Option<B256>> {
    let b = http_rpc(url, "eth_getBlockByNumber", &format!(r#"["0x{n:x}",false]"#))?;
    if b.is_null() {
        return Ok(None);
    }
    Ok(Some(B256::from_str(b["hash"].as_str().context("hash")?)?))
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_follower_derivation_speed() -> Result<()> {
    let n: usize = std::env::var("TEMPORIS_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let devnet = Devnet::start_with(&DevnetOptions { l1_only: true, l1_block_time: 1, no_follower: true })?;
    let da = devnet.da_url()?;
    let (batcher_key, _) = devnet.account("batcher")?;
    let mut args = node_args(&devnet, "sequencer", &da);
    args.extend(
        [
            "--sequencer.block-time",
            "500ms",
            "--batcher.enabled",
            "--batcher.private-key",
            &batcher_key,
            "--batcher.max-channel-age",
            "2s",
        ]
        .map(str::to_owned),
    );
    // The senders may run ahead of the blocks by the whole corpus: room in the pool for it.
    args.extend([
        "--txpool.account-slots".to_owned(),
        (n / DEV_KEYS.len() + 1).max(1024).to_string(),
        "--txpool.global-slots".to_owned(),
        (n + 1).max(20_000).to_string(),
    ]);
    let sequencer = NodeProcess::start(&args, &devnet.datadir.join("sequencer.log"))?;
    let url = sequencer.url.clone();

    let holders: Vec<Address> =
        (0..DEV_KEYS.len()).map(|i| dev_key(i).map(|k| k.address())).collect::<Result<_>>()?;
    let token = deploy_token(&url, bench_token_code(&devnet.datadir)?, &holders)?;
    let txs = corpus(&url, token, n)?;
    let sent = Instant::now();
    let last = send_all(&url, txs)?;
    let mut last_block = 0;
    for hash in &last {
        let r = wait_receipt(&url, hash, Duration::from_secs(120))?;
        // A corpus that reverts would measure something else than it says.
        ensure!(r["status"] == "0x1", "a benchmark transaction failed: {r}");
        last_block = last_block.max(quantity(&r["blockNumber"])?);
    }
    let load_time = sent.elapsed();

    // Batches covering every benchmark block, posted and confirmed on L1.
    let l1 = devnet.cast()?;
    let inbox = devnet.contract("batchInbox")?;
    let posted: Vec<PostedPayload> = wait_for("batches covering the load", Duration::from_secs(120), || {
        let posted = posted_payloads(&l1, inbox, &da)?;
        let mut reader = temporis_batch::ChannelReader::new(temporis_batch::DecodeLimits::new(CHAIN_ID));
        let mut top = 0;
        for p in &posted {
            for b in reader.push(&p.payload)? {
                top = top.max(b.blocks.last().map_or(0, |x| x.number));
            }
        }
        Ok((top >= last_block).then_some(posted))
    })
    .inspect_err(|_| eprintln!("{}", sequencer.log_tail(60)))?;
    let mut reader = temporis_batch::ChannelReader::new(temporis_batch::DecodeLimits::new(CHAIN_ID));
    let mut batches = Vec::new();
    for p in &posted {
        batches.extend(reader.push(&p.payload)?);
    }
    let target = batches.iter().flat_map(|b| b.blocks.last()).map(|b| b.number).max().context("no batch")?;
    let last_l1 = posted.iter().map(|p| p.l1_block).max().context("no BatchPosted event")?;
    wait_for("the L1 to confirm the last batch", Duration::from_secs(30), || {
        let head = quantity(&http_rpc(&devnet.rpc_url, "eth_blockNumber", "[]")?)?;
        Ok((head > last_l1 + L1_CONFIRMATIONS).then_some(()))
    })?;

    // What the follower has to derive: blocks 1..=target of the sequencer.
    let (mut chain_txs, mut user_txs, mut gas) = (0usize, 0usize, 0u64);
    for b in &batches {
        user_txs += b.tx_count();
    }
    for number in 1..=target {
        let b = http_rpc(&url, "eth_getBlockByNumber", &format!(r#"["0x{number:x}",false]"#))?;
        chain_txs += b["transactions"].as_array().context("transactions")?.len();
        gas += quantity(&b["gasUsed"])?;
    }
    let want = block_hash(&url, target)?.context("the sequencer's target block")?;

    let payload_bytes: usize = posted.iter().map(|p| p.payload.len()).sum();
    let calldata_bytes: usize = posted.iter().map(|p| p.commitment_len).sum();
    println!("follower derivation ({n} txs sent, half ETH / half ERC-20 transfers, load {load_time:.2?}):");
    println!(
        "  chain      blocks={target} txs={chain_txs} (user {user_txs}, deposits {}) gas={gas}",
        chain_txs.saturating_sub(user_txs)
    );
    println!(
        "  posted     batches={} DA payloads={} ({payload_bytes} B, {:.1} B/user tx) L1 commitments={calldata_bytes} B",
        batches.len(),
        posted.len(),
        payload_bytes as f64 / user_txs.max(1) as f64
    );
    let rate = |d: Duration| {
        let secs = d.as_secs_f64();
        format!(
            "{:.1} blocks/s {:.0} tx/s {:.1} Mgas/s",
            target as f64 / secs,
            chain_txs as f64 / secs,
            gas as f64 / 1e6 / secs
        )
    };
    let mgas_per_s = |d: Duration| gas as f64 / 1e6 / d.as_secs_f64();
    let runs: usize = std::env::var("TEMPORIS_BENCH_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    for run in 1..=runs {
        // A fresh follower on an empty data directory, timed from its spawn to the sequencer's
        // hash at the target.
        let follower_log = devnet.datadir.join(format!("follower-{run}.log"));
        let start = Instant::now();
        let follower = NodeProcess::start(
            &[node_args(&devnet, &format!("follower-{run}"), &da), vec!["--follow".to_owned()]].concat(),
            &follower_log,
        )?;
        let deadline = start + Duration::from_secs(300);
        let got = loop {
            if let Some(hash) = block_hash(&follower.url, target)? {
                break hash;
            }
            if Instant::now() > deadline {
                eprintln!("{}", follower.log_tail(60));
                bail!("the follower did not reach block {target} within 300 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        drop(follower);
        ensure!(got == want, "follower block {target} is {got}, the sequencer's is {want}");
        let imports = import_log(&follower_log, target)?;
        println!("  run {run}/{runs}");
        println!("    from spawn to block {target}'s hash {elapsed:.2?}: {}", rate(elapsed));
        if let (Some(window), Some(derive)) = (imports.window, imports.before_first_import) {
            println!("    log: derivation start to block {target} imported {window:.2?}: {}", rate(window));
            println!(
                "    log: L1 reads + DA gets + batch decoding until the first import {derive:.2?}; outside the \
                 timed imports (tx decoding, sender recovery) {:.2?}",
                window.saturating_sub(derive).saturating_sub(imports.total)
            );
        }
        println!(
            "    log: {} blocks imported, replay {:.2?} ({:.1} Mgas/s), import incl. roots and commit {:.2?} ({:.1} Mgas/s)",
            imports.blocks,
            imports.executed,
            mgas_per_s(imports.executed),
            imports.total,
            mgas_per_s(imports.total)
        );
    }
    Ok(())
}

#[test]
fn debug_durations_and_ansi_are_parsed() {
    assert_eq!(parse_debug_duration("1.5ms"), Some(Duration::from_micros(1500)));
    assert_eq!(parse_debug_duration("830µs"), Some(Duration::from_micros(830)));
    assert_eq!(parse_debug_duration("2s"), Some(Duration::from_secs(2)));
    assert_eq!(parse_debug_duration("12parsecs"), None);
    assert_eq!(log_time("2026-12-02T00:13:00.5Z  INFO x"), Some(780.5));
    assert_eq!(strip_ansi("\u{1b}[3mexecuted\u{1b}[0m\u{1b}[2m=\u{1b}[0m1.5ms"), "executed=1.5ms");
}
