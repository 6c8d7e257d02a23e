// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IModelMarketplace
/// @notice Fixed-price sales, escrowed offers and ERC-4907 rentals of ModelNFT tokens, in ETH
///         (currency address(0)) or in an allow-listed ERC-20. Every payment pays the token's
///         royalties (ERC-2981 receiver + lineage shares, from `IModelNFT.royaltySplit`) and a
///         protocol fee; every payout is credited to a pull balance, taken with {withdraw}.
interface IModelMarketplace {
    // ---------------------------------------------------------------- views' types

    /// @notice A fixed-price listing (seller 0: none).
    struct Listing {
        address seller;
        address currency;
        uint256 price;
    }

    /// @notice A rental listing (owner 0: none). Cost of a rental = pricePerSecond × duration.
    struct RentalListing {
        address owner;
        address currency;
        uint256 pricePerSecond;
        uint256 maxDuration;
    }

    /// @notice A rental in progress or ended but not yet settled (renter 0: none). `cost` is
    ///         escrowed in the marketplace until {settleRental}; `owner` listed the rental and gets
    ///         the owner's share of the used part. The renter is the ERC-4907 user for
    ///         [start, expires] (inclusive) unless the owner cuts the rental short.
    struct Rental {
        address renter;
        address owner;
        address currency;
        uint256 cost;
        uint256 start;
        uint256 expires;
    }

    /// @notice An escrowed offer (amount 0: none). Valid while block.timestamp <= expiry.
    struct Offer {
        address currency;
        uint256 amount;
        uint256 expiry;
    }

    // ---------------------------------------------------------------- events

    /// @notice `seller` listed `tokenId` at `price` in `currency` (replaces any earlier listing).
    event Listed(uint256 indexed tokenId, address indexed seller, address currency, uint256 price);
    /// @notice The seller changed the price of the listing of `tokenId`.
    event PriceUpdated(uint256 indexed tokenId, address indexed seller, uint256 price);
    /// @notice The listing of `tokenId` was removed: by its seller, or because an offer on the
    ///         token was accepted.
    event ListingCancelled(uint256 indexed tokenId, address indexed seller);
    /// @notice `tokenId` was bought from its listing. `fee` went to the treasury; the royalties
    ///         are in the {RoyaltyPaid} events of the same call; the seller got the rest.
    event Sold(
        uint256 indexed tokenId,
        address indexed seller,
        address indexed buyer,
        address currency,
        uint256 price,
        uint256 fee
    );
    /// @notice `buyer` escrowed an offer of `amount` `currency` for `tokenId`.
    event OfferMade(uint256 indexed tokenId, address indexed buyer, address currency, uint256 amount, uint256 expiry);
    /// @notice `buyer` withdrew the offer on `tokenId`; its escrow was credited back to `buyer`.
    event OfferCancelled(uint256 indexed tokenId, address indexed buyer);
    /// @notice `seller` accepted `buyer`'s offer on `tokenId` (fee and royalties as in {Sold}).
    event OfferAccepted(
        uint256 indexed tokenId,
        address indexed seller,
        address indexed buyer,
        address currency,
        uint256 amount,
        uint256 fee
    );
    /// @notice `owner` offered `tokenId` for rent.
    event RentalListed(
        uint256 indexed tokenId, address indexed owner, address currency, uint256 pricePerSecond, uint256 maxDuration
    );
    /// @notice The rental listing of `tokenId` was removed: by its owner, or because the token
    ///         was sold ({buy} or {acceptOffer}).
    event RentalCancelled(uint256 indexed tokenId, address indexed owner);
    /// @notice `renter` rented `tokenId` from `owner` until `expires` (ERC-4907 user) for `cost`,
    ///         now escrowed until {RentalSettled}. `fee` is always 0 (kept for the event's
    ///         signature): the fee is taken at settlement, on the used part.
    event Rented(
        uint256 indexed tokenId,
        address indexed owner,
        address indexed renter,
        address currency,
        uint256 cost,
        uint256 fee,
        uint64 expires
    );
    /// @notice The escrowed rental of `tokenId` was settled: `paid` (the used part) was split
    ///         into royalties ({RoyaltyPaid}), `fee` and the rest to `owner`; `refunded` (the
    ///         unused part of a rental cut short) was credited back to `renter`.
    event RentalSettled(
        uint256 indexed tokenId,
        address indexed owner,
        address indexed renter,
        address currency,
        uint256 paid,
        uint256 refunded,
        uint256 fee
    );
    /// @notice A royalty of `amount` on a payment for `tokenId` was credited to `receiver`.
    event RoyaltyPaid(uint256 indexed tokenId, address indexed receiver, address currency, uint256 amount);
    /// @notice `account` withdrew its pull balance of `currency`.
    event Withdrawn(address indexed account, address indexed currency, uint256 amount);
    /// @notice The protocol fee changed.
    event FeeUpdated(uint256 feeBps);
    /// @notice The fee receiver changed.
    event TreasuryUpdated(address indexed treasury);
    /// @notice An ERC-20 was allowed or disallowed as a currency.
    event CurrencyAllowed(address indexed currency, bool allowed);

