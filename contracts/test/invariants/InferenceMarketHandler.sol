// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceMarket} from "../../src/interfaces/IInferenceMarket.sol";
import {Vm} from "../utils/Test.sol";

/// @notice Drives an InferenceMarket through random but mostly valid sequences of every external
///         action, with a few fixed actors, and keeps ghost totals of the ETH that went in and out.
/// @dev Not a `Test`, so that the fuzzer only sees the actions below. A call the market rejects
///      reverts the whole action (ghosts included); `fail_on_revert` is off.
contract InferenceMarketHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    IInferenceMarket public immutable market;
    address public immutable arbiter;
    uint256 public immutable bond;
    uint256 public immutable minStake;

    address[] public consumers;
    address[] public providers;
    /// Every address that can ever be credited (consumers, providers, treasury, royalty receivers).
    address[] public accounts;
    uint256[] public tokenIds;
    uint256[] public requestIds;
    uint256[] public disputeIds;

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    mapping(bytes32 action => uint256 count) public calls;

    constructor(
        IInferenceMarket market_,
        address arbiter_,
        address[] memory consumers_,
        address[] memory providers_,
        address[] memory others,
        uint256[] memory tokenIds_
    ) {
        market = market_;
        arbiter = arbiter_;
        bond = market_.DISPUTE_BOND();
        minStake = market_.MIN_STAKE();
        consumers = consumers_;
        providers = providers_;
        tokenIds = tokenIds_;
        for (uint256 i; i < consumers_.length; ++i) {
            accounts.push(consumers_[i]);
        }
        for (uint256 i; i < providers_.length; ++i) {
            accounts.push(providers_[i]);
        }
        for (uint256 i; i < others.length; ++i) {
            accounts.push(others[i]);
        }
    }

    // ------------------------------------------------------------------ views for the invariants

    function requestCount() external view returns (uint256) {
        return requestIds.length;
    }

    function providerCount() external view returns (uint256) {
        return providers.length;
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    // ------------------------------------------------------------------ providers

    function registerProvider(uint256 pSeed, uint256 amount) external {
        address p = providers[pSeed % providers.length];
        amount = _bound(amount, minStake, 3 * minStake);
        vm.deal(p, p.balance + amount);
        vm.prank(p);
        market.registerProvider{value: amount}();
        ghostDeposited += amount;
        calls["registerProvider"]++;
    }

    function addStake(uint256 pSeed, uint256 amount) external {
        address p = providers[pSeed % providers.length];
        amount = _bound(amount, 1, minStake);
        vm.deal(p, p.balance + amount);
        vm.prank(p);
        market.addStake{value: amount}();
        ghostDeposited += amount;
        calls["addStake"]++;
    }

    function requestUnstake(uint256 pSeed) external {
        // Rarely: an unstaking provider is out of the market until it withdraws and re-registers.
        if (pSeed % 5 != 0) return;
        vm.prank(providers[(pSeed / 5) % providers.length]);
        market.requestUnstake();
        calls["requestUnstake"]++;
    }

    function withdrawStake(uint256 pSeed) external {
        address p = providers[pSeed % providers.length];
        IInferenceMarket.Provider memory info = market.getProvider(p);
        uint256 availableAt = uint256(info.unstakeRequestedAt) + market.UNSTAKE_DELAY();
        // Usually wait out the unstake delay first.
        if (info.unstakeRequestedAt != 0 && block.timestamp < availableAt && pSeed % 4 != 0) vm.warp(availableAt);
        uint256 stake = info.stake;
        vm.prank(p);
        market.withdrawStake();
        ghostWithdrawn += stake;
        calls["withdrawStake"]++;
    }

    // ------------------------------------------------------------------ requests and bids

    function openRequest(uint256 cSeed, uint256 tSeed, uint256 n, uint256 maxPrice, uint256 biddingTime) external {
        address c = consumers[cSeed % consumers.length];
        n = _bound(n, 1, 6);
        maxPrice = _bound(maxPrice, 1, 1 ether);
        uint256 value = n * maxPrice;
        vm.deal(c, c.balance + value);
        vm.prank(c);
        uint256 id = market.openRequest{value: value}(
            tokenIds[tSeed % tokenIds.length], n, maxPrice, block.timestamp + _bound(biddingTime, 1, 2 hours)
        );
        requestIds.push(id);
        ghostDeposited += value;
        calls["openRequest"]++;
    }

    function bid(uint256 rSeed, uint256 pSeed, uint256 price) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, OPEN);
        price = _bound(price, 1, r.maxPrice == 0 ? 1 : r.maxPrice);
        vm.prank(providers[pSeed % providers.length]);
        market.bid(id, price);
        calls["bid"]++;
    }

    function acceptBid(uint256 rSeed, uint256 pSeed, uint256 price) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, OPEN);
        address p = providers[pSeed % providers.length];
        if (r.provider == address(0) && pSeed % 4 != 0) {
            // No bid yet: `p` bids first (shortens the path to an agreement).
            vm.prank(p);
            market.bid(id, _bound(price, 1, r.maxPrice == 0 ? 1 : r.maxPrice));
            calls["bid"]++;
        } else if (pSeed % 4 != 0) {
            p = r.provider; // mostly the best bidder, sometimes anyone
        }
        vm.prank(r.consumer);
        market.acceptBid(id, p);
        calls["acceptBid"]++;
    }

    function settle(uint256 rSeed) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, OPEN);
        // Usually jump to the end of bidding first.
        if (rSeed % 4 != 0 && block.timestamp <= r.biddingDeadline) vm.warp(uint256(r.biddingDeadline) + 1);
        market.settle(id);
        calls["settle"]++;
    }

    function cancelRequest(uint256 rSeed) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, OPEN);
        vm.prank(r.consumer);
        market.cancelRequest(id);
        calls["cancelRequest"]++;
    }

    // ------------------------------------------------------------------ agreements

    function recordInference(uint256 rSeed, uint256 count, bytes32 salt) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, AGREED);
        count = _bound(count, 1, 3);
        for (uint256 i; i < count; ++i) {
            if (market.getRequest(id).status != IInferenceMarket.RequestStatus.Agreed) break;
            vm.prank(r.provider);
            market.recordInference(id, keccak256(abi.encode(salt, i, "req")), keccak256(abi.encode(salt, i, "res")));
            calls["recordInference"]++;
        }
    }

    function closeRequest(uint256 rSeed, bool byProvider) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, AGREED);
        vm.prank(byProvider ? r.provider : r.consumer);
        market.closeRequest(id);
        calls["closeRequest"]++;
    }

    function release(uint256 rSeed, uint256 maxCount) external {
        (uint256 id,) = _pick(rSeed, AGREED | COMPLETED);
        market.release(id, _bound(maxCount, 1, 8));
        calls["release"]++;
    }

    function dispute(uint256 rSeed, uint256 iSeed) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, AGREED | COMPLETED);
        // Mostly one of the last two recorded (likely still in their window).
        uint256 back = iSeed % 4 == 0 ? iSeed : iSeed % 2;
        uint256 index = r.recorded == 0 ? 0 : r.recorded - 1 - (back % r.recorded);
        vm.deal(r.consumer, r.consumer.balance + bond);
        vm.prank(r.consumer);
        disputeIds.push(market.dispute{value: bond}(id, index, bytes32("fuzz")));
        ghostDeposited += bond;
        calls["dispute"]++;
    }

    function resolveDispute(uint256 dSeed, bool providerAtFault) external {
        uint256 n = disputeIds.length;
        if (n == 0) return;
        // Prefer a pending dispute.
        uint256 disputeId = disputeIds[dSeed % n];
        for (uint256 k; k < n; ++k) {
            uint256 candidate = disputeIds[(dSeed + k) % n];
            if (market.getDispute(candidate).status == IInferenceMarket.DisputeStatus.Pending) {
                disputeId = candidate;
                break;
            }
        }
        vm.prank(arbiter);
        market.resolveDispute(disputeId, providerAtFault);
        calls["resolveDispute"]++;
    }

    function rate(uint256 rSeed, uint8 score, bool byProvider) external {
        (uint256 id, IInferenceMarket.Request memory r) = _pick(rSeed, COMPLETED);
        vm.prank(byProvider ? r.provider : r.consumer);
        market.rate(id, uint8(_bound(score, 1, 5)));
        calls["rate"]++;
    }

    function withdraw(uint256 aSeed) external {
        address a = accounts[aSeed % accounts.length];
        uint256 amount = market.owed(a);
        vm.prank(a);
        market.withdraw();
        ghostWithdrawn += amount;
        calls["withdraw"]++;
    }

    // ------------------------------------------------------------------ time

    function warp(uint256 secs) external {
        // Mostly short steps (bidding lasts ≤ 2 h), sometimes past dispute windows and unstake delays.
        vm.warp(block.timestamp + (secs % 3 == 0 ? _bound(secs, 1, 2 days) : _bound(secs, 1, 2 hours)));
        calls["warp"]++;
    }

    // ------------------------------------------------------------------ helpers

    uint256 internal constant OPEN = 1 << uint8(IInferenceMarket.RequestStatus.Open);
    uint256 internal constant AGREED = 1 << uint8(IInferenceMarket.RequestStatus.Agreed);
    uint256 internal constant COMPLETED = 1 << uint8(IInferenceMarket.RequestStatus.Completed);

    /// @dev A request whose status is in `statuses` (a bit set), searched from a seeded position;
    ///      usually (seed % 8 != 0) restricted that way, sometimes any request, to exercise the
    ///      wrong-status paths too. With no request, id 0 (unknown): the market reverts.
    function _pick(uint256 seed, uint256 statuses)
        internal
        view
        returns (uint256 id, IInferenceMarket.Request memory r)
    {
        uint256 n = requestIds.length;
        if (n == 0) return (0, r);
        id = requestIds[seed % n];
        if (seed % 8 != 0) {
            for (uint256 k; k < n; ++k) {
                uint256 candidate = requestIds[(seed + k) % n];
                if (statuses & (1 << uint8(market.getRequest(candidate).status)) != 0) {
                    id = candidate;
                    break;
                }
            }
        }
        r = market.getRequest(id);
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return min + (x % (max - min + 1));
    }
}
