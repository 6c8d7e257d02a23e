//! The batch: L2 blocks as the batcher posts them, and its column-wise body encoding.
//!
//! The byte layout is specified in `docs/batch-format.md`; this file follows it field by field
//! and in the same order.

use crate::{
    BatchConfig, BatchError, ChannelConfig, Result,
    channel::Channel,
    codec::{Reader, put_bits, put_uvarint, put_uvarint_u128, put_uvarint_u256},
};
use alloy::{
    consensus::{TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy, transaction::RlpEcdsaEncodableTx},
    eips::{
        eip2718::{Decodable2718, Encodable2718},
        eip2930::{AccessList, AccessListItem},
        eip7702::{Authorization, SignedAuthorization},
    },
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use std::collections::{HashMap, HashSet, hash_map::Entry};
use tracing::debug;

/// Version byte at the head of a batch body.
pub const BATCH_VERSION: u8 = 0x01;

/// EIP-2718 type byte of legacy txs as the `tx_types` column writes it.
const TY_LEGACY: u8 = 0x00;
const TY_EIP2930: u8 = 0x01;
const TY_EIP1559: u8 = 0x02;
const TY_EIP4844: u8 = 0x03;
const TY_EIP7702: u8 = 0x04;
const TY_DEPOSIT: u8 = 0x7e;

/// One L2 block of a batch: what a follower needs besides L1 to rebuild it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchBlock {
    /// Block number.
    pub number: u64,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// Number of the block's L1 origin (its epoch).
    pub l1_origin_number: u64,
    /// The block's non-deposit txs, in block order, as EIP-2718 encodings.
    pub txs: Vec<Bytes>,
}

/// Consecutive L2 blocks, encoded together into one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Batch {
    /// Hash of the L2 parent of `blocks[0]`: ties the batch to the chain it extends.
    pub parent_hash: B256,
    /// Hash of the L1 origin of the last block: ties the batch to the L1 chain it was built on.
    pub l1_origin_hash: B256,
    /// The blocks, consecutive by number.
    pub blocks: Vec<BatchBlock>,
}

impl Batch {
    /// Number of txs in all blocks.
    pub fn tx_count(&self) -> usize {
        self.blocks.iter().map(|b| b.txs.len()).sum()
    }

    /// Encodes the batch into one channel and cuts it into DA payloads (`0x00 ‖ frame`), in
    /// the order they must be posted.
    pub fn encode(&self, cfg: &ChannelConfig) -> Result<Vec<Vec<u8>>> {
        self.encode_channel(cfg)?.payloads(cfg.max_payload_size)
    }

    /// Encodes the batch into one channel (compressed body and id), without cutting it.
    pub fn encode_channel(&self, cfg: &ChannelConfig) -> Result<Channel> {
        cfg.validate()?;
        let body = self.encode_body(&cfg.batch)?;
        if body.len() > cfg.max_decompressed_size {
            return Err(BatchError::BatchTooLarge {
                what: "body",
                size: body.len(),
                max: cfg.max_decompressed_size,
            });
        }
        let data = cfg.compression.compress(&body)?;
        if data.len() > cfg.max_channel_size {
            return Err(BatchError::BatchTooLarge {
                what: "channel",
                size: data.len(),
                max: cfg.max_channel_size,
            });
        }
        let channel = Channel::new(data);
        debug!(
            target: "batch::encode",
            channel = %channel.id,
            blocks = self.blocks.len(),
            txs = self.tx_count(),
            body = body.len(),
            bytes = channel.data.len(),
            "channel built"
        );
        Ok(channel)
    }

    /// Checks the block sequence rules: at least one block, consecutive numbers,
    /// non-decreasing timestamps, L1 origin +0 or +1 per block.
    pub fn validate(&self) -> Result<()> {
        let first = self.blocks.first().ok_or(BatchError::EmptyBatch)?;
        let mut prev = first;
        for b in &self.blocks[1..] {
            if prev.number.checked_add(1) != Some(b.number) {
                return Err(BatchError::NonConsecutiveBlocks { prev: prev.number, got: b.number });
            }
            if b.timestamp < prev.timestamp {
                return Err(BatchError::TimestampDecreases {
                    number: b.number,
                    timestamp: b.timestamp,
                    parent_timestamp: prev.timestamp,
                });
            }
            if b.l1_origin_number != prev.l1_origin_number
                && Some(b.l1_origin_number) != prev.l1_origin_number.checked_add(1)
            {
                return Err(BatchError::BadOriginStep {
                    number: b.number,
                    origin: b.l1_origin_number,
                    parent_origin: prev.l1_origin_number,
                });
            }
            prev = b;
        }
        Ok(())
    }

