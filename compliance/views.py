from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from compliance.geo import Outcome, country_policy, request_geo_for
from compliance.ip import client_ip


def restricted(request: HttpRequest) -> HttpResponse:
    """Why this visitor is blocked or limited, and what is still available to them.

    451 while the visitor is blocked, 200 otherwise (the page then describes any limits)."""
    geo = getattr(request, "geo", None) or request_geo_for(ip=client_ip(request))
    policy = country_policy(geo.country)
    context = {
        "geo": geo,
        "decision": geo.decision,
        "blocked": geo.decision.outcome == Outcome.BLOCK,
        "limited": geo.decision.outcome == Outcome.LIMITED,
        "policy": policy,
        "blocked_categories": sorted(policy.blocked_categories.values()) if policy else [],
        "contact_email": getattr(settings, "COMPLIANCE_CONTACT_EMAIL", "")
        or settings.DEFAULT_FROM_EMAIL,
    }
    status = 451 if context["blocked"] else 200
    return render(request, "compliance/restricted.html", context, status=status)
