import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from compliance.kyc.models import CategoryKycRequirement, KycProfile
from compliance.kyc.selectors import (
    kyc_level,
    kyc_purchase_check,
    kyc_required_level_for_agent,
    kyc_spent_today_usd,
    purchase_usd,
)
from marketplace.tests.factories import AgentFactory, CategoryFactory, UserFactory
from payments.models import ChainDeployment, Purchase

pytestmark = pytest.mark.django_db
ADDR = "0x" + "11" * 20


@pytest.fixture
def deployment():
    return ChainDeployment.objects.create(
        chain_id=31337,
        escrow_address=ADDR,
        entitlements_address=ADDR,
        deployer_address=ADDR,
        admin_address=ADDR,
        orchestrator_address=ADDR,
        pauser_address=ADDR,
        fee_recipient_address=ADDR,
        fee_bps=250,
        payment_ttl_seconds=600,
        block_number=1,
        entitlements_tx="0x1",
        escrow_tx="0x2",
        compiler_version="0.8.28",
    )


@pytest.fixture
def buy(deployment):
    agent = AgentFactory()

    def buy(user, usd: str, *, currency="USDC", status="completed", created_at=None):
        if currency == "USDC":
            total = int(Decimal(usd) * 10**6)
        else:  # ETH at 3000 USD
            total = int(Decimal(usd) / 3000 * 10**18)
        purchase = Purchase.objects.create(
            public_id=uuid.uuid4(),
            user=user,
            agent=agent,
            deployment=deployment,
            buyer_address=ADDR,
            token_address=ADDR,
            currency=currency,
            runs=1,
            unit_price=total,
            total=total,
            status=status,
        )
        if created_at:
            Purchase.objects.filter(pk=purchase.pk).update(created_at=created_at)
        return purchase

    return buy


def at_level(level: int):
    user = UserFactory()
    KycProfile.objects.create(user=user, level=level, status="verified" if level else "none")
    return user


def test_level_defaults_to_zero():
    assert kyc_level(user=UserFactory()) == 0
    assert kyc_level(user=None) == 0
    assert kyc_level(user=at_level(2)) == 2


@pytest.mark.parametrize(
    "level,allowed,refused,needed",
    [(0, "100", "100.01", 1), (1, "1000", "1000.01", 2), (2, "10000", "10000.01", 3)],
)
def test_daily_limit_per_level_across_the_days_purchases(buy, level, allowed, refused, needed):
    user = at_level(level)
    half = Decimal(allowed) / 2
    buy(user, str(half))
    assert kyc_purchase_check(
        user=user, amount_usd=Decimal(allowed) - half, required_level=0
    ).allowed
    # Single purchases over $1,000 need level 1 whatever the total; check the daily limit only.
    decision = kyc_purchase_check(user=user, amount_usd=Decimal(refused) - half, required_level=0)
    assert not decision.allowed
    assert (
        f"requires KYC level {needed}" in decision.reason
        or f"require KYC level {needed}" in decision.reason
    )


def test_level_3_is_unlimited(buy):
    user = at_level(3)
    buy(user, "500000")
    assert kyc_purchase_check(user=user, amount_usd=Decimal("1000000"), required_level=0).allowed


def test_only_todays_live_purchases_count(buy):
    user = at_level(0)
    buy(user, "90", created_at=timezone.now() - timedelta(days=1))
    buy(user, "90", status="failed")
    buy(user, "90", status="initiated")
    buy(UserFactory(), "90")
    assert kyc_spent_today_usd(user=user) == 0
    buy(user, "30", status="validating")
    buy(user, "30", status="processing")
    assert kyc_spent_today_usd(user=user) == Decimal("60")
    assert not kyc_purchase_check(user=user, amount_usd=Decimal("41"), required_level=0).allowed


def test_eth_purchases_convert_at_the_configured_rate(buy, settings):
    user = at_level(0)
    buy(user, "60", currency="ETH")
    assert kyc_spent_today_usd(user=user) == pytest.approx(Decimal("60"), abs=Decimal("0.000001"))
    settings.KYC_ETH_USD_RATE = "1500"
    assert kyc_spent_today_usd(user=user) == pytest.approx(Decimal("30"), abs=Decimal("0.000001"))
    assert purchase_usd(currency="USDC", base_units=1_500_000) == Decimal("1.5")


def test_purchase_over_1000_needs_level_1():
    decision = kyc_purchase_check(user=at_level(0), amount_usd=Decimal("1500"), required_level=0)
    assert not decision.allowed and "require KYC level 1" in decision.reason


def test_agent_required_level_is_enforced():
    decision = kyc_purchase_check(user=at_level(1), amount_usd=Decimal("5"), required_level=2)
    assert not decision.allowed and "requires KYC level 2" in decision.reason
    assert kyc_purchase_check(user=at_level(2), amount_usd=Decimal("5"), required_level=2).allowed


def test_required_level_for_agents(settings):
    crypto = CategoryFactory(slug="crypto")
    general = CategoryFactory(slug="general")
    assert kyc_required_level_for_agent(agent=AgentFactory(category=crypto, tags=["Trading"])) == 2
    assert (
        kyc_required_level_for_agent(agent=AgentFactory(category=crypto, tags=["analytics"])) == 0
    )
    assert kyc_required_level_for_agent(agent=AgentFactory(category=general, tags=["trading"])) == 0
    settings.KYC_CRYPTO_TRADING_MIN_LEVEL = 3
    assert kyc_required_level_for_agent(agent=AgentFactory(category=crypto, tags=["trading"])) == 3
    CategoryKycRequirement.objects.create(category=general, min_level=1)
    assert kyc_required_level_for_agent(agent=AgentFactory(category=general)) == 1
