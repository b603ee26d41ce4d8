"""The wallet pages, the JSON endpoints of static/js/wallet.js and the wallet API, through the
Django test client (no browser) against a real anvil and PostgreSQL: listing, primary, unlink
with confirmation, CSRF, the development faucet (and its refusal when disabled), the login
partial, and /api/v1/wallets/."""

from __future__ import annotations

import uuid

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import include, path
from eth_account import Account
from eth_account.messages import encode_defunct
from rest_framework.test import APIClient

from agentnexus import urls as root_urls
from marketplace.tests.factories import AgentFactory, UserFactory
from payments.api.wallets import (
    WalletLinkApi,
    WalletListApi,
    WalletNonceApi,
    WalletSetPrimaryApi,
    WalletUnlinkApi,
)
from payments.auth import WALLET_BACKEND
from payments.chain.anvil import dev_private_keys
from payments.chain.client import ChainClient, deploy_marketplace
from payments.chain.marketplace import Marketplace
from payments.models import ChainDeployment, Purchase, PurchaseStatus, SiweNonce, Wallet
from payments.tests.chain_env import start_anvil
from payments.wallets import siwe_nonce_issue, wallet_link

# The wallet API paths requested for agentnexus/api_urls.py (under /api/v1/).
wallet_api_urlpatterns = [
    path("wallets/", WalletListApi.as_view(), name="wallets"),
    path("wallets/nonce/", WalletNonceApi.as_view(), name="wallet-nonce"),
    path("wallets/link/", WalletLinkApi.as_view(), name="wallet-link"),
    path("wallets/<int:wallet_id>/primary/", WalletSetPrimaryApi.as_view(), name="wallet-primary"),
    path("wallets/<int:wallet_id>/unlink/", WalletUnlinkApi.as_view(), name="wallet-unlink"),
]
# The site's URLs plus the wallet pages and API, until they are wired in agentnexus/.
urlpatterns = [
    path("", include("payments.urls")),
    path("api/v1/", include(wallet_api_urlpatterns)),
    *root_urls.urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

HOST = "testserver"
KEYS = dev_private_keys(10)


@pytest.fixture(scope="module")
def anvil():
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def marketplace(anvil):
    """The contracts and the mock stablecoin, deployed once for the module."""
    client = ChainClient(anvil.rpc_url, expected_chain_id=anvil.chain_id)
    return deploy_marketplace(
        client,
        deployer_key=KEYS[0],
        orchestrator=Account.from_key(KEYS[8]).address,
        fee_recipient=Account.from_key(KEYS[9]).address,
    )


@pytest.fixture(autouse=True)
def chain_settings(anvil, settings):
    settings.CHAIN_RPC_URL = anvil.rpc_url
    settings.CHAIN_ID = anvil.chain_id
    settings.DEV_FAUCET_ENABLED = False
    if WALLET_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, WALLET_BACKEND]


@pytest.fixture
def deployment(marketplace, anvil):
    """The active deployment record (what chain_deploy writes); chain changes are rolled back."""
    client = ChainClient(anvil.rpc_url)
    snapshot = client.snapshot()
    record = ChainDeployment.objects.create(
        chain_id=marketplace.chain_id,
        escrow_address=marketplace.escrow,
        entitlements_address=marketplace.entitlements,
        stablecoin_address=marketplace.stablecoin,
        stablecoin_is_mock=marketplace.stablecoin_is_mock,
        deployer_address=marketplace.deployer,
        admin_address=marketplace.admin,
        orchestrator_address=marketplace.orchestrator,
        pauser_address=marketplace.pauser,
        fee_recipient_address=marketplace.fee_recipient,
        fee_bps=marketplace.fee_bps,
        payment_ttl_seconds=marketplace.payment_ttl,
        block_number=marketplace.block_number,
        entitlements_tx=marketplace.entitlements_tx,
        escrow_tx=marketplace.escrow_tx,
        compiler_version=marketplace.compiler_version,
    )
    yield record
    client.revert_to(snapshot)


def new_key() -> str:
    return ChainClient.create_key()


def address_of(key: str) -> str:
    return Account.from_key(key).address


