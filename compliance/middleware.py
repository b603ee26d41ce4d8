"""Whole-site geo-fencing: every request is placed (request.geo) and blocked countries stop here.

Blocked page requests are redirected to /restricted, which explains why and what is still
available; blocked API requests (/api/...) get HTTP 451 with the project's JSON error body.
/restricted, /healthz, /readyz, static files and the admin login stay reachable (plus
COMPLIANCE_GEO_EXEMPT_PATHS). Sync and async capable: on the hot path it only reads memory; the
rare rules reload and the access-log write hop to a thread under ASGI.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse

from agentnexus.core.api.exceptions import error_body
from compliance.geo import (
    Outcome,
    RequestGeo,
    access_log_record,
    current_rules,
    request_geo_for,
    rules_fresh,
)
from compliance.ip import client_ip

API_PREFIX = "/api/"


def _exempt_prefixes() -> tuple[str, ...]:
    prefixes = [
        "/restricted",
        "/healthz",
        "/readyz",
        reverse("admin:login"),
        settings.STATIC_URL or "/static/",
    ]
    prefixes.extend(getattr(settings, "COMPLIANCE_GEO_EXEMPT_PATHS", ()))
    return tuple(prefix if prefix.startswith("/") else f"/{prefix}" for prefix in prefixes)


def blocked_response(request, geo: RequestGeo):
    decision = geo.decision
    if request.path_info.startswith(API_PREFIX):
        body = error_body("unavailable_for_legal_reasons", decision.reason)
        body["error"].update({"country": geo.country, "decision": str(decision.outcome)})
        return JsonResponse(body, status=451)
    return HttpResponseRedirect(reverse("compliance:restricted"))


class GeoFenceMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
        self._exempt: tuple[str, ...] | None = None
        self._static = settings.STATIC_URL or "/static/"

    def _place(self, request) -> RequestGeo | None:
        """Attach request.geo; the blocked RequestGeo when this request must stop here."""
        path = request.path_info
        if path.startswith(self._static):
            return None
        geo = request_geo_for(ip=client_ip(request))
        request.geo = geo
        if geo.decision.outcome != Outcome.BLOCK:
            return None
        if self._exempt is None:
            self._exempt = _exempt_prefixes()
        if path.startswith(self._exempt):
            return None
        return geo

    @staticmethod
    def _log(request) -> None:
        geo = getattr(request, "geo", None)
        if geo is not None:
            access_log_record(geo=geo, decision=geo.decision, path=request.path_info)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        blocked = self._place(request)
        geo = getattr(request, "geo", None)
        if geo is not None and _may_log(geo):
            self._log(request)
        if blocked is not None:
            return blocked_response(request, blocked)
        return self.get_response(request)

    async def __acall__(self, request):
        if not rules_fresh():
            await sync_to_async(current_rules, thread_sensitive=True)()
        blocked = self._place(request)
        geo = getattr(request, "geo", None)
        if geo is not None and _may_log(geo):
            await sync_to_async(self._log, thread_sensitive=True)(request)
        if blocked is not None:
            return blocked_response(request, blocked)
        return await self.get_response(request)


def _may_log(geo: RequestGeo) -> bool:
    if geo.decision.outcome != Outcome.ALLOW:
        return True
    return float(getattr(settings, "COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE", 0.0)) > 0
