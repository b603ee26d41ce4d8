import pytest
from django.core.management import call_command

from accounts.models import User
from marketplace.demo_catalog import DEMO_AGENTS, validate_demo_catalog
from marketplace.models import Agent, AgentVersion, Review
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_demo_catalog_data_is_consistent():
    validate_demo_catalog()


def test_seed_demo_is_idempotent_and_complete():
    for slug in ("general", "crypto", "ai-ml", "automation"):
        CategoryFactory(slug=slug)
    call_command("seed_demo", verbosity=0)
    first = (
        Agent.objects.count(),
        AgentVersion.objects.count(),
        Review.objects.count(),
        User.objects.count(),
    )
    call_command("seed_demo", verbosity=0)
    assert (
        Agent.objects.count(),
        AgentVersion.objects.count(),
        Review.objects.count(),
        User.objects.count(),
    ) == first

    # The spec's 20 agents, less the two whose real implementation is published from
    # agents/catalog/ by catalog_publish; the runnable catalog agents are not seeded.
    from_catalog = ["knowledge-qa", "pdf-extractor"]
    demo = [a for a in DEMO_AGENTS if a["slug"] not in from_catalog]
    assert sorted(Agent.objects.values_list("slug", flat=True)) == sorted(a["slug"] for a in demo)
    assert Agent.objects.filter(category__slug="crypto").count() == 8
    assert Agent.objects.exclude(category__slug="crypto").count() == 12 - len(from_catalog)
    assert AgentVersion.objects.count() == sum(len(a["versions"]) for a in demo)
    for spec in demo:
        agent = Agent.objects.get(slug=spec["slug"])
        assert agent.current_version.version == spec["versions"][-1]["version"]
    assert User.objects.get(email="dev@agentnexus.local").role == "developer"
    assert User.objects.get(email="admin@agentnexus.local").role == "staff"
    assert User.objects.get(email="demo@agentnexus.local").role == "user"
    assert Agent.objects.filter(rating_count__gt=0).exists()