def sign(text: str, key: str) -> str:
    return Account.sign_message(encode_defunct(text=text), key).signature.to_0x_hex()


def link(user, key: str) -> Wallet:
    _, template = siwe_nonce_issue(
        purpose=SiweNonce.Purpose.LINK, domain=HOST, uri=f"http://{HOST}/", user=user
    )
    text = template.message(address=address_of(key)).text()
    return wallet_link(user=user, message=text, signature=sign(text, key), request_host=HOST)


def balances(market: Marketplace, address: str) -> tuple[int, int]:
    stablecoin = market.stablecoin.address
    return market.token_balance("0x" + "0" * 40, address), market.token_balance(stablecoin, address)


def market_of(anvil, record: ChainDeployment) -> Marketplace:
    return Marketplace(
        ChainClient(anvil.rpc_url),
        entitlements=record.entitlements_address,
        escrow=record.escrow_address,
        stablecoin=record.stablecoin_address,
    )


# ------------------------------------------------------------------------------ the page


def test_wallet_page_needs_login(client):
    response = client.get("/wallet/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_wallet_page_lists_wallets_with_balances(client, deployment):
    user = UserFactory()
    first, second = link(user, new_key()), link(user, new_key())
    link(UserFactory(), new_key())  # someone else's: not shown
    client.force_login(user)
    response = client.get("/wallet/")
    assert response.status_code == 200
    html = response.content.decode()
    assert first.address in html and second.address in html
    assert html.count("wallet-card__address") == 2
    assert 'Primary<span class="visually-hidden"> wallet, used to pay</span>' in html
    # Primary is first; only the other one offers "Pay with this wallet".
    assert [row["wallet"] for row in response.context["rows"]] == [first, second]
    assert html.count("Pay with this wallet") == 1
    assert f"/wallet/{second.pk}/primary/" in html and f"/wallet/{first.pk}/primary/" not in html
    assert f"/wallet/{first.pk}/unlink/" in html
    # Balances from the chain: ETH and the deployment's stablecoin.
    symbols = [b.symbol for b in response.context["rows"][0]["balances"]]
    assert symbols == ["ETH", "USDC"] and "0.0000" in html and "0.00" in html
    # The link button (hidden until wallet.js runs) and its live regions.
    assert 'data-wallet-connect data-purpose="link"' in html
    assert (
        'data-nonce-url="/wallet/siwe/nonce/"' in html and 'data-submit-url="/wallet/link/"' in html
    )
    assert 'role="status" aria-live="polite"' in html and 'role="alert"' in html
    assert "js/wallet.js" in html and "<noscript>" in html
    # No faucet while it is disabled; local chain instructions shown.
    assert "Get test funds" not in html
    assert "Chain ID" in html and settings_rpc_url(response) in html


def settings_rpc_url(response) -> str:
    return response.context["chain_rpc_url"]


def test_wallet_page_survives_a_chain_outage(client, settings):
    user = UserFactory()
    link(user, new_key())
    client.force_login(user)
    settings.CHAIN_RPC_URL = "http://127.0.0.1:9"
    response = client.get("/wallet/")
    assert response.status_code == 200
    assert "Balances are not shown" in response.content.decode()


def test_empty_wallet_page(client):
    client.force_login(UserFactory())
    html = client.get("/wallet/").content.decode()
    assert "No wallet is linked yet" in html and "Link a wallet" in html


def test_wallet_page_shows_recent_purchases(client, deployment):
    user = UserFactory()
    wallet = link(user, new_key())
    agent = AgentFactory(name="Purchased Agent")
    purchase = Purchase.objects.create(
        public_id=uuid.uuid4(),
        user=user,
        agent=agent,
        deployment=deployment,
        buyer_address=wallet.address,
        token_address=deployment.stablecoin_address,
        currency="USDC",
        runs=3,
        unit_price=250_000,
        total=750_000,
        status=PurchaseStatus.COMPLETED,
        tx_hash="0x" + "ab" * 32,
    )
    client.force_login(user)
    html = client.get("/wallet/").content.decode()
    assert "Purchased Agent" in html and "3 (3 left)" in html and "Completed" in html
    assert f"/purchases/{purchase.public_id}/" in html and "0xababababab" in html
    assert "All your purchases" in html

    client.force_login(UserFactory())
    assert "No purchases yet" in client.get("/wallet/").content.decode()


def test_set_primary(client):
    user = UserFactory()
    link(user, new_key())
    second = link(user, new_key())
    client.force_login(user)
    response = client.post(f"/wallet/{second.pk}/primary/", follow=True)
    assert response.status_code == 200
    assert f"You now pay with {second.address}." in response.content.decode()
    assert list(Wallet.objects.filter(user=user, is_primary=True)) == [second]


def test_unlink_asks_for_confirmation_then_unlinks(client):
    user = UserFactory()
    first, second = link(user, new_key()), link(user, new_key())
    client.force_login(user)
    confirm = client.get(f"/wallet/{first.pk}/unlink/")
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Unlink this wallet?" in html and first.address in html
    assert "the next linked wallet becomes the one you pay with" in html
    assert Wallet.objects.filter(pk=first.pk).exists()  # GET changes nothing

    response = client.post(f"/wallet/{first.pk}/unlink/", follow=True)
    html = response.content.decode()
    assert f"Unlinked {first.address}" in html and f"You now pay with {second.address}" in html
    assert list(Wallet.objects.filter(user=user)) == [second]
    assert Wallet.objects.get(pk=second.pk).is_primary


def test_other_users_wallets_are_404(client):
    wallet = link(UserFactory(), new_key())
    client.force_login(UserFactory())
    assert client.get(f"/wallet/{wallet.pk}/unlink/").status_code == 404
    assert client.post(f"/wallet/{wallet.pk}/unlink/").status_code == 404
    assert client.post(f"/wallet/{wallet.pk}/primary/").status_code == 404
    assert client.post(f"/wallet/{wallet.pk}/faucet/").status_code == 404
    assert Wallet.objects.filter(pk=wallet.pk).exists()


# ------------------------------------------------------------------------------ the faucet


def test_faucet_refuses_when_disabled(client, deployment, anvil, settings):
    user = UserFactory()
    wallet = link(user, new_key())
    client.force_login(user)
    market = market_of(anvil, deployment)

    response = client.post(f"/wallet/{wallet.pk}/faucet/")
    assert response.status_code == 403
    assert "only available in local development" in response.content.decode()
    assert balances(market, wallet.address) == (0, 0)

    # Enabled, but the site is configured for a public chain: still refused, nothing sent.
    settings.DEV_FAUCET_ENABLED = True
    settings.CHAIN_ID = 1
    response = client.post(f"/wallet/{wallet.pk}/faucet/")
    assert response.status_code == 403
    assert balances(market, wallet.address) == (0, 0)


def test_faucet_funds_a_linked_wallet_in_development(client, deployment, anvil, settings):
    settings.DEV_FAUCET_ENABLED = True
    user = UserFactory()
    wallet = link(user, new_key())
    client.force_login(user)
    page = client.get("/wallet/").content.decode()
    assert "Get test funds" in page and f"/wallet/{wallet.pk}/faucet/" in page

    response = client.post(f"/wallet/{wallet.pk}/faucet/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Sent 1 test ETH to {wallet.address} and 1,000 test USDC" in html
    assert balances(market_of(anvil, deployment), wallet.address) == (10**18, 1_000 * 10**6)
    assert "1.0000" in html and "1,000.00" in html  # the page shows the new balances


# -------------------------------------------------------------------- the JSON endpoints


def test_nonce_endpoint(client):
    key = new_key()
    # Linking needs an account.
    response = client.post(
        "/wallet/siwe/nonce/", {"purpose": "link"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_authenticated"

    bad = client.post(
        "/wallet/siwe/nonce/",
        {"purpose": "login", "address": "0x123"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "address" in bad.json()["error"]["fields"]
    assert not SiweNonce.objects.exists()  # nothing issued for a bad request

    response = client.post(
        "/wallet/siwe/nonce/",
        {"purpose": "login", "address": address_of(key).lower()},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["chain"]["chain_id"] == 31337 and body["chain"]["chain_rpc_url"]
    assert body["template"]["domain"] == HOST and body["template"]["uri"] == f"http://{HOST}/"
    lines = body["message"].split("\n")
    assert lines[1] == address_of(key)
    assert lines[3] == "Log in to AgentNexus with this wallet."
    assert f"Nonce: {body['nonce']}" in lines
    nonce = SiweNonce.objects.get(nonce=body["nonce"])
    assert nonce.purpose == "login" and nonce.user is None and nonce.used_at is None


def test_link_endpoint_with_csrf(client):
    user = UserFactory()
    key = new_key()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    # Without the CSRF token: refused before anything happens.
    refused = browser.post(
        "/wallet/siwe/nonce/",
        {"purpose": "link", "address": address_of(key)},
        content_type="application/json",
    )
    assert refused.status_code == 403 and not SiweNonce.objects.exists()

    page = browser.get("/wallet/")
    token = page.context["csrf_token"]
    headers = {"X-CSRFToken": str(token)}
    nonce = browser.post(
        "/wallet/siwe/nonce/",
        {"purpose": "link", "address": address_of(key)},
        content_type="application/json",
        headers=headers,
    )
    assert nonce.status_code == 201
    message = nonce.json()["message"]
    assert "Link this wallet to your AgentNexus account." in message

    response = browser.post(
        "/wallet/link/",
        {"message": message, "signature": sign(message, new_key())},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "siwe_bad_signature"

    response = browser.post(
        "/wallet/link/",
        {"message": message, "signature": sign(message, key)},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["wallet"]["address"] == address_of(key) and body["wallet"]["is_primary"]
    assert body["redirect"] == "/wallet/"
    assert Wallet.objects.get(user=user).address == address_of(key)

    missing = browser.post("/wallet/link/", {}, content_type="application/json", headers=headers)
    assert missing.status_code == 400 and missing.json()["error"]["fields"] == {
        "message": ["Required."]
    }


def test_login_partial_renders_a_wallet_button():
    request = RequestFactory().get("/accounts/login/?next=/wallet/")
    html = render_to_string("payments/_wallet_login.html", request=request)
    assert "Log in with a wallet" in html
    assert 'data-purpose="login"' in html and 'data-submit-url="/wallet/login/"' in html
    assert 'data-next="/wallet/"' in html and "csrfmiddlewaretoken" in html
    assert "button--block" in html and "hidden" in html


# ---------------------------------------------------------------------------------- the API


def test_wallet_api():
    user = UserFactory()
    api = APIClient()
    assert api.get("/api/v1/wallets/").status_code in (401, 403)
    api.force_authenticate(user)
    assert api.get("/api/v1/wallets/").json() == []

    key, second_key = new_key(), new_key()
    bad = api.post("/api/v1/wallets/nonce/", {"address": "nope"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"

    nonce = api.post("/api/v1/wallets/nonce/", {"address": address_of(key)}, format="json")
    assert nonce.status_code == 201
    message = nonce.json()["message"]
    linked = api.post(
        "/api/v1/wallets/link/",
        {"message": message, "signature": sign(message, key)},
        format="json",
    )
    assert linked.status_code == 201
    first = linked.json()
    assert (first["address"], first["is_primary"], first["is_contract"]) == (
        address_of(key),
        True,
        False,
    )
    replay = api.post(
        "/api/v1/wallets/link/",
        {"message": message, "signature": sign(message, key)},
        format="json",
    )
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "siwe_nonce_used"

    second = link(user, second_key)
    listed = api.get("/api/v1/wallets/").json()
    assert [w["address"] for w in listed] == [address_of(key), second.address]

    primary = api.post(f"/api/v1/wallets/{second.pk}/primary/")
    assert primary.status_code == 200 and primary.json()["is_primary"]
    unlinked = api.post(f"/api/v1/wallets/{second.pk}/unlink/")
    assert unlinked.status_code == 200
    assert unlinked.json()["primary"]["address"] == address_of(key)
    assert api.post(f"/api/v1/wallets/{second.pk}/unlink/").json()["error"]["code"] == "not_found"

    someone_else = link(UserFactory(), new_key())
    assert api.post(f"/api/v1/wallets/{someone_else.pk}/primary/").status_code == 404
