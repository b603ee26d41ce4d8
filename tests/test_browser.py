"""End-to-end in real Chromium (Debian's package, driven by Playwright).

One module on purpose: the browser starts once and these tests are the slow part of the suite.
"""

import os
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from marketplace.models import Review
from marketplace.tests.factories import AgentFactory, CategoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SHOTS = Path(settings.BASE_DIR) / ".cache" / "screenshots"
WIDTHS = {"phone": 375, "desktop": 1280}
PASSWORD = "a-long-enough-password-42"

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself
# are ordinary synchronous ones, so Django's async-safety guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"Chromium not found at {CHROMIUM}: run `make test` to install it."
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],  # fmt: skip
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    foreign: list[str] = []
    host = urlparse(live_server.url).netloc

    def record(request) -> None:
        if urlparse(request.url).netloc not in (host, "") and not request.url.startswith("data:"):
            foreign.append(request.url)

    page.on("request", record)
    yield page
    context.close()
    assert not foreign, f"pages loaded assets from elsewhere (CDN?): {foreign}"


@pytest.fixture
def catalog(db):
    crypto = CategoryFactory(slug="crypto")
    general = CategoryFactory(slug="general")
    whale = AgentFactory(
        slug="whale-tracker",
        name="Whale Tracker",
        summary="Follows large wallet movements and flags exchange inflows.",
        category=crypto,
        tags=["on-chain", "alerts"],
        price=Decimal("2.50"),
    )
    AgentFactory(slug="gas-fee-optimizer", name="Gas Fee Optimizer", category=crypto)
    AgentFactory(
        slug="web-content-summarizer",
        name="Web Content Summarizer",
        category=general,
        featured=True,
    )
    for n in range(14):
        AgentFactory(slug=f"helper-{n}", name=f"Helper Agent {n}", category=general)
    return whale


