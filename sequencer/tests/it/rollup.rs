//! The rollup inputs of the block producer: L1 epochs pushed to an in-process node become the
//! L1 attributes deposit and user deposits at the start of its blocks; checked over JSON-RPC
//! (real HTTP on loopback) as OP nodes serve them, with the L1 data fee on user receipts, and
//! across a restart.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::eips::Encodable2718;
use alloy::sol_types::SolCall;
use alloy_primitives::{B256, keccak256};
use clap::Parser;
use op_alloy_consensus::{L1InfoDepositSource, OpTxEnvelope};
use temporis_aivm::l1fee::{L1_FEE_VAULT, L1FeeParams};
use temporis_contracts::L1Block;
use temporis_protocol::chain::{DEPOSITOR_ACCOUNT, L1_BLOCK_PREDEPLOY};
use temporis_protocol::deposit::{DepositLog, DepositOpaqueData};
use temporis_protocol::l1::{FeeParams, L1BlockInfo, L1BlockValues, L1Epoch};
use temporis_sequencer::{Cli, Config, Node};

use super::*;

const ETH: u128 = 1_000_000_000_000_000_000;

/// A node in this process with its JSON-RPC server; blocks are produced by the test.
pub(crate) struct InProc {
    pub(crate) node: Node,
    pub(crate) addr: String,
    handle: jsonrpsee::server::ServerHandle,
    rt: tokio::runtime::Runtime,
}

impl InProc {
    pub(crate) fn open(datadir: &Path) -> Self {
        Self::open_with(datadir, &[])
    }

