//! Head reads while blocks are produced: `eth_getBalance` and `eth_getTransactionCount` do not
//! wait for a block's commit, and must never show the state of a block that is not committed
//! (not yet the head).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

#[test]
fn head_reads_never_see_the_state_of_an_uncommitted_block() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "50ms"]);
    let key = dev_key(5);
    let sender = key.address();
    let recipient = Address::repeat_byte(0xd5);
    let stop = Arc::new(AtomicBool::new(false));
    // Reads pinned to the head's number succeed only while that block is the head, so each
    // answer is the state at that block (or a bug).
    let reader = {
        let (addr, stop) = (node.addr.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let head = rpc(&addr, "eth_blockNumber", json!([]));
                let nonce = rpc_raw(&addr, "eth_getTransactionCount", json!([sender, head]));
                let balance = rpc_raw(&addr, "eth_getBalance", json!([recipient, head]));
                if let (Some(n), Some(b)) = (nonce.get("result"), balance.get("result")) {
                    seen.push((hex_u64(&head), hex_u64(n), hex_u256(b)));
                }
            }
            seen
        })
    };
    let count = 120u64;
    let mut last = None;
    for nonce in 0..count {
        last = Some(rpc(&node.addr, "eth_sendRawTransaction", json!([transfer(&key, nonce, recipient, 1)])));
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_receipt(&node.addr, last.unwrap().as_str().unwrap());
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();

    // What the blocks say: the sender's transactions up to each block.
    let head = hex_u64(&rpc(&node.addr, "eth_blockNumber", json!([])));
    let mut included = vec![0u64; head as usize + 1];
    for n in 1..=head {
        let block = rpc(&node.addr, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]));
        let mine =
            block["transactions"].as_array().unwrap().iter().filter(|t| t["from"] == json!(sender)).count();
        included[n as usize] = included[n as usize - 1] + mine as u64;
    }
    assert_eq!(included[head as usize], count);
    let moving =
        seen.iter().filter(|(h, _, _)| included[*h as usize] > 0 && included[*h as usize] < count).count();
    assert!(moving > 10, "the reads overlapped the production of the transfers' blocks ({moving})");
    for (h, nonce, balance) in seen {
        assert_eq!(nonce, included[h as usize], "sender's nonce read at block {h}");
        assert_eq!(balance, U256::from(included[h as usize]), "recipient's balance read at block {h}");
    }
}

#[test]
fn code_storage_nonce_and_balance_at_past_blocks_and_after_a_restart() {
    use alloy::sol_types::SolCall;
    alloy::sol! {
        function setNumber(uint256 n) external;
        function increment() external;
        function number() external view returns (uint256);
    }
    let mut init = super::tools::counter_bytecode();
    init.extend_from_slice(&U256::from(7).to_be_bytes::<32>());
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--sequencer.block-time", "100ms", "--store.snapshot-interval", "3"];
    let node = NodeProc::start(dir.path(), &flags);
    let a = node.addr.as_str();
    let key = dev_key(6);
    let counter = key.address().create(0);
    let fresh = Address::repeat_byte(0xe6);
    let send = |nonce: u64, to: TxKind, value: u64, input: Vec<u8>| {
        let raw = sign_1559(
            &key,
            CHAIN_ID,
            nonce,
            to,
            U256::from(value),
            input.into(),
            500_000,
            100_000_000_000,
            1,
        );
        let r = rpc(a, "eth_sendRawTransactionSync", json!([raw]));
        assert_eq!(r["status"], "0x1", "{r}");
        hex_u64(&r["blockNumber"])
    };
    let deployed = send(0, TxKind::Create, 0, init);
    let cleared = send(1, TxKind::Call(counter), 0, setNumberCall { n: U256::ZERO }.abi_encode());
    let one = send(2, TxKind::Call(counter), 0, incrementCall {}.abi_encode());
    let paid = send(3, TxKind::Call(fresh), 5, vec![]);
    let two = send(4, TxKind::Call(counter), 0, incrementCall {}.abi_encode());
    std::thread::sleep(Duration::from_millis(300));
    let head = hex_u64(&rpc(a, "eth_blockNumber", json!([])));
    let code = rpc(a, "eth_getCode", json!([counter, "latest"]));
    assert_ne!(code, "0x");
    let slot = |n: u64| match n {
        n if n < deployed => 0u64,
        n if n < cleared => 7,
        n if n < one => 0,
        n if n < two => 1,
        _ => 2,
    };
    let nonce = |n: u64| [deployed, cleared, one, paid, two].iter().filter(|b| **b <= n).count() as u64;
    let check = |addr: &str| {
        for n in 0..=head {
            let at = json!(format!("{n:#x}"));
            let expected_code = if n < deployed { json!("0x") } else { code.clone() };
            assert_eq!(rpc(addr, "eth_getCode", json!([counter, at])), expected_code, "code at {n}");
            let s = rpc(addr, "eth_getStorageAt", json!([counter, "0x0", at]));
            assert_eq!(hex_u256(&s), U256::from(slot(n)), "slot 0 at {n}");
            assert_eq!(
                hex_u64(&rpc(addr, "eth_getTransactionCount", json!([key.address(), at]))),
                nonce(n),
                "nonce at {n}"
            );
            let b = hex_u256(&rpc(addr, "eth_getBalance", json!([fresh, at])));
            assert_eq!(b, U256::from(if n < paid { 0 } else { 5 }), "balance at {n}");
            // Execution at a past block runs on that block's state: `number()` of the counter
            // through eth_call, and a creation call that returns BALANCE(fresh).
            if n >= deployed {
                let r = rpc(
                    addr,
                    "eth_call",
                    json!([{"to": counter, "input": Bytes::from(numberCall {}.abi_encode())}, at]),
                );
                assert_eq!(hex_u256(&r), U256::from(slot(n)), "eth_call number() at {n}");
            }
            let mut probe = vec![0x73];
            probe.extend_from_slice(fresh.as_slice());
            probe.extend_from_slice(&[0x31, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
            let r = rpc(addr, "eth_call", json!([{"input": Bytes::from(probe)}, at]));
            assert_eq!(hex_u256(&r), U256::from(if n < paid { 0 } else { 5 }), "BALANCE via eth_call at {n}");
        }
        // By hash (EIP-1898) as by number.
        let block = rpc(addr, "eth_getBlockByNumber", json!([format!("{cleared:#x}"), false]));
        let by_hash = rpc(addr, "eth_getStorageAt", json!([counter, "0x0", {"blockHash": block["hash"]}]));
        assert_eq!(hex_u256(&by_hash), U256::ZERO);
        let before = rpc(addr, "eth_getBlockByNumber", json!([format!("{:#x}", cleared - 1), false]));
        let by_hash = rpc(addr, "eth_getStorageAt", json!([counter, "0x0", {"blockHash": before["hash"]}]));
        assert_eq!(hex_u256(&by_hash), U256::from(7));
        assert_eq!(
            rpc_err(addr, "eth_getBalance", json!([fresh, "0xffffff"]))["message"],
            "header not found"
        );
    };
    check(a);
    // The undo logs are in the store: after kill -9 and a restart (through a snapshot) the
    // same answers.
    node.kill9();
    let node = NodeProc::start(dir.path(), &flags);
    check(&node.addr);
}
