"""The chain indexer: the escrow's events, read once each, projected into purchases and settlements.

The chain is the source of truth (issue 5; docs/decisions/0008-indexer-and-reconciliation.md):

- `chain_index` reads the deployment's escrow logs from its cursor (ChainCursor) up to
  head - CHAIN_INDEXER_LAG, in chunks. Each chunk is proven to extend the cursor: every block
  header of the chunk is fetched and must chain (parentHash) from the cursor's hash, and every log
  must carry its block's hash. A chain that moves while it is read is simply read again later.
- Every log is inserted or skipped on its unique key (chain id, transaction hash, log index) and
  projected in the same transaction that moves the cursor (compare-and-set under a row lock), so
  two indexers running at once still project each log exactly once.
- Before reading, the cursor's block hash is checked against the chain. When it differs, a reorg
  happened: the fork point is the highest recent ChainBlock whose hash the chain still has; the
  logs above it are deleted and their projections reversed (purchase completed -> processing,
  settlement confirmed -> submitted, counters decremented), a PaymentAlert(kind=reorg) is raised,
  and the blocks are read again from the fork point.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Value
from django.db.models.functions import Least

from marketplace.models import Currency
from payments.chain.client import ChainClient, ChainError
from payments.chain.events import (
    PAYMENT_CREATED,
    PAYMENT_RECLAIMED,
    RUN_REFUNDED,
    RUN_RELEASED,
    BlockHeader,
    EscrowLog,
    EscrowReader,
)
from payments.models import (
    ChainAgent,
    ChainBlock,
    ChainCursor,
    ChainDeployment,
    ChainLog,
    PaymentAlert,
    Purchase,
    PurchaseEvent,
    PurchaseStatus,
    Settlement,
    SettlementStatus,
    Wallet,
)
from payments.services import purchase_transition, settlement_transition

logger = logging.getLogger(__name__)

DEFAULT_LAG = 2
# Blocks per read (one batch of headers and one eth_getLogs range, one database transaction).
DEFAULT_CHUNK = 500
# Block hashes kept below the cursor to find a fork point; a deeper reorg re-reads everything.
DEFAULT_REORG_WINDOW = 256
# Purchase.confirmations is followed up to this depth, then left there ("64 or more").
CONFIRMATIONS_TRACKED = 64
# Rewinds or re-reads one call may do before it leaves the rest to the next tick (a chain that
# keeps reorganising, or load-balanced nodes that disagree).
MAX_RETRIES = 3

# A purchase walks these states to completed when its PaymentCreated event is read.
_PURCHASE_PATH = [
    PurchaseStatus.INITIATED,
    PurchaseStatus.VALIDATING,
    PurchaseStatus.PROCESSING,
    PurchaseStatus.COMPLETED,
]


def indexer_lag() -> int:
    return int(getattr(settings, "CHAIN_INDEXER_LAG", DEFAULT_LAG))


def chain_client() -> ChainClient:
    """The platform's node connection, checked to be on settings.CHAIN_ID."""
    return ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=10)


def escrow_reader(
    *, deployment: ChainDeployment, client: ChainClient | None = None
) -> EscrowReader:
    client = client or chain_client()
    if client.chain_id != deployment.chain_id:
        raise ChainError(
            f"the node is chain {client.chain_id}; deployment {deployment.pk} is on chain "
            f"{deployment.chain_id}"
        )
    return EscrowReader(client, deployment.escrow_address)


def payment_alert(*, kind: str, key: str, message: str, details: dict[str, Any]) -> PaymentAlert:
    """Raise (or refresh) the open alert `key`: one open alert per key, its details updated."""
    for _ in range(2):
        try:
            with transaction.atomic():
                alert, _ = PaymentAlert.objects.update_or_create(
                    key=key[:120],
                    resolved=False,
                    defaults={"kind": kind, "message": message, "details": details},
                )
                return alert
        except IntegrityError:  # raised concurrently by another process: update that one
            continue
    return PaymentAlert.objects.get(key=key[:120], resolved=False)


