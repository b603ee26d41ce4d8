// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A contract buyer or developer. It forwards calls (to buy, approve, reclaim), accepts ERC-1155
/// units, and once armed calls `target` with `data` from inside its next ETH receipt or ERC-1155
/// receipt. With `bubble` a failed re-entry reverts the whole transaction; without it the failure
/// is recorded. `rejectEth` makes every ETH receipt fail. TESTS ONLY.
contract ReentrantReceiver {
    address public target;
    bytes public data;
    bool public armed;
    bool public bubble;
    bool public rejectEth;
    uint256 public attempts;
    bool public lastSucceeded;
    bytes public lastReturnData;

    error EthRejected();

    function execute(address to, bytes calldata callData) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = to.call{value: msg.value}(callData);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function arm(address target_, bytes calldata data_, bool bubble_) external {
        target = target_;
        data = data_;
        bubble = bubble_;
        armed = true;
    }

    function setRejectEth(bool reject) external {
        rejectEth = reject;
    }

    receive() external payable {
        if (rejectEth) revert EthRejected();
        _attack();
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external returns (bytes4) {
        _attack();
        return this.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        returns (bytes4)
    {
        _attack();
        return this.onERC1155BatchReceived.selector;
    }

    function _attack() private {
        if (!armed) return;
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
