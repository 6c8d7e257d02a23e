//! Bytes posted per transaction: our batch encoding against RLP + zlib over the same blocks.
//!
//! ```text
//! cargo run --release -p temporis-batch --example batch_bench [blocks] [txs_per_block] [senders]
//! ```
//!
//! Builds three corpora in-process (ETH transfers, ERC-20 transfers, a marketplace mix of
//! ModelNFT mints, listings, purchases, offers and transfers), each signed with real keys,
//! encodes each corpus as one batch with brotli and zstd at several levels, and prints, as
//! Markdown, the bytes posted per tx (DA payloads: frames and version bytes included), the
//! ratio to the baseline (the RLP list of each block's txs, concatenated, zlib level 9), and
//! encode/decode speeds. Figures are printed, never asserted.

#[path = "../tests/it/corpus.rs"]
mod corpus;

use alloy::{consensus::TxEnvelope, eips::eip2718::Decodable2718};
use corpus::{CHAIN_ID, Shape};
use std::{hint::black_box, io::Write, time::Instant};
use temporis_batch::{Batch, ChannelConfig, ChannelReader, Compression, DecodeLimits};

/// The best of `runs` timings of `f` (seconds) and its last result.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = black_box(f());
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("runs > 0"))
}

/// RLP of each block's tx list (the block body's transactions field), concatenated, then zlib.
fn baseline(batch: &Batch, level: u32) -> (usize, usize) {
    let mut rlp = Vec::new();
    for b in &batch.blocks {
        let txs: Vec<TxEnvelope> =
            b.txs.iter().map(|t| TxEnvelope::decode_2718(&mut t.as_ref()).expect("corpus tx")).collect();
        alloy::rlp::encode_list(&txs, &mut rlp);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    z.write_all(&rlp).expect("in-memory write");
    (rlp.len(), z.finish().expect("in-memory write").len())
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numeric argument")).collect();
    let shape = Shape {
        blocks: args.first().copied().unwrap_or(100),
        txs_per_block: args.get(1).copied().unwrap_or(100),
        senders: args.get(2).copied().unwrap_or(500),
    };
    let compressions = [
        Compression::Brotli { level: 5 },
        Compression::Brotli { level: 9 },
        Compression::Brotli { level: 10 },
        Compression::Brotli { level: 11 },
        Compression::Zstd { level: 3 },
        Compression::Zstd { level: 9 },
        Compression::Zstd { level: 19 },
        Compression::Zstd { level: 22 },
    ];
    eprintln!("building corpora: {shape:?} …");
    let corpora = [
        ("ETH transfers", corpus::eth_transfers(shape)),
        ("ERC-20 transfers", corpus::erc20_transfers(shape)),
        ("marketplace mix", corpus::marketplace_mix(shape)),
    ];
    println!(
        "{} blocks × {} txs per block, {} senders; one batch (one channel) per corpus; payloads ≤ {} bytes.\n",
        shape.blocks,
        shape.txs_per_block,
        shape.senders,
        temporis_batch::DEFAULT_MAX_PAYLOAD_SIZE
    );
    println!("| corpus | encoding | bytes/tx | × baseline | encode (tx/s) | decode (tx/s) |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, batch) in &corpora {
        let n = batch.tx_count();
        let raw: usize = batch.blocks.iter().flat_map(|b| &b.txs).map(|t| t.len()).sum();
        let (rlp_len, base) = baseline(batch, 9);
        let per = |bytes: usize| bytes as f64 / n as f64;
        println!("| {name} | raw EIP-2718 txs | {:.1} | {:.2} | | |", per(raw), raw as f64 / base as f64);
        println!("| {name} | RLP blocks | {:.1} | {:.2} | | |", per(rlp_len), rlp_len as f64 / base as f64);
        let (base_time, _) = time(3, || baseline(batch, 9));
        println!(
            "| {name} | **baseline: RLP + zlib 9** | **{:.1}** | 1.00 | {:.0} | |",
            per(base),
            n as f64 / base_time
        );
        let body = batch.encode_body(&temporis_batch::BatchConfig::new(CHAIN_ID)).expect("encode");
        println!(
            "| {name} | our body, uncompressed | {:.1} | {:.2} | | |",
            per(body.len()),
            body.len() as f64 / base as f64
        );
        for c in compressions {
            let cfg = ChannelConfig::new(CHAIN_ID).with_compression(c);
            let runs = if matches!(c, Compression::Brotli { level: 10.. } | Compression::Zstd { level: 19.. })
            {
                2
            } else {
                3
            };
            let (enc, payloads) = time(runs, || batch.encode(&cfg).expect("encode"));
            let posted: usize = payloads.iter().map(Vec::len).sum();
            let (dec, out) = time(3, || {
                let mut r = ChannelReader::new(DecodeLimits::new(CHAIN_ID));
                payloads.iter().flat_map(|p| r.push(p).expect("decode")).collect::<Vec<_>>()
            });
            assert_eq!(out.len(), 1, "one batch back");
            assert_eq!(&out[0], batch, "round trip");
            let label = match c {
                Compression::Brotli { level } => format!("ours, brotli {level}"),
                Compression::Zstd { level } => format!("ours, zstd {level}"),
                Compression::None => "ours, none".into(),
            };
            println!(
                "| {name} | {label} | {:.1} | {:.2} | {:.0} | {:.0} |",
                per(posted),
                posted as f64 / base as f64,
                n as f64 / enc,
                n as f64 / dec
            );
        }
    }
}
