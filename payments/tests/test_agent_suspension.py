"""Suspending an agent takes it down at once, on our side and on chain: no quote, no purchase
(even made directly on the escrow contract), no run; its queued runs are canceled and refunded.
Deprecation stops sales but honours runs already bought. Real anvil, PostgreSQL and Docker."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

import payments.tests.paid_env as paid_env
from marketplace.models import Agent, AgentEvent
from marketplace.services import agent_deprecate, agent_reactivate, agent_suspend
from marketplace.tests.factories import UserFactory
from payments.chain.client import ContractRevert
from payments.models import Settlement, Wallet
from payments.services import chain_agent_sync_status
from runtime.models import FailureReason, Run, RunStatus
from runtime.services import run_start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer(paid_market):
    user = UserFactory()
    Wallet.objects.create(user=user, address=paid_env.BUYER, is_primary=True)
    api = APIClient()
    api.force_authenticate(user)
    api.user = user
    return api


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def _direct_purchase(market, agent):
    mp, token = market["mp"], market["deployment"].stablecoin_address
    mp.client.transact(
        mp.stablecoin.functions.mint(paid_env.BUYER, paid_env.UNITS), key=paid_env.BUYER_KEY
    )
    mp.approve(token, paid_env.UNITS, key=paid_env.BUYER_KEY)
    return mp.purchase(agent.pk, token, 1, key=paid_env.BUYER_KEY)


def test_a_suspended_agent_cannot_be_bought_or_run_and_its_queued_runs_are_refunded(
    buyer, staff, paid_market, settings
):
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # keep the run queued: suspension must stop it
    agent = paid_market["paid-echo"]
    paid_env.buy(paid_market, buyer.user, agent, 2)
    queued, _ = run_start(user=buyer.user, agent=agent, data={"name": "x"})
    assert queued.status == RunStatus.QUEUED

    agent_suspend(agent=agent, by=staff, reason="Reported for scraping without consent.")

    queued.refresh_from_db()
    assert queued.status == RunStatus.CANCELED
    assert queued.failure_reason == FailureReason.AGENT_SUSPENDED
    assert Settlement.objects.get(run=queued).kind == "refund", "the stopped run is refunded"
    event = AgentEvent.objects.get(agent=agent, to_status=Agent.Status.SUSPENDED)
    assert event.actor == staff and "scraping" in event.reason

    quote = buyer.post(
        "/api/v1/purchases/quote/", {"agent": agent.slug, "runs": 1, "currency": "USDC"},
        format="json",
    )  # fmt: skip
    assert quote.status_code == 409, quote.json()
    assert quote.json()["error"]["code"] == "agent_suspended"
    started = buyer.post(
        "/api/v1/runs/", {"agent": agent.slug, "input": {"name": "y"}}, format="json"
    )
    assert started.status_code == 409, started.json()
    assert started.json()["error"]["code"] == "agent_suspended"
    assert "scraping" in started.json()["error"]["message"], "the reason is shown"
    assert Run.objects.filter(agent=agent).count() == 1
    catalog = buyer.get("/api/v1/agents/")
    assert agent.slug not in {a["slug"] for a in catalog.json()["results"]}

    # On chain: the sync task (run after commit) deactivated it; the escrow refuses a direct buy.
    assert paid_market["mp"].agent_active(agent.pk) is False
    assert chain_agent_sync_status(agent=agent) == "unchanged", "idempotent"
    with pytest.raises(ContractRevert) as refused:
        _direct_purchase(paid_market, agent)
    assert refused.value.name == "AgentNotActive"

    agent_reactivate(agent=agent, by=staff)
    assert paid_market["mp"].agent_active(agent.pk) is True
    assert _direct_purchase(paid_market, agent).payment_id


def test_a_deprecated_agent_is_not_sold_but_honours_runs_already_bought(buyer, paid_market):
    agent = paid_market["paid-echo"]
    paid_env.buy(paid_market, buyer.user, agent, 1)
    agent_deprecate(agent=agent, by=agent.developer.user, reason="Use paid-echo-2 instead.")
    quote = buyer.post(
        "/api/v1/purchases/quote/", {"agent": agent.slug, "runs": 1, "currency": "USDC"},
        format="json",
    )  # fmt: skip
    assert quote.status_code == 409 and quote.json()["error"]["code"] == "agent_deprecated"
    assert paid_market["mp"].agent_active(agent.pk) is False
    started = buyer.post(
        "/api/v1/runs/", {"agent": agent.slug, "input": {"name": "y"}}, format="json"
    )
    assert started.status_code == 201, "a run already paid for still starts"
    again = buyer.post(
        "/api/v1/runs/", {"agent": agent.slug, "input": {"name": "z"}}, format="json"
    )
    assert again.status_code == 403, "no runs left, and none can be bought"


def test_payouts_move_to_another_linked_wallet_and_the_escrow_follows(client, paid_market):
    from payments.chain.client import ChainClient

    agent = paid_market["paid-echo"]
    developer = agent.developer
    new_address = ChainClient.account(paid_env.KEYS[4]).address
    other = Wallet.objects.create(user=developer.user, address=new_address, is_primary=False)
    client.force_login(developer.user)
    page = client.get("/developer/").content.decode()
    assert "Receive payouts here" in page and new_address in page
    response = client.post("/developer/payout/", {"wallet": other.pk})
    assert response.status_code == 302
    developer.refresh_from_db()
    assert developer.payout_address == new_address
    # The re-listing task ran after commit: the escrow pays the new address from now on.
    assert paid_market["mp"].developer_of(agent.pk) == new_address
    # Deprecated, it still settles runs bought earlier: a later payout change still reaches
    # the escrow, and reactivating it re-lists it as it is now.
    agent_deprecate(agent=agent, by=developer.user)
    third = Wallet.objects.create(
        user=developer.user, address=ChainClient.account(paid_env.KEYS[6]).address
    )
    client.post("/developer/payout/", {"wallet": third.pk})
    assert paid_market["mp"].developer_of(agent.pk) == third.address
    assert paid_market["mp"].agent_active(agent.pk) is False
    client.post(f"/developer/agents/{agent.slug}/reactivate/")
    assert paid_market["mp"].agent_active(agent.pk) is True
    stranger = Wallet.objects.create(user=UserFactory(), address="0x" + "44" * 20)
    client.post("/developer/payout/", {"wallet": stranger.pk})
    developer.refresh_from_db()
    assert developer.payout_address == third.address, "only the developer's own wallets"
