// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelNFT} from "./IModelNFT.sol";

/// @title IInferenceMarket
/// @notice A market for paid inference on Temporis models (ModelNFT tokens), settled in ETH.
///         Providers stake; a consumer escrows N × maxPrice for N inferences of one model;
///         providers bid a price per inference; the agreed provider records each inference as
///         (requestHash, resultHash) (payloads live in DA); each recorded inference is paid out of
///         escrow once its dispute window has passed without a dispute (royalties to the model's
///         owners, a protocol fee to the treasury, the rest to the provider), and the consumer may
///         dispute an inference inside its window, which the arbiter resolves.
/// @dev Money never leaves by push except `withdraw` and `withdrawStake` (to the caller):
///      every other movement credits a pull balance. At all times
///      `address(this).balance == Σ escrowOf(request) + Σ stake + Σ owed + pendingDisputes × DISPUTE_BOND`.
///      The arbiter is one address read at resolution time: replacing the owner-appointed arbiter by
///      a dispute-game contract is `setArbiter(game)`, with no storage migration (see the spec).
interface IInferenceMarket {
    // ------------------------------------------------------------------ types

    /// @notice Where a request stands.
    enum RequestStatus {
        /// No such request.
        None,
        /// Open for bids; escrow is N × maxPrice.
        Open,
        /// A provider and a price are agreed; the provider records inferences.
        Agreed,
        /// No more inferences can be recorded (N recorded, or closed early); payments and
        /// disputes of the recorded ones may still be pending.
        Completed,
        /// Cancelled before any agreement; escrow refunded.
        Cancelled
    }

    /// @notice Where a recorded inference stands.
    enum InferenceState {
        /// Recorded, not disputed (payable once its dispute window has passed).
        Recorded,
        /// Disputed, awaiting the arbiter.
        Disputed,
        /// Dispute resolved (paid to the provider or refunded to the consumer).
        Resolved
    }

    /// @notice Where a dispute stands.
    enum DisputeStatus {
        None,
        Pending,
        ProviderAtFault,
        ProviderNotAtFault
    }

    /// @notice Deployment parameters.
    struct Config {
        /// The ModelNFT contract (IModelNFT + ERC-721); fixed for the contract's life.
        address modelNFT;
        /// Sets arbiter, treasury, guardian and protocol fee; two-step transferable.
        address admin;
        /// Resolves disputes; later the dispute-game contract.
        address arbiter;
        /// May pause and unpause opening requests and bidding.
        address guardian;
        /// Receives protocol fees and the treasury part of slashes (pull balance).
        address treasury;
        /// Minimum stake (wei) to register and to stay an active provider.
        uint96 minStake;
        /// Seconds between `requestUnstake` and `withdrawStake`.
        uint32 unstakeDelay;
        /// Seconds after an inference's record during which the consumer may dispute it.
        uint32 disputeWindow;
        /// Protocol fee in basis points of each payment (≤ MAX_PROTOCOL_FEE_BPS); admin can change it,
        /// each request keeps the fee in force when it was opened.
        uint16 protocolFeeBps;
        /// Share of the provider's current stake slashed when the arbiter finds it at fault (bps).
        uint16 slashBps;
        /// ETH the consumer posts with each dispute (0 disables): back to the consumer if the
        /// provider is at fault, to the provider otherwise.
        uint96 disputeBond;
    }

    /// @notice A request and, once agreed, its agreement. Three storage slots.
    struct Request {
        // slot 0
        address consumer;
        RequestStatus status;
        uint40 biddingDeadline;
        /// Number of inferences N; lowered to `recorded` when the agreement is closed early.
        uint32 inferences;
        /// Protocol fee (bps) in force when the request was opened.
        uint16 feeBps;
        // slot 1
        uint96 maxPrice;
        uint64 tokenId;
        /// Inferences recorded so far (the next inference index).
        uint32 recorded;
        /// Next inference index `release` examines.
        uint32 cursor;
        /// Inferences whose payment has left escrow (released, or dispute resolved).
        uint32 paid;
        // slot 2
        /// While Open: the best bidder (lowest price, earliest on ties). Afterwards: the provider.
        address provider;
        /// While Open: the best bid. Afterwards: the agreed price per inference.
        uint96 price;
    }

