from decimal import Decimal

import pytest

from marketplace.models import Agent
from marketplace.selectors import CatalogQuery, Sort, agent_search, category_list_with_counts
from marketplace.tests.factories import AgentFactory, CategoryFactory

pytestmark = pytest.mark.django_db


def slugs(query: CatalogQuery) -> list[str]:
    return list(agent_search(query=query).values_list("slug", flat=True))


def test_full_text_search_matches_prefixes_and_ranks_names_first():
    AgentFactory(slug="summarizer", name="Web Content Summarizer", summary="Condenses pages.")
    AgentFactory(slug="translator", name="Translator", description="Can summarize as well.")
    AgentFactory(slug="whale", name="Whale Tracker", summary="Watches big wallets.")

    assert slugs(CatalogQuery(text="summ")) == ["summarizer", "translator"]
    assert slugs(CatalogQuery(text="whale wallets")) == ["whale"]
    assert slugs(CatalogQuery(text="nothing-like-this")) == []


def test_search_covers_tags_and_ignores_tsquery_syntax():
    AgentFactory(slug="gas", name="Gas Optimizer", tags=["ethereum", "fees"])
    assert slugs(CatalogQuery(text="ethereum")) == ["gas"]
    # Operators and quotes are stripped to words, never passed to to_tsquery as syntax.
    assert slugs(CatalogQuery(text="gas & | ! ' :* (")) == ["gas"]


def test_category_and_price_filters():
    crypto = CategoryFactory(slug="crypto")
    AgentFactory(slug="cheap", price=Decimal("0.10"))
    AgentFactory(slug="mid", price=Decimal("2.00"), category=crypto)
    AgentFactory(slug="dear", price=Decimal("25.00"), category=crypto)

    assert slugs(CatalogQuery(category="crypto", sort=Sort.PRICE_ASC)) == ["mid", "dear"]
    assert slugs(CatalogQuery(min_price=Decimal("1"), max_price=Decimal("2"))) == ["mid"]
    assert slugs(CatalogQuery(sort=Sort.PRICE_DESC)) == ["dear", "mid", "cheap"]


def test_sorting_by_popularity_and_rating():
    a = AgentFactory(slug="a")
    b = AgentFactory(slug="b")
    c = AgentFactory(slug="c")
    Agent.objects.filter(pk=a.pk).update(runs_total=5, rating_avg=Decimal("3.0"))
    Agent.objects.filter(pk=b.pk).update(runs_total=50, rating_avg=Decimal("4.5"))
    Agent.objects.filter(pk=c.pk).update(runs_total=1, rating_avg=Decimal("5.0"))
    assert slugs(CatalogQuery(sort=Sort.POPULAR)) == ["b", "a", "c"]
    assert slugs(CatalogQuery(sort=Sort.RATING)) == ["c", "b", "a"]


def test_deprecated_and_versionless_agents_are_not_listed():
    AgentFactory(slug="live")
    AgentFactory(slug="old", status=Agent.Status.DEPRECATED)
    AgentFactory(slug="draft", price=None)
    AgentFactory(slug="fixing", status=Agent.Status.MAINTENANCE)
    assert sorted(slugs(CatalogQuery())) == ["fixing", "live"]


def test_category_counts_only_count_listed_agents():
    CategoryFactory(slug="crypto")
    AgentFactory(category=CategoryFactory(slug="crypto"))
    AgentFactory(category=CategoryFactory(slug="crypto"), status=Agent.Status.DEPRECATED)
    counts = {c.slug: c.agent_count for c in category_list_with_counts()}
    assert counts["crypto"] == 1
