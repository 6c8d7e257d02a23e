// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IInferenceMarket} from "../interfaces/IInferenceMarket.sol";
import {IModelNFT} from "../interfaces/IModelNFT.sol";

/// @title InferenceMarket
/// @notice Staked providers sell inference on ModelNFT models; payments are escrowed in ETH and
///         released per inference once its dispute window has passed. See {IInferenceMarket} and
///         docs/INFERENCE_MARKET.md.
/// @dev Payment model: a recorded inference is NOT paid at record time. Its price stays in the
///      request's escrow and `release` pays it (royalties, fee, provider) after DISPUTE_WINDOW; a
///      disputed one is paid or refunded by `resolveDispute`. Escrow conservation:
///      balance == Σ escrowOf + Σ stake + Σ owed + pendingDisputes × DISPUTE_BOND.
///      Timestamps: deadlines, windows and delays last hours or days, so a validator's seconds of
///      leeway are harmless (hence the block-timestamp lint waivers).
contract InferenceMarket is IInferenceMarket, Pausable, ReentrancyGuardTransient {
    // ------------------------------------------------------------------ constants and immutables

    uint256 private constant BPS = 10_000;

    /// @inheritdoc IInferenceMarket
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 1_000;

    // Layout of a recorded inference's storage word:
    //   [255..216] recordedAt (uint40) | [215..208] InferenceState | [207..0] first 26 bytes of
    //   keccak256(requestHash ‖ resultHash).
    uint256 private constant _TIME_SHIFT = 216;
    uint256 private constant _STATE_SHIFT = 208;
    uint256 private constant _STATE_MASK = 0xff0000000000000000000000000000000000000000000000000000; // 0xff << 208

    /// @inheritdoc IInferenceMarket
    IModelNFT public immutable MODEL_NFT;
    /// @inheritdoc IInferenceMarket
    uint256 public immutable MIN_STAKE;
    /// @inheritdoc IInferenceMarket
    uint256 public immutable UNSTAKE_DELAY;
    /// @inheritdoc IInferenceMarket
    uint256 public immutable DISPUTE_WINDOW;
    /// @inheritdoc IInferenceMarket
    uint256 public immutable SLASH_BPS;
    /// @inheritdoc IInferenceMarket
    uint256 public immutable DISPUTE_BOND;

    // ------------------------------------------------------------------ storage

    // One slot: read by openRequest (fee, id) and by every payout (treasury).
    address private _treasury;
    uint16 private _protocolFeeBps;
    uint64 private _nextRequestId;

    // One slot: read by resolveDispute (arbiter), written by dispute (ids, pending count).
    address private _arbiter;
    uint64 private _nextDisputeId;
    uint32 private _pendingDisputes;

    address private _admin;
    address private _pendingAdmin;
    address private _guardian;

    mapping(uint256 requestId => Request) private _requests;
    mapping(uint256 requestId => mapping(address provider => uint256 price)) private _bids;
    mapping(uint256 requestId => mapping(uint256 index => uint256 word)) private _inferences;
    mapping(uint256 disputeId => Dispute) private _disputes;
    mapping(address provider => Provider) private _providers;
    mapping(address account => Reputation) private _reputation;
    /// bit 0: the consumer has rated; bit 1: the provider has rated.
    mapping(uint256 requestId => uint256 flags) private _rated;
    mapping(address account => uint256 amount) private _owed;

    // ------------------------------------------------------------------ modifiers

    modifier onlyAdmin() {
        if (msg.sender != _admin) revert InferenceMarket_NotAdmin(msg.sender);
        _;
    }

    modifier onlyGuardian() {
        if (msg.sender != _guardian) revert InferenceMarket_NotGuardian(msg.sender);
        _;
    }

    modifier notPaused() {
        if (paused()) revert InferenceMarket_Paused();
        _;
    }

    // ------------------------------------------------------------------ constructor

    /// @notice Deploys the market.
    /// @param config See {IInferenceMarket.Config}; every address must be non-zero, minStake and
    ///        disputeWindow non-zero, protocolFeeBps ≤ MAX_PROTOCOL_FEE_BPS, slashBps ≤ 10 000.
    constructor(Config memory config) {
        if (
            config.modelNFT == address(0) || config.admin == address(0) || config.arbiter == address(0)
                || config.guardian == address(0) || config.treasury == address(0)
        ) revert InferenceMarket_ZeroAddress();
        if (config.minStake == 0) revert InferenceMarket_ZeroMinStake();
        if (config.disputeWindow == 0) revert InferenceMarket_ZeroDuration();
        if (config.protocolFeeBps > MAX_PROTOCOL_FEE_BPS) {
            revert InferenceMarket_FeeTooHigh(config.protocolFeeBps, MAX_PROTOCOL_FEE_BPS);
        }
        if (config.slashBps > BPS) revert InferenceMarket_InvalidBps(config.slashBps);

        MODEL_NFT = IModelNFT(config.modelNFT);
        MIN_STAKE = config.minStake;
        UNSTAKE_DELAY = config.unstakeDelay;
        DISPUTE_WINDOW = config.disputeWindow;
        SLASH_BPS = config.slashBps;
        DISPUTE_BOND = config.disputeBond;

        _admin = config.admin;
        _arbiter = config.arbiter;
        _guardian = config.guardian;
        _treasury = config.treasury;
        _protocolFeeBps = config.protocolFeeBps;
        _nextRequestId = 1;
        _nextDisputeId = 1;

        emit AdminTransferred(address(0), config.admin);
        emit ArbiterSet(address(0), config.arbiter);
        emit GuardianSet(address(0), config.guardian);
        emit TreasurySet(address(0), config.treasury);
        emit ProtocolFeeSet(0, config.protocolFeeBps);
    }

    // ------------------------------------------------------------------ providers

    /// @inheritdoc IInferenceMarket
    function registerProvider() external payable {
        Provider storage p = _providers[msg.sender];
        if (p.registered) revert InferenceMarket_AlreadyRegistered(msg.sender);
        if (msg.value < MIN_STAKE) revert InferenceMarket_StakeTooLow(msg.value, MIN_STAKE);
        if (msg.value > type(uint96).max) revert InferenceMarket_AmountTooLarge(msg.value);
        // A deregistered provider has stake 0, no unstake request and no active agreement.
        p.stake = uint96(msg.value);
        p.registered = true;
        emit ProviderRegistered(msg.sender, msg.value);
    }

    /// @inheritdoc IInferenceMarket
    function addStake() external payable {
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert InferenceMarket_NotRegistered(msg.sender);
        if (msg.value == 0) revert InferenceMarket_ZeroValue();
        uint256 newStake = uint256(p.stake) + msg.value;
        if (newStake > type(uint96).max) revert InferenceMarket_AmountTooLarge(newStake);
        // Safe cast: newStake ≤ type(uint96).max, checked above.
        // forge-lint: disable-next-line(unsafe-typecast)
        p.stake = uint96(newStake);
        emit StakeAdded(msg.sender, msg.value, newStake);
    }

    /// @inheritdoc IInferenceMarket
    function requestUnstake() external {
        Provider storage p = _providers[msg.sender];
        if (!p.registered) revert InferenceMarket_NotRegistered(msg.sender);
        if (p.unstakeRequestedAt != 0) revert InferenceMarket_UnstakeAlreadyRequested(msg.sender);
        p.unstakeRequestedAt = uint40(block.timestamp);
        emit UnstakeRequested(msg.sender, block.timestamp + UNSTAKE_DELAY);
    }

    /// @inheritdoc IInferenceMarket
    function withdrawStake() external nonReentrant {
        Provider memory p = _providers[msg.sender];
        if (!p.registered) revert InferenceMarket_NotRegistered(msg.sender);
        if (p.unstakeRequestedAt == 0) revert InferenceMarket_UnstakeNotRequested(msg.sender);
        uint256 availableAt = uint256(p.unstakeRequestedAt) + UNSTAKE_DELAY;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp < availableAt) revert InferenceMarket_UnstakeDelayNotElapsed(availableAt);
        if (p.activeAgreements != 0) revert InferenceMarket_HasActiveAgreements(p.activeAgreements);

        delete _providers[msg.sender];
        emit StakeWithdrawn(msg.sender, p.stake);
        _send(msg.sender, p.stake);
    }

    // ------------------------------------------------------------------ requests and bids

    /// @inheritdoc IInferenceMarket
    function openRequest(uint256 tokenId, uint256 inferences, uint256 maxPrice, uint256 biddingDeadline)
        external
        payable
        notPaused
        returns (uint256 requestId)
    {
        if (inferences == 0 || inferences > type(uint32).max) {
            revert InferenceMarket_InvalidInferenceCount(inferences);
        }
        if (maxPrice == 0 || maxPrice > type(uint96).max) revert InferenceMarket_InvalidPrice(maxPrice);
        // forge-lint: disable-next-line(block-timestamp)
        if (biddingDeadline <= block.timestamp || biddingDeadline > type(uint40).max) {
            revert InferenceMarket_InvalidDeadline(biddingDeadline);
        }
        uint256 required;
        unchecked {
            // inferences < 2^32 and maxPrice < 2^96: the product is below 2^128.
            required = inferences * maxPrice;
        }
        if (msg.value != required) revert InferenceMarket_WrongPayment(msg.value, required);
        _requireModel(tokenId);

        requestId = _nextRequestId;
        unchecked {
            // 2^64 requests cannot be opened (so the cast is safe too).
            // forge-lint: disable-next-line(unsafe-typecast)
            _nextRequestId = uint64(requestId + 1);
        }
        _requests[requestId] = Request({
            consumer: msg.sender,
            status: RequestStatus.Open,
            // Safe cast: bounded by the checks at the top.
            // forge-lint: disable-next-line(unsafe-typecast)
            biddingDeadline: uint40(biddingDeadline),
            // forge-lint: disable-next-line(unsafe-typecast)
            inferences: uint32(inferences),
            feeBps: _protocolFeeBps,
            // forge-lint: disable-next-line(unsafe-typecast)
            maxPrice: uint96(maxPrice),
            // forge-lint: disable-next-line(unsafe-typecast)
            tokenId: uint64(tokenId),
            recorded: 0,
            cursor: 0,
            paid: 0,
            provider: address(0),
            price: 0
        });
        emit RequestOpened(requestId, msg.sender, tokenId, inferences, maxPrice, biddingDeadline);
    }

    /// @inheritdoc IInferenceMarket
    function bid(uint256 requestId, uint256 price) external notPaused {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) revert InferenceMarket_WrongStatus(requestId, r.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > r.biddingDeadline) revert InferenceMarket_BiddingClosed(r.biddingDeadline);
        if (msg.sender == r.consumer) revert InferenceMarket_SelfDealing(msg.sender);
        if (!_isActive(msg.sender)) revert InferenceMarket_ProviderNotActive(msg.sender);
        if (price == 0) revert InferenceMarket_InvalidPrice(price);
        uint256 maxPrice = r.maxPrice;
        if (price > maxPrice) revert InferenceMarket_BidTooHigh(price, maxPrice);
        uint256 current = _bids[requestId][msg.sender];
        if (current != 0 && price >= current) revert InferenceMarket_BidNotLower(price, current);

        _bids[requestId][msg.sender] = price;
        // Bids only go down, so the best bid is kept incrementally: a strictly lower price wins,
        // an equal one leaves the earlier bidder in place.
        if (r.provider == address(0) || price < r.price) {
            r.provider = msg.sender;
            // Safe cast: price ≤ maxPrice < 2^96.
            // forge-lint: disable-next-line(unsafe-typecast)
            r.price = uint96(price);
        }
        emit BidPlaced(requestId, msg.sender, price);
    }

    /// @inheritdoc IInferenceMarket
    function acceptBid(uint256 requestId, address provider) external {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) revert InferenceMarket_WrongStatus(requestId, r.status);
        if (msg.sender != r.consumer) revert InferenceMarket_NotConsumer(msg.sender, r.consumer);
        uint256 price = _bids[requestId][provider];
        if (price == 0) revert InferenceMarket_NoBid(requestId, provider);
        if (!_isActive(provider)) revert InferenceMarket_ProviderNotActive(provider);
        _agree(r, requestId, provider, price, false);
    }

    /// @inheritdoc IInferenceMarket
    function settle(uint256 requestId) external {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) revert InferenceMarket_WrongStatus(requestId, r.status);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= r.biddingDeadline) revert InferenceMarket_BiddingOpen(r.biddingDeadline);
        address best = r.provider;
        if (best == address(0)) revert InferenceMarket_NoBids(requestId);
        if (!_isActive(best)) revert InferenceMarket_ProviderNotActive(best);
        _agree(r, requestId, best, r.price, true);
    }

    /// @inheritdoc IInferenceMarket
    function cancelRequest(uint256 requestId) external {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Open) revert InferenceMarket_WrongStatus(requestId, r.status);
        address consumer = r.consumer;
        if (msg.sender != consumer) revert InferenceMarket_NotConsumer(msg.sender, consumer);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp <= r.biddingDeadline) revert InferenceMarket_BiddingOpen(r.biddingDeadline);
        address best = r.provider;
        if (best != address(0) && _isActive(best)) revert InferenceMarket_HasBids(requestId, best);

        r.status = RequestStatus.Cancelled;
        uint256 refund;
        unchecked {
            // Below 2^128 (see openRequest).
            refund = uint256(r.inferences) * r.maxPrice;
        }
        _owed[consumer] += refund;
        emit RequestCancelled(requestId, refund);
    }

    // ------------------------------------------------------------------ agreements

    /// @inheritdoc IInferenceMarket
    function recordInference(uint256 requestId, bytes32 requestHash, bytes32 resultHash)
        external
        returns (uint256 index)
    {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Agreed) revert InferenceMarket_WrongStatus(requestId, r.status);
        if (msg.sender != r.provider) revert InferenceMarket_NotProvider(msg.sender, r.provider);
        if (requestHash == bytes32(0) || resultHash == bytes32(0)) revert InferenceMarket_ZeroHash();

        index = r.recorded;
        _inferences[requestId][index] = (block.timestamp << _TIME_SHIFT)
            | (uint256(keccak256(abi.encodePacked(requestHash, resultHash))) >> (256 - _STATE_SHIFT));
        unchecked {
            // index < inferences ≤ 2^32 − 1 while Agreed.
            // Safe cast: index + 1 ≤ inferences < 2^32.
            // forge-lint: disable-next-line(unsafe-typecast)
            r.recorded = uint32(index + 1);
        }
        emit InferenceRecorded(requestId, index, requestHash, resultHash);
        if (index + 1 == r.inferences) {
            r.status = RequestStatus.Completed;
            emit AgreementCompleted(requestId);
        }
    }

    /// @inheritdoc IInferenceMarket
    function closeRequest(uint256 requestId) external {
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Agreed) revert InferenceMarket_WrongStatus(requestId, r.status);
        address consumer = r.consumer;
        if (msg.sender != consumer && msg.sender != r.provider) revert InferenceMarket_NotParticipant(msg.sender);

        uint256 recorded = r.recorded;
        uint256 refund;
        unchecked {
            // recorded < inferences while Agreed; the product is below 2^128.
            refund = (uint256(r.inferences) - recorded) * r.price;
        }
        // Safe cast: recorded < inferences < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.inferences = uint32(recorded);
        r.status = RequestStatus.Completed;
        _owed[consumer] += refund;
        emit RequestClosed(requestId, msg.sender, recorded, refund);
        if (r.paid == recorded) _finalize(requestId, r.provider);
    }

    /// @inheritdoc IInferenceMarket
    function release(uint256 requestId, uint256 maxCount) external returns (uint256 released) {
        Request storage r = _requests[requestId];
        RequestStatus status = r.status;
        if (status != RequestStatus.Agreed && status != RequestStatus.Completed) {
            revert InferenceMarket_WrongStatus(requestId, status);
        }
        if (maxCount == 0) revert InferenceMarket_ZeroCount();

        uint256 cursor = r.cursor;
        uint256 end = r.recorded;
        if (maxCount < end - cursor) end = cursor + maxCount;
        mapping(uint256 => uint256) storage records = _inferences[requestId];
        uint256 window = DISPUTE_WINDOW;
        // Records are in time order: stop at the first one still inside its dispute window.
        while (cursor < end) {
            uint256 word = records[cursor];
            // forge-lint: disable-next-line(block-timestamp)
            if ((word >> _TIME_SHIFT) + window > block.timestamp) break;
            // Disputed (or resolved) inferences are paid by resolveDispute, not here.
            if (word & _STATE_MASK == 0) ++released;
            ++cursor;
        }
        if (released == 0) revert InferenceMarket_NothingToRelease(requestId);

        uint256 paid = uint256(r.paid) + released;
        // Safe cast: cursor ≤ recorded < 2^32; paid ≤ recorded.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.cursor = uint32(cursor);
        // forge-lint: disable-next-line(unsafe-typecast)
        r.paid = uint32(paid);
        address provider = r.provider;
        uint256 amount;
        unchecked {
            // released < 2^32, price < 2^96.
            amount = released * r.price;
        }
        emit InferencesReleased(requestId, released, cursor);
        _distribute(requestId, r.tokenId, provider, amount, r.feeBps);
        if (status == RequestStatus.Completed && paid == r.inferences) _finalize(requestId, provider);
    }

    // ------------------------------------------------------------------ disputes

    /// @inheritdoc IInferenceMarket
    function dispute(uint256 requestId, uint256 index, bytes32 reason) external payable returns (uint256 disputeId) {
        Request storage r = _requests[requestId];
        RequestStatus status = r.status;
        if (status != RequestStatus.Agreed && status != RequestStatus.Completed) {
            revert InferenceMarket_WrongStatus(requestId, status);
        }
        if (msg.sender != r.consumer) revert InferenceMarket_NotConsumer(msg.sender, r.consumer);
        if (msg.value != DISPUTE_BOND) revert InferenceMarket_WrongPayment(msg.value, DISPUTE_BOND);
        if (index >= r.recorded) revert InferenceMarket_UnknownInference(requestId, index);
        uint256 word = _inferences[requestId][index];
        if (word & _STATE_MASK != 0) revert InferenceMarket_AlreadyDisputed(requestId, index);
        uint256 closesAt = (word >> _TIME_SHIFT) + DISPUTE_WINDOW;
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp >= closesAt) revert InferenceMarket_DisputeWindowClosed(closesAt);

        _inferences[requestId][index] = word | (uint256(InferenceState.Disputed) << _STATE_SHIFT);
        disputeId = _nextDisputeId;
        unchecked {
            // Neither counter can reach 2^64 / 2^32 (one dispute per recorded inference, bonded).
            // forge-lint: disable-next-line(unsafe-typecast)
            _nextDisputeId = uint64(disputeId + 1);
            _pendingDisputes += 1;
        }
        _disputes[disputeId] = Dispute({
            // Safe cast: requestId < nextRequestId < 2^64; index < recorded < 2^32.
            // forge-lint: disable-next-line(unsafe-typecast)
            requestId: uint64(requestId),
            // forge-lint: disable-next-line(unsafe-typecast)
            index: uint32(index),
            raisedAt: uint40(block.timestamp),
            status: DisputeStatus.Pending
        });
        emit DisputeRaised(disputeId, requestId, index, msg.sender, reason);
    }

    /// @inheritdoc IInferenceMarket
    function resolveDispute(uint256 disputeId, bool providerAtFault) external {
        if (msg.sender != _arbiter) revert InferenceMarket_NotArbiter(msg.sender);
        Dispute storage d = _disputes[disputeId];
        if (d.status != DisputeStatus.Pending) revert InferenceMarket_DisputeNotPending(disputeId);
        uint256 requestId = d.requestId;
        uint256 index = d.index;

        d.status = providerAtFault ? DisputeStatus.ProviderAtFault : DisputeStatus.ProviderNotAtFault;
        mapping(uint256 => uint256) storage records = _inferences[requestId];
        records[index] = (records[index] & ~_STATE_MASK) | (uint256(InferenceState.Resolved) << _STATE_SHIFT);
        unchecked {
            // Pending disputes ≥ 1: this one.
            _pendingDisputes -= 1;
        }

        Request storage r = _requests[requestId];
        uint256 paid = uint256(r.paid) + 1;
        // Safe cast: paid ≤ recorded < 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.paid = uint32(paid);
        address provider = r.provider;
        uint256 price = r.price;
        uint256 bond = DISPUTE_BOND;
        uint256 slashed;
        uint256 toConsumer;
        if (providerAtFault) {
            Provider storage p = _providers[provider];
            uint256 stake = p.stake;
            slashed = stake * SLASH_BPS / BPS;
            // Safe cast: stake − slashed ≤ stake < 2^96.
            // forge-lint: disable-next-line(unsafe-typecast)
            p.stake = uint96(stake - slashed);
            uint256 consumerShare = slashed / 2;
            toConsumer = price + consumerShare + bond;
            _owed[r.consumer] += toConsumer;
            if (slashed != consumerShare) _owed[_treasury] += slashed - consumerShare;
        } else {
            _distribute(requestId, r.tokenId, provider, price, r.feeBps);
            if (bond != 0) _owed[provider] += bond;
        }
        emit DisputeResolved(disputeId, providerAtFault, slashed, toConsumer, msg.sender);
        if (r.status == RequestStatus.Completed && paid == r.inferences) _finalize(requestId, provider);
    }

    // ------------------------------------------------------------------ reputation and payouts

    /// @inheritdoc IInferenceMarket
    function rate(uint256 requestId, uint8 score) external {
        if (score == 0 || score > 5) revert InferenceMarket_InvalidScore(score);
        Request storage r = _requests[requestId];
        if (r.status != RequestStatus.Completed) revert InferenceMarket_WrongStatus(requestId, r.status);
        address consumer = r.consumer;
        address provider = r.provider;
        uint256 bit;
        address ratee;
        if (msg.sender == consumer) {
            (bit, ratee) = (1, provider);
        } else if (msg.sender == provider) {
            (bit, ratee) = (2, consumer);
        } else {
            revert InferenceMarket_NotParticipant(msg.sender);
        }
        uint256 flags = _rated[requestId];
        if (flags & bit != 0) revert InferenceMarket_AlreadyRated(requestId, msg.sender);
        _rated[requestId] = flags | bit;
        Reputation storage rep = _reputation[ratee];
        unchecked {
            // One rating per agreement side: the count cannot reach 2^128, the sum 5 × 2^128.
            rep.count += 1;
            rep.sum += score;
        }
        emit Rated(requestId, msg.sender, ratee, score);
    }

    /// @inheritdoc IInferenceMarket
    function withdraw() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert InferenceMarket_NothingToWithdraw(msg.sender);
        _owed[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    // ------------------------------------------------------------------ administration

    /// @inheritdoc IInferenceMarket
    function transferAdmin(address newAdmin) external onlyAdmin {
        _pendingAdmin = newAdmin;
        emit AdminTransferStarted(msg.sender, newAdmin);
    }

    /// @inheritdoc IInferenceMarket
    function acceptAdmin() external {
        if (msg.sender != _pendingAdmin || msg.sender == address(0)) {
            revert InferenceMarket_NotPendingAdmin(msg.sender);
        }
        emit AdminTransferred(_admin, msg.sender);
        _admin = msg.sender;
        _pendingAdmin = address(0);
    }

    /// @inheritdoc IInferenceMarket
    function setArbiter(address newArbiter) external onlyAdmin {
        if (newArbiter == address(0)) revert InferenceMarket_ZeroAddress();
        emit ArbiterSet(_arbiter, newArbiter);
        _arbiter = newArbiter;
    }

    /// @inheritdoc IInferenceMarket
    function setGuardian(address newGuardian) external onlyAdmin {
        if (newGuardian == address(0)) revert InferenceMarket_ZeroAddress();
        emit GuardianSet(_guardian, newGuardian);
        _guardian = newGuardian;
    }

    /// @inheritdoc IInferenceMarket
    function setTreasury(address newTreasury) external onlyAdmin {
        if (newTreasury == address(0)) revert InferenceMarket_ZeroAddress();
        emit TreasurySet(_treasury, newTreasury);
        _treasury = newTreasury;
    }

    /// @inheritdoc IInferenceMarket
    function setProtocolFee(uint16 newBps) external onlyAdmin {
        if (newBps > MAX_PROTOCOL_FEE_BPS) revert InferenceMarket_FeeTooHigh(newBps, MAX_PROTOCOL_FEE_BPS);
        emit ProtocolFeeSet(_protocolFeeBps, newBps);
        _protocolFeeBps = newBps;
    }

    /// @inheritdoc IInferenceMarket
    function pause() external onlyGuardian {
        if (paused()) revert InferenceMarket_Paused();
        _pause();
    }

    /// @inheritdoc IInferenceMarket
    function unpause() external onlyGuardian {
        if (!paused()) revert InferenceMarket_NotPaused();
        _unpause();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IInferenceMarket
    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IInferenceMarket
    function escrowOf(uint256 requestId) external view returns (uint256) {
        Request memory r = _requests[requestId];
        if (r.status == RequestStatus.Open) return uint256(r.inferences) * r.maxPrice;
        if (r.status == RequestStatus.Agreed || r.status == RequestStatus.Completed) {
            return (uint256(r.inferences) - r.paid) * r.price;
        }
        return 0;
    }

    /// @inheritdoc IInferenceMarket
    function bidOf(uint256 requestId, address provider) external view returns (uint256) {
        return _bids[requestId][provider];
    }

    /// @inheritdoc IInferenceMarket
    function getProvider(address provider) external view returns (Provider memory) {
        return _providers[provider];
    }

    /// @inheritdoc IInferenceMarket
    function isActiveProvider(address provider) external view returns (bool) {
        return _isActive(provider);
    }

    /// @inheritdoc IInferenceMarket
    function inferenceRecord(uint256 requestId, uint256 index)
        external
        view
        returns (uint40 recordedAt, InferenceState state, bytes26 commitment)
    {
        return _decode(_inferences[requestId][index]);
    }

    /// @inheritdoc IInferenceMarket
    function inferenceCommitment(bytes32 requestHash, bytes32 resultHash) external pure returns (bytes26) {
        return bytes26(keccak256(abi.encodePacked(requestHash, resultHash)));
    }

    /// @inheritdoc IInferenceMarket
    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @inheritdoc IInferenceMarket
    function disputeContext(uint256 disputeId) external view returns (DisputeContext memory ctx) {
        Dispute memory d = _disputes[disputeId];
        Request memory r = _requests[d.requestId];
        ctx.requestId = d.requestId;
        ctx.index = d.index;
        ctx.status = d.status;
        ctx.raisedAt = d.raisedAt;
        ctx.tokenId = r.tokenId;
        ctx.consumer = r.consumer;
        ctx.provider = r.provider;
        ctx.price = r.price;
        if (d.status != DisputeStatus.None) {
            (ctx.recordedAt,, ctx.commitment) = _decode(_inferences[d.requestId][d.index]);
        }
    }

    /// @inheritdoc IInferenceMarket
    function reputationOf(address account) external view returns (Reputation memory) {
        return _reputation[account];
    }

    /// @inheritdoc IInferenceMarket
    function hasRated(uint256 requestId, address rater) external view returns (bool) {
        Request storage r = _requests[requestId];
        uint256 flags = _rated[requestId];
        if (rater == address(0)) return false;
        if (rater == r.consumer) return flags & 1 != 0;
        if (rater == r.provider) return flags & 2 != 0;
        return false;
    }

    /// @inheritdoc IInferenceMarket
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    /// @inheritdoc IInferenceMarket
    function pendingDisputes() external view returns (uint256) {
        return _pendingDisputes;
    }

    /// @inheritdoc IInferenceMarket
    function admin() external view returns (address) {
        return _admin;
    }

    /// @inheritdoc IInferenceMarket
    function pendingAdmin() external view returns (address) {
        return _pendingAdmin;
    }

    /// @inheritdoc IInferenceMarket
    function arbiter() external view returns (address) {
        return _arbiter;
    }

    /// @inheritdoc IInferenceMarket
    function guardian() external view returns (address) {
        return _guardian;
    }

    /// @inheritdoc IInferenceMarket
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IInferenceMarket
    function protocolFeeBps() external view returns (uint16) {
        return _protocolFeeBps;
    }

    /// @inheritdoc IInferenceMarket
    function nextRequestId() external view returns (uint256) {
        return _nextRequestId;
    }

    /// @inheritdoc IInferenceMarket
    function nextDisputeId() external view returns (uint256) {
        return _nextDisputeId;
    }

    // ------------------------------------------------------------------ internals

    /// @dev Active: registered, not unstaking, stake at least MIN_STAKE (slashes can push it below).
    function _isActive(address provider) private view returns (bool) {
        Provider memory p = _providers[provider];
        return p.registered && p.unstakeRequestedAt == 0 && p.stake >= MIN_STAKE;
    }

    /// @dev Reverts unless `tokenId` is a minted ModelNFT token (ids are sequential from 1, so the
    ///      uint64 bound excludes nothing real).
    function _requireModel(uint256 tokenId) private view {
        if (tokenId > type(uint64).max) revert InferenceMarket_UnknownModel(tokenId);
        try IERC721(address(MODEL_NFT)).ownerOf(tokenId) returns (address owner) {
            if (owner == address(0)) revert InferenceMarket_UnknownModel(tokenId);
        } catch {
            revert InferenceMarket_UnknownModel(tokenId);
        }
    }

    /// @dev Fixes provider and price, credits the escrow above N × price back to the consumer.
    function _agree(Request storage r, uint256 requestId, address provider, uint256 price, bool settled) private {
        r.provider = provider;
        // Safe cast: price ≤ maxPrice < 2^96.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.price = uint96(price);
        r.status = RequestStatus.Agreed;
        uint256 refund;
        unchecked {
            // price ≤ maxPrice (checked at bid); the product is below 2^128.
            refund = uint256(r.inferences) * (uint256(r.maxPrice) - price);
        }
        if (refund != 0) _owed[r.consumer] += refund;
        unchecked {
            // One per agreement; 2^32 concurrent agreements cannot be reached.
            _providers[provider].activeAgreements += 1;
        }
        emit AgreementReached(requestId, provider, price, refund, settled);
    }

    /// @dev Every recorded inference of a completed agreement is paid or resolved: free the stake.
    function _finalize(uint256 requestId, address provider) private {
        unchecked {
            // Incremented by _agree for this agreement, decremented once here.
            _providers[provider].activeAgreements -= 1;
        }
        emit AgreementFinalized(requestId);
    }

    /// @dev Splits a payment of `amount` out of escrow: protocol fee (bps of the gross) to the
    ///      treasury, royalties from IModelNFT.royaltySplit(tokenId, amount) to their receivers in
    ///      order (cut at what is left after the fee), the rest to the provider. Conserves `amount`.
    ///      No try/catch around royaltySplit: a catch could be forced by a caller starving the call
    ///      of gas, skipping royalties. ModelNFT is fixed at deployment and trusted.
    function _distribute(uint256 requestId, uint256 tokenId, address provider, uint256 amount, uint256 feeBps) private {
        uint256 fee;
        unchecked {
            // amount < 2^128, feeBps < 2^16.
            fee = amount * feeBps / BPS;
        }
        uint256 remaining = amount - fee;
        uint256 royalties;
        (address[] memory receivers, uint256[] memory amounts) = MODEL_NFT.royaltySplit(tokenId, amount);
        uint256 n = receivers.length < amounts.length ? receivers.length : amounts.length;
        for (uint256 i; i < n && remaining != 0; ++i) {
            address to = receivers[i];
            uint256 share = amounts[i];
            if (to == address(0) || share == 0) continue;
            if (share > remaining) share = remaining;
            unchecked {
                // share ≤ remaining ≤ amount.
                remaining -= share;
                royalties += share;
            }
            _owed[to] += share;
            emit RoyaltyCredited(requestId, to, share);
        }
        if (fee != 0) _owed[_treasury] += fee;
        _owed[provider] += remaining;
        emit PaymentDistributed(requestId, provider, amount, remaining, royalties, fee);
    }

    /// @dev Sends ETH to `to`; callers are nonReentrant and have already updated state.
    function _send(address to, uint256 amount) private {
        (bool ok,) = payable(to).call{value: amount}("");
        if (!ok) revert InferenceMarket_TransferFailed(to, amount);
    }

    function _decode(uint256 word) private pure returns (uint40 recordedAt, InferenceState state, bytes26 commitment) {
        // Safe cast: unpacking the fields of the record word.
        // forge-lint: disable-next-line(unsafe-typecast)
        recordedAt = uint40(word >> _TIME_SHIFT);
        // forge-lint: disable-next-line(unsafe-typecast)
        state = InferenceState(uint8(word >> _STATE_SHIFT));
        commitment = bytes26(bytes32(word << (256 - _STATE_SHIFT)));
    }
}
