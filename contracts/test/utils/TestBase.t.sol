// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {FuzzSelector, Test} from "./Test.sol";

contract Counter {
    uint256 public n;

    function inc(uint256 by) external {
        n += by % 10;
    }
}

contract SmokeTest is Test {
    Counter c;

    function setUp() public {
        c = new Counter();
        targetContract(address(c));
    }

    function test_inc_succeeds() public {
        c.inc(3);
        vm.assertEq(c.n(), 3);
    }

    function test_fail_reverts() public {
        vm.expectRevert();
        this.boom();
    }

    function boom() external pure {
        revert("x");
    }

    function testFuzz_inc(uint256 x) public {
        c.inc(x);
        vm.assertLe(c.n(), 9);
    }

    function invariant_small() public view {
        vm.assertLe(c.n(), 9 * 1000);
    }
}
