// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceMarket} from "../src/interfaces/IInferenceMarket.sol";
import {IModelNFT} from "../src/interfaces/IModelNFT.sol";
import {InferenceMarket} from "../src/marketplace/InferenceMarket.sol";
import {ModelNFT} from "../src/marketplace/ModelNFT.sol";
import {Test} from "./utils/Test.sol";

/// @dev A contract account that forwards calls to the market and, when paid, either refuses the
///      ETH or tries to re-enter `withdraw`.
contract MarketActor {
    uint8 public constant ACCEPT = 0;
    uint8 public constant REJECT = 1;
    uint8 public constant REENTER = 2;

    IInferenceMarket public immutable market;
    uint8 public mode;

    constructor(IInferenceMarket market_) {
        market = market_;
    }

    function setMode(uint8 mode_) external {
        mode = mode_;
    }

    /// @dev Calls the market with `data` and `value`, bubbling up any revert.
    function exec(bytes calldata data) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = address(market).call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    receive() external payable {
        if (mode == REJECT) revert("no ETH");
        if (mode == REENTER) market.withdraw();
    }
}

/// @notice Shared deployment for the InferenceMarket tests: a real ModelNFT with a base model and a
///         derived model (so royalties have two receivers), a market, two staked providers.
abstract contract InferenceMarketBase is Test {
    uint256 internal constant MIN_STAKE = 1 ether;
    uint256 internal constant UNSTAKE_DELAY = 7 days;
    uint256 internal constant WINDOW = 1 days;
    uint16 internal constant FEE_BPS = 250;
    uint16 internal constant SLASH_BPS = 2_000;
    uint256 internal constant BOND = 0.01 ether;
    uint256 internal constant STAKE = 2 ether;
    uint256 internal constant T0 = 1_000_000;

    uint256 internal constant BASE_ROYALTY_BPS = 500;
    uint256 internal constant BASE_LINEAGE_BPS = 1_000;
    uint256 internal constant DERIVED_ROYALTY_BPS = 300;

    ModelNFT internal nft;
    InferenceMarket internal market;

    address internal admin = makeAddr("admin");
    address internal arbiter = makeAddr("arbiter");
    address internal guardian = makeAddr("guardian");
    address internal treasury = makeAddr("treasury");
    address internal baseOwner = makeAddr("baseOwner");
    address internal baseReceiver = makeAddr("baseReceiver");
    address internal derivedOwner = makeAddr("derivedOwner");
    address internal derivedReceiver = makeAddr("derivedReceiver");
    address internal consumer = makeAddr("consumer");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");

    uint256 internal baseToken;
    uint256 internal derivedToken;

    function setUp() public virtual {
        vm.warp(T0);
        nft = new ModelNFT(admin);
        baseToken = nft.mint(baseOwner, _params(0, baseReceiver, uint16(BASE_ROYALTY_BPS), uint16(BASE_LINEAGE_BPS)));
        derivedToken = nft.mint(derivedOwner, _params(baseToken, derivedReceiver, uint16(DERIVED_ROYALTY_BPS), 0));
        market = new InferenceMarket(_config());

        vm.deal(consumer, 1_000_000 ether);
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        vm.prank(alice);
        market.registerProvider{value: STAKE}();
        vm.prank(bob);
        market.registerProvider{value: STAKE}();
    }

    function _params(uint256 parentId, address receiver, uint16 royaltyBps, uint16 lineageBps)
        internal
        pure
        returns (IModelNFT.MintParams memory p)
    {
        p.contentHash = keccak256(abi.encode("model", parentId, receiver));
        p.daCommitment = hex"00aa";
        p.license = bytes32("Apache-2.0");
        p.parentId = parentId;
        p.royaltyReceiver = receiver;
        p.royaltyBps = royaltyBps;
        p.lineageBps = lineageBps;
    }

    function _config() internal view returns (IInferenceMarket.Config memory c) {
        c.modelNFT = address(nft);
        c.admin = admin;
        c.arbiter = arbiter;
        c.guardian = guardian;
        c.treasury = treasury;
        c.minStake = uint96(MIN_STAKE);
        c.unstakeDelay = uint32(UNSTAKE_DELAY);
        c.disputeWindow = uint32(WINDOW);
        c.protocolFeeBps = FEE_BPS;
        c.slashBps = SLASH_BPS;
        c.disputeBond = uint96(BOND);
    }

    function _deadline() internal view returns (uint256) {
        return block.timestamp + 1 hours;
    }

    function _open(uint256 n, uint256 maxPrice) internal returns (uint256 id) {
        vm.prank(consumer);
        id = market.openRequest{value: n * maxPrice}(derivedToken, n, maxPrice, _deadline());
    }

    function _bid(address provider, uint256 id, uint256 price) internal {
        vm.prank(provider);
        market.bid(id, price);
    }

    function _agreed(uint256 n, uint256 maxPrice, uint256 price) internal returns (uint256 id) {
        id = _open(n, maxPrice);
        _bid(alice, id, price);
        vm.prank(consumer);
        market.acceptBid(id, alice);
    }

    function _reqHash(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("request", i));
    }

    function _resHash(uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("result", i));
    }

    function _record(uint256 id, uint256 count) internal {
        for (uint256 i; i < count; ++i) {
            vm.prank(alice);
            market.recordInference(id, _reqHash(i), _resHash(i));
        }
    }

    function _status(uint256 id) internal view returns (uint256) {
        return uint256(market.getRequest(id).status);
    }

    /// @dev What a payment of `gross` for the derived model credits to each party.
    function _split(uint256 gross)
        internal
        pure
        returns (uint256 fee, uint256 derivedRoyalty, uint256 lineage, uint256 toProvider)
    {
        fee = gross * FEE_BPS / 10_000;
        derivedRoyalty = gross * DERIVED_ROYALTY_BPS / 10_000;
        lineage = gross * BASE_LINEAGE_BPS / 10_000;
        toProvider = gross - fee - derivedRoyalty - lineage;
    }

    function _err(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector);
    }
}