def assert_no_horizontal_overflow(page, label: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{label}: page is {overflow}px wider than the viewport"


def assert_controls_are_labelled(page, label: str) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.name || el.id)"""
    )
    assert not unlabelled, f"{label}: controls without a label: {unlabelled}"


def screenshot_all_widths(page, path: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(path)
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        assert_no_horizontal_overflow(page, f"{name} at {width}px")
        assert_controls_are_labelled(page, f"{name} at {width}px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_browse_search_filter_and_read_an_agent(page, catalog):
    page.goto("/")
    assert "AgentNexus" in page.title()
    # Keyboard: the first Tab lands on the skip link, which moves focus to the main content.
    page.keyboard.press("Tab")
    assert "skip" in page.evaluate("document.activeElement.textContent").lower()

    search = page.get_by_role("main").get_by_role("searchbox").first
    search.fill("whale")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/marketplace/\?.*q=whale"))
    cards = page.locator("[data-testid=agent-card]")
    assert cards.count() == 1
    assert "Whale Tracker" in cards.first.inner_text()

    page.goto("/marketplace/")
    page.get_by_label("Category").select_option("crypto")
    page.locator("#catalog-filters").get_by_role("button", name=re.compile("apply", re.I)).click()
    page.wait_for_url(re.compile(r"category=crypto"))
    names = page.locator("[data-testid=agent-card]").all_inner_texts()
    assert len(names) == 2 and any("Whale Tracker" in n for n in names)

    page.get_by_role("link", name="Whale Tracker").first.click()
    page.wait_for_url("**/marketplace/whale-tracker/")
    assert page.get_by_role("heading", level=1).inner_text() == "Whale Tracker"
    body = page.locator("main").inner_text()
    assert "2.50 USDC" in body
    assert "Text" in body  # the input schema rendered as readable fields

    for path, name in [
        ("/", "home"),
        ("/marketplace/", "catalog"),
        ("/marketplace/whale-tracker/", "agent"),
    ]:
        screenshot_all_widths(page, path, name)


def test_bad_filter_shows_a_field_error_not_a_crash(page, catalog):
    response = page.goto("/marketplace/?min_price=-5&q=whale")
    assert response.status < 500
    assert (
        page.locator("#catalog-filters")
        .get_by_text(re.compile("greater than or equal to 0", re.I))
        .count()
    )
    assert page.locator("[data-testid=agent-card]").count() == 1  # the valid part still applies


def test_sign_up_verify_log_in_and_review(page, catalog, mailoutbox):
    page.goto("/accounts/signup/")
    page.get_by_label(re.compile("^e-?mail", re.I)).fill("new.person@example.com")
    page.get_by_label(re.compile("^password$", re.I)).fill("short")
    page.get_by_label(re.compile("password \\(again\\)|confirm", re.I)).fill("short")
    page.locator("form").get_by_role("button", name=re.compile("sign up", re.I)).click()
    assert page.get_by_text(re.compile("at least 12 characters", re.I)).count()

    page.get_by_label(re.compile("^password$", re.I)).fill(PASSWORD)
    page.get_by_label(re.compile("password \\(again\\)|confirm", re.I)).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("sign up", re.I)).click()
    page.wait_for_load_state()
    assert len(mailoutbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body).group(0)
    page.goto(urlparse(link).path)
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    page.wait_for_load_state()

    # Log out and back in with the password, as a returning user would.
    page.goto("/accounts/logout/")
    page.locator("main form").get_by_role(
        "button", name=re.compile("log out|sign out", re.I)
    ).click()
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("^e-?mail", re.I)).fill("new.person@example.com")
    page.get_by_label(re.compile("^password$", re.I)).fill(PASSWORD)
    page.locator("main form").get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_load_state()
    screenshot_all_widths(page, "/profile/", "profile")

    page.goto("/marketplace/whale-tracker/")
    reviews = page.locator("#reviews")
    reviews.locator("label", has_text="4 stars").click()  # the visible star
    assert reviews.get_by_label("4 stars").is_checked()
    reviews.get_by_label(re.compile("your review", re.I)).fill("Caught a big inflow early. Useful.")
    reviews.get_by_role("button", name=re.compile("publish|post|submit", re.I)).click()
    page.wait_for_url(re.compile(r"/marketplace/whale-tracker/"))
    assert "Caught a big inflow early" in page.locator("#reviews").inner_text()
    review = Review.objects.get()
    assert (review.rating, review.author.email) == (4, "new.person@example.com")


# ------------------------------------------------------------------------------------------- runs


@pytest.fixture
def asgi_server(transactional_db):
    """The real ASGI app (HTTP + WebSockets) under uvicorn on a free loopback port."""
    import socket
    import threading
    import time

    import uvicorn

    from agentnexus.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def run_worker():
    from celery.contrib.testing.worker import start_worker

    from agentnexus.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(
            app, pool="threads", concurrency=4, perform_ping_check=False, queues=["celery", "runs"]
        ):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def run_page(browser, asgi_server):
    from django.test import Client

    from marketplace.tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=asgi_server)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server}]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    foreign: list[str] = []
    host = urlparse(asgi_server).netloc
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if urlparse(r.url).netloc not in (host, "") and not r.url.startswith("data:")
            else None
        ),
    )
    yield page
    context.close()
    assert not foreign, f"pages loaded assets from elsewhere (CDN?): {foreign}"


@pytest.mark.parametrize(
    ("slug", "expect"),
    [("echo", "hello"), ("page-summarizer", "title"), ("csv-analyzer", "columns")],
)
def test_run_each_example_agent_from_the_browser(
    run_page, run_worker, example_images, slug, expect
):
    from runtime.models import Run
    from runtime.tests.runs_env import example_agent

    page = run_page
    agent = example_agent(slug, image=example_images[slug])
    page.goto(f"/marketplace/{agent.slug}/")
    page.get_by_role("link", name="Run this agent").click()
    page.wait_for_url(re.compile(r"/run/$"))
    assert_controls_are_labelled(page, f"{slug} run form")
    # The form is prefilled with the agent's example input; start it as it is.
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+/$"))
    badge = page.locator("[data-run-badge]")
    badge.filter(has_text="Succeeded").wait_for(timeout=60_000)
    assert page.locator("[data-run-progress]").get_attribute("value") == "100"
    output = page.locator("[data-run-output]")
    output.wait_for(state="visible")
    assert expect in output.inner_text().lower()
    assert page.get_by_role("link", name="Download as JSON").is_visible()
    run = Run.objects.get()
    assert run.status == "succeeded"
    if slug == "echo":
        assert page.locator("[data-run-log] li").count() >= 1, "log lines arrived live"
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"run-{size}.png"), full_page=True)
            assert_no_horizontal_overflow(page, f"run page at {width}px")


def test_run_form_shows_field_errors_and_keeps_input(run_page, example_images):
    from runtime.models import Run
    from runtime.tests.runs_env import example_agent

    page = run_page
    agent = example_agent("csv-analyzer", image=example_images["csv-analyzer"])
    page.goto(f"/marketplace/{agent.slug}/run/")
    csv_field = page.get_by_label(re.compile("csv", re.I)).first
    csv_field.fill("")
    # Bypass the browser's own check to see the server's field error.
    page.evaluate("document.querySelector('form.run-form').noValidate = true")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_load_state()
    assert page.locator(".errorlist").count() >= 1
    assert not Run.objects.exists()


def test_cancel_from_the_run_page(run_page, run_worker, misbehave_image):
    from marketplace.services import agent_set_current_version
    from marketplace.tests.factories import AgentFactory, AgentVersionFactory
    from runtime.models import Run

    page = run_page
    agent = AgentFactory(slug="slow-agent", name="Slow Agent", price=None)
    version = AgentVersionFactory(
        agent=agent,
        price=0,  # free: runtime behaviour, not payments
        image_ref=misbehave_image,
        input_schema={
            "type": "object",
            "properties": {
                "mode": {"type": "string", "enum": ["sleep"], "title": "Mode"},
                "seconds": {"type": "integer", "title": "Seconds", "minimum": 1},
            },
            "required": ["mode"],
        },
        output_schema={"type": "object"},
        example_input={"mode": "sleep", "seconds": 60},
        memory_mb=64,
        timeout_seconds=120,
    )
    agent_set_current_version(agent=agent, version=version)
    page.goto("/marketplace/slow-agent/run/")
    page.get_by_role("button", name="Start run").click()
    page.locator("[data-run-badge]").filter(has_text="Running").wait_for(timeout=60_000)
    page.get_by_role("button", name="Cancel run").click()
    page.locator("[data-run-badge]").filter(has_text="Canceled").wait_for(timeout=10_000)
    assert Run.objects.get().status == "canceled"


def test_submission_page_follows_the_pipeline_live(browser, asgi_server):
    from concurrent.futures import ThreadPoolExecutor

    from django.test import Client

    from agents.models import Submission
    from agents.services import _log, submission_transition
    from marketplace.tests.factories import DeveloperProfileFactory

    developer = DeveloperProfileFactory()
    submission = Submission.objects.create(
        developer=developer,
        slug="echo",
        version="1.0.0",
        manifest={"slug": "echo", "version": "1.0.0"},
        archive=b"not used here",
        archive_sha256="0" * 64,
        archive_size=13,
    )
    _log(submission, "build", ["building echo"])
    client = Client()
    client.force_login(developer.user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=asgi_server)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"/developer/submissions/{submission.public_id}/")
    page.locator("#submission[data-connection='live']").wait_for()
    # The pipeline broadcasts after commit through async_to_sync, which cannot run on this
    # thread (Playwright's loop): write from another thread, as a worker would.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            _log, submission, "build", ["Step 1/3 : FROM agentnexus/agent-python:1"]
        ).result()
        pool.submit(submission_transition, submission_id=submission.pk, to="building").result()
    log = page.locator("[data-sub-log] li")
    log.filter(has_text="Step 1/3 : FROM agentnexus/agent-python:1").wait_for()
    assert log.count() == 2
    page.locator("[data-sub-status]").filter(has_text="Building").wait_for()
    assert page.locator("[data-sub-working]").is_visible()
    context.close()


# ---------------------------------------------------------------------------------- paid journey
# Sign in, link a wallet, buy runs in the test stablecoin, run twice (one success, one failure),
# and watch one release and one refund settle, with real anvil, PostgreSQL, Docker and Celery.
# The browser wallet is an EIP-1193 provider injected into the page and backed by anvil's dev
# account #5; the same journey through the API is payments/tests/test_journey_api.py.

from payments.tests import conftest as payments_conftest  # noqa: E402
from payments.tests import paid_env  # noqa: E402

# The paid-run fixtures of payments/tests (the session's anvil, a fresh deployment per test).
anvil_node = payments_conftest.anvil_node
paid_chain = paid_env.paid_chain
paid_market = paid_env.paid_market

# window.ethereum for every page of the context: request() forwards to Python (the exposed
# binding) and turns an {"error": ...} answer into a rejected promise, as a wallet does.
EIP1193_PROVIDER = """
(() => {
  const listeners = {};
  window.ethereum = {
    isAgentNexusTestWallet: true,
    request: async ({ method, params }) => {
      const answer = await window.__testWallet(method, params || []);
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        throw error;
      }
      return answer.result;
    },
    on: (event, fn) => { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener: (event, fn) => {
      listeners[event] = (listeners[event] || []).filter((f) => f !== fn);
    },
  };
})();
"""


class AnvilWallet:
    """The Python side of the injected provider: anvil's dev account #5 as a browser wallet."""

    def __init__(self, client, address: str, key: str) -> None:
        self.client, self.address, self.key = client, address, key
        self.requests: list[str] = []
        self.sent: list[str] = []
        self.errors: list[str] = []

    def __call__(self, method: str, params: list) -> dict:
        self.requests.append(method)
        try:
            return {"result": self.answer(method, params)}
        except Exception as exc:  # noqa: BLE001 - handed to the page as a wallet error
            self.errors.append(f"{method}: {exc!r}")
            return {"error": {"code": -32603, "message": str(exc)}}

    def answer(self, method: str, params: list):
        from eth_account import Account
        from eth_account.messages import encode_defunct

        if method in ("eth_requestAccounts", "eth_accounts"):
            return [self.address]
        if method == "eth_chainId":
            return hex(self.client.chain_id)
        if method == "wallet_switchEthereumChain":
            assert int(params[0]["chainId"], 16) == self.client.chain_id
            return None
        if method == "personal_sign":
            data, signer = params
            assert signer.lower() == self.address.lower(), signer
            signed = Account.sign_message(encode_defunct(hexstr=data), private_key=self.key)
            return "0x" + bytes(signed.signature).hex()
        if method == "eth_sendTransaction":
            tx = params[0]
            assert tx["from"].lower() == self.address.lower(), tx
            receipt = self.client.send_call(
                to=tx["to"], data=tx["data"], value=int(tx.get("value") or "0x0", 16), key=self.key
            )
            self.sent.append(receipt["transactionHash"].to_0x_hex())
            return self.sent[-1]
        if method == "eth_getTransactionReceipt":
            return self.client.rpc("eth_getTransactionReceipt", params)  # status "0x1", ...
        raise NotImplementedError(f"the test wallet does not support {method}")