    /// The uncompressed batch body (the layout of `docs/batch-format.md`).
    pub fn encode_body(&self, cfg: &BatchConfig) -> Result<Vec<u8>> {
        self.validate()?;
        let first = &self.blocks[0];
        let mut out = Vec::with_capacity(128 + self.tx_count() * 160);
        out.push(BATCH_VERSION);
        put_uvarint(&mut out, first.number);
        put_uvarint(&mut out, first.timestamp);
        put_uvarint(&mut out, first.l1_origin_number);
        out.extend_from_slice(self.parent_hash.as_slice());
        out.extend_from_slice(self.l1_origin_hash.as_slice());
        put_uvarint(&mut out, self.blocks.len() as u64);
        let mut origin_bits = Vec::with_capacity(self.blocks.len());
        for w in self.blocks.windows(2) {
            put_uvarint(&mut out, w[1].timestamp - w[0].timestamp);
            origin_bits.push(w[1].l1_origin_number != w[0].l1_origin_number);
        }
        put_bits(&mut out, &origin_bits);
        let mut cols = Columns::default();
        for b in &self.blocks {
            put_uvarint(&mut out, b.txs.len() as u64);
            for (index, raw) in b.txs.iter().enumerate() {
                cols.push(raw, cfg.chain_id, b.number, index)?;
            }
        }
        cols.write(&mut out);
        Ok(out)
    }

    /// Decodes a batch body; the txs come back as the exact bytes that were encoded.
    pub fn decode_body(body: &[u8], cfg: &BatchConfig) -> Result<Self> {
        let mut r = Reader::new(body);
        let version = r.u8("batch_version")?;
        if version != BATCH_VERSION {
            return Err(BatchError::UnknownBatchVersion(version));
        }
        let first_number = r.uvarint("first_block_number")?;
        let first_timestamp = r.uvarint("first_timestamp")?;
        let first_origin = r.uvarint("first_l1_origin_number")?;
        let parent_hash = r.b256("parent_hash")?;
        let l1_origin_hash = r.b256("l1_origin_hash")?;
        // Each block takes at least one byte (its tx count): a forged count cannot outgrow
        // the input.
        let block_count = r.count(r.remaining(), "block_count")?;
        if block_count == 0 {
            return Err(BatchError::EmptyBatch);
        }
        let overflow = |field| BatchError::InvalidField { field, reason: "overflows u64".into() };
        first_number.checked_add(block_count as u64 - 1).ok_or_else(|| overflow("block_count"))?;
        let mut blocks = Vec::with_capacity(block_count);
        blocks.push(BatchBlock {
            number: first_number,
            timestamp: first_timestamp,
            l1_origin_number: first_origin,
            txs: Vec::new(),
        });
        let mut timestamp = first_timestamp;
        for i in 1..block_count {
            let delta = r.uvarint("timestamp_delta")?;
            timestamp = timestamp.checked_add(delta).ok_or_else(|| overflow("timestamp_delta"))?;
            blocks.push(BatchBlock {
                number: first_number + i as u64,
                timestamp,
                l1_origin_number: 0,
                txs: Vec::new(),
            });
        }
        let origin_bits = r.bits(block_count - 1, "origin_bits")?;
        let mut origin = first_origin;
        for (b, changed) in blocks[1..].iter_mut().zip(origin_bits) {
            if changed {
                origin = origin.checked_add(1).ok_or_else(|| overflow("origin_bits"))?;
            }
            b.l1_origin_number = origin;
        }
        let mut counts = Vec::with_capacity(block_count);
        let mut total = 0usize;
        for _ in 0..block_count {
            // Each tx takes at least one byte (its type).
            let n = r.count(r.remaining(), "block_tx_count")?;
            total = total.checked_add(n).ok_or_else(|| overflow("block_tx_count"))?;
            counts.push(n);
        }
        if total > r.remaining() {
            return Err(BatchError::InvalidField {
                field: "block_tx_count",
                reason: format!("{total} txs in {} bytes", r.remaining()),
            });
        }
        let mut txs = Columns::read(&mut r, total, cfg.chain_id)?.into_iter();
        if r.remaining() != 0 {
            return Err(BatchError::TrailingBytes(r.remaining()));
        }
        for (b, n) in blocks.iter_mut().zip(counts) {
            b.txs = txs.by_ref().take(n).collect();
        }
        Ok(Self { parent_hash, l1_origin_hash, blocks })
    }
}