@dataclass
class IndexReport:
    deployment_id: int
    head: int | None = None
    target: int | None = None
    cursor: int | None = None
    logs_ingested: int = 0
    logs_skipped: int = 0
    rewinds: list[dict[str, Any]] = field(default_factory=list)
    purchases_completed: list[int] = field(default_factory=list)
    settlements_confirmed: list[int] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    # The chain moved while a chunk was read: it is read again on the next call.
    unstable: bool = False


# =============================================================================================
# The loop
# =============================================================================================


def chain_index(
    *, deployment_id: int, client: ChainClient | None = None, max_blocks: int = 2000
) -> IndexReport:
    """Read and project the deployment's escrow events up to head - CHAIN_INDEXER_LAG, at most
    `max_blocks` blocks per call. Idempotent and safe to run concurrently."""
    deployment = ChainDeployment.objects.get(pk=deployment_id)
    reader = escrow_reader(deployment=deployment, client=client)
    report = IndexReport(deployment_id=deployment.pk)
    chunk = int(getattr(settings, "CHAIN_INDEXER_CHUNK", DEFAULT_CHUNK))
    cursor = _cursor_get_or_create(deployment=deployment, reader=reader)
    head = reader.head()
    report.head = head
    report.target = target = head - indexer_lag()
    budget = max_blocks
    retries = 0
    while True:
        cursor = ChainCursor.objects.get(pk=cursor.pk)
        report.cursor = cursor.block_number
        current = reader.header(cursor.block_number)
        if current is None or current.hash != cursor.block_hash:
            retries += 1
            if retries > MAX_RETRIES:
                report.unstable = True
                break
            _rewind(deployment=deployment, reader=reader, report=report)
            continue
        if cursor.block_number >= target or budget <= 0:
            break
        start = cursor.block_number + 1
        end = min(target, start + chunk - 1, cursor.block_number + budget)
        headers = reader.headers(range(start, end + 1))
        if not _linked(headers=headers, start=start, end=end, parent=cursor.block_hash):
            # The chain changed under us (a reorg at or below the cursor shows up at the top of
            # the loop; one inside the range just needs another read).
            retries += 1
            if retries > MAX_RETRIES:
                report.unstable = True
                break
            continue
        logs = reader.logs(start, end)
        if any(log.block_hash != headers[log.block_number].hash for log in logs):
            report.unstable = True
            break
        moved = _ingest(
            deployment=deployment,
            expected=(cursor.block_number, cursor.block_hash),
            headers=[headers[n] for n in range(start, end + 1)],
            logs=logs,
            report=report,
        )
        if moved:
            budget -= end - start + 1
            report.cursor = end
    _confirmations_update(deployment=deployment, head=head)
    return report


def _linked(*, headers: dict[int, BlockHeader | None], start: int, end: int, parent: str) -> bool:
    for number in range(start, end + 1):
        header = headers.get(number)
        if header is None or header.parent_hash != parent:
            return False
        parent = header.hash
    return True


def _cursor_get_or_create(*, deployment: ChainDeployment, reader: EscrowReader) -> ChainCursor:
    """The deployment's cursor; the first run starts at the deployment's block."""
    cursor = ChainCursor.objects.filter(deployment=deployment).first()
    if cursor is not None:
        return cursor
    number = max(deployment.block_number - 1, 0)
    header = reader.header(number)
    if header is None:
        raise ChainError(f"block {number} of deployment {deployment.pk} is not on this chain")
    with transaction.atomic():
        cursor, created = ChainCursor.objects.get_or_create(
            deployment=deployment,
            defaults={"block_number": number, "block_hash": header.hash},
        )
        if created:
            ChainBlock.objects.get_or_create(
                deployment=deployment, number=number, defaults={"hash": header.hash}
            )
    return cursor


# =============================================================================================
# Ingestion: insert or skip, project, move the cursor (one transaction per chunk)
# =============================================================================================


