"""Wallet services: Sign-In with Ethereum nonces, linking and unlinking wallets, the primary
(paying) wallet, logging in with a wallet, balances, and the development faucet.

The SIWE checks live in payments.siwe; the chain is reached through payments.chain only.
Documented in docs/decisions/0007-siwe.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import DeveloperProfile, User
from agentnexus.core.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from payments.chain.anvil import dev_private_keys
from payments.chain.artifacts import MOCK_STABLECOIN
from payments.chain.client import LOCAL_CHAIN_IDS, ChainClient, ChainError
from payments.chain.marketplace import Marketplace
from payments.models import Purchase, Settlement, SiweNonce, Wallet
from payments.services import chain_deployment_active
from payments.siwe import STATEMENTS, ChainUnavailableError, SiweTemplate, format_time, siwe_verify

logger = logging.getLogger(__name__)

NONCE_TTL = dt.timedelta(minutes=10)
# The faucet: anvil's development account #7 pays (public key, funded on every dev node).
FAUCET_DEV_ACCOUNT = 7
FAUCET_ETH_WEI = 10**18  # 1 ETH
FAUCET_STABLECOIN = 1_000  # whole tokens
STABLECOIN_DECIMALS = 6
STABLECOIN_SYMBOL = "USDC"
BALANCE_RPC_TIMEOUT = 3.0

# Serialises this process's faucet transactions (one sending account, one nonce sequence).
_faucet_lock = threading.Lock()


class WalletNotLinkedError(ApplicationError):
    code = "wallet_not_linked"
    status_code = 400


class FaucetDisabledError(PermissionDeniedError):
    code = "faucet_disabled"


# --------------------------------------------------------------------------------- nonces


def siwe_nonce_issue(
    *, purpose: str, domain: str, uri: str, user: User | None = None
) -> tuple[SiweNonce, SiweTemplate]:
    """A fresh single-use nonce (expiring in NONCE_TTL) and the message it belongs in.

    `domain` is the request's host and `uri` the site's root URL; linking needs the `user` the
    wallet will belong to (its nonce only works for that account), logging in needs none.
    """
    if purpose not in SiweNonce.Purpose.values:
        raise ApplicationError(
            "Unknown purpose: use “link” or “login”.",
            fields={"purpose": ["Choose “link” or “login”."]},
        )
    if purpose == SiweNonce.Purpose.LINK and user is None:
        raise PermissionDeniedError("Log in to link a wallet to your account.")
    if purpose == SiweNonce.Purpose.LOGIN:
        user = None
    now = timezone.now()
    expires_at = now + NONCE_TTL
    nonce = SiweNonce.objects.create(
        nonce=secrets.token_hex(16),  # 128 bits, alphanumeric as EIP-4361 requires
        purpose=purpose,
        user=user,
        expires_at=expires_at,
    )
    template = SiweTemplate(
        domain=domain,
        uri=uri,
        chain_id=settings.CHAIN_ID,
        nonce=nonce.nonce,
        issued_at=format_time(now),
        expiration_time=format_time(expires_at),
        statement=STATEMENTS[purpose],
    )
    return nonce, template


# ------------------------------------------------------------------------- link / unlink


def _lock_user(user: User) -> None:
    """Serialise changes to one user's wallets (who is primary) behind the user's row lock."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def wallet_link(*, user: User, message: str, signature: str, request_host: str) -> Wallet:
    """Link the wallet that signed `message` (a SIWE "link" message issued to `user`).

    The first wallet becomes the primary one. Linking a wallet already on this account returns
    it unchanged; one linked to another account is refused (one account per address).
    """
    verified = siwe_verify(
        message=message,
        signature=signature,
        purpose=SiweNonce.Purpose.LINK,
        domain=request_host,
        user_id=user.pk,
    )
    linked_elsewhere = ConflictError(
        f"The wallet {verified.address} is already linked to another AgentNexus account. "
        "Unlink it there first, or log in to that account with it.",
        code="wallet_linked_elsewhere",
    )
    try:
        with transaction.atomic():
            _lock_user(user)
            existing = Wallet.objects.filter(address__iexact=verified.address).first()
            if existing is not None:
                if existing.user_id != user.pk:
                    raise linked_elsewhere
                return existing
            has_primary = Wallet.objects.filter(user=user, is_primary=True).exists()
            return Wallet.objects.create(
                user=user,
                address=verified.address,
                is_primary=not has_primary,
                is_contract=verified.is_contract,
            )
    except IntegrityError:
        # Another request linked the same address between our check and our insert.
        existing = Wallet.objects.filter(address__iexact=verified.address).first()
        if existing is not None and existing.user_id == user.pk:
            return existing
        raise linked_elsewhere from None


