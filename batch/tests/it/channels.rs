//! Channels cut into frames and read back: multi-payload channels, limits, and frames that
//! come wrong (out of order, twice, interleaved, abandoned).

use crate::corpus::{self, CHAIN_ID, Shape};
use temporis_batch::{
    Batch, BatchError, Channel, ChannelConfig, ChannelId, ChannelReader, Compression, DecodeLimits, Frame,
    frame::{DERIVATION_VERSION, FRAME_OVERHEAD},
};

fn sample(seed_blocks: usize) -> Batch {
    corpus::marketplace_mix(Shape { blocks: seed_blocks, txs_per_block: 5, senders: 8 })
}

fn reader() -> ChannelReader {
    ChannelReader::new(DecodeLimits::new(CHAIN_ID))
}

#[test]
fn a_big_channel_spans_several_payloads() {
    let b = sample(6);
    let cfg = ChannelConfig::new(CHAIN_ID).with_compression(Compression::None).with_max_payload_size(500);
    let payloads = b.encode(&cfg).unwrap();
    assert!(payloads.len() > 3, "{} payloads", payloads.len());
    assert!(payloads.iter().all(|p| p.len() <= 500 && p[0] == DERIVATION_VERSION));
    // All but the last are full.
    assert!(payloads[..payloads.len() - 1].iter().all(|p| p.len() == 500));
    let mut r = reader();
    for p in &payloads[..payloads.len() - 1] {
        assert_eq!(r.push(p).unwrap(), vec![]);
    }
    assert_eq!(r.open_channels(), 1);
    assert_eq!(r.push(payloads.last().unwrap()).unwrap(), vec![b]);
    assert_eq!(r.open_channels(), 0);
}

#[test]
fn frame_size_limits() {
    let b = sample(1);
    // 1 version byte + 23 bytes of frame overhead leave nothing for data.
    let cfg = ChannelConfig::new(CHAIN_ID).with_max_payload_size(1 + FRAME_OVERHEAD);
    assert!(matches!(b.encode(&cfg), Err(BatchError::Config(_))));
    // One byte of data per frame works, while the frame count fits a u16.
    let cfg = ChannelConfig::new(CHAIN_ID).with_max_payload_size(2 + FRAME_OVERHEAD);
    let payloads = b.encode(&cfg).unwrap();
    assert!(payloads.iter().all(|p| p.len() == 2 + FRAME_OVERHEAD));
    let mut r = reader();
    let out: Vec<_> = payloads.iter().flat_map(|p| r.push(p).unwrap()).collect();
    assert_eq!(out, vec![b]);
    // Over 65 536 frames is refused.
    let big = Channel::new(vec![0; 70_000]);
    assert!(matches!(
        big.payloads(2 + FRAME_OVERHEAD),
        Err(BatchError::TooManyFrames { frames: 70_000, .. })
    ));
}

#[test]
fn several_frames_in_one_payload() {
    let (a, b) = (sample(2), sample(3));
    let cfg = ChannelConfig::new(CHAIN_ID).with_max_payload_size(400);
    let mut payload = vec![DERIVATION_VERSION];
    // Interleave the frames of two channels in one payload: both complete.
    let pa: Vec<_> = a.encode(&cfg).unwrap();
    let pb: Vec<_> = b.encode(&cfg).unwrap();
    for i in 0..pa.len().max(pb.len()) {
        for p in [pa.get(i), pb.get(i)].into_iter().flatten() {
            payload.extend_from_slice(&p[1..]);
        }
    }
    let out = reader().push(&payload).unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.contains(&a) && out.contains(&b));
}

#[test]
fn out_of_order_and_duplicate_frames_are_refused_without_losing_the_channel() {
    let b = sample(6);
    let cfg = ChannelConfig::new(CHAIN_ID).with_compression(Compression::None).with_max_payload_size(300);
    let p = b.encode(&cfg).unwrap();
    assert!(p.len() >= 4);
    let mut r = reader();
    // Frame 1 before frame 0: no channel yet.
    assert!(matches!(r.push(&p[1]), Err(BatchError::FrameOutOfOrder { expected: 0, got: 1, .. })));
    assert_eq!(r.open_channels(), 0);
    r.push(&p[0]).unwrap();
    // Frame 2 before frame 1.
    assert!(matches!(r.push(&p[2]), Err(BatchError::FrameOutOfOrder { expected: 1, got: 2, .. })));
    r.push(&p[1]).unwrap();
    // Frame 1 again.
    assert!(matches!(r.push(&p[1]), Err(BatchError::DuplicateFrame { frame: 1, .. })));
    let mut out = Vec::new();
    for q in &p[2..] {
        out.extend(r.push(q).unwrap());
    }
    assert_eq!(out, vec![b]);
    // The same channel posted again (a restarted batcher) is not read twice.
    assert!(matches!(r.push(&p[0]), Err(BatchError::ChannelAlreadyRead { frame: 0, .. })));
    assert!(matches!(r.push(p.last().unwrap()), Err(BatchError::ChannelAlreadyRead { .. })));
}

