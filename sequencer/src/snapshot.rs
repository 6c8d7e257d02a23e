//! State snapshots and undo logs. Snapshots: the whole head state, written with a block in the block's own write
//! transaction every `--store.snapshot-interval` blocks, so that a restart replays at most
//! that many blocks instead of the whole chain.
//!
//! Format (all integers big-endian): block number (8), account count (8), then per account:
//! address (20), balance (32), nonce (8), code length (4) and code, slot count (4) and
//! (slot, value) pairs (32 + 32 each). Restoring rebuilds the tries, and the node checks the
//! restored root against the block's header before using it.

use alloy_primitives::{Address, B256, Bytes, U256};
use temporis_aivm::State;
use temporis_aivm::state::{AccountView, PreState};

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

/// Encodes a block's undo log (the values its writes replaced), in the snapshot's integer
/// format: account count (8), per account address (20), a presence byte (0: did not exist; 1:
/// then balance (32), nonce (8), code hash (32)); then the count of accounts with slots (8),
/// per account address (20), slot count (4) and (slot, value) pairs (32 + 32 each). Sorted, so
/// the bytes are a function of the log.
pub fn encode_pre_state(pre: &PreState) -> Vec<u8> {
    let slots: usize = pre.storage.values().map(|s| s.len()).sum();
    let mut out = Vec::with_capacity(16 + pre.accounts.len() * 93 + pre.storage.len() * 24 + slots * 64);
    let mut accounts: Vec<_> = pre.accounts.iter().collect();
    accounts.sort_unstable_by_key(|(a, _)| **a);
    out.extend_from_slice(&(accounts.len() as u64).to_be_bytes());
    for (address, view) in accounts {
        out.extend_from_slice(address.as_slice());
        match view {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&v.balance.to_be_bytes::<32>());
                out.extend_from_slice(&v.nonce.to_be_bytes());
                out.extend_from_slice(v.code_hash.as_slice());
            }
        }
    }
    let mut storage: Vec<_> = pre.storage.iter().collect();
    storage.sort_unstable_by_key(|(a, _)| **a);
    out.extend_from_slice(&(storage.len() as u64).to_be_bytes());
    for (address, slots) in storage {
        out.extend_from_slice(address.as_slice());
        out.extend_from_slice(&(slots.len() as u32).to_be_bytes());
        let mut slots: Vec<_> = slots.iter().collect();
        slots.sort_unstable_by_key(|(k, _)| **k);
        for (slot, value) in slots {
            out.extend_from_slice(&slot.to_be_bytes::<32>());
            out.extend_from_slice(&value.to_be_bytes::<32>());
        }
    }
    out
}

/// Decodes an undo log written by [`encode_pre_state`].
pub fn decode_pre_state(bytes: &[u8]) -> Result<PreState> {
    let mut r = Reader(bytes);
    let mut pre = PreState::default();
    for _ in 0..r.u64()? {
        let address = Address::from_slice(r.take(20)?);
        let view = match r.take(1)?[0] {
            0 => None,
            1 => Some(AccountView {
                balance: r.u256()?,
                nonce: r.u64()?,
                code_hash: B256::from_slice(r.take(32)?),
            }),
            b => return Err(SequencerError::Store(format!("bad account flag {b} in an undo log"))),
        };
        pre.accounts.insert(address, view);
    }
    for _ in 0..r.u64()? {
        let address = Address::from_slice(r.take(20)?);
        let count = r.u32()?;
        let slots = pre.storage.entry(address).or_default();
        for _ in 0..count {
            slots.insert(r.u256()?, r.u256()?);
        }
    }
    if !r.0.is_empty() {
        return Err(SequencerError::Store("trailing bytes in an undo log".into()));
    }
    Ok(pre)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_log_round_trips() {
        let mut state = State::new();
        state.insert_account(
            Address::repeat_byte(1),
            U256::from(5),
            1,
            Bytes::new(),
            [(U256::from(1), U256::from(2))],
        );
        state.record_pre_state();
        state.set_storage(Address::repeat_byte(1), U256::from(1), U256::from(3));
        state.set_balance(Address::repeat_byte(1), U256::from(6));
        state.set_balance(Address::repeat_byte(2), U256::from(7));
        let pre = state.take_pre_state();
        let bytes = encode_pre_state(&pre);
        assert_eq!(decode_pre_state(&bytes).unwrap(), pre);
        assert!(decode_pre_state(&bytes[..bytes.len() - 1]).is_err());
        assert_eq!(decode_pre_state(&encode_pre_state(&PreState::default())).unwrap(), PreState::default());
    }

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
