"""Payments services. The chain adapter (payments.chain) does the talking; these decide and record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from marketplace.models import LISTED, LISTED_STATUSES, Agent, Currency
from payments.chain.client import NATIVE_TOKEN, ChainClient, deploy_marketplace
from payments.chain.marketplace import Key, Marketplace
from payments.models import ChainAgent, ChainDeployment

# Base units per whole token. The stablecoin is a USDC-like 6-decimal ERC-20 on every chain we list.
CURRENCY_DECIMALS = {Currency.ETH: 18, Currency.USDC: 6}


def price_units(*, amount: Decimal, currency: str) -> int:
    """A catalog price in the token's base units. Raises ValueError when it is not exact."""
    units = amount.scaleb(CURRENCY_DECIMALS[Currency(currency)])
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is finer than the token's smallest unit")
    return int(units)


@dataclass
class ChainDeployResult:
    deployment: ChainDeployment
    deployed: bool
    registered: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def chain_deployment_active(*, chain_id: int) -> ChainDeployment | None:
    return ChainDeployment.objects.filter(chain_id=chain_id, is_active=True).first()


def deployment_market(client: ChainClient, deployment: ChainDeployment) -> Marketplace:
    """The contract operations of a recorded deployment."""
    return Marketplace(
        client,
        entitlements=deployment.entitlements_address,
        escrow=deployment.escrow_address,
        stablecoin=deployment.stablecoin_address or None,
    )


