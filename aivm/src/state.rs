//! The world state the STF runs on: accounts, storage and code in memory, with a Merkle-Patricia
//! trie per account's storage and one over the accounts, kept up to date incrementally.
//!
//! Writes go into the tries as they are committed (a transaction at a time); a root is computed
//! only when asked for, re-hashing the trie nodes above the keys written since the previous root.
//! Untouched accounts keep their cached storage roots and untouched subtrees their cached
//! hashes, so the cost of a state root grows with the keys a block touches, not with the state.

use std::collections::BTreeMap;
use std::convert::Infallible;

use alloy::genesis::GenesisAccount;
use alloy_primitives::map::{AddressMap, AddressSet, B256Map, HashMap};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles, TrieAccount};
use revm::bytecode::Bytecode;
use revm::state::{Account as EvmAccount, AccountInfo};
use revm::{Database, DatabaseCommit};

use crate::trie::Trie;
use crate::{AivmError, Result};

/// How many recent block hashes `BLOCKHASH` can see.
pub const BLOCK_HASH_HISTORY: u64 = 256;

/// One account's balance, nonce and code hash (what the account trie commits to, with the
/// storage root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountView {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// `keccak256` of the code (`KECCAK256_EMPTY` for none).
    pub code_hash: B256,
}

#[derive(Debug, Clone)]
struct Account {
    view: AccountView,
    /// `keccak256(address)`, the account's key in the account trie, computed once.
    hashed_address: B256,
    storage: HashMap<U256, U256>,
    storage_trie: Trie,
}

impl Account {
    fn new(address: &Address, view: AccountView) -> Self {
        Self {
            view,
            hashed_address: keccak256(address),
            storage: HashMap::default(),
            storage_trie: Trie::new(),
        }
    }

    fn set_slot(&mut self, slot: U256, value: U256) {
        let key = keccak256(slot.to_be_bytes::<32>());
        if value.is_zero() {
            self.storage.remove(&slot);
            self.storage_trie.remove(&key);
        } else {
            self.storage.insert(slot, value);
            self.storage_trie.insert(&key, alloy::rlp::encode(value));
        }
    }

    fn trie_account(&mut self) -> TrieAccount {
        TrieAccount {
            nonce: self.view.nonce,
            balance: self.view.balance,
            storage_root: self.storage_trie.root(),
            code_hash: self.view.code_hash,
        }
    }
}

/// What a run of writes replaced: each account's and storage slot's value before its first
/// write since [`State::record_pre_state`] (an undo log: the pre-state is the state with these
/// values put back). Code is content-addressed and never dropped, so the pre-state's code hashes
/// still resolve; recent block hashes are not recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreState {
    /// Accounts as they were (`None`: the account did not exist).
    pub accounts: AddressMap<Option<AccountView>>,
    /// Storage slots as they were (zero: unset), per account.
    pub storage: AddressMap<HashMap<U256, U256>>,
}

impl PreState {
    /// The account `address` before the writes, if the writes touched it (`Some(None)`: it did
    /// not exist).
    pub fn account(&self, address: &Address) -> Option<Option<AccountView>> {
        self.accounts.get(address).copied()
    }

    /// Storage `slot` of `address` before the writes, if the writes touched it (or the account
    /// did not exist then, when every slot was zero).
    pub fn storage(&self, address: &Address, slot: U256) -> Option<U256> {
        if let Some(value) = self.storage.get(address).and_then(|slots| slots.get(&slot)) {
            return Some(*value);
        }
        matches!(self.accounts.get(address), Some(None)).then_some(U256::ZERO)
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.storage.is_empty()
    }
}

/// Records `address`'s value in `pre` unless an earlier write did.
fn note_account(pre: &mut Option<PreState>, accounts: &AddressMap<Account>, address: Address) {
    if let Some(pre) = pre {
        pre.accounts.entry(address).or_insert_with(|| accounts.get(&address).map(|a| a.view));
    }
}

