//! The devnet's first version, driven with cast: mint a model, list it, buy it from a second
//! account, rent it from a third; owners, balances and royalties checked to the wei.

use alloy_primitives::{Address, U256};
use eyre::{ContextCompat, Result};
use std::str::FromStr;
use temporis_e2e::{Cast, Devnet};

const ETH: u64 = 1_000_000_000_000_000_000;
const MINT_SIG: &str = "mint(address,(bytes32,bytes,bytes32,uint256,bool,address,uint16,uint16))";

/// Wei a transaction cost its sender: gasUsed × effectiveGasPrice from the receipt.
fn fee(receipt: &serde_json::Value) -> Result<U256> {
    let gas = U256::from_str(receipt["gasUsed"].as_str().context("gasUsed")?)?;
    let price = U256::from_str(receipt["effectiveGasPrice"].as_str().context("effectiveGasPrice")?)?;
    Ok(gas * price)
}

fn owed(cast: &Cast, market: Address, who: Address) -> Result<U256> {
    cast.call_uint(market, "owed(address,address)(uint256)", &[&who.to_string(), &Address::ZERO.to_string()])
}

fn selector(sig: &str) -> String {
    let hash = alloy_primitives::keccak256(sig.as_bytes());
    format!("0x{}", alloy_primitives::hex::encode(&hash[..4]))
}

