"""Payments read queries."""

from __future__ import annotations

from django.db.models import F, Sum
from django.utils import timezone

from payments.models import Purchase, PurchaseStatus


def runs_left(*, user, agent) -> int:
    """Purchased runs of `agent` that `user` can still start (completed, unexpired purchases)."""
    if not user.is_authenticated:
        return 0
    total = (
        Purchase.objects.filter(user=user, agent=agent, status=PurchaseStatus.COMPLETED)
        .exclude(expires_at__lte=timezone.now())
        .aggregate(left=Sum(F("runs") - F("runs_reserved")))["left"]
    )
    return total or 0


def developer_earnings(*, developer, days: int = 30) -> dict:
    """Released earnings of a developer's agents from confirmed settlements, per agent and per
    day (UTC), in each currency's display units."""
    from datetime import timedelta
    from decimal import Decimal

    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from payments.models import Settlement, SettlementStatus
    from payments.services import CURRENCY_DECIMALS

    since = timezone.now() - timedelta(days=days)
    released = Settlement.objects.filter(
        purchase__agent__developer=developer,
        kind=Settlement.Kind.RELEASE,
        status=SettlementStatus.CONFIRMED,
        developer_amount__isnull=False,
    )

    def human(units, currency: str) -> Decimal:
        return Decimal(units or 0).scaleb(-CURRENCY_DECIMALS.get(currency, 18))

    per_agent = [
        {
            "agent": row["purchase__agent__name"],
            "slug": row["purchase__agent__slug"],
            "currency": row["purchase__currency"],
            "runs": row["runs"],
            "amount": human(row["amount"], row["purchase__currency"]),
        }
        for row in released.values(
            "purchase__agent__name", "purchase__agent__slug", "purchase__currency"
        )
        .annotate(runs=Count("id"), amount=Sum("developer_amount"))
        .order_by("purchase__agent__name")
    ]
    per_day = [
        {
            "day": row["day"],
            "currency": row["purchase__currency"],
            "runs": row["runs"],
            "amount": human(row["amount"], row["purchase__currency"]),
        }
        for row in released.filter(updated_at__gte=since)
        .annotate(day=TruncDate("updated_at"))
        .values("day", "purchase__currency")
        .annotate(runs=Count("id"), amount=Sum("developer_amount"))
        .order_by("-day")
    ]
    return {"per_agent": per_agent, "per_day": per_day, "days": days}