#[test]
fn a_refused_frame_does_not_lose_a_batch_completed_in_the_same_payload() {
    let b = sample(1);
    let one = b.encode(&ChannelConfig::new(CHAIN_ID)).unwrap();
    assert_eq!(one.len(), 1);
    let mut payload = one[0].clone();
    // A stray frame 5 of an unknown channel after the complete one.
    Frame { channel_id: ChannelId([9; 16]), number: 5, data: b"x", is_last: false }.write(&mut payload);
    let mut r = reader();
    assert!(matches!(r.push(&payload), Err(BatchError::FrameOutOfOrder { .. })));
    assert_eq!(r.take_ready(), vec![b]);
}

#[test]
fn too_many_open_channels_drops_the_oldest() {
    let limits = DecodeLimits { max_open_channels: 2, ..DecodeLimits::new(CHAIN_ID) };
    let mut r = ChannelReader::new(limits);
    let cfg = ChannelConfig::new(CHAIN_ID).with_compression(Compression::None).with_max_payload_size(300);
    let batches: Vec<_> = (1..=3).map(sample).collect();
    let payloads: Vec<_> = batches.iter().map(|b| b.encode(&cfg).unwrap()).collect();
    for p in &payloads {
        r.push(&p[0]).unwrap();
    }
    assert_eq!(r.open_channels(), 2);
    // Channel 0 was dropped: its next frame has no channel to go to.
    assert!(matches!(r.push(&payloads[0][1]), Err(BatchError::FrameOutOfOrder { expected: 0, got: 1, .. })));
    // Channels 1 and 2 complete.
    let mut out = Vec::new();
    for p in &payloads[1..] {
        for q in &p[1..] {
            out.extend(r.push(q).unwrap());
        }
    }
    assert_eq!(out, batches[1..].to_vec());
}

#[test]
fn channel_size_limit() {
    let b = sample(6);
    let cfg = ChannelConfig::new(CHAIN_ID).with_compression(Compression::None).with_max_payload_size(300);
    let p = b.encode(&cfg).unwrap();
    let limits = DecodeLimits { max_channel_size: 600, ..DecodeLimits::new(CHAIN_ID) };
    let mut r = ChannelReader::new(limits);
    r.push(&p[0]).unwrap();
    r.push(&p[1]).unwrap();
    assert!(matches!(r.push(&p[2]), Err(BatchError::ChannelTooLarge { max: 600, .. })));
    assert_eq!(r.open_channels(), 0, "the channel is dropped");
    // The encoder refuses what such a reader would drop.
    let small = ChannelConfig { max_channel_size: 600, ..cfg };
    assert!(matches!(b.encode(&small), Err(BatchError::BatchTooLarge { what: "channel", max: 600, .. })));
    let small = ChannelConfig { max_decompressed_size: 600, ..cfg };
    assert!(matches!(b.encode(&small), Err(BatchError::BatchTooLarge { what: "body", max: 600, .. })));
}

#[test]
fn decompression_bombs_are_refused() {
    // 256 MiB of zeros compress to a few kilobytes; the reader stops at its limit.
    let zeros = vec![0u8; 256 << 20];
    for algo in [Compression::Brotli { level: 1 }, Compression::Zstd { level: 1 }] {
        let data = algo.compress(&zeros).unwrap();
        assert!(data.len() < 100_000, "{algo:?}: {}", data.len());
        let payloads = Channel::new(data).payloads(120_000).unwrap();
        let mut r = reader();
        let mut last = Ok(vec![]);
        for p in &payloads {
            last = r.push(p);
        }
        assert_eq!(
            last,
            Err(BatchError::DecompressedTooLarge { max: temporis_batch::DEFAULT_MAX_DECOMPRESSED_SIZE }),
            "{algo:?}"
        );
    }
}

#[test]
fn bad_compression_levels_are_config_errors() {
    let b = sample(1);
    for compression in
        [Compression::Brotli { level: 12 }, Compression::Zstd { level: 0 }, Compression::Zstd { level: 23 }]
    {
        let cfg = ChannelConfig::new(CHAIN_ID).with_compression(compression);
        assert!(matches!(b.encode(&cfg), Err(BatchError::Config(_))), "{compression:?}");
    }
}

#[test]
fn unknown_channel_compression_is_refused() {
    let payloads = Channel::new(vec![0x07, 1, 2, 3]).payloads(1000).unwrap();
    assert_eq!(reader().push(&payloads[0]), Err(BatchError::UnknownCompression(0x07)));
}
