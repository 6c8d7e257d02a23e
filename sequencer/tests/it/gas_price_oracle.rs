//! The `GasPriceOracle` predeploy against the Rust L1 fee: `eth_call` of its quotes over random
//! and real inputs on a node with non-zero L1 values, compared with `temporis_aivm::l1fee`, and
//! its quote of real transactions compared with the fee their receipts show.

use alloy::consensus::{TxEip2930, TxLegacy};
use alloy::eips::Decodable2718;
use alloy::eips::eip2930::{AccessList, AccessListItem};
use alloy::sol_types::SolCall;
use alloy_primitives::{B256, keccak256};
use temporis_aivm::l1fee::{
    FJORD_FASTLZ_COEF, FJORD_INTERCEPT, FJORD_MIN_SIZE, L1FeeParams, flz_compress_len,
};
use temporis_contracts::GasPriceOracle;
use temporis_protocol::chain::{GAS_PRICE_ORACLE_PREDEPLOY, L1_BLOCK_PREDEPLOY};
use temporis_protocol::l1::{L1BlockInfo, L1Epoch};

use super::rollup::{InProc, now};
use super::*;

/// How far, in compressed bytes, the quote of a transaction's unsigned encoding (its FastLZ
/// length + 68) may be from its signed encoding's FastLZ length. The signature is 67 RLP bytes
/// (yParity, then r and s with their 1-byte headers), 64 of them random, so it adds about 66
/// literal bytes and 1 to 3 run headers; the unsigned encoding's last 13 bytes, never matched,
/// may be matched once the signature follows, and the list header may grow by a byte. Over
/// 3000 random EIP-1559 transactions the difference ranged from -8 to +3 bytes; OP mainnet's
/// example transaction is -3 (docs/l1-fee.md).
const MARGIN_BYTES: u32 = 12;

/// A small deterministic generator (xorshift64*), so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// `n` bytes of one of the shapes transaction data has: random, mostly zero, a repeated
    /// pattern, ABI-like words (random words between zero words), or two-symbol noise.
    fn data(&mut self, n: usize) -> Vec<u8> {
        match self.below(5) {
            0 => self.bytes(n),
            1 => (0..n).map(|_| if self.below(5) == 0 { self.next() as u8 } else { 0 }).collect(),
            2 => {
                let unit_len = 1 + self.below(40) as usize;
                let unit = self.bytes(unit_len);
                unit.iter().copied().cycle().take(n).collect()
            }
            3 => {
                let mut out = vec![0u8; n];
                for word in out.chunks_mut(32) {
                    if self.below(5) < 2 {
                        let fill = self.bytes(word.len());
                        word.copy_from_slice(&fill);
                    }
                }
                out
            }
            _ => (0..n).map(|_| self.below(2) as u8).collect(),
        }
    }

    /// A length with small and large sizes all likely.
    fn length(&mut self) -> usize {
        match self.below(4) {
            0 => self.below(20) as usize,
            1 => self.below(300) as usize,
            2 => self.below(3000) as usize,
            _ => self.below(12_000) as usize,
        }
    }

    fn address(&mut self) -> Address {
        Address::from_slice(&self.bytes(20))
    }
}

/// `GasPriceOracle.<call>` by `eth_call` at the head, with optional state overrides.
fn oracle<C: SolCall>(addr: &str, call: &C, overrides: Option<&Value>) -> C::Return {
    let request = json!({ "to": GAS_PRICE_ORACLE_PREDEPLOY, "data": Bytes::from(call.abi_encode()) });
    let params = match overrides {
        Some(o) => json!([request, "latest", o]),
        None => json!([request, "latest"]),
    };
    let out: Bytes = rpc(addr, "eth_call", params).as_str().unwrap().parse().unwrap();
    C::abi_decode_returns(&out).unwrap()
}

fn get_l1_fee(addr: &str, data: &[u8], overrides: Option<&Value>) -> U256 {
    oracle(addr, &GasPriceOracle::getL1FeeCall { _data: Bytes::copy_from_slice(data) }, overrides)
}

