"""The platform's signing keys and addresses, from settings; anvil's public accounts on a dev chain.

Keys are secrets: they come from the environment, are never logged, and never reach the database.
On a local chain (31337/1337) an unset key falls back to one of anvil's well-known development
accounts (public, funded on every dev node), so `make run` needs no configuration.
"""

from __future__ import annotations

import functools
import json

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


@functools.cache
def _dev_key(role: str) -> str:
    # Deriving from the mnemonic takes ~100 ms: once per process.
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
    """From CHAIN_ORCHESTRATOR_KEY, or an encrypted JSON keystore (CHAIN_ORCHESTRATOR_KEYSTORE,
    unlocked with CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD), or anvil's account on a dev chain."""
    path = getattr(settings, "CHAIN_ORCHESTRATOR_KEYSTORE", "")
    if path and not settings.CHAIN_ORCHESTRATOR_KEY:
        return _keystore_key(path, getattr(settings, "CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD", ""))
    return _key("CHAIN_ORCHESTRATOR_KEY", "orchestrator")


_keystore_cache: dict[str, str] = {}


def _keystore_key(path: str, password: str) -> str:
    # Decrypting is deliberately slow (scrypt): once per process.
    if path not in _keystore_cache:
        try:
            with open(path, encoding="utf-8") as handle:
                encrypted = json.load(handle)
            _keystore_cache[path] = Account.decrypt(encrypted, password).to_0x_hex()
        except (OSError, ValueError) as exc:
            # Never include the password or key material in the message.
            raise ImproperlyConfigured(
                f"CHAIN_ORCHESTRATOR_KEYSTORE {path}: cannot unlock it ({type(exc).__name__})"
            ) from None
    return _keystore_cache[path]


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
