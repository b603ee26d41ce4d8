"""Developer dashboard and submission queries."""

from __future__ import annotations

import uuid
from collections import Counter

from django.db.models import Count, Q

from accounts.models import DeveloperProfile, User
from agents.models import Submission
from marketplace.models import Agent, AgentVersion
from runtime.models import TERMINAL


def _percentile(values: list[int], pct: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(pct / 100 * (len(values) - 1))))
    return values[index] / 1000


def developer_dashboard(*, developer: DeveloperProfile) -> dict:
    """Agents with their versions and per-version run figures, and recent submissions."""

    agents = list(
        Agent.objects.filter(developer=developer)
        .select_related("category", "current_version")
        .order_by("name")
    )
    versions = list(
        AgentVersion.objects.filter(agent__in=agents)
        .select_related("agent")
        .order_by("agent__name", "-created_at")
    )
    rows = version_run_stats(versions=versions)
    submissions = Submission.objects.filter(developer=developer).order_by("-created_at")[:50]
    return {"agents": agents, "versions": rows, "submissions": submissions}


# The uploaded build context and the manifest can be megabytes: followers of a submission's status
# never need them.
_HEAVY_FIELDS = ("archive", "manifest")


def submission_visible_to(*, user: User, public_id: uuid.UUID | str) -> Submission | None:
    """The submission if `user` is its developer or staff; None otherwise (callers answer 404
    either way). Loaded without its archive and manifest."""
    if user is None or not user.is_authenticated:
        return None
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    submissions = Submission.objects.defer(*_HEAVY_FIELDS)
    if not user.is_staff:
        submissions = submissions.filter(developer__user=user)
    return submissions.filter(public_id=public_id).first()


def submission_status_get(*, submission_id: int) -> Submission | None:
    """The submission's current status fields, re-read (None if it is gone)."""
    return (
        Submission.objects.only("public_id", "status", "failed_step", "error_message", "updated_at")
        .filter(pk=submission_id)
        .first()
    )


# ============================================================================ developer API


def version_run_stats(*, versions: list[AgentVersion]) -> list[dict]:
    """Per-version run figures, computed as on the developer dashboard: {"version", "runs",
    "success_rate" (percent of finished runs), "median_s", "p95_s" (of the last 1,000 runs'
    successful ones), "reasons" (the three most common failure reasons, with counts)}."""
    from runtime.models import Run

    counted = {
        v.pk: v
        for v in AgentVersion.objects.filter(pk__in=[v.pk for v in versions]).annotate(
            run_count=Count("runs"),
            finished=Count("runs", filter=Q(runs__status__in=TERMINAL)),
            succeeded=Count("runs", filter=Q(runs__status="succeeded")),
        )
    }
    rows = []
    for version in versions:
        figures = counted[version.pk]
        # One query: a sliced queryset cannot be filtered further.
        recent = list(
            Run.objects.filter(version=version)
            .order_by("-id")
            .values_list("status", "duration_ms", "failure_reason")[:1000]
        )
        durations = [ms for status, ms, _ in recent if status == "succeeded" and ms]
        reasons = Counter(reason for _, _, reason in recent if reason)
        rows.append(
            {
                "version": version,
                "runs": figures.run_count,
                "success_rate": round(100 * figures.succeeded / figures.finished, 1)
                if figures.finished
                else None,
                "median_s": _percentile(durations, 50),
                "p95_s": _percentile(durations, 95),
                "reasons": reasons.most_common(3),
            }
        )
    return rows


def developer_agents(*, developer: DeveloperProfile, slug: str | None = None) -> list[dict]:
    """The developer's agents by name (only the one with `slug` when given), each as {"agent",
    "versions"}: its versions newest first, with `version_run_stats` figures."""
    agents = Agent.objects.filter(developer=developer).select_related("category", "current_version")
    if slug is not None:
        agents = agents.filter(slug=slug)
    agents = list(agents.order_by("name"))
    versions = list(
        AgentVersion.objects.filter(agent__in=agents).order_by("agent_id", "-created_at", "-id")
    )
    by_agent: dict[int, list[dict]] = {agent.pk: [] for agent in agents}
    for row in version_run_stats(versions=versions):
        by_agent[row["version"].agent_id].append(row)
    return [{"agent": agent, "versions": by_agent[agent.pk]} for agent in agents]


def developer_summary(*, developer: DeveloperProfile) -> dict:
    """The developer's profile with its payout address (what the escrow pays; None when unset),
    whether that address is one of the user's linked wallets, and counts of agents, submissions
    and submissions still pending (not yet approved, rejected or failed)."""
    from agents.models import TERMINAL
    from payments.models import Wallet

    counts = Submission.objects.filter(developer=developer).aggregate(
        total=Count("id"), pending=Count("id", filter=~Q(status__in=TERMINAL))
    )
    payout = developer.payout_address or None
    return {
        "developer": developer,
        "payout_address": payout,
        "payout_wallet_linked": bool(payout)
        and Wallet.objects.filter(user_id=developer.user_id, address__iexact=payout).exists(),
        "agent_count": Agent.objects.filter(developer=developer).count(),
        "submission_count": counts["total"],
        "submissions_pending": counts["pending"],
    }


def developer_submission_list(*, developer: DeveloperProfile):
    """The developer's submissions, newest first, without their archives."""
    return (
        Submission.objects.filter(developer=developer)
        .defer("archive")
        .select_related("agent")
        .order_by("-created_at", "-id")
    )


def developer_submission_get(
    *, developer: DeveloperProfile, public_id: uuid.UUID | str
) -> Submission | None:
    """One of the developer's submissions with its findings, smoke results and status history
    (without its archive); None when there is no such submission of theirs."""
    return (
        developer_submission_list(developer=developer)
        .prefetch_related("findings", "smoke_results", "events")
        .filter(public_id=public_id)
        .first()
    )


def developer_agent_get(*, developer: DeveloperProfile | None, slug: str) -> Agent | None:
    """One of the developer's own agents by slug (None for anyone else's, or no developer)."""
    if developer is None:
        return None
    return Agent.objects.select_related("developer").filter(developer=developer, slug=slug).first()