/// The unsigned encoding (the bytes a wallet signs, which OP tools pass to `getL1Fee`) and the
/// signed EIP-2718 encoding of a random transaction of one of three types.
fn random_tx(rng: &mut Rng, key: &PrivateKeySigner, nonce: u64, to: TxKind) -> (Vec<u8>, Bytes) {
    let n = rng.length().min(10_240);
    let input = Bytes::from(rng.data(n));
    let value = U256::from(rng.below(3) * 1_000_000_007);
    let access_list = || {
        AccessList(vec![AccessListItem {
            address: Address::repeat_byte(0x42),
            storage_keys: vec![B256::ZERO, B256::with_last_byte(1)],
        }])
    };
    // Enough gas for 10 KiB of non-zero calldata at the EIP-7623 floor.
    let gas_limit = 1_000_000;
    match rng.below(3) {
        0 => {
            let tx = TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: 20_000_000_000 + u128::from(rng.below(1_000_000_000)),
                max_priority_fee_per_gas: u128::from(rng.below(2_000_000_000)),
                to,
                value,
                access_list: if rng.below(4) == 0 { access_list() } else { AccessList::default() },
                input,
            };
            let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
            (tx.encoded_for_signing(), TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into())
        }
        1 => {
            let tx = TxEip2930 {
                chain_id: CHAIN_ID,
                nonce,
                gas_price: 20_000_000_000 + u128::from(rng.below(1_000_000_000)),
                gas_limit,
                to,
                value,
                access_list: access_list(),
                input,
            };
            let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
            (tx.encoded_for_signing(), TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into())
        }
        _ => {
            let tx = TxLegacy {
                chain_id: Some(CHAIN_ID),
                nonce,
                gas_price: 20_000_000_000 + u128::from(rng.below(1_000_000_000)),
                gas_limit,
                to,
                value,
                input,
            };
            let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
            (tx.encoded_for_signing(), TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into())
        }
    }
}

/// OP mainnet's Fjord example transaction (docs/l1-fee.md): signed, and without its signature.
fn op_mainnet_tx() -> (Vec<u8>, Vec<u8>) {
    let text =
        std::fs::read_to_string(workspace().join("aivm/tests/fixtures/op-mainnet-fjord-tx.hex")).unwrap();
    let signed = alloy_primitives::hex::decode(text.trim()).unwrap();
    let env = TxEnvelope::decode_2718(&mut signed.as_slice()).unwrap();
    let unsigned = env.as_eip1559().unwrap().tx().encoded_for_signing();
    (signed, unsigned)
}

/// Every input of the differential test: edge sizes, large and highly compressible or random
/// data, the OP mainnet transaction signed and unsigned, random data of every shape, and the
/// unsigned encodings of random transactions.
fn inputs(rng: &mut Rng) -> Vec<Vec<u8>> {
    let (op_signed, op_unsigned) = op_mainnet_tx();
    let mut inputs = vec![
        vec![],
        vec![0],
        vec![0xff],
        vec![0xfa, 0xca, 0xde],
        vec![0; 12],
        vec![0; 13],
        vec![0; 14],
        rng.bytes(13),
        rng.bytes(14),
        rng.bytes(32),
        vec![0; 10_240],
        vec![0x2a; 10_240],
        rng.bytes(10_240),
        b"temporis".iter().copied().cycle().take(10_240).collect(),
        // A repeat at distance 8191 (matched) then one at 8192 (out of FastLZ's window).
        {
            let head = rng.bytes(100);
            [head.clone(), rng.bytes(8091), head.clone(), rng.bytes(8092), head].concat()
        },
        op_signed,
        op_unsigned,
    ];
    // The two-byte counter of the forge test: 307 bytes, no repeated 3-byte sequence.
    inputs.push((0u16..154).flat_map(u16::to_be_bytes).take(307).collect());
    for _ in 0..100 {
        let n = rng.length();
        inputs.push(rng.data(n));
    }
    let key = PrivateKeySigner::random();
    for i in 0..30 {
        let to = if i % 10 == 9 { TxKind::Create } else { TxKind::Call(rng.address()) };
        let nonce = rng.below(1000);
        inputs.push(random_tx(rng, &key, nonce, to).0);
    }
    inputs
}