@pytest.fixture
def modes_agent(paid_market, paid_chain, misbehave_image):
    """A paid agent whose run form can say what the run does: its input schema has a "mode"
    with enum ok / error (paid-misbehave's {"type": "object"} gives the form no field). Listed
    on chain by running chain_deploy again, which only registers what is missing."""
    from marketplace.services import agent_set_current_version
    from marketplace.tests.factories import AgentVersionFactory
    from payments.chain.client import ChainClient
    from payments.chain.keys import fee_recipient_address
    from payments.models import ChainAgent
    from payments.services import chain_deploy

    agent = AgentFactory(
        slug="paid-modes",
        name="Paid Modes",
        developer=paid_market["paid-misbehave"].developer,
        price=None,
    )
    version = AgentVersionFactory(
        agent=agent,
        image_ref=misbehave_image,
        input_schema={
            "type": "object",
            "properties": {"mode": {"type": "string", "enum": ["ok", "error"], "title": "Mode"}},
            "required": ["mode"],
        },
        output_schema={"type": "object"},
        example_input={"mode": "ok"},
        price=paid_env.PRICE,
        memory_mb=64,
        timeout_seconds=20,
    )
    agent_set_current_version(agent=agent, version=version)
    result = chain_deploy(
        client=paid_chain,
        deployer_key=paid_env.KEYS[0],
        orchestrator=ChainClient.account(paid_env.KEYS[8]).address,
        fee_recipient=fee_recipient_address(),
        fee_bps=3000,
        payment_ttl=30 * 24 * 3600,
    )
    assert not result.deployed and result.registered == ["paid-modes"], result
    assert ChainAgent.objects.filter(agent=agent, deployment=paid_market["deployment"]).exists()
    return agent


