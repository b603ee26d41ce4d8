"""The audit trail: an append-only, hash-chained log (compliance/audit/services.py writes it).

Each entry stores the SHA-256 of the previous entry (`prev_hash`) and its own `hash` over a
canonical JSON of its content and `prev_hash`, so editing, deleting or reordering rows directly in
the database breaks the chain and `manage.py audit_verify` reports where. See
docs/decisions/0012-audit-trail.md.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class AuditEntryImmutableError(Exception):
    """Raised when code tries to update or delete an audit entry."""


def canonical_json(value: Any) -> str:
    """The one serialisation that is hashed: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def timestamp_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    seq: int,
    created_at: datetime,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Any,
    prev_hash: str,
) -> str:
    payload = canonical_json(
        {
            "seq": seq,
            "created_at": timestamp_text(created_at),
            "actor_label": actor_label,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # The one update allowed: the actor FK set to NULL when a user row is deleted
        # (on_delete=SET_NULL). `actor_label`, which the hash covers, stays.
        if kwargs in ({"actor": None}, {"actor_id": None}):
            return super().update(**kwargs)
        raise AuditEntryImmutableError("Audit entries are never updated.")

    def delete(self):
        raise AuditEntryImmutableError("Audit entries are never deleted.")


class AuditEntry(models.Model):
    """One audited event. Written only by `audit_record`; never updated or deleted."""

    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    created_at = models.DateTimeField(editable=False, db_index=True)
    # The FK is a convenience for the admin; `actor_label` ("user:<id>", "system", ...) is what
    # the hash covers, so it stays verifiable if the user row goes away.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    actor_label = models.CharField(max_length=120, editable=False)
    action = models.CharField(max_length=80, db_index=True, editable=False)
    object_type = models.CharField(max_length=100, blank=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="auditentry_object")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditEntryImmutableError("Audit entries are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutableError("Audit entries are never deleted.")

    def compute_hash(self) -> str:
        return entry_hash(
            seq=self.seq,
            created_at=self.created_at,
            actor_label=self.actor_label,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            data=self.data,
            prev_hash=self.prev_hash,
        )