contract InferenceMarketTest is InferenceMarketBase {
    // ================================================================== constructor

    function test_constructor_setsConfig_succeeds() public view {
        vm.assertEq(address(market.MODEL_NFT()), address(nft));
        vm.assertEq(market.MIN_STAKE(), MIN_STAKE);
        vm.assertEq(market.UNSTAKE_DELAY(), UNSTAKE_DELAY);
        vm.assertEq(market.DISPUTE_WINDOW(), WINDOW);
        vm.assertEq(market.SLASH_BPS(), SLASH_BPS);
        vm.assertEq(market.DISPUTE_BOND(), BOND);
        vm.assertEq(market.MAX_PROTOCOL_FEE_BPS(), 1_000);
        vm.assertEq(market.admin(), admin);
        vm.assertEq(market.pendingAdmin(), address(0));
        vm.assertEq(market.arbiter(), arbiter);
        vm.assertEq(market.guardian(), guardian);
        vm.assertEq(market.treasury(), treasury);
        vm.assertEq(uint256(market.protocolFeeBps()), FEE_BPS);
        vm.assertEq(market.nextRequestId(), 1);
        vm.assertEq(market.nextDisputeId(), 1);
        vm.assertEq(market.pendingDisputes(), 0);
        vm.assertFalse(market.paused());
    }

    function test_constructor_zeroAddress_reverts() public {
        for (uint256 i; i < 5; ++i) {
            IInferenceMarket.Config memory c = _config();
            if (i == 0) c.modelNFT = address(0);
            if (i == 1) c.admin = address(0);
            if (i == 2) c.arbiter = address(0);
            if (i == 3) c.guardian = address(0);
            if (i == 4) c.treasury = address(0);
            vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroAddress.selector));
            new InferenceMarket(c);
        }
    }

    function test_constructor_zeroMinStake_reverts() public {
        IInferenceMarket.Config memory c = _config();
        c.minStake = 0;
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroMinStake.selector));
        new InferenceMarket(c);
    }

    function test_constructor_zeroDisputeWindow_reverts() public {
        IInferenceMarket.Config memory c = _config();
        c.disputeWindow = 0;
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroDuration.selector));
        new InferenceMarket(c);
    }

    function test_constructor_feeTooHigh_reverts() public {
        IInferenceMarket.Config memory c = _config();
        c.protocolFeeBps = 1_001;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_FeeTooHigh.selector, 1_001, 1_000));
        new InferenceMarket(c);
    }

    function test_constructor_slashBpsTooHigh_reverts() public {
        IInferenceMarket.Config memory c = _config();
        c.slashBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidBps.selector, 10_001));
        new InferenceMarket(c);
    }

    // ================================================================== registerProvider

    function test_registerProvider_stakes_succeeds() public {
        address carl = makeAddr("carl");
        vm.deal(carl, 5 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.ProviderRegistered(carl, 1.5 ether);
        vm.prank(carl);
        market.registerProvider{value: 1.5 ether}();

        IInferenceMarket.Provider memory p = market.getProvider(carl);
        vm.assertEq(uint256(p.stake), 1.5 ether);
        vm.assertTrue(p.registered);
        vm.assertEq(uint256(p.unstakeRequestedAt), 0);
        vm.assertEq(uint256(p.activeAgreements), 0);
        vm.assertTrue(market.isActiveProvider(carl));
        vm.assertEq(address(market).balance, 2 * STAKE + 1.5 ether);
    }

    function test_registerProvider_alreadyRegistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_AlreadyRegistered.selector, alice));
        vm.prank(alice);
        market.registerProvider{value: STAKE}();
    }

    function test_registerProvider_stakeTooLow_reverts() public {
        vm.deal(stranger, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_StakeTooLow.selector, MIN_STAKE - 1, MIN_STAKE)
        );
        vm.prank(stranger);
        market.registerProvider{value: MIN_STAKE - 1}();
    }

    function test_registerProvider_amountTooLarge_reverts() public {
        uint256 huge = uint256(type(uint96).max) + 1;
        vm.deal(stranger, huge);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_AmountTooLarge.selector, huge));
        vm.prank(stranger);
        market.registerProvider{value: huge}();
    }

    // ================================================================== addStake

    function test_addStake_increasesStake_succeeds() public {
        vm.expectEmit(address(market));
        emit IInferenceMarket.StakeAdded(alice, 0.5 ether, STAKE + 0.5 ether);
        vm.prank(alice);
        market.addStake{value: 0.5 ether}();
        vm.assertEq(uint256(market.getProvider(alice).stake), STAKE + 0.5 ether);
    }

    function test_addStake_notRegistered_reverts() public {
        vm.deal(stranger, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotRegistered.selector, stranger));
        vm.prank(stranger);
        market.addStake{value: 1 ether}();
    }

    function test_addStake_zeroValue_reverts() public {
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroValue.selector));
        vm.prank(alice);
        market.addStake();
    }

    function test_addStake_amountTooLarge_reverts() public {
        uint256 extra = uint256(type(uint96).max) - STAKE + 1;
        vm.deal(alice, extra);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_AmountTooLarge.selector, uint256(type(uint96).max) + 1
            )
        );
        vm.prank(alice);
        market.addStake{value: extra}();
    }

    // ================================================================== requestUnstake

    function test_requestUnstake_deactivates_succeeds() public {
        vm.expectEmit(address(market));
        emit IInferenceMarket.UnstakeRequested(alice, T0 + UNSTAKE_DELAY);
        vm.prank(alice);
        market.requestUnstake();
        vm.assertEq(uint256(market.getProvider(alice).unstakeRequestedAt), T0);
        vm.assertFalse(market.isActiveProvider(alice));
    }

    function test_requestUnstake_notRegistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotRegistered.selector, stranger));
        vm.prank(stranger);
        market.requestUnstake();
    }

    function test_requestUnstake_alreadyRequested_reverts() public {
        vm.prank(alice);
        market.requestUnstake();
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnstakeAlreadyRequested.selector, alice)
        );
        vm.prank(alice);
        market.requestUnstake();
    }

    // ================================================================== withdrawStake

    function test_withdrawStake_afterDelay_succeeds() public {
        vm.prank(alice);
        market.requestUnstake();
        vm.warp(T0 + UNSTAKE_DELAY);
        uint256 before = alice.balance;
        vm.expectEmit(address(market));
        emit IInferenceMarket.StakeWithdrawn(alice, STAKE);
        vm.prank(alice);
        market.withdrawStake();

        vm.assertEq(alice.balance, before + STAKE);
        IInferenceMarket.Provider memory p = market.getProvider(alice);
        vm.assertFalse(p.registered);
        vm.assertEq(uint256(p.stake), 0);
        vm.assertEq(uint256(p.unstakeRequestedAt), 0);
        vm.assertEq(address(market).balance, STAKE);

        // A withdrawn provider may register again from scratch.
        vm.prank(alice);
        market.registerProvider{value: MIN_STAKE}();
        vm.assertTrue(market.isActiveProvider(alice));
    }

    function test_withdrawStake_notRegistered_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotRegistered.selector, stranger));
        vm.prank(stranger);
        market.withdrawStake();
    }

    function test_withdrawStake_unstakeNotRequested_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnstakeNotRequested.selector, alice));
        vm.prank(alice);
        market.withdrawStake();
    }

    function test_withdrawStake_delayNotElapsed_reverts() public {
        vm.prank(alice);
        market.requestUnstake();
        vm.warp(T0 + UNSTAKE_DELAY - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnstakeDelayNotElapsed.selector, T0 + UNSTAKE_DELAY)
        );
        vm.prank(alice);
        market.withdrawStake();
    }

    function test_withdrawStake_activeAgreement_reverts() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        vm.prank(alice);
        market.requestUnstake();
        vm.warp(T0 + UNSTAKE_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_HasActiveAgreements.selector, 1));
        vm.prank(alice);
        market.withdrawStake();

        // Still locked after completion until the last payment is released …
        _record(id, 2);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_HasActiveAgreements.selector, 1));
        vm.prank(alice);
        market.withdrawStake();
        // … then free.
        vm.warp(block.timestamp + WINDOW);
        market.release(id, 10);
        vm.prank(alice);
        market.withdrawStake();
        vm.assertFalse(market.getProvider(alice).registered);
    }

    function test_withdrawStake_transferFailed_reverts() public {
        MarketActor actor = new MarketActor(market);
        vm.deal(address(this), STAKE);
        actor.exec{value: STAKE}(abi.encodeCall(IInferenceMarket.registerProvider, ()));
        actor.exec(abi.encodeCall(IInferenceMarket.requestUnstake, ()));
        vm.warp(T0 + UNSTAKE_DELAY);
        actor.setMode(actor.REJECT());
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_TransferFailed.selector, address(actor), STAKE)
        );
        actor.exec(abi.encodeCall(IInferenceMarket.withdrawStake, ()));
    }

    // ================================================================== openRequest

    function test_openRequest_escrows_succeeds() public {
        uint256 deadline = _deadline();
        vm.expectEmit(address(market));
        emit IInferenceMarket.RequestOpened(1, consumer, derivedToken, 10, 0.1 ether, deadline);
        vm.prank(consumer);
        uint256 id = market.openRequest{value: 1 ether}(derivedToken, 10, 0.1 ether, deadline);

        vm.assertEq(id, 1);
        vm.assertEq(market.nextRequestId(), 2);
        IInferenceMarket.Request memory r = market.getRequest(id);
        vm.assertEq(r.consumer, consumer);
        vm.assertEq(uint256(r.status), uint256(IInferenceMarket.RequestStatus.Open));
        vm.assertEq(uint256(r.biddingDeadline), deadline);
        vm.assertEq(uint256(r.inferences), 10);
        vm.assertEq(uint256(r.feeBps), FEE_BPS);
        vm.assertEq(uint256(r.maxPrice), 0.1 ether);
        vm.assertEq(uint256(r.tokenId), derivedToken);
        vm.assertEq(r.provider, address(0));
        vm.assertEq(market.escrowOf(id), 1 ether);
        vm.assertEq(address(market).balance, 2 * STAKE + 1 ether);

        vm.prank(consumer);
        vm.assertEq(market.openRequest{value: 1}(baseToken, 1, 1, deadline), 2);
    }

    function test_openRequest_paused_reverts() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_Paused.selector));
        vm.prank(consumer);
        market.openRequest{value: 1 ether}(derivedToken, 1, 1 ether, _deadline());
    }

    function test_openRequest_invalidInferenceCount_reverts() public {
        uint256 deadline = _deadline();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidInferenceCount.selector, 0));
        vm.prank(consumer);
        market.openRequest(derivedToken, 0, 1 ether, deadline);

        uint256 tooMany = uint256(type(uint32).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidInferenceCount.selector, tooMany)
        );
        vm.prank(consumer);
        market.openRequest{value: tooMany}(derivedToken, tooMany, 1, deadline);
    }

    function test_openRequest_invalidPrice_reverts() public {
        uint256 deadline = _deadline();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidPrice.selector, 0));
        vm.prank(consumer);
        market.openRequest(derivedToken, 1, 0, deadline);

        uint256 tooHigh = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidPrice.selector, tooHigh));
        vm.prank(consumer);
        market.openRequest(derivedToken, 1, tooHigh, deadline);
    }

    function test_openRequest_invalidDeadline_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidDeadline.selector, T0));
        vm.prank(consumer);
        market.openRequest{value: 1}(derivedToken, 1, 1, T0);

        uint256 far = uint256(type(uint40).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidDeadline.selector, far));
        vm.prank(consumer);
        market.openRequest{value: 1}(derivedToken, 1, 1, far);
    }

    function test_openRequest_wrongPayment_reverts() public {
        uint256 deadline = _deadline();
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_WrongPayment.selector, 1 ether, 3 ether)
        );
        vm.prank(consumer);
        market.openRequest{value: 1 ether}(derivedToken, 3, 1 ether, deadline);

        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_WrongPayment.selector, 4 ether, 3 ether)
        );
        vm.prank(consumer);
        market.openRequest{value: 4 ether}(derivedToken, 3, 1 ether, deadline);
    }

    function test_openRequest_unknownModel_reverts() public {
        uint256 deadline = _deadline();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnknownModel.selector, 99));
        vm.prank(consumer);
        market.openRequest{value: 1}(99, 1, 1, deadline);

        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnknownModel.selector, 0));
        vm.prank(consumer);
        market.openRequest{value: 1}(0, 1, 1, deadline);

        uint256 wide = uint256(type(uint64).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnknownModel.selector, wide));
        vm.prank(consumer);
        market.openRequest{value: 1}(wide, 1, 1, deadline);
    }

    // ================================================================== bid

    function test_bid_firstBidIsBest_succeeds() public {
        uint256 id = _open(4, 1 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.BidPlaced(id, alice, 0.8 ether);
        _bid(alice, id, 0.8 ether);
        vm.assertEq(market.bidOf(id, alice), 0.8 ether);
        IInferenceMarket.Request memory r = market.getRequest(id);
        vm.assertEq(r.provider, alice);
        vm.assertEq(uint256(r.price), 0.8 ether);
    }

    function test_bid_rebidLower_succeeds() public {
        uint256 id = _open(4, 1 ether);
        _bid(alice, id, 0.8 ether);
        _bid(bob, id, 0.7 ether);
        vm.assertEq(market.getRequest(id).provider, bob);
        _bid(alice, id, 0.6 ether);
        vm.assertEq(market.bidOf(id, alice), 0.6 ether);
        vm.assertEq(market.getRequest(id).provider, alice);
        vm.assertEq(uint256(market.getRequest(id).price), 0.6 ether);
    }

    function test_bid_tieKeepsEarliest_succeeds() public {
        uint256 id = _open(4, 1 ether);
        _bid(alice, id, 0.5 ether);
        _bid(bob, id, 0.5 ether);
        vm.assertEq(market.getRequest(id).provider, alice);
        // A higher bid does not displace the best either.
        address carl = makeAddr("carl");
        vm.deal(carl, STAKE);
        vm.prank(carl);
        market.registerProvider{value: STAKE}();
        _bid(carl, id, 0.9 ether);
        vm.assertEq(market.getRequest(id).provider, alice);
        vm.assertEq(uint256(market.getRequest(id).price), 0.5 ether);
    }

    function test_bid_paused_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_Paused.selector));
        _bid(alice, id, 1 ether);
    }

    function test_bid_wrongStatus_reverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, 7, IInferenceMarket.RequestStatus.None
            )
        );
        _bid(alice, 7, 1);

        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Agreed
            )
        );
        _bid(bob, id, 0.5 ether);
    }

    function test_bid_biddingClosed_reverts() public {
        uint256 id = _open(1, 1 ether);
        uint256 deadline = market.getRequest(id).biddingDeadline;
        vm.warp(deadline);
        _bid(alice, id, 1 ether); // the deadline itself is still open
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BiddingClosed.selector, deadline));
        _bid(bob, id, 0.5 ether);
    }

    function test_bid_selfDealing_reverts() public {
        vm.prank(consumer);
        market.registerProvider{value: STAKE}();
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_SelfDealing.selector, consumer));
        _bid(consumer, id, 1 ether);
    }

    function test_bid_providerNotActive_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_ProviderNotActive.selector, stranger));
        _bid(stranger, id, 1 ether);

        vm.prank(alice);
        market.requestUnstake();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_ProviderNotActive.selector, alice));
        _bid(alice, id, 1 ether);
    }

    function test_bid_zeroPrice_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidPrice.selector, 0));
        _bid(alice, id, 0);
    }

    function test_bid_bidTooHigh_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BidTooHigh.selector, 1 ether + 1, 1 ether)
        );
        _bid(alice, id, 1 ether + 1);
    }

    function test_bid_bidNotLower_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 0.5 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BidNotLower.selector, 0.5 ether, 0.5 ether)
        );
        _bid(alice, id, 0.5 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BidNotLower.selector, 0.6 ether, 0.5 ether)
        );
        _bid(alice, id, 0.6 ether);
    }

    // ================================================================== acceptBid

    function test_acceptBid_refundsExcess_succeeds() public {
        uint256 id = _open(10, 1 ether);
        _bid(alice, id, 0.4 ether);
        _bid(bob, id, 0.7 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementReached(id, bob, 0.7 ether, 3 ether, false);
        vm.prank(consumer);
        market.acceptBid(id, bob); // not the best bid: the consumer's choice

        IInferenceMarket.Request memory r = market.getRequest(id);
        vm.assertEq(uint256(r.status), uint256(IInferenceMarket.RequestStatus.Agreed));
        vm.assertEq(r.provider, bob);
        vm.assertEq(uint256(r.price), 0.7 ether);
        vm.assertEq(market.owed(consumer), 3 ether);
        vm.assertEq(market.escrowOf(id), 7 ether);
        vm.assertEq(uint256(market.getProvider(bob).activeAgreements), 1);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function test_acceptBid_afterDeadline_succeeds() public {
        uint256 id = _open(2, 1 ether);
        _bid(alice, id, 1 ether);
        vm.warp(block.timestamp + 30 days);
        vm.prank(consumer);
        market.acceptBid(id, alice);
        vm.assertEq(_status(id), uint256(IInferenceMarket.RequestStatus.Agreed));
        vm.assertEq(market.owed(consumer), 0);
    }

    function test_acceptBid_wrongStatus_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Agreed
            )
        );
        vm.prank(consumer);
        market.acceptBid(id, alice);
    }

    function test_acceptBid_notConsumer_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotConsumer.selector, alice, consumer));
        vm.prank(alice);
        market.acceptBid(id, alice);
    }

    function test_acceptBid_noBid_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NoBid.selector, id, bob));
        vm.prank(consumer);
        market.acceptBid(id, bob);
    }

    function test_acceptBid_providerNotActive_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 1 ether);
        vm.prank(alice);
        market.requestUnstake();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_ProviderNotActive.selector, alice));
        vm.prank(consumer);
        market.acceptBid(id, alice);
    }

    // ================================================================== settle

    function test_settle_lowestBidByAnyone_succeeds() public {
        uint256 id = _open(5, 1 ether);
        _bid(alice, id, 0.9 ether);
        _bid(bob, id, 0.6 ether);
        _bid(alice, id, 0.6 ether); // ties bob's: bob was first at that price
        vm.warp(block.timestamp + 2 hours);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementReached(id, bob, 0.6 ether, 2 ether, true);
        vm.prank(stranger);
        market.settle(id);
        vm.assertEq(market.getRequest(id).provider, bob);
        vm.assertEq(market.owed(consumer), 2 ether);
        vm.assertEq(market.escrowOf(id), 3 ether);
    }

    function test_settle_wrongStatus_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Agreed
            )
        );
        market.settle(id);
    }

    function test_settle_biddingOpen_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 1 ether);
        uint256 deadline = market.getRequest(id).biddingDeadline;
        vm.warp(deadline);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BiddingOpen.selector, deadline));
        market.settle(id);
    }

    function test_settle_noBids_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NoBids.selector, id));
        market.settle(id);
    }

    function test_settle_providerNotActive_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 1 ether);
        vm.prank(alice);
        market.requestUnstake();
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_ProviderNotActive.selector, alice));
        market.settle(id);
    }

    // ================================================================== cancelRequest

    function test_cancelRequest_noBids_succeeds() public {
        uint256 id = _open(3, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.expectEmit(address(market));
        emit IInferenceMarket.RequestCancelled(id, 3 ether);
        vm.prank(consumer);
        market.cancelRequest(id);
        vm.assertEq(_status(id), uint256(IInferenceMarket.RequestStatus.Cancelled));
        vm.assertEq(market.owed(consumer), 3 ether);
        vm.assertEq(market.escrowOf(id), 0);
    }

    function test_cancelRequest_bestBidderInactive_succeeds() public {
        uint256 id = _open(3, 1 ether);
        _bid(alice, id, 1 ether);
        vm.prank(alice);
        market.requestUnstake();
        vm.warp(block.timestamp + 2 hours);
        vm.prank(consumer);
        market.cancelRequest(id);
        vm.assertEq(market.owed(consumer), 3 ether);
    }

    function test_cancelRequest_wrongStatus_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.prank(consumer);
        market.cancelRequest(id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Cancelled
            )
        );
        vm.prank(consumer);
        market.cancelRequest(id);
    }

    function test_cancelRequest_notConsumer_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotConsumer.selector, stranger, consumer)
        );
        vm.prank(stranger);
        market.cancelRequest(id);
    }

    function test_cancelRequest_biddingOpen_reverts() public {
        uint256 id = _open(1, 1 ether);
        uint256 deadline = market.getRequest(id).biddingDeadline;
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_BiddingOpen.selector, deadline));
        vm.prank(consumer);
        market.cancelRequest(id);
    }

    function test_cancelRequest_hasBids_reverts() public {
        uint256 id = _open(1, 1 ether);
        _bid(alice, id, 1 ether);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_HasBids.selector, id, alice));
        vm.prank(consumer);
        market.cancelRequest(id);
    }

    // ================================================================== recordInference

    function test_recordInference_storesRecord_succeeds() public {
        uint256 id = _agreed(3, 1 ether, 1 ether);
        vm.warp(T0 + 100);
        vm.expectEmit(address(market));
        emit IInferenceMarket.InferenceRecorded(id, 0, _reqHash(0), _resHash(0));
        vm.prank(alice);
        uint256 index = market.recordInference(id, _reqHash(0), _resHash(0));
        vm.assertEq(index, 0);

        (uint40 at, IInferenceMarket.InferenceState state, bytes26 commitment) = market.inferenceRecord(id, 0);
        vm.assertEq(uint256(at), T0 + 100);
        vm.assertEq(uint256(state), uint256(IInferenceMarket.InferenceState.Recorded));
        vm.assertEq(bytes32(commitment), bytes32(bytes26(keccak256(abi.encodePacked(_reqHash(0), _resHash(0))))));
        vm.assertEq(bytes32(commitment), bytes32(market.inferenceCommitment(_reqHash(0), _resHash(0))));
        vm.assertEq(uint256(market.getRequest(id).recorded), 1);
        vm.assertEq(_status(id), uint256(IInferenceMarket.RequestStatus.Agreed));
        // Nothing is paid at record time.
        vm.assertEq(market.owed(alice), 0);
        vm.assertEq(market.escrowOf(id), 3 ether);
    }

    function test_recordInference_lastCompletes_succeeds() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementCompleted(id);
        vm.prank(alice);
        vm.assertEq(market.recordInference(id, _reqHash(1), _resHash(1)), 1);
        vm.assertEq(_status(id), uint256(IInferenceMarket.RequestStatus.Completed));
        vm.assertEq(uint256(market.getRequest(id).recorded), 2);
    }

    function test_recordInference_wrongStatus_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Open
            )
        );
        vm.prank(alice);
        market.recordInference(id, _reqHash(0), _resHash(0));

        uint256 id2 = _agreed(1, 1 ether, 1 ether);
        _record(id2, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id2, IInferenceMarket.RequestStatus.Completed
            )
        );
        vm.prank(alice);
        market.recordInference(id2, _reqHash(1), _resHash(1));
    }

    function test_recordInference_notProvider_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotProvider.selector, bob, alice));
        vm.prank(bob);
        market.recordInference(id, _reqHash(0), _resHash(0));
    }

    function test_recordInference_zeroHash_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroHash.selector));
        vm.prank(alice);
        market.recordInference(id, bytes32(0), _resHash(0));
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroHash.selector));
        vm.prank(alice);
        market.recordInference(id, _reqHash(0), bytes32(0));
    }

    // ================================================================== closeRequest

    function test_closeRequest_byConsumerRefundsUnused_succeeds() public {
        uint256 id = _agreed(5, 1 ether, 0.5 ether);
        vm.assertEq(market.owed(consumer), 2.5 ether);
        _record(id, 2);
        vm.expectEmit(address(market));
        emit IInferenceMarket.RequestClosed(id, consumer, 2, 1.5 ether);
        vm.prank(consumer);
        market.closeRequest(id);

        IInferenceMarket.Request memory r = market.getRequest(id);
        vm.assertEq(uint256(r.status), uint256(IInferenceMarket.RequestStatus.Completed));
        vm.assertEq(uint256(r.inferences), 2);
        vm.assertEq(market.owed(consumer), 4 ether);
        vm.assertEq(market.escrowOf(id), 1 ether);
        // The two recorded inferences are still pending: the agreement is not finalized.
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 1);
    }

    function test_closeRequest_byProviderNothingPending_succeeds() public {
        uint256 id = _agreed(3, 1 ether, 1 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.RequestClosed(id, alice, 0, 3 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementFinalized(id);
        vm.prank(alice);
        market.closeRequest(id);
        vm.assertEq(market.owed(consumer), 3 ether);
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function test_closeRequest_wrongStatus_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Open
            )
        );
        vm.prank(consumer);
        market.closeRequest(id);
    }

    function test_closeRequest_notParticipant_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotParticipant.selector, bob));
        vm.prank(bob);
        market.closeRequest(id);
    }

    // ================================================================== release

    function test_release_splitsPayment_succeeds() public {
        uint256 id = _agreed(4, 1 ether, 1 ether);
        _record(id, 4);
        vm.warp(block.timestamp + WINDOW);
        (uint256 fee, uint256 roy, uint256 lin, uint256 prov) = _split(4 ether);

        vm.expectEmit(address(market));
        emit IInferenceMarket.InferencesReleased(id, 4, 4);
        vm.expectEmit(address(market));
        emit IInferenceMarket.RoyaltyCredited(id, derivedReceiver, roy);
        vm.expectEmit(address(market));
        emit IInferenceMarket.RoyaltyCredited(id, baseOwner, lin);
        vm.expectEmit(address(market));
        emit IInferenceMarket.PaymentDistributed(id, alice, 4 ether, prov, roy + lin, fee);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementFinalized(id);
        vm.prank(stranger);
        vm.assertEq(market.release(id, 100), 4);

        vm.assertEq(market.owed(alice), prov);
        vm.assertEq(market.owed(derivedReceiver), roy);
        vm.assertEq(market.owed(baseOwner), lin);
        vm.assertEq(market.owed(treasury), fee);
        vm.assertEq(prov, 3.38 ether); // 4 − 2.5 % − 3 % − 10 %
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(uint256(market.getRequest(id).paid), 4);
        vm.assertEq(uint256(market.getRequest(id).cursor), 4);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function test_release_partialAndInWindow_succeeds() public {
        uint256 id = _agreed(5, 1 ether, 1 ether);
        _record(id, 2);
        vm.warp(block.timestamp + 10);
        _record(id, 2); // indexes 2 and 3, 10 s later
        vm.warp(T0 + WINDOW);
        // Only the first two are out of their window; maxCount 1 pays one.
        vm.assertEq(market.release(id, 1), 1);
        vm.assertEq(market.release(id, 10), 1);
        vm.assertEq(uint256(market.getRequest(id).cursor), 2);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NothingToRelease.selector, id));
        market.release(id, 10);
        vm.warp(T0 + WINDOW + 10);
        vm.assertEq(market.release(id, 10), 2);
        vm.assertEq(market.escrowOf(id), 1 ether);
        // Agreement still open for a fifth inference: not finalized.
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 1);
    }

    function test_release_skipsDisputed_succeeds() public {
        uint256 id = _agreed(3, 1 ether, 1 ether);
        _record(id, 3);
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 1, bytes32("wrong"));
        vm.warp(block.timestamp + WINDOW);
        vm.assertEq(market.release(id, 10), 2);
        IInferenceMarket.Request memory r = market.getRequest(id);
        vm.assertEq(uint256(r.cursor), 3);
        vm.assertEq(uint256(r.paid), 2);
        vm.assertEq(market.escrowOf(id), 1 ether); // the disputed one stays in escrow
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 1);
        // Only disputed inferences left: nothing to release.
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NothingToRelease.selector, id));
        market.release(id, 10);
    }

    function test_release_wrongStatus_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Open
            )
        );
        market.release(id, 1);
    }

    function test_release_zeroCount_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.warp(block.timestamp + WINDOW);
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroCount.selector));
        market.release(id, 0);
    }

    function test_release_nothingToRelease_reverts() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NothingToRelease.selector, id));
        market.release(id, 1); // nothing recorded
        _record(id, 1);
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NothingToRelease.selector, id));
        market.release(id, 1); // still in its window
    }

    // ================================================================== dispute

    function test_dispute_opens_succeeds() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        _record(id, 2);
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectEmit(address(market));
        emit IInferenceMarket.DisputeRaised(1, id, 1, consumer, bytes32("bad output"));
        vm.prank(consumer);
        uint256 disputeId = market.dispute{value: BOND}(id, 1, bytes32("bad output"));

        vm.assertEq(disputeId, 1);
        vm.assertEq(market.nextDisputeId(), 2);
        vm.assertEq(market.pendingDisputes(), 1);
        IInferenceMarket.Dispute memory d = market.getDispute(disputeId);
        vm.assertEq(uint256(d.requestId), id);
        vm.assertEq(uint256(d.index), 1);
        vm.assertEq(uint256(d.raisedAt), block.timestamp);
        vm.assertEq(uint256(d.status), uint256(IInferenceMarket.DisputeStatus.Pending));
        (, IInferenceMarket.InferenceState state, bytes26 commitment) = market.inferenceRecord(id, 1);
        vm.assertEq(uint256(state), uint256(IInferenceMarket.InferenceState.Disputed));
        vm.assertEq(bytes32(commitment), bytes32(market.inferenceCommitment(_reqHash(1), _resHash(1))));

        IInferenceMarket.DisputeContext memory ctx = market.disputeContext(disputeId);
        vm.assertEq(ctx.requestId, id);
        vm.assertEq(ctx.index, 1);
        vm.assertEq(uint256(ctx.status), uint256(IInferenceMarket.DisputeStatus.Pending));
        vm.assertEq(uint256(ctx.raisedAt), block.timestamp);
        vm.assertEq(ctx.tokenId, derivedToken);
        vm.assertEq(ctx.consumer, consumer);
        vm.assertEq(ctx.provider, alice);
        vm.assertEq(ctx.price, 1 ether);
        vm.assertEq(uint256(ctx.recordedAt), T0);
        vm.assertEq(bytes32(ctx.commitment), bytes32(commitment));
        vm.assertEq(address(market).balance, 2 * STAKE + 2 ether + BOND);
    }

    function test_dispute_wrongStatus_reverts() public {
        uint256 id = _open(1, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Open
            )
        );
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 0, bytes32(0));
    }

    function test_dispute_notConsumer_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.deal(stranger, BOND);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotConsumer.selector, stranger, consumer)
        );
        vm.prank(stranger);
        market.dispute{value: BOND}(id, 0, bytes32(0));
    }

    function test_dispute_wrongBond_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_WrongPayment.selector, 0, BOND));
        vm.prank(consumer);
        market.dispute(id, 0, bytes32(0));
    }

    function test_dispute_unknownInference_reverts() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_UnknownInference.selector, id, 1));
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 1, bytes32(0));
    }

    function test_dispute_alreadyDisputed_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_AlreadyDisputed.selector, id, 0));
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 0, bytes32(0));
    }

    function test_dispute_windowClosed_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.warp(T0 + WINDOW);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_DisputeWindowClosed.selector, T0 + WINDOW)
        );
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 0, bytes32(0));
    }

    // ================================================================== resolveDispute

    function _disputed(uint256 n, uint256 recordCount, uint256 index) internal returns (uint256 id, uint256 disputeId) {
        id = _agreed(n, 1 ether, 1 ether);
        _record(id, recordCount);
        vm.prank(consumer);
        disputeId = market.dispute{value: BOND}(id, index, bytes32("wrong"));
    }

    function test_resolveDispute_providerAtFault_succeeds() public {
        (uint256 id, uint256 disputeId) = _disputed(1, 1, 0);
        uint256 slashed = STAKE * SLASH_BPS / 10_000; // 0.4 ether
        uint256 toConsumer = 1 ether + slashed / 2 + BOND;
        vm.expectEmit(address(market));
        emit IInferenceMarket.DisputeResolved(disputeId, true, slashed, toConsumer, arbiter);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementFinalized(id);
        vm.prank(arbiter);
        market.resolveDispute(disputeId, true);

        vm.assertEq(market.owed(consumer), toConsumer);
        vm.assertEq(market.owed(treasury), slashed - slashed / 2);
        vm.assertEq(market.owed(alice), 0);
        vm.assertEq(uint256(market.getProvider(alice).stake), STAKE - slashed);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(market.pendingDisputes(), 0);
        vm.assertEq(
            uint256(market.getDispute(disputeId).status), uint256(IInferenceMarket.DisputeStatus.ProviderAtFault)
        );
        (, IInferenceMarket.InferenceState state, bytes26 commitment) = market.inferenceRecord(id, 0);
        vm.assertEq(uint256(state), uint256(IInferenceMarket.InferenceState.Resolved));
        vm.assertEq(bytes32(commitment), bytes32(market.inferenceCommitment(_reqHash(0), _resHash(0))));
        // 1.6 ether ≥ MIN_STAKE: still active. A second loss (−0.32) keeps it at 1.28; a third at 1.024;
        // a fourth drops it below MIN_STAKE.
        vm.assertTrue(market.isActiveProvider(alice));
    }

    function test_resolveDispute_slashBelowMinStakeDeactivates_succeeds() public {
        for (uint256 i; i < 4; ++i) {
            (, uint256 disputeId) = _disputed(1, 1, 0);
            vm.prank(arbiter);
            market.resolveDispute(disputeId, true);
        }
        vm.assertLt(uint256(market.getProvider(alice).stake), MIN_STAKE);
        vm.assertFalse(market.isActiveProvider(alice));
        vm.prank(alice);
        market.addStake{value: 1 ether}();
        vm.assertTrue(market.isActiveProvider(alice));
    }

    function test_resolveDispute_providerNotAtFault_succeeds() public {
        (uint256 id, uint256 disputeId) = _disputed(2, 2, 1);
        (uint256 fee, uint256 roy, uint256 lin, uint256 prov) = _split(1 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.PaymentDistributed(id, alice, 1 ether, prov, roy + lin, fee);
        vm.expectEmit(address(market));
        emit IInferenceMarket.DisputeResolved(disputeId, false, 0, 0, arbiter);
        vm.prank(arbiter);
        market.resolveDispute(disputeId, false);

        vm.assertEq(market.owed(alice), prov + BOND);
        vm.assertEq(market.owed(treasury), fee);
        vm.assertEq(market.owed(derivedReceiver), roy);
        vm.assertEq(market.owed(baseOwner), lin);
        vm.assertEq(uint256(market.getProvider(alice).stake), STAKE);
        vm.assertEq(uint256(market.getRequest(id).paid), 1);
        vm.assertEq(market.escrowOf(id), 1 ether);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 1);
        vm.assertEq(
            uint256(market.getDispute(disputeId).status), uint256(IInferenceMarket.DisputeStatus.ProviderNotAtFault)
        );

        // The other inference pays out after its window, which finalizes the agreement.
        vm.warp(block.timestamp + WINDOW);
        vm.assertEq(market.release(id, 10), 1);
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function test_resolveDispute_afterReleaseFinalizes_succeeds() public {
        (uint256 id, uint256 disputeId) = _disputed(2, 2, 0);
        vm.warp(block.timestamp + WINDOW);
        market.release(id, 10);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 1);
        vm.expectEmit(address(market));
        emit IInferenceMarket.AgreementFinalized(id);
        vm.prank(arbiter);
        market.resolveDispute(disputeId, false);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function test_resolveDispute_notArbiter_reverts() public {
        (, uint256 disputeId) = _disputed(1, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotArbiter.selector, admin));
        vm.prank(admin);
        market.resolveDispute(disputeId, true);
    }

    function test_resolveDispute_notPending_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_DisputeNotPending.selector, 5));
        vm.prank(arbiter);
        market.resolveDispute(5, true);

        (, uint256 disputeId) = _disputed(1, 1, 0);
        vm.prank(arbiter);
        market.resolveDispute(disputeId, false);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_DisputeNotPending.selector, disputeId));
        vm.prank(arbiter);
        market.resolveDispute(disputeId, true);
    }

    function test_resolveDispute_newArbiterResolvesOldDispute_succeeds() public {
        // The arbiter is read at resolution time: a replacement (e.g. the dispute game) resolves
        // disputes raised before it was set, and the old one no longer can.
        (uint256 id, uint256 disputeId) = _disputed(1, 1, 0);
        address game = makeAddr("disputeGame");
        vm.expectEmit(address(market));
        emit IInferenceMarket.ArbiterSet(arbiter, game);
        vm.prank(admin);
        market.setArbiter(game);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotArbiter.selector, arbiter));
        vm.prank(arbiter);
        market.resolveDispute(disputeId, true);
        vm.prank(game);
        market.resolveDispute(disputeId, true);
        vm.assertEq(market.escrowOf(id), 0);
    }

    // ================================================================== rate

    function test_rate_bothSides_succeeds() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectEmit(address(market));
        emit IInferenceMarket.Rated(id, consumer, alice, 4);
        vm.prank(consumer);
        market.rate(id, 4);
        vm.prank(alice);
        market.rate(id, 5);

        IInferenceMarket.Reputation memory ra = market.reputationOf(alice);
        IInferenceMarket.Reputation memory rc = market.reputationOf(consumer);
        vm.assertEq(uint256(ra.count), 1);
        vm.assertEq(uint256(ra.sum), 4);
        vm.assertEq(uint256(rc.count), 1);
        vm.assertEq(uint256(rc.sum), 5);
        vm.assertTrue(market.hasRated(id, consumer));
        vm.assertTrue(market.hasRated(id, alice));
        vm.assertFalse(market.hasRated(id, stranger));
        vm.assertFalse(market.hasRated(id, address(0)));

        // A second agreement adds to the aggregate.
        uint256 id2 = _agreed(1, 1 ether, 1 ether);
        vm.prank(consumer);
        market.closeRequest(id2);
        vm.assertFalse(market.hasRated(id2, consumer));
        vm.prank(consumer);
        market.rate(id2, 1);
        ra = market.reputationOf(alice);
        vm.assertEq(uint256(ra.count), 2);
        vm.assertEq(uint256(ra.sum), 5);
    }

    function test_rate_invalidScore_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidScore.selector, 0));
        vm.prank(consumer);
        market.rate(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_InvalidScore.selector, 6));
        vm.prank(consumer);
        market.rate(id, 6);
    }

    function test_rate_notCompleted_reverts() public {
        uint256 id = _agreed(2, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceMarket.InferenceMarket_WrongStatus.selector, id, IInferenceMarket.RequestStatus.Agreed
            )
        );
        vm.prank(consumer);
        market.rate(id, 3);
    }

    function test_rate_notParticipant_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotParticipant.selector, bob));
        vm.prank(bob);
        market.rate(id, 3);
    }

    function test_rate_alreadyRated_reverts() public {
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.prank(alice);
        market.rate(id, 3);
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_AlreadyRated.selector, id, alice));
        vm.prank(alice);
        market.rate(id, 3);
    }

    // ================================================================== withdraw

    function test_withdraw_paysOwed_succeeds() public {
        _agreed(4, 1 ether, 0.25 ether);
        uint256 before = consumer.balance;
        vm.expectEmit(address(market));
        emit IInferenceMarket.Withdrawn(consumer, 3 ether);
        vm.prank(consumer);
        market.withdraw();
        vm.assertEq(consumer.balance, before + 3 ether);
        vm.assertEq(market.owed(consumer), 0);
        vm.assertEq(address(market).balance, 2 * STAKE + 1 ether);
    }

    function test_withdraw_nothingToWithdraw_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NothingToWithdraw.selector, stranger));
        vm.prank(stranger);
        market.withdraw();
    }

    function test_withdraw_transferFailed_reverts() public {
        MarketActor actor = new MarketActor(market);
        vm.deal(address(this), 2 ether);
        uint256 deadline = _deadline();
        bytes memory ret = actor.exec{value: 2 ether}(
            abi.encodeCall(IInferenceMarket.openRequest, (derivedToken, 2, 1 ether, deadline))
        );
        uint256 id = abi.decode(ret, (uint256));
        vm.warp(deadline + 1);
        actor.exec(abi.encodeCall(IInferenceMarket.cancelRequest, (id)));
        vm.assertEq(market.owed(address(actor)), 2 ether);

        actor.setMode(actor.REJECT());
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_TransferFailed.selector, address(actor), 2 ether)
        );
        actor.exec(abi.encodeCall(IInferenceMarket.withdraw, ()));

        // Re-entering withdraw from the receive hook fails the transfer as a whole.
        actor.setMode(actor.REENTER());
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceMarket.InferenceMarket_TransferFailed.selector, address(actor), 2 ether)
        );
        actor.exec(abi.encodeCall(IInferenceMarket.withdraw, ()));

        actor.setMode(actor.ACCEPT());
        actor.exec(abi.encodeCall(IInferenceMarket.withdraw, ()));
        vm.assertEq(address(actor).balance, 2 ether);
        vm.assertEq(market.owed(address(actor)), 0);
    }

    // ================================================================== administration

    function test_transferAdmin_twoStep_succeeds() public {
        address next = makeAddr("nextAdmin");
        vm.expectEmit(address(market));
        emit IInferenceMarket.AdminTransferStarted(admin, next);
        vm.prank(admin);
        market.transferAdmin(next);
        vm.assertEq(market.pendingAdmin(), next);
        vm.assertEq(market.admin(), admin);

        vm.expectEmit(address(market));
        emit IInferenceMarket.AdminTransferred(admin, next);
        vm.prank(next);
        market.acceptAdmin();
        vm.assertEq(market.admin(), next);
        vm.assertEq(market.pendingAdmin(), address(0));

        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, admin));
        vm.prank(admin);
        market.setProtocolFee(0);
    }

    function test_transferAdmin_notAdmin_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, stranger));
        vm.prank(stranger);
        market.transferAdmin(stranger);
    }

    function test_acceptAdmin_notPendingAdmin_reverts() public {
        vm.prank(admin);
        market.transferAdmin(makeAddr("nextAdmin"));
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotPendingAdmin.selector, stranger));
        vm.prank(stranger);
        market.acceptAdmin();

        // With no proposal, not even address(0) can take over.
        vm.prank(admin);
        market.transferAdmin(address(0));
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotPendingAdmin.selector, address(0)));
        vm.prank(address(0));
        market.acceptAdmin();
    }

    function test_setArbiter_notAdmin_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, arbiter));
        vm.prank(arbiter);
        market.setArbiter(arbiter);
    }

    function test_setArbiter_zeroAddress_reverts() public {
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroAddress.selector));
        vm.prank(admin);
        market.setArbiter(address(0));
    }

    function test_setGuardian_updates_succeeds() public {
        address g = makeAddr("guardian2");
        vm.expectEmit(address(market));
        emit IInferenceMarket.GuardianSet(guardian, g);
        vm.prank(admin);
        market.setGuardian(g);
        vm.assertEq(market.guardian(), g);
        vm.prank(g);
        market.pause();
        vm.assertTrue(market.paused());
    }

    function test_setGuardian_notAdmin_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, guardian));
        vm.prank(guardian);
        market.setGuardian(guardian);
    }

    function test_setGuardian_zeroAddress_reverts() public {
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroAddress.selector));
        vm.prank(admin);
        market.setGuardian(address(0));
    }

    function test_setTreasury_newFeesGoToNewTreasury_succeeds() public {
        address t = makeAddr("treasury2");
        uint256 id = _agreed(1, 1 ether, 1 ether);
        _record(id, 1);
        vm.expectEmit(address(market));
        emit IInferenceMarket.TreasurySet(treasury, t);
        vm.prank(admin);
        market.setTreasury(t);
        vm.assertEq(market.treasury(), t);
        vm.warp(block.timestamp + WINDOW);
        market.release(id, 1);
        (uint256 fee,,,) = _split(1 ether);
        vm.assertEq(market.owed(t), fee);
        vm.assertEq(market.owed(treasury), 0);
    }

    function test_setTreasury_notAdmin_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, treasury));
        vm.prank(treasury);
        market.setTreasury(treasury);
    }

    function test_setTreasury_zeroAddress_reverts() public {
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_ZeroAddress.selector));
        vm.prank(admin);
        market.setTreasury(address(0));
    }

    function test_setProtocolFee_snapshotPerRequest_succeeds() public {
        uint256 oldId = _agreed(1, 1 ether, 1 ether);
        vm.expectEmit(address(market));
        emit IInferenceMarket.ProtocolFeeSet(FEE_BPS, 1_000);
        vm.prank(admin);
        market.setProtocolFee(1_000);
        vm.assertEq(uint256(market.protocolFeeBps()), 1_000);
        uint256 newId = _agreed(1, 1 ether, 1 ether);
        vm.assertEq(uint256(market.getRequest(oldId).feeBps), FEE_BPS);
        vm.assertEq(uint256(market.getRequest(newId).feeBps), 1_000);

        _record(oldId, 1);
        _record(newId, 1);
        vm.warp(block.timestamp + WINDOW);
        market.release(oldId, 1);
        vm.assertEq(market.owed(treasury), 0.025 ether);
        market.release(newId, 1);
        vm.assertEq(market.owed(treasury), 0.125 ether);
    }

    function test_setProtocolFee_notAdmin_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotAdmin.selector, stranger));
        vm.prank(stranger);
        market.setProtocolFee(1);
    }

    function test_setProtocolFee_feeTooHigh_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_FeeTooHigh.selector, 1_001, 1_000));
        vm.prank(admin);
        market.setProtocolFee(1_001);
    }

    function test_pause_blocksOpenAndBidOnly_succeeds() public {
        uint256 id = _open(2, 1 ether);
        _bid(alice, id, 1 ether);
        vm.prank(guardian);
        market.pause();
        vm.assertTrue(market.paused());
        // Everything that protects funds keeps working while paused.
        vm.prank(consumer);
        market.acceptBid(id, alice);
        _record(id, 1);
        vm.prank(consumer);
        market.dispute{value: BOND}(id, 0, bytes32(0));
        vm.prank(consumer);
        market.closeRequest(id);
        vm.prank(consumer);
        market.withdraw();

        vm.prank(guardian);
        market.unpause();
        vm.assertFalse(market.paused());
        _open(1, 1 ether);
    }

    function test_pause_notGuardian_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotGuardian.selector, admin));
        vm.prank(admin);
        market.pause();
    }

    function test_pause_alreadyPaused_reverts() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_Paused.selector));
        vm.prank(guardian);
        market.pause();
    }

    function test_unpause_notGuardian_reverts() public {
        vm.prank(guardian);
        market.pause();
        vm.expectRevert(abi.encodeWithSelector(IInferenceMarket.InferenceMarket_NotGuardian.selector, stranger));
        vm.prank(stranger);
        market.unpause();
    }

    function test_unpause_notPaused_reverts() public {
        vm.expectRevert(_err(IInferenceMarket.InferenceMarket_NotPaused.selector));
        vm.prank(guardian);
        market.unpause();
    }

    // ================================================================== views

    function test_escrowOf_acrossLifecycle_succeeds() public {
        vm.assertEq(market.escrowOf(42), 0);
        uint256 id = _open(4, 1 ether);
        vm.assertEq(market.escrowOf(id), 4 ether);
        _bid(alice, id, 0.5 ether);
        vm.prank(consumer);
        market.acceptBid(id, alice);
        vm.assertEq(market.escrowOf(id), 2 ether);
        _record(id, 3);
        vm.assertEq(market.escrowOf(id), 2 ether);
        vm.warp(block.timestamp + WINDOW);
        market.release(id, 2);
        vm.assertEq(market.escrowOf(id), 1 ether);
        vm.prank(consumer);
        market.closeRequest(id);
        vm.assertEq(market.escrowOf(id), 0.5 ether);
        market.release(id, 2);
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(address(market).balance, 2 * STAKE + _totalOwed());
    }

    function test_disputeContext_unknown_succeeds() public view {
        IInferenceMarket.DisputeContext memory ctx = market.disputeContext(9);
        vm.assertEq(uint256(ctx.status), uint256(IInferenceMarket.DisputeStatus.None));
        vm.assertEq(ctx.consumer, address(0));
        vm.assertEq(uint256(ctx.recordedAt), 0);
    }

    function _totalOwed() internal view returns (uint256 sum) {
        address[9] memory who =
            [consumer, alice, bob, treasury, baseOwner, baseReceiver, derivedOwner, derivedReceiver, stranger];
        for (uint256 i; i < who.length; ++i) {
            sum += market.owed(who[i]);
        }
    }

    // ================================================================== end to end and fuzz

    /// @dev The gas-report scenario: open, two bids, accept, record, release, withdraw.
    function test_lifecycle_endToEnd_succeeds() public {
        uint256 id = _open(3, 1 ether);
        _bid(alice, id, 0.9 ether);
        _bid(bob, id, 0.8 ether);
        vm.prank(consumer);
        market.acceptBid(id, bob);
        for (uint256 i; i < 3; ++i) {
            vm.prank(bob);
            market.recordInference(id, _reqHash(i), _resHash(i));
        }
        vm.warp(block.timestamp + WINDOW);
        market.release(id, 3);
        vm.prank(consumer);
        market.rate(id, 5);
        vm.prank(bob);
        market.rate(id, 5);

        (uint256 fee, uint256 roy, uint256 lin, uint256 prov) = _split(2.4 ether);
        vm.assertEq(market.owed(bob), prov);
        vm.assertEq(market.owed(consumer), 0.6 ether);
        vm.assertEq(prov + fee + roy + lin + 0.6 ether, 3 ether);
        uint256 before = bob.balance;
        vm.prank(bob);
        market.withdraw();
        vm.assertEq(bob.balance, before + prov);
        vm.assertEq(address(market).balance, 2 * STAKE + _totalOwed());
    }

    function testFuzz_openRequest_escrowsExactly(uint256 n, uint256 maxPrice) public {
        n = bound(n, 1, type(uint32).max);
        maxPrice = bound(maxPrice, 1, 1_000 ether / n + 1);
        uint256 value = n * maxPrice;
        vm.deal(consumer, value);
        vm.prank(consumer);
        uint256 id = market.openRequest{value: value}(derivedToken, n, maxPrice, _deadline());
        vm.assertEq(market.escrowOf(id), value);
        vm.assertEq(address(market).balance, 2 * STAKE + value);
    }

    function testFuzz_acceptBid_refundsAboveBid(uint256 n, uint256 maxPrice, uint256 price) public {
        n = bound(n, 1, 10_000);
        maxPrice = bound(maxPrice, 1, 10 ether);
        price = bound(price, 1, maxPrice);
        uint256 id = _agreed(n, maxPrice, price);
        vm.assertEq(market.owed(consumer), n * (maxPrice - price));
        vm.assertEq(market.escrowOf(id), n * price);
        vm.assertEq(market.escrowOf(id) + market.owed(consumer), n * maxPrice);
    }

    function testFuzz_settle_picksLowestEarliest(uint256[4] memory prices, uint256 order) public {
        address[4] memory ps = [alice, bob, makeAddr("p3"), makeAddr("p4")];
        for (uint256 i = 2; i < 4; ++i) {
            vm.deal(ps[i], STAKE);
            vm.prank(ps[i]);
            market.registerProvider{value: STAKE}();
        }
        uint256 id = _open(3, 1 ether);
        uint256 bestPrice = type(uint256).max;
        address best;
        for (uint256 k; k < 4; ++k) {
            uint256 i = (k + order % 4) % 4; // fuzzed bidding order
            // Few distinct prices, so ties happen often.
            uint256 p = bound(prices[i], 1, 4) * 0.25 ether;
            _bid(ps[i], id, p);
            if (p < bestPrice) (bestPrice, best) = (p, ps[i]);
        }
        vm.warp(block.timestamp + 2 hours);
        market.settle(id);
        vm.assertEq(market.getRequest(id).provider, best);
        vm.assertEq(uint256(market.getRequest(id).price), bestPrice);
        vm.assertEq(market.owed(consumer), 3 * (1 ether - bestPrice));
    }

    function testFuzz_release_conservesPayment(uint256 n, uint256 price, uint256 recorded, uint16 feeBps) public {
        n = bound(n, 1, 40);
        price = bound(price, 1, 100 ether);
        recorded = bound(recorded, 0, n);
        feeBps = uint16(bound(feeBps, 0, 1_000));
        vm.prank(admin);
        market.setProtocolFee(feeBps);
        uint256 id = _agreed(n, price, price);
        _record(id, recorded);
        if (recorded < n) {
            vm.prank(consumer);
            market.closeRequest(id);
        }
        vm.warp(block.timestamp + WINDOW);
        if (recorded > 0) vm.assertEq(market.release(id, n), recorded);

        uint256 gross = recorded * price;
        uint256 fee = gross * feeBps / 10_000;
        uint256 roy = gross * DERIVED_ROYALTY_BPS / 10_000;
        uint256 lin = gross * BASE_LINEAGE_BPS / 10_000;
        vm.assertEq(market.owed(treasury), fee);
        vm.assertEq(market.owed(derivedReceiver), roy);
        vm.assertEq(market.owed(baseOwner), lin);
        vm.assertEq(market.owed(alice), gross - fee - roy - lin);
        vm.assertEq(market.owed(consumer), (n - recorded) * price);
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(_totalOwed(), n * price);
        vm.assertEq(address(market).balance, 2 * STAKE + n * price);
        vm.assertEq(uint256(market.getProvider(alice).activeAgreements), 0);
    }

    function testFuzz_resolveDispute_slashSplit(uint96 stake, bool atFault) public {
        uint256 s = bound(stake, MIN_STAKE, 1_000 ether);
        address carl = makeAddr("carl");
        vm.deal(carl, s);
        vm.prank(carl);
        market.registerProvider{value: s}();
        uint256 id = _open(1, 1 ether);
        _bid(carl, id, 0.5 ether);
        vm.prank(consumer);
        market.acceptBid(id, carl);
        vm.prank(carl);
        market.recordInference(id, _reqHash(0), _resHash(0));
        vm.prank(consumer);
        uint256 disputeId = market.dispute{value: BOND}(id, 0, bytes32(0));
        uint256 consumerBefore = market.owed(consumer);
        vm.prank(arbiter);
        market.resolveDispute(disputeId, atFault);

        uint256 slashed = atFault ? s * SLASH_BPS / 10_000 : 0;
        vm.assertEq(uint256(market.getProvider(carl).stake), s - slashed);
        if (atFault) {
            vm.assertEq(market.owed(consumer) - consumerBefore, 0.5 ether + slashed / 2 + BOND);
            vm.assertEq(market.owed(treasury), slashed - slashed / 2);
            vm.assertEq(market.owed(carl), 0);
        } else {
            (uint256 fee,,, uint256 prov) = _split(0.5 ether);
            vm.assertEq(market.owed(consumer), consumerBefore);
            vm.assertEq(market.owed(treasury), fee);
            vm.assertEq(market.owed(carl), prov + BOND);
        }
        vm.assertEq(market.escrowOf(id), 0);
        vm.assertEq(address(market).balance, 2 * STAKE + s + 1 ether + BOND);
    }
}
