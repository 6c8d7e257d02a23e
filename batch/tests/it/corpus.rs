//! Signed transactions and benchmark corpora, shared by the integration tests and
//! `examples/batch_bench.rs` (which includes this file by path).
//!
//! Everything is deterministic (a fixed-seed SplitMix64), so the corpora, and the figures
//! measured on them, are the same on every run.
#![allow(dead_code)]

use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEip2930, TxEip7702, TxEnvelope, TxLegacy},
    eips::{
        eip2718::Encodable2718,
        eip2930::{AccessList, AccessListItem},
        eip7702::Authorization,
    },
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::SolCall,
};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, keccak256};
use temporis_batch::{Batch, BatchBlock};
use temporis_contracts::{ModelMarketplace, ModelNFT, model_nft::IModelNFT};

/// The chain the corpora are signed for (the devnet L2).
pub(crate) const CHAIN_ID: u64 = temporis_protocol::chain::DEVNET_L2_CHAIN_ID;

alloy::sol! {
    /// ERC-20 `transfer`, for the calldata of the ERC-20 corpus.
    function transfer(address to, uint256 amount) external returns (bool);
}

/// Deterministic pseudo-random numbers (SplitMix64).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) const fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn address(&mut self) -> Address {
        let mut a = [0u8; 20];
        for chunk in a.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes()[..chunk.len()]);
        }
        Address::from(a)
    }

    /// An amount as people send them: mostly round (one to four significant digits,
    /// 10^12..10^18 wei), and three in ten arbitrary (a whole balance, a price computed by a
    /// contract) below 10^19 wei.
    pub(crate) fn amount(&mut self) -> U256 {
        if self.below(10) < 3 {
            return U256::from(self.below(10_000_000_000_000_000_000));
        }
        let digits = [10, 100, 1000, 10_000][self.below(4) as usize];
        U256::from(1 + self.below(digits - 1)) * U256::from(10u64).pow(U256::from(12 + self.below(7)))
    }
}

/// The signer of dev key `i` (anvil's accounts).
pub(crate) fn dev_signer(i: usize) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&temporis_protocol::dev::DEV_KEYS[i]).expect("dev key")
}

/// Signs `tx` and returns its EIP-2718 bytes.
pub(crate) fn sign<T>(tx: T, signer: &PrivateKeySigner) -> Bytes
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<alloy::consensus::Signed<T>>,
{
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    Bytes::from(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
}

/// One tx of every batched type, signed by dev key 0 for `chain_id`: EIP-155 legacy,
/// pre-EIP-155 legacy, EIP-2930 (with an access list), EIP-1559 call and creation, EIP-7702.
pub(crate) fn every_type(chain_id: u64) -> Vec<Bytes> {
    let s = dev_signer(0);
    let to = dev_signer(1).address();
    let access_list = AccessList(vec![
        AccessListItem { address: to, storage_keys: vec![B256::repeat_byte(1), B256::repeat_byte(2)] },
        AccessListItem { address: Address::repeat_byte(9), storage_keys: vec![] },
    ]);
    let auth =
        Authorization { chain_id: U256::from(chain_id), address: Address::repeat_byte(0x77), nonce: 6 };
    let auth_sig = dev_signer(2).sign_hash_sync(&auth.signature_hash()).expect("sign");
    let any_chain = Authorization { chain_id: U256::ZERO, address: Address::repeat_byte(0x78), nonce: 0 };
    let any_sig = dev_signer(3).sign_hash_sync(&any_chain.signature_hash()).expect("sign");
    vec![
        sign(
            TxLegacy {
                chain_id: Some(chain_id),
                nonce: 0,
                gas_price: 1_000_000_007,
                gas_limit: 21_000,
                to: TxKind::Call(to),
                value: U256::from(10u64).pow(U256::from(18)),
                input: Bytes::new(),
            },
            &s,
        ),
        sign(
            TxLegacy {
                chain_id: None,
                nonce: 1,
                gas_price: 100_000_000_000,
                gas_limit: 100_000,
                to: TxKind::Create,
                value: U256::ZERO,
                input: Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]),
            },
            &s,
        ),
        sign(
            TxEip2930 {
                chain_id,
                nonce: 2,
                gas_price: 3,
                gas_limit: 50_000,
                to: TxKind::Call(to),
                value: U256::from(1u64),
                access_list: access_list.clone(),
                input: Bytes::from_static(b"\x12\x34"),
            },
            &s,
        ),
        sign(
            TxEip1559 {
                chain_id,
                nonce: 3,
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1_000_000,
                to: TxKind::Call(to),
                value: U256::MAX,
                access_list: AccessList::default(),
                input: Bytes::new(),
            },
            &s,
        ),
        sign(
            TxEip1559 {
                chain_id,
                nonce: 4,
                gas_limit: 3_000_000,
                max_fee_per_gas: u128::MAX,
                max_priority_fee_per_gas: 0,
                to: TxKind::Create,
                value: U256::ZERO,
                access_list,
                input: Bytes::from(vec![0xfe; 300]),
            },
            &s,
        ),
        sign(
            TxEip7702 {
                chain_id,
                nonce: u64::MAX - 1,
                gas_limit: 80_000,
                max_fee_per_gas: 5,
                max_priority_fee_per_gas: 5,
                to: Address::repeat_byte(0x42),
                value: U256::ZERO,
                access_list: AccessList::default(),
                authorization_list: vec![auth.into_signed(auth_sig), any_chain.into_signed(any_sig)],
                input: Bytes::from_static(b"\xaa"),
            },
            &s,
        ),
    ]
}