@pytest.fixture
def wallet_page(browser, asgi_server, paid_chain):
    """A signed-in page (session cookie, as run_page) whose window.ethereum is an AnvilWallet."""
    from django.test import Client

    from marketplace.tests.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    wallet = AnvilWallet(paid_chain, paid_env.BUYER, paid_env.BUYER_KEY)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=asgi_server, locale="en-US"
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server}]
    )
    context.expose_function("__testWallet", wallet)
    context.add_init_script(EIP1193_PROVIDER)
    page = context.new_page()
    page.set_default_timeout(20_000)
    foreign: list[str] = []
    host = urlparse(asgi_server).netloc
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if urlparse(r.url).netloc not in (host, "") and not r.url.startswith("data:")
            else None
        ),
    )
    page.user, page.wallet = user, wallet
    yield page
    context.close()
    assert not foreign, f"pages loaded assets from elsewhere (CDN?): {foreign}"
    assert not wallet.errors, f"the page's wallet requests failed: {wallet.errors}"


def _settled(page, run, kind: str) -> str:
    """Wait until the run's settlement is confirmed, then read the run page's "Payment" line."""
    import time

    from payments.models import Settlement, SettlementStatus

    deadline = time.monotonic() + 60
    while True:
        settlement = Settlement.objects.filter(run=run).first()
        if settlement and settlement.status == SettlementStatus.CONFIRMED:
            break
        assert time.monotonic() < deadline, (
            f"{kind} not confirmed: {settlement and settlement.status}"
        )
        page.wait_for_timeout(250)
    assert settlement.kind == kind and settlement.tx_hash
    page.reload()
    payment = page.locator("xpath=//dt[normalize-space()='Payment']/following-sibling::dd[1]")
    return payment.inner_text()


