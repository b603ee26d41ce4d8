"""Spending purchased runs and settling them on chain, exactly once.

- `settlement_reserve` (inside run_start's transaction): the user's oldest completed, unexpired
  purchase of the agent with runs left gives one run; its row is locked, so two concurrent starts
  never spend the same run. The Settlement row (reserved) links run and purchase.
- `settlement_request` (after the run's terminal transition): reserved -> pending, release if the
  run succeeded, refund otherwise; a send is queued.
- `settlements_send`: due pending settlements, batched per kind, signed, recorded as submitted
  with the transaction hash BEFORE broadcast, then sent. Confirmation comes from the chain's
  events (payments.indexer), which is also how a send whose outcome was lost is completed.
  Transient failures go back to pending with backoff 1, 2, 4, 8, 16 s, then every 60 s with an
  alert; nothing is dropped. The contract's settle-once run reference makes a resend harmless.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from agentnexus.core.errors import ApplicationError, PermissionDeniedError
from payments.chain.client import ChainClient, ChainError, ContractRevert
from payments.chain.keys import orchestrator_key
from payments.chain.marketplace import run_ref
from payments.chain.sender import Sender, TransientChainError
from payments.chain.settle import entitlement_units, settle_call
from payments.models import (
    PaymentAlert,
    Purchase,
    PurchaseStatus,
    Settlement,
    SettlementStatus,
)
from payments.services import chain_deployment_active, deployment_market, settlement_transition

logger = logging.getLogger(__name__)

BACKOFF_SECONDS = (1, 2, 4, 8, 16)  # the spec's schedule
SLOW_RETRY_SECONDS = 60
ALERT_AFTER_ATTEMPTS = len(BACKOFF_SECONDS)
MAX_BATCH = 50


class PaymentsUnavailable(ApplicationError):
    code = "payments_unavailable"
    status_code = 503


def _client() -> ChainClient:
    try:
        return ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=5)
    except ChainError as exc:
        if "expected chain" in str(exc):
            raise  # pointed at the wrong network: a configuration error, not an outage
        raise TransientChainError(str(exc)) from exc


# --------------------------------------------------------------------------------- reserve


def run_requires_purchase(*, version) -> bool:
    return version.price > 0


def settlement_reserve(*, run, user, agent) -> Settlement:
    """Spend one purchased run of `agent` for `run`. Call inside the run's creating transaction.

    Raises PermissionDeniedError (403, code purchase_required, with a link to buy) when the user
    has no purchased run left, or when the chain does not show the entitlement it should.
    """
    buy_url = reverse("marketplace:agent_detail", args=[agent.slug]) + "#pricing-heading"
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    now = timezone.now()
    purchase = (
        Purchase.objects.select_for_update()
        .filter(
            user=user,
            agent=agent,
            status=PurchaseStatus.COMPLETED,
            runs_reserved__lt=F("runs"),
            deployment=deployment,
        )
        .exclude(expires_at__lte=now)
        .order_by("created_at", "id")
        .first()
        if deployment
        else None
    )
    if purchase is None:
        raise PermissionDeniedError(
            f"You have no runs of {agent.name} left. Buy runs to start one.",
            code="purchase_required",
            extra={"buy_url": buy_url},
        )
    # The chain must agree: the buyer still holds an entitlement for every run not yet settled.
    outstanding = Settlement.objects.filter(
        purchase__buyer_address=purchase.buyer_address,
        purchase__agent=agent,
        purchase__deployment=deployment,
        status__in=[SettlementStatus.RESERVED, SettlementStatus.PENDING],
    ).count()
    try:
        units = entitlement_units(
            deployment_market(_client(), deployment),
            holder=purchase.buyer_address,
            agent_id=agent.pk,
        )
    except ChainError as exc:
        raise PaymentsUnavailable(
            "Payments are temporarily unavailable (the chain cannot be reached). Try again "
            "in a minute."
        ) from exc
    if units <= outstanding:
        raise PermissionDeniedError(
            f"Your wallet {purchase.buyer_address} no longer holds an entitlement for "
            f"{agent.name} (it may have been used or reclaimed). Buy runs to continue.",
            code="entitlement_missing",
            extra={"buy_url": buy_url},
        )
    Purchase.objects.filter(pk=purchase.pk).update(runs_reserved=F("runs_reserved") + 1)
    settlement = Settlement.objects.create(
        run=run, purchase=purchase, run_ref="0x" + run_ref(run.pk).hex()
    )
    from payments.models import SettlementEvent

    SettlementEvent.objects.create(
        settlement=settlement, from_status="", to_status=SettlementStatus.RESERVED
    )
    return settlement


# --------------------------------------------------------------------------------- request


def settlement_request(*, run_id: int) -> Settlement | None:
    """The run ended: decide release or refund and queue the send. Idempotent."""
    from runtime.models import RunStatus

    settlement = Settlement.objects.select_related("run").filter(run_id=run_id).first()
    if settlement is None or settlement.status != SettlementStatus.RESERVED:
        return settlement
    kind = (
        Settlement.Kind.RELEASE
        if settlement.run.status == RunStatus.SUCCEEDED
        else Settlement.Kind.REFUND
    )
    with transaction.atomic():
        moved = settlement_transition(
            settlement_id=settlement.pk,
            to=SettlementStatus.PENDING,
            kind=kind,
            payload={"run_status": settlement.run.status},
        )
        if moved:
            transaction.on_commit(_enqueue_send)
    return moved


def _enqueue_send(countdown: float = 0) -> None:
    from payments.tasks_settlement import settle_due

    settle_due.apply_async(countdown=countdown)


# --------------------------------------------------------------------------------- send


@dataclass
class SendReport:
    submitted: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    awaiting_index: list[int] = field(default_factory=list)
    tx_hashes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _cache_lock(address: str) -> Iterator[None]:
    """The orchestrator's nonce lock across worker processes (Redis)."""
    key = f"chain-sender:{address}"
    token = uuid.uuid4().hex
    deadline = time.monotonic() + 30
    while not cache.add(key, token, timeout=60):
        if time.monotonic() > deadline:
            raise TransientChainError("another process holds the sender lock")
        time.sleep(0.02)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)


