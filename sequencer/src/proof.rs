//! `eth_getProof` (EIP-1186): Merkle-Patricia proofs of an account and of its storage slots
//! against the head state root.
//!
//! The AIVM's incremental trie keeps node hashes but no proof API, so proofs are built here
//! with alloy-trie's `HashBuilder` and a proof retainer over the sorted leaves: O(accounts)
//! for the account proof (storage roots come from the tries' caches) and O(slots of the
//! account) for storage proofs. Fine for development states; a persistent node store would
//! read the few nodes on the path instead.

use alloy::rpc::types::{EIP1186AccountProofResponse, EIP1186StorageProof};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::proof::ProofRetainer;
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles, TrieAccount};
use temporis_aivm::State;

/// Builds the root of `leaves` (hashed keys, any order) and the proof of `target`.
fn root_and_proof(mut leaves: Vec<(B256, Vec<u8>)>, target: B256) -> (B256, Vec<Bytes>) {
    leaves.sort_unstable_by_key(|l| l.0);
    let key = Nibbles::unpack(target);
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(vec![key]));
    for (k, v) in &leaves {
        hb.add_leaf(Nibbles::unpack(k), v);
    }
    let root = hb.root();
    let proof = hb.take_proof_nodes().matching_nodes_sorted(&key).into_iter().map(|(_, node)| node).collect();
    (root, proof)
}

/// The EIP-1186 proof of `address` and `slots` in `state` (mutable: storage roots are read
/// from the tries' caches, computing any that are dirty).
pub fn get_proof(state: &mut State, address: Address, slots: &[B256]) -> EIP1186AccountProofResponse {
    let addresses: Vec<Address> = state.accounts().map(|(a, _)| *a).collect();
    let leaves = addresses
        .iter()
        .map(|a| {
            let view = state.account(a).expect("listed account exists");
            let account = TrieAccount {
                nonce: view.nonce,
                balance: view.balance,
                storage_root: state.storage_root(a),
                code_hash: view.code_hash,
            };
            (keccak256(a), alloy::rlp::encode(account))
        })
        .collect();
    let (_, account_proof) = root_and_proof(leaves, keccak256(address));
    let view = state.account(&address);
    let storage_hash = if view.is_some() { state.storage_root(&address) } else { EMPTY_ROOT_HASH };
    let storage: Vec<(B256, Vec<u8>)> = state
        .storage_slots(&address)
        .map(|(k, v)| (keccak256(k.to_be_bytes::<32>()), alloy::rlp::encode(v)))
        .collect();
    let storage_proof = slots
        .iter()
        .map(|slot| {
            let (_, proof) = root_and_proof(storage.clone(), keccak256(slot));
            EIP1186StorageProof {
                key: (*slot).into(),
                value: state.storage(&address, U256::from_be_bytes(slot.0)),
                proof,
            }
        })
        .collect();
    EIP1186AccountProofResponse {
        address,
        balance: view.map_or(U256::ZERO, |v| v.balance),
        code_hash: view.map_or(KECCAK256_EMPTY, |v| v.code_hash),
        nonce: view.map_or(0, |v| v.nonce),
        storage_hash,
        account_proof,
        storage_proof,
    }
}

#[cfg(test)]
mod tests {
    use alloy_trie::proof::verify_proof;

    use super::*;

    #[test]
    fn proofs_verify_against_the_state_root() {
        let mut state = State::new();
        for i in 1..=50u8 {
            let slots = (0..u64::from(i % 4)).map(|s| (U256::from(s), U256::from(s + 1)));
            state.insert_account(Address::repeat_byte(i), U256::from(i), u64::from(i), Bytes::new(), slots);
        }
        let root = state.state_root();
        let target = Address::repeat_byte(7);
        let slots = [B256::ZERO, B256::with_last_byte(2), B256::with_last_byte(9)];
        let p = get_proof(&mut state, target, &slots);
        let account = TrieAccount {
            nonce: 7,
            balance: U256::from(7),
            storage_root: p.storage_hash,
            code_hash: p.code_hash,
        };
        verify_proof(
            root,
            Nibbles::unpack(keccak256(target)),
            Some(alloy::rlp::encode(account)),
            &p.account_proof,
        )
        .unwrap();
        assert_eq!(p.storage_proof[0].value, U256::from(1));
        for sp in &p.storage_proof {
            let expected = (!sp.value.is_zero()).then(|| alloy::rlp::encode(sp.value));
            verify_proof(p.storage_hash, Nibbles::unpack(keccak256(sp.key.as_b256())), expected, &sp.proof)
                .unwrap();
        }
        // An absent account: an exclusion proof.
        let absent = Address::repeat_byte(0xee);
        let p = get_proof(&mut state, absent, &[]);
        verify_proof(root, Nibbles::unpack(keccak256(absent)), None, &p.account_proof).unwrap();
        assert_eq!(p.storage_hash, EMPTY_ROOT_HASH);
    }
}
