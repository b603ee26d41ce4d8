"""The latency caches (rendered API JSON, the page's card grid fragment, the shared Redis client)
serve repeated reads, never mix up outputs, and show catalog changes immediately."""

from decimal import Decimal

import pytest
from django.core.cache import cache, caches
from django.test import override_settings

from accounts.services import api_token_create
from agentnexus.core.cache import SharedRedisCache
from marketplace.catalog_cache import catalog_cached, catalog_version
from marketplace.models import Agent
from marketplace.services import agent_version_create
from marketplace.tests.factories import (
    INPUT_SCHEMA,
    OUTPUT_SCHEMA,
    AgentFactory,
    CategoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

cache_on = override_settings(CATALOG_CACHE_SECONDS=60)
CARD = "marketplace/_agent_card.html"
FILTERS = "marketplace/_filters.html"


def filters(response) -> str:
    """The filter form of a catalog page: the other shared fragment."""
    html = response.content.decode()
    start = html.index('<form id="catalog-filters"')
    return html[start : html.index("</form>", start)]


def cards(response) -> str:
    """The card grid of a catalog page: what the fragment cache stores."""
    html = response.content.decode()
    start = html.index('<ul class="card-grid">')
    return html[start : html.index("</ul>", start)]


def new_price(agent: Agent, price: str) -> None:
    agent_version_create(
        agent=agent,
        version="2.0.0",
        image_ref=f"agentnexus/{agent.slug}:2.0.0",
        input_schema=dict(INPUT_SCHEMA),
        output_schema=dict(OUTPUT_SCHEMA),
        price=Decimal(price),
    )


@cache_on
def test_page_and_api_show_a_new_agent_and_a_price_change_at_once(
    client, api_client, django_capture_on_commit_callbacks
):
    echo = AgentFactory(slug="echo", name="Echo Tool", price=Decimal("1.00"))
    assert "1.00 USDC" in cards(client.get("/marketplace/"))
    assert api_client.get("/api/v1/agents/").json()["count"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        AgentFactory(slug="fresh", name="Fresh Arrival", price=Decimal("2.00"))
    assert "Fresh Arrival" in cards(client.get("/marketplace/"))
    listed = api_client.get("/api/v1/agents/").json()["results"]
    assert {a["slug"] for a in listed} == {"echo", "fresh"}

    with django_capture_on_commit_callbacks(execute=True):
        new_price(echo, "7.25")
    grid = cards(client.get("/marketplace/"))
    assert "7.25 USDC" in grid and "1.00 USDC" not in grid
    listed = {a["slug"]: a for a in api_client.get("/api/v1/agents/").json()["results"]}
    assert listed["echo"]["price"]["amount"].startswith("7.25")
    # The search page too (its own cache entries and fragment key).
    assert "7.25 USDC" in cards(client.get("/marketplace/", {"q": "echo"}))


@cache_on
def test_cached_grid_and_json_are_reused_until_the_version_changes(client, api_client):
    AgentFactory(slug="echo", name="Echo Tool")
    page = cards(client.get("/marketplace/"))
    body = api_client.get("/api/v1/agents/").content

    # A write that bypasses the services (no version bump) is not seen: both are cached ...
    Agent.objects.filter(slug="echo").update(name="Renamed Quietly")
    again = client.get("/marketplace/")
    assert cards(again) == page
    rendered = [t.name for t in again.templates]
    assert CARD not in rendered and FILTERS not in rendered  # both came from the fragments
    assert api_client.get("/api/v1/agents/").content == body

    # ... until the catalog version moves, as every service and receiver makes it do.
    cache.incr("catalog:version")
    assert "Renamed Quietly" in cards(client.get("/marketplace/"))
    assert b"Renamed Quietly" in api_client.get("/api/v1/agents/").content


@cache_on
def test_grid_fragments_are_keyed_by_query_filters_sort_and_page(client):
    crypto = CategoryFactory(slug="crypto")
    AgentFactory(slug="whale", name="Whale Watcher", category=crypto, price=Decimal("5"))
    AgentFactory(slug="gas", name="Gas Saver", category=crypto, price=Decimal("1"))
    for n in range(13):
        AgentFactory(slug=f"filler-{n}", name=f"Filler {n:02}", price=Decimal("2"))

    def names(params: dict) -> list[str]:
        grid = cards(client.get("/marketplace/", params))
        return [
            part.split("</a>")[0].split(">")[-1] for part in grid.split("agent-card__title")[1:]
        ]

    for _ in range(2):  # second round from the cache: same answers
        assert names({"q": "whale"}) == ["Whale Watcher"]
        assert names({"q": "gas"}) == ["Gas Saver"]
        assert names({"category": "crypto", "sort": "price"}) == ["Gas Saver", "Whale Watcher"]
        assert names({"category": "crypto", "sort": "-price"}) == ["Whale Watcher", "Gas Saver"]
        assert names({"max_price": "1"}) == ["Gas Saver"]
        first, second = names({"sort": "newest"}), names({"sort": "newest", "page": "2"})
        assert len(first) == 12 and len(second) == 3 and not set(first) & set(second)
        # Out-of-range and malformed pages resolve to a real page and share its fragment.
        assert names({"sort": "newest", "page": "99"}) == second
        assert names({"sort": "newest", "page": "x"}) == first


@cache_on
def test_filter_fragments_show_each_requests_own_values_and_errors(
    client, django_capture_on_commit_callbacks
):
    AgentFactory(slug="echo", name="Echo Tool")
    for _ in range(2):  # second round from the cache: same answers
        bad = filters(client.get("/marketplace/", {"min_price": "abc"}))
        assert 'value="abc"' in bad and "Enter a number." in bad
        good = filters(client.get("/marketplace/", {"min_price": "5"}))
        assert 'value="5"' in good and "Enter a number." not in good
        swapped = filters(client.get("/marketplace/", {"min_price": "5", "max_price": "1"}))
        assert "Max price must be at least the min price." in swapped
        assert 'value="whale"' in filters(client.get("/marketplace/", {"q": "whale"}))
        hostile = filters(client.get("/marketplace/", {"q": '"><script>x</script>'}))
        assert "<script>x" not in hostile and "&lt;script&gt;" in hostile
        chosen = filters(client.get("/marketplace/", {"sort": "price"}))
        assert '<option value="price" selected>' in chosen
        plain = filters(client.get("/marketplace/"))
        assert "selected>" not in plain.split('name="sort"')[1].split("</select>")[0]

    # The category choices come from the catalog: a new category shows up at once.
    with django_capture_on_commit_callbacks(execute=True):
        CategoryFactory(slug="robotics", name="Robotics")
    assert '<option value="robotics">Robotics</option>' in filters(client.get("/marketplace/"))


@cache_on
def test_the_shared_grid_carries_nothing_of_the_visitor(client):
    AgentFactory(slug="echo", name="Echo Tool")
    member = UserFactory(email="member@example.com", display_name="Member Person")
    member.theme = "dark"
    member.save()
    client.force_login(member)
    signed_in = client.get("/marketplace/")
    assert 'data-theme="dark"' in signed_in.content.decode()
    client.logout()

    anonymous = client.get("/marketplace/")
    html = anonymous.content.decode()
    assert cards(anonymous) == cards(signed_in)
    assert filters(anonymous) == filters(signed_in)
    assert 'data-theme="system"' in html and "Log in" in html and "Log out" not in html
    assert "member@example.com" not in cards(signed_in) and "csrfmiddlewaretoken" not in cards(
        signed_in
    )


@cache_on
def test_pagination_links_keep_each_requests_own_parameters(client):
    for n in range(13):
        AgentFactory(slug=f"agent-x{n}", name=f"Agent X{n}")
    plain = client.get("/marketplace/").content.decode()
    tagged = client.get("/marketplace/", {"ref": "newsletter"}).content.decode()
    assert 'href="?page=2"' in plain
    assert 'href="?ref=newsletter&amp;page=2"' in tagged


@cache_on
def test_cached_api_json_depends_on_host_and_media_type(api_client):
    AgentFactory(slug="echo")
    local = api_client.get("/api/v1/agents/", HTTP_HOST="localhost")
    assert local["Content-Type"] == "application/json"
    assert local.json()["results"][0]["url"].startswith("http://localhost/")
    other = api_client.get("/api/v1/agents/", HTTP_HOST="127.0.0.1")
    assert other.json()["results"][0]["url"].startswith("http://127.0.0.1/")

    indented = api_client.get("/api/v1/agents/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "count": 1')
    assert not api_client.get("/api/v1/agents/").content.startswith(b"{\n")


@cache_on
def test_cached_api_json_is_the_same_for_signed_in_and_anonymous_callers(api_client):
    AgentFactory(slug="echo")
    anonymous = api_client.get("/api/v1/agents/")
    token = api_token_create(user=UserFactory(), name="cli")[1]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/agents/").content == anonymous.content


def test_without_caching_changes_show_even_without_a_version_bump(client, api_client):
    # Tests run with CATALOG_CACHE_SECONDS = 0: nothing is cached, no fragment either.
    AgentFactory(slug="echo", name="Echo Tool")
    client.get("/marketplace/")
    api_client.get("/api/v1/agents/")
    Agent.objects.filter(slug="echo").update(name="Renamed Quietly")
    page = client.get("/marketplace/")
    assert "Renamed Quietly" in cards(page)
    assert CARD in [t.name for t in page.templates]
    assert api_client.get("/api/v1/agents/").json()["results"][0]["name"] == "Renamed Quietly"
    assert not cache._cache.get_client().keys("*template.cache*")


def test_backends_share_one_redis_client_per_process():
    # Django builds a backend per ASGI request (asgiref Local); they must share pools.
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert isinstance(first, SharedRedisCache)
    assert first is not second
    assert first._cache is second._cache
    assert first._cache.get_client() is second._cache.get_client(write=True)
    first.set("shared-client-check", "ok", 5)
    assert second.get("shared-client-check") == "ok"


@cache_on
def test_an_entry_built_while_the_catalog_changed_is_rebuilt_by_the_next_reader():
    assert catalog_cached("probe", lambda: "first") == "first"
    assert catalog_cached("probe", lambda: "unused") == "first"

    def build_during_a_change() -> str:
        cache.incr("catalog:version")  # a change commits while this reader builds
        return "built from what it read before the change"

    cache.incr("catalog:version")
    assert catalog_cached("probe", build_during_a_change).startswith("built from")
    assert catalog_cached("probe", lambda: "fresh") == "fresh"  # not served: outdated
    assert catalog_cached("probe", lambda: "unused") == "fresh"


@cache_on
def test_a_flushed_redis_starts_a_new_version():
    assert catalog_cached("probe", lambda: "first") == "first"
    cache.clear()
    assert catalog_cached("probe", lambda: "second") == "second"
    assert catalog_version() == 1