    /// A node with extra command-line flags.
    pub(crate) fn open_with(datadir: &Path, extra: &[&str]) -> Self {
        let mut args: Vec<std::ffi::OsString> = vec![
            "temporis-sequencer".into(),
            "--dev".into(),
            "--http.port".into(),
            "0".into(),
            "--datadir".into(),
            datadir.into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let cli = Cli::try_parse_from(args).unwrap();
        let node = Node::open(Config::from_cli(&cli).unwrap()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (addr, handle) = rt.block_on(temporis_sequencer::rpc::serve(node.clone())).unwrap();
        Self { node, addr: addr.to_string(), handle, rt }
    }

    pub(crate) fn close(self) {
        let _ = self.handle.stop();
        self.rt.block_on(self.handle.stopped());
    }

    pub(crate) fn produce(&self) -> u64 {
        self.node.produce_block().unwrap().header.number
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn l1_block(number: u64, parent: B256, timestamp: u64) -> L1BlockInfo {
    L1BlockInfo {
        number,
        hash: keccak256(number.to_be_bytes()),
        parent_hash: parent,
        timestamp,
        base_fee: 20_000_000_000,
        blob_base_fee: 3_000_000_000,
    }
}

fn deposit_log(
    l1: &L1BlockInfo,
    log_index: u64,
    from: Address,
    to: Address,
    data: &DepositOpaqueData,
) -> DepositLog {
    DepositLog {
        l1_block_hash: l1.hash,
        log_index,
        from,
        to,
        version: U256::ZERO,
        opaque_data: data.encode(),
    }
}

fn opaque(mint: u128, value: u128, gas_limit: u64, is_creation: bool, data: &[u8]) -> DepositOpaqueData {
    DepositOpaqueData {
        mint: U256::from(mint),
        value: U256::from(value),
        gas_limit,
        is_creation,
        data: Bytes::copy_from_slice(data),
    }
}

fn balance_of(addr: &str, a: Address) -> U256 {
    hex_u256(&rpc(addr, "eth_getBalance", json!([a, "latest"])))
}

/// `L1Block.<call>()` read by `eth_call`.
fn l1_block_call(addr: &str, call: Vec<u8>) -> Bytes {
    let out =
        rpc(addr, "eth_call", json!([{ "to": L1_BLOCK_PREDEPLOY, "data": Bytes::from(call) }, "latest"]));
    out.as_str().unwrap().parse().unwrap()
}

fn sequence_number(addr: &str) -> u64 {
    let out = l1_block_call(addr, L1Block::sequenceNumberCall {}.abi_encode());
    L1Block::sequenceNumberCall::abi_decode_returns(&out).unwrap()
}

/// The source hash and sequence number of block `n`'s first transaction, which must be the
/// L1 attributes deposit.
fn l1_info_of(addr: &str, n: u64) -> (B256, L1BlockValues) {
    let block = rpc(addr, "eth_getBlockByNumber", json!([format!("{n:#x}"), true]));
    let first = &block["transactions"][0];
    assert_eq!(first["type"], "0x7e", "block {n} starts with a deposit: {first}");
    assert_eq!(first["from"].as_str().unwrap().parse::<Address>().unwrap(), DEPOSITOR_ACCOUNT);
    assert_eq!(first["to"].as_str().unwrap().parse::<Address>().unwrap(), L1_BLOCK_PREDEPLOY);
    assert_eq!(hex_u64(&first["gas"]), 1_000_000);
    let input: Bytes = first["input"].as_str().unwrap().parse().unwrap();
    (first["sourceHash"].as_str().unwrap().parse().unwrap(), L1BlockValues::decode_ecotone(&input).unwrap())
}

#[test]
fn l1_epochs_become_deposits_served_as_op_nodes_serve_them() {
    let dir = tempfile::tempdir().unwrap();
    let n = InProc::open(dir.path());
    let addr = n.addr.clone();

    // Standalone: no L1 block pushed, no system transactions.
    assert_eq!(n.produce(), 1);
    let block = rpc(&addr, "eth_getBlockByNumber", json!(["0x1", false]));
    assert_eq!(block["transactions"], json!([]));
    assert_eq!(rpc(&addr, "temporis_getL1Origin", json!(["0x1"])), Value::Null);

    let (alice, bob, carol) =
        (Address::repeat_byte(0xa1), Address::repeat_byte(0xb0), Address::repeat_byte(0xc4));
    // Init code of the one-byte runtime 0x00.
    let init = alloy_primitives::hex::decode("600060005360016000f3").unwrap();
    let a = l1_block(100, B256::repeat_byte(0x99), now() - 60);
    let logs = vec![
        deposit_log(&a, 3, alice, bob, &opaque(2 * ETH, ETH / 2, 100_000, false, &[])),
        deposit_log(&a, 7, alice, Address::ZERO, &opaque(0, 0, 200_000, true, &init)),
        // Value above what carol will have: a failed deposit that keeps its mint.
        deposit_log(&a, 9, carol, bob, &opaque(ETH, 5 * ETH, 50_000, false, &[])),
    ];
    n.node.push_l1_epoch(L1Epoch { info: a, deposits: logs.clone() }).unwrap();
    // A user transaction waiting in the pool goes after the deposits.
    let key = dev_key(0);
    let raw = sign_1559(
        &key,
        CHAIN_ID,
        0,
        TxKind::Call(bob),
        U256::from(7),
        Bytes::from(vec![0x5a; 100]),
        30_000,
        10_000_000_000,
        1_000_000,
    );
    let user_hash = rpc(&addr, "eth_sendRawTransaction", json!([raw]));
    // Users cannot send deposits.
    let forged = OpTxEnvelope::from(logs[0].to_deposit_tx().unwrap()).encoded_2718();
    let e = rpc_err(&addr, "eth_sendRawTransaction", json!([Bytes::from(forged)]));
    assert_eq!(e["message"], "transaction type not supported");

    assert_eq!(n.produce(), 2);
    let block = rpc(&addr, "eth_getBlockByNumber", json!(["0x2", true]));
    let txs = block["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 5, "L1 attributes, three deposits, the user's: {block}");
    let (source, values) = l1_info_of(&addr, 2);
    assert_eq!(source, L1InfoDepositSource::new(a.hash, 0).source_hash());
    assert_eq!(values, L1BlockValues::new(&a, 0, &FeeParams::default()));
    assert_eq!(txs[4]["hash"], user_hash);
    assert_eq!(rpc(&addr, "temporis_getL1Origin", json!(["0x2"]))["number"], json!("0x64"));
    assert_eq!(rpc(&addr, "temporis_getL1Origin", json!(["0x2"]))["hash"], json!(a.hash));

    // The first user deposit, as OP nodes show a deposit.
    let d0 = &txs[1];
    let by_hash = rpc(&addr, "eth_getTransactionByHash", json!([d0["hash"]]));
    assert_eq!(&by_hash, d0);
    assert_eq!(d0["type"], "0x7e");
    assert_eq!(d0["sourceHash"], json!(logs[0].source_hash()));
    assert_eq!(hex_u256(&d0["mint"]), U256::from(2 * ETH));
    assert_eq!(hex_u256(&d0["value"]), U256::from(ETH / 2));
    assert_eq!(d0["from"].as_str().unwrap().parse::<Address>().unwrap(), alice);
    assert_eq!(hex_u64(&d0["gas"]), 100_000);
    assert!(d0.get("isSystemTx").is_none(), "shown only when true, as op-geth does");
    assert_eq!(d0["nonce"], "0x0", "a deposit shows its sender's nonce before it");
    assert_eq!(d0["depositReceiptVersion"], "0x1");
    assert!(d0.get("maxFeePerGas").is_none() && d0.get("chainId").is_none(), "{d0}");
    assert_eq!(txs[2]["nonce"], "0x1");
    // Its raw bytes are the 0x7E encoding.
    let raw_d0: Bytes =
        rpc(&addr, "eth_getRawTransactionByHash", json!([d0["hash"]])).as_str().unwrap().parse().unwrap();
    assert_eq!(raw_d0[0], 0x7e);
    assert_eq!(keccak256(&raw_d0), d0["hash"].as_str().unwrap().parse::<B256>().unwrap());

    // Deposits trace as they ran: from their sender, with their value, at no fee.
    let trace = rpc(&addr, "debug_traceTransaction", json!([d0["hash"], { "tracer": "callTracer" }]));
    assert_eq!(trace["from"].as_str().unwrap().parse::<Address>().unwrap(), alice);
    assert_eq!(hex_u256(&trace["value"]), U256::from(ETH / 2));
    assert!(trace.get("error").is_none(), "{trace}");
    let traces = rpc(&addr, "debug_traceBlockByNumber", json!(["0x2", { "tracer": "callTracer" }]));
    let traces = traces.as_array().unwrap();
    assert_eq!(traces.len(), 5);
    assert_eq!(traces[1]["result"], trace);
    assert_eq!(traces[2]["result"]["type"], "CREATE");
    // The failed deposit never ran (value above balance and mint): an error entry, as geth
    // gives for a transaction it cannot trace.
    assert!(traces[3]["error"].as_str().is_some(), "{}", traces[3]);
    assert_eq!(traces[4]["txHash"], user_hash);

    // Receipts: deposits with their nonce and version, no L1 fee; the failed one used its gas.
    let receipts = rpc(&addr, "eth_getBlockReceipts", json!(["0x2"]));
    let r = receipts.as_array().unwrap();
    assert_eq!(r.len(), 5);
    for (i, nonce) in [(0usize, None), (1, Some("0x0")), (2, Some("0x1")), (3, Some("0x0"))] {
        assert_eq!(r[i]["type"], "0x7e");
        assert_eq!(r[i]["depositReceiptVersion"], "0x1", "{}", r[i]);
        if let Some(nonce) = nonce {
            assert_eq!(r[i]["depositNonce"], nonce);
        }
        assert!(r[i].get("l1Fee").is_none(), "{}", r[i]);
        assert_eq!(hex_u64(&r[i]["effectiveGasPrice"]), 0);
    }
    assert_eq!(r[1]["status"], "0x1");
    assert_eq!(r[2]["contractAddress"].as_str().unwrap().parse::<Address>().unwrap(), alice.create(1));
    assert_eq!(r[3]["status"], "0x0");
    assert_eq!(hex_u64(&r[3]["gasUsed"]), 50_000);
    assert_eq!(rpc(&addr, "eth_getTransactionReceipt", json!([d0["hash"]])), r[1]);

    // The user's receipt carries the L1 fee, which the vault received.
    let user = &r[4];
    assert_eq!(user["status"], "0x1");
    let expected = L1FeeParams::from_values(&values).compute(&raw);
    assert!(expected.fee > U256::ZERO);
    assert_eq!(hex_u256(&user["l1Fee"]), expected.fee);
    assert_eq!(hex_u64(&user["l1GasUsed"]), expected.gas_used);
    assert_eq!(hex_u256(&user["l1GasPrice"]), U256::from(a.base_fee));
    assert_eq!(hex_u256(&user["l1BlobBaseFee"]), U256::from(a.blob_base_fee));
    assert_eq!(hex_u64(&user["l1BaseFeeScalar"]), 1368);
    assert_eq!(hex_u64(&user["l1BlobBaseFeeScalar"]), 810_949);
    assert_eq!(balance_of(&addr, L1_FEE_VAULT), expected.fee);

    // viem's OP Stack tools, given only the L1 logs, find the same deposits (their source
    // hash and 0x7E serializer are theirs) and read them as OP deposits.
    let logs_file = dir.path().join("deposit-logs.json");
    let logs_json: Vec<Value> = logs
        .iter()
        .map(|l| {
            json!({ "blockHash": l.l1_block_hash, "logIndex": l.log_index, "from": l.from, "to": l.to,
                    "opaqueData": l.opaque_data })
        })
        .collect();
    std::fs::write(&logs_file, serde_json::to_string(&logs_json).unwrap()).unwrap();
    let output = std::process::Command::new("node")
        .arg(workspace().join("sequencer/tests/js/op-stack.mjs"))
        .arg(format!("http://{addr}"))
        .arg(&logs_file)
        .arg(user_hash.as_str().unwrap())
        .output()
        .expect("node runs (make bootstrap installs viem)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "viem script failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    for (i, d) in seen["deposits"].as_array().unwrap().iter().enumerate() {
        let ours = &txs[i + 1];
        assert_eq!(d["hash"], ours["hash"], "viem derives deposit {i}'s hash from its L1 log");
        assert_eq!(d["type"], "deposit");
        assert_eq!(d["sourceHash"], ours["sourceHash"]);
        assert_eq!(d["parsed"]["type"], "deposit");
        assert_eq!(d["parsed"]["sourceHash"], ours["sourceHash"]);
        assert_eq!(
            d["parsed"]["from"].as_str().unwrap().to_lowercase(),
            ours["from"].as_str().unwrap().to_lowercase()
        );
        assert_eq!(d["mint"].as_str().unwrap().parse::<U256>().unwrap(), hex_u256(&ours["mint"]));
        // viem's parser leaves zero quantities out (empty RLP strings).
        let num = |v: &Value| v.as_str().map_or(U256::ZERO, |s| s.parse::<U256>().unwrap());
        assert_eq!(num(&d["parsed"]["mint"]), hex_u256(&ours["mint"]));
        assert_eq!(num(&d["parsed"]["value"]), hex_u256(&ours["value"]));
        assert_eq!(num(&d["parsed"]["gas"]), U256::from(hex_u64(&ours["gas"])));
        assert_eq!(d["depositReceiptVersion"], json!(1));
    }
    assert_eq!(seen["deposits"][0]["status"], "success");
    assert_eq!(seen["deposits"][2]["status"], "reverted");
    assert_eq!(seen["deposits"][1]["depositNonce"], "1");
    assert_eq!(seen["user"]["status"], "success");
    assert_eq!(seen["user"]["l1Fee"].as_str().unwrap().parse::<U256>().unwrap(), expected.fee);
    assert_eq!(seen["user"]["l1GasPrice"], a.base_fee.to_string());
    assert_eq!(seen["user"]["l1GasUsed"], expected.gas_used.to_string());
    assert_eq!(seen["first"]["type"], "deposit");
    assert_eq!(seen["first"]["sourceHash"], seen["l1InfoSourceHash"], "viem's L1 info source hash");

    // viem's L1 fee quote of the user's request, by the GasPriceOracle predeploy: getL1Fee of
    // the request as an unsigned EIP-1559 transaction with viem's stub gas, fees and nonce
    // (the same bytes as alloy's signing encoding), within a few compressed bytes of the fee
    // the transaction paid (see gas_price_oracle.rs for the margin).
    let quote = &seen["quote"];
    let num = |v: &Value| v.as_str().unwrap().parse::<U256>().unwrap();
    assert_eq!(num(&quote["getL1BaseFee"]), U256::from(a.base_fee));
    let stub = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce: 1,
        gas_limit: 300_000,
        max_fee_per_gas: 5_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(bob),
        value: U256::from(7),
        access_list: Default::default(),
        input: Bytes::from(vec![0x5a; 100]),
    };
    let unsigned = stub.encoded_for_signing();
    assert_eq!(quote["serialized"], json!(Bytes::from(unsigned.clone())));
    let params = L1FeeParams::from_values(&values);
    let l1_quote = num(&quote["estimateL1Fee"]);
    assert_eq!(l1_quote, params.quote_unsigned(&unsigned).fee);
    assert_eq!(num(&quote["estimateL1Gas"]), U256::from(params.quote_unsigned(&unsigned).gas_used));
    let per_byte = params.for_fastlz_len(1001).fee - params.for_fastlz_len(1000).fee;
    let diff = if l1_quote > expected.fee { l1_quote - expected.fee } else { expected.fee - l1_quote };
    assert!(diff <= per_byte * U256::from(12) + U256::from(1), "quoted {l1_quote}, charged {}", expected.fee);
    // estimateTotalFee: the L1 quote, no operator fee (getOperatorFee is 0) and the L2 gas at
    // the gas price.
    assert_eq!(quote["preparedType"], "eip1559");
    assert_eq!(
        num(&quote["estimateTotalFee"]),
        l1_quote + num(&quote["l2Gas"]) * num(&quote["l2GasPrice"]),
        "{quote}"
    );

    // Minted ETH is visible.
    assert_eq!(balance_of(&addr, alice), U256::from(2 * ETH - ETH / 2));
    assert_eq!(balance_of(&addr, bob), U256::from(ETH / 2 + 7));
    assert_eq!(balance_of(&addr, carol), U256::from(ETH), "the failed deposit's mint is kept");
    assert_eq!(rpc(&addr, "eth_getCode", json!([alice.create(1), "latest"])), "0x00");
    assert_eq!(rpc(&addr, "eth_getTransactionCount", json!([carol, "latest"])), "0x1");
    // `L1Block` holds the epoch.
    let number =
        L1Block::numberCall::abi_decode_returns(&l1_block_call(&addr, L1Block::numberCall {}.abi_encode()));
    assert_eq!(number.unwrap(), 100);
    assert_eq!(sequence_number(&addr), 0);

    // The L1 fee counts in the balance checks of calls: bob can pay gas and value, not more.
    let price = 2_000_000_000u128;
    let all_but_gas = U256::from(ETH / 2 + 7) - U256::from(21_000 * price);
    let req = json!({ "from": bob, "to": carol, "value": all_but_gas, "gas": "0x5208", "gasPrice": format!("{price:#x}") });
    for method in ["eth_call", "eth_estimateGas"] {
        let e = rpc_err(&addr, method, json!([req, "latest"]));
        assert!(e["message"].as_str().unwrap().starts_with("insufficient funds"), "{method}: {e}");
    }
    let mut affordable = req;
    affordable["value"] = json!(U256::from(ETH / 4));
    assert_eq!(hex_u64(&rpc(&addr, "eth_estimateGas", json!([affordable, "latest"]))), 21_000);
    // So does submission: a sender who can pay gas and value but not the L1 fee is refused.
    let poor = PrivateKeySigner::random();
    let fund = sign_1559(
        &key,
        CHAIN_ID,
        1,
        TxKind::Call(poor.address()),
        U256::from(21_000u128 * 10_000_000_000),
        Bytes::new(),
        21_000,
        10_000_000_000,
        1_000_000,
    );
    rpc(&addr, "eth_sendRawTransaction", json!([fund]));
    assert_eq!(n.produce(), 3, "an epoch-less block: the origin stays at 100");
    let broke =
        sign_1559(&poor, CHAIN_ID, 0, TxKind::Call(bob), U256::ZERO, Bytes::new(), 21_000, 10_000_000_000, 1);
    let e = rpc_err(&addr, "eth_sendRawTransaction", json!([broke]));
    assert!(e["message"].as_str().unwrap().starts_with("insufficient funds for gas * price + value"), "{e}");

    // Block 3 stayed in epoch 100 with sequence number 1.
    let (source, values) = l1_info_of(&addr, 3);
    assert_eq!(source, L1InfoDepositSource::new(a.hash, 1).source_hash());
    assert_eq!((values.number, values.sequence_number), (100, 1));
    assert_eq!(sequence_number(&addr), 1);

    // The next L1 block: taken by the next L2 block, with sequence number 0.
    let b = l1_block(101, a.hash, now() - 30);
    n.node.push_l1_epoch(L1Epoch { info: b, deposits: vec![] }).unwrap();
    // Pushing it again (a watcher replaying) is harmless; a block that does not extend it is not.
    n.node.push_l1_epoch(L1Epoch { info: b, deposits: vec![] }).unwrap();
    let stray = l1_block(102, B256::repeat_byte(0x66), now() - 20);
    let e = n.node.push_l1_epoch(L1Epoch { info: stray, deposits: vec![] }).unwrap_err();
    assert!(e.to_string().contains("does not extend block 101"), "{e}");
    let other_log = deposit_log(&a, 0, alice, bob, &opaque(1, 0, 21_000, false, &[]));
    let c = l1_block(102, b.hash, now() + 3600);
    let e = n.node.push_l1_epoch(L1Epoch { info: c, deposits: vec![other_log] }).unwrap_err();
    assert!(e.to_string().contains("is of L1 block"), "{e}");
    assert_eq!(n.produce(), 4);
    let (source, values) = l1_info_of(&addr, 4);
    assert_eq!(source, L1InfoDepositSource::new(b.hash, 0).source_hash());
    assert_eq!((values.number, values.sequence_number), (101, 0));
    assert_eq!(rpc(&addr, "eth_getBlockTransactionCountByNumber", json!(["0x4"])), "0x1");
    // An L1 block from the future is not taken yet.
    n.node.push_l1_epoch(L1Epoch { info: c, deposits: vec![] }).unwrap();
    assert_eq!(n.produce(), 5);
    assert_eq!(l1_info_of(&addr, 5).1.sequence_number, 1);
    assert_eq!(l1_info_of(&addr, 5).1.number, 101);
    let head_hash = rpc(&addr, "eth_getBlockByNumber", json!(["0x5", false]))["hash"].clone();
    n.close();

    // A restart resumes the epoch and the sequence number from the stored head.
    let n = InProc::open(dir.path());
    let addr = n.addr.clone();
    assert_eq!(rpc(&addr, "eth_getBlockByNumber", json!(["latest", false]))["hash"], head_hash);
    assert_eq!(n.produce(), 6);
    let (source, values) = l1_info_of(&addr, 6);
    assert_eq!(source, L1InfoDepositSource::new(b.hash, 2).source_hash());
    assert_eq!((values.number, values.sequence_number), (101, 2));
    assert_eq!(sequence_number(&addr), 2);
    assert_eq!(n.node.l1_origin_of(6).unwrap().unwrap().hash, b.hash);
    // The watcher replays from its last confirmed block: known ones are ignored, then it goes on.
    n.node.push_l1_epoch(L1Epoch { info: b, deposits: vec![] }).unwrap();
    let d = l1_block(102, b.hash, now() - 1);
    n.node
        .push_l1_epoch(L1Epoch {
            info: d,
            deposits: vec![deposit_log(&d, 0, carol, bob, &opaque(5, 5, 21_000, false, &[]))],
        })
        .unwrap();
    assert_eq!(n.produce(), 7);
    assert_eq!(l1_info_of(&addr, 7).1.number, 102);
    assert_eq!(rpc(&addr, "eth_getBlockTransactionCountByNumber", json!(["0x7"])), "0x2");
    assert_eq!(balance_of(&addr, bob), U256::from(ETH / 2 + 7 + 5));
    n.close();
}