    /// @notice A provider's stake and standing. One storage slot.
    struct Provider {
        uint96 stake;
        /// When `requestUnstake` was called; 0 if not.
        uint40 unstakeRequestedAt;
        /// Agreements not yet finalized (recording possible, or payments/disputes pending).
        uint32 activeAgreements;
        bool registered;
    }

    /// @notice A dispute about one recorded inference. One storage slot.
    struct Dispute {
        uint64 requestId;
        uint32 index;
        uint40 raisedAt;
        DisputeStatus status;
    }

    /// @notice Aggregate ratings received by an address (average = sum / count).
    struct Reputation {
        uint128 count;
        uint128 sum;
    }

    /// @notice Everything a resolver (the arbiter today, a dispute game later) needs about a dispute.
    struct DisputeContext {
        uint256 requestId;
        uint256 index;
        DisputeStatus status;
        uint40 raisedAt;
        uint256 tokenId;
        address consumer;
        address provider;
        uint256 price;
        uint40 recordedAt;
        /// The first 26 bytes of keccak256(abi.encodePacked(requestHash, resultHash)).
        bytes26 commitment;
    }

    // ------------------------------------------------------------------ events

    event ProviderRegistered(address indexed provider, uint256 stake);
    event StakeAdded(address indexed provider, uint256 amount, uint256 newStake);
    event UnstakeRequested(address indexed provider, uint256 availableAt);
    event StakeWithdrawn(address indexed provider, uint256 amount);

    event RequestOpened(
        uint256 indexed requestId,
        address indexed consumer,
        uint256 indexed tokenId,
        uint256 inferences,
        uint256 maxPrice,
        uint256 biddingDeadline
    );
    event BidPlaced(uint256 indexed requestId, address indexed provider, uint256 price);
    /// @param settled True when reached by `settle` (lowest bid), false by `acceptBid`.
    /// @param refund  N × (maxPrice − price), credited to the consumer.
    event AgreementReached(
        uint256 indexed requestId, address indexed provider, uint256 price, uint256 refund, bool settled
    );
    event RequestCancelled(uint256 indexed requestId, uint256 refund);

    event InferenceRecorded(uint256 indexed requestId, uint256 indexed index, bytes32 requestHash, bytes32 resultHash);
    /// @notice All N inferences are recorded.
    event AgreementCompleted(uint256 indexed requestId);
    /// @notice Closed early by `closedBy`; `refund` (unrecorded inferences) credited to the consumer.
    event RequestClosed(uint256 indexed requestId, address indexed closedBy, uint256 recorded, uint256 refund);
    /// @notice Every recorded inference is paid or resolved: the provider's stake is free of it.
    event AgreementFinalized(uint256 indexed requestId);

    /// @notice `count` undisputed inferences, up to index `cursor` (exclusive), paid out of escrow.
    event InferencesReleased(uint256 indexed requestId, uint256 count, uint256 cursor);
    /// @notice A payment of `gross` split into royalties, protocol fee and the provider's part.
    event PaymentDistributed(
        uint256 indexed requestId,
        address indexed provider,
        uint256 gross,
        uint256 toProvider,
        uint256 royalties,
        uint256 fee
    );
    event RoyaltyCredited(uint256 indexed requestId, address indexed receiver, uint256 amount);

    event DisputeRaised(
        uint256 indexed disputeId, uint256 indexed requestId, uint256 indexed index, address consumer, bytes32 reason
    );
    /// @param slashed    Taken from the provider's stake (0 if not at fault).
    /// @param toConsumer Credited to the consumer: refund of the inference + half the slash + bond.
    event DisputeResolved(
        uint256 indexed disputeId, bool providerAtFault, uint256 slashed, uint256 toConsumer, address resolvedBy
    );

    event Rated(uint256 indexed requestId, address indexed rater, address indexed ratee, uint8 score);
    event Withdrawn(address indexed account, uint256 amount);

