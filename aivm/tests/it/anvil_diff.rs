//! Differential tests: the same genesis and the same signed transactions go to a real anvil
//! (Osaka) and to the STF; the block anvil mines and the STF's outcome must agree on every
//! receipt (status, gas, logs), on the header's gas used, logs bloom, transactions root,
//! receipts root and state root, and on every account anvil proves with `eth_getProof`.

use alloy::consensus::Transaction;
use alloy::consensus::transaction::Recovered;
use alloy::eips::{BlockNumberOrTag, Encodable2718};
use alloy::network::ReceiptResponse;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::trace::geth::GethDefaultTracingOptions;
use alloy::sol_types::{SolCall, SolConstructor};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use op_alloy_consensus::OpTxEnvelope;
use revm_inspectors::tracing::TracingInspectorConfig;
use temporis_aivm::{BlockInput, ExecOptions, Executor, State};
use temporis_contracts::ModelNFT;
use temporis_contracts::model_nft::IModelNFT::MintParams;

use crate::{eip1559, genesis_json, keys, legacy};

alloy::sol! {
    /// The test ERC-20 (`contracts/test/mocks/MarketToken.sol`, an OpenZeppelin ERC20 with an
    /// open mint); its creation code is `tests/fixtures/MarketToken.bin`.
    contract MarketToken {
        constructor(string name_, string symbol_);
        function mint(address to, uint256 amount) external;
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

/// Creation code of `MarketToken` (built by forge from `contracts/`, metadata hash off).
pub(crate) fn market_token_initcode() -> Bytes {
    let hex = include_str!("../fixtures/MarketToken.bin").trim();
    let mut code: Vec<u8> = alloy_primitives::hex::decode(hex).expect("hex fixture");
    code.extend(MarketToken::constructorCall::new(("Test".into(), "TST".into())).abi_encode());
    code.into()
}

fn mint_params(content: u8) -> MintParams {
    MintParams {
        contentHash: B256::repeat_byte(content),
        daCommitment: vec![0x00, content].into(),
        license: B256::right_padding_from(b"Apache-2.0"),
        parentId: U256::ZERO,
        encrypted: false,
        royaltyReceiver: Address::ZERO,
        royaltyBps: 500,
        lineageBps: 100,
    }
}

/// A block with ETH transfers (EIP-1559 and legacy, to existing, fresh and precompile
/// addresses, a zero-value touch), a ModelNFT deployment, mints (one reverting), an ERC-20
/// deployment, mint and transfers.
fn workload() -> (String, Vec<Recovered<OpTxEnvelope>>, Address, Address) {
    let k = keys(4);
    let addrs: Vec<Address> = k.iter().map(|s| s.address()).collect();
    let genesis = genesis_json(&addrs, U256::from(100u128 * 10u128.pow(18)), &[]);
    let gwei = U256::from(10u64.pow(9));
    let fresh = Address::repeat_byte(0x77);
    let nft = addrs[0].create(3);
    let token = addrs[1].create(2);

    let nft_initcode: Bytes =
        [ModelNFT::BYTECODE.to_vec(), ModelNFT::constructorCall { initialOwner: addrs[0] }.abi_encode()]
            .concat()
            .into();
    let mint = |to: Address, content: u8| -> Bytes {
        ModelNFT::mintCall { to, params: mint_params(content) }.abi_encode().into()
    };
    let call = TxKind::Call;
    let txs = vec![
        eip1559(&k[0], 0, call(addrs[1]), gwei, Bytes::new(), 21_000),
        legacy(&k[1], 0, call(fresh), U256::from(12_345), 21_000),
        eip1559(&k[2], 0, call(Address::repeat_byte(0x55)), U256::ZERO, Bytes::new(), 21_000),
        eip1559(&k[0], 1, call(Address::with_last_byte(4)), U256::from(1), Bytes::new(), 30_000),
        eip1559(&k[0], 2, call(addrs[3]), gwei * U256::from(7), Bytes::new(), 21_000),
        eip1559(&k[0], 3, TxKind::Create, U256::ZERO, nft_initcode, 5_000_000),
        eip1559(&k[1], 1, call(nft), U256::ZERO, mint(addrs[1], 1), 400_000),
        eip1559(&k[2], 1, call(nft), U256::ZERO, mint(addrs[3], 2), 400_000),
        // Reverts (zero content hash): status 0, gas still charged.
        eip1559(&k[3], 0, call(nft), U256::ZERO, mint(addrs[3], 0), 400_000),
        eip1559(&k[1], 2, TxKind::Create, U256::ZERO, market_token_initcode(), 3_000_000),
        eip1559(
            &k[1],
            3,
            call(token),
            U256::ZERO,
            MarketToken::mintCall { to: addrs[1], amount: U256::from(1_000_000) }.abi_encode().into(),
            200_000,
        ),
        eip1559(
            &k[1],
            4,
            call(token),
            U256::ZERO,
            MarketToken::transferCall { to: addrs[2], amount: U256::from(250) }.abi_encode().into(),
            200_000,
        ),
        // Reverts: more than the sender has.
        eip1559(
            &k[2],
            2,
            call(token),
            U256::ZERO,
            MarketToken::transferCall { to: addrs[0], amount: U256::from(251) }.abi_encode().into(),
            200_000,
        ),
    ];
    (genesis, txs, nft, token)
}

async fn send_all(provider: &impl Provider, txs: &[Recovered<OpTxEnvelope>]) -> eyre::Result<()> {
    for tx in txs {
        // Mined later, by `evm_mine`: nothing to wait for here.
        let _pending = provider.send_raw_transaction(&tx.inner().encoded_2718()).await?;
    }
    Ok(())
}

async fn mine(provider: &impl Provider) -> eyre::Result<()> {
    provider.raw_request::<_, serde_json::Value>("evm_mine".into(), ()).await?;
    Ok(())
}

fn block_input(header: &alloy::rpc::types::Header) -> BlockInput {
    BlockInput {
        number: header.number,
        timestamp: header.timestamp,
        beneficiary: header.beneficiary,
        base_fee: header.base_fee_per_gas.expect("London header"),
        gas_limit: header.gas_limit,
        prevrandao: header.mix_hash,
        parent_hash: header.parent_hash,
    }
}

#[tokio::test]
async fn block_matches_anvil_receipts_roots_and_accounts() -> eyre::Result<()> {
    let (genesis, txs, nft, token) = workload();
    let anvil = crate::anvil_with_genesis(&genesis);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());

    let mut state = State::from_genesis_json(&genesis)?;
    crate::add_anvil_predeploys(&provider, &mut state).await?;
    // Anvil's genesis header carries the empty root, but it proves the real one: the account
    // proof's first node is the root node.
    let proof = provider.get_proof(txs[0].signer(), vec![]).block_id(0.into()).await?;
    assert_eq!(state.state_root(), keccak256(&proof.account_proof[0]), "genesis state root");

    send_all(&provider, &txs).await?;
    mine(&provider).await?;
    let block = provider.get_block_by_number(BlockNumberOrTag::Number(1)).await?.expect("block 1");
    let anvil_receipts = provider.get_block_receipts(1.into()).await?.expect("receipts");
    let anvil_hashes: Vec<B256> = block.transactions.hashes().collect();
    assert_eq!(anvil_hashes, txs.iter().map(|t| *t.tx_hash()).collect::<Vec<_>>(), "order");

    let executor = Executor::new(crate::CHAIN_ID);
    let input = block_input(&block.header);
    let out = executor.execute_block(
        &mut state,
        &input,
        &txs,
        &ExecOptions { per_tx_roots: true, ..Default::default() },
    )?;
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);

    assert_eq!(out.receipts.len(), anvil_receipts.len());
    for (i, (ours, theirs)) in out.receipts.iter().zip(&anvil_receipts).enumerate() {
        assert_eq!(ours.status(), theirs.status(), "status of tx {i}");
        assert_eq!(out.gas_used_per_tx[i], theirs.gas_used(), "gas of tx {i}");
        assert_eq!(ours.cumulative_gas_used(), theirs.cumulative_gas_used(), "cumulative {i}");
        let their_logs: Vec<_> = theirs.inner.logs().iter().map(|l| l.inner.clone()).collect();
        assert_eq!(ours.logs(), their_logs.as_slice(), "logs of tx {i}");
    }
    // Sanity of the workload itself: the two reverting calls reverted, the others did not.
    let failed: Vec<usize> = (0..txs.len()).filter(|i| !out.receipts[*i].status()).collect();
    assert_eq!(failed, vec![8, 12]);
    assert_eq!(anvil_receipts[5].contract_address(), Some(nft));
    assert_eq!(anvil_receipts[9].contract_address(), Some(token));

    assert_eq!(out.gas_used, block.header.gas_used, "block gas used");
    assert_eq!(out.logs_bloom, block.header.logs_bloom, "logs bloom");
    assert_eq!(out.transactions_root, block.header.transactions_root, "transactions root");
    assert_eq!(out.receipts_root, block.header.receipts_root, "receipts root");

    // Every account anvil has, as anvil proves it, is ours, storage root included.
    let touched = txs.iter().flat_map(|t| [Some(t.signer()), t.to()]).flatten();
    let system = [alloy::eips::eip2935::HISTORY_STORAGE_ADDRESS, Address::ZERO];
    for address in touched.chain([nft, token, Address::repeat_byte(0x77)]).chain(system) {
        let proof = provider.get_proof(address, vec![]).block_id(1.into()).await?;
        let ours = state.account(&address);
        if proof.code_hash == B256::ZERO
            || (proof.nonce == 0
                && proof.balance.is_zero()
                && proof.code_hash == alloy_primitives::KECCAK256_EMPTY
                && proof.storage_hash == alloy_trie::EMPTY_ROOT_HASH
                && ours.is_none())
        {
            // Absent here; absent or empty there (see below on anvil's empty accounts).
            assert!(ours.is_none(), "{address} exists only here");
            continue;
        }
        let ours = ours.unwrap_or_else(|| panic!("{address} missing here"));
        assert_eq!(ours.balance, proof.balance, "balance of {address}");
        assert_eq!(ours.nonce, proof.nonce, "nonce of {address}");
        assert_eq!(ours.code_hash, proof.code_hash, "code hash of {address}");
        // Every slot we hold, anvil holds with the same value.
        let slots: Vec<(U256, U256)> = state.storage_slots(&address).collect();
        let keys: Vec<B256> = slots.iter().map(|(k, _)| B256::from(*k)).collect();
        let with_slots = provider.get_proof(address, keys).block_id(1.into()).await?;
        for ((slot, value), proof) in slots.iter().zip(&with_slots.storage_proof) {
            assert_eq!(*value, proof.value, "slot {slot:#x} of {address}");
        }
        if address != nft {
            assert_eq!(state.storage_root(&address), proof.storage_hash, "storage root of {address}");
        }
    }

    // Anvil's header root is not Ethereum's for this block, in two ways we reproduce exactly:
    // 1. its storage trie keeps a leaf for a slot written with zero over zero (ModelNFT's
    //    constructor assigns the empty `_baseURI`, slot 9), where Ethereum's trie holds no zero
    //    values (geth and reth delete them);
    // 2. it keeps the empty account that the zero-value transfer to 0x55…55 touched, which
    //    EIP-161 deletes (as geth does).
    // With exactly those two leaves added, our tries give anvil's storage root and state root.
    let anvil_nft = provider.get_proof(nft, vec![]).block_id(1.into()).await?;
    let mut nft_trie = temporis_aivm::trie::Trie::new();
    for (slot, value) in state.storage_slots(&nft) {
        nft_trie.insert(&keccak256(slot.to_be_bytes::<32>()), alloy::rlp::encode(value));
    }
    nft_trie.insert(&keccak256(U256::from(9).to_be_bytes::<32>()), alloy::rlp::encode(U256::ZERO));
    let anvil_flavoured_nft_root = nft_trie.root();
    assert_eq!(anvil_flavoured_nft_root, anvil_nft.storage_hash, "NFT storage differs by more");
    let addresses: Vec<Address> = state.accounts().map(|(a, _)| *a).collect();
    let mut leaves: Vec<(B256, Vec<u8>)> = Vec::new();
    for address in addresses {
        let view = state.account(&address).expect("listed");
        let storage_root =
            if address == nft { anvil_flavoured_nft_root } else { state.storage_root(&address) };
        let account = alloy_trie::TrieAccount {
            nonce: view.nonce,
            balance: view.balance,
            storage_root,
            code_hash: view.code_hash,
        };
        leaves.push((keccak256(address), alloy::rlp::encode(account)));
    }
    let empty = alloy_trie::TrieAccount::default();
    assert!(state.account(&Address::repeat_byte(0x55)).is_none(), "EIP-161 deleted it");
    leaves.push((keccak256(Address::repeat_byte(0x55)), alloy::rlp::encode(empty)));
    leaves.sort();
    let mut hb = alloy_trie::HashBuilder::default();
    for (key, value) in &leaves {
        hb.add_leaf(alloy_trie::Nibbles::unpack(key), value);
    }
    assert_eq!(hb.root(), block.header.state_root, "state root up to anvil's zero leaf");
    assert_ne!(out.state_root, block.header.state_root, "anvil no longer keeps zero slots?");
    assert_eq!(out.state_root, state.state_root_from_scratch());
    assert_eq!(out.per_tx_state_roots.as_ref().and_then(|r| r.last()), Some(&out.state_root));
    Ok(())
}

