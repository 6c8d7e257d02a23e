// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4907} from "../src/interfaces/IERC4907.sol";
import {IModelNFT} from "../src/interfaces/IModelNFT.sol";
import {ModelNFT} from "../src/marketplace/ModelNFT.sol";
import {Test, Vm} from "./utils/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

contract ModelNFTTest is Test {
    ModelNFT internal nft;

    address internal admin = makeAddr("admin");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal dave = makeAddr("dave");
    address internal royaltyRcv = makeAddr("royaltyRcv");

    bytes32 internal constant HASH = keccak256("manifest");
    bytes32 internal constant LICENSE = bytes32("Apache-2.0");
    bytes internal constant DA = hex"00aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899";

    // Storage slots (see `forge inspect ModelNFT storageLayout`).
    uint256 internal constant NEXT_ID_SLOT = 10;
    uint256 internal constant META_SLOT = 11;

    event ModelMinted(
        uint256 indexed tokenId,
        address indexed creator,
        uint256 indexed parentId,
        bytes32 contentHash,
        bytes32 license,
        bool encrypted,
        address royaltyReceiver,
        uint16 royaltyBps,
        uint16 lineageBps,
        uint16 version,
        bytes daCommitment
    );
    event DACommitmentUpdated(uint256 indexed tokenId, bytes daCommitment);
    event RoyaltyReceiverUpdated(uint256 indexed tokenId, address indexed receiver);
    event AccessGranted(
        uint256 indexed tokenId, address indexed grantee, address indexed grantor, bytes32 keyCommitment
    );
    event AccessRevoked(uint256 indexed tokenId, address indexed grantee);
    event BaseURIUpdated(string baseURI);
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    function setUp() public {
        nft = new ModelNFT(admin);
        vm.warp(1_000_000);
    }

    // ---------------------------------------------------------------- helpers

    function _params(uint256 parentId, uint16 royaltyBps, uint16 lineageBps)
        internal
        pure
        returns (IModelNFT.MintParams memory p)
    {
        p = IModelNFT.MintParams({
            contentHash: HASH,
            daCommitment: DA,
            license: LICENSE,
            parentId: parentId,
            encrypted: false,
            royaltyReceiver: address(0),
            royaltyBps: royaltyBps,
            lineageBps: lineageBps
        });
    }

    function _mint(address to, uint256 parentId, uint16 royaltyBps, uint16 lineageBps) internal returns (uint256) {
        return nft.mint(to, _params(parentId, royaltyBps, lineageBps));
    }

    function _mintEncrypted(address to) internal returns (uint256) {
        IModelNFT.MintParams memory p = _params(0, 0, 0);
        p.encrypted = true;
        return nft.mint(to, p);
    }

    // ---------------------------------------------------------------- mint

    function test_mint_baseModel_succeeds() public {
        vm.expectEmit(address(nft));
        emit Transfer(address(0), alice, 1);
        vm.expectEmit(address(nft));
        emit ModelMinted(1, bob, 0, HASH, LICENSE, false, alice, 500, 200, 1, DA);
        vm.prank(bob);
        uint256 id = nft.mint(alice, _params(0, 500, 200));

        vm.assertEq(id, 1);
        vm.assertEq(nft.ownerOf(1), alice);
        vm.assertEq(nft.contentHash(1), HASH);
        vm.assertEq(nft.parentOf(1), 0);
        vm.assertEq(uint256(nft.versionOf(1)), 1);
        vm.assertEq(nft.totalMinted(), 1);
        ModelNFT.ModelInfo memory info = nft.model(1);
        vm.assertEq(info.contentHash, HASH);
        vm.assertEq(info.royaltyReceiver, alice);
        vm.assertEq(uint256(info.royaltyBps), 500);
        vm.assertEq(uint256(info.lineageBps), 200);
        vm.assertEq(uint256(info.version), 1);
        vm.assertFalse(info.encrypted);
        vm.assertEq(info.parentId, 0);
    }

    function test_mint_explicitReceiverAndEncrypted_succeeds() public {
        IModelNFT.MintParams memory p = _params(0, 1000, 0);
        p.royaltyReceiver = royaltyRcv;
        p.encrypted = true;
        uint256 id = nft.mint(alice, p);
        ModelNFT.ModelInfo memory info = nft.model(id);
        vm.assertEq(info.royaltyReceiver, royaltyRcv);
        vm.assertTrue(info.encrypted);
        (address r, uint256 a) = nft.royaltyInfo(id, 1 ether);
        vm.assertEq(r, royaltyRcv);
        vm.assertEq(a, 0.1 ether);
    }

    function test_mint_childVersionAndLineage_succeeds() public {
        uint256 base = _mint(alice, 0, 100, 300);
        vm.expectEmit(address(nft));
        emit ModelMinted(2, address(this), base, HASH, LICENSE, false, bob, 200, 100, 2, DA);
        uint256 child = _mint(bob, base, 200, 100);
        uint256 grandchild = _mint(carol, child, 0, 0);
        vm.assertEq(child, 2);
        vm.assertEq(grandchild, 3);
        vm.assertEq(nft.parentOf(child), base);
        vm.assertEq(nft.parentOf(grandchild), child);
        vm.assertEq(uint256(nft.versionOf(child)), 2);
        vm.assertEq(uint256(nft.versionOf(grandchild)), 3);
        vm.assertEq(nft.totalMinted(), 3);
    }

    function test_mint_zeroContentHash_reverts() public {
        IModelNFT.MintParams memory p = _params(0, 0, 0);
        p.contentHash = bytes32(0);
        vm.expectRevert(ModelNFT.ModelNFT_ZeroContentHash.selector);
        nft.mint(alice, p);
    }

    function test_mint_emptyDACommitment_reverts() public {
        IModelNFT.MintParams memory p = _params(0, 0, 0);
        p.daCommitment = "";
        vm.expectRevert(ModelNFT.ModelNFT_EmptyDACommitment.selector);
        nft.mint(alice, p);
    }

    function test_mint_royaltyTooHigh_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_RoyaltyTooHigh.selector, 1001, 1000));
        _mint(alice, 0, 1001, 0);
    }

    function test_mint_lineageShareTooHigh_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_LineageShareTooHigh.selector, 1001, 1000));
        _mint(alice, 0, 0, 1001);
    }

    function test_mint_unknownParent_reverts() public {
        _mint(alice, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_UnknownParent.selector, 2));
        _mint(alice, 2, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_UnknownParent.selector, uint256(1) << 40));
        _mint(alice, uint256(1) << 40, 0, 0);
    }

    function test_mint_totalRoyaltyTooHigh_reverts() public {
        uint256 a = _mint(alice, 0, 0, 1000);
        uint256 b = _mint(bob, a, 0, 1000);
        // 1000 (own) + 1000 (b) + 1000 (a) = 3000 > 2500.
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_TotalRoyaltyTooHigh.selector, 3000, 2500));
        _mint(carol, b, 1000, 0);
        // 500 + 2000 = 2500 is exactly the cap.
        uint256 c = _mint(carol, b, 500, 0);
        vm.assertEq(uint256(nft.versionOf(c)), 3);
    }

    function test_mint_totalRoyaltyCountsOnlyMaxDepth_succeeds() public {
        // Chain t1 <- t2 <- t3 <- t4 <- t5, each asking 600 lineage bps. A child of t5 counts
        // t5..t2 (4 ancestors) = 2400 + own royalty; t1 is beyond the depth and not counted.
        uint256 id = _mint(alice, 0, 0, 600);
        for (uint256 i; i < 4; ++i) {
            id = _mint(alice, id, 0, 600);
        }
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_TotalRoyaltyTooHigh.selector, 2501, 2500));
        _mint(bob, id, 101, 0);
        uint256 leaf = _mint(bob, id, 100, 0);
        vm.assertEq(uint256(nft.versionOf(leaf)), 6);
    }

    function test_mint_versionOverflow_reverts() public {
        uint256 id = _mint(alice, 0, 0, 0);
        // Set the version field (bits 192..207 of the packed meta slot) to type(uint16).max.
        bytes32 slot = keccak256(abi.encode(id, META_SLOT));
        uint256 word = uint256(vm.load(address(nft), slot));
        word |= uint256(type(uint16).max) << 192;
        vm.store(address(nft), slot, bytes32(word));
        vm.assertEq(uint256(nft.versionOf(id)), type(uint16).max);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_VersionOverflow.selector, id));
        _mint(alice, id, 0, 0);
    }

    function test_mint_tooManyTokens_reverts() public {
        vm.store(address(nft), bytes32(NEXT_ID_SLOT), bytes32(uint256(type(uint40).max)));
        _mint(alice, 0, 0, 0); // id 2**40 - 1: the last one
        vm.expectRevert(ModelNFT.ModelNFT_TooManyTokens.selector);
        _mint(alice, 0, 0, 0);
    }

    function test_mint_zeroRecipient_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        _mint(address(0), 0, 0, 0);
    }

    function testFuzz_mint_bpsBounds(uint16 royaltyBps, uint16 lineageBps, uint16 parentLineage) public {
        royaltyBps = uint16(bound(royaltyBps, 0, 1200));
        lineageBps = uint16(bound(lineageBps, 0, 1200));
        parentLineage = uint16(bound(parentLineage, 0, 1000));
        uint256 grand = _mint(alice, 0, 0, 1000);
        uint256 parent = _mint(alice, grand, 0, parentLineage);
        uint256 total = uint256(royaltyBps) + parentLineage + 1000;
        if (royaltyBps > 1000) {
            vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_RoyaltyTooHigh.selector, royaltyBps, 1000));
        } else if (lineageBps > 1000) {
            vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_LineageShareTooHigh.selector, lineageBps, 1000));
        } else if (total > 2500) {
            vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_TotalRoyaltyTooHigh.selector, total, 2500));
        }
        _mint(bob, parent, royaltyBps, lineageBps);
    }

    // ---------------------------------------------------------------- royalties

    function test_royaltySplit_baseOnlyOwnRoyalty_succeeds() public {
        uint256 id = _mint(alice, 0, 500, 300);
        (address[] memory r, uint256[] memory a) = nft.royaltySplit(id, 1 ether);
        vm.assertEq(r.length, 1);
        vm.assertEq(a.length, 1);
        vm.assertEq(r[0], alice);
        vm.assertEq(a[0], 0.05 ether);
    }

    function test_royaltySplit_lineageToCurrentAncestorOwners_succeeds() public {
        uint256 base = _mint(alice, 0, 500, 300);
        uint256 child = _mint(bob, base, 250, 0); // lineage 0: omitted for grandchildren
        uint256 grandchild = _mint(carol, child, 100, 0);
        (address[] memory r, uint256[] memory a) = nft.royaltySplit(grandchild, 10_000);
        vm.assertEq(r.length, 2);
        vm.assertEq(r[0], carol);
        vm.assertEq(a[0], 100);
        vm.assertEq(r[1], alice);
        vm.assertEq(a[1], 300);

        // The lineage share follows the ancestor's owner, the ERC-2981 receiver does not.
        vm.prank(alice);
        nft.transferFrom(alice, dave, base);
        vm.prank(carol);
        nft.transferFrom(carol, bob, grandchild);
        (r, a) = nft.royaltySplit(grandchild, 10_000);
        vm.assertEq(r[0], carol);
        vm.assertEq(r[1], dave);
    }

    function test_royaltySplit_zeroRoyaltyOmitted_succeeds() public {
        uint256 base = _mint(alice, 0, 0, 0);
        (address[] memory r, uint256[] memory a) = nft.royaltySplit(base, 1 ether);
        vm.assertEq(r.length, 0);
        vm.assertEq(a.length, 0);
        uint256 child = _mint(bob, base, 0, 0);
        (r,) = nft.royaltySplit(child, 1 ether);
        vm.assertEq(r.length, 0);
        // Rounding to zero also omits: 1 wei at 5%.
        uint256 c2 = _mint(bob, 0, 500, 0);
        (r,) = nft.royaltySplit(c2, 1);
        vm.assertEq(r.length, 0);
    }

    function test_royaltySplit_depthLimited_succeeds() public {
        // t1..t6 each ask 100 lineage bps and are owned by distinct holders; t7's split counts
        // t6, t5, t4, t3 only.
        address[6] memory owners = [alice, bob, carol, dave, royaltyRcv, admin];
        uint256 id;
        for (uint256 i; i < 6; ++i) {
            id = _mint(owners[i], id, 0, 100);
        }
        uint256 leaf = _mint(alice, id, 50, 0);
        (address[] memory r, uint256[] memory a) = nft.royaltySplit(leaf, 10_000);
        vm.assertEq(r.length, 5);
        vm.assertEq(r[0], alice);
        vm.assertEq(a[0], 50);
        vm.assertEq(r[1], admin); // t6
        vm.assertEq(r[2], royaltyRcv); // t5
        vm.assertEq(r[3], dave); // t4
        vm.assertEq(r[4], carol); // t3
        for (uint256 i = 1; i < 5; ++i) {
            vm.assertEq(a[i], 100);
        }
    }

    function test_royaltySplit_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 7));
        nft.royaltySplit(7, 1 ether);
    }

    function testFuzz_royaltySplit_sumBounded(uint256 amount, uint16 own, uint16 l1, uint16 l2) public {
        own = uint16(bound(own, 0, 500));
        l1 = uint16(bound(l1, 0, 1000));
        l2 = uint16(bound(l2, 0, 1000));
        uint256 a = _mint(alice, 0, 0, l2);
        uint256 b = _mint(bob, a, 0, l1);
        uint256 c = _mint(carol, b, own, 0);
        (address[] memory r, uint256[] memory amts) = nft.royaltySplit(c, amount);
        vm.assertEq(r.length, amts.length);
        uint256 sum;
        for (uint256 i; i < amts.length; ++i) {
            vm.assertGt(amts[i], 0);
            sum += amts[i];
        }
        vm.assertLe(sum, amount);
        vm.assertLe(sum, amount / 4 + 3); // <= 25% (+ rounding of three floors is downward anyway)
        if (amount < type(uint256).max / 10_000) {
            vm.assertLe(sum, amount * (uint256(own) + l1 + l2) / 10_000);
            vm.assertGe(sum + 3, amount * (uint256(own) + l1 + l2) / 10_000);
        }
    }

    function test_royaltyInfo_ownRoyaltyOnly_succeeds() public {
        uint256 base = _mint(alice, 0, 0, 1000);
        uint256 child = _mint(bob, base, 250, 0);
        (address r, uint256 a) = nft.royaltyInfo(child, 1 ether);
        vm.assertEq(r, bob);
        vm.assertEq(a, 0.025 ether);
        (r, a) = nft.royaltyInfo(99, 1 ether);
        vm.assertEq(r, address(0));
        vm.assertEq(a, 0);
    }

    function test_setRoyaltyReceiver_byReceiver_succeeds() public {
        uint256 id = _mint(alice, 0, 500, 0);
        vm.expectEmit(address(nft));
        emit RoyaltyReceiverUpdated(id, royaltyRcv);
        vm.prank(alice);
        nft.setRoyaltyReceiver(id, royaltyRcv);
        (address r,) = nft.royaltyInfo(id, 100);
        vm.assertEq(r, royaltyRcv);
        // Other packed fields survive the write.
        ModelNFT.ModelInfo memory info = nft.model(id);
        vm.assertEq(uint256(info.royaltyBps), 500);
        vm.assertEq(uint256(info.version), 1);
    }

    function test_setRoyaltyReceiver_notReceiver_reverts() public {
        uint256 id = _mint(alice, 0, 500, 0);
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        // Even the new owner may not redirect the creator's royalty.
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_NotRoyaltyReceiver.selector, bob, alice));
        vm.prank(bob);
        nft.setRoyaltyReceiver(id, bob);
    }

    function test_setRoyaltyReceiver_zeroAddress_reverts() public {
        uint256 id = _mint(alice, 0, 500, 0);
        vm.expectRevert(ModelNFT.ModelNFT_ZeroAddress.selector);
        vm.prank(alice);
        nft.setRoyaltyReceiver(id, address(0));
    }

    function test_setRoyaltyReceiver_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 3));
        nft.setRoyaltyReceiver(3, alice);
    }

    // ---------------------------------------------------------------- model data

    function test_contentHash_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        nft.contentHash(1);
    }

    function test_parentOf_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        nft.parentOf(1);
    }

    function test_versionOf_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0));
        nft.versionOf(0);
    }

    function test_model_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 5));
        nft.model(5);
    }

    function test_updateDACommitment_byOwnerAndApproved_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.expectEmit(address(nft));
        emit DACommitmentUpdated(id, hex"01ff");
        vm.prank(alice);
        nft.updateDACommitment(id, hex"01ff");

        vm.prank(alice);
        nft.approve(bob, id);
        vm.expectEmit(address(nft));
        emit DACommitmentUpdated(id, hex"02");
        vm.prank(bob);
        nft.updateDACommitment(id, hex"02");
    }

    function test_updateDACommitment_notAuthorized_reverts() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        nft.updateDACommitment(id, hex"01");
    }

    function test_updateDACommitment_empty_reverts() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.expectRevert(ModelNFT.ModelNFT_EmptyDACommitment.selector);
        vm.prank(alice);
        nft.updateDACommitment(id, "");
    }

    function test_updateDACommitment_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 9));
        nft.updateDACommitment(9, hex"01");
    }

    // ---------------------------------------------------------------- access grants

    function test_grantAccess_byOwner_succeeds() public {
        uint256 id = _mintEncrypted(alice);
        vm.assertFalse(nft.hasAccess(id, bob));
        vm.expectEmit(address(nft));
        emit AccessGranted(id, bob, alice, keccak256("envelope"));
        vm.prank(alice);
        nft.grantAccess(id, bob, keccak256("envelope"));
        vm.assertTrue(nft.hasAccess(id, bob));
        vm.assertFalse(nft.hasAccess(id, carol));
    }

    function test_grantAccess_byOperator_succeeds() public {
        uint256 id = _mintEncrypted(alice);
        vm.prank(alice);
        nft.setApprovalForAll(carol, true);
        vm.prank(carol);
        nft.grantAccess(id, bob, bytes32(0));
        vm.assertTrue(nft.hasAccess(id, bob));
    }

    function test_grantAccess_voidedByTransfer_succeeds() public {
        uint256 id = _mintEncrypted(alice);
        vm.prank(alice);
        nft.grantAccess(id, bob, bytes32(0));
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);
        vm.assertFalse(nft.hasAccess(id, bob));
        vm.assertFalse(nft.hasAccess(id, alice));
        vm.assertTrue(nft.hasAccess(id, carol));
        // Coming back to alice revives her old grant (the grantor is the owner again).
        vm.prank(carol);
        nft.transferFrom(carol, alice, id);
        vm.assertTrue(nft.hasAccess(id, bob));
    }

    function test_grantAccess_notEncrypted_reverts() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_NotEncrypted.selector, id));
        vm.prank(alice);
        nft.grantAccess(id, bob, bytes32(0));
    }

    function test_grantAccess_zeroGrantee_reverts() public {
        uint256 id = _mintEncrypted(alice);
        vm.expectRevert(ModelNFT.ModelNFT_ZeroAddress.selector);
        vm.prank(alice);
        nft.grantAccess(id, address(0), bytes32(0));
    }

    function test_grantAccess_notAuthorized_reverts() public {
        uint256 id = _mintEncrypted(alice);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        nft.grantAccess(id, bob, bytes32(0));
    }

    function test_grantAccess_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 4));
        nft.grantAccess(4, bob, bytes32(0));
    }

    function test_revokeAccess_byOwner_succeeds() public {
        uint256 id = _mintEncrypted(alice);
        vm.startPrank(alice);
        nft.grantAccess(id, bob, bytes32(0));
        vm.expectEmit(address(nft));
        emit AccessRevoked(id, bob);
        nft.revokeAccess(id, bob);
        vm.stopPrank();
        vm.assertFalse(nft.hasAccess(id, bob));
    }

    function test_revokeAccess_noGrant_reverts() public {
        uint256 id = _mintEncrypted(alice);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_NoAccessGrant.selector, id, bob));
        vm.prank(alice);
        nft.revokeAccess(id, bob);
    }

    function test_revokeAccess_staleGrant_reverts() public {
        // A grant by a former owner is already void: nothing to revoke for the new owner.
        uint256 id = _mintEncrypted(alice);
        vm.prank(alice);
        nft.grantAccess(id, bob, bytes32(0));
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);
        vm.expectRevert(abi.encodeWithSelector(ModelNFT.ModelNFT_NoAccessGrant.selector, id, bob));
        vm.prank(carol);
        nft.revokeAccess(id, bob);
    }

    function test_revokeAccess_notAuthorized_reverts() public {
        uint256 id = _mintEncrypted(alice);
        vm.prank(alice);
        nft.grantAccess(id, bob, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        nft.revokeAccess(id, bob);
    }

    function test_hasAccess_unencryptedIsPublic_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.assertTrue(nft.hasAccess(id, bob));
        vm.assertTrue(nft.hasAccess(id, address(0)));
    }

    function test_hasAccess_renterWhileActive_succeeds() public {
        uint256 id = _mintEncrypted(alice);
        vm.prank(alice);
        nft.setUser(id, bob, uint64(block.timestamp + 100));
        vm.assertTrue(nft.hasAccess(id, bob));
        vm.assertFalse(nft.hasAccess(id, address(0)));
        vm.warp(block.timestamp + 101);
        vm.assertFalse(nft.hasAccess(id, bob));
    }

    function test_hasAccess_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 2));
        nft.hasAccess(2, alice);
    }

    // ---------------------------------------------------------------- ERC-4907

    function test_setUser_byOwner_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        uint64 expires = uint64(block.timestamp + 3600);
        vm.expectEmit(address(nft));
        emit UpdateUser(id, bob, expires);
        vm.prank(alice);
        nft.setUser(id, bob, expires);
        vm.assertEq(nft.userOf(id), bob);
        vm.assertEq(nft.userExpires(id), expires);
        vm.warp(expires);
        vm.assertEq(nft.userOf(id), bob); // inclusive
        vm.warp(expires + 1);
        vm.assertEq(nft.userOf(id), address(0));
        vm.assertEq(nft.userExpires(id), expires);
    }

    function test_setUser_byApproved_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.prank(alice);
        nft.approve(carol, id);
        vm.prank(carol);
        nft.setUser(id, bob, uint64(block.timestamp + 1));
        vm.assertEq(nft.userOf(id), bob);
    }

    function test_setUser_notAuthorized_reverts() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InsufficientApproval.selector, bob, id));
        vm.prank(bob);
        nft.setUser(id, bob, uint64(block.timestamp + 1));
    }

    function test_setUser_nonexistent_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        nft.setUser(1, bob, 1);
    }

    function test_transfer_clearsUser_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.prank(alice);
        nft.setUser(id, bob, uint64(block.timestamp + 3600));
        vm.expectEmit(address(nft));
        emit UpdateUser(id, address(0), 0);
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);
        vm.assertEq(nft.userOf(id), address(0));
        vm.assertEq(nft.userExpires(id), 0);
    }

    function test_transfer_noUserNoEvent_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.recordLogs();
        vm.prank(alice);
        nft.transferFrom(alice, carol, id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1); // Transfer only
        vm.assertEq(logs[0].topics[0], Transfer.selector);
    }

    function test_transferCount_countsEveryTransfer_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.assertEq(nft.transferCount(id), 0);
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        vm.assertEq(nft.transferCount(id), 1);
        vm.prank(bob);
        nft.safeTransferFrom(bob, alice, id);
        vm.assertEq(nft.transferCount(id), 2); // back to alice, but not the same state
        vm.assertEq(nft.transferCount(id + 1), 0); // unminted
    }

    function test_marketState_ownerCountUserAndApproval_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        (address owner, uint256 transfers, address user, uint256 expires, bool approved) = nft.marketState(id, carol);
        vm.assertEq(owner, alice);
        vm.assertEq(transfers, 0);
        vm.assertEq(user, address(0));
        vm.assertEq(expires, 0);
        vm.assertFalse(approved);

        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        vm.startPrank(bob);
        nft.approve(carol, id); // approved for this token only
        nft.setUser(id, dave, uint64(block.timestamp + 10));
        vm.stopPrank();
        (owner, transfers, user, expires, approved) = nft.marketState(id, carol);
        vm.assertEq(owner, bob);
        vm.assertEq(transfers, 1);
        vm.assertEq(user, dave);
        vm.assertEq(expires, block.timestamp + 10);
        vm.assertTrue(approved);
        (,,,, approved) = nft.marketState(id, dave);
        vm.assertFalse(approved);

        // Expired user: no active user, stored expiry still reported (as userOf / userExpires).
        vm.warp(block.timestamp + 11);
        vm.prank(bob);
        nft.setApprovalForAll(dave, true);
        (,, user, expires, approved) = nft.marketState(id, dave);
        vm.assertEq(user, address(0));
        vm.assertEq(expires, block.timestamp - 1);
        vm.assertTrue(approved);
    }

    function test_marketState_unknownToken_succeeds() public view {
        (address owner, uint256 transfers, address user, uint256 expires, bool approved) =
            nft.marketState(999, address(0));
        vm.assertEq(owner, address(0));
        vm.assertEq(transfers, 0);
        vm.assertEq(user, address(0));
        vm.assertEq(expires, 0);
        vm.assertFalse(approved); // even for operator address(0), which matches "no approval"
    }

    function test_transferCount_keptBySetUserAndClearedUser_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.prank(alice);
        nft.transferFrom(alice, bob, id);
        vm.prank(bob);
        nft.setUser(id, carol, uint64(block.timestamp + 10));
        vm.assertEq(nft.transferCount(id), 1);
        vm.assertEq(nft.userOf(id), carol);
        vm.prank(bob);
        nft.transferFrom(bob, dave, id);
        vm.assertEq(nft.transferCount(id), 2);
        vm.assertEq(nft.userOf(id), address(0));
        vm.assertEq(nft.userExpires(id), 0);
        // Slot layout: user (160) | expires (64) | transfers (32).
        vm.prank(dave);
        nft.setUser(id, carol, 77);
        bytes32 slot = keccak256(abi.encode(id, uint256(13))); // `_users` (see forge inspect)
        uint256 word = uint256(vm.load(address(nft), slot));
        vm.assertEq(address(uint160(word)), carol);
        vm.assertEq((word >> 160) & type(uint64).max, 77);
        vm.assertEq(word >> 224, 2);
    }

    function test_transferCount_selfTransferKeepsUser_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.prank(alice);
        nft.setUser(id, bob, uint64(block.timestamp + 10));
        vm.prank(alice);
        nft.transferFrom(alice, alice, id);
        vm.assertEq(nft.userOf(id), bob);
        vm.assertEq(nft.transferCount(id), 1);
    }

    function test_userOf_noUser_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.assertEq(nft.userOf(id), address(0));
        vm.assertEq(nft.userExpires(id), 0);
    }

    // ---------------------------------------------------------------- admin + ERC-165

    function test_setBaseURI_byOwner_succeeds() public {
        uint256 id = _mint(alice, 0, 0, 0);
        vm.assertEq(nft.tokenURI(id), "");
        vm.expectEmit(address(nft));
        emit BaseURIUpdated("https://models.temporis/");
        vm.prank(admin);
        nft.setBaseURI("https://models.temporis/");
        vm.assertEq(nft.tokenURI(id), "https://models.temporis/1");
    }

    function test_setBaseURI_notOwner_reverts() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice));
        vm.prank(alice);
        nft.setBaseURI("x");
    }

    function test_supportsInterface_succeeds() public view {
        vm.assertTrue(nft.supportsInterface(0xad092b5c)); // ERC-4907
        vm.assertTrue(nft.supportsInterface(type(IERC4907).interfaceId));
        vm.assertEq(type(IERC4907).interfaceId, bytes4(0xad092b5c));
        vm.assertTrue(nft.supportsInterface(0x80ac58cd)); // ERC-721
        vm.assertTrue(nft.supportsInterface(0x5b5e139f)); // ERC-721 metadata
        vm.assertTrue(nft.supportsInterface(0x2a55205a)); // ERC-2981
        vm.assertTrue(nft.supportsInterface(0x01ffc9a7)); // ERC-165
        vm.assertTrue(nft.supportsInterface(type(IModelNFT).interfaceId));
        vm.assertEq(type(IModelNFT).interfaceId, bytes4(0xa90ccb49)); // 0x96fc6e14 ^ marketState (0x3ff0a55d)
        vm.assertFalse(nft.supportsInterface(0x96fc6e14)); // the id before marketState was added is not claimed
        vm.assertFalse(nft.supportsInterface(0xffffffff));
    }

    function test_constructor_setsOwnerAndNames_succeeds() public view {
        vm.assertEq(nft.owner(), admin);
        vm.assertEq(nft.name(), "Temporis Model");
        vm.assertEq(nft.symbol(), "TMODEL");
        vm.assertEq(nft.totalMinted(), 0);
    }
}