    event AdminTransferStarted(address indexed currentAdmin, address indexed pendingAdmin);
    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event ArbiterSet(address indexed previousArbiter, address indexed newArbiter);
    event GuardianSet(address indexed previousGuardian, address indexed newGuardian);
    event TreasurySet(address indexed previousTreasury, address indexed newTreasury);
    event ProtocolFeeSet(uint256 previousBps, uint256 newBps);

    // ------------------------------------------------------------------ errors

    error InferenceMarket_ZeroAddress();
    error InferenceMarket_FeeTooHigh(uint256 bps, uint256 max);
    error InferenceMarket_InvalidBps(uint256 bps);
    error InferenceMarket_ZeroDuration();
    error InferenceMarket_ZeroMinStake();
    error InferenceMarket_NotAdmin(address caller);
    error InferenceMarket_NotPendingAdmin(address caller);
    error InferenceMarket_NotGuardian(address caller);
    error InferenceMarket_NotArbiter(address caller);
    error InferenceMarket_NotConsumer(address caller, address consumer);
    error InferenceMarket_NotProvider(address caller, address provider);
    error InferenceMarket_NotParticipant(address caller);
    error InferenceMarket_Paused();
    error InferenceMarket_NotPaused();
    error InferenceMarket_AlreadyRegistered(address provider);
    error InferenceMarket_NotRegistered(address provider);
    error InferenceMarket_StakeTooLow(uint256 provided, uint256 required);
    error InferenceMarket_ZeroValue();
    error InferenceMarket_AmountTooLarge(uint256 amount);
    error InferenceMarket_UnstakeAlreadyRequested(address provider);
    error InferenceMarket_UnstakeNotRequested(address provider);
    error InferenceMarket_UnstakeDelayNotElapsed(uint256 availableAt);
    error InferenceMarket_HasActiveAgreements(uint256 count);
    error InferenceMarket_UnknownModel(uint256 tokenId);
    error InferenceMarket_InvalidInferenceCount(uint256 inferences);
    error InferenceMarket_InvalidPrice(uint256 price);
    error InferenceMarket_InvalidDeadline(uint256 deadline);
    error InferenceMarket_WrongPayment(uint256 sent, uint256 required);
    error InferenceMarket_WrongStatus(uint256 requestId, RequestStatus status);
    error InferenceMarket_BiddingClosed(uint256 deadline);
    error InferenceMarket_BiddingOpen(uint256 deadline);
    error InferenceMarket_ProviderNotActive(address provider);
    error InferenceMarket_SelfDealing(address account);
    error InferenceMarket_BidTooHigh(uint256 price, uint256 maxPrice);
    error InferenceMarket_BidNotLower(uint256 price, uint256 current);
    error InferenceMarket_NoBid(uint256 requestId, address provider);
    error InferenceMarket_NoBids(uint256 requestId);
    error InferenceMarket_HasBids(uint256 requestId, address bestBidder);
    error InferenceMarket_ZeroHash();
    error InferenceMarket_ZeroCount();
    error InferenceMarket_NothingToRelease(uint256 requestId);
    error InferenceMarket_UnknownInference(uint256 requestId, uint256 index);
    error InferenceMarket_AlreadyDisputed(uint256 requestId, uint256 index);
    error InferenceMarket_DisputeWindowClosed(uint256 closedAt);
    error InferenceMarket_DisputeNotPending(uint256 disputeId);
    error InferenceMarket_InvalidScore(uint8 score);
    error InferenceMarket_AlreadyRated(uint256 requestId, address rater);
    error InferenceMarket_NothingToWithdraw(address account);
    error InferenceMarket_TransferFailed(address to, uint256 amount);

    // ------------------------------------------------------------------ providers

    /// @notice Registers the caller as a provider with `msg.value` as stake (≥ MIN_STAKE).
    /// @dev Emits {ProviderRegistered}.
    function registerProvider() external payable;

    /// @notice Adds `msg.value` to the caller's stake (e.g. to get back above MIN_STAKE after a slash).
    ///         Does not cancel a pending unstake.
    /// @dev Emits {StakeAdded}.
    function addStake() external payable;

    /// @notice Starts the unstake delay. From now on the caller can neither bid nor be accepted;
    ///         its running agreements continue and its stake stays slashable until withdrawn.
    /// @dev Emits {UnstakeRequested}.
    function requestUnstake() external;