/// The tx columns, filled tx by tx while encoding.
#[derive(Default)]
struct Columns {
    types: Vec<u8>,
    y_parity: Vec<bool>,
    creation: Vec<bool>,
    /// One bit per legacy tx: EIP-155 replay protected or not.
    protected: Vec<bool>,
    r: Vec<u8>,
    s: Vec<u8>,
    /// Per call: 0 for an address not seen before in the batch (then in `to_new`), or the
    /// 1-based index of the address in order of first appearance.
    to_refs: Vec<u8>,
    to_new: Vec<u8>,
    /// Where each distinct recipient first appeared (its 1-based index).
    to_index: HashMap<Address, u64>,
    /// Values as `mantissa × 10^exponent`: the exponents, one byte each.
    value_exponents: Vec<u8>,
    value_mantissas: Vec<u8>,
    nonces: Vec<u8>,
    gas_limits: Vec<u8>,
    /// Legacy and EIP-2930 txs.
    gas_prices: Vec<u8>,
    /// EIP-1559 and EIP-7702 txs.
    max_priority_fees: Vec<u8>,
    /// EIP-1559 and EIP-7702 txs.
    max_fees: Vec<u8>,
    data_lengths: Vec<u8>,
    data: Vec<u8>,
    /// EIP-2930, EIP-1559 and EIP-7702 txs.
    access_lists: Vec<u8>,
    /// EIP-7702 txs.
    authorizations: Vec<u8>,
}

/// The fields common to all tx types, as the columns hold them.
#[derive(Clone, Copy)]
struct Common<'a> {
    sig: &'a Signature,
    to: TxKind,
    value: U256,
    nonce: u64,
    gas_limit: u64,
    input: &'a Bytes,
}

