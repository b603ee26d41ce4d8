// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice ERC-20 that, once armed, calls `target` with `data` from inside its next holder-to-holder
/// transfer (so from inside the escrow's `transferFrom` at purchase or `transfer` at payout).
/// With `bubble` the failed re-entry reverts the whole transaction; without it the failure is
/// recorded and the outer call goes on. TESTS ONLY.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public data;
    bool public armed;
    bool public bubble;
    uint256 public attempts;
    bool public lastSucceeded;
    bytes public lastReturnData;

    constructor() ERC20("Reentrant Token", "REENT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata data_, bool bubble_) external {
        target = target_;
        data = data_;
        bubble = bubble_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0) && to != address(0)) {
            armed = false;
            attempts += 1;
            (bool ok, bytes memory ret) = target.call(data);
            lastSucceeded = ok;
            lastReturnData = ret;
            if (!ok && bubble) {
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
    }
}
