// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelMarketplace} from "../../src/marketplace/ModelMarketplace.sol";
import {ModelNFT} from "../../src/marketplace/ModelNFT.sol";
import {MarketToken} from "../mocks/MarketToken.sol";
import {FuzzSelector, Test} from "../utils/Test.sol";
import {MarketplaceHandler} from "./MarketplaceHandler.sol";

/// @notice Properties of ModelMarketplace under random sequences of sales, offers, rentals,
///         rental settlements, rentals cut short by the owner (setUser or transfer),
///         withdrawals, fee changes, outside transfers and approval changes:
///
///         1. Solvency, exactly: the marketplace's ETH balance equals the ETH escrowed in open
///            offers plus the rent escrowed for unsettled rentals plus every account's ETH pull
///            balance; the same holds for the ERC-20. No value is created or lost, and nothing
///            is stranded.
///         2. Every sale, offer acceptance and rental settlement pays royalties + fee <= the
///            amount it splits, and credits exactly its price (royalties + fee + the seller's
///            rest) to pull balances; a rent moves exactly its cost into escrow; a rental
///            settlement splits the used part and refunds the rest, paid + refunded == cost.
///         3. The marketplace never takes custody of a token (ERC-721 balance 0).
contract MarketplaceInvariants is Test {
    ModelNFT internal nft;
    ModelMarketplace internal mkt;
    MarketToken internal usd;
    MarketplaceHandler internal handler;

    function setUp() public {
        vm.warp(1_000_000);
        address admin = makeAddr("admin");
        address treasury = makeAddr("treasury");
        nft = new ModelNFT(admin);
        usd = new MarketToken("USD", "USD");
        mkt = new ModelMarketplace(address(nft), admin, admin, treasury, 250);
        vm.prank(admin);
        mkt.setCurrencyAllowed(address(usd), true);
        handler = new MarketplaceHandler(nft, mkt, usd, admin, treasury);

        bytes4[] memory selectors = new bytes4[](19);
        selectors[0] = handler.mint.selector;
        selectors[1] = handler.list.selector;
        selectors[2] = handler.updatePrice.selector;
        selectors[3] = handler.cancel.selector;
        selectors[4] = handler.buy.selector;
        selectors[5] = handler.makeOffer.selector;
        selectors[6] = handler.cancelOffer.selector;
        selectors[7] = handler.acceptOffer.selector;
        selectors[8] = handler.listForRent.selector;
        selectors[9] = handler.cancelRental.selector;
        selectors[10] = handler.rent.selector;
        selectors[11] = handler.withdraw.selector;
        selectors[12] = handler.transferToken.selector;
        selectors[13] = handler.toggleApproval.selector;
        selectors[14] = handler.setFee.selector;
        selectors[15] = handler.warp.selector;
        selectors[16] = handler.mint.selector; // minting twice as often keeps the token set growing
        selectors[17] = handler.settleRental.selector;
        selectors[18] = handler.breakRental.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @notice Property 1 for ETH.
    function invariant_ethBalanceEqualsEscrowPlusOwed() public view {
        vm.assertEq(
            address(mkt).balance,
            handler.totalEscrowed(address(0)) + handler.totalRentEscrowed(address(0)) + handler.totalOwed(address(0))
        );
    }

    /// @notice Property 1 for the ERC-20.
    function invariant_erc20BalanceEqualsEscrowPlusOwed() public view {
        vm.assertEq(
            usd.balanceOf(address(mkt)),
            handler.totalEscrowed(address(usd)) + handler.totalRentEscrowed(address(usd))
                + handler.totalOwed(address(usd))
        );
    }

    /// @notice Property 2.
    function invariant_royaltiesAndFeeWithinPrice() public view {
        vm.assertEq(handler.maxRoyaltyAndFeeOverPrice(), 0);
        vm.assertEq(handler.conservationErrors(), 0);
        vm.assertEq(handler.rentalSplitErrors(), 0);
    }

    /// @notice Property 3.
    function invariant_noCustody() public view {
        vm.assertEq(nft.balanceOf(address(mkt)), 0);
    }
}
