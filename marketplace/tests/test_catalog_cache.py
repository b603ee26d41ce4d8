"""The catalog cache serves repeated reads from Redis and never outlives a change."""

from decimal import Decimal

import pytest
from django.test import override_settings

from marketplace.models import Agent
from marketplace.services import agent_transition, review_create
from marketplace.tests.factories import AgentFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_on")]


@pytest.fixture
def cache_on():
    with override_settings(CATALOG_CACHE_SECONDS=60):
        yield


def test_repeated_api_listing_is_served_without_queries(api_client, django_assert_num_queries):
    AgentFactory(slug="echo")
    first = api_client.get("/api/v1/agents/", {"search": "agent"}).json()
    with django_assert_num_queries(0):
        again = api_client.get("/api/v1/agents/", {"search": "agent"}).json()
    assert again == first


def test_changes_invalidate_cached_listings(api_client, client, django_capture_on_commit_callbacks):
    agent = AgentFactory(slug="echo", name="Echo")
    assert api_client.get("/api/v1/agents/").json()["results"][0]["rating_count"] == 0
    assert client.get("/marketplace/").context["page"].paginator.count == 1

    with django_capture_on_commit_callbacks(execute=True):
        review_create(agent=agent, author=UserFactory(), rating=4, body="Good one")
    assert api_client.get("/api/v1/agents/").json()["results"][0]["rating"] == "4.00"

    with django_capture_on_commit_callbacks(execute=True):
        AgentFactory(slug="second", price=Decimal("3"))
    assert client.get("/marketplace/").context["page"].paginator.count == 2

    with django_capture_on_commit_callbacks(execute=True):
        agent_transition(agent=agent, to=Agent.Status.DEPRECATED, actor=None)
    assert [a["slug"] for a in api_client.get("/api/v1/agents/").json()["results"]] == ["second"]
    assert client.get("/marketplace/").context["page"].paginator.count == 1


def test_errors_are_never_cached(api_client):
    assert api_client.get("/api/v1/agents/", {"min_price": "-1"}).status_code == 400
    assert api_client.get("/api/v1/agents/", {"min_price": "-1"}).status_code == 400
