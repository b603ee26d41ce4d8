"""AgentNexusEntitlements (ERC-1155): registration, minting rules, transfer switch, URIs, pause."""

from __future__ import annotations

import pytest

from payments.chain.client import DEFAULT_ADMIN_ROLE, MINTER_ROLE, PAUSER_ROLE, ZERO_ADDRESS
from payments.tests.chain_env import AGENT, ChainEnv, reverts

BASE = "https://agentnexus.test/metadata/"


@pytest.fixture
def ent(env: ChainEnv):
    """A standalone entitlements contract whose `escrow` is the developer2 account (an EOA), so
    tests can mint and burn directly; agent 1 is registered (unlimited, non-transferable)."""
    contract = env.deploy("AgentNexusEntitlements", env.acct.admin, env.acct.developer2, BASE)
    env.admin(contract.functions.registerAgent(AGENT, 0, False))
    env.admin(contract.functions.grantRole(PAUSER_ROLE, env.acct.pauser))
    return contract


def mint(env: ChainEnv, ent, to: str, amount: int, agent: int = AGENT):
    return env.send(ent.functions.mint(to, agent, amount), env.acct.developer2)


def test_constructor(env: ChainEnv, ent):
    f = ent.functions
    assert env.call(f.escrow()) == env.acct.developer2
    assert env.call(f.baseUri()) == BASE
    assert env.call(f.hasRole(DEFAULT_ADMIN_ROLE, env.acct.admin))
    assert env.call(env.entitlements.functions.escrow()) == env.escrow.address
    with reverts("ZeroAddress"):
        env.deploy("AgentNexusEntitlements", ZERO_ADDRESS, env.acct.developer2, BASE)


def test_register_agent(env: ChainEnv, ent):
    f = ent.functions
    receipt = env.admin(f.registerAgent(7, 100, True))
    assert env.events(ent, "AgentRegistered", receipt) == [
        {"agentId": 7, "maxSupply": 100, "transferable": True}
    ]
    assert env.call(f.agent(7)) == (True, True, True, 100, 0)
    with reverts("AgentAlreadyRegistered", 7):
        env.admin(f.registerAgent(7, 0, False))


def test_admin_setters(env: ChainEnv, ent):
    f = ent.functions
    receipt = env.admin(f.setAgentActive(AGENT, False))
    assert env.events(ent, "AgentActiveSet", receipt) == [{"agentId": AGENT, "active": False}]
    receipt = env.admin(f.setTransferable(AGENT, True))
    assert env.events(ent, "TransferableSet", receipt) == [{"agentId": AGENT, "transferable": True}]
    receipt = env.admin(f.setMaxSupply(AGENT, 9))
    assert env.events(ent, "MaxSupplySet", receipt) == [{"agentId": AGENT, "maxSupply": 9}]
    assert env.call(f.agent(AGENT)) == (True, False, True, 9, 0)
    for call in (f.setAgentActive(5, True), f.setTransferable(5, True), f.setMaxSupply(5, 1)):
        with reverts("AgentNotRegistered", 5):
            env.admin(call)


def test_set_max_supply_cannot_go_below_minted(env: ChainEnv, ent):
    f = ent.functions
    mint(env, ent, env.acct.buyer, 4)
    with reverts("MaxSupplyBelowMinted", AGENT, 3, 4):
        env.admin(f.setMaxSupply(AGENT, 3))
    env.admin(f.setMaxSupply(AGENT, 4))
    env.admin(f.setMaxSupply(AGENT, 0))  # back to unlimited


