"""The paid journey through the API alone, on a real anvil, real PostgreSQL and real Docker.

Link a wallet with Sign-In with Ethereum, quote and buy 3 runs of an agent in the test
stablecoin (the test plays the wallet: it signs and sends the calls the API returns), confirm,
run the agent twice (one success, one failure), and check that the success was released and the
failure refunded, once each, with the exact token movements on chain. The browser version of
the same journey is in tests/test_browser.py.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from rest_framework.test import APIClient

from marketplace.tests.factories import UserFactory
from payments.chain.keys import fee_recipient_address
from payments.chain.marketplace import run_ref
from payments.models import Purchase, PurchaseStatus, Settlement, SettlementStatus
from payments.purchases import purchase_check
from payments.tests.paid_env import BUYER, BUYER_KEY, DEVELOPER, UNITS, balances
from runtime.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = "paid-misbehave"  # input {"mode": "ok"} succeeds, {"mode": "error"} fails


def _sign(message: str) -> str:
    """personal_sign (EIP-191) with the buyer's key, as a browser wallet would."""
    signed = Account.sign_message(encode_defunct(text=message), private_key=BUYER_KEY)
    return "0x" + bytes(signed.signature).hex()


def test_link_buy_run_twice_and_settle_through_the_api(paid_market):
    mp = paid_market["mp"]
    agent = paid_market[AGENT]
    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)

    # 1. Link the wallet: the server writes the EIP-4361 message, the wallet signs it.
    nonce = api.post("/api/v1/wallets/nonce/", {"address": BUYER.lower()}, format="json")
    assert nonce.status_code == 201, nonce.json()
    message = nonce.json()["message"]
    assert BUYER in message.splitlines()[1], "the message names the checksummed address"
    link = api.post(
        "/api/v1/wallets/link/",
        {"message": message, "signature": _sign(message)},
        format="json",
    )
    assert link.status_code == 201, link.json()
    assert link.json()["address"] == BUYER and link.json()["is_primary"] is True
    wallets = api.get("/api/v1/wallets/").json()
    assert [w["address"] for w in wallets] == [BUYER]
    # The message works once.
    replay = api.post(
        "/api/v1/wallets/link/",
        {"message": message, "signature": _sign(message)},
        format="json",
    )
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "siwe_nonce_used"

    # 2. Test stablecoin for the buyer (what the dev faucet does locally).
    mp.client.transact(mp.stablecoin.functions.mint(BUYER, 3 * UNITS), key=BUYER_KEY)
    start = balances(paid_market)

    # 3. Quote, then purchase: the API answers with the calls the wallet must send.
    quote = api.post(
        "/api/v1/purchases/quote/",
        {"agent": AGENT, "runs": 3, "currency": "USDC"},
        format="json",
    )
    assert quote.status_code == 200, quote.json()
    assert quote.json()["unit_price"] == str(UNITS) and quote.json()["total"] == str(3 * UNITS)
    assert quote.json()["token"] == paid_market["deployment"].stablecoin_address
    created = api.post(
        "/api/v1/purchases/",
        {"agent": AGENT, "runs": 3, "currency": "USDC", "wallet": BUYER},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    purchase_id = body["purchase"]["id"]
    assert body["purchase"]["status"] == "validating"
    assert [call["step"] for call in body["calls"]] == ["approve", "purchase"]
    purchase_hash = ""
    for call in body["calls"]:
        receipt = mp.client.send_call(
            to=call["to"], data=call["data"], value=int(call["value"], 16), key=BUYER_KEY
        )
        assert receipt["status"] == 1
        purchase_hash = receipt["transactionHash"].to_0x_hex()

    # 4. Report the transaction; the purchase completes from the chain's PaymentCreated event.
    confirm = api.post(
        f"/api/v1/purchases/{purchase_id}/confirm/", {"tx_hash": purchase_hash}, format="json"
    )
    assert confirm.status_code == 200, confirm.json()
    assert confirm.json()["status"] in ("processing", "completed")
    purchase = Purchase.objects.get(public_id=purchase_id)
    purchase_check(purchase_id=purchase.pk)  # the eager check task ran it already; harmless
    detail = api.get(f"/api/v1/purchases/{purchase_id}/").json()
    assert detail["status"] == PurchaseStatus.COMPLETED, detail["failure_reason"]
    assert detail["tx_hash"] == purchase_hash.lower() and detail["payment_id"] is not None
    assert (detail["runs"], detail["runs_left"], detail["total"]) == (3, 3, str(3 * UNITS))
    assert mp.units(BUYER, agent.pk) == 3
    paid = balances(paid_market)
    assert paid["buyer"] == start["buyer"] - 3 * UNITS
    assert paid["escrow"] == start["escrow"] + 3 * UNITS
    assert api.get("/api/v1/entitlements/").json() == [
        {"agent": AGENT, "runs_bought": 3, "runs_left": 3}
    ]

    # 5. Two runs (eager Celery runs them inline, then settles them).
    outcomes = {}
    for mode, expected in (("ok", "succeeded"), ("error", "failed")):
        started = api.post(
            "/api/v1/runs/", {"agent": AGENT, "input": {"mode": mode}}, format="json"
        )
        assert started.status_code in (200, 201, 202), started.json()
        run_id = started.json()["id"]
        run = api.get(f"/api/v1/runs/{run_id}/").json()
        assert run["status"] == expected, run
        outcomes[mode] = run
    release, refund = outcomes["ok"]["settlement"], outcomes["error"]["settlement"]
    assert release["kind"] == "release" and release["status"] == SettlementStatus.CONFIRMED
    assert refund["kind"] == "refund" and refund["status"] == SettlementStatus.CONFIRMED
    assert release["purchase"] == refund["purchase"] == purchase_id
    assert release["tx_hash"] and refund["tx_hash"] and release["tx_hash"] != refund["tx_hash"]
    for settled in (release, refund):
        receipt = mp.client.w3.eth.get_transaction_receipt(settled["tx_hash"])
        assert receipt["status"] == 1 and receipt["to"] == mp.escrow.address

    # Exactly once each, settled on chain under the run's reference.
    for run in Run.objects.filter(agent=agent):
        assert mp.is_run_settled(run_ref(run.pk))
        assert Settlement.objects.filter(run=run).count() == 1
    ok = Settlement.objects.get(run__public_id=outcomes["ok"]["id"])
    assert (ok.developer_amount, ok.fee_amount) == (UNITS * 7 // 10, UNITS * 3 // 10)

    # 6. The money: the buyer paid 3 runs and got 1 back, the developer earned 70% of one run,
    # the fee recipient 30%, and the third run's price waits in escrow.
    end = balances(paid_market)
    assert end["buyer"] - start["buyer"] == -3 * UNITS + UNITS
    assert end["developer"] - start["developer"] == UNITS * 7 // 10
    assert end["fee"] - start["fee"] == UNITS * 3 // 10
    assert end["escrow"] - start["escrow"] == UNITS
    token = paid_market["deployment"].stablecoin_address
    assert mp.token_balance(token, DEVELOPER) == end["developer"]
    assert mp.token_balance(token, fee_recipient_address()) == end["fee"]
    assert mp.units(BUYER, agent.pk) == 1

    # 7. One run left, everywhere.
    assert api.get("/api/v1/entitlements/").json() == [
        {"agent": AGENT, "runs_bought": 3, "runs_left": 1}
    ]
    detail = api.get(f"/api/v1/purchases/{purchase_id}/").json()
    assert (detail["runs_left"], detail["runs_released"], detail["runs_refunded"]) == (1, 1, 1)
