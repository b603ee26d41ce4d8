"""Paper trading of a strategy on a price series, Hyperliquid-style perpetuals, with a risk guard.

Nothing leaves the process: orders are simulated market orders filled at the bar's close (plus
slippage) with a taker fee in basis points, stops fill at the stop price (or the open when the bar
gaps through it). The risk guard applies the agent's safety profile (SAFETY, also in agent.yaml):
the caller's limits are clamped to it; an entry larger than max_position_pct of equity is refused;
every position carries a stop-loss; after the daily loss limit the position is closed and trading
halts until the next day; at the maximum drawdown everything is closed and trading stops.
Importable without the agent SDK.
"""

from __future__ import annotations

import datetime as dt
import math

# The agent's safety profile (agent.yaml `safety`): hard caps whatever the input asks.
SAFETY = {
    "max_trade_pct_of_portfolio": 25.0,
    "stop_loss_required": True,
    "max_daily_loss_pct": 5.0,
    "max_drawdown_pct": 20.0,
}
DEFAULT_RISK = {
    "max_position_pct": 10.0,
    "max_daily_loss_pct": 3.0,
    "max_drawdown_pct": 15.0,
    "stop_loss_pct": 5.0,
}
MAX_STOP_LOSS_PCT = 50.0
DEFAULT_FEE_BPS = 4.5  # Hyperliquid base taker fee: 0.045 %
STRATEGIES = ("sma_cross", "breakout", "rsi_reversion", "buy_and_hold")


class InputError(ValueError):
    """Bad input; `code` is the agent error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _r(value: float, digits: int = 4) -> float:
    value = round(float(value), digits)
    return 0.0 if value == 0 else value


# ------------------------------------------------------------------------------------ input


def _timestamp(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("bad_input", f"bad timestamp {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError("bad_input", f"bad timestamp {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def normalize_prices(prices: list, bars_per_day: int = 24) -> list[dict]:
    """Bars {t, day, o, h, l, c}; plain numbers become bars with o = h = l = c and days of
    `bars_per_day` bars."""
    bars = []
    for i, p in enumerate(prices):
        if isinstance(p, int | float) and not isinstance(p, bool):
            c = float(p)
            bar = {"t": None, "o": c, "h": c, "l": c, "c": c}
        elif isinstance(p, dict) and "c" in p:
            c = float(p["c"])
            o = float(p.get("o", c))
            bar = {
                "t": p.get("t"),
                "o": o,
                "h": float(p.get("h", max(o, c))),
                "l": float(p.get("l", min(o, c))),
                "c": c,
            }
        else:
            raise InputError("bad_input", f"prices[{i}] must be a number or a candle with 'c'")
        if not all(math.isfinite(bar[k]) and bar[k] > 0 for k in "ohlc"):
            raise InputError("bad_input", f"prices[{i}] must be positive finite numbers")
        when = _timestamp(bar["t"])
        bar["day"] = when.date().isoformat() if when else f"day-{i // max(1, bars_per_day) + 1}"
        bars.append(bar)
    return bars


def effective_risk(risk: dict | None) -> tuple[dict, list[str]]:
    """The caller's limits (defaults filled in) clamped to the safety profile, with notes."""
    risk = dict(risk or {})
    out, notes = {}, []
    caps = {
        "max_position_pct": SAFETY["max_trade_pct_of_portfolio"],
        "max_daily_loss_pct": SAFETY["max_daily_loss_pct"],
        "max_drawdown_pct": SAFETY["max_drawdown_pct"],
        "stop_loss_pct": MAX_STOP_LOSS_PCT,
    }
    for key, default in DEFAULT_RISK.items():
        value = risk.get(key)
        if value is None:
            if key == "stop_loss_pct" and SAFETY["stop_loss_required"]:
                notes.append(
                    f"stop_loss_pct not given: the safety profile requires one, {default} % used"
                )
            value = default
        value = float(value)
        if not (value > 0 and math.isfinite(value)):
            raise InputError("bad_input", f"risk.{key} must be a positive number")
        if value > caps[key]:
            notes.append(
                f"risk.{key} {value:g} is above the safety profile's cap: {caps[key]:g} used"
            )
            value = caps[key]
        out[key] = value
    return out, notes


# ------------------------------------------------------------------------------- strategies


def _sma(closes: list[float], n: int, i: int) -> float | None:
    return sum(closes[i - n + 1 : i + 1]) / n if i + 1 >= n else None