def chain_deploy(
    *,
    client: ChainClient,
    deployer_key: Key,
    orchestrator: str,
    fee_recipient: str,
    admin: str | None = None,
    admin_key: Key | None = None,
    stablecoin: str | None = None,
    fee_bps: int,
    payment_ttl: int,
    base_uri: str = "",
    redeploy: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> ChainDeployResult:
    """Deploy the contracts unless this chain already has them, then list every catalog agent.

    Idempotent: the active deployment of the chain is reused while its code is on chain (a reset
    dev chain loses it, and then the record is retired and the contracts deployed anew); agents
    are registered and priced from what the chain reports, so a re-run sends only what is missing.
    `admin_key` signs agent registrations (default: the deployer's, which is the admin unless
    `admin` names another account such as a multisig; then registrations are left to it).
    """
    record = chain_deployment_active(chain_id=client.chain_id)
    if record and not redeploy and client.has_code(record.escrow_address):
        log(f"chain {client.chain_id}: using the deployment at escrow {record.escrow_address}")
        deployed = False
    else:
        if record:
            reason = "--redeploy" if redeploy else "its contracts are gone (was the chain reset?)"
            log(
                f"chain {client.chain_id}: retiring the deployment at {record.escrow_address}: {reason}"
            )
        deployment = deploy_marketplace(
            client,
            deployer_key=deployer_key,
            orchestrator=orchestrator,
            fee_recipient=fee_recipient,
            admin=admin,
            fee_bps=fee_bps,
            payment_ttl=payment_ttl,
            base_uri=base_uri,
            stablecoin=stablecoin,
            log=log,
        )
        record = _deployment_record(deployment=deployment.to_dict())
        deployed = True

    result = ChainDeployResult(deployment=record, deployed=deployed)
    signer = admin_key or deployer_key
    if client.account(signer).address != client.to_checksum(record.admin_address):
        log(f"agents not registered: the admin is {record.admin_address}; register them from it")
        return result
    market = deployment_market(client, record)
    for agent in (
        Agent.objects.filter(LISTED).select_related("current_version", "developer").order_by("pk")
    ):
        _agent_sync(market=market, record=record, agent=agent, key=signer, result=result, log=log)
    return result


@transaction.atomic
def _deployment_record(*, deployment: dict) -> ChainDeployment:
    ChainDeployment.objects.select_for_update().filter(
        chain_id=deployment["chain_id"], is_active=True
    ).update(is_active=False)
    return ChainDeployment.objects.create(
        chain_id=deployment["chain_id"],
        escrow_address=deployment["escrow"],
        entitlements_address=deployment["entitlements"],
        stablecoin_address=deployment["stablecoin"] or "",
        stablecoin_is_mock=deployment["stablecoin_is_mock"],
        deployer_address=deployment["deployer"],
        admin_address=deployment["admin"],
        orchestrator_address=deployment["orchestrator"],
        pauser_address=deployment["pauser"],
        fee_recipient_address=deployment["fee_recipient"],
        fee_bps=deployment["fee_bps"],
        payment_ttl_seconds=deployment["payment_ttl"],
        base_uri=deployment["base_uri"],
        block_number=deployment["block_number"],
        entitlements_tx=deployment["entitlements_tx"],
        escrow_tx=deployment["escrow_tx"],
        compiler_version=deployment["compiler_version"],
    )


def _agent_sync(
    *,
    market: Marketplace,
    record: ChainDeployment,
    agent: Agent,
    key: Key,
    result: ChainDeployResult,
    log: Callable[[str], None],
) -> None:
    developer = agent.developer.payout_address
    if not developer:
        result.skipped.append(agent.slug)
        log(f"  {agent.slug}: skipped, its developer has no payout address")
        return
    version = agent.current_version
    token = NATIVE_TOKEN if version.currency == Currency.ETH else record.stablecoin_address
    if not token:
        result.skipped.append(agent.slug)
        log(f"  {agent.slug}: skipped, priced in {version.currency} but no stablecoin is listed")
        return
    if version.price <= 0:
        result.skipped.append(agent.slug)
        log(f"  {agent.slug}: skipped, free agents need no escrow")
        return
    try:
        prices = {token: price_units(amount=version.price, currency=version.currency)}
    except ValueError as exc:
        result.skipped.append(agent.slug)
        log(f"  {agent.slug}: skipped, {exc}")
        return
    # The on-chain id is the agent's primary key: stable, unique, and fits the contract's uint64.
    chain_agent_id = agent.pk
    changes = market.ensure_agent(chain_agent_id, developer, prices=prices, key=key)
    ChainAgent.objects.update_or_create(
        deployment=record,
        agent=agent,
        defaults={
            "chain_agent_id": chain_agent_id,
            "developer_address": market.client.to_checksum(developer),
            "prices": {address: str(units) for address, units in prices.items()},
        },
    )
    if "registered" in changes:
        result.registered.append(agent.slug)
        log(
            f"  {agent.slug}: registered as #{chain_agent_id} at {version.price.normalize():f} {version.currency}"
        )
    elif changes:
        result.updated.append(agent.slug)
        log(f"  {agent.slug}: {', '.join(changes)}")


def chain_agent_sync_status(*, agent: Agent, log: Callable[[str], None] = lambda m: None) -> str:
    """Mirror the agent's status on the entitlements contract: deprecated and suspended agents
    are inactive there, so the escrow refuses purchases made directly on the contract too.
    Settlement of runs already paid for is unaffected (burn ignores the flag). Idempotent.

    Returns "no deployment", "not on chain", "not the admin", "activated", "deactivated" or
    "unchanged".
    """
    from django.conf import settings

    record = chain_deployment_active(chain_id=settings.CHAIN_ID)
    if record is None:
        return "no deployment"
    listing = ChainAgent.objects.filter(deployment=record, agent=agent).first()
    if listing is None:
        return "not on chain"
    admin = _deployment_admin(record)
    if admin is None:
        log(f"{agent.slug}: status not mirrored on chain, the admin is {record.admin_address}")
        return "not the admin"
    market, key = admin
    active = agent.status in LISTED_STATUSES
    if not market.ensure_agent_active(listing.chain_agent_id, active, key=key):
        return "unchanged"
    log(f"{agent.slug}: {'activated' if active else 'deactivated'} on chain")
    return "activated" if active else "deactivated"


# =============================================================================================
# State machines: purchases and settlements (payments/models.py transition tables)
# =============================================================================================


def purchase_transition(*, purchase_id: int, to: str, payload: dict | None = None, **changes):
    """Move a purchase to `to` under a row lock, recording a PurchaseEvent. Returns the purchase,
    or None when the move is not allowed (already there, or a terminal state)."""
    from payments.models import PURCHASE_TRANSITIONS, Purchase, PurchaseEvent

    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
        if to not in PURCHASE_TRANSITIONS[purchase.status]:
            return None
        before = purchase.status
        purchase.status = to
        for name, value in changes.items():
            setattr(purchase, name, value)
        purchase.save()
        PurchaseEvent.objects.create(
            purchase=purchase, from_status=before, to_status=to, payload=payload or {}
        )
    return purchase


def settlement_transition(*, settlement_id: int, to: str, payload: dict | None = None, **changes):
    """Move a settlement to `to` under a row lock, recording a SettlementEvent. Returns it, or
    None when the move is not allowed (so a second confirmation is a no-op)."""
    from payments.models import SETTLEMENT_TRANSITIONS, Settlement, SettlementEvent

    with transaction.atomic():
        settlement = Settlement.objects.select_for_update().get(pk=settlement_id)
        if to not in SETTLEMENT_TRANSITIONS[settlement.status]:
            return None
        before = settlement.status
        settlement.status = to
        for name, value in changes.items():
            setattr(settlement, name, value)
        settlement.save()
        SettlementEvent.objects.create(
            settlement=settlement, from_status=before, to_status=to, payload=payload or {}
        )
    return settlement


def _deployment_admin(record: ChainDeployment) -> tuple[Marketplace, Key] | None:
    """The deployment's contracts and the admin key that may change them; None when this
    process's deployer key is not the deployment's admin."""
    from django.conf import settings

    from payments.chain.keys import deployer_key

    client = ChainClient(settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=10)
    key = deployer_key()
    if client.account(key).address != client.to_checksum(record.admin_address):
        return None
    return deployment_market(client, record), key


def chain_agent_list(*, agent: Agent, log: Callable[[str], None] = lambda message: None) -> str:
    """List one agent (register it, point it at its developer, set its price) on this chain's
    active deployment, e.g. when a submission is approved. Idempotent, like chain_deploy.

    Returns what happened: "no deployment", "not listed", "not the admin", "registered",
    "updated", "unchanged" or "skipped" (no payout address, free, unlisted currency).
    """
    from django.conf import settings

    record = chain_deployment_active(chain_id=settings.CHAIN_ID)
    if record is None:
        return "no deployment"
    on_chain = ChainAgent.objects.filter(deployment=record, agent=agent).exists()
    # An agent already on chain stays in sync (payout address, price) even while deprecated or
    # suspended: its runs bought earlier still settle to that address.
    if agent.current_version is None or not (agent.is_listed or on_chain):
        return "not listed"
    admin = _deployment_admin(record)
    if admin is None:
        log(f"{agent.slug} not listed on chain: the admin is {record.admin_address}")
        return "not the admin"
    market, key = admin
    result = ChainDeployResult(deployment=record, deployed=False)
    _agent_sync(market=market, record=record, agent=agent, key=key, result=result, log=log)
    if result.registered:
        return "registered"
    if result.skipped:
        return "skipped"
    return "updated" if result.updated else "unchanged"