#[tokio::test]
async fn chained_blocks_match_anvil() -> eyre::Result<()> {
    // Three blocks: the second spends what the first created, so the state carries over; the
    // third runs contract code.
    let k = keys(3);
    let addrs: Vec<Address> = k.iter().map(|s| s.address()).collect();
    let genesis = genesis_json(&addrs[..1], U256::from(10u128.pow(20)), &[]);
    let anvil = crate::anvil_with_genesis(&genesis);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let executor = Executor::new(crate::CHAIN_ID);
    let mut state = State::from_genesis_json(&genesis)?;
    crate::add_anvil_predeploys(&provider, &mut state).await?;
    let eth = U256::from(10u128.pow(18));
    let token = addrs[0].create(2);
    let mint = MarketToken::mintCall { to: addrs[0], amount: U256::from(1_000) }.abi_encode();
    let transfer = MarketToken::transferCall { to: addrs[1], amount: U256::from(1) }.abi_encode();
    let token_call = |data: Vec<u8>| Bytes::from(data);

    let blocks = [
        vec![
            eip1559(&k[0], 0, TxKind::Call(addrs[1]), eth, Bytes::new(), 21_000),
            eip1559(&k[0], 1, TxKind::Call(addrs[2]), eth, Bytes::new(), 21_000),
        ],
        vec![
            eip1559(&k[1], 0, TxKind::Call(addrs[2]), eth / U256::from(2), Bytes::new(), 21_000),
            eip1559(&k[2], 0, TxKind::Call(addrs[0]), eth / U256::from(4), Bytes::new(), 21_000),
        ],
        // A contract block: an ERC-20 deployed, minted and transferred (no zero written over
        // zero and no empty account touched, so anvil's root is Ethereum's here too).
        vec![
            eip1559(&k[0], 2, TxKind::Create, U256::ZERO, market_token_initcode(), 3_000_000),
            eip1559(&k[0], 3, TxKind::Call(token), U256::ZERO, token_call(mint), 200_000),
            eip1559(&k[0], 4, TxKind::Call(token), U256::ZERO, token_call(transfer), 200_000),
        ],
    ];
    for (n, txs) in blocks.iter().enumerate() {
        send_all(&provider, txs).await?;
        mine(&provider).await?;
        let number = n as u64 + 1;
        let block = provider.get_block_by_number(number.into()).await?.expect("mined block");
        let out =
            executor.execute_block(&mut state, &block_input(&block.header), txs, &ExecOptions::default())?;
        assert!(out.rejected.is_empty() && out.receipts.iter().all(|r| r.status()), "{number}");
        assert_eq!(out.state_root, block.header.state_root, "state root of block {number}");
        assert_eq!(out.receipts_root, block.header.receipts_root, "receipts root of {number}");
        assert_eq!(out.gas_used, block.header.gas_used);
    }
    assert_eq!(state.storage(&token, U256::from(2)), U256::from(1_000), "totalSupply (slot 2)");
    Ok(())
}