def test_paid_journey_link_buy_run_twice_and_settle(
    wallet_page, run_worker, paid_market, modes_agent, settings
):
    from payments.models import Purchase, PurchaseStatus, Settlement, Wallet
    from payments.tests.paid_env import BUYER, UNITS, balances
    from runtime.models import Run, RunStatus

    settings.DEV_FAUCET_ENABLED = True  # the local demo's faucet pays for the test stablecoin
    page, wallet = wallet_page, wallet_page.wallet

    # 1. Link the wallet: the page asks window.ethereum for the account and a SIWE signature.
    page.goto("/wallet/")
    assert "No wallet is linked yet" in page.locator("main").inner_text()
    page.get_by_role("button", name="Link a wallet").click()
    page.locator(".wallet-card__address", has_text=BUYER).wait_for()
    assert "personal_sign" in wallet.requests and not wallet.sent, "linking sends no transaction"
    linked = Wallet.objects.get(user=page.user)
    assert (linked.address, linked.is_primary) == (BUYER, True)

    # 2. Test funds from the development faucet (1 ETH and 1,000 test USDC).
    page.get_by_role("button", name=re.compile("^Get test funds")).click()
    page.get_by_text(re.compile("Sent 1 test ETH")).wait_for()
    balances_box = page.get_by_label(f"Balances of {BUYER}")
    assert "1,000.00" in balances_box.inner_text()
    screenshot_all_widths(page, "/wallet/", "paid-wallet")
    start = balances(paid_market)

    # 3. Choose and review: 3 runs in USDC from the linked wallet, terms accepted.
    screenshot_all_widths(page, "/marketplace/paid-modes/buy/", "paid-buy")
    page.get_by_label("Number of runs").fill("3")
    assert page.locator("[data-buy-total]").inner_text() == "0.75 USDC"
    page.get_by_label("Pay with").select_option("USDC")
    page.get_by_label("From wallet").select_option(BUYER)
    page.get_by_label(re.compile("held in escrow")).check()
    page.get_by_role("button", name="Review and pay").click()
    page.wait_for_url(re.compile(r"/purchases/[0-9a-f-]+/$"))
    purchase = Purchase.objects.get(user=page.user)
    assert (purchase.status, purchase.total, purchase.buyer_address) == (
        PurchaseStatus.VALIDATING,
        3 * UNITS,
        BUYER,
    )
    screenshot_all_widths(page, f"/purchases/{purchase.public_id}/", "paid-purchase")

    # 4. Pay now: approve + purchase from the wallet; the worker's check completes it from the
    # chain and the page moves on to the run page.
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(re.compile(r"/marketplace/paid-modes/run/$"), timeout=60_000)
    assert len(wallet.sent) == 2, "one approval, one purchase"
    purchase.refresh_from_db()
    assert purchase.status == PurchaseStatus.COMPLETED and purchase.tx_hash == wallet.sent[1]
    paid = balances(paid_market)
    assert (paid["buyer"], paid["escrow"]) == (
        start["buyer"] - 3 * UNITS,
        start["escrow"] + 3 * UNITS,
    )
    assert "You have 3 purchased runs left" in page.locator("main").inner_text()

    # 5. Two runs from the form: one succeeds (released), one fails (refunded).
    outcomes = {}
    for mode, badge, kind, words in (
        ("ok", "Succeeded", "release", "Release to the developer: confirmed"),
        ("error", "Failed", "refund", "Refund to the buyer: confirmed"),
    ):
        page.goto("/marketplace/paid-modes/run/")
        page.get_by_label("Mode", exact=True).select_option(label=mode)
        page.get_by_role("button", name="Start run").click()
        page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+/$"))
        page.locator("[data-run-badge]").filter(has_text=badge).wait_for(timeout=60_000)
        run = Run.objects.get(public_id=page.url.rstrip("/").rsplit("/", 1)[1])
        payment = _settled(page, run, kind)
        assert words in payment, payment
        assert run.settlement.tx_hash[:10] in payment
        screenshot_all_widths(page, f"/runs/{run.public_id}/", f"paid-run-{kind}")
        outcomes[kind] = run
    assert outcomes["release"].status == RunStatus.SUCCEEDED
    assert outcomes["refund"].status == RunStatus.FAILED

    # 6. Exactly once each, and the exact amounts: the buyer paid 3 runs and got 1 back, the
    # developer earned 70% of one run, the fee recipient 30%, the third run waits in escrow.
    end = balances(paid_market)
    assert end["buyer"] - start["buyer"] == -3 * UNITS + UNITS
    assert end["developer"] - start["developer"] == UNITS * 7 // 10
    assert end["fee"] - start["fee"] == UNITS * 3 // 10
    assert end["escrow"] - start["escrow"] == UNITS
    assert Settlement.objects.count() == 2
    assert paid_market["mp"].units(BUYER, modes_agent.pk) == 1
    purchase.refresh_from_db()
    assert (purchase.runs_reserved, purchase.runs_released, purchase.runs_refunded) == (2, 1, 1)

    # The receipt and the wallet page tell the same story.
    page.goto(f"/purchases/{purchase.public_id}/")
    receipt = page.locator("main").inner_text()
    assert "3 (1 left to start)" in receipt
    assert "Release to the developer — Confirmed" in receipt
    assert "Refund to the buyer — Confirmed" in receipt
    page.goto("/wallet/")
    activity = page.locator("#activity-heading").locator("..").inner_text()
    assert "3 (1 left)" in activity
    assert "Release to the developer: Confirmed" in activity
    assert "Refund to the buyer: Confirmed" in activity


