"""Paid runs on a real anvil, real PostgreSQL and real Docker: spending a purchased run, release on
success, refund on failure, exactly once, through RPC outages and lost send outcomes."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from agentnexus.core.errors import PermissionDeniedError
from marketplace.services import agent_set_current_version
from marketplace.tests.factories import (
    AgentFactory,
    AgentVersionFactory,
    DeveloperProfileFactory,
    UserFactory,
)
from payments.chain.anvil import dev_private_keys
from payments.chain.client import ChainClient
from payments.chain.keys import fee_recipient_address
from payments.chain.marketplace import Marketplace, run_ref
from payments.models import Purchase, PurchaseStatus, Settlement, SettlementStatus
from payments.services import chain_deploy
from payments.settlement import settlements_send
from runtime.models import Run
from runtime.services import run_start, runs_admit

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = dev_private_keys(10)
DEVELOPER = ChainClient.account(KEYS[3]).address
BUYER_KEY = KEYS[5]
BUYER = ChainClient.account(BUYER_KEY).address
PRICE = Decimal("0.25")  # USDC per run
UNITS = 250_000


@pytest.fixture
def chain(anvil_node, settings):
    settings.CHAIN_RPC_URL = anvil_node.rpc_url
    settings.CHAIN_ID = anvil_node.chain_id
    client = ChainClient(anvil_node.rpc_url)
    snapshot = client.snapshot()
    yield client
    client.revert_to(snapshot)
    from payments.chain import sender

    sender._nonces.clear()  # the reverted chain forgot the nonces this test used


@pytest.fixture
def market(chain, example_images, misbehave_image):
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
        client=chain,
        deployer_key=KEYS[0],
        orchestrator=ChainClient.account(KEYS[8]).address,
        fee_recipient=fee_recipient_address(),
        fee_bps=3000,
        payment_ttl=30 * 24 * 3600,
    )
    record = result.deployment
    mp = Marketplace(
        chain,
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


def test_a_paid_run_needs_a_purchased_run(market):
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/runs/", {"agent": "paid-echo", "input": {"name": "x"}}, format="json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "purchase_required"
    assert error["buy_url"].startswith("/marketplace/paid-echo/")
    assert not Run.objects.exists()


def test_success_releases_and_failure_refunds_exact_amounts(market):
    user = UserFactory()
    purchase = buy(market, user, market["paid-echo"], 3)
    before = balances(market)
    ok, _ = run_start(user=user, agent=market["paid-echo"], data={"name": "Ada"})
    ok.refresh_from_db()
    assert ok.status == "succeeded"
    settlement = Settlement.objects.get(run=ok)
    assert settlement.kind == "release" and settlement.status == SettlementStatus.SUBMITTED
    assert settlement.tx_hash
    after_release = balances(market)
    assert after_release["developer"] - before["developer"] == UNITS * 7 // 10
    assert after_release["fee"] - before["fee"] == UNITS * 3 // 10
    assert after_release["buyer"] == before["buyer"]
    assert before["escrow"] - after_release["escrow"] == UNITS
    assert market["mp"].is_run_settled(run_ref(ok.pk))

    # A failing run of the same purchase is refunded to the buyer.
    purchase2 = buy(market, user, market["paid-misbehave"], 1)
    mid = balances(market)
    bad, _ = run_start(user=user, agent=market["paid-misbehave"], data={"mode": "error"})
    bad.refresh_from_db()
    assert bad.status == "failed"
    refund = Settlement.objects.get(run=bad)
    assert refund.kind == "refund" and refund.purchase == purchase2
    end = balances(market)
    assert end["buyer"] - mid["buyer"] == UNITS
    assert end["developer"] == mid["developer"] and end["fee"] == mid["fee"]
    purchase.refresh_from_db()
    assert purchase.runs_reserved == 1


def test_twenty_concurrent_starts_spend_exactly_ten_runs(market, settings):
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # keep them queued: this is about spending
    user = UserFactory()
    buy(market, user, market["paid-echo"], 10)
    started, refused, errors = [], [], []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        try:
            barrier.wait()
            run, _ = run_start(user=user, agent=market["paid-echo"], data={"name": "x"})
            started.append(run.pk)
        except PermissionDeniedError:
            refused.append(1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert (len(started), len(refused)) == (10, 10)
    assert Purchase.objects.get().runs_reserved == 10
    assert Settlement.objects.count() == 10


def test_rpc_outage_during_settlement_retries_then_settles_once(market, settings, anvil_node):
    user = UserFactory()
    buy(market, user, market["paid-echo"], 1)
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # reserved and queued while the chain is up
    run, _ = run_start(user=user, agent=market["paid-echo"], data={"name": "x"})
    good_url = settings.CHAIN_RPC_URL
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # the node goes away: connection refused
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 10
    runs_admit(agent_id=market["paid-echo"].pk)  # the run executes, then settlement fails
    run.refresh_from_db()
    assert run.status == "succeeded"
    settlement = Settlement.objects.get(run=run)
    assert settlement.status == SettlementStatus.PENDING
    assert settlement.attempts == 1 and settlement.next_attempt_at is not None
    assert "unreachable" in settlement.last_error or "cannot reach" in settlement.last_error
    before = balances(market)
    # The node comes back; the retry (due after the 1 s backoff) settles it.
    settings.CHAIN_RPC_URL = good_url
    Settlement.objects.filter(pk=settlement.pk).update(next_attempt_at=timezone.now())
    report = settlements_send()
    assert report.submitted == [settlement.pk]
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.SUBMITTED
    after = balances(market)
    assert after["developer"] - before["developer"] == UNITS * 7 // 10
    # Sending again (e.g. a duplicate task) never pays twice.
    assert settlements_send().submitted == []
    assert balances(market) == after


def test_a_lost_send_outcome_never_pays_twice(market):
    user = UserFactory()
    buy(market, user, market["paid-echo"], 1)
    run, _ = run_start(user=user, agent=market["paid-echo"], data={"name": "x"})
    settlement = Settlement.objects.get(run=run)
    assert settlement.status == SettlementStatus.SUBMITTED
    paid = balances(market)
    # The worker died after broadcasting, before the database learnt of it: the row still says
    # pending. The sender sees the run settled on chain and leaves it to the indexer.
    Settlement.objects.filter(pk=settlement.pk).update(
        status=SettlementStatus.PENDING, tx_hash="", next_attempt_at=None
    )
    report = settlements_send()
    settlement.refresh_from_db()
    assert report.submitted == [] and report.awaiting_index == [settlement.pk], (
        report,
        settlement.status,
        settlement.last_error,
    )
    assert balances(market) == paid
    settlement.refresh_from_db()
    assert settlement.status in (SettlementStatus.PENDING, SettlementStatus.CONFIRMED)
    assert settlement.status == SettlementStatus.CONFIRMED or "Already settled" in (
        settlement.last_error
    )