def _ingest(
    *,
    deployment: ChainDeployment,
    expected: tuple[int, str],
    headers: list[BlockHeader],
    logs: list[EscrowLog],
    report: IndexReport,
) -> bool:
    """Store `logs` and the chunk's block hashes and move the cursor to the last header, if the
    cursor is still at `expected` (another indexer may have got there first). True if it moved."""
    with transaction.atomic():
        cursor = ChainCursor.objects.select_for_update().get(deployment=deployment)
        if (cursor.block_number, cursor.block_hash) != expected:
            return False
        for entry in logs:
            row = _log_insert(deployment=deployment, entry=entry)
            if row is None:
                report.logs_skipped += 1
                continue
            report.logs_ingested += 1
            _project(log=row, deployment=deployment, report=report)
        last = headers[-1]
        ChainBlock.objects.bulk_create(
            [ChainBlock(deployment=deployment, number=h.number, hash=h.hash) for h in headers],
            update_conflicts=True,
            unique_fields=["deployment", "number"],
            update_fields=["hash"],
        )
        window = int(getattr(settings, "CHAIN_INDEXER_REORG_WINDOW", DEFAULT_REORG_WINDOW))
        ChainBlock.objects.filter(deployment=deployment, number__lt=last.number - window).delete()
        cursor.block_number = last.number
        cursor.block_hash = last.hash
        cursor.save(update_fields=["block_number", "block_hash", "updated_at"])
    return True


def _log_insert(*, deployment: ChainDeployment, entry: EscrowLog) -> ChainLog | None:
    """Insert the log, or return None when it is already there (unique key)."""
    try:
        with transaction.atomic():
            return ChainLog.objects.create(
                deployment=deployment,
                chain_id=deployment.chain_id,
                tx_hash=entry.tx_hash,
                log_index=entry.log_index,
                block_number=entry.block_number,
                block_hash=entry.block_hash,
                address=entry.address,
                event=entry.event,
                args=entry.args,
            )
    except IntegrityError:
        return None


def _project(*, log: ChainLog, deployment: ChainDeployment, report: IndexReport) -> None:
    if log.event == PAYMENT_CREATED:
        _project_payment_created(log=log, deployment=deployment, report=report)
    elif log.event in (RUN_RELEASED, RUN_REFUNDED):
        _project_run_settled(log=log, deployment=deployment, report=report)
    elif log.event == PAYMENT_RECLAIMED:
        _project_reclaimed(log=log, deployment=deployment, report=report)
    # Admin events (prices, roles, tokens, fees) are kept in ChainLog as a record only.


def _alert(report: IndexReport, *, kind: str, key: str, message: str, **details: Any) -> None:
    payment_alert(kind=kind, key=key, message=message, details=details)
    report.alerts.append(key)


def _when(timestamp: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)


def _currency(*, deployment: ChainDeployment, token: str) -> str:
    if int(token, 16) == 0:
        return Currency.ETH
    if deployment.stablecoin_address and token.lower() == deployment.stablecoin_address.lower():
        return Currency.USDC
    return "ERC20"


# ------------------------------------------------------------------ PaymentCreated


def _project_payment_created(
    *, log: ChainLog, deployment: ChainDeployment, report: IndexReport
) -> None:
    args = log.args
    payment_id = int(args["paymentId"])
    chain_fields = {
        "payment_id": payment_id,
        "block_number": log.block_number,
        "expires_at": _when(args["expiresAt"]),
        "buyer_address": args["buyer"],
        "token_address": args["token"],
        "runs": int(args["runs"]),
        "unit_price": Decimal(int(args["price"])),
        "total": Decimal(int(args["amount"])),
    }
    purchase = (
        Purchase.objects.select_for_update()
        .filter(deployment=deployment, payment_id=payment_id)
        .first()
    )
    if purchase is None:
        purchase = Purchase.objects.select_for_update().filter(tx_hash=log.tx_hash).first()
        if purchase is not None and purchase.payment_id not in (None, payment_id):
            # A second payment made by the same transaction (a contract wallet batching
            # purchases): its own purchase row, which cannot carry the (unique) hash again.
            purchase = _purchase_from_chain(log=log, deployment=deployment, report=report, tx="")
        elif purchase is None:
            purchase = _purchase_from_chain(log=log, deployment=deployment, report=report)
    if purchase is None:
        return
    _check_purchase_matches(purchase=purchase, log=log, deployment=deployment, report=report)
    if purchase.status == PurchaseStatus.COMPLETED:
        # Already completed from this event (a test fixture or an earlier projection): just make
        # sure the chain's facts are on it.
        Purchase.objects.filter(pk=purchase.pk).update(**chain_fields)
        return
    if purchase.status == PurchaseStatus.FAILED:
        # The site gave up on it, but the chain took the money: keep the facts so counters and
        # the balance check account for it, and ask a person.
        Purchase.objects.filter(pk=purchase.pk).update(**chain_fields)
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"purchase:{purchase.pk}:failed-but-paid",
            message=f"Purchase {purchase.public_id} is marked failed but payment {payment_id} "
            f"was made on chain (tx {log.tx_hash}).",
            purchase=purchase.pk,
            payment_id=payment_id,
            tx_hash=log.tx_hash,
        )
        return
    payload = {"source": "indexer", "tx_hash": log.tx_hash, "block": log.block_number}
    index = _PURCHASE_PATH.index(purchase.status)
    for step in _PURCHASE_PATH[index + 1 : -1]:
        purchase_transition(purchase_id=purchase.pk, to=step, payload=payload)
    done = purchase_transition(
        purchase_id=purchase.pk,
        to=PurchaseStatus.COMPLETED,
        payload={**payload, "payment_id": payment_id},
        failure_reason="",
        **chain_fields,
    )
    if done is not None:
        report.purchases_completed.append(purchase.pk)