/// Records storage `slot` of `address` in `pre` unless an earlier write did.
fn note_slot(pre: &mut Option<PreState>, accounts: &AddressMap<Account>, address: Address, slot: U256) {
    if let Some(pre) = pre {
        pre.storage.entry(address).or_default().entry(slot).or_insert_with(|| {
            accounts.get(&address).and_then(|a| a.storage.get(&slot).copied()).unwrap_or_default()
        });
    }
}

/// Records every slot of `address` (its storage is about to be dropped whole).
fn note_all_slots(pre: &mut Option<PreState>, accounts: &AddressMap<Account>, address: Address) {
    if pre.is_none() {
        return;
    }
    if let Some(account) = accounts.get(&address) {
        for slot in account.storage.keys() {
            note_slot(pre, accounts, address, *slot);
        }
    }
}

/// The world state: accounts, storage, code and recent block hashes, with incremental tries.
///
/// It is the `revm` database of the STF (`&mut State` implements [`Database`] and
/// [`DatabaseCommit`]); nothing is read from elsewhere, so execution never waits on I/O.
#[derive(Debug, Clone, Default)]
pub struct State {
    accounts: AddressMap<Account>,
    codes: B256Map<Bytecode>,
    block_hashes: BTreeMap<u64, B256>,
    account_trie: Trie,
    /// Accounts changed since the account trie was last brought up to date.
    dirty: AddressSet,
    /// The values replaced since [`State::record_pre_state`], while recording.
    pre: Option<PreState>,
}

impl State {
    /// An empty state (its root is the empty trie root).
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts recording the values that writes replace (dropping any recording in progress);
    /// [`State::take_pre_state`] hands them out. A block's recording is its undo log.
    pub fn record_pre_state(&mut self) {
        self.pre = Some(PreState::default());
    }

    /// Stops recording and returns what the writes since [`State::record_pre_state`] replaced
    /// (empty if nothing was recording).
    pub fn take_pre_state(&mut self) -> PreState {
        self.pre.take().unwrap_or_default()
    }

    /// Puts back the values `pre` records: after a block's writes were recorded into `pre`,
    /// this turns its post-state into its pre-state (the tries follow at the next root).
    pub fn apply_pre_state(&mut self, pre: &PreState) {
        for (address, view) in &pre.accounts {
            match view {
                None => {
                    self.accounts.remove(address);
                }
                Some(view) => {
                    let account =
                        self.accounts.entry(*address).or_insert_with(|| Account::new(address, *view));
                    account.view = *view;
                }
            }
            self.dirty.insert(*address);
        }
        for (address, slots) in &pre.storage {
            // A slot of an account that did not exist before is zero there: gone with it.
            let Some(account) = self.accounts.get_mut(address) else { continue };
            for (slot, value) in slots {
                account.set_slot(*slot, *value);
            }
            self.dirty.insert(*address);
        }
    }