/// Accounts that send the corpus txs, with their next nonces.
struct Wallets {
    signers: Vec<PrivateKeySigner>,
    nonces: Vec<u64>,
}

impl Wallets {
    /// `n` accounts: the ten dev keys, then keys derived by hashing, each with a random
    /// starting nonce (accounts that have been used before).
    fn new(n: usize, rng: &mut Rng) -> Self {
        let signers: Vec<_> = (0..n)
            .map(|i| {
                if i < 10 {
                    dev_signer(i)
                } else {
                    PrivateKeySigner::from_bytes(&keccak256(format!("temporis-batch bench account {i}")))
                        .expect("key")
                }
            })
            .collect();
        let nonces = (0..n).map(|_| rng.below(3000)).collect();
        Self { signers, nonces }
    }

    /// Picks a sender: its index and next nonce (then counted as used).
    fn pick(&mut self, rng: &mut Rng) -> (usize, u64) {
        let i = rng.below(self.signers.len() as u64) as usize;
        let nonce = self.nonces[i];
        self.nonces[i] += 1;
        (i, nonce)
    }
}

/// Shape of a corpus: how many blocks, how many txs in each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Blocks.
    pub(crate) blocks: usize,
    /// Txs per block.
    pub(crate) txs_per_block: usize,
    /// Distinct sending accounts.
    pub(crate) senders: usize,
}

/// Builds `shape.blocks` blocks (1 s apart, a new L1 origin every 12 blocks) whose txs come
/// from `make(rng, sender_index, nonce, base_fee)`.
fn build(
    shape: Shape,
    seed: u64,
    mut make: impl FnMut(&mut Rng, &PrivateKeySigner, u64, u128) -> Bytes,
) -> Batch {
    let mut rng = Rng::new(seed);
    let mut wallets = Wallets::new(shape.senders, &mut rng);
    // An L2 base fee around 0.001 gwei that drifts from block to block.
    let mut base_fee: u128 = 1_000_000;
    let blocks = (0..shape.blocks)
        .map(|b| {
            base_fee = (base_fee * (1000 + u128::from(rng.below(50))) / 1020).max(1_000);
            let txs = (0..shape.txs_per_block)
                .map(|_| {
                    let (i, nonce) = wallets.pick(&mut rng);
                    let signer = wallets.signers[i].clone();
                    make(&mut rng, &signer, nonce, base_fee)
                })
                .collect();
            BatchBlock {
                number: 1_000 + b as u64,
                timestamp: 1_764_000_000 + b as u64,
                l1_origin_number: 500 + (b as u64) / 12,
                txs,
            }
        })
        .collect();
    Batch {
        parent_hash: keccak256(seed.to_be_bytes()),
        l1_origin_hash: keccak256((seed + 1).to_be_bytes()),
        blocks,
    }
}

/// A wallet's EIP-1559 fees for `base_fee`: a tip from a few common choices, and the usual
/// `2 × base fee + tip` cap.
fn fees(rng: &mut Rng, base_fee: u128) -> (u128, u128) {
    let tip = [1_000_000u128, 1_500_000, 100_000, 0][rng.below(4) as usize];
    (tip, 2 * base_fee + tip)
}

