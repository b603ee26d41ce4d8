"""`manage.py chain_deploy` against a real anvil: deploys once, lists agents, stays idempotent."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, DeveloperProfileFactory
from payments.chain.client import NATIVE_TOKEN
from payments.chain.keys import orchestrator_key
from payments.chain.marketplace import Marketplace
from payments.models import ChainAgent, ChainDeployment
from payments.services import price_units

pytestmark = pytest.mark.django_db

DEV_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def chain(anvil_node, settings):
    """The session anvil, rolled back after the test; settings point at it."""
    from payments.chain.client import ChainClient

    settings.CHAIN_RPC_URL = anvil_node.rpc_url
    settings.CHAIN_ID = anvil_node.chain_id
    client = ChainClient(anvil_node.rpc_url)
    snapshot = client.snapshot()
    try:
        yield client
    finally:
        client.revert_to(snapshot)


def deploy(*args: str) -> str:
    out = StringIO()
    call_command("chain_deploy", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def agents():
    developer = DeveloperProfileFactory(payout_address=DEV_ADDRESS)
    usdc = AgentFactory(developer=developer, price=Decimal("2.5"))
    eth_agent = AgentFactory(developer=developer, price=None)
    version = AgentVersionFactory(agent=eth_agent, price=Decimal("0.001"), currency="ETH")
    agent_set_current_version(agent=eth_agent, version=version)
    no_payout = AgentFactory(price=Decimal("1"))
    draft = AgentFactory(developer=developer, price=None)  # not listed: no version
    return {"usdc": usdc, "eth": eth_agent, "no_payout": no_payout, "draft": draft}


def market_for(client, record: ChainDeployment) -> Marketplace:
    return Marketplace(
        client,
        entitlements=record.entitlements_address,
        escrow=record.escrow_address,
        stablecoin=record.stablecoin_address,
    )


def test_deploys_records_and_lists_agents(chain, agents):
    out = deploy()
    record = ChainDeployment.objects.get(is_active=True)
    assert record.chain_id == 31337
    assert record.fee_bps == 3000
    assert record.stablecoin_is_mock and record.stablecoin_address
    assert "deployed now" in out and "2 registered" in out and "1 skipped" in out
    assert f"{agents['no_payout'].slug}: skipped, its developer has no payout address" in out

    market = market_for(chain, record)
    usdc_row = ChainAgent.objects.get(agent=agents["usdc"])
    eth_row = ChainAgent.objects.get(agent=agents["eth"])
    assert usdc_row.chain_agent_id == agents["usdc"].pk
    assert market.developer_of(usdc_row.chain_agent_id) == DEV_ADDRESS
    assert market.price(usdc_row.chain_agent_id, record.stablecoin_address) == 2_500_000
    assert market.price(eth_row.chain_agent_id, NATIVE_TOKEN) == 10**15
    assert eth_row.prices == {NATIVE_TOKEN: str(10**15)}
    assert not ChainAgent.objects.filter(agent__in=[agents["no_payout"], agents["draft"]]).exists()
    # Roles are wired: the orchestrator address comes from its key.
    from payments.chain.keys import address_of

    assert record.orchestrator_address == address_of(orchestrator_key())


def test_second_run_sends_nothing(chain, agents):
    deploy()
    block = chain.rpc("eth_blockNumber")
    out = deploy()
    assert chain.rpc("eth_blockNumber") == block, "an idempotent re-run must not transact"
    assert "already deployed" in out and "0 registered, 0 updated" in out
    assert ChainDeployment.objects.count() == 1
    assert ChainAgent.objects.count() == 2


def test_price_change_and_new_agent_are_synced(chain, agents):
    deploy()
    version = AgentVersionFactory(agent=agents["usdc"], price=Decimal("3.75"))
    agent_set_current_version(agent=agents["usdc"], version=version)
    newcomer = AgentFactory(developer=agents["usdc"].developer, price=Decimal("1"))
    out = deploy()
    assert "1 registered, 1 updated" in out
    record = ChainDeployment.objects.get(is_active=True)
    market = market_for(chain, record)
    assert market.price(agents["usdc"].pk, record.stablecoin_address) == 3_750_000
    assert market.developer_of(newcomer.pk) == DEV_ADDRESS


def test_reset_chain_gets_a_new_deployment(chain, agents):
    before = chain.snapshot()
    deploy()
    old = ChainDeployment.objects.get()
    chain.revert_to(before)  # what restarting a dev chain without state looks like
    out = deploy()
    assert "contracts are gone" in out
    old.refresh_from_db()
    assert not old.is_active
    new = ChainDeployment.objects.get(is_active=True)
    assert new.pk != old.pk
    assert market_for(chain, new).developer_of(agents["usdc"].pk) == DEV_ADDRESS


def test_wrong_chain_id_is_refused(chain, settings):
    settings.CHAIN_ID = 1
    with pytest.raises(CommandError, match="expected chain 1"):
        deploy()
    assert not ChainDeployment.objects.exists()


def test_non_local_chain_requires_configured_keys(settings):
    settings.CHAIN_ID = 8453
    settings.CHAIN_ORCHESTRATOR_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="CHAIN_ORCHESTRATOR_KEY"):
        orchestrator_key()


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("2.5", "USDC", 2_500_000), ("0.000001", "USDC", 1), ("0.001", "ETH", 10**15)],
)
def test_price_units(amount, currency, units):
    assert price_units(amount=Decimal(amount), currency=currency) == units


def test_price_finer_than_the_token_is_refused():
    with pytest.raises(ValueError, match="smallest unit"):
        price_units(amount=Decimal("0.0000001"), currency="USDC")
