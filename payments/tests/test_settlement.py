"""Paid runs on a real anvil, real PostgreSQL and real Docker: spending a purchased run, release on
success, refund on failure, exactly once, through RPC outages and lost send outcomes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from agentnexus.core.errors import PermissionDeniedError
from marketplace.tests.factories import UserFactory
from payments.chain.marketplace import run_ref
from payments.models import Purchase, Settlement, SettlementStatus
from payments.reconcile import payments_reconcile
from payments.settlement import settlements_send
from payments.tests.paid_env import UNITS, balances, buy
from runtime.models import Run
from runtime.services import run_start, runs_admit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_paid_run_needs_a_purchased_run(paid_market):
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


def test_success_releases_and_failure_refunds_exact_amounts(paid_market):
    user = UserFactory()
    purchase = buy(paid_market, user, paid_market["paid-echo"], 3)
    before = balances(paid_market)
    ok, _ = run_start(user=user, agent=paid_market["paid-echo"], data={"name": "Ada"})
    ok.refresh_from_db()
    assert ok.status == "succeeded"
    settlement = Settlement.objects.get(run=ok)
    # Sent, then confirmed from the chain's RunReleased event (the indexer runs right after).
    assert settlement.kind == "release" and settlement.status == SettlementStatus.CONFIRMED
    assert settlement.tx_hash
    assert (
        settlement.developer_amount == UNITS * 7 // 10 and settlement.fee_amount == UNITS * 3 // 10
    )
    after_release = balances(paid_market)
    assert after_release["developer"] - before["developer"] == UNITS * 7 // 10
    assert after_release["fee"] - before["fee"] == UNITS * 3 // 10
    assert after_release["buyer"] == before["buyer"]
    assert before["escrow"] - after_release["escrow"] == UNITS
    assert paid_market["mp"].is_run_settled(run_ref(ok.pk))

    # A failing run of the same purchase is refunded to the buyer.
    purchase2 = buy(paid_market, user, paid_market["paid-misbehave"], 1)
    mid = balances(paid_market)
    bad, _ = run_start(user=user, agent=paid_market["paid-misbehave"], data={"mode": "error"})
    bad.refresh_from_db()
    assert bad.status == "failed"
    refund = Settlement.objects.get(run=bad)
    assert refund.kind == "refund" and refund.purchase == purchase2
    assert refund.status == SettlementStatus.CONFIRMED
    end = balances(paid_market)
    assert end["buyer"] - mid["buyer"] == UNITS
    assert end["developer"] == mid["developer"] and end["fee"] == mid["fee"]
    purchase.refresh_from_db()
    assert (purchase.runs_reserved, purchase.runs_released) == (1, 1)


def test_twenty_concurrent_starts_spend_exactly_ten_runs(paid_market, settings):
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # keep them queued: this is about spending
    user = UserFactory()
    buy(paid_market, user, paid_market["paid-echo"], 10)
    started, refused, errors = [], [], []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        try:
            barrier.wait()
            run, _ = run_start(user=user, agent=paid_market["paid-echo"], data={"name": "x"})
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


def test_rpc_outage_during_settlement_retries_then_settles_once(paid_market, settings, anvil_node):
    user = UserFactory()
    buy(paid_market, user, paid_market["paid-echo"], 1)
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # reserved and queued while the chain is up
    run, _ = run_start(user=user, agent=paid_market["paid-echo"], data={"name": "x"})
    good_url = settings.CHAIN_RPC_URL
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"  # the node goes away: connection refused
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 10
    runs_admit(agent_id=paid_market["paid-echo"].pk)  # the run executes, then settlement fails
    run.refresh_from_db()
    assert run.status == "succeeded"
    settlement = Settlement.objects.get(run=run)
    assert settlement.status == SettlementStatus.PENDING
    assert settlement.attempts == 1 and settlement.next_attempt_at is not None
    assert "unreachable" in settlement.last_error or "cannot reach" in settlement.last_error
    before = balances(paid_market)
    # The node comes back; the retry (due after the 1 s backoff) settles it.
    settings.CHAIN_RPC_URL = good_url
    Settlement.objects.filter(pk=settlement.pk).update(next_attempt_at=timezone.now())
    report = settlements_send()
    assert report.submitted == [settlement.pk]
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    after = balances(paid_market)
    assert after["developer"] - before["developer"] == UNITS * 7 // 10
    # Sending again (e.g. a duplicate task) never pays twice.
    assert settlements_send().submitted == []
    assert balances(paid_market) == after


def test_a_lost_send_outcome_never_pays_twice(paid_market):
    user = UserFactory()
    buy(paid_market, user, paid_market["paid-echo"], 1)
    run, _ = run_start(user=user, agent=paid_market["paid-echo"], data={"name": "x"})
    settlement = Settlement.objects.get(run=run)
    assert settlement.status == SettlementStatus.CONFIRMED
    paid = balances(paid_market)
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
    assert balances(paid_market) == paid
    settlement.refresh_from_db()
    # Reconciliation completes it from the chain's event: confirmed, paid once.
    payments_reconcile(deployment_id=paid_market["deployment"].pk)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    assert settlement.tx_hash
    assert balances(paid_market) == paid
