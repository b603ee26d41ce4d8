"""The compliance gate at the purchase and run-start enforcement points, through the API, with
the geo middleware on, a test .mmdb, real PostgreSQL and a real anvil."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

import payments.tests.conftest as payments_conftest
import payments.tests.paid_env as paid_env
from compliance.audit.models import AuditEntry
from compliance.kyc.models import CategoryKycRequirement
from compliance.models import CountryRule
from compliance.tests.geo_mmdb import GERMANY, US
from marketplace.tests.factories import UserFactory
from payments.models import Purchase, Wallet
from runtime.models import Run

# The paid-run fixtures live with the payments tests.
anvil_node = payments_conftest.anvil_node
paid_chain = paid_env.paid_chain
paid_market = paid_env.paid_market

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer(geo_settings):
    geo_settings.ROOT_URLCONF = "agentnexus.urls"
    user = UserFactory()
    Wallet.objects.create(user=user, address=paid_env.BUYER, is_primary=True)
    api = APIClient()
    api.force_authenticate(user)
    api.user = user
    return api


def purchase(api, ip: str, runs: int = 3):
    return api.post(
        "/api/v1/purchases/",
        {"agent": "paid-echo", "runs": runs, "currency": "USDC", "wallet": paid_env.BUYER},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_a_category_blocked_in_the_country_is_a_451_at_purchase(buyer, paid_market):
    category = paid_market["paid-echo"].category
    rule = CountryRule.objects.create(country="DE", reason="Not offered in Germany.")
    rule.blocked_categories.add(category)
    response = purchase(buyer, GERMANY)
    assert response.status_code == 451, response.json()
    error = response.json()["error"]
    assert error["message"]
    assert purchase(buyer, US).status_code == 201, "the same purchase from the US goes ahead"
    assert AuditEntry.objects.filter(action="compliance.purchase_blocked").exists()


def test_the_country_maximum_transaction_is_enforced(buyer, paid_market):
    CountryRule.objects.create(country="US", max_transaction_usd=Decimal("0.50"))
    response = purchase(buyer, US, runs=3)  # 0.75 USD
    assert response.status_code == 451, response.json()
    assert purchase(buyer, US, runs=2).status_code == 201  # 0.50 USD


def test_run_start_needs_the_kyc_level_of_the_category(buyer, paid_market):
    paid_env.buy(paid_market, buyer.user, paid_market["paid-echo"], 1)
    CategoryKycRequirement.objects.create(category=paid_market["paid-echo"].category, min_level=2)
    response = buyer.post(
        "/api/v1/runs/", {"agent": "paid-echo", "input": {"name": "x"}}, format="json",
        REMOTE_ADDR=US,
    )  # fmt: skip
    assert response.status_code == 403, response.json()
    error = response.json()["error"]
    assert error["code"] == "kyc_level_required" and "level 2" in error["message"]
    assert not Run.objects.exists()
    assert Purchase.objects.get().runs_reserved == 0, "a refused start spends nothing"


def test_run_start_from_a_country_that_blocks_the_category_is_a_451(buyer, paid_market):
    paid_env.buy(paid_market, buyer.user, paid_market["paid-echo"], 1)
    rule = CountryRule.objects.create(country="DE", reason="Not offered in Germany.")
    rule.blocked_categories.add(paid_market["paid-echo"].category)
    response = buyer.post(
        "/api/v1/runs/", {"agent": "paid-echo", "input": {"name": "x"}}, format="json",
        REMOTE_ADDR=GERMANY,
    )  # fmt: skip
    assert response.status_code == 451, response.json()
    assert not Run.objects.exists()


def _block_regions(agent, *regions: str) -> None:
    from marketplace.models import AgentVersion

    AgentVersion.objects.filter(pk=agent.current_version_id).update(
        manifest={"permissions": {"blocked_regions": list(regions)}}
    )
    agent.refresh_from_db()


def test_a_region_the_manifest_blocks_is_a_451_at_purchase_and_run(buyer, paid_market):
    agent = paid_market["paid-echo"]
    paid_env.buy(paid_market, buyer.user, agent, 1)
    _block_regions(agent, "DE")
    response = purchase(buyer, GERMANY)
    assert response.status_code == 451, response.json()
    error = response.json()["error"]
    assert error["code"] == "region_blocked" and "(DE)" in error["message"]
    started = buyer.post(
        "/api/v1/runs/", {"agent": "paid-echo", "input": {"name": "x"}}, format="json",
        REMOTE_ADDR=GERMANY,
    )  # fmt: skip
    assert started.status_code == 451, started.json()
    assert started.json()["error"]["code"] == "region_blocked"
    assert not Run.objects.exists()
    assert purchase(buyer, US).status_code == 201, "other regions are not affected"
    assert AuditEntry.objects.filter(action="compliance.run_blocked").exists()