def _own_wallet(*, user: User, wallet_id: int) -> Wallet:
    wallet = Wallet.objects.select_for_update().filter(pk=wallet_id, user=user).first()
    if wallet is None:
        raise NotFoundError("No such wallet on your account.")
    return wallet


def wallet_get(*, user: User, wallet_id: int) -> Wallet:
    """One of `user`'s wallets, or NotFoundError (another user's wallet is not found either)."""
    wallet = Wallet.objects.filter(pk=wallet_id, user=user).first()
    if wallet is None:
        raise NotFoundError("No such wallet on your account.")
    return wallet


def wallet_list(*, user: User) -> list[Wallet]:
    """`user`'s wallets, the primary first, then in the order they were linked."""
    return list(Wallet.objects.filter(user=user).order_by("-is_primary", "linked_at", "pk"))


@transaction.atomic
def wallet_unlink(*, user: User, wallet: Wallet) -> Wallet | None:
    """Unlink one of `user`'s wallets. If it was the primary one, the next linked wallet (the
    oldest remaining) becomes primary; that wallet is returned, or None."""
    _lock_user(user)
    wallet = _own_wallet(user=user, wallet_id=wallet.pk)
    was_primary = wallet.is_primary
    wallet.delete()
    if not was_primary:
        return None
    successor = Wallet.objects.filter(user=user).order_by("linked_at", "pk").first()
    if successor is not None:
        successor.is_primary = True
        successor.save(update_fields=["is_primary"])
    return successor


@transaction.atomic
def wallet_set_primary(*, user: User, wallet: Wallet) -> Wallet:
    """Make one of `user`'s wallets the one to pay with (exactly one is primary)."""
    _lock_user(user)
    wallet = _own_wallet(user=user, wallet_id=wallet.pk)
    if wallet.is_primary:
        return wallet
    Wallet.objects.filter(user=user, is_primary=True).update(is_primary=False)
    wallet.is_primary = True
    wallet.save(update_fields=["is_primary"])
    return wallet


@transaction.atomic
def developer_payout_set(*, user: User, wallet: Wallet) -> DeveloperProfile:
    """Pay the developer's earnings to one of their linked wallets (signed for, so provably
    theirs). The escrow pays the address it holds for each agent at release time, so every
    listed agent is pointed at the new address on chain after commit (agents.list_on_chain)."""
    from compliance.audit.services import audit_record

    profile = DeveloperProfile.objects.select_for_update().filter(user=user).first()
    if profile is None:
        raise PermissionDeniedError("Create a developer profile first.", code="not_a_developer")
    wallet = _own_wallet(user=user, wallet_id=wallet.pk)
    previous = profile.payout_address
    if previous.lower() == wallet.address.lower():
        return profile
    profile.payout_address = wallet.address
    profile.save(update_fields=["payout_address"])
    audit_record(
        actor=user,
        action="accounts.developer.payout_address",
        obj=profile,
        data={"from": previous, "to": wallet.address},
    )
    agent_ids = list(profile.agents.values_list("pk", flat=True))

    def relist() -> None:
        from agents.tasks import agent_list_on_chain

        for agent_id in agent_ids:
            agent_list_on_chain.delay(agent_id)

    transaction.on_commit(relist)
    return profile


# ---------------------------------------------------------------------------------- login


def wallet_login(*, message: str, signature: str, request_host: str) -> User:
    """The account a linked wallet logs in to. Never creates an account: an unknown wallet is
    refused with a hint to log in another way and link it first."""
    verified = siwe_verify(
        message=message,
        signature=signature,
        purpose=SiweNonce.Purpose.LOGIN,
        domain=request_host,
    )
    wallet = Wallet.objects.select_related("user").filter(address__iexact=verified.address).first()
    if wallet is None:
        raise WalletNotLinkedError(
            f"No AgentNexus account is linked to the wallet {verified.address}. Log in with "
            "your email and password, then link this wallet on your wallet page."
        )
    if not wallet.user.is_active:
        raise PermissionDeniedError(
            "The account linked to this wallet is disabled.", code="account_disabled"
        )
    return wallet.user


# ------------------------------------------------------------------------------- balances


@dataclass(frozen=True)
class TokenBalance:
    symbol: str
    token_address: str  # 0x0 for ETH
    units: int  # base units
    decimals: int
    is_test_token: bool = False

    @property
    def amount(self) -> Decimal:
        return Decimal(self.units).scaleb(-self.decimals)

    @property
    def display(self) -> str:
        """Rounded down for reading: 4 decimals for ETH-like tokens, 2 for 6-decimal ones."""
        places = 4 if self.decimals > 6 else 2
        shown = self.amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
        return f"{shown:,.{places}f}"


