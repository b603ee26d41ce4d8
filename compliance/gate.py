"""The compliance gate: one function per decision point, called by the services that move money
or start runs. It combines the geo rules (compliance/geo.py, from where the request comes) and
the KYC level (compliance/kyc/), and raises the error the caller should show.

- purchase: the agent's category may be blocked in the country, the amount may exceed the
  country's maximum, the KYC level may be too low for the agent, the country or the day's total;
- run start: category blocks and KYC level for the user's *current* country;
- both: the regions the agent's own manifest excludes (permissions.blocked_regions).
Every refusal is recorded (access-decision log by the geo checks; the audit trail here).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agentnexus.core.errors import LegalBlockError, PermissionDeniedError


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


def _geo(request):
    return getattr(request, "geo", None) if request is not None else None


def _refuse(*, user, agent, point: str, reason: str, legal: bool, code: str) -> None:
    from compliance.audit.services import audit_record

    audit_record(
        actor=user if getattr(user, "is_authenticated", False) else None,
        action=f"compliance.{point}_blocked",
        obj=agent,
        data={"reason": reason, "code": code},
    )
    if legal:
        raise LegalBlockError(reason, code=code)
    raise PermissionDeniedError(reason, code=code)


def agent_blocked_regions(agent) -> frozenset[str]:
    """The countries the agent's developer said it must not be offered in (manifest
    permissions.blocked_regions, ISO 3166-1 alpha-2)."""
    version = agent.current_version
    regions = version.permissions.get("blocked_regions") if version else None
    return frozenset(str(code).upper() for code in regions or ())


def _region_check(*, user, agent, geo, point: str) -> None:
    country = (getattr(geo, "country", None) or "").upper()
    if country and country in agent_blocked_regions(agent):
        _refuse(
            user=user,
            agent=agent,
            point=point,
            reason=f"{agent.name} is not offered in your region ({country}).",
            legal=True,
            code="region_blocked",
        )


def purchase_check(*, user, agent, total_units: int, currency: str, request=None) -> Decision:
    """Raise LegalBlockError (451) or PermissionDeniedError (403) when the purchase may not go
    ahead; return ALLOW otherwise."""
    from compliance.gate_geo import min_kyc_level_for_country, purchase_geo_check
    from compliance.kyc.selectors import (
        kyc_purchase_check,
        kyc_required_level_for_agent,
        purchase_usd,
    )

    geo = _geo(request)
    _region_check(user=user, agent=agent, geo=geo, point="purchase")
    amount_usd = purchase_usd(currency=currency, base_units=Decimal(total_units))
    decision = purchase_geo_check(
        request_geo=geo, category_slug=agent.category.slug, amount_usd=amount_usd, user=user
    )
    if not decision.allowed:
        _refuse(user=user, agent=agent, point="purchase", reason=decision.reason, legal=True,
                code=decision.code or "unavailable_for_legal_reasons")  # fmt: skip
    required = kyc_required_level_for_agent(agent=agent)
    if geo is not None and geo.country:
        required = max(required, min_kyc_level_for_country(geo.country))
    kyc = kyc_purchase_check(user=user, amount_usd=amount_usd, required_level=required)
    if not kyc.allowed:
        _refuse(user=user, agent=agent, point="purchase", reason=kyc.reason, legal=False,
                code="kyc_level_required")  # fmt: skip
    return ALLOW


def run_check(*, user, agent, request=None) -> Decision:
    """Raise when `user` may not start a run of `agent` from where they are now."""
    from compliance.gate_geo import min_kyc_level_for_country, run_geo_check
    from compliance.kyc.selectors import kyc_level, kyc_required_level_for_agent

    geo = _geo(request)
    _region_check(user=user, agent=agent, geo=geo, point="run")
    decision = run_geo_check(request_geo=geo, category_slug=agent.category.slug, user=user)
    if not decision.allowed:
        _refuse(user=user, agent=agent, point="run", reason=decision.reason, legal=True,
                code=decision.code or "unavailable_for_legal_reasons")  # fmt: skip
    required = kyc_required_level_for_agent(agent=agent)
    if geo is not None and geo.country:
        required = max(required, min_kyc_level_for_country(geo.country))
    level = kyc_level(user=user)
    if level < required:
        _refuse(
            user=user,
            agent=agent,
            point="run",
            reason=f"{agent.name} requires KYC level {required}; your level is {level}. "
            "Verify your identity on the KYC page to continue.",
            legal=False,
            code="kyc_level_required",
        )
    return ALLOW