def test_mint_and_burn_by_escrow_and_by_minter_role(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    receipt = mint(env, ent, a.buyer, 3)
    (event,) = env.events(ent, "TransferSingle", receipt)
    assert event == {
        "operator": a.developer2,
        "from": ZERO_ADDRESS,
        "to": a.buyer,
        "id": AGENT,
        "value": 3,
    }
    env.admin(f.grantRole(MINTER_ROLE, a.stranger))
    env.send(f.mint(a.buyer2, AGENT, 2), a.stranger)
    env.send(f.burn(a.buyer, AGENT, 1), a.stranger)
    env.send(f.burn(a.buyer2, AGENT, 2), a.developer2)
    assert env.call(f.balanceOf(a.buyer, AGENT)) == 2
    assert env.call(f.balanceOf(a.buyer2, AGENT)) == 0
    assert env.call(f.agent(AGENT))[4] == 5  # minted counts every unit ever minted


def test_mint_reverts(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    with reverts("ZeroAmount"):
        mint(env, ent, a.buyer, 0)
    with reverts("AgentNotActive", 99):
        mint(env, ent, a.buyer, 1, agent=99)
    env.admin(f.setAgentActive(AGENT, False))
    with reverts("AgentNotActive", AGENT):
        mint(env, ent, a.buyer, 1)
    env.admin(f.setAgentActive(AGENT, True))
    env.admin(f.setMaxSupply(AGENT, 3))
    with reverts("MaxSupplyExceeded", AGENT, 3, 4):
        mint(env, ent, a.buyer, 4)
    mint(env, ent, a.buyer, 3)
    env.send(f.burn(a.buyer, AGENT, 3), a.developer2)
    with reverts("MaxSupplyExceeded", AGENT, 3, 4):  # a lifetime cap: burns do not free units
        mint(env, ent, a.buyer, 1)
    env.admin(f.setMaxSupply(AGENT, 0))
    with reverts("MaxSupplyExceeded", AGENT, 2**128 - 1, 2**128 + 2):
        mint(env, ent, a.buyer, 2**128 - 1)
    with reverts("ERC1155InvalidReceiver", ZERO_ADDRESS):
        mint(env, ent, ZERO_ADDRESS, 1)
    with reverts("AccessControlUnauthorizedAccount", a.buyer, MINTER_ROLE):
        env.send(f.mint(a.buyer, AGENT, 1), a.buyer)


def test_burn_reverts(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    mint(env, ent, a.buyer, 1)
    with reverts("ZeroAmount"):
        env.send(f.burn(a.buyer, AGENT, 0), a.developer2)
    with reverts("ERC1155InsufficientBalance", a.buyer, 1, 2, AGENT):
        env.send(f.burn(a.buyer, AGENT, 2), a.developer2)
    with reverts("AccessControlUnauthorizedAccount", a.buyer, MINTER_ROLE):
        env.send(f.burn(a.buyer, AGENT, 1), a.buyer)


def test_burn_works_while_paused_and_inactive(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    mint(env, ent, a.buyer, 2)
    env.send(f.pause(), a.pauser)
    env.admin(f.setAgentActive(AGENT, False))
    env.send(f.burn(a.buyer, AGENT, 2), a.developer2)
    assert env.call(f.balanceOf(a.buyer, AGENT)) == 0


def test_has_access_needs_units_and_an_active_agent(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    assert not env.call(f.hasAccess(a.buyer, AGENT))
    mint(env, ent, a.buyer, 1)
    assert env.call(f.hasAccess(a.buyer, AGENT))
    env.admin(f.setAgentActive(AGENT, False))
    assert not env.call(f.hasAccess(a.buyer, AGENT))
    env.admin(f.setAgentActive(AGENT, True))
    env.send(f.burn(a.buyer, AGENT, 1), a.developer2)
    assert not env.call(f.hasAccess(a.buyer, AGENT))


def test_units_are_not_transferable_by_default(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    mint(env, ent, a.buyer, 3)
    with reverts("NotTransferable", AGENT):
        env.send(f.safeTransferFrom(a.buyer, a.buyer2, AGENT, 1, b""), a.buyer)
    with reverts("NotTransferable", AGENT):
        env.send(f.safeBatchTransferFrom(a.buyer, a.buyer2, [AGENT], [1], b""), a.buyer)
    # Approved operators are refused too.
    env.send(f.setApprovalForAll(a.stranger, True), a.buyer)
    with reverts("NotTransferable", AGENT):
        env.send(f.safeTransferFrom(a.buyer, a.stranger, AGENT, 1, b""), a.stranger)


def test_transferable_switch(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    mint(env, ent, a.buyer, 3)
    env.admin(f.setTransferable(AGENT, True))
    env.send(f.safeTransferFrom(a.buyer, a.buyer2, AGENT, 1, b""), a.buyer)
    env.send(f.safeBatchTransferFrom(a.buyer, a.buyer2, [AGENT], [1], b""), a.buyer)
    assert env.call(f.balanceOf(a.buyer2, AGENT)) == 2
    env.send(f.pause(), a.pauser)
    with reverts("EnforcedPause"):
        env.send(f.safeTransferFrom(a.buyer, a.buyer2, AGENT, 1, b""), a.buyer)
    env.admin(f.unpause())
    env.admin(f.setTransferable(AGENT, False))
    with reverts("NotTransferable", AGENT):
        env.send(f.safeTransferFrom(a.buyer2, a.buyer, AGENT, 1, b""), a.buyer2)


def test_batch_transfer_checks_every_id(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    env.admin(f.registerAgent(2, 0, True))
    mint(env, ent, a.buyer, 1)
    mint(env, ent, a.buyer, 1, agent=2)
    with reverts("NotTransferable", AGENT):
        env.send(f.safeBatchTransferFrom(a.buyer, a.buyer2, [2, AGENT], [1, 1], b""), a.buyer)
    env.send(f.safeTransferFrom(a.buyer, a.buyer2, 2, 1, b""), a.buyer)


def test_uris(env: ChainEnv, ent):
    f = ent.functions
    assert env.call(f.uri(AGENT)) == f"{BASE}1"
    assert env.call(f.uri(12345)) == f"{BASE}12345"
    receipt = env.admin(f.setTokenURI(AGENT, "ipfs://agent-one"))
    assert env.events(ent, "URI", receipt) == [{"value": "ipfs://agent-one", "id": AGENT}]
    assert env.call(f.uri(AGENT)) == "ipfs://agent-one"
    receipt = env.admin(f.setBaseURI("https://cdn.test/"))
    assert env.events(ent, "BaseURISet", receipt) == [{"baseUri": "https://cdn.test/"}]
    assert env.call(f.uri(2)) == "https://cdn.test/2"
    assert env.call(f.uri(AGENT)) == "ipfs://agent-one"
    env.admin(f.setTokenURI(AGENT, ""))
    assert env.call(f.uri(AGENT)) == "https://cdn.test/1"
    env.admin(f.setBaseURI(""))
    assert env.call(f.uri(AGENT)) == ""


def test_pause_rules(env: ChainEnv, ent):
    a, f = env.acct, ent.functions
    receipt = env.send(f.pause(), a.pauser)
    assert env.events(ent, "Paused", receipt) == [{"account": a.pauser}]
    with reverts("EnforcedPause"):
        mint(env, ent, a.buyer, 1)
    with reverts("EnforcedPause"):
        env.send(f.pause(), a.pauser)
    with reverts("AccessControlUnauthorizedAccount", a.pauser, DEFAULT_ADMIN_ROLE):
        env.send(f.unpause(), a.pauser)
    env.admin(f.unpause())
    with reverts("ExpectedPause"):
        env.admin(f.unpause())
    mint(env, ent, a.buyer, 1)


def test_supports_interfaces(env: ChainEnv, ent):
    f = ent.functions
    for interface_id in ("0x01ffc9a7", "0xd9b67a26", "0x0e89341c", "0x7965db0b"):
        assert env.call(f.supportsInterface(bytes.fromhex(interface_id[2:])))
    assert not env.call(f.supportsInterface(bytes.fromhex("ffffffff")))
