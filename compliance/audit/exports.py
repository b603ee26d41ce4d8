"""CSV export of the audit trail over a date range (staff, through the admin)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from compliance.audit.models import AuditEntry, timestamp_text
from compliance.audit.report import safe_cell

CSV_COLUMNS = [
    "seq",
    "created_at",
    "actor_label",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "data",
    "prev_hash",
    "hash",
]


def entries_between(*, start: date, end: date) -> QuerySet[AuditEntry]:
    """Entries from the start of `start` to the end of `end` (inclusive), in chain order."""
    tz = timezone.get_current_timezone()
    return AuditEntry.objects.filter(
        created_at__gte=datetime.combine(start, time.min, tzinfo=tz),
        created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    ).order_by("seq")


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_rows(queryset: QuerySet[AuditEntry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in queryset.values(*CSV_COLUMNS).iterator(chunk_size=2000):
        entry["created_at"] = timestamp_text(entry["created_at"])
        entry["data"] = json.dumps(entry["data"], sort_keys=True, ensure_ascii=False)
        yield writer.writerow([safe_cell(entry[c]) for c in CSV_COLUMNS])