def _purchase_from_chain(
    *, log: ChainLog, deployment: ChainDeployment, report: IndexReport, tx: str | None = None
) -> Purchase | None:
    """A purchase made outside the site: created (processing) from its event."""
    args = log.args
    chain_agent = (
        ChainAgent.objects.select_related("agent")
        .filter(deployment=deployment, chain_agent_id=int(args["agentId"]))
        .first()
    )
    if chain_agent is None:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"payment:{deployment.pk}:{args['paymentId']}:unknown-agent",
            message=f"Payment {args['paymentId']} bought agent #{args['agentId']}, which this "
            "deployment does not list; no purchase was recorded.",
            payment_id=int(args["paymentId"]),
            agent_id=int(args["agentId"]),
            tx_hash=log.tx_hash,
        )
        return None
    wallet = Wallet.objects.select_related("user").filter(address__iexact=args["buyer"]).first()
    tx_hash = log.tx_hash if tx is None else tx
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                public_id=uuid.uuid4(),
                user=wallet.user if wallet else None,
                agent=chain_agent.agent,
                deployment=deployment,
                buyer_address=args["buyer"],
                token_address=args["token"],
                currency=_currency(deployment=deployment, token=args["token"]),
                runs=int(args["runs"]),
                unit_price=Decimal(int(args["price"])),
                total=Decimal(int(args["amount"])),
                status=PurchaseStatus.PROCESSING,
                tx_hash=tx_hash,
            )
            PurchaseEvent.objects.create(
                purchase=purchase,
                from_status="",
                to_status=PurchaseStatus.PROCESSING,
                payload={"source": "indexer", "tx_hash": log.tx_hash, "outside_site": True},
            )
    except IntegrityError:
        if not tx_hash:
            raise
        # The site recorded this transaction at the same moment: project onto its row.
        return Purchase.objects.select_for_update().filter(tx_hash=tx_hash).first()
    return purchase


def _check_purchase_matches(
    *, purchase: Purchase, log: ChainLog, deployment: ChainDeployment, report: IndexReport
) -> None:
    """The site's record of what was bought must match what the chain says was bought."""
    args = log.args
    agent_ids = set(
        ChainAgent.objects.filter(deployment=deployment, agent_id=purchase.agent_id).values_list(
            "chain_agent_id", flat=True
        )
    )
    differences = {}
    if agent_ids and int(args["agentId"]) not in agent_ids:
        differences["agent"] = [sorted(agent_ids), int(args["agentId"])]
    if purchase.runs != int(args["runs"]):
        differences["runs"] = [purchase.runs, int(args["runs"])]
    if purchase.buyer_address and purchase.buyer_address.lower() != args["buyer"].lower():
        differences["buyer"] = [purchase.buyer_address, args["buyer"]]
    if purchase.token_address and purchase.token_address.lower() != args["token"].lower():
        differences["token"] = [purchase.token_address, args["token"]]
    if differences:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"purchase:{purchase.pk}:mismatch",
            message=f"Purchase {purchase.public_id} differs from payment {args['paymentId']} on "
            "chain; the chain's values were recorded.",
            purchase=purchase.pk,
            differences=differences,
            tx_hash=log.tx_hash,
        )


