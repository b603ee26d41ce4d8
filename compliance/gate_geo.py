"""Geo checks for the compliance gate (compliance/gate.py): purchase and run start.

Both take the request's placement (`request.geo`, a compliance.geo.RequestGeo; None is looked
up as an unknown location) and return a compliance.geo.Decision. Order: the request-level block,
the country's blocked categories, the country's maximum transaction, then the anonymizer rule:
an anonymized request may buy or run a *restricted* category (blocked in any country, or listed
in COMPLIANCE_RESTRICTED_CATEGORIES) only once staff approved the user
(AnonymizedAccessApproval); the first refusal files a pending approval for staff to decide.
Refusals are written to the access-decision log.
"""

from __future__ import annotations

from decimal import Decimal

from compliance.geo import (
    Decision,
    Outcome,
    RequestGeo,
    access_log_record,
    current_rules,
    min_kyc_level_for_country,
    request_geo_for,
)

__all__ = ["min_kyc_level_for_country", "purchase_geo_check", "run_geo_check"]


def _allow(geo: RequestGeo) -> Decision:
    return Decision(Outcome.ALLOW, "No geographic restriction applies.", "", geo.country)


def _approval_state(user) -> str | None:
    from compliance.models import AnonymizedAccessApproval

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    latest = (
        AnonymizedAccessApproval.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values_list("decision", flat=True)
        .first()
    )
    return latest


def _request_review(user, geo: RequestGeo) -> None:
    from compliance.models import AnonymizedAccessApproval

    if user is None or not getattr(user, "is_authenticated", False):
        return
    AnonymizedAccessApproval.objects.create(
        user=user, ip=geo.ip, reason=f"Requested automatically ({geo.anonymizer or 'anonymizer'})."
    )


def _check(
    *, request_geo: RequestGeo | None, category_slug: str, amount_usd: Decimal | None, user, point
) -> Decision:
    geo = request_geo or request_geo_for(ip=None)
    decision = _evaluate(geo=geo, category_slug=category_slug, amount_usd=amount_usd, user=user)
    if decision.outcome != Outcome.ALLOW:
        access_log_record(
            geo=geo, decision=decision, point=point, category=category_slug, throttle=False
        )
    return decision


def _evaluate(*, geo: RequestGeo, category_slug: str, amount_usd, user) -> Decision:
    if geo.decision.blocked:
        return geo.decision
    rules = current_rules()
    policy = rules.countries.get(geo.country) if geo.country else None
    if policy is not None:
        name = policy.blocked_categories.get(category_slug)
        if name is not None:
            return Decision(
                Outcome.BLOCK,
                f"Agents in the {name} category are not available in {geo.country}.",
                "category_blocked",
                geo.country,
            )
        limit = policy.max_transaction_usd
        if amount_usd is not None and limit is not None and amount_usd > limit:
            return Decision(
                Outcome.BLOCK,
                f"A single purchase from {geo.country} may not exceed ${limit:,.2f} "
                f"(this one is ${amount_usd:,.2f}).",
                "amount_over_country_limit",
                geo.country,
            )
    if geo.anonymized and category_slug in rules.restricted_categories:
        state = _approval_state(user)
        if state == "approved":
            return Decision(
                Outcome.LIMITED,
                "Anonymized access to a restricted category, approved by staff.",
                "anonymized_approved",
                geo.country,
            )
        if state is None:
            _request_review(user, geo)
        reason = (
            "Access through this network to this category was refused after review."
            if state == "rejected"
            else "You are connecting through an anonymizing network or a hosting provider: "
            "this category needs a manual review first. We have asked our team to review it."
        )
        return Decision(Outcome.BLOCK, reason, "anonymized_review_required", geo.country)
    return _allow(geo)


def purchase_geo_check(
    *, request_geo: RequestGeo | None, category_slug: str, amount_usd: Decimal, user=None
) -> Decision:
    """May a purchase of `amount_usd` in `category_slug` go ahead from where the request is?"""
    return _check(
        request_geo=request_geo,
        category_slug=category_slug,
        amount_usd=Decimal(amount_usd),
        user=user,
        point="purchase",
    )


def run_geo_check(*, request_geo: RequestGeo | None, category_slug: str, user=None) -> Decision:
    """May a run of an agent in `category_slug` start from where the request is?"""
    return _check(
        request_geo=request_geo,
        category_slug=category_slug,
        amount_usd=None,
        user=user,
        point="run",
    )
