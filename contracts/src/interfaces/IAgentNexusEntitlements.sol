// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The part of the entitlements contract the escrow calls.
interface IAgentNexusEntitlements {
    /// @notice Mint `amount` run units of `agentId` to `to`.
    function mint(address to, uint256 agentId, uint256 amount) external;

    /// @notice Burn `amount` run units of `agentId` held by `from`.
    function burn(address from, uint256 agentId, uint256 amount) external;
}