    /// A state holding a geth-style genesis `alloc` (address → balance, nonce, code, storage).
    pub fn from_genesis_alloc<'a>(
        alloc: impl IntoIterator<Item = (&'a Address, &'a GenesisAccount)>,
    ) -> Self {
        let mut state = Self::new();
        for (address, account) in alloc {
            let storage = account.storage.iter().flatten().map(|(k, v)| ((*k).into(), (*v).into()));
            state.insert_account(
                *address,
                account.balance,
                account.nonce.unwrap_or_default(),
                account.code.clone().unwrap_or_default(),
                storage,
            );
        }
        state
    }

    /// A state from a genesis JSON file's text: either a whole geth/anvil genesis (with an
    /// `alloc` field) or a bare `alloc` object.
    pub fn from_genesis_json(json: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| AivmError::Genesis(e.to_string()))?;
        let alloc = value.get("alloc").cloned().unwrap_or(value);
        let alloc: BTreeMap<Address, GenesisAccount> =
            serde_json::from_value(alloc).map_err(|e| AivmError::Genesis(e.to_string()))?;
        Ok(Self::from_genesis_alloc(&alloc))
    }

    /// Sets an account (replacing any previous one, storage included).
    pub fn insert_account(
        &mut self,
        address: Address,
        balance: U256,
        nonce: u64,
        code: Bytes,
        storage: impl IntoIterator<Item = (U256, U256)>,
    ) {
        let code_hash = if code.is_empty() {
            KECCAK256_EMPTY
        } else {
            // Bytes that look like an EIP-7702 delegation but are malformed are kept as legacy
            // code (which halts on its first byte, 0xEF), as any client would run them.
            let bytecode =
                Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code));
            let hash = bytecode.hash_slow();
            self.codes.insert(hash, bytecode);
            hash
        };
        note_account(&mut self.pre, &self.accounts, address);
        note_all_slots(&mut self.pre, &self.accounts, address);
        let mut account = Account::new(&address, AccountView { balance, nonce, code_hash });
        for (slot, value) in storage {
            note_slot(&mut self.pre, &self.accounts, address, slot);
            account.set_slot(slot, value);
        }
        self.accounts.insert(address, account);
        self.dirty.insert(address);
    }

    /// Sets the balance of `address`, creating the account if needed (deposits mint this way).
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        let empty = AccountView { balance: U256::ZERO, nonce: 0, code_hash: KECCAK256_EMPTY };
        note_account(&mut self.pre, &self.accounts, address);
        self.accounts.entry(address).or_insert_with(|| Account::new(&address, empty)).view.balance = balance;
        self.dirty.insert(address);
    }

    /// Sets the nonce of `address`, creating the account if needed (a failed deposit still
    /// increments its sender's nonce this way).
    pub fn set_nonce(&mut self, address: Address, nonce: u64) {
        let empty = AccountView { balance: U256::ZERO, nonce: 0, code_hash: KECCAK256_EMPTY };
        self.accounts.entry(address).or_insert_with(|| Account::new(&address, empty)).view.nonce = nonce;
        self.dirty.insert(address);
    }

    /// Sets storage `slot` of the existing account `address` (zero clears it); returns whether
    /// the account exists.
    pub fn set_storage(&mut self, address: Address, slot: U256, value: U256) -> bool {
        if !self.accounts.contains_key(&address) {
            return false;
        }
        note_slot(&mut self.pre, &self.accounts, address, slot);
        let account = self.accounts.get_mut(&address).expect("checked above");
        account.set_slot(slot, value);
        self.dirty.insert(address);
        true
    }

    /// Deletes an account with its storage; returns whether it existed.
    pub fn remove_account(&mut self, address: &Address) -> bool {
        if self.accounts.contains_key(address) {
            note_account(&mut self.pre, &self.accounts, *address);
            note_all_slots(&mut self.pre, &self.accounts, *address);
        }
        let existed = self.accounts.remove(address).is_some();
        if existed {
            self.dirty.insert(*address);
        }
        existed
    }

    /// Records the hash of block `number`, for `BLOCKHASH`; hashes older than the last
    /// [`BLOCK_HASH_HISTORY`] blocks are dropped.
    pub fn set_block_hash(&mut self, number: u64, hash: B256) {
        self.block_hashes.insert(number, hash);
        let keep_from = number.saturating_sub(BLOCK_HASH_HISTORY);
        self.block_hashes = self.block_hashes.split_off(&keep_from);
    }

    /// The account at `address`, if it exists.
    pub fn account(&self, address: &Address) -> Option<AccountView> {
        self.accounts.get(address).map(|a| a.view)
    }

    /// The value of storage `slot` of `address` (zero if unset).
    pub fn storage(&self, address: &Address, slot: U256) -> U256 {
        self.accounts.get(address).and_then(|a| a.storage.get(&slot).copied()).unwrap_or_default()
    }

    /// The code with hash `code_hash`.
    pub fn code(&self, code_hash: &B256) -> Option<Bytes> {
        self.codes.get(code_hash).map(Bytecode::original_bytes)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether no account exists.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Iterates over all accounts.
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, AccountView)> {
        self.accounts.iter().map(|(a, acc)| (a, acc.view))
    }

    /// Iterates over the non-zero storage slots of `address`.
    pub fn storage_slots(&self, address: &Address) -> impl Iterator<Item = (U256, U256)> + '_ {
        self.accounts.get(address).into_iter().flat_map(|a| a.storage.iter().map(|(k, v)| (*k, *v)))
    }

    /// The storage root of `address` (the empty root for an absent account).
    pub fn storage_root(&mut self, address: &Address) -> B256 {
        self.accounts.get_mut(address).map_or(EMPTY_ROOT_HASH, |a| a.storage_trie.root())
    }

    /// The state root: brings the account trie up to date with the accounts changed since the
    /// last call (their storage roots first) and hashes the changed paths.
    pub fn state_root(&mut self) -> B256 {
        // Taken, not drained: draining keeps the set's capacity, and clearing a table once
        // sized for a whole genesis costs a scan of all of it at every per-transaction root.
        for address in std::mem::take(&mut self.dirty) {
            match self.accounts.get_mut(&address) {
                Some(account) => {
                    let value = alloy::rlp::encode(account.trie_account());
                    self.account_trie.insert(&account.hashed_address, value);
                }
                None => {
                    self.account_trie.remove(&keccak256(address));
                }
            }
        }
        self.account_trie.root()
    }

    /// The state root computed from scratch, from sorted leaves with alloy-trie's
    /// `HashBuilder`, ignoring every cache. Slow (it hashes the whole state); it exists to check
    /// [`State::state_root`].
    pub fn state_root_from_scratch(&self) -> B256 {
        let mut leaves: Vec<(B256, Vec<u8>)> = self
            .accounts
            .iter()
            .map(|(address, account)| {
                let mut slots: Vec<(B256, Vec<u8>)> = account
                    .storage
                    .iter()
                    .map(|(k, v)| (keccak256(k.to_be_bytes::<32>()), alloy::rlp::encode(v)))
                    .collect();
                let storage_root = root_of_sorted(&mut slots);
                let trie_account = TrieAccount {
                    nonce: account.view.nonce,
                    balance: account.view.balance,
                    storage_root,
                    code_hash: account.view.code_hash,
                };
                (keccak256(address), alloy::rlp::encode(trie_account))
            })
            .collect();
        root_of_sorted(&mut leaves)
    }

    /// Applies one transaction's state changes (as revm's journal hands them out).
    fn apply(&mut self, address: Address, account: EvmAccount) {
        if !account.is_touched() {
            return;
        }
        // EIP-161: an empty account that a transaction touched is deleted; so is a destroyed
        // one (since Cancun only an account created in the same transaction can be).
        if account.is_selfdestructed() || account.is_empty() {
            if self.accounts.contains_key(&address) {
                note_account(&mut self.pre, &self.accounts, address);
                note_all_slots(&mut self.pre, &self.accounts, address);
            }
            if self.accounts.remove(&address).is_some() {
                self.dirty.insert(address);
            }
            return;
        }
        let created = account.is_created();
        let AccountInfo { balance, nonce, code_hash, code, .. } = account.info;
        if let Some(code) = code
            && code_hash != KECCAK256_EMPTY
        {
            self.codes.entry(code_hash).or_insert(code);
        }
        let view = AccountView { balance, nonce, code_hash };
        note_account(&mut self.pre, &self.accounts, address);
        if created {
            note_all_slots(&mut self.pre, &self.accounts, address);
        }
        if self.pre.is_some() {
            for (slot, value) in &account.storage {
                if value.is_changed() {
                    note_slot(&mut self.pre, &self.accounts, address, *slot);
                }
            }
        }
        let entry = self.accounts.entry(address).or_insert_with(|| Account::new(&address, view));
        if created {
            // A fresh contract starts from empty storage, whatever lived at the address.
            entry.storage.clear();
            entry.storage_trie = Trie::new();
        }
        entry.view = view;
        for (slot, value) in account.storage {
            if value.is_changed() {
                entry.set_slot(slot, value.present_value());
            }
        }
        self.dirty.insert(address);
    }
}