    /// @notice Sends the caller its whole stake once UNSTAKE_DELAY has passed since `requestUnstake`
    ///         and it has no unfinalized agreement; the caller is deregistered.
    /// @dev Emits {StakeWithdrawn}.
    function withdrawStake() external;

    // ------------------------------------------------------------------ requests and bids

    /// @notice Opens a request for `inferences` inferences of model `tokenId` at no more than
    ///         `maxPrice` wei each, bids accepted until `biddingDeadline` (inclusive).
    ///         `msg.value` must be exactly inferences × maxPrice (the escrow).
    /// @param tokenId         The ModelNFT token (must exist).
    /// @param inferences      N, 1 ≤ N ≤ 2³² − 1.
    /// @param maxPrice        Highest price per inference, 1 ≤ maxPrice ≤ 2⁹⁶ − 1.
    /// @param biddingDeadline Unix time after which no bid is accepted (> now).
    /// @return requestId      The new request's id (ids start at 1).
    /// @dev Reverts while paused. Emits {RequestOpened}.
    function openRequest(uint256 tokenId, uint256 inferences, uint256 maxPrice, uint256 biddingDeadline)
        external
        payable
        returns (uint256 requestId);

    /// @notice Bids `price` per inference on an open request, or lowers the caller's bid.
    ///         The caller must be an active provider and not the consumer.
    /// @param requestId The request.
    /// @param price     Price per inference, 1 ≤ price ≤ maxPrice, below the caller's previous bid.
    /// @dev Reverts while paused. Emits {BidPlaced}.
    function bid(uint256 requestId, uint256 price) external;

    /// @notice The consumer accepts `provider`'s bid (before or after the deadline, while open).
    ///         The escrow above N × price is credited back to the consumer.
    /// @param requestId The request.
    /// @param provider  A provider that bid and is still active.
    /// @dev Emits {AgreementReached}.
    function acceptBid(uint256 requestId, address provider) external;

    /// @notice After the bidding deadline, anyone settles an open request to its lowest bid
    ///         (earliest on ties). Reverts if that bidder is no longer active.
    /// @param requestId The request.
    /// @dev Emits {AgreementReached}.
    function settle(uint256 requestId) external;

    /// @notice After the bidding deadline, the consumer cancels an open request that has no bid, or
    ///         whose best bidder is no longer active; the whole escrow is credited back.
    /// @param requestId The request.
    /// @dev Emits {RequestCancelled}.
    function cancelRequest(uint256 requestId) external;

    // ------------------------------------------------------------------ agreements

    /// @notice The agreed provider records the next inference. Its payment is released by
    ///         `release` after DISPUTE_WINDOW, unless the consumer disputes it before.
    /// @param requestId   The agreement.
    /// @param requestHash Hash of the inference input, stored in DA (non-zero).
    /// @param resultHash  Hash of the inference output, stored in DA (non-zero).
    /// @return index      The inference's index (0-based).
    /// @dev Emits {InferenceRecorded}, and {AgreementCompleted} on the N-th.
    function recordInference(uint256 requestId, bytes32 requestHash, bytes32 resultHash)
        external
        returns (uint256 index);

    /// @notice Consumer or provider ends an agreement early: the unrecorded inferences' escrow is
    ///         credited to the consumer; recorded ones stay disputable and payable as usual.
    /// @param requestId The agreement.
    /// @dev Emits {RequestClosed}, and {AgreementFinalized} when nothing is pending.
    function closeRequest(uint256 requestId) external;

    /// @notice Anyone pays out, in order from the release cursor, up to `maxCount` recorded inferences
    ///         whose dispute window has passed (disputed ones are skipped: the arbiter settles them).
    /// @param requestId The agreement.
    /// @param maxCount  Most inferences to examine (bounds the gas).
    /// @return released How many were paid.
    /// @dev Emits {InferencesReleased}, {PaymentDistributed}, {RoyaltyCredited} per royalty, and
    ///      {AgreementFinalized} when nothing is pending any more.
    function release(uint256 requestId, uint256 maxCount) external returns (uint256 released);

    // ------------------------------------------------------------------ disputes

