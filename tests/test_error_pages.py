import pytest
from django.test import RequestFactory

from agentnexus.core.views import server_error

pytestmark = pytest.mark.django_db


def test_404_page_is_ours_and_api_404_is_json(client):
    page = client.get("/no/such/page/")
    assert page.status_code == 404
    assert "text/html" in page["Content-Type"]
    assert "AgentNexus" in page.content.decode()
    api = client.get("/api/v1/no/such/thing/")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_500_page_renders_without_touching_the_request_context():
    response = server_error(RequestFactory().get("/marketplace/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "AgentNexus" in html and "<html" in html
    assert "cdn" not in html.lower()


def test_500_for_api_paths_uses_the_error_shape():
    response = server_error(RequestFactory().get("/api/v1/agents/"))
    assert response.status_code == 500
    assert b'"code": "server_error"' in response.content