# ------------------------------------------------------------------------------------- compliance


def test_a_blocked_country_sees_the_restricted_page(page, settings, catalog):
    from compliance import geo, geoip
    from compliance.models import CountryRule

    # Transactional tests flush the migration's default rules: state the one this test needs.
    CountryRule.objects.update_or_create(country="CU", defaults={"blocked": True})
    settings.GEOIP_LOCAL_COUNTRY = "CU"  # this browser (loopback) now comes from Cuba
    geo.reset_rules()
    geoip.reset()
    try:
        page.goto("/marketplace/")
        page.wait_for_url(re.compile(r"/restricted"))
        text = page.locator("main").inner_text()
        assert "Cuba" in text or "CU" in text
        screenshot_all_widths(page, "/restricted", "restricted")
    finally:
        settings.GEOIP_LOCAL_COUNTRY = None
        geo.reset_rules()
        geoip.reset()


def test_kyc_page_submits_a_document_and_shows_pending(page, live_server, settings):
    import base64

    from django.test import Client

    from compliance.kyc.models import KycSubmission
    from marketplace.tests.factories import UserFactory

    settings.KYC_ENCRYPTION_KEYS = "k1:" + base64.b64encode(b"k" * 32).decode()
    settings.KYC_ACTIVE_KEY_ID = "k1"
    user = UserFactory()
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    screenshot_all_widths(page, "/kyc/", "kyc")
    page.goto("/kyc/")
    page.get_by_label("Full legal name").fill("Ada Lovelace")
    page.get_by_label("Date of birth").fill("1990-12-10")
    page.get_by_label("Nationality").fill("GB")
    page.get_by_label("Address").fill("12 St James's Square, London")
    page.get_by_label("Document number").fill("P1234567")
    page.get_by_label("Document expiry date").fill("2031-01-01")
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    page.get_by_label("Document scan or photo").set_input_files(
        {"name": "passport.png", "mimeType": "image/png", "buffer": png}
    )
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-kyc-status='pending']").count() == 1
    assert KycSubmission.objects.get(user=user).status == "pending"


