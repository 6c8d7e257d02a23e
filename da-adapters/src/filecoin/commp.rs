//! CommP, Filecoin's piece commitment, computed as a stream.
//!
//! The payload is zero-padded to the capacity of the smallest tree that holds it (at least 127
//! bytes), fr32-padded (every 127 bytes become four 32-byte leaves of 254 data bits and two zero
//! bits), and hashed as a full binary Merkle tree whose node hash is sha256-trunc254: sha256 of
//! the two children with the top two bits of the digest's last byte cleared, so every node is a
//! BLS12-381 field element like the leaves. The root, the tree height and the padding make the
//! v2 piece CID of FRC-0069.
//!
//! Speed: each node is exactly two SHA-256 compressions (the 64-byte children, then the constant
//! padding block of a 64-byte message), fed straight to `sha2::compress256`, which picks the
//! SHA-NI instructions at run time where the CPU has them. Leaves are hashed in batches of
//! [`BATCH_LEAVES`] reduced in place; only one pending node per level is kept across batches, so
//! memory is O(batch + height) for any payload size. The zero-padding tail is never hashed: the
//! root of an all-zero subtree of each height is precomputed.

use super::cid::{CidError, MAX_PIECE_HEIGHT, PieceCid, height_for_payload, payload_capacity};
use std::sync::OnceLock;

/// Payload bytes that fr32 turns into four leaves.
pub const FR32_IN: usize = 127;
/// Padded bytes that `FR32_IN` payload bytes become.
pub const FR32_OUT: usize = 128;
/// Leaves hashed per batch (a subtree of height 10, 32 KiB of padded data).
pub const BATCH_LEAVES: usize = 1024;
const BATCH_HEIGHT: usize = BATCH_LEAVES.trailing_zeros() as usize;
const BATCH_IN: usize = BATCH_LEAVES / 4 * FR32_IN;

type Node = [u8; 32];

const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The second block of SHA-256 over any 64-byte message: `0x80`, zeros, the bit length 512.
const PAD_BLOCK_64: [u8; 64] = {
    let mut b = [0u8; 64];
    b[0] = 0x80;
    b[62] = 0x02;
    b
};

/// sha256-trunc254 of `left ‖ right`.
pub fn hash_node(left: &Node, right: &Node) -> Node {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    hash_block(&block)
}

fn hash_block(block: &[u8; 64]) -> Node {
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[(*block).into(), PAD_BLOCK_64.into()]);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out[31] &= 0x3f;
    out
}

/// Roots of all-zero subtrees: `zero_root(0)` is a zero leaf, `zero_root(h + 1)` hashes two
/// `zero_root(h)`. (fr32 of zero bytes is zero bytes, so these are the padding's subtrees.)
pub fn zero_root(height: usize) -> Node {
    static ZEROS: OnceLock<Vec<Node>> = OnceLock::new();
    ZEROS.get_or_init(|| {
        let mut z = vec![[0u8; 32]];
        for h in 0..MAX_PIECE_HEIGHT as usize {
            z.push(hash_node(&z[h], &z[h]));
        }
        z
    })[height]
}

/// fr32-pads one 127-byte chunk into 128 bytes: four 256-bit words, each taking the next 254
/// bits of the input (bit order is little-endian: bit `i` is bit `i % 8` of byte `i / 8`), with
/// the top two bits of each word zero. Word `k` starts at input bit `254 k`, i.e. at byte
/// `31 k` shifted right by `(254 k) % 8` = 0, 6, 4, 2 bits; the shifts work on whole bytes.
pub fn fr32_pad_chunk(input: &[u8; FR32_IN], out: &mut [u8; FR32_OUT]) {
    out[..32].copy_from_slice(&input[..32]);
    out[31] &= 0x3f;
    for m in 0..32 {
        out[32 + m] = (input[31 + m] >> 6) | (input[32 + m] << 2);
    }
    out[63] &= 0x3f;
    for m in 0..32 {
        out[64 + m] = (input[63 + m] >> 4) | (input[64 + m] << 4);
    }
    out[95] &= 0x3f;
    for m in 0..31 {
        out[96 + m] = (input[95 + m] >> 2) | (input[96 + m] << 6);
    }
    // The last word's top byte holds input bits 1010..1016: no byte 127 to borrow from.
    out[127] = input[126] >> 2;
}

/// Streaming CommP calculator: [`CommP::update`] with the payload in any pieces, then
/// [`CommP::finish`].
#[derive(Debug, Clone)]
pub struct CommP {
    /// Payload bytes not yet making a full batch.
    pending: Vec<u8>,
    /// Leaves of the batch being hashed (reused).
    leaves: Vec<Node>,
    /// `stack[i]`: a finished subtree of height `BATCH_HEIGHT + i` waiting for its right sibling.
    stack: Vec<Option<Node>>,
    /// Payload bytes seen.
    len: u64,
}

impl Default for CommP {
    fn default() -> Self {
        Self::new()
    }
}

