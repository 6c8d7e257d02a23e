//! WebSocket subscriptions (`eth_subscribe` newHeads, logs, newPendingTransactions) through
//! a minimal RFC 6455 client written here (text frames, client-side masking).

use std::io::{Read, Write};
use std::net::TcpStream;

use alloy_primitives::keccak256;
use serde_json::json;

use super::*;

struct Ws {
    stream: TcpStream,
}

impl Ws {
    fn connect(addr: &str) -> Self {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        // Read the response head byte by byte so no frame byte is consumed with it.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        Self { stream }
    }

    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65_536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    /// The next text message (pings are answered, other control frames skipped).
    fn recv(&mut self) -> Value {
        loop {
            let mut h = [0u8; 2];
            self.stream.read_exact(&mut h).unwrap();
            let opcode = h[0] & 0x0f;
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).unwrap();
            match opcode {
                0x1 => return serde_json::from_slice(&payload).unwrap(),
                0x9 => {
                    let mut pong = vec![0x8a, 0x80 | payload.len() as u8, 0, 0, 0, 0];
                    pong.extend_from_slice(&payload);
                    self.stream.write_all(&pong).unwrap();
                }
                0x8 => panic!("the server closed the socket"),
                _ => {}
            }
        }
    }

    fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        let mut body = json!({"jsonrpc": "2.0", "id": id, "method": method});
        body["params"] = params;
        self.send(&body.to_string());
        loop {
            let v = self.recv();
            if v["id"] == id {
                return v;
            }
        }
    }

    /// The next notification of subscription `sub`.
    fn notification(&mut self, sub: &Value) -> Value {
        loop {
            let v = self.recv();
            if v["method"] == "eth_subscription" && v["params"]["subscription"] == *sub {
                return v["params"]["result"].clone();
            }
        }
    }
}

#[test]
fn subscriptions_over_websocket() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProc::start(dir.path(), &["--sequencer.block-time", "100ms"]);
    let mut ws = Ws::connect(&node.addr);

    // Plain calls work on the socket too.
    assert_eq!(ws.call(1, "eth_chainId", json!([]))["result"], format!("{CHAIN_ID:#x}"));

    let heads = ws.call(2, "eth_subscribe", json!(["newHeads"]))["result"].clone();
    let first = ws.notification(&heads);
    let second = ws.notification(&heads);
    assert_eq!(hex_u64(&second["number"]), hex_u64(&first["number"]) + 1);
    assert_eq!(second["parentHash"], first["hash"]);
    assert!(ws.call(3, "eth_unsubscribe", json!([heads]))["result"].as_bool().unwrap());

    let counter = super::tools::forge_create_counter(&node.url, 1);
    let topic = keccak256("Incremented(address,uint256)");
    let logs =
        ws.call(4, "eth_subscribe", json!(["logs", {"address": counter, "topics": [topic]}]))["result"]
            .clone();
    let pending = ws.call(5, "eth_subscribe", json!(["newPendingTransactions"]))["result"].clone();
    let nonce =
        hex_u64(&rpc(&node.addr, "eth_getTransactionCount", json!([dev_key(0).address(), "pending"])));
    let increment = alloy_primitives::hex::decode("d09de08a").unwrap();
    let raw = sign_1559(
        &dev_key(0),
        CHAIN_ID,
        nonce,
        TxKind::Call(counter),
        U256::ZERO,
        increment.into(),
        100_000,
        100_000_000_000,
        1_000_000,
    );
    let hash = rpc(&node.addr, "eth_sendRawTransaction", json!([raw]));
    assert_eq!(ws.notification(&pending), hash);
    let log = ws.notification(&logs);
    assert_eq!(log["transactionHash"], hash);
    assert_eq!(hex_u256(&log["data"]), U256::from(2));

    let e = ws.call(6, "eth_subscribe", json!(["syncing"]));
    assert_eq!(e["error"]["code"], -32602, "{e}");
}
