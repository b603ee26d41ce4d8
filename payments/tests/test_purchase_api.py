"""Buying runs through the API on a real anvil: quote, initiate, the wallet sends the calls,
confirm, and the purchase completes from the chain; bad input is refused field by field."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from marketplace.tests.factories import UserFactory
from payments.models import Purchase, PurchaseStatus, Wallet
from payments.purchases import purchase_check
from payments.tests.paid_env import BUYER, BUYER_KEY, UNITS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer_api():
    user = UserFactory()
    Wallet.objects.create(user=user, address=BUYER, is_primary=True)
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


def test_quote(buyer_api, paid_market):
    response = buyer_api.post(
        "/api/v1/purchases/quote/", {"agent": "paid-echo", "runs": 3}, format="json"
    )
    assert response.status_code == 200, response.json()
    quote = response.json()
    assert quote["unit_price"] == str(UNITS) and quote["total"] == str(3 * UNITS)
    assert quote["currency"] == "USDC" and quote["decimals"] == 6


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agent": "paid-echo", "runs": 0, "wallet": BUYER}, "runs"),
        ({"agent": "paid-echo", "runs": 101, "wallet": BUYER}, "runs"),
        ({"agent": "paid-echo", "runs": 2, "currency": "DOGE", "wallet": BUYER}, "currency"),
        ({"agent": "paid-echo", "runs": 2, "wallet": "0x" + "1" * 40}, "wallet"),
    ],
)
def test_bad_purchase_input_names_the_field(buyer_api, paid_market, body, field):
    response = buyer_api.post("/api/v1/purchases/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Purchase.objects.exists(), "bad input records nothing"


def test_buy_through_the_api(buyer_api, paid_market):
    mp = paid_market["mp"]
    token = paid_market["deployment"].stablecoin_address
    mp.client.transact(mp.stablecoin.functions.mint(BUYER, 3 * UNITS), key=BUYER_KEY)
    response = buyer_api.post(
        "/api/v1/purchases/",
        {"agent": "paid-echo", "runs": 3, "currency": "USDC", "wallet": BUYER},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["purchase"]["status"] == "validating"
    assert [c["step"] for c in body["calls"]] == ["approve", "purchase"]
    purchase_hash = None
    for call in body["calls"]:
        receipt = mp.client.send_call(
            to=call["to"], data=call["data"], value=int(call["value"], 16), key=BUYER_KEY
        )
        purchase_hash = receipt["transactionHash"].to_0x_hex()
    confirm = buyer_api.post(
        f"/api/v1/purchases/{body['purchase']['id']}/confirm/",
        {"tx_hash": purchase_hash},
        format="json",
    )
    assert confirm.status_code == 200, confirm.json()
    purchase = Purchase.objects.get()
    # The check task ran eagerly; completion comes from the chain's PaymentCreated event.
    purchase_check(purchase_id=purchase.pk)
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.COMPLETED, purchase.failure_reason
    assert purchase.payment_id is not None
    assert mp.units(BUYER, paid_market["paid-echo"].pk) == 3
    assert mp.token_balance(token, BUYER) == 0
    entitlements = buyer_api.get("/api/v1/entitlements/").json()
    assert entitlements == [{"agent": "paid-echo", "runs_bought": 3, "runs_left": 3}]
    # Reporting the same transaction again is harmless; a malformed one is a field error.
    again = buyer_api.post(
        f"/api/v1/purchases/{body['purchase']['id']}/confirm/",
        {"tx_hash": "0x1234"},
        format="json",
    )
    assert again.status_code in (400, 409)


def test_a_reverted_purchase_fails_with_the_reason(buyer_api, paid_market):
    # No stablecoin in the wallet: the purchase reverts; the page reports its hash anyway.
    response = buyer_api.post(
        "/api/v1/purchases/",
        {"agent": "paid-echo", "runs": 1, "currency": "USDC", "wallet": BUYER},
        format="json",
    )
    body = response.json()
    purchase = Purchase.objects.get()
    mp = paid_market["mp"]
    approve, buy = body["calls"]
    mp.client.send_call(to=approve["to"], data=approve["data"], key=BUYER_KEY)
    from payments.chain.client import ChainError

    with pytest.raises(ChainError):
        mp.client.send_call(to=buy["to"], data=buy["data"], key=BUYER_KEY)
    assert purchase.status == "validating"
