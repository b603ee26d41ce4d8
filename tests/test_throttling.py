"""The API throttle: fixed-window counters in Redis, refusals in the API error shape."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.views import APIView

from accounts.services import api_token_create
from agentnexus.core.api import throttling
from agentnexus.core.api.throttling import AnonRateThrottle, UserRateThrottle
from marketplace.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WINDOW_START = 1_800_000_000.0  # a multiple of 60: a minute window starts here


@pytest.fixture
def clock(monkeypatch):
    """Throttles on (the test settings turn them off), small rates, a clock we move."""
    now = [WINDOW_START + 15]
    monkeypatch.setattr(APIView, "throttle_classes", [AnonRateThrottle, UserRateThrottle])
    monkeypatch.setattr(
        throttling.FixedWindowRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"}
    )
    monkeypatch.setattr(throttling.FixedWindowRateThrottle, "timer", staticmethod(lambda: now[0]))
    return now


def test_settings_use_these_throttles_at_the_documented_rates():
    from agentnexus.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "agentnexus.core.api.throttling.AnonRateThrottle",
        "agentnexus.core.api.throttling.UserRateThrottle",
    ]
    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"anon": "600/min", "user": "1200/min"}
    assert settings.CACHES["default"]["BACKEND"] == "agentnexus.core.cache.SharedRedisCache"


def test_anonymous_client_gets_429_in_the_error_shape_with_retry_after(api_client, clock):
    for _ in range(3):
        assert api_client.get("/api/v1/agents/").status_code == 200

    refused = api_client.get("/api/v1/agents/")
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "throttled"
    assert body["error"]["fields"] == {}
    assert "45 seconds" in body["error"]["message"]
    assert refused["Retry-After"] == "45"  # the window ends 45 s after WINDOW_START + 15

    # Still refused later in the same window, with a shorter wait.
    clock[0] = WINDOW_START + 58.5
    late = api_client.get("/api/v1/categories/")
    assert late.status_code == 429 and late["Retry-After"] == "2"


def test_the_next_window_starts_a_fresh_count(api_client, clock):
    for _ in range(3):
        api_client.get("/api/v1/agents/")
    assert api_client.get("/api/v1/agents/").status_code == 429
    clock[0] = WINDOW_START + 60
    assert api_client.get("/api/v1/agents/").status_code == 200


def test_clients_are_counted_separately(api_client, clock):
    for _ in range(3):
        api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.0.1")
    assert api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.0.2").status_code == 200
    # X-Forwarded-For identifies the client as with DRF's throttles (NUM_PROXIES unset).
    assert api_client.get("/api/v1/agents/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200


def test_signed_in_users_have_their_own_limit_by_user(api_client, clock):
    token = api_token_create(user=UserFactory(), name="cli")[1]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for n in range(5):  # the user rate, from any address
        assert api_client.get("/api/v1/agents/", REMOTE_ADDR=f"10.0.1.{n}").status_code == 200
    refused = api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.1.9")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert refused["Retry-After"] == "45"

    # Their requests did not use up the anonymous budget of those addresses.
    api_client.credentials()
    assert api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.1.0").status_code == 200


def test_one_counter_per_request_that_expires_with_its_window(api_client, clock):
    api_client.get("/api/v1/agents/", REMOTE_ADDR="10.0.0.7")
    redis = cache._cache.get_client()
    keys = [key.decode() for key in redis.keys("*throttle*")]
    assert len(keys) == 1 and "throttle:anon:10.0.0.7:" in keys[0]  # no "user" counter
    assert redis.get(keys[0]) == b"1"
    assert 0 < redis.ttl(keys[0]) <= 60


def test_a_long_forwarded_for_is_hashed_into_a_short_key(api_client, clock):
    forwarded = ",".join(f"198.51.100.{n}" for n in range(40))
    for _ in range(3):
        assert api_client.get("/api/v1/agents/", HTTP_X_FORWARDED_FOR=forwarded).status_code == 200
    assert api_client.get("/api/v1/agents/", HTTP_X_FORWARDED_FOR=forwarded).status_code == 429
    redis = cache._cache.get_client()
    assert all(len(key) < 120 for key in redis.keys("*throttle*"))


def test_a_client_cannot_pick_its_throttle_identity_with_x_forwarded_for(settings, rf):
    """Without a configured proxy, X-Forwarded-For from the client is not believed."""
    from agentnexus.core.api.throttling import AnonRateThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        throttle = AnonRateThrottle()
        request = rf.get(
            "/api/v1/agents/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4"
        )
        assert throttle.get_ident(request) == "203.0.113.7"
    finally:
        api_settings.reload()
