// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelMarketplace} from "../../src/interfaces/IModelMarketplace.sol";
import {IModelNFT} from "../../src/interfaces/IModelNFT.sol";
import {ModelMarketplace} from "../../src/marketplace/ModelMarketplace.sol";
import {ModelNFT} from "../../src/marketplace/ModelNFT.sol";
import {MarketToken} from "../mocks/MarketToken.sol";
import {Test, Vm} from "../utils/Test.sol";

/// @notice Drives ModelNFT + ModelMarketplace with random but mostly valid actions from a small
///         set of actors, and records in ghost variables what the invariants cannot see after
///         the fact (each settlement's royalties, fee and credited total).
/// @dev Every address that can ever be credited is in `universe()`: royalty receivers are the
///      minters' recipients (actors), lineage shares go to ancestors' owners (actors: tokens only
///      move between actors), and the fee to the fixed treasury.
contract MarketplaceHandler is Test {
    ModelNFT public immutable nft;
    ModelMarketplace public immutable mkt;
    MarketToken public immutable usd;
    address public immutable admin;
    address public immutable treasury;

    address[] internal _actors;
    uint256[] internal _tokens;

    // Ghosts.
    uint256 public settlements;
    uint256 public maxRoyaltyAndFeeOverPrice; // 0 unless a settlement paid out more than its price
    uint256 public conservationErrors; // settlements whose credits did not sum to the amount paid
    uint256 public rentalSplitErrors; // rental settlements whose paid + refunded != escrowed cost
    uint256 public rentalSettlements;
    uint256 internal _lastSettledCost; // escrowed cost of the rental the next call may settle
    mapping(bytes4 => uint256) public calls;

    constructor(ModelNFT nft_, ModelMarketplace mkt_, MarketToken usd_, address admin_, address treasury_) {
        nft = nft_;
        mkt = mkt_;
        usd = usd_;
        admin = admin_;
        treasury = treasury_;
        for (uint256 i; i < 4; ++i) {
            address a = makeAddr(string(abi.encodePacked("actor", bytes1(uint8(48 + i)))));
            _actors.push(a);
            vm.prank(a);
            nft.setApprovalForAll(address(mkt_), true);
            vm.prank(a);
            usd_.approve(address(mkt_), type(uint256).max);
        }
    }

    // ---------------------------------------------------------------- views for the invariants

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function tokens() external view returns (uint256[] memory) {
        return _tokens;
    }

    /// @notice Every account that can hold a pull balance.
    function universe() public view returns (address[] memory u) {
        u = new address[](_actors.length + 1);
        for (uint256 i; i < _actors.length; ++i) {
            u[i] = _actors[i];
        }
        u[_actors.length] = treasury;
    }

    function totalOwed(address currency) public view returns (uint256 sum) {
        address[] memory u = universe();
        for (uint256 i; i < u.length; ++i) {
            sum += mkt.owed(u[i], currency);
        }
    }

    /// @notice Rent escrowed for rentals not yet settled.
    function totalRentEscrowed(address currency) public view returns (uint256 sum) {
        for (uint256 t; t < _tokens.length; ++t) {
            IModelMarketplace.Rental memory r = mkt.getRental(_tokens[t]);
            if (r.renter != address(0) && r.currency == currency) sum += r.cost;
        }
    }

    /// @notice Pull balances plus rent escrow: a rental settlement moves value between the two.
    function totalOwedOrRentEscrowed(address currency) public view returns (uint256) {
        return totalOwed(currency) + totalRentEscrowed(currency);
    }

    function totalEscrowed(address currency) public view returns (uint256 sum) {
        for (uint256 t; t < _tokens.length; ++t) {
            for (uint256 a; a < _actors.length; ++a) {
                IModelMarketplace.Offer memory o = mkt.getOffer(_tokens[t], _actors[a]);
                if (o.amount != 0 && o.currency == currency) sum += o.amount;
            }
        }
    }

    // ---------------------------------------------------------------- actions

    function mint(uint256 actorSeed, uint256 parentSeed, uint16 royaltyBps, uint16 lineageBps) external {
        calls[this.mint.selector]++;
        address to = _actor(actorSeed);
        uint256 parent = (_tokens.length == 0 || parentSeed % 3 == 0) ? 0 : _tokens[parentSeed % _tokens.length];
        IModelNFT.MintParams memory p = IModelNFT.MintParams({
            contentHash: keccak256(abi.encode(_tokens.length)),
            daCommitment: hex"00",
            license: bytes32("MIT"),
            parentId: parent,
            encrypted: false,
            royaltyReceiver: address(0),
            royaltyBps: uint16(bound(royaltyBps, 0, 1000)),
            lineageBps: uint16(bound(lineageBps, 0, 1000))
        });
        try nft.mint(to, p) returns (uint256 id) {
            _tokens.push(id);
        } catch {} // total royalty over the cap: fine, nothing minted
    }

    function list(uint256 tokenSeed, bool inUsd, uint256 price) external {
        if (_tokens.length == 0) return;
        calls[this.list.selector]++;
        uint256 id = _token(tokenSeed);
        vm.prank(nft.ownerOf(id));
        mkt.list(id, inUsd ? address(usd) : address(0), bound(price, 1, 100 ether));
    }

    function updatePrice(uint256 tokenSeed, uint256 price) external {
        if (_tokens.length == 0) return;
        calls[this.updatePrice.selector]++;
        uint256 id = _token(tokenSeed);
        vm.prank(mkt.getListing(id).seller);
        mkt.updatePrice(id, bound(price, 1, 100 ether));
    }

    function cancel(uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.cancel.selector]++;
        uint256 id = _token(tokenSeed);
        vm.prank(mkt.getListing(id).seller);
        mkt.cancel(id);
    }

    function buy(uint256 actorSeed, uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.buy.selector]++;
        uint256 id = _token(tokenSeed);
        IModelMarketplace.Listing memory l = mkt.getListing(id);
        address buyer = _actor(actorSeed);
        _fund(buyer, l.currency, l.price);
        uint256 before = totalOwedOrRentEscrowed(l.currency);
        _lastSettledCost = mkt.getRental(id).cost;
        vm.recordLogs();
        vm.prank(buyer);
        mkt.buy{value: l.currency == address(0) ? l.price : 0}(id, l.currency, l.price);
        _checkSettlement(l.currency, l.price, before);
    }

    function makeOffer(uint256 actorSeed, uint256 tokenSeed, bool inUsd, uint256 amount, uint256 ttl) external {
        if (_tokens.length == 0) return;
        calls[this.makeOffer.selector]++;
        uint256 id = _token(tokenSeed);
        address buyer = _actor(actorSeed);
        address currency = inUsd ? address(usd) : address(0);
        amount = bound(amount, 1, 100 ether);
        _fund(buyer, currency, amount);
        vm.prank(buyer);
        mkt.makeOffer{value: inUsd ? 0 : amount}(id, currency, amount, block.timestamp + bound(ttl, 1, 7 days));
    }

    function cancelOffer(uint256 actorSeed, uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.cancelOffer.selector]++;
        vm.prank(_actor(actorSeed));
        mkt.cancelOffer(_token(tokenSeed));
    }

    function acceptOffer(uint256 actorSeed, uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.acceptOffer.selector]++;
        uint256 id = _token(tokenSeed);
        address buyer = _actor(actorSeed);
        IModelMarketplace.Offer memory o = mkt.getOffer(id, buyer);
        uint256 before = totalOwedOrRentEscrowed(o.currency);
        _lastSettledCost = mkt.getRental(id).cost;
        vm.recordLogs();
        vm.prank(nft.ownerOf(id));
        mkt.acceptOffer(id, buyer, o.currency, o.amount);
        _checkSettlement(o.currency, o.amount, before);
    }

    function listForRent(uint256 tokenSeed, uint256 rate, uint256 maxDuration, bool inUsd) external {
        if (_tokens.length == 0) return;
        calls[this.listForRent.selector]++;
        uint256 id = _token(tokenSeed);
        vm.prank(nft.ownerOf(id));
        mkt.listForRent(id, bound(rate, 1, 1e12), bound(maxDuration, 1, 30 days), inUsd ? address(usd) : address(0));
    }

    function cancelRental(uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.cancelRental.selector]++;
        uint256 id = _token(tokenSeed);
        vm.prank(mkt.getRentalListing(id).owner);
        mkt.cancelRental(id);
    }

    function rent(uint256 actorSeed, uint256 tokenSeed, uint256 duration) external {
        if (_tokens.length == 0) return;
        calls[this.rent.selector]++;
        uint256 id = _token(tokenSeed);
        IModelMarketplace.RentalListing memory r = mkt.getRentalListing(id);
        if (r.owner == address(0)) return;
        duration = bound(duration, 1, r.maxDuration);
        uint256 cost = r.pricePerSecond * duration;
        address renter = _actor(actorSeed);
        _fund(renter, r.currency, cost);
        uint256 before = totalOwedOrRentEscrowed(r.currency);
        _lastSettledCost = mkt.getRental(id).cost;
        vm.recordLogs();
        vm.prank(renter);
        mkt.rent{value: r.currency == address(0) ? cost : 0}(id, duration, r.currency, cost);
        // The new cost is escrowed (owed + rent escrow grows by exactly `cost`); a previous rental
        // settled on the way only moves value from escrow to owed.
        _checkSettlement(r.currency, cost, before);
    }

    /// @dev Anyone settles a token's rental (reverts, harmlessly, while it runs as agreed).
    function settleRental(uint256 tokenSeed) external {
        if (_tokens.length == 0) return;
        calls[this.settleRental.selector]++;
        uint256 id = _token(tokenSeed);
        IModelMarketplace.Rental memory r = mkt.getRental(id);
        uint256 before = totalOwedOrRentEscrowed(r.currency);
        uint256 owedBefore = totalOwed(r.currency);
        _lastSettledCost = mkt.getRental(id).cost;
        vm.recordLogs();
        mkt.settleRental(id);
        _checkSettlement(r.currency, 0, before);
        if (totalOwed(r.currency) != owedBefore + r.cost) conservationErrors++;
    }

    /// @dev The owner cuts a rental short with the plain ERC-4907 setter: clears the user, or
    ///      takes the token back for itself. (Transfers, the other way, are `transferToken`.)
    function breakRental(uint256 tokenSeed, bool toSelf) external {
        if (_tokens.length == 0) return;
        calls[this.breakRental.selector]++;
        uint256 id = _token(tokenSeed);
        address owner = nft.ownerOf(id);
        vm.prank(owner);
        nft.setUser(id, toSelf ? owner : address(0), toSelf ? uint64(block.timestamp + 1 days) : 0);
    }

    function withdraw(uint256 accountSeed, bool inUsd) external {
        calls[this.withdraw.selector]++;
        address[] memory u = universe();
        address currency = inUsd ? address(usd) : address(0);
        // Prefer an account that has something to withdraw (else the call just reverts).
        address who = u[accountSeed % u.length];
        for (uint256 i; i < u.length; ++i) {
            address candidate = u[(accountSeed + i) % u.length];
            if (mkt.owed(candidate, currency) != 0) {
                who = candidate;
                break;
            }
        }
        vm.prank(who);
        mkt.withdraw(currency);
    }

    /// @dev A transfer outside the marketplace: leaves stale listings behind.
    function transferToken(uint256 tokenSeed, uint256 toSeed) external {
        if (_tokens.length == 0) return;
        calls[this.transferToken.selector]++;
        uint256 id = _token(tokenSeed);
        address owner = nft.ownerOf(id);
        vm.prank(owner);
        nft.transferFrom(owner, _actor(toSeed), id);
    }

    function toggleApproval(uint256 actorSeed) external {
        calls[this.toggleApproval.selector]++;
        address a = _actor(actorSeed);
        bool approved = nft.isApprovedForAll(a, address(mkt));
        vm.prank(a);
        nft.setApprovalForAll(address(mkt), !approved);
    }

    function setFee(uint256 feeBps) external {
        calls[this.setFee.selector]++;
        vm.prank(admin);
        mkt.setFee(bound(feeBps, 0, 1000));
    }

    function warp(uint256 secs) external {
        calls[this.warp.selector]++;
        vm.warp(block.timestamp + bound(secs, 0, 3 days));
    }

    // ---------------------------------------------------------------- internals

    function _actor(uint256 seed) internal view returns (address) {
        return _actors[seed % _actors.length];
    }

    function _token(uint256 seed) internal view returns (uint256) {
        return _tokens[seed % _tokens.length];
    }

    function _fund(address who, address currency, uint256 amount) internal {
        if (currency == address(0)) vm.deal(who, who.balance + amount);
        else usd.mint(who, amount);
    }

    /// @dev From the logs of the call just made, settlement by settlement (each is a run of
    ///      RoyaltyPaid events closed by Sold, OfferAccepted or RentalSettled): royalties + fee
    ///      must not exceed the amount split, and a rental settlement's paid + refunded must be
    ///      the escrowed cost. Then the universe's pull balances plus rent escrow in `currency`
    ///      must have grown by exactly `amount` (a rental settlement only moves value between them).
    function _checkSettlement(address currency, uint256 amount, uint256 before) internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 royalties;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter != address(mkt)) continue;
            bytes32 sig = logs[i].topics[0];
            uint256 fee;
            uint256 split;
            if (sig == IModelMarketplace.RoyaltyPaid.selector) {
                (, uint256 a) = abi.decode(logs[i].data, (address, uint256));
                royalties += a;
                continue;
            } else if (sig == IModelMarketplace.Sold.selector || sig == IModelMarketplace.OfferAccepted.selector) {
                (, split, fee) = abi.decode(logs[i].data, (address, uint256, uint256));
            } else if (sig == IModelMarketplace.RentalSettled.selector) {
                uint256 refunded;
                (, split, refunded, fee) = abi.decode(logs[i].data, (address, uint256, uint256, uint256));
                rentalSettlements++;
                if (_lastSettledCost != split + refunded) rentalSplitErrors++;
            } else {
                continue;
            }
            settlements++;
            if (royalties + fee > split && royalties + fee - split > maxRoyaltyAndFeeOverPrice) {
                maxRoyaltyAndFeeOverPrice = royalties + fee - split;
            }
            royalties = 0;
        }
        if (totalOwedOrRentEscrowed(currency) != before + amount) conservationErrors++;
    }
}
