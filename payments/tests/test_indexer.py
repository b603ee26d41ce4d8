"""The chain indexer on a real anvil and real PostgreSQL: purchases made on the contract or through
the site, releases and refunds, exactly-once ingestion (also under two concurrent indexers), the
lag behind the head, and a reorg (anvil snapshot/revert) rewound and read again."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from marketplace.tests.factories import AgentFactory, DeveloperProfileFactory, UserFactory
from payments.chain.anvil import dev_private_keys
from payments.chain.client import ChainClient
from payments.chain.events import EscrowReader
from payments.chain.marketplace import Marketplace, run_ref
from payments.indexer import chain_index
from payments.models import (
    ChainBlock,
    ChainCursor,
    ChainDeployment,
    ChainLog,
    PaymentAlert,
    Purchase,
    PurchaseEvent,
    PurchaseStatus,
    Settlement,
    SettlementStatus,
    Wallet,
)
from payments.services import chain_deploy
from payments.tasks import index_chain
from payments.tests.chain_env import start_anvil
from runtime.models import Run

pytestmark = pytest.mark.django_db

KEYS = dev_private_keys(10)
DEVELOPER = ChainClient.account(KEYS[3]).address
BUYER_KEY, BUYER2_KEY = KEYS[5], KEYS[6]
BUYER = ChainClient.account(BUYER_KEY).address
BUYER2 = ChainClient.account(BUYER2_KEY).address
ORCHESTRATOR_KEY = KEYS[8]
FEE_RECIPIENT = ChainClient.account(KEYS[9]).address
TTL = 30 * 24 * 3600
UNITS = 250_000  # 0.25 USDC per run


@pytest.fixture(scope="module")
def node():
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture
def chain(node, settings):
    settings.CHAIN_RPC_URL = node.rpc_url
    settings.CHAIN_ID = node.chain_id
    settings.CHAIN_INDEXER_LAG = 0
    client = ChainClient(node.rpc_url, expected_chain_id=node.chain_id)
    snapshot = client.snapshot()
    yield client
    client.revert_to(snapshot)


@dataclass
class Env:
    client: ChainClient
    deployment: ChainDeployment
    mp: Marketplace
    agent: object

    @property
    def token(self) -> str:
        return self.deployment.stablecoin_address

    def buy(self, runs: int, key: str = BUYER_KEY):
        return self.mp.purchase(self.agent.pk, self.token, runs, key=key)

    def index(self, **kwargs):
        return chain_index(deployment_id=self.deployment.pk, client=self.client, **kwargs)

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.client.rpc("evm_mine")


@pytest.fixture
def env(chain) -> Env:
    agent = AgentFactory(
        developer=DeveloperProfileFactory(payout_address=DEVELOPER), price=Decimal("0.25")
    )
    record = chain_deploy(
        client=chain,
        deployer_key=KEYS[0],
        orchestrator=ChainClient.account(ORCHESTRATOR_KEY).address,
        fee_recipient=FEE_RECIPIENT,
        fee_bps=3000,
        payment_ttl=TTL,
    ).deployment
    mp = Marketplace(
        chain,
        entitlements=record.entitlements_address,
        escrow=record.escrow_address,
        stablecoin=record.stablecoin_address,
    )
    for key in (BUYER_KEY, BUYER2_KEY):
        address = ChainClient.account(key).address
        chain.transact(mp.stablecoin.functions.mint(address, 10**12), key=key)
        mp.approve(record.stablecoin_address, 2**256 - 1, key=key)
    return Env(chain, record, mp, agent)


def settlement_for(purchase: Purchase, *, kind: str, status: str, tx_hash: str = "") -> Settlement:
    """A run that spent one purchased run, and its settlement row."""
    run = Run.objects.create(
        user=purchase.user or UserFactory(),
        agent=purchase.agent,
        version=purchase.agent.current_version,
        input={},
    )
    Purchase.objects.filter(pk=purchase.pk).update(runs_reserved=purchase.runs_reserved + 1)
    return Settlement.objects.create(
        run=run,
        purchase=purchase,
        run_ref="0x" + run_ref(run.pk).hex(),
        kind=kind,
        status=status,
        tx_hash=tx_hash,
    )


def ref_of(settlement: Settlement) -> bytes:
    return bytes.fromhex(settlement.run_ref[2:])


# ---------------------------------------------------------------------------------------------


def test_a_purchase_made_on_the_contract_is_picked_up_once(env):
    user = UserFactory()
    Wallet.objects.create(user=user, address=BUYER, is_primary=True)
    bought = env.buy(3)
    anonymous = env.buy(1, key=BUYER2_KEY)  # a wallet no account has linked

    report = env.index()

    purchase = Purchase.objects.get(payment_id=bought.payment_id)
    assert purchase.status == PurchaseStatus.COMPLETED
    assert (purchase.user, purchase.agent, purchase.deployment) == (
        user,
        env.agent,
        env.deployment,
    )
    assert purchase.buyer_address == BUYER and purchase.token_address == env.token
    assert purchase.currency == "USDC"
    assert (purchase.runs, purchase.unit_price, purchase.total) == (3, UNITS, 3 * UNITS)
    assert purchase.tx_hash == bought.receipt["transactionHash"].to_0x_hex()
    assert purchase.block_number == bought.receipt["blockNumber"]
    assert purchase.expires_at == dt.datetime.fromtimestamp(bought.expires_at, tz=dt.UTC)
    assert purchase.confirmations == env.client.w3.eth.block_number - purchase.block_number + 1
    assert list(purchase.events.values_list("from_status", "to_status")) == [
        ("", "processing"),
        ("processing", "completed"),
    ]
    other = Purchase.objects.get(payment_id=anonymous.payment_id)
    assert other.user is None and other.buyer_address == BUYER2
    assert other.status == PurchaseStatus.COMPLETED
    assert sorted(report.purchases_completed) == sorted([purchase.pk, other.pk])
    assert report.cursor == env.client.w3.eth.block_number
    logs = ChainLog.objects.count()
    assert report.logs_ingested == logs
    assert ChainLog.objects.filter(event="PaymentCreated").count() == 2

    # Running again adds nothing.
    again = env.index()
    assert (again.logs_ingested, again.purchases_completed) == (0, [])
    assert ChainLog.objects.count() == logs and Purchase.objects.count() == 2

    # Reading the same blocks again (a cursor moved back by hand) skips every log it has.
    start = env.deployment.block_number - 1
    ChainCursor.objects.filter(deployment=env.deployment).update(
        block_number=start,
        block_hash=EscrowReader(env.client, env.deployment.escrow_address).header(start).hash,
    )
    replay = env.index()
    assert (replay.logs_ingested, replay.logs_skipped) == (0, logs)
    assert ChainLog.objects.count() == logs and Purchase.objects.count() == 2
    assert PurchaseEvent.objects.filter(purchase=purchase).count() == 2
    assert not PaymentAlert.objects.exists()


def test_a_site_purchase_completes_and_follows_its_confirmations(env):
    user = UserFactory()
    bought = env.buy(2)
    tx_hash = bought.receipt["transactionHash"].to_0x_hex()
    # What the site recorded when the page reported the transaction.
    purchase = Purchase.objects.create(
        public_id=uuid.uuid4(),
        user=user,
        agent=env.agent,
        deployment=env.deployment,
        buyer_address=BUYER,
        token_address=env.token,
        currency="USDC",
        runs=2,
        unit_price=UNITS,
        total=2 * UNITS,
        status=PurchaseStatus.PROCESSING,
        tx_hash=tx_hash,
    )

    report = env.index()

    purchase.refresh_from_db()
    assert report.purchases_completed == [purchase.pk]
    assert Purchase.objects.count() == 1
    assert purchase.status == PurchaseStatus.COMPLETED and purchase.user == user
    assert purchase.payment_id == bought.payment_id
    assert purchase.block_number == bought.receipt["blockNumber"]
    assert purchase.confirmations == 1
    event = purchase.events.get()
    assert (event.from_status, event.to_status) == ("processing", "completed")
    assert event.payload["payment_id"] == bought.payment_id

    env.mine(3)
    env.index()
    purchase.refresh_from_db()
    assert purchase.confirmations == 4


def test_the_indexer_stays_behind_the_head(env, settings):
    settings.CHAIN_INDEXER_LAG = 2
    bought = env.buy(1)
    report = env.index()
    assert report.cursor == bought.receipt["blockNumber"] - 2
    assert not Purchase.objects.exists()
    env.mine(2)
    env.index()
    assert Purchase.objects.get().payment_id == bought.payment_id


def test_a_release_and_a_refund_confirm_their_settlements(env):
    bought = env.buy(3)
    env.index()
    purchase = Purchase.objects.get()
    release = settlement_for(purchase, kind="release", status=SettlementStatus.SUBMITTED)
    refund = settlement_for(purchase, kind="refund", status=SettlementStatus.PENDING)
    released = env.mp.release(bought.payment_id, ref_of(release), key=ORCHESTRATOR_KEY)
    Settlement.objects.filter(pk=release.pk).update(tx_hash=released["transactionHash"].to_0x_hex())
    refunded = env.mp.refund(bought.payment_id, ref_of(refund), key=ORCHESTRATOR_KEY)

    report = env.index()

    assert sorted(report.settlements_confirmed) == sorted([release.pk, refund.pk])
    release.refresh_from_db()
    assert release.status == SettlementStatus.CONFIRMED and release.kind == "release"
    assert release.tx_hash == released["transactionHash"].to_0x_hex()
    assert release.block_number == released["blockNumber"]
    assert (release.amount, release.developer_amount, release.fee_amount) == (
        UNITS,
        UNITS * 7 // 10,
        UNITS * 3 // 10,
    )
    refund.refresh_from_db()
    assert refund.status == SettlementStatus.CONFIRMED and refund.kind == "refund"
    assert refund.tx_hash == refunded["transactionHash"].to_0x_hex()
    assert (refund.amount, refund.developer_amount, refund.fee_amount) == (UNITS, 0, 0)
    purchase.refresh_from_db()
    assert (purchase.runs_released, purchase.runs_refunded, purchase.runs_reclaimed) == (1, 1, 0)
    assert not PaymentAlert.objects.exists()

    # A run the platform never sent: counted (the chain is the truth) and flagged.
    stray = run_ref(10**9)
    env.mp.release(bought.payment_id, stray, key=ORCHESTRATOR_KEY)
    env.index()
    purchase.refresh_from_db()
    assert purchase.runs_released == 2
    alert = PaymentAlert.objects.get()
    assert alert.kind == PaymentAlert.Kind.RECONCILIATION
    assert alert.details["run_ref"] == "0x" + stray.hex()
    assert "not sent by the platform" in alert.message


def test_a_reclaim_counts_the_runs_and_flags_unsettled_settlements(env):
    bought = env.buy(3)
    env.index()
    purchase = Purchase.objects.get()
    stranded = settlement_for(purchase, kind="", status=SettlementStatus.RESERVED)
    env.client.increase_time(TTL + 60)
    env.mp.reclaim(bought.payment_id, key=BUYER2_KEY)  # anyone may, after expiry

    env.index()

    purchase.refresh_from_db()
    assert (purchase.runs_reclaimed, purchase.runs_released, purchase.runs_refunded) == (3, 0, 0)
    alert = PaymentAlert.objects.get(key=f"purchase:{purchase.pk}:reclaimed-with-unsettled")
    assert alert.details["settlements"] == [stranded.pk]


def test_a_reorg_is_detected_rewound_and_read_again(env):
    first = env.buy(2)
    env.index()
    a = Purchase.objects.get(payment_id=first.payment_id)
    settlement = settlement_for(a, kind="release", status=SettlementStatus.SUBMITTED)
    fork_block = env.client.w3.eth.block_number
    snapshot = env.client.snapshot()

    # The branch the chain later abandons: a second purchase and a release of A's run.
    lost = env.buy(1)
    env.mp.release(first.payment_id, ref_of(settlement), key=ORCHESTRATOR_KEY)
    env.index()
    b = Purchase.objects.get(payment_id=lost.payment_id)
    settlement.refresh_from_db()
    assert b.status == PurchaseStatus.COMPLETED
    assert settlement.status == SettlementStatus.CONFIRMED
    assert Purchase.objects.get(pk=a.pk).runs_released == 1

    # The reorg: back to the fork, and different blocks on top (another buyer's purchase).
    env.client.revert_to(snapshot)
    kept = env.buy(3, key=BUYER2_KEY)
    env.mine(4)

    report = env.index()

    assert [r["fork_block"] for r in report.rewinds] == [fork_block]
    alert = PaymentAlert.objects.get(kind=PaymentAlert.Kind.REORG)
    assert alert.details["fork_block"] == fork_block
    assert alert.details["logs_removed"] == 2
    assert alert.details["purchases_reopened"] == [b.pk]
    assert alert.details["settlements_reopened"] == [settlement.pk]
    # The abandoned branch is undone ...
    b.refresh_from_db()
    assert b.status == PurchaseStatus.PROCESSING
    assert (b.payment_id, b.block_number, b.confirmations) == (None, None, 0)
    assert b.events.last().payload["source"] == "reorg"
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.SUBMITTED and settlement.block_number is None
    assert Purchase.objects.get(pk=a.pk).runs_released == 0
    lost_tx = lost.receipt["transactionHash"].to_0x_hex()
    assert not ChainLog.objects.filter(tx_hash=lost_tx).exists()
    # ... and the new one read: payment 2 is now the other buyer's.
    c = Purchase.objects.get(payment_id=kept.payment_id)
    assert kept.payment_id == lost.payment_id
    assert c.buyer_address == BUYER2 and c.status == PurchaseStatus.COMPLETED
    assert report.purchases_completed == [c.pk]
    # What is stored matches the chain now.
    reader = EscrowReader(env.client, env.deployment.escrow_address)
    stored = dict(
        ChainBlock.objects.filter(deployment=env.deployment, number__gt=fork_block).values_list(
            "number", "hash"
        )
    )
    assert stored and stored == {n: h.hash for n, h in reader.headers(stored).items()}
    chain_logs = reader.logs(env.deployment.block_number, env.client.w3.eth.block_number)
    assert sorted(ChainLog.objects.values_list("tx_hash", "log_index")) == sorted(
        (log.tx_hash, log.log_index) for log in chain_logs
    )


def test_the_beat_task_indexes_the_active_deployment_one_at_a_time(env):
    bought = env.buy(1)
    lock = f"payments:lock:index:{env.deployment.pk}"
    cache.add(lock, "another-worker", timeout=60)
    index_chain.delay()  # another worker is indexing: this one does nothing
    assert not ChainLog.objects.exists()
    cache.delete(lock)
    index_chain.delay()
    assert Purchase.objects.get().payment_id == bought.payment_id
    assert cache.get(lock) is None  # released


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_indexers_ingest_each_log_once(env, node, settings):
    settings.CHAIN_INDEXER_CHUNK = 2  # many small chunks: the two collide on the cursor
    keys = [BUYER_KEY, BUYER2_KEY, BUYER_KEY, BUYER2_KEY]
    bought = [env.buy(1, key=key) for key in keys]
    release = None
    for purchase, key in list(zip(bought, keys, strict=True))[:2]:  # two made through the site
        Purchase.objects.create(
            public_id=uuid.uuid4(),
            agent=env.agent,
            deployment=env.deployment,
            buyer_address=ChainClient.account(key).address,
            token_address=env.token,
            currency="USDC",
            runs=1,
            unit_price=UNITS,
            total=UNITS,
            status=PurchaseStatus.PROCESSING,
            tx_hash=purchase.receipt["transactionHash"].to_0x_hex(),
        )
    site = Purchase.objects.get(tx_hash=bought[0].receipt["transactionHash"].to_0x_hex())
    release = settlement_for(site, kind="release", status=SettlementStatus.SUBMITTED)
    env.mp.release(bought[0].payment_id, ref_of(release), key=ORCHESTRATOR_KEY)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def index() -> None:
        try:
            client = ChainClient(node.rpc_url)
            barrier.wait()
            reports.append(chain_index(deployment_id=env.deployment.pk, client=client))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=index) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    reader = EscrowReader(env.client, env.deployment.escrow_address)
    on_chain = reader.logs(env.deployment.block_number, env.client.w3.eth.block_number)
    assert ChainLog.objects.count() == len(on_chain) == sum(r.logs_ingested for r in reports)
    assert Purchase.objects.count() == 4
    for purchase in Purchase.objects.all():
        assert purchase.status == PurchaseStatus.COMPLETED
        assert purchase.events.filter(to_status=PurchaseStatus.COMPLETED).count() == 1
    completed = [pk for r in reports for pk in r.purchases_completed]
    assert len(completed) == len(set(completed)) == 4
    site.refresh_from_db()
    assert site.runs_released == 1
    confirmed = [pk for r in reports for pk in r.settlements_confirmed]
    assert confirmed == [release.pk]
    assert ChainCursor.objects.get().block_number == env.client.w3.eth.block_number