def _chain_client(*, timeout: float = 10.0) -> ChainClient:
    try:
        return ChainClient(
            settings.CHAIN_RPC_URL, expected_chain_id=settings.CHAIN_ID, timeout=timeout
        )
    except ChainError as exc:
        raise ChainUnavailableError(
            "The chain node is not answering, so balances and the faucet are unavailable."
        ) from exc


def wallet_balances(*, address: str) -> list[TokenBalance]:
    """ETH and every accepted token (the deployment's stablecoin) held by `address`.

    Raises ChainUnavailableError when the node cannot be reached.
    """
    client = _chain_client(timeout=BALANCE_RPC_TIMEOUT)
    deployment = chain_deployment_active(chain_id=settings.CHAIN_ID)
    try:
        balances = [TokenBalance("ETH", "0x" + "0" * 40, client.balance(address), 18)]
        if deployment is not None and deployment.stablecoin_address:
            market = Marketplace(
                client,
                entitlements=deployment.entitlements_address,
                escrow=deployment.escrow_address,
                stablecoin=deployment.stablecoin_address,
            )
            units = market.token_balance(deployment.stablecoin_address, address)
            balances.append(
                TokenBalance(
                    STABLECOIN_SYMBOL,
                    deployment.stablecoin_address,
                    int(units),
                    STABLECOIN_DECIMALS,
                    is_test_token=deployment.stablecoin_is_mock,
                )
            )
    except Exception as exc:  # noqa: BLE001 - web3 raises transport errors of many types
        logger.warning("balances of %s unavailable: %s", address, exc)
        raise ChainUnavailableError("The chain node did not answer the balance query.") from exc
    return balances


def wallet_activity(*, user: User, limit: int = 5) -> dict[str, list]:
    """`user`'s latest purchases and settlements (newest first), for the wallet page."""
    purchases = list(
        Purchase.objects.filter(user=user).select_related("agent").order_by("-created_at")[:limit]
    )
    settlements = list(
        Settlement.objects.filter(purchase__user=user)
        .select_related("run", "purchase__agent")
        .order_by("-created_at")[:limit]
    )
    return {"purchases": purchases, "settlements": settlements}


# --------------------------------------------------------------------------------- faucet


def dev_faucet_enabled() -> bool:
    """The faucet exists only where DEV_FAUCET_ENABLED is set and the chain is a local one."""
    return bool(getattr(settings, "DEV_FAUCET_ENABLED", False)) and (
        settings.CHAIN_ID in LOCAL_CHAIN_IDS
    )


@dataclass(frozen=True)
class FaucetGrant:
    address: str
    eth_wei: int
    eth_tx: str
    stablecoin_units: int
    stablecoin_tx: str | None


def dev_faucet(*, wallet: Wallet) -> FaucetGrant:
    """Development only: send `wallet` 1 test ETH (from anvil's account #7) and mint it 1,000 of
    the mock stablecoin. Refused unless DEV_FAUCET_ENABLED is true and the chain is local
    (31337/1337) - the node's own chain id is checked too, so a misconfigured production can
    never pay out from a well-known key or mint a real token."""
    if not dev_faucet_enabled():
        raise FaucetDisabledError("The test faucet is only available in local development.")
    client = _chain_client()
    if not client.is_local:  # pragma: no cover - expected_chain_id already matched CHAIN_ID
        raise FaucetDisabledError("The test faucet only runs against a local chain.")
    key = dev_private_keys(FAUCET_DEV_ACCOUNT + 1)[FAUCET_DEV_ACCOUNT]
    deployment = chain_deployment_active(chain_id=client.chain_id)
    try:
        with _faucet_lock:
            eth = client.send_value(wallet.address, FAUCET_ETH_WEI, key=key)
            stablecoin_tx = None
            units = 0
            if deployment is not None and deployment.stablecoin_is_mock:
                token = client.contract(MOCK_STABLECOIN, deployment.stablecoin_address)
                units = FAUCET_STABLECOIN * 10**STABLECOIN_DECIMALS
                minted = client.transact(
                    token.functions.mint(client.to_checksum(wallet.address), units), key=key
                )
                stablecoin_tx = minted["transactionHash"].to_0x_hex()
    except Exception as exc:  # noqa: BLE001 - web3 raises transport errors of many types
        logger.warning("faucet payment to %s failed: %s", wallet.address, exc)
        raise ChainUnavailableError(f"The faucet transaction failed: {exc}") from exc
    return FaucetGrant(
        address=wallet.address,
        eth_wei=FAUCET_ETH_WEI,
        eth_tx=eth["transactionHash"].to_0x_hex(),
        stablecoin_units=units,
        stablecoin_tx=stablecoin_tx,
    )
