"""Reconciliation on a real anvil and real PostgreSQL: a settlement whose outcome the worker never
recorded is completed from the chain without a second payment; a lost transaction is sent again,
once; differences the chain does not explain are flagged, never repaired with money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.tests.factories import AgentFactory, DeveloperProfileFactory, UserFactory
from payments.chain import sender
from payments.chain.anvil import dev_private_keys
from payments.chain.client import ChainClient
from payments.chain.marketplace import Marketplace, run_ref
from payments.indexer import chain_index
from payments.models import (
    ChainDeployment,
    PaymentAlert,
    Purchase,
    PurchaseStatus,
    Settlement,
    SettlementStatus,
)
from payments.reconcile import payments_reconcile
from payments.services import chain_deploy, settlement_transition
from payments.settlement import settlements_send
from payments.tasks import reconcile
from payments.tests.chain_env import start_anvil
from runtime.models import Run

pytestmark = pytest.mark.django_db

KEYS = dev_private_keys(10)
DEVELOPER = ChainClient.account(KEYS[3]).address
BUYER_KEY = KEYS[5]
BUYER = ChainClient.account(BUYER_KEY).address
ORCHESTRATOR_KEY = KEYS[8]  # the platform's orchestrator on a dev chain (payments.chain.keys)
FEE_RECIPIENT = ChainClient.account(KEYS[9]).address
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
    sender._nonces.clear()  # the reverted chain forgot the nonces the test used


@dataclass
class Env:
    client: ChainClient
    deployment: ChainDeployment
    mp: Marketplace
    purchase: Purchase

    @property
    def token(self) -> str:
        return self.deployment.stablecoin_address

    def balance(self, holder: str) -> int:
        return self.mp.token_balance(self.token, holder)

    def reconcile(self):
        return payments_reconcile(deployment_id=self.deployment.pk, client=self.client)


@pytest.fixture
def env(chain) -> Env:
    """A deployment with one completed purchase of 3 runs (bought on chain, indexed)."""
    agent = AgentFactory(
        developer=DeveloperProfileFactory(payout_address=DEVELOPER), price=Decimal("0.25")
    )
    record = chain_deploy(
        client=chain,
        deployer_key=KEYS[0],
        orchestrator=ChainClient.account(ORCHESTRATOR_KEY).address,
        fee_recipient=FEE_RECIPIENT,
        fee_bps=3000,
        payment_ttl=30 * 24 * 3600,
    ).deployment
    mp = Marketplace(
        chain,
        entitlements=record.entitlements_address,
        escrow=record.escrow_address,
        stablecoin=record.stablecoin_address,
    )
    chain.transact(mp.stablecoin.functions.mint(BUYER, 10**12), key=BUYER_KEY)
    mp.approve(record.stablecoin_address, 2**256 - 1, key=BUYER_KEY)
    bought = mp.purchase(agent.pk, record.stablecoin_address, 3, key=BUYER_KEY)
    chain_index(deployment_id=record.pk, client=chain)
    purchase = Purchase.objects.get(payment_id=bought.payment_id)
    assert purchase.status == PurchaseStatus.COMPLETED
    Purchase.objects.filter(pk=purchase.pk).update(user=UserFactory())
    purchase.refresh_from_db()
    return Env(chain, record, mp, purchase)


def settlement_for(purchase: Purchase, *, kind: str, status: str) -> Settlement:
    run = Run.objects.create(
        user=purchase.user, agent=purchase.agent, version=purchase.agent.current_version, input={}
    )
    Purchase.objects.filter(pk=purchase.pk).update(runs_reserved=purchase.runs_reserved + 1)
    return Settlement.objects.create(
        run=run,
        purchase=purchase,
        run_ref="0x" + run_ref(run.pk).hex(),
        kind=kind,
        status=status,
    )


def ref_of(settlement: Settlement) -> bytes:
    return bytes.fromhex(settlement.run_ref[2:])


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("recorded", [SettlementStatus.PENDING, SettlementStatus.SUBMITTED])
def test_a_settlement_sent_but_never_recorded_is_completed_without_a_second_payment(env, recorded):
    settlement = settlement_for(env.purchase, kind="release", status=recorded)
    # The worker sent the release, then was killed before the database learnt the outcome
    # (pending: before it recorded the hash; submitted: before the receipt).
    receipt = env.mp.release(env.purchase.payment_id, ref_of(settlement), key=ORCHESTRATOR_KEY)
    tx_hash = receipt["transactionHash"].to_0x_hex()
    if recorded == SettlementStatus.SUBMITTED:
        Settlement.objects.filter(pk=settlement.pk).update(tx_hash=tx_hash)
    paid = {"developer": env.balance(DEVELOPER), "escrow": env.balance(env.mp.escrow.address)}

    report = env.reconcile()

    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    assert (settlement.tx_hash, settlement.block_number) == (tx_hash, receipt["blockNumber"])
    assert settlement.developer_amount == UNITS * 7 // 10
    assert settlement.pk in report.settlements_confirmed or (
        settlement.pk in report.index.settlements_confirmed
    )
    env.purchase.refresh_from_db()
    assert env.purchase.runs_released == 1
    # Nothing was paid again, and the sender has nothing left to send.
    assert settlements_send().submitted == []
    assert env.balance(DEVELOPER) == paid["developer"]
    assert env.balance(env.mp.escrow.address) == paid["escrow"] == 2 * UNITS
    assert env.reconcile().alerts == []
    assert not PaymentAlert.objects.exists()


def test_an_event_read_before_the_run_ended_is_confirmed_by_reconciliation(env):
    settlement = settlement_for(env.purchase, kind="release", status=SettlementStatus.RESERVED)
    env.mp.release(env.purchase.payment_id, ref_of(settlement), key=ORCHESTRATOR_KEY)
    chain_index(deployment_id=env.deployment.pk, client=env.client)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.RESERVED  # the run has not ended yet
    assert PaymentAlert.objects.filter(key=f"settlement:{settlement.pk}:settled-while-reserved")

    settlement_transition(settlement_id=settlement.pk, to=SettlementStatus.PENDING)  # it ends
    report = env.reconcile()

    assert report.settlements_confirmed == [settlement.pk]
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    env.purchase.refresh_from_db()
    assert env.purchase.runs_released == 1  # counted once, when the event was read
    assert report.alerts == []


def test_a_lost_settlement_transaction_is_sent_again_once(env):
    settlement = settlement_for(env.purchase, kind="release", status=SettlementStatus.PENDING)
    settlement_transition(
        settlement_id=settlement.pk,
        to=SettlementStatus.SUBMITTED,
        tx_hash="0x" + "ab" * 32,  # signed and recorded, but never reached the chain
    )
    before = env.balance(DEVELOPER)

    # Not yet: a transaction may take a while to show up.
    assert env.reconcile().settlements_requeued == []
    Settlement.objects.filter(pk=settlement.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    report = env.reconcile()

    assert report.settlements_requeued == [settlement.pk]
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.PENDING
    assert "unknown to the chain" in settlement.last_error
    assert env.balance(DEVELOPER) == before  # reconciliation itself never moves money

    # The sender sends it again; the indexer confirms it; the developer is paid once.
    assert settlements_send().submitted == [settlement.pk]
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    assert env.balance(DEVELOPER) - before == UNITS * 7 // 10
    assert settlements_send().submitted == []
    assert env.reconcile().alerts == []


def test_the_beat_task_requeues_a_lost_settlement_and_it_settles_once(env):
    settlement = settlement_for(env.purchase, kind="refund", status=SettlementStatus.PENDING)
    settlement_transition(
        settlement_id=settlement.pk, to=SettlementStatus.SUBMITTED, tx_hash="0x" + "cd" * 32
    )
    Settlement.objects.filter(pk=settlement.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    before = env.balance(BUYER)

    reconcile.delay()  # eager in tests: reconciles, then queues the send

    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED
    assert env.balance(BUYER) - before == UNITS
    env.purchase.refresh_from_db()
    assert env.purchase.runs_refunded == 1


def test_an_unexplained_balance_difference_raises_an_alert(env):
    clean = env.reconcile()
    assert clean.alerts == [] and clean.purchases_checked == 1
    assert clean.balances[env.token] == {"chain": str(3 * UNITS), "expected": str(3 * UNITS)}

    # Tokens sent straight to the escrow: no payment explains them.
    env.client.transact(
        env.mp.stablecoin.functions.mint(env.mp.escrow.address, 1_000), key=BUYER_KEY
    )
    report = env.reconcile()

    key = f"deployment:{env.deployment.pk}:balance:{env.token.lower()}"
    assert report.alerts == [key]
    alert = PaymentAlert.objects.get(key=key, resolved=False)
    assert alert.kind == PaymentAlert.Kind.RECONCILIATION
    assert alert.details["difference"] == "1000"
    assert alert.details["chain"] == str(3 * UNITS + 1_000)
    # Raised once: the next pass refreshes the same open alert.
    env.reconcile()
    assert PaymentAlert.objects.filter(key=key).count() == 1


def test_a_counter_that_disagrees_with_the_chain_is_flagged_not_repaired(env):
    Purchase.objects.filter(pk=env.purchase.pk).update(runs_refunded=1)  # no refund on chain

    report = env.reconcile()

    assert f"purchase:{env.purchase.pk}:differs" in report.alerts
    alert = PaymentAlert.objects.get(key=f"purchase:{env.purchase.pk}:differs")
    assert alert.details["differences"] == {"unsettled": {"database": 2, "chain": 3}}
    assert f"deployment:{env.deployment.pk}:balance:{env.token.lower()}" in report.alerts
    env.purchase.refresh_from_db()
    assert env.purchase.runs_refunded == 1
