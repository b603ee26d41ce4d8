"""KYC reads for the compliance gate: a user's level, the day's purchase limit, and the level an
agent requires. Amounts are compared in USD (see `purchase_usd` for the conversion)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from compliance.gate import Decision
from compliance.kyc.models import CategoryKycRequirement, KycProfile, KycStatus, Notification

# Daily purchase limits in USD per level (None: unlimited), from the specification.
DAILY_LIMITS_USD: dict[int, Decimal | None] = {
    0: Decimal("100"),
    1: Decimal("1000"),
    2: Decimal("10000"),
    3: None,
}
# A single purchase above this needs at least level 1, whatever the day's total.
LEVEL_1_PURCHASE_THRESHOLD_USD = Decimal("1000")
COUNTED_PURCHASE_STATUSES = ("validating", "processing", "completed")
USDC_DECIMALS = 6
ETH_DECIMALS = 18


@dataclass(frozen=True)
class LevelInfo:
    level: int
    title: str
    requirement: str
    daily_limit_usd: Decimal | None


LEVELS = (
    LevelInfo(0, "Level 0", "No verification", DAILY_LIMITS_USD[0]),
    LevelInfo(1, "Level 1 — basic", "Verified email and phone", DAILY_LIMITS_USD[1]),
    LevelInfo(2, "Level 2 — identity", "An identity document", DAILY_LIMITS_USD[2]),
    LevelInfo(3, "Level 3 — enhanced", "Enhanced review by our team", DAILY_LIMITS_USD[3]),
)


def kyc_level(*, user) -> int:
    """The KYC level granted to `user` (0 for anonymous users and users never verified)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    level = KycProfile.objects.filter(user=user).values_list("level", flat=True).first()
    return level or 0


def kyc_status(*, user) -> KycProfile | None:
    return KycProfile.objects.filter(user=user).first()


def eth_usd_rate() -> Decimal:
    return Decimal(str(getattr(settings, "KYC_ETH_USD_RATE", "3000")))


def purchase_usd(*, currency: str, base_units: Decimal | int) -> Decimal:
    """USD value of an amount in a token's base units. USDC is taken at 1:1; ETH at the fixed
    `KYC_ETH_USD_RATE` (a simplification: no price oracle; see docs/decisions/0011-kyc.md)."""
    amount = Decimal(base_units)
    if currency == "USDC":
        return amount.scaleb(-USDC_DECIMALS)
    if currency == "ETH":
        return amount.scaleb(-ETH_DECIMALS) * eth_usd_rate()
    raise ValueError(f"No USD conversion for {currency!r}.")


def kyc_spent_today_usd(*, user) -> Decimal:
    """USD total of the user's purchases created today (UTC) that are under way or completed."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Decimal("0")
    from payments.models import Purchase

    midnight = datetime.combine(timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)
    totals = (
        Purchase.objects.filter(
            user=user, created_at__gte=midnight, status__in=COUNTED_PURCHASE_STATUSES
        )
        .values("currency")
        .annotate(total=Sum("total"))
    )
    return sum(
        (purchase_usd(currency=row["currency"], base_units=row["total"]) for row in totals),
        Decimal("0"),
    )


def _level_for_daily_total(total_usd: Decimal) -> int:
    for level, limit in sorted(DAILY_LIMITS_USD.items()):
        if limit is None or total_usd <= limit:
            return level
    return max(DAILY_LIMITS_USD)


def _usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def kyc_purchase_check(*, user, amount_usd: Decimal, required_level: int) -> Decision:
    """May `user` buy `amount_usd` more today? Refusals name the KYC level needed."""
    level = kyc_level(user=user)
    if level < required_level:
        return Decision(
            False,
            f"This agent requires KYC level {required_level}; your level is {level}. "
            f"Verify your identity to reach level {required_level}.",
        )
    if amount_usd > LEVEL_1_PURCHASE_THRESHOLD_USD and level < 1:
        return Decision(
            False,
            f"Purchases over {_usd(LEVEL_1_PURCHASE_THRESHOLD_USD)} require KYC level 1; "
            f"your level is {level}.",
        )
    spent = kyc_spent_today_usd(user=user)
    total = spent + amount_usd
    limit = DAILY_LIMITS_USD[level]
    if limit is not None and total > limit:
        needed = _level_for_daily_total(total)
        return Decision(
            False,
            f"This purchase would bring today's total to {_usd(total)}, over the "
            f"{_usd(limit)} daily limit of KYC level {level} (already {_usd(spent)} today). "
            f"It requires KYC level {needed}.",
        )
    return Decision(True, "")


def _manifest_min_level(agent) -> int:
    """The minimum KYC level the current version's manifest declares (permissions.min_kyc_level);
    0 for versions not published through the pipeline."""
    version = agent.current_version
    try:
        return int((version.permissions.get("min_kyc_level") if version else 0) or 0)
    except (TypeError, ValueError):
        return 0


def kyc_required_level_for_agent(*, agent) -> int:
    """The highest of: the category's configured minimum, the crypto-trading default, and the
    agent manifest's own minimum (issue 7)."""
    levels = [_manifest_min_level(agent)]
    requirement = (
        CategoryKycRequirement.objects.filter(category_id=agent.category_id)
        .values_list("min_level", flat=True)
        .first()
    )
    if requirement is not None:
        levels.append(requirement)
    category_slug = getattr(agent.category, "slug", "")
    tags = {str(tag).lower() for tag in (agent.tags or [])}
    if category_slug == "crypto" and "trading" in tags:
        levels.append(int(getattr(settings, "KYC_CRYPTO_TRADING_MIN_LEVEL", 2)))
    return max(levels)


def kyc_unread_notifications(*, user, limit: int = 5):
    return Notification.objects.filter(user=user, read_at__isnull=True)[:limit]


__all__ = [
    "DAILY_LIMITS_USD",
    "LEVELS",
    "KycStatus",
    "kyc_level",
    "kyc_purchase_check",
    "kyc_required_level_for_agent",
    "kyc_spent_today_usd",
    "purchase_usd",
]