    /// @notice The consumer disputes inference `index` within DISPUTE_WINDOW of its record,
    ///         posting exactly DISPUTE_BOND.
    /// @param requestId The agreement.
    /// @param index     The inference.
    /// @param reason    A reason code or the hash of a statement stored in DA.
    /// @return disputeId The new dispute's id (ids start at 1).
    /// @dev Emits {DisputeRaised}.
    function dispute(uint256 requestId, uint256 index, bytes32 reason) external payable returns (uint256 disputeId);

    /// @notice The arbiter resolves a pending dispute. At fault: SLASH_BPS of the provider's stake is
    ///         slashed (half to the consumer, the rest to the treasury), the inference's price and the
    ///         bond are credited to the consumer. Not at fault: the inference is paid as usual and the
    ///         bond goes to the provider.
    /// @param disputeId       The dispute.
    /// @param providerAtFault The ruling.
    /// @dev Emits {DisputeResolved}, {PaymentDistributed} when not at fault, {AgreementFinalized}
    ///      when nothing is pending any more.
    function resolveDispute(uint256 disputeId, bool providerAtFault) external;

    // ------------------------------------------------------------------ reputation and payouts

    /// @notice After an agreement is completed or closed, each counterparty rates the other once.
    /// @param requestId The agreement.
    /// @param score     1 to 5.
    /// @dev Emits {Rated}.
    function rate(uint256 requestId, uint8 score) external;

    /// @notice Sends the caller everything credited to it.
    /// @dev Emits {Withdrawn}.
    function withdraw() external;

    // ------------------------------------------------------------------ administration

    /// @notice Proposes `newAdmin`; it takes over by calling `acceptAdmin`. Admin only.
    /// @param newAdmin The proposed admin (address(0) cancels a proposal).
    /// @dev Emits {AdminTransferStarted}.
    function transferAdmin(address newAdmin) external;

    /// @notice The proposed admin takes over.
    /// @dev Emits {AdminTransferred}.
    function acceptAdmin() external;

    /// @notice Sets the dispute resolver (e.g. the dispute-game contract). Admin only.
    /// @param newArbiter Non-zero.
    /// @dev Emits {ArbiterSet}.
    function setArbiter(address newArbiter) external;

    /// @notice Sets the guardian. Admin only.
    /// @param newGuardian Non-zero.
    /// @dev Emits {GuardianSet}.
    function setGuardian(address newGuardian) external;

    /// @notice Sets the treasury (future fees; balances already credited stay with the old one). Admin only.
    /// @param newTreasury Non-zero.
    /// @dev Emits {TreasurySet}.
    function setTreasury(address newTreasury) external;

    /// @notice Sets the protocol fee for requests opened from now on. Admin only.
    /// @param newBps At most MAX_PROTOCOL_FEE_BPS.
    /// @dev Emits {ProtocolFeeSet}.
    function setProtocolFee(uint16 newBps) external;

    /// @notice Stops `openRequest` and `bid`. Guardian only.
    /// @dev Emits {Paused}.
    function pause() external;

    /// @notice Resumes `openRequest` and `bid`. Guardian only.
    /// @dev Emits {Unpaused}.
    function unpause() external;

    // ------------------------------------------------------------------ views

    /// @notice A request and its agreement.
    /// @param requestId The request.
    /// @return The stored request (status None if unknown).
    function getRequest(uint256 requestId) external view returns (Request memory);

    /// @notice ETH still held in escrow for a request.
    /// @param requestId The request.
    /// @return Open: N × maxPrice; agreed/completed: (N − paid) × price; else 0.
    function escrowOf(uint256 requestId) external view returns (uint256);

    /// @notice `provider`'s bid on a request (0 if none).
    /// @param requestId The request.
    /// @param provider  The bidder.
    /// @return The bid price per inference.
    function bidOf(uint256 requestId, address provider) external view returns (uint256);

    /// @notice A provider's stake and standing.
    /// @param provider The provider.
    /// @return The stored record.
    function getProvider(address provider) external view returns (Provider memory);

    /// @notice Whether `provider` may bid and be accepted (registered, not unstaking, stake ≥ MIN_STAKE).
    /// @param provider The provider.
    /// @return True if active.
    function isActiveProvider(address provider) external view returns (bool);

