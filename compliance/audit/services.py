"""Writing and verifying the audit trail.

`audit_record` is the one function the rest of the platform calls. Appends are serialised with a
transaction-scoped PostgreSQL advisory lock, so concurrent writers (web processes, workers) extend
a single chain; called inside an outer transaction, the entry commits or rolls back with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from compliance.audit.models import GENESIS_HASH, AuditEntry, entry_hash

# pg_advisory_xact_lock key for "append to the audit chain" ("AUDT").
AUDIT_CHAIN_LOCK_KEY = 0x41554454


def actor_label_for(actor: Any) -> str:
    """What the hash records about who acted: never an email (it must survive erasure)."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor[:120]
    if getattr(actor, "is_anonymous", False):
        return "anonymous"
    return f"user:{actor.pk}"


def _normalise(data: Any) -> Any:
    """Round-trip through JSON so the stored value equals the hashed value exactly
    (Decimals, datetimes and UUIDs become strings, tuples lists)."""
    return json.loads(json.dumps(data if data is not None else {}, cls=DjangoJSONEncoder))


def audit_record(
    *, actor: Any, action: str, obj: models.Model | None = None, data: dict | None = None
) -> AuditEntry:
    """Append one entry to the audit trail and return it.

    `actor`: a user, None (the system) or a label such as "provider:sumsub".
    `action`: a dotted name, e.g. "kyc.approve", "compliance.block", "admin.change".
    `obj`: the model instance acted on (recorded as "app_label.model" and its primary key).
    `data`: JSON-serialisable details. Keep personal data out unless it is the point of the
    entry: audit entries are kept when a user is erased.
    """
    user = actor if isinstance(actor, models.Model) else None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # SQLite (local `make run`) serialises writers itself; the unique seq backs it up.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        entry = AuditEntry(
            seq=seq,
            created_at=timezone.now(),
            actor=user,
            actor_label=actor_label_for(actor),
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            data=_normalise(data),
            prev_hash=prev_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "edited", "deleted", "reordered", "head"
    message: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


_FIELDS = (
    "seq",
    "created_at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "data",
    "prev_hash",
    "hash",
)


def _rows() -> Iterator[dict]:
    qs = AuditEntry.objects.order_by("seq").values(*_FIELDS)
    yield from qs.iterator(chunk_size=2000)


def _broken_link(row: dict, expected_prev: str, previous_seq: int) -> ChainProblem:
    """Entry `row` does not point at the entry before it: find out whether it points elsewhere."""
    elsewhere = (
        AuditEntry.objects.filter(hash=row["prev_hash"]).values_list("seq", flat=True).first()
    )
    if elsewhere is not None:
        return ChainProblem(
            row["seq"],
            "reordered",
            f"entry {row['seq']} follows entry {previous_seq}, but its prev_hash names entry "
            f"{elsewhere}: entries were reordered",
        )
    return ChainProblem(
        row["seq"],
        "deleted",
        f"entry {row['seq']}'s prev_hash does not match entry {previous_seq} "
        f"(expected {expected_prev[:12]}…, found {row['prev_hash'][:12]}…): an entry was "
        "deleted or the previous entry was rewritten",
    )


def verify_chain(*, expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the whole chain in seq order; stop at the first broken entry.

    `expected_head` (seq, hash), recorded earlier outside the database, also catches entries
    removed from the end, which the chain alone cannot show.
    """
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    head_seq, head_hash = 0, GENESIS_HASH
    problem: ChainProblem | None = None
    for row in _rows():
        seq = row["seq"]
        if seq != expected_seq:
            problem = ChainProblem(
                seq,
                "deleted" if seq > expected_seq else "reordered",
                f"expected entry {expected_seq}, found entry {seq}: "
                + (
                    f"entries {expected_seq}–{seq - 1} are missing"
                    if seq > expected_seq
                    else "sequence numbers are out of order"
                ),
            )
            break
        if row["prev_hash"] != prev_hash:
            problem = _broken_link(row, prev_hash, seq - 1)
            break
        recomputed = entry_hash(**{k: row[k] for k in _FIELDS if k != "hash"})
        if recomputed != row["hash"]:
            problem = ChainProblem(
                seq, "edited", f"entry {seq} was edited: its content does not match its hash"
            )
            break
        checked += 1
        expected_seq, prev_hash = seq + 1, row["hash"]
        head_seq, head_hash = seq, row["hash"]

    if problem is None and expected_head is not None:
        want_seq, want_hash = expected_head
        if head_seq < want_seq:
            problem = ChainProblem(
                head_seq + 1,
                "deleted",
                f"the chain ends at entry {head_seq}, but entry {want_seq} was recorded: "
                "entries were removed from the end",
            )
        else:
            found = AuditEntry.objects.filter(seq=want_seq).values_list("hash", flat=True).first()
            if found != want_hash:
                problem = ChainProblem(
                    want_seq, "edited", f"entry {want_seq} no longer has the recorded hash"
                )
    return ChainReport(checked=checked, head_seq=head_seq, head_hash=head_hash, problem=problem)
