// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceMarket} from "../../src/interfaces/IInferenceMarket.sol";
import {IModelNFT} from "../../src/interfaces/IModelNFT.sol";
import {InferenceMarket} from "../../src/marketplace/InferenceMarket.sol";
import {ModelNFT} from "../../src/marketplace/ModelNFT.sol";
import {FuzzSelector, Test} from "../utils/Test.sol";
import {InferenceMarketHandler} from "./InferenceMarketHandler.sol";

/// @notice Invariants of InferenceMarket under random sequences of every external action.
///
/// Escrow conservation: at every moment the ETH the market holds equals exactly what it owes:
/// the escrow of every request (N × maxPrice while open, unpaid inferences × price once agreed),
/// plus every provider's stake, plus every pull balance (refunds, payments, royalties, fees,
/// slashes), plus the bonds of the disputes not yet resolved. No action creates or loses wei;
/// and that total equals what the actors sent in minus what they took out.
///
/// Agreement bookkeeping: for every request, paid ≤ recorded ≤ N and cursor ≤ recorded; and the
/// sum of the providers' active-agreement counters equals the number of agreements that are not
/// finalized (still recording, or with a recorded inference not yet paid or resolved) — so a stake
/// is locked exactly while it backs something.
contract InferenceMarketInvariants is Test {
    InferenceMarket internal market;
    InferenceMarketHandler internal handler;

    function setUp() public {
        vm.warp(1_000_000);
        address treasury = makeAddr("treasury");
        address baseOwner = makeAddr("baseOwner");
        address derivedOwner = makeAddr("derivedOwner");
        address derivedReceiver = makeAddr("derivedReceiver");
        address arbiter = makeAddr("arbiter");

        ModelNFT nft = new ModelNFT(makeAddr("nftAdmin"));
        uint256 base = nft.mint(baseOwner, _params(0, address(0), 500, 1_000));
        uint256 derived = nft.mint(derivedOwner, _params(base, derivedReceiver, 300, 0));

        market = new InferenceMarket(
            IInferenceMarket.Config({
                modelNFT: address(nft),
                admin: makeAddr("admin"),
                arbiter: arbiter,
                guardian: makeAddr("guardian"),
                treasury: treasury,
                minStake: 1 ether,
                unstakeDelay: 1 days,
                disputeWindow: 1 days,
                protocolFeeBps: 250,
                slashBps: 2_000,
                disputeBond: 0.01 ether
            })
        );

        address[] memory consumers = new address[](3);
        consumers[0] = makeAddr("c0");
        consumers[1] = makeAddr("c1");
        consumers[2] = makeAddr("c2");
        address[] memory providers = new address[](4);
        providers[0] = makeAddr("p0");
        providers[1] = makeAddr("p1");
        providers[2] = makeAddr("p2");
        providers[3] = makeAddr("p3");
        address[] memory others = new address[](4);
        others[0] = treasury;
        others[1] = baseOwner;
        others[2] = derivedOwner;
        others[3] = derivedReceiver;
        uint256[] memory tokens = new uint256[](2);
        tokens[0] = base;
        tokens[1] = derived;

        handler = new InferenceMarketHandler(market, arbiter, consumers, providers, others, tokens);
        // Start with staked providers so that bidding is reachable in short runs.
        for (uint256 i; i < 4; ++i) {
            handler.registerProvider(i, 0);
        }
        // And with an agreement under way (two inferences recorded) plus an open request, so that
        // every run starts close to the release and dispute paths.
        handler.openRequest(0, 1, 5, 0.3 ether, 600);
        handler.acceptBid(1, 1, 0.2 ether);
        handler.recordInference(1, 1, bytes32("seed"));
        handler.openRequest(1, 0, 2, 0.1 ether, 3_600);
        handler.bid(2, 2, 0.05 ether);

        // Steps of the main path appear twice, so that short runs reach records, disputes, releases.
        bytes4[] memory selectors = new bytes4[](24);
        selectors[0] = InferenceMarketHandler.registerProvider.selector;
        selectors[1] = InferenceMarketHandler.addStake.selector;
        selectors[2] = InferenceMarketHandler.requestUnstake.selector;
        selectors[3] = InferenceMarketHandler.withdrawStake.selector;
        selectors[4] = InferenceMarketHandler.openRequest.selector;
        selectors[5] = InferenceMarketHandler.openRequest.selector;
        selectors[6] = InferenceMarketHandler.bid.selector;
        selectors[7] = InferenceMarketHandler.bid.selector;
        selectors[8] = InferenceMarketHandler.acceptBid.selector;
        selectors[9] = InferenceMarketHandler.acceptBid.selector;
        selectors[10] = InferenceMarketHandler.settle.selector;
        selectors[11] = InferenceMarketHandler.cancelRequest.selector;
        selectors[12] = InferenceMarketHandler.recordInference.selector;
        selectors[13] = InferenceMarketHandler.recordInference.selector;
        selectors[14] = InferenceMarketHandler.closeRequest.selector;
        selectors[15] = InferenceMarketHandler.release.selector;
        selectors[16] = InferenceMarketHandler.release.selector;
        selectors[17] = InferenceMarketHandler.dispute.selector;
        selectors[18] = InferenceMarketHandler.dispute.selector;
        selectors[19] = InferenceMarketHandler.resolveDispute.selector;
        selectors[20] = InferenceMarketHandler.rate.selector;
        selectors[21] = InferenceMarketHandler.withdraw.selector;
        selectors[22] = InferenceMarketHandler.warp.selector;
        selectors[23] = InferenceMarketHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    function _params(uint256 parentId, address receiver, uint16 royaltyBps, uint16 lineageBps)
        internal
        pure
        returns (IModelNFT.MintParams memory p)
    {
        p.contentHash = keccak256(abi.encode("model", parentId));
        p.daCommitment = hex"00aa";
        p.parentId = parentId;
        p.royaltyReceiver = receiver;
        p.royaltyBps = royaltyBps;
        p.lineageBps = lineageBps;
    }

    /// @dev Σ escrow + Σ stake + Σ owed + pending bonds, computed from the market's views.
    function _liabilities() internal view returns (uint256 total) {
        uint256 n = handler.requestCount();
        for (uint256 i; i < n; ++i) {
            total += market.escrowOf(handler.requestIds(i));
        }
        n = handler.providerCount();
        for (uint256 i; i < n; ++i) {
            total += market.getProvider(handler.providers(i)).stake;
        }
        n = handler.accountCount();
        for (uint256 i; i < n; ++i) {
            total += market.owed(handler.accounts(i));
        }
        total += market.pendingDisputes() * market.DISPUTE_BOND();
    }

    function invariant_escrowConservation() public view {
        vm.assertEq(address(market).balance, _liabilities(), "balance != escrow + stakes + owed + bonds");
        vm.assertEq(
            address(market).balance,
            handler.ghostDeposited() - handler.ghostWithdrawn(),
            "balance != deposited - withdrawn"
        );
    }

    function invariant_agreementBookkeeping() public view {
        uint256 unfinalized;
        uint256 n = handler.requestCount();
        for (uint256 i; i < n; ++i) {
            IInferenceMarket.Request memory r = market.getRequest(handler.requestIds(i));
            vm.assertLe(uint256(r.paid), uint256(r.recorded), "paid > recorded");
            vm.assertLe(uint256(r.cursor), uint256(r.recorded), "cursor > recorded");
            vm.assertLe(uint256(r.recorded), uint256(r.inferences), "recorded > N");
            if (
                r.status == IInferenceMarket.RequestStatus.Agreed
                    || (r.status == IInferenceMarket.RequestStatus.Completed && r.paid < r.inferences)
            ) ++unfinalized;
        }
        uint256 active;
        n = handler.providerCount();
        for (uint256 i; i < n; ++i) {
            active += market.getProvider(handler.providers(i)).activeAgreements;
        }
        vm.assertEq(active, unfinalized, "active agreements != unfinalized agreements");
    }

    /// @dev A scripted pass through the handler, so that a broken handler (every action reverting)
    ///      cannot make the invariants pass vacuously.
    function test_handler_scriptedLifecycle_succeeds() public {
        // Requests 1 and 2 come from setUp; seed 8 picks the third (8 % 3 == 2, and 8 % 8 == 0
        // turns off the status filter).
        handler.openRequest(0, 1, 3, 0.5 ether - 1, 600); // request 3: N = 4, maxPrice 0.5 ether
        handler.bid(8, 0, 0.4 ether);
        handler.bid(8, 3, 0.3 ether);
        handler.warp(3_600);
        handler.settle(8); // provider 3
        handler.recordInference(8, 1, bytes32("a")); // 2 records
        handler.dispute(8, 1); // index 0
        handler.warp(1 days);
        handler.release(8, 7); // examines up to 8: pays index 1
        handler.resolveDispute(0, true);
        handler.closeRequest(8, false);
        handler.rate(8, 4, false);
        handler.withdraw(0); // consumer c0
        handler.withdraw(7); // treasury
        handler.requestUnstake(0); // provider 0: bid, never agreed
        handler.warp(2 days - 3); // + 2 days
        handler.withdrawStake(0);

        vm.assertEq(uint256(market.getRequest(3).paid), 2);
        vm.assertEq(uint256(market.getRequest(3).status), uint256(IInferenceMarket.RequestStatus.Completed));
        vm.assertEq(market.getRequest(3).provider, handler.providers(3));
        vm.assertEq(market.pendingDisputes(), 0);
        vm.assertTrue(market.hasRated(3, handler.consumers(0)));
        vm.assertFalse(market.getProvider(handler.providers(0)).registered);
        vm.assertGt(handler.ghostWithdrawn(), 0);
        invariant_escrowConservation();
        invariant_agreementBookkeeping();
    }
}
