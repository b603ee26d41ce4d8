"""Developer dashboard queries."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q

from accounts.models import DeveloperProfile
from agents.models import Submission
from marketplace.models import Agent, AgentVersion


def _percentile(values: list[int], pct: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(pct / 100 * (len(values) - 1))))
    return values[index] / 1000


def developer_dashboard(*, developer: DeveloperProfile) -> dict:
    """Agents with their versions and per-version run figures, and recent submissions."""
    from runtime.models import Run

    agents = list(
        Agent.objects.filter(developer=developer)
        .select_related("category", "current_version")
        .order_by("name")
    )
    versions = list(
        AgentVersion.objects.filter(agent__in=agents)
        .annotate(
            run_count=Count("runs"),
            succeeded=Count("runs", filter=Q(runs__status="succeeded")),
        )
        .order_by("agent__name", "-created_at")
    )
    rows = []
    for version in versions:
        recent = Run.objects.filter(version=version).order_by("-id")[:1000]
        durations = [
            d for d in recent.filter(status="succeeded").values_list("duration_ms", flat=True) if d
        ]
        reasons = Counter(
            r for r in recent.exclude(failure_reason="").values_list("failure_reason", flat=True)
        )
        rows.append(
            {
                "version": version,
                "runs": version.run_count,
                "success_rate": round(100 * version.succeeded / version.run_count, 1)
                if version.run_count
                else None,
                "median_s": _percentile(durations, 50),
                "p95_s": _percentile(durations, 95),
                "reasons": reasons.most_common(3),
            }
        )
    submissions = Submission.objects.filter(developer=developer).order_by("-created_at")[:50]
    return {"agents": agents, "versions": rows, "submissions": submissions}
