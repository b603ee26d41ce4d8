"""The monthly compliance report: access attempts and blocks by country, category and reason.

The rows come from `compliance.models.AccessDecisionLog` (the geo-fencing gate writes it), read
through `access_decisions()` only: if that model is missing the report is empty and says so.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

BLOCK = "block"
LIMITED = "limited"


def access_decision_model():
    try:
        return apps.get_model("compliance", "AccessDecisionLog")
    except LookupError:
        return None


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant of the month, first instant of the next) in the current time zone."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(following, time.min, tzinfo=tz),
    )


def access_decisions(*, start: datetime, end: datetime) -> QuerySet | None:
    """Logged access decisions with start <= time < end; None when the log does not exist."""
    model = access_decision_model()
    if model is None:
        return None
    return model.objects.filter(time__gte=start, time__lt=end)


@dataclass(frozen=True)
class ReportRow:
    key: str
    attempts: int
    blocks: int
    limited: int


@dataclass
class ComplianceReport:
    month: date
    available: bool
    attempts: int = 0
    blocks: int = 0
    limited: int = 0
    by_country: list[ReportRow] = field(default_factory=list)
    by_category: list[ReportRow] = field(default_factory=list)
    by_reason: list[ReportRow] = field(default_factory=list)
    by_point: list[ReportRow] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, list[ReportRow]]]:
        return [
            ("Country", self.by_country),
            ("Category", self.by_category),
            ("Reason", self.by_reason),
            ("Decision point", self.by_point),
        ]


_COUNTS = {
    "attempts": Count("id"),
    "blocks": Count("id", filter=Q(decision=BLOCK)),
    "limited": Count("id", filter=Q(decision=LIMITED)),
}


def _grouped(qs: QuerySet, column: str, empty: str) -> list[ReportRow]:
    rows = qs.values(column).annotate(**_COUNTS).order_by("-blocks", "-attempts", column)
    return [ReportRow(r[column] or empty, r["attempts"], r["blocks"], r["limited"]) for r in rows]


def compliance_report(*, month: date) -> ComplianceReport:
    start, end = month_bounds(month)
    qs = access_decisions(start=start, end=end)
    report = ComplianceReport(month=month.replace(day=1), available=qs is not None)
    if qs is None:
        return report
    totals = qs.aggregate(**_COUNTS)
    report.attempts, report.blocks, report.limited = (
        totals["attempts"],
        totals["blocks"],
        totals["limited"],
    )
    model_fields = {f.name for f in qs.model._meta.get_fields()}
    report.by_country = _grouped(qs, "country", "unknown")
    if "category" in model_fields:
        report.by_category = _grouped(qs, "category", "(none)")
    report.by_reason = _grouped(qs, "reason", "(no reason)")
    if "point" in model_fields:
        report.by_point = _grouped(qs, "point", "(none)")
    return report


def report_csv(report: ComplianceReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "dimension", "value", "attempts", "blocks", "limited"])
    month = report.month.strftime("%Y-%m")
    writer.writerow([month, "total", "all", report.attempts, report.blocks, report.limited])
    for title, rows in report.sections:
        for row in rows:
            writer.writerow(
                [month, title.lower(), safe_cell(row.key), row.attempts, row.blocks, row.limited]
            )
    return out.getvalue()


def safe_cell(value: object) -> object:
    """Neutralise spreadsheet formulas (CSV injection) in text cells."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
