"""Local development and `make run`: base settings as they are (DEBUG only when asked)."""

from .base import *  # noqa: F403

# The wallet page's faucet (test ETH and test USDC on the local chain only).
DEV_FAUCET_ENABLED = env.bool("DEV_FAUCET_ENABLED", default=True)  # noqa: F405
# anvil mines a block per transaction and none otherwise: index up to the head.
CHAIN_INDEXER_LAG = env.int("CHAIN_INDEXER_LAG", default=0)  # noqa: F405

# KYC encryption for local use only: a key derived from the (local) secret key unless one is set.
# Production must set KYC_ENCRYPTION_KEYS (docs/decisions/0011-kyc.md).
KYC_ENCRYPTION_KEYS = env(  # noqa: F405
    "KYC_ENCRYPTION_KEYS",
    default="local:"
    + __import__("base64").b64encode(
        __import__("hashlib").sha256(f"kyc:{SECRET_KEY}".encode()).digest()  # noqa: F405
    ).decode(),
)
