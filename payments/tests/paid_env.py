"""Shared set-up for paid-run tests: a fresh deployment on the session anvil with two paid agents
(echo succeeds, misbehave fails on demand), a buyer wallet, and helpers to buy and read balances."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from marketplace.services import agent_set_current_version
from marketplace.tests.factories import (
    AgentFactory,
    AgentVersionFactory,
    DeveloperProfileFactory,
)
from payments.chain.anvil import dev_private_keys
from payments.chain.client import ChainClient
from payments.chain.keys import fee_recipient_address
from payments.chain.marketplace import Marketplace
from payments.models import Purchase, PurchaseStatus
from payments.services import chain_deploy

KEYS = dev_private_keys(10)
DEVELOPER = ChainClient.account(KEYS[3]).address
BUYER_KEY = KEYS[5]
BUYER = ChainClient.account(BUYER_KEY).address
PRICE = Decimal("0.25")  # USDC per run
UNITS = 250_000


@pytest.fixture
def paid_chain(anvil_node, settings):
    settings.CHAIN_RPC_URL = anvil_node.rpc_url
    settings.CHAIN_ID = anvil_node.chain_id
    settings.CHAIN_INDEXER_LAG = 0  # anvil mines only on demand: index up to the head
    client = ChainClient(anvil_node.rpc_url)
    snapshot = client.snapshot()
    yield client
    client.revert_to(snapshot)
    from payments.chain import sender

    sender._nonces.clear()  # the reverted chain forgot the nonces this test used


@pytest.fixture
def paid_market(paid_chain, example_images, misbehave_image):
    """Two paid agents (echo succeeds, misbehave fails on demand) listed on a fresh deployment."""
    developer = DeveloperProfileFactory(payout_address=DEVELOPER)
    agents = {}
    for slug, image, schema in (
        ("paid-echo", example_images["echo"], {"type": "object"}),
        ("paid-misbehave", misbehave_image, {"type": "object"}),
    ):
        agent = AgentFactory(slug=slug, developer=developer, price=None)
        version = AgentVersionFactory(
            agent=agent,
            image_ref=image,
            input_schema=schema,
            output_schema={"type": "object"},
            price=PRICE,
            memory_mb=64,
            timeout_seconds=20,
        )
        agent_set_current_version(agent=agent, version=version)
        agents[slug] = agent
    result = chain_deploy(
        client=paid_chain,
        deployer_key=KEYS[0],
        orchestrator=ChainClient.account(KEYS[8]).address,
        fee_recipient=fee_recipient_address(),
        fee_bps=3000,
        payment_ttl=30 * 24 * 3600,
    )
    record = result.deployment
    mp = Marketplace(
        paid_chain,
        entitlements=record.entitlements_address,
        escrow=record.escrow_address,
        stablecoin=record.stablecoin_address,
    )
    return {"mp": mp, "deployment": record, **agents}


def buy(market, user, agent, runs: int) -> Purchase:
    """Buy on chain as the buyer wallet and record the completed purchase (what the indexer
    does from the PaymentCreated event)."""
    mp, record = market["mp"], market["deployment"]
    token = record.stablecoin_address
    mp.client.transact(mp.stablecoin.functions.mint(BUYER, UNITS * runs), key=BUYER_KEY)
    mp.approve(token, UNITS * runs, key=BUYER_KEY)
    bought = mp.purchase(agent.pk, token, runs, key=BUYER_KEY)
    return Purchase.objects.create(
        public_id=uuid.uuid4(),
        user=user,
        agent=agent,
        deployment=record,
        buyer_address=BUYER,
        token_address=token,
        currency="USDC",
        runs=runs,
        unit_price=UNITS,
        total=UNITS * runs,
        status=PurchaseStatus.COMPLETED,
        payment_id=bought.payment_id,
        tx_hash=bought.receipt["transactionHash"].to_0x_hex(),
        block_number=bought.receipt["blockNumber"],
        expires_at=dt.datetime.fromtimestamp(bought.expires_at, tz=dt.UTC),
    )


def balances(market) -> dict[str, int]:
    mp, token = market["mp"], market["deployment"].stablecoin_address
    return {
        "buyer": mp.token_balance(token, BUYER),
        "developer": mp.token_balance(token, DEVELOPER),
        "fee": mp.token_balance(token, fee_recipient_address()),
        "escrow": mp.token_balance(token, mp.escrow.address),
    }