# ------------------------------------------------------------------ RunReleased / RunRefunded


def _settled_amounts(log: ChainLog) -> dict[str, Any]:
    args = log.args
    if log.event == RUN_RELEASED:
        developer, fee = int(args["developerAmount"]), int(args["fee"])
        return {
            "amount": Decimal(developer + fee),
            "developer_amount": Decimal(developer),
            "fee_amount": Decimal(fee),
        }
    return {
        "amount": Decimal(int(args["amount"])),
        "developer_amount": Decimal(0),
        "fee_amount": Decimal(0),
    }


def _project_run_settled(
    *, log: ChainLog, deployment: ChainDeployment, report: IndexReport
) -> None:
    args = log.args
    payment_id, ref = int(args["paymentId"]), str(args["runRef"]).lower()
    counter = "runs_released" if log.event == RUN_RELEASED else "runs_refunded"
    # The counters mirror the chain's events, whoever sent them.
    counted = Purchase.objects.filter(deployment=deployment, payment_id=payment_id).update(
        **{counter: F(counter) + 1}
    )
    if not counted:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"payment:{deployment.pk}:{payment_id}:unknown",
            message=f"Run {ref} of payment {payment_id} was settled on chain, but no purchase "
            "records that payment.",
            payment_id=payment_id,
            run_ref=ref,
            tx_hash=log.tx_hash,
        )
    settlement = Settlement.objects.select_related("purchase").filter(run_ref=ref).first()
    if settlement is None:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"run:{ref}:not-sent-by-platform",
            message=f"{log.event} for run {ref} of payment {payment_id}: the platform has no "
            "settlement for this run (not sent by the platform).",
            payment_id=payment_id,
            run_ref=ref,
            tx_hash=log.tx_hash,
            event=log.event,
        )
        return
    settlement_confirm_from_log(settlement=settlement, log=log, report=report)


def settlement_confirm_from_log(
    *, settlement: Settlement, log: ChainLog, report: IndexReport | Any
) -> bool:
    """Confirm `settlement` from its ingested RunReleased/RunRefunded event (indexer and
    reconciliation). Never counts: the counters were moved when the log was ingested. True if it
    was confirmed now."""
    kind = Settlement.Kind.RELEASE if log.event == RUN_RELEASED else Settlement.Kind.REFUND
    payment_id = int(log.args["paymentId"])
    ref = settlement.run_ref
    if settlement.purchase.payment_id != payment_id:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"settlement:{settlement.pk}:payment-mismatch",
            message=f"Run {ref} was settled against payment {payment_id}, but its settlement "
            f"spent purchase {settlement.purchase.public_id} (payment "
            f"{settlement.purchase.payment_id}).",
            settlement=settlement.pk,
            tx_hash=log.tx_hash,
        )
    if settlement.kind and settlement.kind != kind:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"settlement:{settlement.pk}:kind-mismatch",
            message=f"Run {ref} was meant to be a {settlement.kind} but the chain shows a {kind}; "
            "the chain's outcome was recorded.",
            settlement=settlement.pk,
            tx_hash=log.tx_hash,
        )
    if settlement.status == SettlementStatus.RESERVED:
        # The run has not ended, yet its price already moved: not the platform's doing.
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"settlement:{settlement.pk}:settled-while-reserved",
            message=f"Run {ref} was settled on chain ({log.event}) while its run was still in "
            "progress; it is confirmed when the run ends (reconciliation).",
            settlement=settlement.pk,
            tx_hash=log.tx_hash,
        )
        return False
    if settlement.status == SettlementStatus.CONFIRMED:
        return False
    payload = {"source": "chain", "event": log.event, "tx_hash": log.tx_hash}
    if settlement.status == SettlementStatus.FAILED:
        settlement_transition(
            settlement_id=settlement.pk, to=SettlementStatus.PENDING, payload=payload
        )
    done = settlement_transition(
        settlement_id=settlement.pk,
        to=SettlementStatus.CONFIRMED,
        payload={**payload, "block": log.block_number},
        kind=kind,
        tx_hash=log.tx_hash,
        block_number=log.block_number,
        last_error="",
        next_attempt_at=None,
        **_settled_amounts(log),
    )
    if done is not None:
        report.settlements_confirmed.append(settlement.pk)
    return done is not None