def _claim_due(kind: str, now) -> list[Settlement]:
    from django.db.models import Q

    with transaction.atomic():
        rows = list(
            Settlement.objects.select_for_update(skip_locked=True)
            .select_related("purchase")
            .filter(status=SettlementStatus.PENDING, kind=kind)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("id")[:MAX_BATCH]
        )
        # Push them out of everyone else's way while this process sends them.
        Settlement.objects.filter(pk__in=[s.pk for s in rows]).update(
            next_attempt_at=now + timedelta(seconds=120)
        )
    return rows


def settlements_send(*, client: ChainClient | None = None) -> SendReport:
    report = SendReport()
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    if deployment is None:
        return report
    now = timezone.now()
    for kind in (Settlement.Kind.RELEASE, Settlement.Kind.REFUND):
        batch = _claim_due(kind, now)
        if not batch:
            continue
        try:
            client = client or _client()
            _send_batch(client=client, deployment=deployment, kind=kind, batch=batch, report=report)
        except ChainError as exc:
            _send_failed(batch=batch, exc=exc, report=report)
    return report


def _send_batch(*, client, deployment, kind, batch: list[Settlement], report: SendReport) -> None:
    market = deployment_market(client, deployment)
    # A run the chain shows settled already (an earlier send whose outcome was lost) is not sent
    # again: the indexer confirms it from its event, and reconciliation checks it did.
    settled = [s for s in batch if market.is_run_settled(bytes.fromhex(s.run_ref[2:]))]
    if settled:
        Settlement.objects.filter(pk__in=[s.pk for s in settled]).update(
            last_error="Already settled on chain; waiting for the indexer to confirm it.",
            next_attempt_at=timezone.now() + timedelta(seconds=SLOW_RETRY_SECONDS),
        )
        report.awaiting_index += [s.pk for s in settled]
        _index_now(deployment.pk)
        batch = [s for s in batch if s not in settled]
        if not batch:
            return
    runs = [(s.purchase.payment_id, bytes.fromhex(s.run_ref[2:])) for s in batch]
    fn = settle_call(market, release=kind == Settlement.Kind.RELEASE, runs=runs)
    sender = Sender(
        client,
        orchestrator_key(),
        confirmations=getattr(settings, "CHAIN_CONFIRMATIONS", 1),
        cross_process_lock=_cache_lock,
    )

    def record(tx_hash: str) -> None:
        # Committed before the broadcast: a crash after sending leaves this trail.
        for settlement in batch:
            settlement_transition(
                settlement_id=settlement.pk,
                to=SettlementStatus.SUBMITTED,
                tx_hash=tx_hash,
                attempts=settlement.attempts + 1,
                last_error="",
                payload={"tx_hash": tx_hash, "batch": len(batch)},
            )

    sent = sender.send(fn, on_signed=record)
    report.submitted += [s.pk for s in batch]
    report.tx_hashes.append(sent.tx_hash)
    # The chain's events confirm them; read them now rather than at the next indexer tick.
    _index_now(deployment.pk)


