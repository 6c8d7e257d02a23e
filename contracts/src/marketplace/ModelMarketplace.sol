// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IERC4907} from "../interfaces/IERC4907.sol";
import {IModelMarketplace} from "../interfaces/IModelMarketplace.sol";
import {IModelNFT} from "../interfaces/IModelNFT.sol";

/// @title ModelMarketplace
/// @notice Fixed-price sales, escrowed offers and ERC-4907 rentals of one ModelNFT collection,
///         in ETH or allow-listed ERC-20s, with royalties (ERC-2981 + lineage) enforced on every
///         payment, a capped protocol fee, and pull payments only.
/// @dev Storage is packed for gas:
///      - a listing is one slot (seller | uint96 price), keyed by the token AND its
///        `IModelNFT.transferCount` at list time: once the token moves (even if it comes back to
///        the seller) the listing is out of reach for good. A listing in an ERC-20 stores price 0
///        there (real prices are never 0) and its terms in a second slot (currency | uint96
///        price), so a sale in ETH reads one slot. Invariant: `_erc20Listings[id][n]` is non-zero
///        only while an ERC-20 listing exists;
///      - an offer is one slot (uint96 amount | uint64 expiry), same rule for its currency;
///      - a rental listing is one slot (owner | uint72 pricePerSecond | uint24 maxDuration),
///        keyed like a listing, same rule for its currency;
///      - a rental in progress is escrowed in two slots (renter | uint64 expires | uint24
///        duration, then owner | uint96 cost), same rule for its currency. Its cost stays here
///        until {settleRental} (or the token's next rental, sale or accepted offer) pays the
///        used part out and refunds the unused part of a rental the owner cut short;
///      - `Pausable._paused`, `_treasury`, `_feeBps` and `_ethFees` (the treasury's ETH fees)
///        share one slot (checked in the storage layout test), so a sale reads its whole
///        configuration with one SLOAD and credits an ETH fee with a warm write.
///      The ERC-20 allow-list keeps out fee-on-transfer and rebasing tokens, which would break
///      the escrow accounting (the contract holds exactly escrowed offers + escrowed rentals +
///      owed balances).
///      Sales and rentals are refused while the token has an active ERC-4907 user, so a sale
///      through this marketplace never cuts short a rental paid through it.
contract ModelMarketplace is IModelMarketplace, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    // ---------------------------------------------------------------- constants

    /// @notice May pause and unpause.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Basis-point denominator (100%).
    uint256 public constant BPS = 10_000;
    /// @notice Cap on the protocol fee (10%).
    uint256 public constant MAX_FEE_BPS = 1_000;
    /// @notice Longest single rental (fits the packed uint24 `maxDuration`).
    uint256 public constant MAX_RENTAL_DURATION = 180 days;
    /// @notice Highest price or offer (stored as uint96).
    uint256 public constant MAX_PRICE = type(uint96).max;
    /// @notice Highest rental rate per second (stored as uint72).
    uint256 public constant MAX_PRICE_PER_SECOND = type(uint72).max;

    // ---------------------------------------------------------------- types

    struct ListingSlot {
        address seller;
        uint96 price;
    }

    /// @dev Terms of a listing in an ERC-20 (its ListingSlot then holds price 0).
    struct Erc20Listing {
        address currency;
        uint96 price;
    }

    struct OfferSlot {
        uint96 amount;
        uint64 expiry;
    }

    struct RentalSlot {
        address owner;
        uint72 pricePerSecond;
        uint24 maxDuration;
    }

    /// @dev Two slots: (renter | expires | duration) and (owner | cost).
    struct RentalEscrow {
        address renter;
        uint64 expires;
        uint24 duration;
        address owner;
        uint96 cost;
    }

    // ---------------------------------------------------------------- storage

    /// @notice The collection traded here.
    address public immutable nft;

    // Packed with Pausable._paused (see the contract's @dev). `_ethFees` is the treasury's ETH
    // fee balance kept in this already-read slot, so a sale in ETH credits the fee with a warm
    // write instead of a cold (or fresh) `_owed` slot; it is moved into `_owed` when the
    // treasury withdraws or changes, or when it would overflow.
    address private _treasury;
    uint16 private _feeBps;
    uint72 private _ethFees;

    mapping(uint256 tokenId => mapping(uint256 transferCount => ListingSlot)) private _listings;
    mapping(uint256 tokenId => mapping(uint256 transferCount => Erc20Listing)) private _erc20Listings;
    mapping(uint256 tokenId => mapping(address buyer => OfferSlot)) private _offers;
    mapping(uint256 tokenId => mapping(address buyer => address)) private _offerCurrency;
    mapping(uint256 tokenId => mapping(uint256 transferCount => RentalSlot)) private _rentals;
    mapping(uint256 tokenId => mapping(uint256 transferCount => address)) private _rentalCurrency;
    mapping(uint256 tokenId => RentalEscrow) private _escrows;
    mapping(uint256 tokenId => address) private _escrowCurrency;
    mapping(address account => mapping(address currency => uint256)) private _owed;
    mapping(address currency => bool) private _allowedCurrency;

    // ---------------------------------------------------------------- construction

    /// @param nft_     The ModelNFT collection.
    /// @param admin    Holder of DEFAULT_ADMIN_ROLE (fee, treasury, currencies, roles).
    /// @param guardian Holder of GUARDIAN_ROLE (pause); may be address(0) to name one later.
    /// @param treasury_ Receiver of the protocol fee.
    /// @param feeBps_   Protocol fee in basis points (at most {MAX_FEE_BPS}).
    constructor(address nft_, address admin, address guardian, address treasury_, uint256 feeBps_) {
        if (nft_ == address(0) || admin == address(0) || treasury_ == address(0)) revert Marketplace_ZeroAddress();
        if (feeBps_ > MAX_FEE_BPS) revert Marketplace_FeeTooHigh(feeBps_, MAX_FEE_BPS);
        nft = nft_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (guardian != address(0)) _grantRole(GUARDIAN_ROLE, guardian);
        _treasury = treasury_;
        // Cannot truncate: checked against MAX_FEE_BPS above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _feeBps = uint16(feeBps_);
        emit TreasuryUpdated(treasury_);
        emit FeeUpdated(feeBps_);
    }

    // ---------------------------------------------------------------- sales

    /// @inheritdoc IModelMarketplace
    /// @dev Emits {Listed}.
    function list(uint256 tokenId, address currency, uint256 price) external whenNotPaused {
        _checkPrice(price);
        if (currency != address(0)) _checkCurrency(currency);
        (address owner, uint256 n,,, bool approved) = IModelNFT(nft).marketState(tokenId, address(this));
        _checkOwnerAndApproval(tokenId, owner, approved, msg.sender);

        if (currency == address(0)) {
            // Keep the invariant: drop the terms of an ERC-20 listing this one replaces.
            ListingSlot memory prev = _listings[tokenId][n];
            if (prev.seller != address(0) && prev.price == 0) delete _erc20Listings[tokenId][n];
            // Cannot truncate: _checkPrice bounds price by MAX_PRICE.
            // forge-lint: disable-next-line(unsafe-typecast)
            _listings[tokenId][n] = ListingSlot({seller: msg.sender, price: uint96(price)});
        } else {
            _listings[tokenId][n] = ListingSlot({seller: msg.sender, price: 0});
            // forge-lint: disable-next-line(unsafe-typecast)
            _erc20Listings[tokenId][n] = Erc20Listing({currency: currency, price: uint96(price)});
        }
        emit Listed(tokenId, msg.sender, currency, price);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Emits {PriceUpdated}.
    function updatePrice(uint256 tokenId, uint256 price) external whenNotPaused {
        _checkPrice(price);
        uint256 n = _transferCount(tokenId);
        ListingSlot memory l = _listings[tokenId][n];
        if (l.seller == address(0)) revert Marketplace_NotListed(tokenId);
        if (l.seller != msg.sender) revert Marketplace_NotSeller(msg.sender, l.seller);
        // Cannot truncate: _checkPrice bounds price by MAX_PRICE.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (l.price == 0) _erc20Listings[tokenId][n].price = uint96(price);
        // forge-lint: disable-next-line(unsafe-typecast)
        else _listings[tokenId][n].price = uint96(price);
        emit PriceUpdated(tokenId, msg.sender, price);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Allowed while paused. Emits {ListingCancelled}.
    function cancel(uint256 tokenId) external {
        uint256 n = _transferCount(tokenId);
        ListingSlot memory l = _listings[tokenId][n];
        if (l.seller == address(0)) revert Marketplace_NotListed(tokenId);
        if (l.seller != msg.sender) revert Marketplace_NotSeller(msg.sender, l.seller);
        _deleteListing(tokenId, n, l.price);
        emit ListingCancelled(tokenId, l.seller);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Reverts {Marketplace_CurrencyMismatch} / {Marketplace_PriceAboveMax} if the listing
    ///      changed against the buyer's terms, {Marketplace_StaleListing} if the seller no longer
    ///      owns the token and {Marketplace_NotApproved} if it revoked the marketplace. Also removes
    ///      the token's rental listing and settles its ended rental, if any. Emits {Sold},
    ///      {RoyaltyPaid}, and {RentalCancelled} / {RentalSettled} when it removes them.
    function buy(uint256 tokenId, address currency, uint256 maxPrice) external payable nonReentrant whenNotPaused {
        (address owner, uint256 n, address user, uint256 expires, bool approved) =
            IModelNFT(nft).marketState(tokenId, address(this));
        ListingSlot memory l = _listings[tokenId][n];
        if (l.seller == address(0)) revert Marketplace_NotListed(tokenId);
        if (owner != l.seller) revert Marketplace_StaleListing(tokenId, l.seller, owner);
        if (!approved) revert Marketplace_NotApproved(tokenId, owner);
        if (user != address(0)) revert Marketplace_RentalActive(tokenId, user, expires);

        address listed;
        uint256 price = l.price;
        if (price == 0) {
            Erc20Listing memory t = _erc20Listings[tokenId][n];
            listed = t.currency;
            price = t.price;
        }
        if (listed != currency) revert Marketplace_CurrencyMismatch(tokenId, currency, listed);
        if (price > maxPrice) revert Marketplace_PriceAboveMax(tokenId, price, maxPrice);
        if (currency != address(0)) {
            delete _erc20Listings[tokenId][n];
            _checkCurrency(currency);
        }
        delete _listings[tokenId][n];
        _clearRentals(tokenId, n);

        uint256 fee = _settle(tokenId, currency, price, owner);
        _collect(currency, msg.sender, price);
        IERC721(nft).transferFrom(owner, msg.sender, tokenId);
        emit Sold(tokenId, owner, msg.sender, currency, price, fee);
    }

    // ---------------------------------------------------------------- offers

    /// @inheritdoc IModelMarketplace
    /// @dev For ETH send exactly `amount`; for an ERC-20 approve it first. Emits {OfferMade}.
    function makeOffer(uint256 tokenId, address currency, uint256 amount, uint256 expiry)
        external
        payable
        nonReentrant
        whenNotPaused
    {
        _checkPrice(amount);
        // Offer deadlines tolerate a validator's few seconds of timestamp leeway.
        // forge-lint: disable-next-line(block-timestamp)
        if (expiry <= block.timestamp || expiry > type(uint64).max) {
            revert Marketplace_InvalidExpiry(expiry, block.timestamp);
        }
        if (currency != address(0)) _checkCurrency(currency);
        if (IERC721(nft).ownerOf(tokenId) == msg.sender) revert Marketplace_OfferOnOwnToken(tokenId);
        OfferSlot storage o = _offers[tokenId][msg.sender];
        if (o.amount != 0) revert Marketplace_OfferExists(tokenId, msg.sender);

        // Cannot truncate: amount bounded by MAX_PRICE, expiry by type(uint64).max, above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _offers[tokenId][msg.sender] = OfferSlot({amount: uint96(amount), expiry: uint64(expiry)});
        if (currency != address(0)) _offerCurrency[tokenId][msg.sender] = currency;
        _collect(currency, msg.sender, amount);
        emit OfferMade(tokenId, msg.sender, currency, amount, expiry);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Allowed while paused (and after expiry). Emits {OfferCancelled}.
    function cancelOffer(uint256 tokenId) external {
        uint256 amount = _offers[tokenId][msg.sender].amount;
        if (amount == 0) revert Marketplace_NoOffer(tokenId, msg.sender);
        address currency = _takeOffer(tokenId, msg.sender);
        _credit(msg.sender, currency, amount);
        emit OfferCancelled(tokenId, msg.sender);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Caller must own the token and have approved the marketplace. Reverts
    ///      {Marketplace_OfferChanged} if the offer is not in `currency` or is below `minAmount`.
    ///      Removes the token's listing (emitting {ListingCancelled}) and rental listing (emitting
    ///      {RentalCancelled}), and settles its ended rental ({RentalSettled}), if any. Emits
    ///      {OfferAccepted} and {RoyaltyPaid}.
    function acceptOffer(uint256 tokenId, address buyer, address currency, uint256 minAmount)
        external
        nonReentrant
        whenNotPaused
    {
        OfferSlot memory o = _offers[tokenId][buyer];
        if (o.amount == 0) revert Marketplace_NoOffer(tokenId, buyer);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > o.expiry) revert Marketplace_OfferExpired(tokenId, buyer, o.expiry);
        uint256 n = _checkSeller(tokenId);

        address offered = _takeOffer(tokenId, buyer);
        if (offered != currency || o.amount < minAmount) {
            revert Marketplace_OfferChanged(tokenId, buyer, offered, o.amount, currency, minAmount);
        }
        if (currency != address(0)) _checkCurrency(currency);
        ListingSlot memory l = _listings[tokenId][n];
        if (l.seller != address(0)) {
            _deleteListing(tokenId, n, l.price);
            emit ListingCancelled(tokenId, l.seller);
        }
        _clearRentals(tokenId, n);

        uint256 fee = _settle(tokenId, currency, o.amount, msg.sender);
        IERC721(nft).transferFrom(msg.sender, buyer, tokenId);
        emit OfferAccepted(tokenId, msg.sender, buyer, currency, o.amount, fee);
    }

    // ---------------------------------------------------------------- rentals

    /// @inheritdoc IModelMarketplace
    /// @dev Replaces any earlier rental listing of the token. Emits {RentalListed}.
    function listForRent(uint256 tokenId, uint256 pricePerSecond, uint256 maxDuration, address currency)
        external
        whenNotPaused
    {
        if (pricePerSecond == 0) revert Marketplace_ZeroPrice();
        if (pricePerSecond > MAX_PRICE_PER_SECOND) {
            revert Marketplace_PriceTooHigh(pricePerSecond, MAX_PRICE_PER_SECOND);
        }
        if (maxDuration == 0 || maxDuration > MAX_RENTAL_DURATION) {
            revert Marketplace_InvalidDuration(maxDuration, MAX_RENTAL_DURATION);
        }
        if (currency != address(0)) _checkCurrency(currency);
        (address owner, uint256 n,,, bool approved) = IModelNFT(nft).marketState(tokenId, address(this));
        _checkOwnerAndApproval(tokenId, owner, approved, msg.sender);

        // Same currency invariant as for listings.
        if (currency != address(0) || _rentals[tokenId][n].owner != address(0)) _rentalCurrency[tokenId][n] = currency;
        _rentals[tokenId][n] = RentalSlot({
            owner: msg.sender,
            // Cannot truncate: bounded by MAX_PRICE_PER_SECOND and MAX_RENTAL_DURATION above.
            // forge-lint: disable-next-line(unsafe-typecast)
            pricePerSecond: uint72(pricePerSecond),
            // forge-lint: disable-next-line(unsafe-typecast)
            maxDuration: uint24(maxDuration)
        });
        emit RentalListed(tokenId, msg.sender, currency, pricePerSecond, maxDuration);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Allowed while paused. Does not end a rental in progress. Emits {RentalCancelled}.
    function cancelRental(uint256 tokenId) external {
        uint256 n = _transferCount(tokenId);
        address owner = _rentals[tokenId][n].owner;
        if (owner == address(0)) revert Marketplace_NotListedForRent(tokenId);
        if (owner != msg.sender) revert Marketplace_NotSeller(msg.sender, owner);
        _deleteRentalListing(tokenId, n);
        emit RentalCancelled(tokenId, owner);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Cost = pricePerSecond × duration, escrowed here until {settleRental}. The rental
    ///      lasts until block.timestamp + duration (ERC-4907 `expires`, inclusive). The listing
    ///      stays for later renters; the token's previous rental (ended, or cut short by the
    ///      owner) is settled first. Emits {Rented} (its `fee` is 0: the fee is taken at
    ///      settlement), ERC-4907 {UpdateUser}, and {RentalSettled} for the previous rental.
    function rent(uint256 tokenId, uint256 duration, address currency, uint256 maxCost)
        external
        payable
        nonReentrant
        whenNotPaused
    {
        (address owner, RentalSlot memory r) = _checkRentable(tokenId, duration, currency);

        // Cannot overflow: uint72 rate × uint24 duration < 2**96, and timestamp + 180 days < 2**64.
        uint256 cost;
        uint64 expires;
        unchecked {
            cost = uint256(r.pricePerSecond) * duration;
            // forge-lint: disable-next-line(unsafe-typecast)
            expires = uint64(block.timestamp + duration);
        }
        if (cost > maxCost) revert Marketplace_PriceAboveMax(tokenId, cost, maxCost);

        // No active user (checked above), so a previous rental has ended or was cut short.
        if (_escrows[tokenId].renter != address(0)) _settleRental(tokenId, _escrows[tokenId]);
        // Cannot truncate: cost < 2**96, duration <= MAX_RENTAL_DURATION < 2**24 (see above).
        // forge-lint: disable-next-line(unsafe-typecast)
        _escrows[tokenId] = RentalEscrow({
            renter: msg.sender,
            expires: expires,
            // forge-lint: disable-next-line(unsafe-typecast)
            duration: uint24(duration),
            owner: owner,
            // forge-lint: disable-next-line(unsafe-typecast)
            cost: uint96(cost)
        });
        if (currency != address(0)) _escrowCurrency[tokenId] = currency;
        _collect(currency, msg.sender, cost);
        IERC4907(nft).setUser(tokenId, msg.sender, expires);
        emit Rented(tokenId, owner, msg.sender, currency, cost, 0, expires);
    }

    /// @inheritdoc IModelMarketplace
    /// @dev Allowed while paused (it only moves escrow into pull balances). Reverts
    ///      {Marketplace_NoRental} and {Marketplace_RentalInProgress}. Emits {RentalSettled} and
    ///      {RoyaltyPaid}.
    function settleRental(uint256 tokenId) external nonReentrant {
        RentalEscrow memory e = _escrows[tokenId];
        if (e.renter == address(0)) revert Marketplace_NoRental(tokenId);
        // forge-lint: disable-next-line(block-timestamp)
        if (
            block.timestamp <= e.expires && IERC4907(nft).userOf(tokenId) == e.renter
                && IERC4907(nft).userExpires(tokenId) == e.expires
        ) revert Marketplace_RentalInProgress(tokenId, e.renter, e.expires);
        _settleRental(tokenId, e);
    }

    // ---------------------------------------------------------------- balances

    /// @inheritdoc IModelMarketplace
    /// @dev Allowed while paused. Emits {Withdrawn}.
    function withdraw(address currency) external nonReentrant {
        uint256 amount = _owed[msg.sender][currency];
        if (currency == address(0) && msg.sender == _treasury) {
            amount += _ethFees;
            _ethFees = 0;
        }
        if (amount == 0) revert Marketplace_NothingToWithdraw(msg.sender, currency);
        delete _owed[msg.sender][currency];
        emit Withdrawn(msg.sender, currency, amount);
        if (currency == address(0)) {
            (bool ok,) = msg.sender.call{value: amount}("");
            if (!ok) revert Marketplace_EthTransferFailed(msg.sender, amount);
        } else {
            IERC20(currency).safeTransfer(msg.sender, amount);
        }
    }

    /// @inheritdoc IModelMarketplace
    function owed(address account, address currency) external view returns (uint256 amount) {
        amount = _owed[account][currency];
        if (currency == address(0) && account == _treasury) amount += _ethFees;
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IModelMarketplace
    function getListing(uint256 tokenId) external view returns (Listing memory) {
        uint256 n = _transferCount(tokenId);
        ListingSlot memory l = _listings[tokenId][n];
        if (l.seller == address(0) || l.price != 0) {
            return Listing({seller: l.seller, currency: address(0), price: l.price});
        }
        Erc20Listing memory t = _erc20Listings[tokenId][n];
        return Listing({seller: l.seller, currency: t.currency, price: t.price});
    }

    /// @inheritdoc IModelMarketplace
    function getRentalListing(uint256 tokenId) external view returns (RentalListing memory) {
        uint256 n = _transferCount(tokenId);
        RentalSlot memory r = _rentals[tokenId][n];
        return RentalListing({
            owner: r.owner,
            currency: _rentalCurrency[tokenId][n],
            pricePerSecond: r.pricePerSecond,
            maxDuration: r.maxDuration
        });
    }

    /// @inheritdoc IModelMarketplace
    function getOffer(uint256 tokenId, address buyer) external view returns (Offer memory) {
        OfferSlot memory o = _offers[tokenId][buyer];
        return Offer({currency: _offerCurrency[tokenId][buyer], amount: o.amount, expiry: o.expiry});
    }

    /// @inheritdoc IModelMarketplace
    function getRental(uint256 tokenId) external view returns (Rental memory) {
        RentalEscrow memory e = _escrows[tokenId];
        return Rental({
            renter: e.renter,
            owner: e.owner,
            currency: _escrowCurrency[tokenId],
            cost: e.cost,
            start: e.renter == address(0) ? 0 : e.expires - e.duration,
            expires: e.expires
        });
    }

    /// @notice The fee receiver.
    /// @return The treasury address.
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice The protocol fee in basis points.
    /// @return The fee.
    function feeBps() external view returns (uint256) {
        return _feeBps;
    }

    /// @notice Whether `currency` may be used (ETH, address(0), always may).
    /// @param currency The ERC-20 (or 0).
    /// @return Whether it is allowed.
    function isCurrencyAllowed(address currency) external view returns (bool) {
        return currency == address(0) || _allowedCurrency[currency];
    }

    // ---------------------------------------------------------------- admin

    /// @notice Sets the protocol fee.
    /// @dev DEFAULT_ADMIN_ROLE only. Emits {FeeUpdated}.
    /// @param feeBps_ The new fee in basis points (at most {MAX_FEE_BPS}).
    function setFee(uint256 feeBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (feeBps_ > MAX_FEE_BPS) revert Marketplace_FeeTooHigh(feeBps_, MAX_FEE_BPS);
        // Cannot truncate: checked against MAX_FEE_BPS above.
        // forge-lint: disable-next-line(unsafe-typecast)
        _feeBps = uint16(feeBps_);
        emit FeeUpdated(feeBps_);
    }

    /// @notice Sets the fee receiver. Fees already credited stay with the old treasury.
    /// @dev DEFAULT_ADMIN_ROLE only. Emits {TreasuryUpdated}.
    /// @param treasury_ The new treasury (non-zero).
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert Marketplace_ZeroAddress();
        _flushEthFees();
        _treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /// @notice Allows or disallows an ERC-20 as a currency. Disallowing freezes sales, offer
    ///         acceptances and rentals in it; escrow refunds and withdrawals still work.
    /// @dev DEFAULT_ADMIN_ROLE only. Emits {CurrencyAllowed}.
    /// @param currency The ERC-20 (non-zero: ETH is always allowed).
    /// @param allowed  Whether it may be used.
    function setCurrencyAllowed(address currency, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (currency == address(0)) revert Marketplace_ZeroAddress();
        _allowedCurrency[currency] = allowed;
        emit CurrencyAllowed(currency, allowed);
    }

    /// @notice Stops listing, buying, offering, accepting and renting; cancels and withdrawals go on.
    /// @dev GUARDIAN_ROLE only. Emits {Paused}.
    function pause() external onlyRole(GUARDIAN_ROLE) {
        _pause();
    }

    /// @notice Lifts {pause}.
    /// @dev GUARDIAN_ROLE only. Emits {Unpaused}.
    function unpause() external onlyRole(GUARDIAN_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------- internals

    /// @dev Credits royalties, the fee and the payee's remainder of `amount`; returns the fee.
    function _settle(uint256 tokenId, address currency, uint256 amount, address payee) private returns (uint256 fee) {
        (address[] memory receivers, uint256[] memory amounts) = IModelNFT(nft).royaltySplit(tokenId, amount);
        uint256 paid;
        for (uint256 i; i < receivers.length; ++i) {
            uint256 a = amounts[i];
            paid += a;
            _credit(receivers[i], currency, a);
            emit RoyaltyPaid(tokenId, receivers[i], currency, a);
        }
        // Cannot overflow: fee bps <= MAX_FEE_BPS and amount <= 2**96 (uint96 price, or uint72 rate × uint24 duration).
        unchecked {
            fee = amount * _feeBps / BPS;
        }
        if (fee != 0) {
            paid += fee;
            if (currency == address(0)) _accrueEthFee(fee);
            else _credit(_treasury, currency, fee);
        }
        if (paid > amount) revert Marketplace_RoyaltyExceedsPrice(paid, amount);
        // Cannot underflow: checked just above.
        unchecked {
            if (amount != paid) _credit(payee, currency, amount - paid);
        }
    }

    /// @dev Takes `amount` of `currency` from `payer` (for ETH: checks msg.value).
    function _collect(address currency, address payer, uint256 amount) private {
        if (currency == address(0)) {
            if (msg.value != amount) revert Marketplace_WrongPayment(msg.value, amount);
        } else {
            if (msg.value != 0) revert Marketplace_WrongPayment(msg.value, 0);
            IERC20(currency).safeTransferFrom(payer, address(this), amount);
        }
    }

    /// @dev Adds an ETH fee to the packed `_ethFees`, first moving it to `_owed` if it would overflow.
    function _accrueEthFee(uint256 fee) private {
        uint256 total = _ethFees + fee;
        if (total > type(uint72).max) {
            _owed[_treasury][address(0)] += total;
            _ethFees = 0;
        } else {
            // Cannot truncate: checked just above.
            // forge-lint: disable-next-line(unsafe-typecast)
            _ethFees = uint72(total);
        }
    }

    /// @dev Moves the packed ETH fees into the current treasury's `_owed` balance.
    function _flushEthFees() private {
        uint256 fees = _ethFees;
        if (fees != 0) {
            _ethFees = 0;
            _owed[_treasury][address(0)] += fees;
        }
    }

    function _credit(address account, address currency, uint256 amount) private {
        _owed[account][currency] += amount;
    }

    /// @dev Deletes `buyer`'s offer on `tokenId` and returns its currency.
    function _takeOffer(uint256 tokenId, address buyer) private returns (address currency) {
        delete _offers[tokenId][buyer];
        currency = _offerCurrency[tokenId][buyer];
        if (currency != address(0)) delete _offerCurrency[tokenId][buyer];
    }

    /// @dev `price` is the listing slot's (0 for a listing in an ERC-20).
    function _deleteListing(uint256 tokenId, uint256 n, uint256 price) private {
        delete _listings[tokenId][n];
        if (price == 0) delete _erc20Listings[tokenId][n];
    }

    function _deleteRentalListing(uint256 tokenId, uint256 n) private {
        delete _rentals[tokenId][n];
        if (_rentalCurrency[tokenId][n] != address(0)) delete _rentalCurrency[tokenId][n];
    }

    /// @dev Before the token leaves its owner through a sale: removes its rental listing (which
    ///      the transfer would leave out of reach anyway) and settles its rental, which has ended
    ///      or was cut short since the caller checked that the token has no active user.
    function _clearRentals(uint256 tokenId, uint256 n) private {
        address rentalOwner = _rentals[tokenId][n].owner;
        if (rentalOwner != address(0)) {
            _deleteRentalListing(tokenId, n);
            emit RentalCancelled(tokenId, rentalOwner);
        }
        // Reads the escrow's second slot only when there is a rental to settle.
        if (_escrows[tokenId].renter != address(0)) _settleRental(tokenId, _escrows[tokenId]);
    }

    /// @dev Pays out the escrowed rental `e` of `tokenId` and deletes it. The renter gets back the
    ///      unused seconds, cost × (expires − now) / duration, rounded up (exact in practice:
    ///      cost = rate × duration); the used rest is split like a sale and its owner's share goes
    ///      to the owner who listed it.
    function _settleRental(uint256 tokenId, RentalEscrow memory e) private {
        address currency = _escrowCurrency[tokenId];
        if (currency != address(0)) delete _escrowCurrency[tokenId];
        delete _escrows[tokenId];

        uint256 cost = e.cost;
        uint256 refund;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < e.expires) {
            // Cannot overflow: cost < 2**96, remaining <= duration < 2**24; duration >= 1. The
            // result is <= cost since remaining <= duration.
            unchecked {
                uint256 remaining = e.expires - block.timestamp;
                refund = (cost * remaining + e.duration - 1) / e.duration;
            }
            _credit(e.renter, currency, refund);
        }
        uint256 fee;
        // Cannot underflow: refund <= cost (see above).
        unchecked {
            uint256 used = cost - refund;
            if (used != 0) fee = _settle(tokenId, currency, used, e.owner);
            emit RentalSettled(tokenId, e.owner, e.renter, currency, used, refund, fee);
        }
    }

    function _transferCount(uint256 tokenId) private view returns (uint256) {
        return IModelNFT(nft).transferCount(tokenId);
    }

    function _checkPrice(uint256 price) private pure {
        if (price == 0) revert Marketplace_ZeroPrice();
        if (price > MAX_PRICE) revert Marketplace_PriceTooHigh(price, MAX_PRICE);
    }

    function _checkCurrency(address currency) private view {
        if (!_allowedCurrency[currency]) revert Marketplace_CurrencyNotAllowed(currency);
    }

    /// @dev For {rent}: checks the token's rental listing against `duration` and `currency`, that
    ///      its lister still owns it, the marketplace may transfer it and it has no active user;
    ///      returns its owner and rental listing.
    function _checkRentable(uint256 tokenId, uint256 duration, address currency)
        private
        view
        returns (address owner, RentalSlot memory r)
    {
        (address o, uint256 n, address user, uint256 userExpires, bool approved) =
            IModelNFT(nft).marketState(tokenId, address(this));
        owner = o;
        r = _rentals[tokenId][n];
        if (r.owner == address(0)) revert Marketplace_NotListedForRent(tokenId);
        if (duration == 0 || duration > r.maxDuration) revert Marketplace_InvalidDuration(duration, r.maxDuration);
        if (owner != r.owner) revert Marketplace_StaleListing(tokenId, r.owner, owner);
        if (!approved) revert Marketplace_NotApproved(tokenId, owner);
        if (user != address(0)) revert Marketplace_RentalActive(tokenId, user, userExpires);
        address listed = _rentalCurrency[tokenId][n];
        if (listed != currency) revert Marketplace_CurrencyMismatch(tokenId, currency, listed);
        if (currency != address(0)) _checkCurrency(currency);
    }

    /// @dev For {acceptOffer}: checks that the caller owns `tokenId`, the marketplace may
    ///      transfer it and it has no active user; returns its transfer count.
    function _checkSeller(uint256 tokenId) private view returns (uint256 n) {
        address owner;
        address user;
        uint256 expires;
        bool approved;
        (owner, n, user, expires, approved) = IModelNFT(nft).marketState(tokenId, address(this));
        _checkOwnerAndApproval(tokenId, owner, approved, msg.sender);
        if (user != address(0)) revert Marketplace_RentalActive(tokenId, user, expires);
    }

    /// @dev Checks the result of `IModelNFT.marketState`: the token exists (else the
    ///      ERC-721 `ownerOf` error), `caller` owns it and the marketplace may transfer it.
    function _checkOwnerAndApproval(uint256 tokenId, address owner, bool approved, address caller) private pure {
        if (owner == address(0)) revert IERC721Errors.ERC721NonexistentToken(tokenId);
        if (owner != caller) revert Marketplace_NotTokenOwner(caller, owner);
        if (!approved) revert Marketplace_NotApproved(tokenId, owner);
    }
}
