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