def _index_now(deployment_id: int) -> None:
    try:
        from payments.indexer import chain_index
    except ImportError:  # pragma: no cover - the indexer is always installed
        return
    try:
        chain_index(deployment_id=deployment_id)
    except ChainError:
        logger.warning("indexing after a settlement failed; the beat task will retry")


def _send_failed(*, batch: list[Settlement], exc: ChainError, report: SendReport) -> None:
    transient = isinstance(exc, TransientChainError)
    if isinstance(exc, ContractRevert) and exc.name == "RunAlreadySettled":
        # Settled on chain already (an earlier send whose outcome was lost): the indexer and
        # reconciliation confirm it from the chain's events. Never a second payment.
        transient = True
    for settlement in batch:
        current = Settlement.objects.get(pk=settlement.pk)
        attempts = current.attempts + (0 if current.status == SettlementStatus.SUBMITTED else 1)
        if current.status == SettlementStatus.SUBMITTED:
            # Signed and recorded, but the broadcast or receipt failed: back to pending; resending
            # is harmless (settle-once run reference).
            settlement_transition(
                settlement_id=settlement.pk,
                to=SettlementStatus.PENDING,
                payload={"error": str(exc)[:500]},
            )
        if transient:
            delay = (
                BACKOFF_SECONDS[attempts - 1]
                if 0 < attempts <= len(BACKOFF_SECONDS)
                else SLOW_RETRY_SECONDS
            )
            Settlement.objects.filter(pk=settlement.pk).update(
                attempts=attempts,
                last_error=str(exc)[:2000],
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            )
            report.retried.append(settlement.pk)
            if attempts >= ALERT_AFTER_ATTEMPTS:
                _alert_stuck(settlement, exc, attempts)
            transaction.on_commit(lambda delay=delay: _enqueue_send(countdown=delay))
        else:
            settlement_transition(
                settlement_id=settlement.pk,
                to=SettlementStatus.FAILED,
                attempts=attempts,
                last_error=str(exc)[:2000],
                payload={"error": str(exc)[:500]},
            )
            _alert_stuck(settlement, exc, attempts)
            report.failed.append(settlement.pk)


def _alert_stuck(settlement: Settlement, exc: Exception, attempts: int) -> None:
    PaymentAlert.objects.update_or_create(
        key=f"settlement:{settlement.pk}",
        resolved=False,
        defaults={
            "kind": PaymentAlert.Kind.SETTLEMENT_STUCK,
            "message": f"Settlement of run {settlement.run_id} failed {attempts} time(s): {exc}",
            "details": {"settlement": settlement.pk, "run_ref": settlement.run_ref},
        },
    )


# --------------------------------------------------------------------------------- pre-warm

PREWARM_AHEAD_RUNS = 1020  # four words of 255


def run_refs_prepare(*, client: ChainClient | None = None) -> int:
    """Pre-warm the bitmap words of the next run ids. Sent from the deployer's key, never the
    orchestrator's, so it does not compete with settlements for nonces. Returns txs sent."""
    from payments.chain.keys import deployer_key
    from runtime.models import Run

    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    if deployment is None:
        return 0
    client = client or _client()
    next_id = (Run.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    market = deployment_market(client, deployment)
    return len(market.ensure_run_refs_prepared(next_id, PREWARM_AHEAD_RUNS, key=deployer_key()))