    /// @notice One recorded inference.
    /// @param requestId The agreement.
    /// @param index     The inference.
    /// @return recordedAt When it was recorded (0 if not recorded).
    /// @return state      Recorded, Disputed or Resolved.
    /// @return commitment See `inferenceCommitment`.
    function inferenceRecord(uint256 requestId, uint256 index)
        external
        view
        returns (uint40 recordedAt, InferenceState state, bytes26 commitment);

    /// @notice The commitment stored for an inference: the first 26 bytes of
    ///         keccak256(abi.encodePacked(requestHash, resultHash)).
    /// @param requestHash Hash of the input.
    /// @param resultHash  Hash of the output.
    /// @return The commitment.
    function inferenceCommitment(bytes32 requestHash, bytes32 resultHash) external pure returns (bytes26);

    /// @notice A dispute.
    /// @param disputeId The dispute.
    /// @return The stored dispute.
    function getDispute(uint256 disputeId) external view returns (Dispute memory);

    /// @notice Everything a resolver needs to judge a dispute, in one call.
    /// @param disputeId The dispute.
    /// @return ctx The dispute, its request and the disputed inference's record.
    function disputeContext(uint256 disputeId) external view returns (DisputeContext memory ctx);

    /// @notice Aggregate ratings received by `account`.
    /// @param account The rated address.
    /// @return The count and the sum of scores.
    function reputationOf(address account) external view returns (Reputation memory);

    /// @notice Whether `rater` has rated in agreement `requestId`.
    /// @param requestId The agreement.
    /// @param rater     Consumer or provider.
    /// @return True if rated.
    function hasRated(uint256 requestId, address rater) external view returns (bool);

    /// @notice ETH credited to `account`, withdrawable with `withdraw`.
    /// @param account The account.
    /// @return The balance.
    function owed(address account) external view returns (uint256);

    /// @notice Disputes raised and not yet resolved (their bonds are held by the contract).
    /// @return The count.
    function pendingDisputes() external view returns (uint256);

    /// @notice The admin (sets arbiter, guardian, treasury, protocol fee).
    /// @return The admin's address.
    function admin() external view returns (address);

    /// @notice The admin proposed by `transferAdmin`, or address(0).
    /// @return The pending admin's address.
    function pendingAdmin() external view returns (address);

    /// @notice The address allowed to call `resolveDispute` (an EOA/multisig today, the dispute game later).
    /// @return The arbiter's address.
    function arbiter() external view returns (address);

    /// @notice The address allowed to pause and unpause.
    /// @return The guardian's address.
    function guardian() external view returns (address);

    /// @notice Where protocol fees and the treasury part of slashes are credited.
    /// @return The treasury's address.
    function treasury() external view returns (address);

    /// @notice The protocol fee applied to requests opened from now on.
    /// @return The fee in basis points.
    function protocolFeeBps() external view returns (uint16);

    /// @notice The id the next `openRequest` will return.
    /// @return The id.
    function nextRequestId() external view returns (uint256);

    /// @notice The id the next `dispute` will return.
    /// @return The id.
    function nextDisputeId() external view returns (uint256);

    /// @notice The ModelNFT contract whose tokens are the models.
    /// @return The contract.
    function MODEL_NFT() external view returns (IModelNFT);

    /// @notice Minimum stake to register and to stay active.
    /// @return Wei.
    function MIN_STAKE() external view returns (uint256);

    /// @notice Delay between `requestUnstake` and `withdrawStake`.
    /// @return Seconds.
    function UNSTAKE_DELAY() external view returns (uint256);

    /// @notice How long after its record an inference can be disputed (and before it can be paid).
    /// @return Seconds.
    function DISPUTE_WINDOW() external view returns (uint256);

    /// @notice Share of the provider's stake slashed per dispute lost.
    /// @return Basis points.
    function SLASH_BPS() external view returns (uint256);

    /// @notice ETH posted with each dispute.
    /// @return Wei.
    function DISPUTE_BOND() external view returns (uint256);

    /// @notice Upper bound of the protocol fee.
    /// @return Basis points.
    function MAX_PROTOCOL_FEE_BPS() external view returns (uint256);
}
