"""The buy page, the purchase receipt and the developer's earnings page (Django test client)."""

from __future__ import annotations

import pytest

from marketplace.tests.factories import UserFactory
from payments.models import Purchase, Wallet
from payments.tests.paid_env import BUYER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer(client):
    user = UserFactory()
    Wallet.objects.create(user=user, address=BUYER, is_primary=True)
    client.force_login(user)
    return user


def test_buy_page_reviews_and_records_a_purchase(client, buyer, paid_market):
    page = client.get("/marketplace/paid-echo/buy/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="runs"' in html and 'name="terms"' in html and BUYER in html

    refused = client.post(
        "/marketplace/paid-echo/buy/", {"runs": 3, "currency": "USDC", "wallet": BUYER}
    )
    assert refused.status_code == 400, "the terms must be accepted"
    assert not Purchase.objects.exists()

    response = client.post(
        "/marketplace/paid-echo/buy/",
        {"runs": 3, "currency": "USDC", "wallet": BUYER, "terms": "on"},
    )
    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/purchases/{purchase.public_id}/"
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    body = receipt.content.decode()
    assert "Pay with your wallet" in body and '"step": "approve"' in body
    assert purchase.status == "validating" and purchase.total == 3 * 250_000


def test_bad_runs_is_a_field_error(client, buyer, paid_market):
    response = client.post(
        "/marketplace/paid-echo/buy/",
        {"runs": 500, "currency": "USDC", "wallet": BUYER, "terms": "on"},
    )
    assert response.status_code == 400
    assert "runs" in response.context["form"].errors
    assert not Purchase.objects.exists()


def test_someone_elses_receipt_is_not_found(client, buyer, paid_market):
    client.post(
        "/marketplace/paid-echo/buy/",
        {"runs": 1, "currency": "USDC", "wallet": BUYER, "terms": "on"},
    )
    purchase = Purchase.objects.get()
    client.force_login(UserFactory())
    assert client.get(f"/purchases/{purchase.public_id}/").status_code == 404


def test_earnings_page_for_developers_only(client, paid_market):
    developer_user = paid_market["paid-echo"].developer.user
    client.force_login(developer_user)
    page = client.get("/developer/earnings/")
    assert page.status_code == 200
    assert "No paid runs yet" in page.content.decode()
    client.force_login(UserFactory())
    assert client.get("/developer/earnings/").status_code == 404