impl CommP {
    /// An empty calculator.
    pub fn new() -> Self {
        Self {
            pending: Vec::with_capacity(BATCH_IN),
            leaves: vec![[0; 32]; BATCH_LEAVES],
            stack: Vec::new(),
            len: 0,
        }
    }

    /// Payload bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no payload byte has been seen.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds payload bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if !self.pending.is_empty() {
            let take = (BATCH_IN - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < BATCH_IN {
                return;
            }
            let batch = std::mem::take(&mut self.pending);
            self.full_batch(&batch);
            self.pending = batch;
            self.pending.clear();
        }
        // Whole batches straight from the caller's buffer, without copying.
        let mut chunks = data.chunks_exact(BATCH_IN);
        for batch in &mut chunks {
            self.full_batch(batch);
        }
        self.pending.extend_from_slice(chunks.remainder());
    }

    /// fr32-pads `input` (a multiple of 127 bytes, at most a batch) into `self.leaves`; returns
    /// the number of leaves written.
    fn pad_into_leaves(&mut self, input: &[u8]) -> usize {
        let mut padded = [0u8; FR32_OUT];
        let mut n = 0;
        for chunk in input.chunks_exact(FR32_IN) {
            fr32_pad_chunk(chunk.try_into().expect("chunks_exact gives 127 bytes"), &mut padded);
            for word in padded.chunks_exact(32) {
                self.leaves[n].copy_from_slice(word);
                n += 1;
            }
        }
        n
    }

    fn full_batch(&mut self, batch: &[u8]) {
        debug_assert_eq!(batch.len(), BATCH_IN);
        let n = self.pad_into_leaves(batch);
        let root = reduce(&mut self.leaves[..n], BATCH_HEIGHT);
        self.push(root, 0);
    }

    /// Pushes a finished subtree of height `BATCH_HEIGHT + level`, merging with waiting left
    /// siblings.
    fn push(&mut self, mut node: Node, mut level: usize) {
        loop {
            if self.stack.len() == level {
                self.stack.push(None);
            }
            match self.stack[level].take() {
                Some(left) => {
                    node = hash_node(&left, &node);
                    level += 1;
                }
                None => {
                    self.stack[level] = Some(node);
                    return;
                }
            }
        }
    }

    /// The piece of everything added. Fails only for a payload too large for any piece (over
    /// 2^63 bytes, which a `u64` counter cannot really reach here).
    pub fn finish(mut self) -> Result<PieceCid, CidError> {
        let height = height_for_payload(self.len)? as usize;
        let padding = payload_capacity(height as u8) - self.len;
        if !self.pending.is_empty() || self.len == 0 {
            // The tail of the payload, zero-padded to whole fr32 chunks (one chunk if the
            // payload is empty), reduced to a subtree of batch height (or to the root of a
            // piece smaller than a batch, when no batch was pushed).
            let mut tail = std::mem::take(&mut self.pending);
            tail.resize(tail.len().div_ceil(FR32_IN).max(1) * FR32_IN, 0);
            let n = self.pad_into_leaves(&tail);
            let root = reduce(&mut self.leaves[..n], height.min(BATCH_HEIGHT));
            if height < BATCH_HEIGHT {
                return PieceCid::new(root, height as u8, padding);
            }
            self.push(root, 0);
        }
        // Fold the waiting subtrees up to the root, zero subtrees standing in for missing right
        // siblings. Each waiting node is a left child: anything left of it was merged already.
        let levels = height - BATCH_HEIGHT;
        let mut acc: Option<Node> = None;
        for level in 0..levels {
            let left = self.stack.get_mut(level).and_then(Option::take);
            acc = match (left, acc) {
                (Some(l), Some(r)) => Some(hash_node(&l, &r)),
                (Some(l), None) | (None, Some(l)) => Some(hash_node(&l, &zero_root(BATCH_HEIGHT + level))),
                (None, None) => None,
            };
        }
        // A full tree's root was pushed at the top level itself; otherwise the fold made it.
        let top = self.stack.get_mut(levels).and_then(Option::take);
        let ((Some(root), None) | (None, Some(root))) = (top, acc) else {
            unreachable!("the smallest tree holds exactly one root")
        };
        PieceCid::new(root, height as u8, padding)
    }
}

/// Reduces `nodes` (leaves, a power of two or fewer) in place to the root of the subtree of
/// `height` they start, filling missing right siblings with zero subtrees.
fn reduce(nodes: &mut [Node], height: usize) -> Node {
    debug_assert!(!nodes.is_empty() && nodes.len() <= 1 << height);
    let mut n = nodes.len();
    for level in 0..height {
        let mut i = 0;
        while 2 * i + 1 < n {
            nodes[i] = hash_node(&nodes[2 * i], &nodes[2 * i + 1]);
            i += 1;
        }
        if n % 2 == 1 {
            nodes[i] = hash_node(&nodes[n - 1], &zero_root(level));
            i += 1;
        }
        n = i;
    }
    nodes[0]
}