/// The root of a trie of (already hashed) keys, sorted here.
fn root_of_sorted(leaves: &mut [(B256, Vec<u8>)]) -> B256 {
    leaves.sort_unstable_by_key(|leaf| leaf.0);
    let mut hb = HashBuilder::default();
    for (key, value) in leaves.iter() {
        hb.add_leaf(Nibbles::unpack(key), value);
    }
    hb.root()
}

impl Database for State {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        Ok(self.accounts.get(&address).map(|a| AccountInfo {
            balance: a.view.balance,
            nonce: a.view.nonce,
            code_hash: a.view.code_hash,
            account_id: None,
            // Left out: revm asks `code_by_hash` only when the code runs, so plain transfers
            // never clone it.
            code: (a.view.code_hash == KECCAK256_EMPTY).then(Bytecode::default),
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        // Every code hash in the state was inserted with its code, so a miss is only the empty
        // code's hash (or a hash nothing refers to), and empty code is the right answer for both.
        Ok(self.codes.get(&code_hash).cloned().unwrap_or_default())
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Infallible> {
        Ok(Self::storage(self, &address, index))
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.block_hashes.get(&number).copied().unwrap_or_default())
    }
}

impl DatabaseCommit for State {
    fn commit(&mut self, changes: AddressMap<EvmAccount>) {
        for (address, account) in changes {
            self.apply(address, account);
        }
    }

    fn commit_iter(&mut self, changes: &mut dyn Iterator<Item = (Address, EvmAccount)>) {
        for (address, account) in changes {
            self.apply(address, account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_pre_state_puts_every_kind_of_write_back() {
        let (a, b, c, d) = (
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            Address::repeat_byte(4),
        );
        let mut state = State::new();
        state.insert_account(a, U256::from(10), 1, Bytes::new(), [(U256::from(1), U256::from(11))]);
        state.insert_account(
            b,
            U256::from(20),
            2,
            Bytes::from_static(&[0x60, 0x00]),
            [(U256::from(2), U256::from(22)), (U256::from(3), U256::from(33))],
        );
        state.insert_account(c, U256::from(30), 3, Bytes::new(), []);
        let root = state.state_root();
        let before = state.clone();

        state.record_pre_state();
        state.set_balance(a, U256::from(99));
        state.set_storage(a, U256::from(1), U256::ZERO);
        state.set_storage(a, U256::from(5), U256::from(55));
        state.set_storage(a, U256::from(5), U256::from(56));
        state.remove_account(&b);
        state.insert_account(c, U256::from(31), 4, Bytes::new(), [(U256::from(7), U256::from(77))]);
        state.set_balance(d, U256::from(40));
        state.set_storage(d, U256::from(8), U256::from(88));
        let pre = state.take_pre_state();
        assert_ne!(state.state_root(), root);

        assert_eq!(pre.account(&a), Some(before.account(&a)));
        assert_eq!(pre.account(&d), Some(None));
        assert_eq!(pre.account(&Address::repeat_byte(9)), None);
        assert_eq!(pre.storage(&a, U256::from(1)), Some(U256::from(11)));
        assert_eq!(pre.storage(&a, U256::from(5)), Some(U256::ZERO), "the first write's pre-value is kept");
        assert_eq!(
            pre.storage(&b, U256::from(3)),
            Some(U256::from(33)),
            "a removed account's slots are kept"
        );
        assert_eq!(pre.storage(&d, U256::from(123)), Some(U256::ZERO), "an account that did not exist");
        assert_eq!(pre.storage(&c, U256::from(1)), None);

        let mut undone = state.clone();
        undone.apply_pre_state(&pre);
        assert_eq!(undone.state_root(), root);
        assert_eq!(undone.state_root_from_scratch(), root);
        for x in [a, b, c, d] {
            assert_eq!(undone.account(&x), before.account(&x));
        }
        // Not recording: nothing is kept.
        state.set_balance(a, U256::from(1));
        assert!(state.take_pre_state().is_empty());
    }
}
