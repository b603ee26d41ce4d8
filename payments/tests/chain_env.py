"""Test helpers for the contract suite: a deployed marketplace on anvil, reached via payments.chain."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

import pytest

from payments.chain.anvil import Anvil, AnvilNotFound, dev_private_keys, find_anvil
from payments.chain.artifacts import ESCROW, load_artifact
from payments.chain.client import (
    NATIVE_TOKEN,
    ORCHESTRATOR_ROLE,
    ChainClient,
    ContractRevert,
    MarketplaceDeployment,
    deploy_marketplace,
    mapping_slot,
)
from payments.chain.marketplace import Marketplace, run_ref

ETH = NATIVE_TOKEN
AGENT = 1  # registered with prices in every token
ETH_PRICE = 10**15  # 0.001 ETH per run
USDC_PRICE = 2_500_000  # 2.50 mUSDC per run
TOKEN_PRICE = 1_000_000  # price in the attack tokens
FEE_BPS = 3000
TTL = 30 * 24 * 3600
INITIAL_TOKENS = 10**15


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_or_skip(message: str) -> None:
    """Skip locally; fail in CI, where a missing tool must never turn into a green run."""
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def start_anvil() -> Anvil:
    if find_anvil() is None:
        require_or_skip("anvil not found: run `npm ci --prefix contracts`")
    try:
        return Anvil.start(chain_id=31337)
    except AnvilNotFound as exc:  # pragma: no cover - find_anvil said it exists
        require_or_skip(str(exc))
        raise


@dataclass
class Accounts:
    keys: list[str]

    def __post_init__(self) -> None:
        self.addresses = [ChainClient.account(k).address for k in self.keys]

    # Fixed roles of anvil's ten dev accounts in these tests.
    admin = property(lambda self: self.addresses[0])
    orchestrator = property(lambda self: self.addresses[1])
    fee_recipient = property(lambda self: self.addresses[2])
    developer = property(lambda self: self.addresses[3])
    pauser = property(lambda self: self.addresses[4])
    buyer = property(lambda self: self.addresses[5])
    buyer2 = property(lambda self: self.addresses[6])
    stranger = property(lambda self: self.addresses[7])
    developer2 = property(lambda self: self.addresses[8])

    def key(self, address: str) -> str:
        return self.keys[self.addresses.index(address)]


@dataclass
class ChainEnv:
    client: ChainClient
    deployment: MarketplaceDeployment
    mp: Marketplace
    acct: Accounts
    usdc: Any
    fot: Any
    reent: Any
    _ref_counter: list[int] = field(default_factory=lambda: [0])

    @property
    def escrow(self):
        return self.mp.escrow

    @property
    def entitlements(self):
        return self.mp.entitlements

    # ------------------------------------------------------------------ transactions

    def send(self, fn: Any, sender: str, value: int = 0):
        return self.client.transact(fn, key=self.acct.key(sender), value=value)

    def admin(self, fn: Any):
        return self.send(fn, self.acct.admin)

    def orch(self, fn: Any):
        return self.send(fn, self.acct.orchestrator)

    def buy(self, runs: int = 1, token: str = ETH, buyer: str | None = None, agent: int = AGENT):
        return self.mp.purchase(agent, token, runs, key=self.acct.key(buyer or self.acct.buyer))

    def ref(self) -> bytes:
        """A fresh sequential run reference."""
        self._ref_counter[0] += 1
        return run_ref(self._ref_counter[0])

    def deploy(self, name: str, *args: Any) -> Any:
        deployed = self.client.deploy(name, *args, key=self.acct.keys[0])
        return self.client.contract(name, deployed.address)

    def grant_orchestrator(self, address: str) -> None:
        self.admin(self.escrow.functions.grantRole(ORCHESTRATOR_ROLE, address))

    # ------------------------------------------------------------------ reads

    def call(self, fn: Any, sender: str | None = None) -> Any:
        return self.client.call(fn, sender=sender)

    def balance(self, token: str, holder: str) -> int:
        return self.mp.token_balance(token, holder)

    def settled_word(self, word: int) -> int:
        """The raw 256-bit word `word` of the escrow's settled-runs bitmap, read from storage."""
        (slot,) = [
            int(item["slot"])
            for item in load_artifact(ESCROW).storage_layout["storage"]
            if item["label"] == "_settledRuns"
        ]
        return self.client.storage_at(self.escrow.address, mapping_slot(word, slot))

    def units(self, holder: str, agent: int = AGENT) -> int:
        return self.mp.units(holder, agent)

    def payment(self, payment_id: int):
        return self.mp.payment(payment_id)

    @staticmethod
    def eth_cost(receipt) -> int:
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    def events(self, contract: Any, name: str, receipt) -> list[dict]:
        return self.client.events(contract, name, receipt)


@contextlib.contextmanager
def reverts(name: str, *args: Any):
    """Expect a ContractRevert with this error name (and these decoded args, if given)."""
    with pytest.raises(ContractRevert) as info:
        yield info
    assert info.value.name == name, f"expected {name}{args}, got {info.value!r}"
    if args:
        assert info.value.args == tuple(args), f"expected {name}{args}, got {info.value!r}"


def build_env(node: Anvil) -> ChainEnv:
    client = ChainClient(node.rpc_url, expected_chain_id=node.chain_id)
    acct = Accounts(dev_private_keys(10))
    deployment = deploy_marketplace(
        client,
        deployer_key=acct.keys[0],
        orchestrator=acct.orchestrator,
        fee_recipient=acct.fee_recipient,
        pauser=acct.pauser,
        fee_bps=FEE_BPS,
        payment_ttl=TTL,
        base_uri="https://agentnexus.test/metadata/",
    )
    mp = Marketplace.from_deployment(client, deployment)
    admin_key = acct.keys[0]
    usdc = mp.stablecoin

    def deploy(name: str):
        return client.contract(name, client.deploy(name, key=admin_key).address)

    fot = deploy("FeeOnTransferToken")
    reent = deploy("ReentrantToken")
    for token in (fot, reent):
        mp.allow_token(token.address, True, key=admin_key)
    mp.register_agent(
        AGENT,
        acct.developer,
        prices={
            ETH: ETH_PRICE,
            usdc.address: USDC_PRICE,
            fot.address: TOKEN_PRICE,
            reent.address: TOKEN_PRICE,
        },
        key=admin_key,
    )
    for token in (usdc, fot, reent):
        for holder in (acct.buyer, acct.buyer2, acct.stranger):
            client.transact(token.functions.mint(holder, INITIAL_TOKENS), key=admin_key)
            client.transact(
                token.functions.approve(mp.escrow.address, 2**256 - 1), key=acct.key(holder)
            )
    return ChainEnv(client, deployment, mp, acct, usdc, fot, reent)
