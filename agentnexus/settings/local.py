"""Local development and `make run`: base settings as they are (DEBUG only when asked)."""

from .base import *  # noqa: F403

# The wallet page's faucet (test ETH and test USDC on the local chain only).
DEV_FAUCET_ENABLED = env.bool("DEV_FAUCET_ENABLED", default=True)  # noqa: F405
# anvil mines a block per transaction and none otherwise: index up to the head.
CHAIN_INDEXER_LAG = env.int("CHAIN_INDEXER_LAG", default=0)  # noqa: F405