def test_compliance_blocks_at_purchase_and_run_start_in_the_browser(
    browser, live_server, settings, paid_market
):
    """A category blocked in the visitor's country: the buy page and the run form refuse with the
    reason on the form; no payment is asked for and no run starts."""
    from django.test import Client

    from compliance import geo, geoip
    from compliance.models import CountryRule
    from marketplace.tests.factories import UserFactory
    from payments.models import Purchase, Wallet
    from runtime.models import Run

    user = UserFactory()
    Wallet.objects.create(user=user, address=paid_env.BUYER, is_primary=True)
    paid_env.buy(paid_market, user, paid_market["paid-echo"], 1)
    rule, _ = CountryRule.objects.update_or_create(
        country="DE", defaults={"blocked": False, "reason": "Not offered in Germany."}
    )
    rule.blocked_categories.add(paid_market["paid-echo"].category)
    settings.GEOIP_LOCAL_COUNTRY = "DE"  # this browser (loopback) comes from Germany
    geo.reset_rules()
    geoip.reset()
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/marketplace/paid-echo/buy/")
        page.get_by_label(re.compile("I agree")).check()
        page.get_by_role("button", name="Review and pay").click()
        page.wait_for_load_state()
        text = page.locator("main").inner_text()
        assert "not available in DE" in text, text
        # The attempt is recorded as failed validation; no payment was asked for.
        assert Purchase.objects.exclude(status="failed").count() == 1
        assert Purchase.objects.filter(status="failed").count() == 1

        page.goto("/marketplace/paid-echo/run/")
        page.get_by_role("button", name="Start run").click()
        page.wait_for_load_state()
        assert "not available in DE" in page.locator("main").inner_text()
        assert not Run.objects.exists()
    finally:
        context.close()
        settings.GEOIP_LOCAL_COUNTRY = None
        geo.reset_rules()
        geoip.reset()


# ------------------------------------------------------------------------ publish, buy and run
# A developer uploads a build context in the browser, follows the pipeline live to review, staff
# approve it in the admin, the approval lists it on chain, and a buyer buys and runs it.


