//! `optimism_outputAtBlock` and `optimism_syncStatus` over HTTP: output roots recomputed from
//! `eth_getProof` of the `L2ToL1MessagePasser` and the block header, for past blocks too, the
//! same after a `kill -9` and restart.

use alloy::sol_types::SolCall;
use alloy_primitives::{B256, keccak256};
use temporis_contracts::L2ToL1MessagePasser;
use temporis_protocol::chain::L2_TO_L1_MESSAGE_PASSER_PREDEPLOY as PASSER;

use super::*;

/// One observed head: its header and the message passer's `storageHash` from `eth_getProof`
/// at that block, the proof checked against the header's state root.
fn observe(addr: &str) -> (Value, B256) {
    use alloy_trie::proof::verify_proof;
    use alloy_trie::{Nibbles, TrieAccount};
    loop {
        let header = rpc(addr, "eth_getBlockByNumber", json!(["latest", false]));
        // At the head; a block landing in between is fine (past blocks are proven too).
        let r = rpc_raw(addr, "eth_getProof", json!([PASSER, [], header["number"]]));
        let Some(proof) = r.get("result") else { continue };
        let storage_hash: B256 = proof["storageHash"].as_str().unwrap().parse().unwrap();
        let account = TrieAccount {
            nonce: hex_u64(&proof["nonce"]),
            balance: hex_u256(&proof["balance"]),
            storage_root: storage_hash,
            code_hash: proof["codeHash"].as_str().unwrap().parse().unwrap(),
        };
        let nodes: Vec<Bytes> = proof["accountProof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().parse().unwrap())
            .collect();
        let root: B256 = header["stateRoot"].as_str().unwrap().parse().unwrap();
        verify_proof(root, Nibbles::unpack(keccak256(PASSER)), Some(alloy::rlp::encode(account)), &nodes)
            .expect("the message passer's account proof verifies against the header");
        return (header, storage_hash);
    }
}

/// The output root as a proposer recomputes it: keccak(version 0 ‖ stateRoot ‖ storageHash ‖
/// blockHash), from the header and the proof.
fn expected_root(header: &Value, storage_hash: B256) -> B256 {
    let mut preimage = Vec::with_capacity(128);
    preimage.extend_from_slice(&[0u8; 32]);
    preimage.extend_from_slice(header["stateRoot"].as_str().unwrap().parse::<B256>().unwrap().as_slice());
    preimage.extend_from_slice(storage_hash.as_slice());
    preimage.extend_from_slice(header["hash"].as_str().unwrap().parse::<B256>().unwrap().as_slice());
    keccak256(preimage)
}

/// Every block's output (without the sync status, which moves) from 0 to `head`.
fn outputs(addr: &str, head: u64) -> Vec<Value> {
    (0..=head)
        .map(|n| {
            let mut o = rpc(addr, "optimism_outputAtBlock", json!([format!("{n:#x}")]));
            o.as_object_mut().unwrap().remove("syncStatus");
            o
        })
        .collect()
}

#[test]
fn output_at_block_matches_get_proof_for_past_blocks_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = dev_key(0);
    let code = Bytes::from(L2ToL1MessagePasser::DEPLOYED_BYTECODE.to_vec());
    assert!(!code.is_empty());
    let genesis = json!({
        "config": {"chainId": CHAIN_ID},
        "gasLimit": "0x1c9c380",
        "timestamp": "0x0",
        "alloc": {
            key.address().to_string(): {"balance": "0x3635c9adc5dea00000"},
            PASSER.to_string(): {"balance": "0x0", "code": code},
        }
    });
    let path = dir.path().join("genesis.json");
    std::fs::write(&path, genesis.to_string()).unwrap();
    let datadir = dir.path().join("data");
    let flags = ["--sequencer.block-time", "100ms", "--store.snapshot-interval", "5"];
    let node = NodeProc::start(&datadir, &[&["--genesis", path.to_str().unwrap()][..], &flags[..]].concat());
    let a = node.addr.as_str();

    // Before any withdrawal the passer has no storage; each withdrawal sets a `sentMessages`
    // slot and bumps the nonce slot, so every observation below has its own storage root.
    let mut seen = vec![observe(a)];
    for nonce in 0..3u64 {
        let call = L2ToL1MessagePasser::initiateWithdrawalCall {
            _target: Address::repeat_byte(0xaa),
            _gasLimit: U256::from(100_000 + nonce),
            _data: Bytes::from(vec![nonce as u8; 3]),
        };
        let raw = sign_1559(
            &key,
            CHAIN_ID,
            nonce,
            TxKind::Call(PASSER),
            U256::from(1000),
            call.abi_encode().into(),
            200_000,
            100_000_000_000,
            1,
        );
        let r = rpc(a, "eth_sendRawTransactionSync", json!([raw]));
        assert_eq!(r["status"], "0x1", "withdrawal {nonce}: {r}");
        seen.push(observe(a));
    }
    let roots: std::collections::HashSet<B256> = seen.iter().map(|(_, s)| *s).collect();
    assert_eq!(roots.len(), 4, "each withdrawal changes the passer's storage root");
    assert_eq!(seen[0].1, alloy_trie::EMPTY_ROOT_HASH);

    let check = |addr: &str, header: &Value, storage_hash: B256| {
        let out = rpc(addr, "optimism_outputAtBlock", json!([header["number"]]));
        assert_eq!(out["version"], format!("{}", B256::ZERO));
        assert_eq!(out["outputRoot"], format!("{}", expected_root(header, storage_hash)));
        assert_eq!(out["withdrawalStorageRoot"], format!("{storage_hash}"));
        assert_eq!(out["stateRoot"], header["stateRoot"]);
        let r = &out["blockRef"];
        assert_eq!(r["hash"], header["hash"]);
        assert_eq!(r["parentHash"], header["parentHash"]);
        // op-node writes these as JSON numbers, not quantities.
        assert_eq!(r["number"], hex_u64(&header["number"]));
        assert_eq!(r["timestamp"], hex_u64(&header["timestamp"]));
        // Standalone: no L1 origin (zero), every block in the genesis epoch.
        assert_eq!(r["l1origin"], json!({"hash": B256::ZERO, "number": 0}));
        assert_eq!(r["sequenceNumber"], hex_u64(&header["number"]));
        assert!(out["syncStatus"]["unsafe_l2"]["number"].as_u64().unwrap() >= hex_u64(&header["number"]));
    };
    // Past blocks are answered (the storage root is stored per block), after the head moved on.
    std::thread::sleep(Duration::from_millis(300));
    for (header, storage_hash) in &seen {
        check(a, header, *storage_hash);
        // eth_getProof at that past block (the head has moved on): the state rebuilt from the
        // undo logs proves the same storage root, against that block's state root.
        let r = rpc(a, "eth_getProof", json!([PASSER, [], header["number"]]));
        assert_eq!(r["storageHash"].as_str().unwrap().parse::<B256>().unwrap(), *storage_hash, "{r}");
    }
    assert!(
        hex_u64(&rpc(a, "eth_blockNumber", json!([]))) > hex_u64(&seen[0].0["number"]),
        "the head moved on"
    );

    // The sync status: the head is unsafe; nothing is derived from L1 standalone, so the safe
    // and finalized heads stay at genesis and the L1 refs are zero.
    let status = rpc(a, "optimism_syncStatus", json!([]));
    let genesis_block = rpc(a, "eth_getBlockByNumber", json!(["0x0", false]));
    let head = rpc(a, "eth_blockNumber", json!([]));
    assert!(status["unsafe_l2"]["number"].as_u64().unwrap() >= hex_u64(&head));
    assert_eq!(status["cross_unsafe_l2"]["number"], status["unsafe_l2"]["number"]);
    for k in ["safe_l2", "finalized_l2", "pending_safe_l2", "local_safe_l2"] {
        assert_eq!(status[k]["number"], 0, "{k}");
        assert_eq!(status[k]["hash"], genesis_block["hash"], "{k}");
    }
    let zero_l1 = json!({"hash": B256::ZERO, "number": 0, "parentHash": B256::ZERO, "timestamp": 0});
    for k in ["current_l1", "current_l1_finalized", "head_l1", "safe_l1", "finalized_l1"] {
        assert_eq!(status[k], zero_l1, "{k}");
    }
    // Tags: `safe` and `finalized` name the sync status' heads.
    assert_eq!(rpc(a, "optimism_outputAtBlock", json!(["safe"]))["blockRef"]["number"], 0);

    // Unknown blocks and bad parameters get clear errors.
    let far = hex_u64(&head) + 1_000_000;
    let e = rpc_err(a, "optimism_outputAtBlock", json!([format!("{far:#x}")]));
    assert_eq!(e["code"], -32000);
    let message = e["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("no output for L2 block {far}: the head is block ")), "{message}");
    assert_eq!(rpc_err(a, "optimism_outputAtBlock", json!(["0xzz"]))["code"], -32602);
    assert_eq!(rpc_err(a, "optimism_outputAtBlock", json!([]))["code"], -32602);

    // kill -9 and restart (through a snapshot and a replay): every block's output is the same.
    let head = hex_u64(&rpc(a, "eth_blockNumber", json!([])));
    let before = outputs(a, head);
    node.kill9();
    let node = NodeProc::start(&datadir, &flags);
    let after = outputs(&node.addr, head);
    assert_eq!(before, after);
    for (header, storage_hash) in &seen {
        check(&node.addr, header, *storage_hash);
    }
}
