from decimal import Decimal

import pytest

from accounts.services import api_token_create
from marketplace.models import Agent, Review
from marketplace.tests.factories import AgentFactory, CategoryFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict, code: str) -> dict:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def test_agents_list_searches_filters_orders_and_paginates(api_client):
    crypto = CategoryFactory(slug="crypto")
    AgentFactory(slug="whale-tracker", name="Whale Tracker", category=crypto, price=Decimal("5"))
    AgentFactory(slug="gas-optimizer", name="Gas Optimizer", category=crypto, price=Decimal("1"))
    for n in range(25):
        AgentFactory(slug=f"filler-{n}", name=f"Filler {n}")

    body = api_client.get("/api/v1/agents/", {"search": "whale"}).json()
    assert [a["slug"] for a in body["results"]] == ["whale-tracker"]
    first = body["results"][0]
    assert first["price"] == {"amount": "5.000000000000000000", "currency": "USDC"}
    assert first["category"] == "crypto"
    assert first["url"].endswith("/api/v1/agents/whale-tracker/")

    body = api_client.get("/api/v1/agents/", {"category": "crypto", "ordering": "price"}).json()
    assert [a["slug"] for a in body["results"]] == ["gas-optimizer", "whale-tracker"]

    page1 = api_client.get("/api/v1/agents/", {"page_size": 10}).json()
    assert page1["count"] == 27 and len(page1["results"]) == 10 and page1["next"]
    page3 = api_client.get("/api/v1/agents/", {"page_size": 10, "page": 3}).json()
    assert len(page3["results"]) == 7 and page3["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "-1"}, "min_price"),
        ({"max_price": "abc"}, "max_price"),
        ({"ordering": "sideways"}, "ordering"),
        ({"min_price": "5", "max_price": "1"}, "max_price"),
    ],
)
def test_bad_query_parameters_get_field_errors(api_client, params, field):
    response = api_client.get("/api/v1/agents/", params)
    assert response.status_code == 400
    error = assert_error_shape(response.json(), "validation_error")
    assert field in error["fields"]
    assert field in error["message"]


def test_out_of_range_page_is_a_404_in_the_error_shape(api_client):
    AgentFactory()
    response = api_client.get("/api/v1/agents/", {"page": 99})
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_agent_detail_and_404(api_client):
    agent = AgentFactory(slug="echo")
    body = api_client.get("/api/v1/agents/echo/").json()
    assert body["current_version"]["input_schema"]["required"] == ["text"]
    assert body["current_version"]["price"]["currency"] == "USDC"
    assert body["stats"] == {"runs": 0, "success_rate": 0.0, "median_duration_seconds": 0.0}
    assert body["developer"]["display_name"] == agent.developer.display_name

    response = api_client.get("/api/v1/agents/missing/")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    # Unknown API paths use the same shape, not an HTML page.
    response = api_client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_categories_with_counts(api_client):
    AgentFactory(category=CategoryFactory(slug="crypto"))
    body = api_client.get("/api/v1/categories/").json()
    counts = {c["slug"]: c["agent_count"] for c in body}
    assert counts["crypto"] == 1


def test_reviews_list_and_create(api_client):
    agent = AgentFactory(slug="echo")
    ReviewFactory(agent=agent, rating=2)
    user = UserFactory(display_name="Ada")
    assert api_client.get("/api/v1/agents/echo/reviews/").json()["count"] == 1

    response = api_client.post("/api/v1/agents/echo/reviews/", {"rating": 5, "body": "Superb"})
    assert response.status_code in (401, 403)
    assert_error_shape(response.json(), response.json()["error"]["code"])

    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/agents/echo/reviews/", {"rating": 5, "body": "Superb"})
    assert response.status_code == 201
    assert response.json()["author"] == "Ada"
    agent.refresh_from_db()
    assert (agent.rating_count, agent.rating_avg) == (2, Decimal("3.50"))

    again = api_client.post("/api/v1/agents/echo/reviews/", {"rating": 1, "body": "Twice"})
    assert again.status_code == 409
    assert_error_shape(again.json(), "conflict")


def test_review_validation_errors_name_fields_and_change_nothing(api_client, user):
    AgentFactory(slug="echo")
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/agents/echo/reviews/", {"rating": 9, "body": ""})
    assert response.status_code == 400
    error = assert_error_shape(response.json(), "validation_error")
    assert set(error["fields"]) == {"rating", "body"}
    response = api_client.post(
        "/api/v1/agents/echo/reviews/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")
    assert Review.objects.count() == 0


def test_token_auth_for_third_parties(api_client, user):
    token, raw = api_token_create(user=user, name="ci")
    assert api_client.get("/api/v1/me/").status_code in (401, 403)

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["role"] == "user"

    bad = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Token anx_wrong")
    assert bad.status_code == 401
    assert_error_shape(bad.json(), "authentication_failed")


def test_agents_are_readable_anonymously_but_writes_need_auth(api_client):
    AgentFactory(slug="echo")
    assert api_client.get("/api/v1/agents/").status_code == 200
    assert api_client.delete("/api/v1/agents/echo/").status_code in (401, 403, 405)
    assert Agent.objects.filter(slug="echo").exists()