#[test]
fn the_gas_price_oracle_quotes_what_the_chain_charges() {
    let dir = tempfile::tempdir().unwrap();
    // OP mainnet's scalars (docs/l1-fee.md), not the devnet defaults.
    let n = InProc::open_with(
        dir.path(),
        &["--sequencer.l1-base-fee-scalar", "5227", "--sequencer.l1-blob-base-fee-scalar", "1014213"],
    );
    let addr = n.addr.clone();

    // In the genesis, with the other predeploys, before any L1 block: no L1 values, no fee.
    let code: Bytes = rpc(&addr, "eth_getCode", json!([GAS_PRICE_ORACLE_PREDEPLOY, "latest"]))
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(code, GasPriceOracle::DEPLOYED_BYTECODE);
    assert_eq!(get_l1_fee(&addr, &[1; 1000], None), U256::ZERO);
    assert_eq!(oracle(&addr, &GasPriceOracle::l1BaseFeeCall {}, None), U256::ZERO);

    // An L1 block with distinct base fees; its attributes deposit writes them to L1Block.
    let a = L1BlockInfo {
        number: 500,
        hash: keccak256(b"l1 block 500"),
        parent_hash: B256::repeat_byte(0x50),
        timestamp: now() - 60,
        base_fee: 31_415_926_535,
        blob_base_fee: 2_718_281_828,
    };
    n.node.push_l1_epoch(L1Epoch { info: a, deposits: vec![] }).unwrap();
    assert_eq!(n.produce(), 1);
    // The values the STF charges with: read from L1Block's storage, as the STF reads them.
    let params = n.node.with_state(|state, _| L1FeeParams::from_state(state));
    assert_eq!(
        params,
        L1FeeParams {
            l1_base_fee: U256::from(a.base_fee),
            l1_blob_base_fee: U256::from(a.blob_base_fee),
            base_fee_scalar: 5227,
            blob_base_fee_scalar: 1_014_213,
        }
    );

    // The plain getters.
    assert_eq!(oracle(&addr, &GasPriceOracle::l1BaseFeeCall {}, None), U256::from(a.base_fee));
    assert_eq!(oracle(&addr, &GasPriceOracle::blobBaseFeeCall {}, None), U256::from(a.blob_base_fee));
    assert_eq!(oracle(&addr, &GasPriceOracle::baseFeeScalarCall {}, None), 5227);
    assert_eq!(oracle(&addr, &GasPriceOracle::blobBaseFeeScalarCall {}, None), 1_014_213);
    assert_eq!(oracle(&addr, &GasPriceOracle::decimalsCall {}, None), U256::from(6));
    assert!(oracle(&addr, &GasPriceOracle::isEcotoneCall {}, None));
    assert!(oracle(&addr, &GasPriceOracle::isFjordCall {}, None));
    assert!(!oracle(&addr, &GasPriceOracle::isIsthmusCall {}, None));
    assert_eq!(oracle(&addr, &GasPriceOracle::getOperatorFeeCall(U256::from(21_000)), None), U256::ZERO);
    // `eth_call` runs in the next block, at its base fee; as in geth, `BASEFEE` reads 0 in a call
    // without a fee, so that one from an account without ETH still runs.
    let next_base_fee = U256::from(n.node.next_base_fee());
    assert_eq!(oracle(&addr, &GasPriceOracle::gasPriceCall {}, None), U256::ZERO);
    for call in [GasPriceOracle::gasPriceCall {}.abi_encode(), GasPriceOracle::baseFeeCall {}.abi_encode()] {
        let request = json!({ "from": dev_key(0).address(), "to": GAS_PRICE_ORACLE_PREDEPLOY,
            "gas": "0x30000", "maxFeePerGas": format!("{next_base_fee:#x}"), "data": Bytes::from(call) });
        assert_eq!(hex_u256(&rpc(&addr, "eth_call", json!([request, "latest"]))), next_base_fee);
    }
    for call in [GasPriceOracle::overheadCall {}.abi_encode(), GasPriceOracle::scalarCall {}.abi_encode()] {
        let e = rpc_err(
            &addr,
            "eth_call",
            json!([{ "to": GAS_PRICE_ORACLE_PREDEPLOY, "data": Bytes::from(call) }, "latest"]),
        );
        assert!(e["message"].as_str().unwrap().contains("revert"), "{e}");
    }

    // The differential test, at the chain's L1 values.
    let mut rng = Rng(0x7e36_a50f);
    let inputs = inputs(&mut rng);
    assert!(inputs.len() >= 100);
    // With L1Block's values overridden so that the fee scaled is exactly 1e12, `getL1Fee`
    // returns the estimated size itself: above the 100-byte floor it gives back the FastLZ
    // length the contract computed, so the two compressors are compared byte for byte.
    let slot = |i: u64| B256::from(U256::from(i));
    let exact = json!({ L1_BLOCK_PREDEPLOY.to_string(): { "stateDiff": {
        slot(1).to_string(): B256::ZERO,
        slot(3).to_string(): B256::from(U256::from(1_000_000u64) << 64),
        slot(7).to_string(): B256::from(U256::from(1_000_000u64)),
    } } });
    let exact_params = L1FeeParams {
        l1_base_fee: U256::ZERO,
        l1_blob_base_fee: U256::from(1_000_000),
        base_fee_scalar: 0,
        blob_base_fee_scalar: 1_000_000,
    };
    let mut compared_lengths = 0;
    for (i, data) in inputs.iter().enumerate() {
        let what = format!("input {i} ({} bytes)", data.len());
        let quote = params.quote_unsigned(data);
        assert_eq!(get_l1_fee(&addr, data, None), quote.fee, "getL1Fee of {what}");
        let gas =
            oracle(&addr, &GasPriceOracle::getL1GasUsedCall { _data: Bytes::copy_from_slice(data) }, None);
        assert_eq!(gas, U256::from(quote.gas_used), "getL1GasUsed of {what}");
        let len = U256::from(data.len());
        let bound = oracle(&addr, &GasPriceOracle::getL1FeeUpperBoundCall { _unsignedTxSize: len }, None);
        assert_eq!(bound, params.upper_bound(data.len() as u32), "getL1FeeUpperBound of {what}");

        let size = get_l1_fee(&addr, data, Some(&exact));
        assert_eq!(size, exact_params.quote_unsigned(data).fee, "estimated size of {what}");
        if size > U256::from(FJORD_MIN_SIZE) {
            let scaled = size.to::<u64>() + FJORD_INTERCEPT.unsigned_abs();
            assert_eq!(scaled % FJORD_FASTLZ_COEF, 0, "{what}");
            let contract_len = scaled / FJORD_FASTLZ_COEF - 68;
            assert_eq!(contract_len, u64::from(flz_compress_len(data)), "flzCompressLen of {what}");
            compared_lengths += 1;
        }
    }
    // About half: the rest compress to under 102 bytes, where every fee is the 100-byte floor's
    // (the forge tests check such short inputs against the reference vectors).
    assert!(compared_lengths >= 75, "only {compared_lengths} inputs above the floor");

    // Real transactions: the quote of each one's unsigned encoding, made before it is sent, is
    // within MARGIN_BYTES compressed bytes of the fee its receipt shows.
    let key = dev_key(3);
    let mut sent = Vec::new();
    for nonce in 0..16 {
        let to = if nonce % 8 == 7 { TxKind::Create } else { TxKind::Call(rng.address()) };
        let (unsigned, signed) = random_tx(&mut rng, &key, nonce, to);
        let quote = get_l1_fee(&addr, &unsigned, None);
        let hash = rpc(&addr, "eth_sendRawTransaction", json!([signed]));
        sent.push((unsigned, signed, quote, hash));
    }
    assert_eq!(n.produce(), 2);
    let per_byte = params.for_fastlz_len(1001).fee - params.for_fastlz_len(1000).fee;
    let margin = per_byte * U256::from(MARGIN_BYTES) + U256::from(1);
    for (i, (unsigned, signed, quote, hash)) in sent.iter().enumerate() {
        let receipt = rpc(&addr, "eth_getTransactionReceipt", json!([hash]));
        assert!(!receipt.is_null(), "transaction {i} was included");
        let charged = hex_u256(&receipt["l1Fee"]);
        assert_eq!(charged, params.compute(signed).fee, "receipt of transaction {i}");
        let delta = i64::from(flz_compress_len(signed)) - i64::from(flz_compress_len(unsigned)) - 68;
        assert!(delta.unsigned_abs() <= u64::from(MARGIN_BYTES), "transaction {i}: {delta} bytes");
        let diff = if *quote > charged { *quote - charged } else { charged - *quote };
        assert!(diff <= margin, "transaction {i}: quoted {quote}, charged {charged}");
        // OP's upper bound from the length alone covers it too (transaction-shaped data).
        let bound = params.upper_bound(unsigned.len() as u32);
        assert!(bound >= *quote || unsigned.len() > 576, "transaction {i}: bound {bound} < {quote}");
    }
    n.close();
}