impl Columns {
    fn push(&mut self, raw: &[u8], chain_id: u64, block: u64, index: usize) -> Result<()> {
        match raw.first() {
            Some(&TY_DEPOSIT) => return Err(BatchError::DepositTx { block, index }),
            Some(&TY_EIP4844) => return Err(BatchError::BlobTx { block, index }),
            _ => {}
        }
        let invalid = |reason: String| BatchError::InvalidTx { block, index, reason };
        let mut buf = raw;
        let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| invalid(e.to_string()))?;
        if !buf.is_empty() {
            return Err(invalid(format!("{} bytes after the tx", buf.len())));
        }
        // The decoder puts back alloy's canonical encoding: anything else would come back
        // different, with another hash.
        if tx.encode_2718_len() != raw.len() || tx.encoded_2718() != raw {
            return Err(BatchError::NonCanonicalTx { block, index });
        }
        let check_chain = |got: u64| {
            if got == chain_id {
                Ok(())
            } else {
                Err(BatchError::WrongChainId { block, index, expected: chain_id, got })
            }
        };
        match &tx {
            TxEnvelope::Legacy(s) => {
                let t = s.tx();
                if let Some(id) = t.chain_id {
                    check_chain(id)?;
                }
                self.types.push(TY_LEGACY);
                self.protected.push(t.chain_id.is_some());
                put_uvarint_u128(&mut self.gas_prices, t.gas_price);
                self.common(Common {
                    sig: s.signature(),
                    to: t.to,
                    value: t.value,
                    nonce: t.nonce,
                    gas_limit: t.gas_limit,
                    input: &t.input,
                });
            }
            TxEnvelope::Eip2930(s) => {
                let t = s.tx();
                check_chain(t.chain_id)?;
                self.types.push(TY_EIP2930);
                put_uvarint_u128(&mut self.gas_prices, t.gas_price);
                put_access_list(&mut self.access_lists, &t.access_list);
                self.common(Common {
                    sig: s.signature(),
                    to: t.to,
                    value: t.value,
                    nonce: t.nonce,
                    gas_limit: t.gas_limit,
                    input: &t.input,
                });
            }
            TxEnvelope::Eip1559(s) => {
                let t = s.tx();
                check_chain(t.chain_id)?;
                self.types.push(TY_EIP1559);
                put_uvarint_u128(&mut self.max_priority_fees, t.max_priority_fee_per_gas);
                put_uvarint_u128(&mut self.max_fees, t.max_fee_per_gas);
                put_access_list(&mut self.access_lists, &t.access_list);
                self.common(Common {
                    sig: s.signature(),
                    to: t.to,
                    value: t.value,
                    nonce: t.nonce,
                    gas_limit: t.gas_limit,
                    input: &t.input,
                });
            }
            TxEnvelope::Eip7702(s) => {
                let t = s.tx();
                check_chain(t.chain_id)?;
                self.types.push(TY_EIP7702);
                put_uvarint_u128(&mut self.max_priority_fees, t.max_priority_fee_per_gas);
                put_uvarint_u128(&mut self.max_fees, t.max_fee_per_gas);
                put_access_list(&mut self.access_lists, &t.access_list);
                put_uvarint(&mut self.authorizations, t.authorization_list.len() as u64);
                for a in &t.authorization_list {
                    // Authorizations keep their own chain id (0 = any chain is valid).
                    put_uvarint_u256(&mut self.authorizations, a.chain_id);
                    self.authorizations.extend_from_slice(a.address.as_slice());
                    put_uvarint(&mut self.authorizations, a.nonce);
                    self.authorizations.push(a.y_parity());
                    self.authorizations.extend_from_slice(&a.r().to_be_bytes::<32>());
                    self.authorizations.extend_from_slice(&a.s().to_be_bytes::<32>());
                }
                self.common(Common {
                    sig: s.signature(),
                    to: TxKind::Call(t.to),
                    value: t.value,
                    nonce: t.nonce,
                    gas_limit: t.gas_limit,
                    input: &t.input,
                });
            }
            TxEnvelope::Eip4844(_) => return Err(BatchError::BlobTx { block, index }),
        }
        Ok(())
    }

    fn common(&mut self, c: Common<'_>) {
        self.y_parity.push(c.sig.v());
        self.r.extend_from_slice(&c.sig.r().to_be_bytes::<32>());
        self.s.extend_from_slice(&c.sig.s().to_be_bytes::<32>());
        match c.to {
            TxKind::Create => self.creation.push(true),
            TxKind::Call(to) => {
                self.creation.push(false);
                let next = self.to_index.len() as u64 + 1;
                match self.to_index.entry(to) {
                    Entry::Occupied(e) => put_uvarint(&mut self.to_refs, *e.get()),
                    Entry::Vacant(e) => {
                        e.insert(next);
                        self.to_refs.push(0);
                        self.to_new.extend_from_slice(to.as_slice());
                    }
                }
            }
        }
        let (mantissa, exponent) = decimal(c.value);
        self.value_exponents.push(exponent);
        put_uvarint_u256(&mut self.value_mantissas, mantissa);
        put_uvarint(&mut self.nonces, c.nonce);
        put_uvarint(&mut self.gas_limits, c.gas_limit);
        put_uvarint(&mut self.data_lengths, c.input.len() as u64);
        self.data.extend_from_slice(c.input);
    }

    /// Writes the columns in layout order.
    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.types);
        put_bits(out, &self.y_parity);
        put_bits(out, &self.creation);
        put_bits(out, &self.protected);
        for col in [
            self.r,
            self.s,
            self.to_refs,
            self.to_new,
            self.value_exponents,
            self.value_mantissas,
            self.nonces,
            self.gas_limits,
            self.gas_prices,
            self.max_priority_fees,
            self.max_fees,
            self.data_lengths,
            self.data,
            self.access_lists,
            self.authorizations,
        ] {
            out.extend_from_slice(&col);
        }
    }

    /// Reads `n` txs' columns and rebuilds each tx's EIP-2718 bytes.
    fn read(r: &mut Reader<'_>, n: usize, chain_id: u64) -> Result<Vec<Bytes>> {
        let types = r.bytes(n, "tx_types")?;
        let mut legacy = 0;
        let mut with_gas_price = 0;
        let mut with_1559_fees = 0;
        let mut with_access_list = 0;
        let mut eip7702 = 0;
        for &ty in types {
            match ty {
                TY_LEGACY => {
                    legacy += 1;
                    with_gas_price += 1;
                }
                TY_EIP2930 => {
                    with_gas_price += 1;
                    with_access_list += 1;
                }
                TY_EIP1559 => {
                    with_1559_fees += 1;
                    with_access_list += 1;
                }
                TY_EIP7702 => {
                    with_1559_fees += 1;
                    with_access_list += 1;
                    eip7702 += 1;
                }
                other => {
                    return Err(BatchError::InvalidField {
                        field: "tx_types",
                        reason: format!("tx type {other:#04x} is not batched"),
                    });
                }
            }
        }
        let y_parity = r.bits(n, "y_parity_bits")?;
        let creation = r.bits(n, "contract_creation_bits")?;
        if let Some(i) = (0..n).find(|&i| creation[i] && types[i] == TY_EIP7702) {
            return Err(BatchError::InvalidField {
                field: "contract_creation_bits",
                reason: format!("tx {i} is an EIP-7702 tx, which cannot create"),
            });
        }
        let protected = r.bits(legacy, "protected_bits")?;
        let sig_r = r.bytes(n * 32, "sig_r")?;
        let sig_s = r.bytes(n * 32, "sig_s")?;
        let calls = creation.iter().filter(|c| !**c).count();
        let mut refs = Vec::with_capacity(calls);
        let mut new_count = 0usize;
        for _ in 0..calls {
            // A reference can only name an address that appeared before it.
            let k = r.count(new_count, "to_refs")?;
            if k == 0 {
                new_count += 1;
            }
            refs.push(k);
        }
        let mut table = Vec::with_capacity(new_count);
        let mut seen = HashSet::with_capacity(new_count);
        for _ in 0..new_count {
            let a = r.address("to_new")?;
            if !seen.insert(a) {
                return Err(BatchError::InvalidField {
                    field: "to_new",
                    reason: format!("{a} listed twice: later uses must refer to it"),
                });
            }
            table.push(a);
        }
        let mut next_new = 0;
        let tos: Vec<Address> = refs
            .into_iter()
            .map(|k| {
                if k == 0 {
                    next_new += 1;
                    table[next_new - 1]
                } else {
                    table[k - 1]
                }
            })
            .collect();
        let exponents = r.bytes(n, "value_exponents")?;
        let mut values = Vec::with_capacity(n);
        for &e in exponents {
            let m = r.uvarint_u256("value_mantissas")?;
            values.push(undecimal(m, e)?);
        }
        let mut nonces = Vec::with_capacity(n);
        for _ in 0..n {
            nonces.push(r.uvarint("nonce")?);
        }
        let mut gas_limits = Vec::with_capacity(n);
        for _ in 0..n {
            gas_limits.push(r.uvarint("gas_limit")?);
        }
        let mut gas_prices = Vec::with_capacity(with_gas_price);
        for _ in 0..with_gas_price {
            gas_prices.push(r.uvarint_u128("gas_price")?);
        }
        let mut tips = Vec::with_capacity(with_1559_fees);
        for _ in 0..with_1559_fees {
            tips.push(r.uvarint_u128("max_priority_fee_per_gas")?);
        }
        let mut max_fees = Vec::with_capacity(with_1559_fees);
        for _ in 0..with_1559_fees {
            max_fees.push(r.uvarint_u128("max_fee_per_gas")?);
        }
        let mut lengths = Vec::with_capacity(n);
        for _ in 0..n {
            lengths.push(r.count(r.remaining(), "data_lengths")?);
        }
        let mut data = Vec::with_capacity(n);
        for len in lengths {
            data.push(Bytes::copy_from_slice(r.bytes(len, "data")?));
        }
        let mut access_lists = Vec::with_capacity(with_access_list);
        for _ in 0..with_access_list {
            access_lists.push(read_access_list(r)?);
        }
        let mut auth_lists = Vec::with_capacity(eip7702);
        for _ in 0..eip7702 {
            // An authorization takes at least 86 bytes.
            let count = r.count(r.remaining() / 86, "authorization_count")?;
            let mut list = Vec::with_capacity(count);
            for _ in 0..count {
                let chain_id = r.uvarint_u256("authorization_chain_id")?;
                let address = r.address("authorization_address")?;
                let nonce = r.uvarint("authorization_nonce")?;
                let y_parity = r.u8("authorization_y_parity")?;
                let ar = r.u256_fixed("authorization_r")?;
                let as_ = r.u256_fixed("authorization_s")?;
                list.push(SignedAuthorization::new_unchecked(
                    Authorization { chain_id, address, nonce },
                    y_parity,
                    ar,
                    as_,
                ));
            }
            auth_lists.push(list);
        }

        let (mut gas_prices, mut tips, mut max_fees) =
            (gas_prices.into_iter(), tips.into_iter(), max_fees.into_iter());
        let (mut access_lists, mut auth_lists, mut protected) =
            (access_lists.into_iter(), auth_lists.into_iter(), protected.into_iter());
        let mut tos = tos.into_iter();
        let mut out = Vec::with_capacity(n);
        // The iterators were sized from the same `types`, so `next()` cannot run dry; the
        // `expect`s state that invariant rather than handle input.
        const SIZED: &str = "column sized from tx_types";
        for i in 0..n {
            let sig = Signature::new(
                U256::from_be_slice(&sig_r[i * 32..][..32]),
                U256::from_be_slice(&sig_s[i * 32..][..32]),
                y_parity[i],
            );
            let to = if creation[i] { TxKind::Create } else { TxKind::Call(tos.next().expect(SIZED)) };
            let (value, nonce, gas_limit, input) = (values[i], nonces[i], gas_limits[i], data[i].clone());
            let raw = match types[i] {
                TY_LEGACY => {
                    let chain_id = protected.next().expect(SIZED).then_some(chain_id);
                    let gas_price = gas_prices.next().expect(SIZED);
                    encode_tx(&TxLegacy { chain_id, nonce, gas_price, gas_limit, to, value, input }, &sig)
                }
                TY_EIP2930 => {
                    let gas_price = gas_prices.next().expect(SIZED);
                    let access_list = access_lists.next().expect(SIZED);
                    encode_tx(
                        &TxEip2930 { chain_id, nonce, gas_price, gas_limit, to, value, access_list, input },
                        &sig,
                    )
                }
                TY_EIP1559 => {
                    let tx = TxEip1559 {
                        chain_id,
                        nonce,
                        gas_limit,
                        max_fee_per_gas: max_fees.next().expect(SIZED),
                        max_priority_fee_per_gas: tips.next().expect(SIZED),
                        to,
                        value,
                        access_list: access_lists.next().expect(SIZED),
                        input,
                    };
                    encode_tx(&tx, &sig)
                }
                _ => {
                    let TxKind::Call(to) = to else {
                        unreachable!("creation bits of EIP-7702 txs are checked above")
                    };
                    let tx = TxEip7702 {
                        chain_id,
                        nonce,
                        gas_limit,
                        max_fee_per_gas: max_fees.next().expect(SIZED),
                        max_priority_fee_per_gas: tips.next().expect(SIZED),
                        to,
                        value,
                        access_list: access_lists.next().expect(SIZED),
                        authorization_list: auth_lists.next().expect(SIZED),
                        input,
                    };
                    encode_tx(&tx, &sig)
                }
            };
            out.push(raw);
        }
        Ok(out)
    }
}