/// ETH transfers between many accounts (EIP-1559, 21 000 gas).
pub(crate) fn eth_transfers(shape: Shape) -> Batch {
    let mut recipients = Rng::new(7);
    let pool: Vec<Address> = (0..2000).map(|_| recipients.address()).collect();
    build(shape, 1, |rng, signer, nonce, base_fee| {
        let (tip, max_fee) = fees(rng, base_fee);
        let to = pool[rng.below(pool.len() as u64) as usize];
        let value = rng.amount();
        sign(
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to: TxKind::Call(to),
                value,
                access_list: AccessList::default(),
                input: Bytes::new(),
            },
            signer,
        )
    })
}

/// ERC-20 `transfer` calls on a few tokens, to many recipients.
pub(crate) fn erc20_transfers(shape: Shape) -> Batch {
    let mut r = Rng::new(11);
    let tokens: Vec<Address> = (0..4).map(|_| r.address()).collect();
    let pool: Vec<Address> = (0..2000).map(|_| r.address()).collect();
    build(shape, 2, |rng, signer, nonce, base_fee| {
        let (tip, max_fee) = fees(rng, base_fee);
        let token = tokens[rng.below(tokens.len() as u64) as usize];
        let to = pool[rng.below(pool.len() as u64) as usize];
        let input = transferCall { to, amount: rng.amount() }.abi_encode();
        sign(
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit: 52_000 + rng.below(13_000),
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to: TxKind::Call(token),
                value: U256::ZERO,
                access_list: AccessList::default(),
                input: input.into(),
            },
            signer,
        )
    })
}

/// The marketplace: ModelNFT mints (with a content hash and an Alt-DA commitment), listings,
/// purchases (paying the price), offers, and ETH transfers between the traders.
pub(crate) fn marketplace_mix(shape: Shape) -> Batch {
    let mut r = Rng::new(13);
    let nft = r.address();
    let market = r.address();
    let mut next_token = 1u64;
    build(shape, 3, |rng, signer, nonce, base_fee| {
        let (tip, max_fee) = fees(rng, base_fee);
        let roll = rng.below(100);
        let token_id = U256::from(1 + rng.below(next_token));
        let price = rng.amount();
        let (to, value, gas_limit, input) = if roll < 20 {
            next_token += 1;
            let mut commitment = vec![0x00];
            commitment.extend_from_slice(keccak256(rng.next().to_be_bytes()).as_slice());
            let params = IModelNFT::MintParams {
                contentHash: keccak256(rng.next().to_le_bytes()),
                daCommitment: commitment.into(),
                license: B256::right_padding_from(b"Apache-2.0"),
                parentId: if rng.below(3) == 0 { token_id } else { U256::ZERO },
                encrypted: rng.below(4) == 0,
                royaltyReceiver: Address::ZERO,
                royaltyBps: 250,
                lineageBps: 100,
            };
            let call = ModelNFT::mintCall { to: signer.address(), params };
            (nft, U256::ZERO, 250_000 + rng.below(50_000), call.abi_encode())
        } else if roll < 40 {
            let call = ModelMarketplace::listCall { tokenId: token_id, currency: Address::ZERO, price };
            (market, U256::ZERO, 120_000 + rng.below(20_000), call.abi_encode())
        } else if roll < 55 {
            let call =
                ModelMarketplace::buyCall { tokenId: token_id, currency: Address::ZERO, maxPrice: price };
            (market, price, 180_000 + rng.below(40_000), call.abi_encode())
        } else if roll < 65 {
            let expiry = U256::from(1_764_000_000 + rng.below(30 * 86_400));
            let call = ModelMarketplace::makeOfferCall {
                tokenId: token_id,
                currency: Address::ZERO,
                amount: price,
                expiry,
            };
            (market, price, 150_000 + rng.below(20_000), call.abi_encode())
        } else {
            (rng.address(), rng.amount(), 21_000, Vec::new())
        };
        sign(
            TxEip1559 {
                chain_id: CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to: TxKind::Call(to),
                value,
                access_list: AccessList::default(),
                input: input.into(),
            },
            signer,
        )
    })
}
