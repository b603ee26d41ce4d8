"""Buying runs: quote, initiate, confirm from the transaction the buyer's wallet sent.

States (payments.models.PURCHASE_TRANSITIONS): initiated -> validating -> processing ->
completed | failed. Validation (agent purchasable, price on chain, wallet linked, compliance)
happens before any money moves; `completed` is set by the indexer from the escrow's
PaymentCreated event, never from what the browser reports.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from agentnexus.core.errors import ApplicationError, ConflictError
from compliance.gate import purchase_check as compliance_purchase_check
from marketplace.models import Agent, Currency
from payments.chain.calls import purchase_calls, transaction_status
from payments.chain.client import NATIVE_TOKEN, ChainError
from payments.models import ChainAgent, Purchase, PurchaseEvent, PurchaseStatus, Wallet
from payments.services import (
    CURRENCY_DECIMALS,
    chain_deployment_active,
    deployment_market,
    purchase_transition,
)
from payments.settlement import PaymentsUnavailable, _client

MAX_RUNS = 100
TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Quote:
    agent: Agent
    chain_agent_id: int
    currency: str
    token: str
    runs: int
    unit_price: int  # base units, as listed on chain
    total: int
    decimals: int
    escrow: str
    chain_id: int

    def human(self, units: int) -> Decimal:
        return Decimal(units).scaleb(-self.decimals)


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, code="validation_error", fields={field: [message]})


def purchase_quote(*, user, agent: Agent, runs: int, currency: str, request=None) -> Quote:
    """What `runs` runs of `agent` cost in `currency`, at the price the escrow will charge, if
    the compliance gate lets `user` buy them from where `request` comes (451/403 otherwise)."""
    if not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise _field_error("runs", f"Choose between 1 and {MAX_RUNS} runs.")
    if currency not in Currency.values:
        raise _field_error("currency", f"Pay with one of: {', '.join(Currency.values)}.")
    if agent.status == Agent.Status.SUSPENDED:
        why = f" Reason: {agent.status_reason}" if agent.status_reason else ""
        raise ConflictError(
            f"{agent.name} is suspended by AgentNexus and cannot be bought.{why}",
            code="agent_suspended",
        )
    if agent.status == Agent.Status.DEPRECATED:
        raise ConflictError(
            f"{agent.name} is deprecated by its developer and cannot be bought any more.",
            code="agent_deprecated",
        )
    if agent.status != Agent.Status.ACTIVE or agent.current_version is None:
        raise ConflictError(f"{agent.name} cannot be bought now.", code="agent_unavailable")
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    listing = (
        ChainAgent.objects.filter(deployment=deployment, agent=agent).first()
        if deployment
        else None
    )
    if listing is None:
        raise ConflictError(
            f"{agent.name} is not listed for sale on chain yet.", code="not_purchasable"
        )
    token = NATIVE_TOKEN if currency == Currency.ETH else deployment.stablecoin_address
    if not token:
        raise _field_error("currency", f"{currency} is not accepted on this network.")
    try:
        market = deployment_market(_client(), deployment)
        unit_price = market.price(listing.chain_agent_id, token)
    except ChainError as exc:
        raise PaymentsUnavailable(
            "Payments are temporarily unavailable (the chain cannot be reached)."
        ) from exc
    if unit_price == 0:
        raise _field_error("currency", f"{agent.name} is not sold in {currency}.")
    decimals = CURRENCY_DECIMALS[Currency(currency)]
    quote = Quote(
        agent=agent,
        chain_agent_id=listing.chain_agent_id,
        currency=currency,
        token=token,
        runs=runs,
        unit_price=unit_price,
        total=unit_price * runs,
        decimals=decimals,
        escrow=deployment.escrow_address,
        chain_id=deployment.chain_id,
    )
    compliance_purchase_check(
        user=user, agent=agent, total_units=quote.total, currency=currency, request=request
    )
    return quote


def purchase_initiate(
    *, user, agent: Agent, runs: int, currency: str, wallet_address: str, request=None
) -> tuple[Purchase, list[dict]]:
    """Record the purchase and return the calls the buyer's wallet must send, in order.

    Bad input is refused before anything is recorded; the purchase is then validated (agent
    purchasable, price on chain, compliance) and fails with the reason if that does not pass.
    """
    if not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise _field_error("runs", f"Choose between 1 and {MAX_RUNS} runs.")
    if currency not in Currency.values:
        raise _field_error("currency", f"Pay with one of: {', '.join(Currency.values)}.")
    wallet = Wallet.objects.filter(user=user, address__iexact=wallet_address or "").first()
    if wallet is None:
        raise _field_error("wallet", "Pay from one of your linked wallets (link one first).")
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    if deployment is None:
        raise ConflictError(
            "Purchases are not available: no contracts are deployed.", code="not_purchasable"
        )
    with transaction.atomic():
        purchase = Purchase.objects.create(
            public_id=uuid.uuid4(),
            user=user,
            agent=agent,
            deployment=deployment,
            buyer_address=wallet.address,
            token_address="",
            currency=currency,
            runs=runs,
            unit_price=0,
            total=0,
        )
        PurchaseEvent.objects.create(purchase=purchase, from_status="", to_status="initiated")
    purchase_transition(purchase_id=purchase.pk, to=PurchaseStatus.VALIDATING)
    try:
        quote = purchase_quote(
            user=user, agent=agent, runs=runs, currency=currency, request=request
        )
        calls = purchase_calls(
            deployment_market(_client(), deployment),
            agent_id=quote.chain_agent_id,
            token=quote.token,
            runs=quote.runs,
            total=quote.total,
            buyer=wallet.address,
        )
    except (ApplicationError, ChainError) as exc:
        purchase_transition(
            purchase_id=purchase.pk,
            to=PurchaseStatus.FAILED,
            failure_reason=getattr(exc, "message", str(exc)),
        )
        raise
    Purchase.objects.filter(pk=purchase.pk).update(
        token_address=quote.token, unit_price=quote.unit_price, total=quote.total
    )
    purchase.refresh_from_db()
    return purchase, calls


def purchase_confirm(*, purchase: Purchase, tx_hash: str) -> Purchase:
    """The buyer's wallet sent the purchase transaction: watch it (validating -> processing)."""
    tx_hash = (tx_hash or "").strip()
    if not TX_HASH.match(tx_hash):
        raise _field_error("tx_hash", "A transaction hash is 0x followed by 64 hex characters.")
    if purchase.status == PurchaseStatus.PROCESSING and purchase.tx_hash.lower() == tx_hash.lower():
        return purchase  # the page reported it twice
    other = Purchase.objects.filter(tx_hash__iexact=tx_hash).exclude(pk=purchase.pk).first()
    if other is not None:
        return _adopt(purchase=purchase, found=other)
    moved = purchase_transition(
        purchase_id=purchase.pk,
        to=PurchaseStatus.PROCESSING,
        tx_hash=tx_hash.lower(),
        payload={"tx_hash": tx_hash.lower()},
    )
    if moved is None:
        raise ConflictError(
            f"This purchase is {purchase.get_status_display().lower()}; it cannot take a "
            "transaction now.",
            code="purchase_state",
        )
    transaction.on_commit(lambda: _enqueue_check(purchase.pk))
    return moved


