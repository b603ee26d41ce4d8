"""Hyperliquid paper trader: simulates a strategy on a price series under a risk guard.

Paper trading only (no network, no keys): the simulation lives in logic.py (standard library
only, no SDK), this is the agent wrapper.
"""

from agentnexus_sdk import AgentError, agent
from logic import InputError, simulate


@agent
def handle(input, ctx):
    strategy = input.get("strategy") or {}
    ctx.log(f"paper trading {strategy.get('type')} on {len(input.get('prices') or [])} bars")
    try:
        result = simulate(input)
    except InputError as exc:
        raise AgentError(exc.code, str(exc)) from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise AgentError("bad_input", str(exc)) from exc
    for note in result["notes"]:
        ctx.log(note, level="warning")
    for event in result["risk_events"]:
        ctx.log(f"bar {event['bar']}: {event['message']}", level="warning")
    ctx.log(f"{len(result['orders'])} order(s), PnL {result['pnl']}, halted: {result['halted']}")
    return result


if __name__ == "__main__":
    handle.serve()