# ------------------------------------------------------------------ PaymentReclaimed


def _project_reclaimed(*, log: ChainLog, deployment: ChainDeployment, report: IndexReport) -> None:
    args = log.args
    payment_id, runs = int(args["paymentId"]), int(args["runs"])
    purchase = Purchase.objects.filter(deployment=deployment, payment_id=payment_id).first()
    if purchase is None:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"payment:{deployment.pk}:{payment_id}:unknown",
            message=f"Payment {payment_id} was reclaimed on chain, but no purchase records it.",
            payment_id=payment_id,
            tx_hash=log.tx_hash,
        )
        return
    Purchase.objects.filter(pk=purchase.pk).update(runs_reclaimed=F("runs_reclaimed") + runs)
    stranded = list(
        Settlement.objects.filter(
            purchase=purchase,
            status__in=[
                SettlementStatus.RESERVED,
                SettlementStatus.PENDING,
                SettlementStatus.SUBMITTED,
            ],
        ).values_list("pk", flat=True)
    )
    if stranded:
        _alert(
            report,
            kind=PaymentAlert.Kind.RECONCILIATION,
            key=f"purchase:{purchase.pk}:reclaimed-with-unsettled",
            message=f"Payment {payment_id} was reclaimed by its buyer while {len(stranded)} of "
            "its runs were not settled; those settlements can no longer be paid.",
            purchase=purchase.pk,
            settlements=stranded,
            tx_hash=log.tx_hash,
        )


# =============================================================================================
# Reorgs
# =============================================================================================


def _rewind(*, deployment: ChainDeployment, reader: EscrowReader, report: IndexReport) -> None:
    """The cursor's block is no longer on the chain: rewind to the fork point, undoing what the
    removed logs did, and raise a reorg alert. The caller reads the blocks again."""
    with transaction.atomic():
        cursor = ChainCursor.objects.select_for_update().get(deployment=deployment)
        current = reader.header(cursor.block_number)
        if current is not None and current.hash == cursor.block_hash:
            return  # another indexer already rewound
        stored = list(
            ChainBlock.objects.filter(deployment=deployment, number__lt=cursor.block_number)
            .order_by("-number")
            .values_list("number", "hash")
        )
        canonical = reader.headers([number for number, _ in stored])
        fork: tuple[int, str] | None = None
        for number, block_hash in stored:
            header = canonical.get(number)
            if header is not None and header.hash == block_hash:
                fork = (number, block_hash)
                break
        deep = fork is None
        if fork is None:
            # Deeper than the hashes we keep: read the deployment again from its first block.
            number = max(deployment.block_number - 1, 0)
            header = reader.header(number)
            if header is None:
                raise ChainError(f"block {number} of deployment {deployment.pk} is gone")
            fork = (number, header.hash)
        fork_number, fork_hash = fork

        removed = list(
            ChainLog.objects.filter(deployment=deployment, block_number__gt=fork_number).order_by(
                "-block_number", "-log_index"
            )
        )
        purchases: list[int] = []
        settlements: list[int] = []
        for log in removed:
            _unproject(log=log, deployment=deployment, purchases=purchases, settlements=settlements)
        ChainLog.objects.filter(pk__in=[log.pk for log in removed]).delete()
        ChainBlock.objects.filter(deployment=deployment, number__gt=fork_number).delete()
        ChainBlock.objects.update_or_create(
            deployment=deployment, number=fork_number, defaults={"hash": fork_hash}
        )
        details = {
            "from_block": cursor.block_number,
            "from_hash": cursor.block_hash,
            "fork_block": fork_number,
            "fork_hash": fork_hash,
            "deep": deep,
            "logs_removed": len(removed),
            "purchases_reopened": purchases,
            "settlements_reopened": settlements,
        }
        cursor.block_number, cursor.block_hash = fork_number, fork_hash
        cursor.save(update_fields=["block_number", "block_hash", "updated_at"])
        key = f"reorg:{deployment.pk}:{details['from_block']}:{details['from_hash']}"
        _alert(
            report,
            kind=PaymentAlert.Kind.REORG,
            key=key,
            message=f"Chain reorganisation on chain {deployment.chain_id}: rewound from block "
            f"{details['from_block']} to {fork_number}"
            + (
                " (deeper than the kept block hashes: re-reading from the deployment)"
                if deep
                else ""
            )
            + f"; {len(removed)} event(s) removed and read again.",
            **details,
        )
        report.rewinds.append(details)
        logger.warning("reorg on deployment %s: %s", deployment.pk, details)


