"""The settlement calls the orchestrator sends (bound contract functions, not yet sent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from payments.chain.marketplace import Marketplace


def settle_call(market: Marketplace, *, release: bool, runs: Sequence[tuple[int, bytes]]) -> Any:
    """`release`/`refund` for one run, the batch version for several (sorted by payment id so
    the contract reads each payment once)."""
    if len(runs) == 1:
        payment_id, ref = runs[0]
        name = "release" if release else "refund"
        return getattr(market.escrow.functions, name)(payment_id, ref)
    pairs = sorted(runs)
    name = "releaseBatch" if release else "refundBatch"
    return getattr(market.escrow.functions, name)([p for p, _ in pairs], [r for _, r in pairs])


def entitlement_units(market: Marketplace, *, holder: str, agent_id: int) -> int:
    return market.units(holder, agent_id)
