"""Reconciliation: compare the database with the chain, repair what the chain's events explain,
flag the rest (docs/decisions/0008-indexer-and-reconciliation.md). It never moves money.

`payments_reconcile` first runs the indexer, then reads the escrow's state *at the indexer's
cursor block*, the block the database reflects, so the comparisons are exact rather than racing
the head:

- settlements: pending / submitted / failed ones whose run was settled on chain are confirmed from
  the ingested RunReleased / RunRefunded event (a worker killed after sending never sends twice);
  submitted ones whose transaction the chain does not know (or that reverted) after
  CHAIN_SETTLEMENT_RESEND_AFTER seconds go back to pending, so the sender sends them again (the
  escrow settles a run reference once ever, so that is harmless);
- purchases: every one with runs left is compared with getPayment (buyer, agent, token, price,
  runs, unsettled); payment ids on chain that no purchase records are flagged; site purchases
  stuck in processing are flagged;
- balances: the escrow's balance of each token must equal the sum over unsettled runs of their
  price (the contract's invariant, computed from the database).

Differences it cannot explain become PaymentAlert(kind=reconciliation), one open alert per subject.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from payments.chain.client import NATIVE_TOKEN, ChainClient
from payments.chain.events import EscrowReader
from payments.indexer import (
    IndexReport,
    chain_index,
    chain_log_for_run,
    escrow_reader,
    payment_alert,
    settlement_confirm_from_log,
)
from payments.models import (
    ChainAgent,
    ChainCursor,
    ChainDeployment,
    PaymentAlert,
    Purchase,
    PurchaseStatus,
    Settlement,
    SettlementStatus,
)
from payments.services import settlement_transition

logger = logging.getLogger(__name__)

DEFAULT_RESEND_AFTER = 300  # seconds a submitted settlement may be unknown to the chain
DEFAULT_PURCHASE_STALE_AFTER = 900  # seconds a site purchase may stay processing
MISSING_LISTED = 50  # payment ids listed in an alert's details


@dataclass
class ReconcileReport:
    deployment_id: int
    block: int | None = None
    index: IndexReport | None = None
    purchases_checked: int = 0
    settlements_checked: int = 0
    settlements_confirmed: list[int] = field(default_factory=list)
    settlements_requeued: list[int] = field(default_factory=list)
    settlements_waiting: list[int] = field(default_factory=list)
    balances: dict[str, dict[str, str]] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


def _flag(report: ReconcileReport, *, key: str, message: str, **details: Any) -> None:
    payment_alert(kind=PaymentAlert.Kind.RECONCILIATION, key=key, message=message, details=details)
    report.alerts.append(key)


def payments_reconcile(*, deployment_id: int, client: ChainClient | None = None) -> ReconcileReport:
    deployment = ChainDeployment.objects.get(pk=deployment_id)
    reader = escrow_reader(deployment=deployment, client=client)
    report = ReconcileReport(deployment_id=deployment.pk)
    report.index = chain_index(deployment_id=deployment.pk, client=reader.client)
    cursor = ChainCursor.objects.get(deployment=deployment)
    report.block = block = cursor.block_number
    _settlements_reconcile(deployment=deployment, reader=reader, block=block, report=report)
    _purchases_reconcile(deployment=deployment, reader=reader, block=block, report=report)
    _balances_reconcile(deployment=deployment, reader=reader, block=block, report=report)
    if report.alerts or report.settlements_confirmed or report.settlements_requeued:
        logger.warning(
            "reconciliation of deployment %s at block %s: confirmed %s, requeued %s, alerts %s",
            deployment.pk,
            block,
            report.settlements_confirmed,
            report.settlements_requeued,
            report.alerts,
        )
    return report


# ------------------------------------------------------------------ settlements


def _settlements_reconcile(
    *, deployment: ChainDeployment, reader: EscrowReader, block: int, report: ReconcileReport
) -> None:
    now = timezone.now()
    resend_after = timedelta(
        seconds=int(getattr(settings, "CHAIN_SETTLEMENT_RESEND_AFTER", DEFAULT_RESEND_AFTER))
    )
    open_settlements = (
        Settlement.objects.select_related("purchase")
        .filter(
            purchase__deployment=deployment,
            status__in=[
                SettlementStatus.PENDING,
                SettlementStatus.SUBMITTED,
                SettlementStatus.FAILED,
            ],
        )
        .order_by("id")
    )
    for settlement in open_settlements:
        report.settlements_checked += 1
        log = chain_log_for_run(deployment=deployment, run_ref=settlement.run_ref)
        if log is not None:
            # Settled on chain and read by the indexer, but the row never learnt of it (the
            # worker died after sending, or the event arrived before the run ended).
            settlement_confirm_from_log(settlement=settlement, log=log, report=report)
            continue
        if reader.is_run_settled(settlement.run_ref):
            if reader.is_run_settled(settlement.run_ref, block=block):
                _flag(
                    report,
                    key=f"settlement:{settlement.pk}:settled-not-indexed",
                    message=f"Run {settlement.run_ref} is settled on chain at block {block}, but "
                    "no RunReleased/RunRefunded event for it was ingested.",
                    settlement=settlement.pk,
                    run_ref=settlement.run_ref,
                    block=block,
                )
            else:
                report.settlements_waiting.append(settlement.pk)  # settled above the cursor
            continue
        if settlement.status != SettlementStatus.SUBMITTED:
            continue  # pending: the sender's business; failed: an operator's
        if not settlement.tx_hash or now - settlement.updated_at < resend_after:
            continue
        status = reader.transaction(settlement.tx_hash)
        if status.unknown or (status.state == "mined" and not status.succeeded):
            reason = "unknown to the chain" if status.unknown else "reverted"
            moved = settlement_transition(
                settlement_id=settlement.pk,
                to=SettlementStatus.PENDING,
                payload={"source": "reconciliation", "tx_hash": settlement.tx_hash, "tx": reason},
                next_attempt_at=now,
                last_error=f"transaction {settlement.tx_hash} {reason}; sending again",
            )
            if moved is not None:
                report.settlements_requeued.append(settlement.pk)
        elif status.state == "mined":
            _flag(
                report,
                key=f"settlement:{settlement.pk}:mined-not-settled",
                message=f"Settlement transaction {settlement.tx_hash} was mined in block "
                f"{status.block_number} but run {settlement.run_ref} is not settled on chain.",
                settlement=settlement.pk,
                tx_hash=settlement.tx_hash,
                block=status.block_number,
            )


# ------------------------------------------------------------------ purchases


def _unsettled(purchase: Purchase) -> int:
    return purchase.runs - purchase.runs_released - purchase.runs_refunded - purchase.runs_reclaimed


def _purchases_reconcile(
    *, deployment: ChainDeployment, reader: EscrowReader, block: int, report: ReconcileReport
) -> None:
    chain_ids = dict(
        ChainAgent.objects.filter(deployment=deployment).values_list("agent_id", "chain_agent_id")
    )
    active = Purchase.objects.filter(deployment=deployment, payment_id__isnull=False).filter(
        runs__gt=F("runs_released") + F("runs_refunded") + F("runs_reclaimed")
    )
    for purchase in active.order_by("payment_id"):
        report.purchases_checked += 1
        payment = reader.payment(purchase.payment_id, block=block)
        if not payment.exists:
            _flag(
                report,
                key=f"purchase:{purchase.pk}:payment-missing",
                message=f"Purchase {purchase.public_id} records payment {purchase.payment_id}, "
                f"which does not exist on chain at block {block}.",
                purchase=purchase.pk,
                payment_id=purchase.payment_id,
                block=block,
            )
            continue
        expected = {
            "buyer": purchase.buyer_address.lower(),
            "agent_id": chain_ids.get(purchase.agent_id),
            "token": purchase.token_address.lower(),
            "price": int(purchase.unit_price),
            "runs": purchase.runs,
            "unsettled": _unsettled(purchase),
        }
        actual = {
            "buyer": payment.buyer.lower(),
            "agent_id": payment.agent_id,
            "token": payment.token.lower(),
            "price": payment.price,
            "runs": payment.runs,
            "unsettled": payment.unsettled,
        }
        differences = {
            name: {"database": expected[name], "chain": actual[name]}
            for name in expected
            if expected[name] != actual[name]
        }
        if differences:
            _flag(
                report,
                key=f"purchase:{purchase.pk}:differs",
                message=f"Purchase {purchase.public_id} (payment {purchase.payment_id}) differs "
                f"from the chain at block {block}: {', '.join(sorted(differences))}.",
                purchase=purchase.pk,
                payment_id=purchase.payment_id,
                block=block,
                differences=differences,
            )

    # Payments on chain that no purchase records (the indexer flags each when it reads it).
    last = reader.last_payment_id(block=block)
    known = set(
        Purchase.objects.filter(deployment=deployment, payment_id__isnull=False).values_list(
            "payment_id", flat=True
        )
    )
    if len(known) < last:
        missing = [pid for pid in range(1, last + 1) if pid not in known]
        _flag(
            report,
            key=f"deployment:{deployment.pk}:payments-missing",
            message=f"{len(missing)} payment(s) on chain up to block {block} have no purchase.",
            block=block,
            last_payment_id=last,
            missing=missing[:MISSING_LISTED],
        )

    stale_after = timedelta(
        seconds=int(getattr(settings, "CHAIN_PURCHASE_STALE_AFTER", DEFAULT_PURCHASE_STALE_AFTER))
    )
    stale = Purchase.objects.filter(
        deployment=deployment,
        status=PurchaseStatus.PROCESSING,
        updated_at__lt=timezone.now() - stale_after,
    ).exclude(tx_hash="")
    for purchase in stale.order_by("id"):
        status = reader.transaction(purchase.tx_hash)
        if status.state == "pending":
            continue
        what = (
            "unknown to the chain"
            if status.unknown
            else ("reverted" if not status.succeeded else "mined without a PaymentCreated event")
        )
        if status.state == "mined" and status.succeeded and status.block_number > block:
            continue  # mined above the cursor: the indexer has not read it yet
        _flag(
            report,
            key=f"purchase:{purchase.pk}:stuck",
            message=f"Purchase {purchase.public_id} has been processing since "
            f"{purchase.updated_at:%Y-%m-%d %H:%M} UTC; its transaction is {what}.",
            purchase=purchase.pk,
            tx_hash=purchase.tx_hash,
            tx=status.state,
            tx_block=status.block_number,
        )


# ------------------------------------------------------------------ balances


def _balances_reconcile(
    *, deployment: ChainDeployment, reader: EscrowReader, block: int, report: ReconcileReport
) -> None:
    """The escrow holds, per token, exactly the price of every run not yet settled."""
    expected: dict[str, int] = defaultdict(int)
    tokens: dict[str, str] = {NATIVE_TOKEN.lower(): NATIVE_TOKEN}
    if deployment.stablecoin_address:
        tokens[deployment.stablecoin_address.lower()] = deployment.stablecoin_address
    for purchase in Purchase.objects.filter(deployment=deployment, payment_id__isnull=False):
        token = purchase.token_address.lower()
        tokens.setdefault(token, purchase.token_address)
        expected[token] += _unsettled(purchase) * int(purchase.unit_price)
    for token, address in sorted(tokens.items()):
        held = reader.token_balance(address, block=block)
        want = expected.get(token, 0)
        report.balances[address] = {"chain": str(held), "expected": str(want)}
        if held != want:
            _flag(
                report,
                key=f"deployment:{deployment.pk}:balance:{token}",
                message=f"The escrow holds {held} of token {address} at block {block}, but "
                f"unsettled runs account for {want} (difference {held - want:+d}).",
                token=address,
                block=block,
                chain=str(held),
                expected=str(want),
                difference=str(held - want),
            )