#[tokio::test]
async fn trace_matches_anvil_struct_logs() -> eyre::Result<()> {
    // `debug_traceTransaction` with the default (struct log) tracer, from anvil and from
    // revm-inspectors over the STF, agree step by step on an NFT mint.
    let (genesis, txs, _, _) = workload();
    let txs = &txs[..7];
    // Anvil records the steps of each transaction only when asked to.
    let anvil = crate::anvil_with_genesis_and(&genesis, &["--steps-tracing"]);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    send_all(&provider, txs).await?;
    mine(&provider).await?;
    let block = provider.get_block_by_number(1.into()).await?.expect("block 1");
    let target = txs[6].tx_hash();
    let theirs: serde_json::Value =
        provider.raw_request("debug_traceTransaction".into(), (target, serde_json::json!({}))).await?;

    let mut state = State::from_genesis_json(&genesis)?;
    crate::add_anvil_predeploys(&provider, &mut state).await?;
    let executor = Executor::new(crate::CHAIN_ID);
    let opts = GethDefaultTracingOptions::default();
    let (inspector, result) = executor.trace_transaction(
        state,
        &block_input(&block.header),
        txs,
        6,
        TracingInspectorConfig::from_geth_config(&opts),
    )?;
    let frame = inspector.geth_builder().geth_traces(
        result.tx_gas_used(),
        result.output().cloned().unwrap_or_default(),
        opts,
    );
    let ours = serde_json::to_value(&frame)?;
    // Anvil's top-level `gas` is the block's cumulative gas at this transaction, not the
    // transaction's own; compare it with the receipt's.
    let receipt = provider.get_transaction_receipt(target).await?.expect("receipt");
    assert_eq!(theirs["gas"], serde_json::json!(receipt.inner.cumulative_gas_used()));
    assert_eq!(ours["gas"], serde_json::json!(receipt.gas_used));
    assert_eq!(ours["returnValue"], theirs["returnValue"]);
    assert_eq!(ours["failed"], theirs["failed"]);
    let (ours, theirs) = (ours["structLogs"].as_array().unwrap(), theirs["structLogs"].as_array().unwrap());
    assert!(ours.len() > 100, "a mint runs many steps");
    assert_eq!(ours.len(), theirs.len(), "number of steps");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        for field in ["pc", "op", "gas", "gasCost", "depth", "stack"] {
            assert_eq!(a[field], b[field], "step {i}, {field}");
        }
    }
    Ok(())
}