def _adopt(*, purchase: Purchase, found: Purchase) -> Purchase:
    """The indexer saw this transaction before the page reported it and recorded the purchase
    from the chain: that record is the purchase; this one is closed as superseded."""
    first = found.events.order_by("id").first()
    from_chain = bool(first and first.payload.get("outside_site"))
    same_buyer = found.buyer_address.lower() == purchase.buyer_address.lower()
    if not (from_chain and same_buyer and found.user_id in (None, purchase.user_id)):
        raise _field_error("tx_hash", "This transaction already belongs to another purchase.")
    with transaction.atomic():
        Purchase.objects.filter(pk=found.pk, user__isnull=True).update(user=purchase.user)
        purchase_transition(
            purchase_id=purchase.pk,
            to=PurchaseStatus.FAILED,
            failure_reason="Superseded: the chain's record of this transaction is the purchase.",
            payload={"superseded_by": str(found.public_id)},
        )
    found.refresh_from_db()
    return found


def _enqueue_check(purchase_id: int, countdown: float = 0) -> None:
    from payments.tasks_settlement import check_purchase

    check_purchase.apply_async(args=[purchase_id], countdown=countdown)


def purchase_check(*, purchase_id: int) -> str:
    """Follow a processing purchase's transaction: a revert fails it with the decoded reason; a
    mined one is handed to the indexer (which completes it from the PaymentCreated event)."""
    purchase = Purchase.objects.select_related("deployment").get(pk=purchase_id)
    if purchase.status != PurchaseStatus.PROCESSING:
        return purchase.status
    market = deployment_market(_client(), purchase.deployment)
    status = transaction_status(market, purchase.tx_hash)
    if status["state"] == "reverted":
        purchase_transition(
            purchase_id=purchase.pk,
            to=PurchaseStatus.FAILED,
            failure_reason=f"The transaction reverted: {status['reason'] or 'no reason given'}.",
            block_number=status["block"],
        )
        return PurchaseStatus.FAILED
    if status["state"] == "mined":
        Purchase.objects.filter(pk=purchase.pk).update(
            block_number=status["block"], confirmations=status["confirmations"]
        )
        try:
            from payments.indexer import chain_index

            chain_index(deployment_id=purchase.deployment_id)
        except ImportError:  # pragma: no cover
            pass
    purchase.refresh_from_db()
    return purchase.status


def purchase_calls_for(*, purchase: Purchase) -> list[dict]:
    """The wallet calls for a purchase awaiting payment (the approval is left out once the
    allowance covers the total)."""
    listing = ChainAgent.objects.filter(
        deployment=purchase.deployment, agent=purchase.agent
    ).first()
    if listing is None:
        raise ConflictError("This agent is no longer listed on chain.", code="not_purchasable")
    try:
        return purchase_calls(
            deployment_market(_client(), purchase.deployment),
            agent_id=listing.chain_agent_id,
            token=purchase.token_address,
            runs=purchase.runs,
            total=int(purchase.total),
            buyer=purchase.buyer_address,
        )
    except ChainError as exc:
        raise PaymentsUnavailable(
            "Payments are temporarily unavailable (the chain cannot be reached)."
        ) from exc
