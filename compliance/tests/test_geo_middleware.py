"""Whole-site enforcement: 451 JSON for the API, /restricted for pages, exempt paths, logging."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from compliance.models import AccessDecisionLog, IpRange, IpRangeList
from compliance.tests.geo_mmdb import CUBA, FRANCE_TOR, US

pytestmark = pytest.mark.django_db


def test_api_request_from_a_blocked_country_gets_451_with_the_error_body(client, geo_settings):
    response = client.get("/api/v1/agents/", REMOTE_ADDR=CUBA)
    assert response.status_code == 451
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == "unavailable_for_legal_reasons"
    assert "Cuba" in error["message"]
    assert error["fields"] == {}
    assert error["country"] == "CU"
    assert error["decision"] == "block"


def test_page_request_from_a_blocked_country_goes_to_restricted(client, geo_settings):
    response = client.get("/", REMOTE_ADDR=CUBA)
    assert response.status_code == 302
    assert response["Location"] == "/restricted"
    page = client.get("/restricted", REMOTE_ADDR=CUBA)
    assert page.status_code == 451
    html = page.content.decode()
    assert "not available where you are" in html
    assert "Cuba" in html
    assert "What is still available" in html


def test_allowed_visitor_passes_and_gets_request_geo(client, geo_settings):
    response = client.get("/healthz", REMOTE_ADDR=US)
    assert response.status_code == 200
    geo = response.wsgi_request.geo
    assert (geo.ip, geo.country, geo.anonymized) == (US, "US", False)
    assert geo.decision.outcome == "allow"
    assert client.get("/restricted", REMOTE_ADDR=US).status_code == 200
    assert not AccessDecisionLog.objects.exists()  # allowed requests are not logged


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/admin/login/", "/restricted"])
def test_exempt_paths_stay_reachable(client, geo_settings, path):
    response = client.get(path, REMOTE_ADDR=CUBA)
    assert response.status_code in {200, 451, 503}  # readyz may report a missing dependency
    assert response.get("Location") is None
    assert response.wsgi_request.geo.decision.blocked


def test_static_files_are_not_blocked(client, geo_settings):
    response = client.get("/static/css/app.css", REMOTE_ADDR=CUBA)
    assert response.status_code in {200, 404}  # served (or not found), never redirected
    assert response.status_code != 302


def test_spoofed_forwarded_for_cannot_unblock_or_block(client, geo_settings):
    geo_settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # A Cuban client pretending to forward for a US address is still blocked...
    assert (
        client.get("/api/v1/agents/", REMOTE_ADDR=CUBA, HTTP_X_FORWARDED_FOR=US).status_code == 451
    )
    # ...and a US client cannot be framed as Cuban.
    response = client.get("/healthz", REMOTE_ADDR=US, HTTP_X_FORWARDED_FOR=CUBA)
    assert response.wsgi_request.geo.country == "US"


def test_trusted_proxy_forwarding_is_honoured(client, geo_settings):
    geo_settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    response = client.get(
        "/api/v1/agents/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{US}, {CUBA}"
    )
    assert response.status_code == 451  # the proxy says the client is Cuban; the US part is forged
    response = client.get("/healthz", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{CUBA}, {US}")
    assert response.status_code == 200


def test_blocked_requests_are_logged_once_per_window(client, geo_settings):
    for _ in range(3):
        client.get("/api/v1/agents/", REMOTE_ADDR=CUBA)
    client.get("/", REMOTE_ADDR=CUBA)
    rows = list(AccessDecisionLog.objects.order_by("time"))
    assert [(row.path, row.decision, row.country) for row in rows] == [
        ("/api/v1/agents/", "block", "CU"),
        ("/", "block", "CU"),
    ]
    assert rows[0].ip == CUBA and rows[0].code == "country_blocked" and rows[0].reason


def test_anonymized_visitors_may_browse(client, geo_settings):
    tor = IpRangeList.objects.create(name="Tor", kind=IpRangeList.Kind.TOR)
    IpRange.objects.create(list=tor, cidr="5.40.1.0/24")
    response = client.get("/api/v1/agents/", REMOTE_ADDR=FRANCE_TOR)
    assert response.status_code == 200
    assert response.wsgi_request.geo.anonymized
    client.get("/", REMOTE_ADDR=FRANCE_TOR)
    rows = list(AccessDecisionLog.objects.all())
    assert len(rows) == 1 and rows[0].decision == "limited" and rows[0].anonymized


def test_allowed_requests_can_be_sampled(client, geo_settings):
    with override_settings(COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE=1.0):
        client.get("/healthz", REMOTE_ADDR=US)
    assert AccessDecisionLog.objects.filter(decision="allow").count() == 1


def test_async_middleware_blocks_too(geo_settings):
    """Under ASGI the middleware runs async: the same decision, I/O hopped to a thread."""
    from django.http import HttpResponse
    from django.test import AsyncRequestFactory

    from compliance.middleware import GeoFenceMiddleware

    async def view(request):
        return HttpResponse("ok")

    middleware = GeoFenceMiddleware(view)
    assert middleware.async_mode

    @async_to_sync
    async def get(path, ip):
        request = AsyncRequestFactory().get(path)
        request.META["REMOTE_ADDR"] = ip
        return await middleware(request), request

    response, _ = get("/api/v1/agents/", CUBA)
    assert response.status_code == 451
    assert json.loads(response.content)["error"]["code"] == "unavailable_for_legal_reasons"
    response, request = get("/healthz", US)
    assert response.status_code == 200 and request.geo.country == "US"
    assert AccessDecisionLog.objects.filter(decision="block").count() == 1