/// The EIP-2718 bytes of `tx` signed with `sig` (the same bytes alloy's `TxEnvelope` gives,
/// without hashing the tx to build a `Signed` first).
fn encode_tx<T: RlpEcdsaEncodableTx>(tx: &T, sig: &Signature) -> Bytes {
    let mut out = Vec::with_capacity(tx.eip2718_encoded_length(sig));
    tx.eip2718_encode(sig, &mut out);
    out.into()
}

fn put_access_list(out: &mut Vec<u8>, list: &AccessList) {
    put_uvarint(out, list.0.len() as u64);
    for item in &list.0 {
        out.extend_from_slice(item.address.as_slice());
        put_uvarint(out, item.storage_keys.len() as u64);
        for key in &item.storage_keys {
            out.extend_from_slice(key.as_slice());
        }
    }
}

fn read_access_list(r: &mut Reader<'_>) -> Result<AccessList> {
    // An item takes at least 21 bytes, a key 32.
    let n = r.count(r.remaining() / 21, "access_list_length")?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        let address = r.address("access_list_address")?;
        let keys = r.count(r.remaining() / 32, "access_list_key_count")?;
        let mut storage_keys = Vec::with_capacity(keys);
        for _ in 0..keys {
            storage_keys.push(r.b256("access_list_key")?);
        }
        items.push(AccessListItem { address, storage_keys });
    }
    Ok(AccessList(items))
}