    // ---------------------------------------------------------------- errors

    /// @notice A price, offer or rental rate is zero.
    error Marketplace_ZeroPrice();
    /// @notice A price, offer or rental rate does not fit in 96 bits.
    error Marketplace_PriceTooHigh(uint256 price, uint256 max);
    /// @notice The ERC-20 is not allow-listed.
    error Marketplace_CurrencyNotAllowed(address currency);
    /// @notice The caller does not own the token.
    error Marketplace_NotTokenOwner(address caller, address owner);
    /// @notice The marketplace is not approved for the token by its owner.
    error Marketplace_NotApproved(uint256 tokenId, address owner);
    /// @notice The token is not listed for sale.
    error Marketplace_NotListed(uint256 tokenId);
    /// @notice The caller is not the seller of the listing.
    error Marketplace_NotSeller(address caller, address seller);
    /// @notice The listing's seller no longer owns the token. (A listing whose token was
    ///         transferred since, even back to its seller, is out of reach: {Marketplace_NotListed}.)
    error Marketplace_StaleListing(uint256 tokenId, address seller, address owner);
    /// @notice The value sent is not what the payment requires.
    error Marketplace_WrongPayment(uint256 sent, uint256 required);
    /// @notice The token has an active ERC-4907 user (rented): no sale or new rental until it expires.
    error Marketplace_RentalActive(uint256 tokenId, address user, uint256 expires);
    /// @notice The token's royalties plus the protocol fee would exceed the price.
    error Marketplace_RoyaltyExceedsPrice(uint256 royaltiesAndFee, uint256 price);
    /// @notice An offer's expiry is not in the future (or does not fit in 64 bits).
    error Marketplace_InvalidExpiry(uint256 expiry, uint256 now_);
    /// @notice The owner may not make an offer on its own token.
    error Marketplace_OfferOnOwnToken(uint256 tokenId);
    /// @notice The buyer already has an open offer on the token (cancel it first).
    error Marketplace_OfferExists(uint256 tokenId, address buyer);
    /// @notice There is no offer from `buyer` on the token.
    error Marketplace_NoOffer(uint256 tokenId, address buyer);
    /// @notice The offer expired.
    error Marketplace_OfferExpired(uint256 tokenId, address buyer, uint256 expiry);
    /// @notice The token is not listed for rent.
    error Marketplace_NotListedForRent(uint256 tokenId);
    /// @notice The rental duration is zero or above the listing's (or the global) maximum.
    error Marketplace_InvalidDuration(uint256 duration, uint256 max);
    /// @notice The listing's (or offer's) currency is not the one the caller agreed to.
    error Marketplace_CurrencyMismatch(uint256 tokenId, address expected, address actual);
    /// @notice The listing's price (or the rental's cost) is above the caller's maximum.
    error Marketplace_PriceAboveMax(uint256 tokenId, uint256 price, uint256 maxPrice);
    /// @notice `buyer`'s offer is no longer the one the seller agreed to: other currency or less.
    error Marketplace_OfferChanged(
        uint256 tokenId, address buyer, address currency, uint256 amount, address expectedCurrency, uint256 minAmount
    );
    /// @notice The token has no escrowed rental to settle.
    error Marketplace_NoRental(uint256 tokenId);
    /// @notice The rental is still running as agreed (not expired, not cut short): too early to settle.
    error Marketplace_RentalInProgress(uint256 tokenId, address renter, uint256 expires);
    /// @notice Nothing to withdraw.
    error Marketplace_NothingToWithdraw(address account, address currency);
    /// @notice Sending ETH failed.
    error Marketplace_EthTransferFailed(address to, uint256 amount);
    /// @notice The fee is above the cap.
    error Marketplace_FeeTooHigh(uint256 feeBps, uint256 max);
    /// @notice An address argument is zero.
    error Marketplace_ZeroAddress();

    // ---------------------------------------------------------------- sales

    /// @notice Lists `tokenId` for sale at `price` in `currency` (0 = ETH). The caller must own the
    ///         token and have approved the marketplace. Replaces any earlier listing of the token.
    /// @param tokenId  The token.
    /// @param currency address(0) for ETH, else an allow-listed ERC-20.
    /// @param price    The price (1 ..= type(uint96).max).
    function list(uint256 tokenId, address currency, uint256 price) external;

    /// @notice Changes the price of the caller's listing of `tokenId`.
    /// @param tokenId The token.
    /// @param price   The new price (1 ..= type(uint96).max).
    function updatePrice(uint256 tokenId, uint256 price) external;

    /// @notice Removes the caller's listing of `tokenId`.
    /// @param tokenId The token.
    function cancel(uint256 tokenId) external;

    /// @notice Buys `tokenId` at its listed price, provided the listing is still in `currency` and
    ///         its price is at most `maxPrice` (the seller may change the listing until the purchase
    ///         is mined). For ETH send exactly the price; for an ERC-20 approve it.
    /// @param tokenId  The token.
    /// @param currency The currency the buyer expects (address(0) for ETH).
    /// @param maxPrice The highest price the buyer accepts.
    function buy(uint256 tokenId, address currency, uint256 maxPrice) external payable;