/// The piece of `data` in one call.
pub fn commp(data: &[u8]) -> PieceCid {
    let mut c = CommP::new();
    c.update(data);
    c.finish().expect("a slice is far below 2^63 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The obvious reference: whole payload zero-padded and fr32-padded in memory, leaves
    /// hashed level by level with the `sha2` digest API.
    fn reference(data: &[u8]) -> ([u8; 32], u8) {
        let height = height_for_payload(data.len() as u64).unwrap();
        let mut payload = data.to_vec();
        payload.resize(payload_capacity(height) as usize, 0);
        let mut level: Vec<Node> = Vec::new();
        for chunk in payload.chunks_exact(FR32_IN) {
            let mut out = [0u8; FR32_OUT];
            fr32_pad_chunk(chunk.try_into().unwrap(), &mut out);
            level.extend(out.chunks_exact(32).map(|w| <Node>::try_from(w).unwrap()));
        }
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|p| {
                    let mut h: Node = Sha256::new().chain_update(p[0]).chain_update(p[1]).finalize().into();
                    h[31] &= 0x3f;
                    h
                })
                .collect();
        }
        (level[0], height)
    }

    /// Bit-by-bit inverse of [`fr32_pad_chunk`], written the slow, obvious way.
    fn fr32_unpad_chunk(padded: &[u8; FR32_OUT]) -> [u8; FR32_IN] {
        for i in [31, 63, 95, 127] {
            assert_eq!(padded[i] & 0xc0, 0, "word top bits must be zero");
        }
        let mut out = [0u8; FR32_IN];
        for k in 0..4 {
            for i in 0..254 {
                if padded[32 * k + i / 8] >> (i % 8) & 1 == 1 {
                    let b = 254 * k + i;
                    out[b / 8] |= 1 << (b % 8);
                }
            }
        }
        out
    }

    #[test]
    fn node_hash_is_truncated_sha256() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let mut want: Node = Sha256::new().chain_update(a).chain_update(b).finalize().into();
        want[31] &= 0x3f;
        assert_eq!(hash_node(&a, &b), want);
    }

    #[test]
    fn fr32_moves_bits_as_the_spec_says() {
        // A set bit at every input position lands at position 256 k + i for input 254 k + i.
        for bit in (0..1016).step_by(7).chain([253, 254, 507, 508, 761, 762, 1015]) {
            let mut input = [0u8; FR32_IN];
            input[bit / 8] = 1 << (bit % 8);
            let mut out = [0u8; FR32_OUT];
            fr32_pad_chunk(&input, &mut out);
            let at = bit / 254 * 256 + bit % 254;
            let mut want = [0u8; FR32_OUT];
            want[at / 8] = 1 << (at % 8);
            assert_eq!(out, want, "input bit {bit}");
            assert_eq!(fr32_unpad_chunk(&out), input);
        }
        let mut out = [0u8; FR32_OUT];
        fr32_pad_chunk(&[0xff; FR32_IN], &mut out);
        for (i, b) in out.iter().enumerate() {
            assert_eq!(*b, if i % 32 == 31 { 0x3f } else { 0xff }, "byte {i}");
        }
    }

    #[test]
    fn streaming_matches_reference_at_batch_edges() {
        let sizes =
            [0, 1, 126, 127, 128, 254, 255, 1000, BATCH_IN - 1, BATCH_IN, BATCH_IN + 1, 3 * BATCH_IN + 5];
        for &size in sizes.iter().chain(&[4 * BATCH_IN, 5 * BATCH_IN - 127, 300_000]) {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
            let (root, height) = reference(&data);
            let piece = commp(&data);
            assert_eq!((piece.root(), piece.height()), (root, height), "size {size}");
            assert_eq!(piece.payload_size(), size as u64);
            // Fed in odd pieces, the stream gives the same piece.
            let mut c = CommP::new();
            for part in data.chunks(997) {
                c.update(part);
            }
            assert_eq!(c.finish().unwrap(), piece, "size {size} in parts");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn any_split_gives_the_reference_piece(
            size in 0usize..(3 * BATCH_IN),
            seed: u8,
            cuts in proptest::collection::vec(0usize..(3 * BATCH_IN), 0..8),
        ) {
            let data: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(seed | 1) ^ seed).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (size + 1)).collect();
            cuts.sort_unstable();
            let mut c = CommP::new();
            let mut at = 0;
            for cut in cuts.into_iter().chain([size]) {
                c.update(&data[at..cut]);
                at = cut;
            }
            let piece = c.finish().unwrap();
            proptest::prop_assert_eq!((piece.root(), piece.height()), reference(&data));
        }
    }

    #[test]
    fn zero_payload_tree_is_the_zero_subtree() {
        assert_eq!(commp(&[]).root(), zero_root(2));
        assert_eq!(commp(&vec![0u8; 127 << 12]).root(), zero_root(14));
    }
}