/// `v = mantissa × 10^exponent` with the mantissa not a multiple of 10 (0 = 0 × 10^0).
///
/// Amounts people send are round in decimal (0.25 ETH = 25 × 10^16 wei): the mantissa and a
/// one-byte exponent take 2–3 bytes where the binary value takes 8, and a compressor does not
/// see decimal roundness in binary. Unround values cost one byte more than their varint.
fn decimal(v: U256) -> (U256, u8) {
    if v.is_zero() {
        return (v, 0);
    }
    let mut e = 0u8;
    if let Ok(mut small) = u128::try_from(v) {
        while small % 10 == 0 {
            small /= 10;
            e += 1;
        }
        return (U256::from(small), e);
    }
    let (mut m, ten) = (v, U256::from(10u8));
    while (m % ten).is_zero() {
        m /= ten;
        e += 1;
    }
    (m, e)
}

/// The largest exponent whose power of ten fits in a U256 (10^77 < 2^256 < 10^78).
const MAX_DECIMAL_EXPONENT: u8 = 77;

fn undecimal(m: U256, e: u8) -> Result<U256> {
    let bad = |reason: String| BatchError::InvalidField { field: "value", reason };
    if e > MAX_DECIMAL_EXPONENT {
        return Err(bad(format!("exponent {e} over {MAX_DECIMAL_EXPONENT}")));
    }
    let ten = U256::from(10u8);
    if m.is_zero() {
        return if e == 0 { Ok(m) } else { Err(bad("zero with a non-zero exponent".into())) };
    }
    if (m % ten).is_zero() {
        return Err(bad("mantissa is a multiple of 10".into()));
    }
    m.checked_mul(ten.pow(U256::from(e))).ok_or_else(|| bad(format!("{m} × 10^{e} overflows 256 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_values() {
        for (v, m, e) in
            [(0u128, 0u128, 0u8), (1, 1, 0), (10, 1, 1), (250_000_000_000_000_000, 25, 16), (1234, 1234, 0)]
        {
            assert_eq!(decimal(U256::from(v)), (U256::from(m), e));
            assert_eq!(undecimal(U256::from(m), e).unwrap(), U256::from(v));
        }
        let big = U256::from(10u8).pow(U256::from(77u8));
        assert_eq!(decimal(big), (U256::from(1u8), 77));
        assert_eq!(decimal(U256::MAX), (U256::MAX, 0));
        assert!(undecimal(U256::from(2u8), 77).is_err(), "2 × 10^77 overflows");
        assert!(undecimal(U256::from(10u8), 0).is_err(), "non-canonical mantissa");
        assert!(undecimal(U256::ZERO, 1).is_err(), "non-canonical zero");
        assert!(undecimal(U256::from(1u8), 78).is_err());
    }
}