def _signed_in_page(browser, base_url: str, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def test_developer_publishes_staff_approve_and_a_buyer_buys_and_runs(
    browser, asgi_server, wallet_page, run_worker, paid_market, settings, tmp_path
):
    import time

    from agents.models import Submission, SubmissionStatus
    from agents.tests.test_pipeline import echo_files, targz
    from marketplace.models import Agent, Category
    from marketplace.tests.factories import UserFactory
    from payments.models import ChainAgent
    from payments.tests.paid_env import BUYER, UNITS, balances
    from runtime.backends.base import get_backend
    from runtime.models import Run, RunStatus

    settings.DEV_FAUCET_ENABLED = True
    Category.objects.get_or_create(slug="general", defaults={"name": "General"})
    developer = paid_market["paid-echo"].developer  # its payout address is anvil account #3
    archive = tmp_path / "browser-echo.tar.gz"
    archive.write_bytes(
        targz(
            echo_files(
                slug="browser-echo",
                name="Browser Echo",
                price={"amount": "0.25", "currency": "USDC"},
            )
        ).getvalue()
    )

    # 1. The developer uploads and follows the pipeline to review, live.
    dev_context, dev = _signed_in_page(browser, asgi_server, developer.user)
    dev.goto("/developer/submit/")
    dev.get_by_label("Build context (.tar.gz)").set_input_files(str(archive))
    dev.get_by_role("button", name="Submit").click()
    dev.wait_for_url(re.compile(r"/developer/submissions/[0-9a-f-]+/$"))
    dev.locator("[data-sub-status]").filter(has_text="Pending review").wait_for(timeout=240_000)
    submission = Submission.objects.get(slug="browser-echo")
    assert submission.status == SubmissionStatus.PENDING_REVIEW
    log = dev.locator("[data-sub-log]").inner_text()
    assert "example 0: passed" in log and "example 1: passed" in log, log
    assert not Agent.objects.filter(slug="browser-echo").exists(), "not listed before approval"
    screenshot_all_widths(dev, f"/developer/submissions/{submission.public_id}/", "submission")

    try:
        # 2. Staff review it in the admin and approve: listed, and registered on chain.
        staff = UserFactory(is_staff=True, is_superuser=True)
        admin_context, admin = _signed_in_page(browser, asgi_server, staff)
        admin.goto(f"/admin/agents/submission/{submission.pk}/change/")
        assert "example 0" in admin.locator("#content").inner_text()
        admin.get_by_role("link", name="Approve…").click()
        admin.get_by_role("button", name="Approve and list").click()
        admin.get_by_text(re.compile("Approved: browser-echo 1.0.0")).wait_for()
        admin_context.close()
        agent = Agent.objects.get(slug="browser-echo")
        assert agent.is_listed and agent.current_version.image_ref == submission.image_ref
        deadline = time.monotonic() + 60
        while not ChainAgent.objects.filter(agent=agent).exists():
            assert time.monotonic() < deadline, "the approval did not list the agent on chain"
            time.sleep(0.25)
        assert (
            paid_market["mp"].price(agent.pk, paid_market["deployment"].stablecoin_address) == UNITS
        )

        dev.goto("/developer/")
        assert "Browser Echo" in dev.locator("main").inner_text()
        dev_context.close()

        # 3. A buyer finds it, links a wallet, buys one run and runs it; the run is released.
        page = wallet_page
        page.goto("/marketplace/?q=browser")
        page.get_by_role("link", name="Browser Echo").first.click()
        page.wait_for_url(re.compile(r"/marketplace/browser-echo/$"))
        page.goto("/wallet/")
        page.get_by_role("button", name="Link a wallet").click()
        page.locator(".wallet-card__address", has_text=BUYER).wait_for()
        page.get_by_role("button", name=re.compile("^Get test funds")).click()
        page.get_by_text(re.compile("Sent 1 test ETH")).wait_for()
        start = balances(paid_market)
        page.goto("/marketplace/browser-echo/buy/")
        page.get_by_label("Number of runs").fill("1")
        page.get_by_label("Pay with").select_option("USDC")
        page.get_by_label("From wallet").select_option(BUYER)
        page.get_by_label(re.compile("held in escrow")).check()
        page.get_by_role("button", name="Review and pay").click()
        page.wait_for_url(re.compile(r"/purchases/[0-9a-f-]+/$"))
        page.get_by_role("button", name="Pay now").click()
        page.wait_for_url(re.compile(r"/marketplace/browser-echo/run/$"), timeout=60_000)
        page.get_by_label("Name", exact=True).fill("Lovelace")
        page.get_by_role("button", name="Start run").click()
        page.wait_for_url(re.compile(r"/runs/[0-9a-f-]+/$"))
        page.locator("[data-run-badge]").filter(has_text="Succeeded").wait_for(timeout=60_000)
        run = Run.objects.get(public_id=page.url.rstrip("/").rsplit("/", 1)[1])
        assert run.status == RunStatus.SUCCEEDED and run.version == agent.current_version
        assert len(page.wallet.sent) == 2, "one approval, one purchase"
        assert run.output["greeting"] == "hello Lovelace"
        assert "Release to the developer: confirmed" in _settled(page, run, "release")
        end = balances(paid_market)
        assert end["buyer"] - start["buyer"] == -UNITS
        assert end["developer"] - start["developer"] == UNITS * 7 // 10
    finally:
        get_backend().remove_image(submission.image_ref)