    // ---------------------------------------------------------------- offers

    /// @notice Escrows an offer of `amount` `currency` for `tokenId`, valid until `expiry`. One
    ///         open offer per buyer and token.
    /// @param tokenId  The token.
    /// @param currency address(0) for ETH (send exactly `amount`), else an allow-listed ERC-20.
    /// @param amount   The offer (1 ..= type(uint96).max).
    /// @param expiry   Last second (inclusive) at which the offer can be accepted; in the future.
    function makeOffer(uint256 tokenId, address currency, uint256 amount, uint256 expiry) external payable;

    /// @notice Withdraws the caller's offer on `tokenId`; the escrow is credited to its pull balance.
    /// @param tokenId The token.
    function cancelOffer(uint256 tokenId) external;

    /// @notice The token owner sells `tokenId` to `buyer` for `buyer`'s escrowed offer, provided the
    ///         offer is still in `currency` and at least `minAmount` (the buyer may replace its
    ///         offer until the acceptance is mined).
    /// @param tokenId   The token.
    /// @param buyer     Whose offer is accepted.
    /// @param currency  The offer's currency the seller expects (address(0) for ETH).
    /// @param minAmount The lowest amount the seller accepts.
    function acceptOffer(uint256 tokenId, address buyer, address currency, uint256 minAmount) external;

    // ---------------------------------------------------------------- rentals

    /// @notice Offers `tokenId` for rent at `pricePerSecond` in `currency`, for at most `maxDuration`
    ///         seconds per rental. Replaces any earlier rental listing of the token.
    /// @param tokenId        The token.
    /// @param pricePerSecond Rate (1 ..= type(uint72).max).
    /// @param maxDuration    Longest rental, in seconds (1 ..= MAX_RENTAL_DURATION).
    /// @param currency       address(0) for ETH, else an allow-listed ERC-20.
    function listForRent(uint256 tokenId, uint256 pricePerSecond, uint256 maxDuration, address currency) external;

    /// @notice Removes the caller's rental listing of `tokenId`.
    /// @param tokenId The token.
    function cancelRental(uint256 tokenId) external;

    /// @notice Rents `tokenId` for `duration` seconds: the caller becomes its ERC-4907 user. The cost,
    ///         pricePerSecond × duration, is escrowed until {settleRental}. Reverts if the rental
    ///         listing is not in `currency` or the cost is above `maxCost`. For ETH send exactly
    ///         the cost; for an ERC-20 approve it.
    /// @param tokenId  The token.
    /// @param duration Seconds (1 ..= the listing's maxDuration).
    /// @param currency The currency the renter expects (address(0) for ETH).
    /// @param maxCost  The highest cost the renter accepts.
    function rent(uint256 tokenId, uint256 duration, address currency, uint256 maxCost) external payable;

    /// @notice Pays out the escrowed rental of `tokenId`; anyone may call. After it expired: the
    ///         whole cost is split (royalties, fee, the rest to the owner who listed it). Earlier,
    ///         only if the owner cut it short (the token's ERC-4907 user or expiry is no longer the
    ///         renter's, e.g. by `setUser` or a transfer): the renter is credited the unused
    ///         seconds pro rata, cost × (expires − now) / duration, rounded up, and only the rest
    ///         is split. All payouts go to pull balances.
    /// @param tokenId The token.
    function settleRental(uint256 tokenId) external;

    // ---------------------------------------------------------------- balances

    /// @notice Sends the caller its whole pull balance of `currency`.
    /// @param currency address(0) for ETH, else the ERC-20.
    function withdraw(address currency) external;

    /// @notice What `account` may withdraw in `currency`.
    /// @param account  The account.
    /// @param currency address(0) for ETH, else the ERC-20.
    /// @return amount The pull balance.
    function owed(address account, address currency) external view returns (uint256 amount);

    // ---------------------------------------------------------------- views

    /// @notice The listing of `tokenId` made since its last transfer (seller 0: none). May be
    ///         stale only if the seller revoked the marketplace's approval (see {buy}).
    /// @param tokenId The token.
    /// @return listing The listing.
    function getListing(uint256 tokenId) external view returns (Listing memory listing);

    /// @notice The rental listing of `tokenId` (owner 0: none).
    /// @param tokenId The token.
    /// @return listing The rental listing.
    function getRentalListing(uint256 tokenId) external view returns (RentalListing memory listing);

    /// @notice The escrowed rental of `tokenId` (renter 0: none).
    /// @param tokenId The token.
    /// @return rental The rental.
    function getRental(uint256 tokenId) external view returns (Rental memory rental);

    /// @notice `buyer`'s offer on `tokenId` (amount 0: none).
    /// @param tokenId The token.
    /// @param buyer   The buyer.
    /// @return offer The offer.
    function getOffer(uint256 tokenId, address buyer) external view returns (Offer memory offer);
}
