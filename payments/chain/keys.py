"""The platform's signing keys and addresses, from settings; anvil's public accounts on a dev chain.

Keys are secrets: they come from the environment, are never logged, and never reach the database.
On a local chain (31337/1337) an unset key falls back to one of anvil's well-known development
accounts (public, funded on every dev node), so `make run` needs no configuration.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from eth_account import Account

from payments.chain.anvil import dev_private_keys
from payments.chain.client import LOCAL_CHAIN_IDS

# Which anvil account plays which part on a dev chain. #1 is the demo developer's payout address
# (seed_demo) and #2-#7 are left for demo buyers.
DEV_ACCOUNT = {"deployer": 0, "orchestrator": 8, "fee_recipient": 9}


def _local() -> bool:
    return settings.CHAIN_ID in LOCAL_CHAIN_IDS


def _dev_key(role: str) -> str:
    return dev_private_keys(DEV_ACCOUNT[role] + 1)[DEV_ACCOUNT[role]]


def _key(setting: str, role: str) -> str:
    value = getattr(settings, setting)
    if value:
        return value
    if _local():
        return _dev_key(role)
    raise ImproperlyConfigured(f"{setting} is not set (required on chain {settings.CHAIN_ID})")


def deployer_key() -> str:
    return _key("CHAIN_DEPLOYER_KEY", "deployer")


def orchestrator_key() -> str:
    return _key("CHAIN_ORCHESTRATOR_KEY", "orchestrator")


def address_of(key: str) -> str:
    return Account.from_key(key).address


def fee_recipient_address() -> str:
    if settings.CHAIN_FEE_RECIPIENT:
        return settings.CHAIN_FEE_RECIPIENT
    if _local():
        return address_of(_dev_key("fee_recipient"))
    raise ImproperlyConfigured(
        f"CHAIN_FEE_RECIPIENT is not set (required on chain {settings.CHAIN_ID})"
    )
