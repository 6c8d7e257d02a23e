//! State snapshots: the whole head state, written with a block in the block's own write
//! transaction every `--store.snapshot-interval` blocks, so that a restart replays at most
//! that many blocks instead of the whole chain.
//!
//! Format (all integers big-endian): block number (8), account count (8), then per account:
//! address (20), balance (32), nonce (8), code length (4) and code, slot count (4) and
//! (slot, value) pairs (32 + 32 each). Restoring rebuilds the tries, and the node checks the
//! restored root against the block's header before using it.

use alloy_primitives::{Address, Bytes, U256};
use temporis_aivm::State;

use crate::{Result, SequencerError};

/// Encodes `state`, the post-state of block `number`.
pub fn encode(state: &State, number: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + state.len() * 100);
    out.extend_from_slice(&number.to_be_bytes());
    out.extend_from_slice(&(state.len() as u64).to_be_bytes());
    let mut accounts: Vec<_> = state.accounts().collect();
    accounts.sort_unstable_by_key(|(a, _)| **a);
    for (address, view) in accounts {
        out.extend_from_slice(address.as_slice());
        out.extend_from_slice(&view.balance.to_be_bytes::<32>());
        out.extend_from_slice(&view.nonce.to_be_bytes());
        let code = state.code(&view.code_hash).unwrap_or_default();
        out.extend_from_slice(&(code.len() as u32).to_be_bytes());
        out.extend_from_slice(&code);
        let slots: Vec<_> = state.storage_slots(address).collect();
        out.extend_from_slice(&(slots.len() as u32).to_be_bytes());
        for (slot, value) in slots {
            out.extend_from_slice(&slot.to_be_bytes::<32>());
            out.extend_from_slice(&value.to_be_bytes::<32>());
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(SequencerError::Store("truncated state snapshot".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn u32(&mut self) -> Result<usize> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize)
    }

    fn u256(&mut self) -> Result<U256> {
        Ok(U256::from_be_slice(self.take(32)?))
    }
}

/// Decodes a snapshot: the block number and the state.
pub fn decode(bytes: &[u8]) -> Result<(u64, State)> {
    let mut r = Reader(bytes);
    let number = r.u64()?;
    let count = r.u64()?;
    let mut state = State::new();
    for _ in 0..count {
        let address = Address::from_slice(r.take(20)?);
        let balance = r.u256()?;
        let nonce = r.u64()?;
        let code_len = r.u32()?;
        let code = Bytes::copy_from_slice(r.take(code_len)?);
        let slot_count = r.u32()?;
        let mut slots = Vec::with_capacity(slot_count.min(1 << 20));
        for _ in 0..slot_count {
            slots.push((r.u256()?, r.u256()?));
        }
        state.insert_account(address, balance, nonce, code, slots);
    }
    if !r.0.is_empty() {
        return Err(SequencerError::Store("trailing bytes in the state snapshot".into()));
    }
    Ok((number, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_state_root() {
        let mut state = State::new();
        for i in 1..=20u8 {
            let code = if i % 3 == 0 { Bytes::from(vec![0x60, i, 0x00]) } else { Bytes::new() };
            let slots = (0..u64::from(i % 5)).map(|s| (U256::from(s * 7), U256::from(s + u64::from(i))));
            state.insert_account(Address::repeat_byte(i), U256::from(i) << 100, u64::from(i), code, slots);
        }
        let root = state.state_root();
        let bytes = encode(&state, 42);
        let (number, mut back) = decode(&bytes).unwrap();
        assert_eq!(number, 42);
        assert_eq!(back.state_root(), root);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
