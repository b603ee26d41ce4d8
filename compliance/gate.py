"""The compliance gate: one function per decision point, called by the services that move money
or start runs. Until the compliance issue fills them in, everything is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


def purchase_decision(*, user, agent, amount: Decimal, currency: str, request=None) -> Decision:
    """May `user` buy runs of `agent` worth `amount` `currency` now?"""
    return ALLOW


def run_decision(*, user, agent, request=None) -> Decision:
    """May `user` start a run of `agent` now?"""
    return ALLOW