#[test]
fn mint_list_buy_rent_with_royalties() -> Result<()> {
    let devnet = Devnet::start()?;
    let cast = devnet.cast()?;
    let nft = devnet.contract("modelNft")?;
    let market = devnet.contract("marketplace")?;
    let (_, treasury) = devnet.account("treasury")?;
    let (creator_key, creator) = devnet.account("user1")?;
    let (buyer_key, buyer) = devnet.account("user2")?;
    let (renter_key, renter) = devnet.account("user3")?;
    // The creator's royalties go to a payout address of their own, so that the royalty is seen
    // apart from the sale proceeds.
    let (_, royalty_wallet) = devnet.account("user5")?;

    // The devnet's DA server answers the OP Alt-DA API: put returns the keccak commitment,
    // get returns the data, an unknown commitment is a 404.
    let da = devnet.da_url()?;
    assert_eq!(temporis_e2e::http("GET", &format!("{da}/health"), b"")?, (200, b"ok".to_vec()));
    let (status, commitment) = temporis_e2e::http("POST", &format!("{da}/put"), b"model manifest")?;
    assert_eq!(status, 200);
    assert_eq!(
        commitment,
        temporis_protocol::commitment::Commitment::keccak(b"model manifest").encode().to_vec()
    );
    let get = format!("{da}/get/0x{}", alloy_primitives::hex::encode(&commitment));
    assert_eq!(temporis_e2e::http("GET", &get, b"")?, (200, b"model manifest".to_vec()));
    let unknown = format!("{da}/get/0x00{}", "11".repeat(32));
    assert_eq!(temporis_e2e::http("GET", &unknown, b"")?.0, 404);

    let fee_bps = cast.call_uint(market, "feeBps()(uint256)", &[])?;
    assert_eq!(fee_bps, U256::from(250), "devnet marketplace fee");

    // 1. Mint: a base model with a 5% royalty to the payout wallet.
    let content_hash = format!("0x{}", "ab".repeat(32));
    let params = format!(
        "({content_hash},0x00{content_hash_tail},0x{license},0,false,{royalty_wallet},500,0)",
        content_hash_tail = &content_hash[2..],
        license = alloy_primitives::hex::encode(alloy_primitives::B256::right_padding_from(b"Apache-2.0")),
    );
    cast.send(&creator_key, nft, MINT_SIG, &[&creator.to_string(), &params], None)?;
    let token = "1";
    assert_eq!(cast.call_address(nft, "ownerOf(uint256)(address)", &[token])?, creator);
    assert_eq!(cast.call(nft, "contentHash(uint256)(bytes32)", &[token])?, content_hash);
    let (receiver, royalty) = {
        let out =
            cast.call(nft, "royaltyInfo(uint256,uint256)(address,uint256)", &[token, &ETH.to_string()])?;
        let mut lines = out.lines();
        (
            Address::from_str(lines.next().context("receiver")?)?,
            U256::from_str(lines.next().context("amount")?.split_whitespace().next().context("amount")?)?,
        )
    };
    assert_eq!(receiver, royalty_wallet);
    assert_eq!(royalty, U256::from(ETH / 20));

    // 2. List at 1 ETH.
    cast.send(&creator_key, nft, "setApprovalForAll(address,bool)", &[&market.to_string(), "true"], None)?;
    let price = U256::from(ETH);
    cast.send(
        &creator_key,
        market,
        "list(uint256,address,uint256)",
        &[token, &Address::ZERO.to_string(), &price.to_string()],
        None,
    )?;

    // Paying the wrong amount reverts with the named error.
    let zero = Address::ZERO.to_string();
    let price_s = price.to_string();
    let buy_args = [token, zero.as_str(), price_s.as_str()];
    let err = cast.send_reverting(&buyer_key, market, "buy(uint256,address,uint256)", &buy_args)?;
    assert!(err.contains(&selector("Marketplace_WrongPayment(uint256,uint256)")), "unexpected error: {err}");
    // A buyer's price bound protects against a seller raising the price under a pending buy.
    let err =
        cast.send_reverting(&buyer_key, market, "buy(uint256,address,uint256)", &[token, &zero, "1"])?;
    assert!(
        err.contains(&selector("Marketplace_PriceAboveMax(uint256,uint256,uint256)")),
        "unexpected error: {err}"
    );

    // 3. Buy from the second account.
    let buyer_before = cast.balance(buyer)?;
    let receipt = cast.send(&buyer_key, market, "buy(uint256,address,uint256)", &buy_args, Some(price))?;
    assert_eq!(cast.balance(buyer)?, buyer_before - price - fee(&receipt)?, "buyer paid exactly price + gas");
    assert_eq!(cast.call_address(nft, "ownerOf(uint256)(address)", &[token])?, buyer);

    let expected_fee = price * fee_bps / U256::from(10_000);
    let expected_royalty = price * U256::from(500) / U256::from(10_000);
    assert_eq!(owed(&cast, market, royalty_wallet)?, expected_royalty, "royalty enforced");
    assert_eq!(owed(&cast, market, treasury)?, expected_fee, "protocol fee");
    assert_eq!(owed(&cast, market, creator)?, price - expected_fee - expected_royalty, "seller proceeds");
    assert_eq!(cast.balance(market)?, price, "everything paid is held for withdrawal");

    // The listing is gone: a second buy reverts with a named error.
    let err = cast.send_reverting(&renter_key, market, "buy(uint256,address,uint256)", &buy_args)?;
    assert!(err.contains(&selector("Marketplace_NotListed(uint256)")), "unexpected error: {err}");

    // The seller withdraws; pull payment moves exactly what was owed.
    let creator_before = cast.balance(creator)?;
    let owed_creator = owed(&cast, market, creator)?;
    let receipt =
        cast.send(&creator_key, market, "withdraw(address)", &[&Address::ZERO.to_string()], None)?;
    assert_eq!(cast.balance(creator)?, creator_before + owed_creator - fee(&receipt)?);
    assert_eq!(owed(&cast, market, creator)?, U256::ZERO);

    // 4. The new owner lists it for rent; the third account rents it for an hour.
    let per_second = U256::from(ETH / 1_000_000); // 1e12 wei/s
    cast.send(&buyer_key, nft, "setApprovalForAll(address,bool)", &[&market.to_string(), "true"], None)?;
    cast.send(
        &buyer_key,
        market,
        "listForRent(uint256,uint256,uint256,address)",
        &[token, &per_second.to_string(), "86400", &Address::ZERO.to_string()],
        None,
    )?;
    let duration = 3600u64;
    let cost = per_second * U256::from(duration);
    let renter_before = cast.balance(renter)?;
    let receipt = cast.send(
        &renter_key,
        market,
        "rent(uint256,uint256,address,uint256)",
        &[token, &duration.to_string(), &zero, &cost.to_string()],
        Some(cost),
    )?;
    assert_eq!(cast.balance(renter)?, renter_before - cost - fee(&receipt)?);

    assert_eq!(cast.call_address(nft, "userOf(uint256)(address)", &[token])?, renter, "ERC-4907 user set");
    assert_eq!(
        cast.call_address(nft, "ownerOf(uint256)(address)", &[token])?,
        buyer,
        "renting keeps ownership"
    );
    let block: serde_json::Value =
        serde_json::from_str(&cast.rpc(
            "eth_getBlockByNumber",
            &[receipt["blockNumber"].as_str().context("blockNumber")?, "false"],
        )?)?;
    let block_ts = U256::from_str(block["timestamp"].as_str().context("block timestamp")?)?;
    let expires = cast.call_uint(nft, "userExpires(uint256)(uint256)", &[token])?;
    assert_eq!(expires, block_ts + U256::from(duration), "rental expires after the paid duration");

    // The rent is held in escrow while the rental runs, so that an owner cannot take it and
    // cut the rental short.
    assert_eq!(owed(&cast, market, buyer)?, U256::ZERO, "no rent paid out before settlement");
    let escrowed = cast.balance(market)?;

    // After expiry the renter is no longer the user, and anyone settles the rental.
    cast.rpc("evm_increaseTime", &[&(duration + 1).to_string()])?;
    cast.rpc("evm_mine", &[])?;
    assert_eq!(cast.call_address(nft, "userOf(uint256)(address)", &[token])?, Address::ZERO);
    cast.send(&renter_key, market, "settleRental(uint256)", &[token], None)?;

    // Royalty and fee are enforced on the rental too.
    let rent_fee = cost * fee_bps / U256::from(10_000);
    let rent_royalty = cost * U256::from(500) / U256::from(10_000);
    assert_eq!(owed(&cast, market, royalty_wallet)?, expected_royalty + rent_royalty);
    assert_eq!(owed(&cast, market, treasury)?, expected_fee + rent_fee);
    assert_eq!(owed(&cast, market, buyer)?, cost - rent_fee - rent_royalty);
    assert_eq!(owed(&cast, market, renter)?, U256::ZERO, "a rental that ran its course refunds nothing");
    assert_eq!(cast.balance(market)?, escrowed, "settlement moves escrow into pull balances, not out");
    Ok(())
}
