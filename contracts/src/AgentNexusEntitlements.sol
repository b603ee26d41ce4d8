// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IAgentNexusEntitlements} from "./interfaces/IAgentNexusEntitlements.sol";

/// @title AgentNexus run entitlements (ERC-1155)
/// @notice Token id = the agent's on-chain id. One unit = one paid, unsettled run of that agent.
/// Units are minted by the escrow at purchase and burned by it when a run is released, refunded
/// or reclaimed. Units are non-transferable unless the admin switches an agent to transferable;
/// mint and burn are always allowed by the transfer hook. Pausing stops mints and transfers but
/// never burns, so escrow refunds and reclaims keep working while paused.
contract AgentNexusEntitlements is ERC1155, AccessControl, Pausable, IAgentNexusEntitlements {
    using Strings for uint256;

    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @dev One storage slot per agent.
    struct Agent {
        bool registered;
        bool active;
        bool transferable;
        uint64 maxSupply; // lifetime cap on units minted; 0 = unlimited
        uint128 minted; // lifetime units minted
    }

    /// @notice The escrow contract, allowed to mint and burn like MINTER_ROLE holders. Immutable, so
    /// the escrow's hot paths skip a storage read; the deployer passes the escrow's precomputed
    /// CREATE address (see payments/chain/client.py). A later escrow would get MINTER_ROLE instead.
    address public immutable escrow;

    string private _baseUri;
    mapping(uint256 agentId => Agent) private _agents;
    mapping(uint256 agentId => string) private _tokenUris;

    event AgentRegistered(uint256 indexed agentId, uint64 maxSupply, bool transferable);
    event AgentActiveSet(uint256 indexed agentId, bool active);
    event TransferableSet(uint256 indexed agentId, bool transferable);
    event MaxSupplySet(uint256 indexed agentId, uint64 maxSupply);
    event BaseURISet(string baseUri);

    error ZeroAddress();
    error ZeroAmount();
    error AgentAlreadyRegistered(uint256 agentId);
    error AgentNotRegistered(uint256 agentId);
    error AgentNotActive(uint256 agentId);
    error MaxSupplyExceeded(uint256 agentId, uint256 maxSupply, uint256 requestedTotal);
    error MaxSupplyBelowMinted(uint256 agentId, uint256 maxSupply, uint256 minted);
    error NotTransferable(uint256 agentId);

    /// @param escrow_ The escrow allowed to mint and burn (address(0) for none).
    constructor(address admin, address escrow_, string memory baseUri_) ERC1155("") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        escrow = escrow_;
        _baseUri = baseUri_;
        emit BaseURISet(baseUri_);
    }

    modifier onlyMinter() {
        if (msg.sender != escrow && !hasRole(MINTER_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, MINTER_ROLE);
        }
        _;
    }

    // ------------------------------------------------------------------ minting and burning

    /// @inheritdoc IAgentNexusEntitlements
    function mint(address to, uint256 agentId, uint256 amount) external onlyMinter whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        Agent storage agent_ = _agents[agentId];
        if (!agent_.active) revert AgentNotActive(agentId);
        uint256 minted = uint256(agent_.minted) + amount;
        uint256 cap = agent_.maxSupply;
        if (cap != 0 && minted > cap) revert MaxSupplyExceeded(agentId, cap, minted);
        if (minted > type(uint128).max) revert MaxSupplyExceeded(agentId, type(uint128).max, minted);
        agent_.minted = uint128(minted);
        _mint(to, agentId, amount, "");
    }

    /// @inheritdoc IAgentNexusEntitlements
    /// @dev Never blocked by pause or by deactivation: settlement must always be able to burn.
    function burn(address from, uint256 agentId, uint256 amount) external onlyMinter {
        if (amount == 0) revert ZeroAmount();
        _burn(from, agentId, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice True when `user` holds at least one unit of an active agent.
    function hasAccess(address user, uint256 agentId) external view returns (bool) {
        return _agents[agentId].active && balanceOf(user, agentId) > 0;
    }

    function agent(uint256 agentId) external view returns (Agent memory) {
        return _agents[agentId];
    }

    /// @notice The per-token URI if one is set, otherwise `baseUri` followed by the decimal id.
    function uri(uint256 agentId) public view override returns (string memory) {
        string memory tokenUri = _tokenUris[agentId];
        if (bytes(tokenUri).length != 0) return tokenUri;
        if (bytes(_baseUri).length == 0) return "";
        return string.concat(_baseUri, agentId.toString());
    }

    function baseUri() external view returns (string memory) {
        return _baseUri;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ admin

    function registerAgent(uint256 agentId, uint64 maxSupply, bool transferable) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agent storage agent_ = _agents[agentId];
        if (agent_.registered) revert AgentAlreadyRegistered(agentId);
        agent_.registered = true;
        agent_.active = true;
        agent_.transferable = transferable;
        agent_.maxSupply = maxSupply;
        emit AgentRegistered(agentId, maxSupply, transferable);
    }

    function setAgentActive(uint256 agentId, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agent storage agent_ = _registered(agentId);
        agent_.active = active;
        emit AgentActiveSet(agentId, active);
    }

    function setTransferable(uint256 agentId, bool transferable) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agent storage agent_ = _registered(agentId);
        agent_.transferable = transferable;
        emit TransferableSet(agentId, transferable);
    }

    function setMaxSupply(uint256 agentId, uint64 maxSupply) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Agent storage agent_ = _registered(agentId);
        if (maxSupply != 0 && maxSupply < agent_.minted) {
            revert MaxSupplyBelowMinted(agentId, maxSupply, agent_.minted);
        }
        agent_.maxSupply = maxSupply;
        emit MaxSupplySet(agentId, maxSupply);
    }

    function setBaseURI(string calldata newBaseUri) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseUri = newBaseUri;
        emit BaseURISet(newBaseUri);
    }

    /// @notice Set (or clear with "") the metadata URI of one token id.
    function setTokenURI(uint256 agentId, string calldata tokenUri) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _tokenUris[agentId] = tokenUri;
        emit URI(uri(agentId), agentId);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ internals

    function _registered(uint256 agentId) private view returns (Agent storage agent_) {
        agent_ = _agents[agentId];
        if (!agent_.registered) revert AgentNotRegistered(agentId);
    }

    /// @dev Holder-to-holder transfers need the agent to be transferable and the contract unpaused.
    /// Mints (from = 0) and burns (to = 0) always pass this hook; `mint` checks pause itself.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from != address(0) && to != address(0)) {
            _requireNotPaused();
            for (uint256 i; i < ids.length; ++i) {
                if (!_agents[ids[i]].transferable) revert NotTransferable(ids[i]);
            }
        }
        super._update(from, to, ids, values);
    }
}
