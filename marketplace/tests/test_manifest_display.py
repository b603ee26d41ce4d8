"""What a version's approved manifest does for users: permissions and the safety profile on the
agent page and in the API, the run form asking for the secrets the agent needs, and the
concurrency wish capping its active runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agentnexus.core.errors import ApplicationError
from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, UserFactory
from runtime.models import Run
from runtime.secrets import secrets_decrypt
from runtime.services import run_start

pytestmark = pytest.mark.django_db

MANIFEST = {
    "permissions": {
        "network": {"egress": ["api.hyperliquid.xyz"]},
        "secrets": [{"name": "HL_API_KEY", "description": "Your Hyperliquid API key."}],
        "min_kyc_level": 2,
        "blocked_regions": ["US", "CA"],
    },
    "safety": {
        "max_trade_pct_of_portfolio": 5.0,
        "stop_loss_required": True,
        "max_daily_loss_pct": 3.0,
        "max_drawdown_pct": 10.0,
    },
}


@pytest.fixture
def trader():
    agent = AgentFactory(price=None, slug="trader", name="Trader")
    version = AgentVersionFactory(agent=agent, version="1.0.0", price=0, manifest=MANIFEST)
    agent_set_current_version(agent=agent, version=version)
    return agent


def test_the_agent_page_shows_permissions_and_the_safety_profile(client, trader):
    text = client.get(f"/marketplace/{trader.slug}/").content.decode()
    for expected in (
        "Egress to api.hyperliquid.xyz",
        "HL_API_KEY",
        "Your Hyperliquid API key.",
        "KYC level 2 or higher",
        "US, CA",
        "Safety profile",
        "5.0% of the portfolio",
        "Required on every position",
        "Drawdown limit",
    ):
        assert expected in text, expected


def test_the_api_returns_permissions_and_safety(client, trader):
    version = client.get(f"/api/v1/agents/{trader.slug}/").json()["current_version"]
    assert version["permissions"]["blocked_regions"] == ["US", "CA"]
    assert version["permissions"]["secrets"][0]["name"] == "HL_API_KEY"
    assert version["safety"]["stop_loss_required"] is True


def test_versions_without_a_manifest_show_no_permissions(client):
    agent = AgentFactory(slug="plain")
    assert b"permissions-heading" not in client.get("/marketplace/plain/").content
    assert client.get("/api/v1/agents/plain/").json()["current_version"]["permissions"] is None
    assert agent


def test_the_run_form_asks_for_each_secret_and_the_service_requires_it(client, trader):
    # Only the secret matters here (the KYC minimum would refuse this unverified user).
    secrets_only = {"permissions": {"secrets": MANIFEST["permissions"]["secrets"]}}
    type(trader.current_version).objects.filter(pk=trader.current_version_id).update(
        manifest=secrets_only
    )
    trader.refresh_from_db()
    user = UserFactory()
    client.force_login(user)
    url = reverse("runtime:run_new", args=[trader.slug])
    form = client.get(url).content.decode()
    assert 'type="password"' in form and "Secret: HL_API_KEY" in form
    missing = client.post(url, {})
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    with pytest.raises(ApplicationError) as refused:
        run_start(user=user, agent=trader, data={"text": "x"}, secrets={})
    assert "secrets.HL_API_KEY" in refused.value.fields
    response = client.post(url, {"text": "hello", "secret__HL_API_KEY": "k-123"})
    assert response.status_code == 302, response.content.decode()[:2000]
    run = Run.objects.get(user=user)
    assert secrets_decrypt(run.secrets_ciphertext) == {"HL_API_KEY": "k-123"}
    assert b"k-123" not in client.get(response["Location"]).content


def test_the_concurrency_wish_caps_the_agents_active_runs(trader, settings):
    from runtime.models import RunStatus
    from runtime.services import runs_admit

    settings.RUNTIME_MAX_RUNS_PER_AGENT = 10
    type(trader.current_version).objects.filter(pk=trader.current_version_id).update(
        manifest={"resources": {"concurrency": 1}}
    )
    trader.refresh_from_db()
    runs = [run_start(user=UserFactory(), agent=trader, data={"text": "x"})[0] for _ in range(3)]
    assert runs_admit(agent_id=trader.pk) == [runs[0].pk], "one at a time, oldest first"
    assert runs_admit(agent_id=trader.pk) == [], "the slot is taken"
    assert Run.objects.filter(status=RunStatus.QUEUED).count() == 2
