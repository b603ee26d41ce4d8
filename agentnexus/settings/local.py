"""Local development and `make run`: base settings as they are (DEBUG only when asked)."""

import base64
import hashlib

from .base import *  # noqa: F403

# The wallet page's faucet (test ETH and test USDC on the local chain only).
DEV_FAUCET_ENABLED = env.bool("DEV_FAUCET_ENABLED", default=True)  # noqa: F405
# anvil mines a block per transaction and none otherwise: index up to the head.
CHAIN_INDEXER_LAG = env.int("CHAIN_INDEXER_LAG", default=0)  # noqa: F405

# KYC encryption for local use only: a key derived from the (local) secret key unless one is set.
# Production must set KYC_ENCRYPTION_KEYS (docs/decisions/0011-kyc.md).
_local_kyc_key = base64.b64encode(hashlib.sha256(f"kyc:{SECRET_KEY}".encode()).digest()).decode()  # noqa: F405
KYC_ENCRYPTION_KEYS = env("KYC_ENCRYPTION_KEYS", default=f"local:{_local_kyc_key}")  # noqa: F405
