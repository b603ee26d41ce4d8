import pytest
from django.urls import reverse

from marketplace.models import Review
from marketplace.tests.factories import AgentFactory, CategoryFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_home_lists_featured_agents(client):
    AgentFactory(name="Featured One", featured=True)
    AgentFactory(name="Not Featured")
    html = client.get("/").content.decode()
    assert "Featured One" in html
    assert "Not Featured" not in html


def test_catalog_search_filters_and_pagination(client):
    crypto = CategoryFactory(slug="crypto")
    AgentFactory(name="Whale Tracker", category=crypto)
    for n in range(13):
        AgentFactory(name=f"Helper {n}")
    response = client.get("/marketplace/", {"q": "whale"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    response = client.get("/marketplace/", {"category": "crypto"})
    assert [a.name for a in response.context["page"]] == ["Whale Tracker"]
    page2 = client.get("/marketplace/", {"page": 2})
    assert len(page2.context["page"].object_list) == 2  # 14 agents, 12 per page
    # An out-of-range page shows the last page rather than failing.
    assert client.get("/marketplace/", {"page": 99}).status_code == 200


def test_catalog_bad_input_is_reported_beside_the_field(client):
    AgentFactory(name="Whale Tracker")
    response = client.get("/marketplace/", {"min_price": "-3", "max_price": "x", "sort": "bogus"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"min_price", "max_price", "sort"}
    assert response.context["page"].paginator.count == 1


def test_agent_page_shows_schema_fields_and_stats(client):
    agent = AgentFactory(slug="echo", name="Echo")
    response = client.get("/marketplace/echo/")
    assert response.status_code == 200
    names = [f.name for f in response.context["input_fields"]]
    assert names == ["text", "limit"]
    assert response.context["stats"].runs == 0
    html = response.content.decode()
    assert agent.developer.display_name in html
    assert "<strong>useful</strong>" in html  # Markdown rendered


def test_agent_description_cannot_inject_script(client):
    AgentFactory(slug="evil", description="Hi <script>alert(1)</script> [x](javascript:alert(1))")
    html = client.get("/marketplace/evil/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "javascript:alert" not in html


def test_unknown_agent_gets_the_custom_404(client):
    response = client.get("/marketplace/does-not-exist/")
    assert response.status_code == 404
    assert "AgentNexus" in response.content.decode()


def test_review_form_errors_are_shown_and_nothing_is_saved(client):
    AgentFactory(slug="echo")
    client.force_login(UserFactory())
    response = client.post(
        reverse("marketplace:review_submit", args=["echo"]), {"rating": "", "body": ""}
    )
    assert response.status_code == 400
    assert set(response.context["review_form"].errors) == {"rating", "body"}
    assert Review.objects.count() == 0


def test_review_create_then_edit(client):
    agent = AgentFactory(slug="echo")
    user = UserFactory()
    client.force_login(user)
    url = reverse("marketplace:review_submit", args=["echo"])
    assert client.post(url, {"rating": "5", "body": "Great agent"}).status_code == 302
    assert client.post(url, {"rating": "3", "body": "Okay on second look"}).status_code == 302
    review = Review.objects.get()
    assert (review.rating, review.body) == (3, "Okay on second look")
    agent.refresh_from_db()
    assert agent.rating_count == 1


def test_review_requires_login(client):
    AgentFactory(slug="echo")
    response = client.post(
        reverse("marketplace:review_submit", args=["echo"]), {"rating": "5", "body": "x"}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_developer_cannot_review_own_agent(client):
    agent = AgentFactory(slug="echo")
    client.force_login(agent.developer.user)
    response = client.post(
        reverse("marketplace:review_submit", args=["echo"]), {"rating": "5", "body": "Mine"}
    )
    assert response.status_code == 400
    assert Review.objects.count() == 0