def _rsi(closes: list[float], n: int) -> list[float | None]:
    """Wilder's RSI."""
    out: list[float | None] = [None] * len(closes)
    if len(closes) <= n:
        return out
    gains = [max(0.0, closes[i] - closes[i - 1]) for i in range(1, len(closes))]
    losses = [max(0.0, closes[i - 1] - closes[i]) for i in range(1, len(closes))]
    avg_g, avg_l = sum(gains[:n]) / n, sum(losses[:n]) / n
    for i in range(n, len(closes)):
        if i > n:
            avg_g = (avg_g * (n - 1) + gains[i - 1]) / n
            avg_l = (avg_l * (n - 1) + losses[i - 1]) / n
        out[i] = 100.0 if avg_l == 0 else 100 - 100 / (1 + avg_g / avg_l)
    return out


def _int_param(params: dict, key: str, default: int, low: int = 1) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) < low:
        raise InputError("bad_input", f"strategy.{key} must be an integer >= {low}")
    return int(value)


def signals(kind: str, params: dict, bars: list[dict]) -> list[str | None]:
    """Per bar, at its close: "long", "short", "exit" or None (no change wanted)."""
    closes = [b["c"] for b in bars]
    n = len(bars)
    out: list[str | None] = [None] * n
    short = bool(params.get("allow_short", False))
    if kind == "buy_and_hold":
        if n:
            out[0] = "long"
    elif kind == "sma_cross":
        fast, slow = _int_param(params, "fast", 10), _int_param(params, "slow", 30)
        if fast >= slow:
            raise InputError("bad_input", "strategy.fast must be smaller than strategy.slow")
        prev = None
        for i in range(n):
            f, s = _sma(closes, fast, i), _sma(closes, slow, i)
            if f is None or s is None:
                continue
            state = "above" if f > s else "below" if f < s else prev
            if prev is not None and state != prev:
                out[i] = "long" if state == "above" else ("short" if short else "exit")
            prev = state
    elif kind == "breakout":
        look = _int_param(params, "lookback", 20)
        exit_look = _int_param(params, "exit_lookback", max(1, look // 2))
        for i in range(n):
            if i >= look:
                high = max(b["h"] for b in bars[i - look : i])
                low = min(b["l"] for b in bars[i - look : i])
                if closes[i] > high:
                    out[i] = "long"
                    continue
                if closes[i] < low and short:
                    out[i] = "short"
                    continue
            if i >= exit_look:
                exit_low = min(b["l"] for b in bars[i - exit_look : i])
                exit_high = max(b["h"] for b in bars[i - exit_look : i])
                if closes[i] < exit_low:
                    out[i] = "exit_long"
                elif closes[i] > exit_high:
                    out[i] = "exit_short"
    elif kind == "rsi_reversion":
        period = _int_param(params, "period", 14, 2)
        low, high = float(params.get("oversold", 30)), float(params.get("overbought", 70))
        mid = float(params.get("exit_level", 50))
        rsi = _rsi(closes, period)
        for i in range(1, n):
            a, b = rsi[i - 1], rsi[i]
            if a is None or b is None:
                continue
            if a >= low > b:
                out[i] = "long"
            elif a <= high < b and short:
                out[i] = "short"
            elif a < mid <= b:
                out[i] = "exit_long"
            elif a > mid >= b:
                out[i] = "exit_short"
    else:
        raise InputError(
            "unknown_strategy", f"strategy.type must be one of {', '.join(STRATEGIES)}"
        )
    return out


# ------------------------------------------------------------------------------- simulation


def simulate(spec: dict) -> dict:
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type")
    params = dict(strategy.get("params") or {})
    params.update({k: v for k, v in strategy.items() if k not in ("type", "params")})
    bars = normalize_prices(spec.get("prices") or [], int(spec.get("bars_per_day") or 24))
    if len(bars) < 2:
        raise InputError("bad_input", "prices needs at least 2 bars")
    start = float(spec.get("starting_balance", 10_000))
    if not (start > 0 and math.isfinite(start)):
        raise InputError("bad_input", "starting_balance must be positive")
    fee_rate = float(spec.get("fee_bps", DEFAULT_FEE_BPS)) / 10_000
    slip = float(spec.get("slippage_bps", 0)) / 10_000
    if not (0 <= fee_rate < 0.1 and 0 <= slip < 0.1):
        raise InputError("bad_input", "fee_bps and slippage_bps must be between 0 and 1000")
    risk, notes = effective_risk(spec.get("risk"))
    size_pct = float(params.get("size_pct", risk["max_position_pct"]))
    wanted = signals(kind, params, bars)

    cash, qty, entry = start, 0.0, 0.0
    peak, max_dd = start, 0.0
    day, day_start = None, start
    day_halted, halted = False, None
    orders, events, curve = [], [], []
    fees = 0.0
    closed_trades = wins = 0
    entry_cost = 0.0  # fees paid to open the current position

    def fill(i: int, side: str, amount: float, price: float, reason: str) -> None:
        nonlocal cash, qty, entry, fees, closed_trades, wins, entry_cost
        price = price * (1 + slip) if side == "buy" else price * (1 - slip)
        signed = amount if side == "buy" else -amount
        notional = amount * price
        fee = notional * fee_rate
        closing = qty != 0 and (qty > 0) != (signed > 0)
        if closing:
            gross = (price - entry) * qty
            closed_trades += 1
            wins += 1 if gross - fee - entry_cost > 0 else 0
        cash -= signed * price + fee
        fees += fee
        qty = 0.0 if closing else qty + signed
        entry = price if not closing else 0.0
        entry_cost = fee if not closing else 0.0
        orders.append({
            "bar": i, "t": bars[i]["t"], "side": side, "qty": _r(amount, 8), "price": _r(price),
            "notional": _r(notional), "fee": _r(fee), "reason": reason, "status": "filled",
        })  # fmt: skip

    def close(i: int, price: float, reason: str) -> None:
        if qty:
            fill(i, "sell" if qty > 0 else "buy", abs(qty), price, reason)

    def event(i: int, kind: str, message: str) -> None:
        events.append({"bar": i, "t": bars[i]["t"], "type": kind, "message": message})

    for i, bar in enumerate(bars):
        if bar["day"] != day:
            day = bar["day"]
            day_start = cash + qty * bar["o"]
            if day_halted and not halted:
                event(i, "resume", f"new day {day}: trading resumes")
            day_halted = False
        if halted:
            curve.append(_r(cash, 2))
            continue
        # Stop-loss first: it is resting on the book during the bar.
        if qty:
            stop = (
                entry * (1 - risk["stop_loss_pct"] / 100)
                if qty > 0
                else entry * (1 + risk["stop_loss_pct"] / 100)
            )
            if qty > 0 and bar["l"] <= stop:
                close(i, min(bar["o"], stop), "stop_loss")
            elif qty < 0 and bar["h"] >= stop:
                close(i, max(bar["o"], stop), "stop_loss")
        equity = cash + qty * bar["c"]
        peak = max(peak, equity)
        dd = (peak - equity) / peak * 100 if peak > 0 else 0.0
        if dd >= risk["max_drawdown_pct"]:
            close(i, bar["c"], "max_drawdown")
            halted = "max_drawdown"
            event(
                i,
                "halt",
                f"drawdown {dd:.2f} % reached the limit of {risk['max_drawdown_pct']:g} %: trading stopped",
            )
        elif not day_halted and equity <= day_start * (1 - risk["max_daily_loss_pct"] / 100):
            close(i, bar["c"], "daily_loss_limit")
            day_halted = True
            loss = (day_start - equity) / day_start * 100
            event(
                i,
                "daily_halt",
                f"daily loss {loss:.2f} % reached the limit of {risk['max_daily_loss_pct']:g} %: no trading until the next day",
            )
        elif not day_halted:
            want = wanted[i]
            side_now = "long" if qty > 0 else "short" if qty < 0 else None
            reverse = want in ("long", "short") and want != side_now
            if side_now and (want in ("exit", f"exit_{side_now}") or reverse):
                close(i, bar["c"], "signal_exit")
            if want in ("long", "short") and not qty:
                equity_now = cash
                price = bar["c"]
                if size_pct > risk["max_position_pct"]:
                    orders.append({
                        "bar": i, "t": bar["t"], "side": "buy" if want == "long" else "sell",
                        "qty": _r(equity_now * size_pct / 100 / price, 8), "price": _r(price),
                        "notional": _r(equity_now * size_pct / 100), "fee": 0.0,
                        "reason": "signal_entry", "status": "rejected",
                        "reject_reason": f"size {size_pct:g} % of equity exceeds max_position_pct {risk['max_position_pct']:g} %",
                    })  # fmt: skip
                else:
                    amount = equity_now * size_pct / 100 / price
                    fill(i, "buy" if want == "long" else "sell", amount, price, "signal_entry")
        equity = cash + qty * bar["c"]
        peak = max(peak, equity)
        max_dd = max(max_dd, (peak - equity) / peak * 100 if peak > 0 else 0.0)
        curve.append(_r(equity, 2))

    final = cash + qty * bars[-1]["c"]
    return {
        "orders": orders,
        "pnl": _r(final - start, 2),
        "return_pct": _r((final - start) / start * 100),
        "max_drawdown_pct": _r(max_dd),
        "halted": halted,
        "equity_curve": curve,
        "final_equity": _r(final, 2),
        "fees_paid": _r(fees, 2),
        "closed_trades": closed_trades,
        "winning_trades": wins,
        "open_position": {
            "side": "long" if qty > 0 else "short",
            "qty": _r(abs(qty), 8),
            "entry_price": _r(entry),
        }
        if qty
        else None,
        "risk": risk,
        "risk_events": events,
        "notes": notes,
        "symbol": str(spec.get("symbol") or "BTC"),
        "mode": "paper",
    }