def _unproject(
    *,
    log: ChainLog,
    deployment: ChainDeployment,
    purchases: list[int],
    settlements: list[int],
) -> None:
    """Reverse what ingesting `log` did (logs are undone newest first)."""
    args = log.args
    payload = {"source": "reorg", "tx_hash": log.tx_hash, "block": log.block_number}
    if log.event == PAYMENT_CREATED:
        purchase = Purchase.objects.filter(
            deployment=deployment, payment_id=int(args["paymentId"])
        ).first()
        if purchase is None:
            return
        reset = {"payment_id": None, "block_number": None, "confirmations": 0, "expires_at": None}
        if purchase.status == PurchaseStatus.COMPLETED:
            purchase_transition(
                purchase_id=purchase.pk, to=PurchaseStatus.PROCESSING, payload=payload, **reset
            )
        else:
            Purchase.objects.filter(pk=purchase.pk).update(**reset)
        purchases.append(purchase.pk)
    elif log.event in (RUN_RELEASED, RUN_REFUNDED):
        counter = "runs_released" if log.event == RUN_RELEASED else "runs_refunded"
        Purchase.objects.filter(
            deployment=deployment, payment_id=int(args["paymentId"]), **{f"{counter}__gt": 0}
        ).update(**{counter: F(counter) - 1})
        settlement = Settlement.objects.filter(run_ref=str(args["runRef"]).lower()).first()
        if settlement is not None and settlement.status == SettlementStatus.CONFIRMED:
            # Submitted again: its transaction is re-mined (and read again), or reconciliation
            # finds it unknown to the chain and sends it again.
            settlement_transition(
                settlement_id=settlement.pk,
                to=SettlementStatus.SUBMITTED,
                payload=payload,
                block_number=None,
            )
            settlements.append(settlement.pk)
    elif log.event == PAYMENT_RECLAIMED:
        Purchase.objects.filter(
            deployment=deployment,
            payment_id=int(args["paymentId"]),
            runs_reclaimed__gte=int(args["runs"]),
        ).update(runs_reclaimed=F("runs_reclaimed") - int(args["runs"]))


# =============================================================================================
# Confirmations
# =============================================================================================


def _confirmations_update(*, deployment: ChainDeployment, head: int) -> None:
    """Purchase.confirmations = blocks on top of the purchase's block, followed up to
    CONFIRMATIONS_TRACKED."""
    Purchase.objects.filter(
        deployment=deployment,
        status=PurchaseStatus.COMPLETED,
        block_number__isnull=False,
        block_number__lte=head,
        confirmations__lt=CONFIRMATIONS_TRACKED,
    ).update(
        confirmations=Least(
            ExpressionWrapper(Value(head + 1) - F("block_number"), output_field=BigIntegerField()),
            Value(CONFIRMATIONS_TRACKED),
            output_field=BigIntegerField(),
        )
    )


def chain_log_for_run(*, deployment: ChainDeployment, run_ref: str) -> ChainLog | None:
    """The ingested RunReleased/RunRefunded event of `run_ref`, if any."""
    return (
        ChainLog.objects.filter(
            deployment=deployment, event__in=[RUN_RELEASED, RUN_REFUNDED], args__runRef=run_ref
        )
        .order_by("block_number", "log_index")
        .first()
    )


__all__ = [
    "IndexReport",
    "chain_client",
    "chain_index",
    "chain_log_for_run",
    "escrow_reader",
    "indexer_lag",
    "payment_alert",
    "settlement_confirm_from_log",
]
