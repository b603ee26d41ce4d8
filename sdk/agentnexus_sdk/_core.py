"""The agent function, its run context and the events it produces (no I/O here)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

PROTOCOL_VERSION = 1
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_MESSAGE_CHARS = 16_000  # longer log / progress / error messages are cut
MAX_CODE_CHARS = 100
REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4  # shorter secret values are not redacted (they would mangle every message)

Line = bytes  # one NDJSON line, newline included


class AgentError(Exception):
    """Raise from a handler to end the run with a specific error code, e.g.
    `raise AgentError("bad_input", "column 'price' is missing")`."""

    def __init__(self, code: str, message: str = "") -> None:
        code = str(code or "agent_error").strip() or "agent_error"
        self.code = code[:MAX_CODE_CHARS]
        self.message = str(message or code)
        super().__init__(self.message)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _line(event: Mapping[str, Any]) -> Line:
    return (_dumps(event) + "\n").encode("utf-8")


def _cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_deadline(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Context:
    """What a handler gets besides its input: logging, progress, secrets and run metadata."""

    def __init__(
        self,
        *,
        write: Callable[[Line], None],
        secrets: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._open = True
        clean = {str(k): v if isinstance(v, str) else _dumps(v) for k, v in (secrets or {}).items()}
        self.secrets: Mapping[str, str] = MappingProxyType(clean)
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata or {}))
        self.run_id: str | None = self.metadata.get("run_id")
        self.deadline: dt.datetime | None = _parse_deadline(self.metadata.get("deadline"))
        self._redact = sorted(
            {v for v in clean.values() if len(v) >= MIN_SECRET_CHARS}, key=len, reverse=True
        )

    # --- helpers for handlers -------------------------------------------------------------------
    def remaining(self) -> float | None:
        """Seconds until the run's deadline (negative once passed), None if there is none."""
        if self.deadline is None:
            return None
        return (self.deadline - dt.datetime.now(dt.UTC)).total_seconds()

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by "[redacted]"."""
        for value in self._redact:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def log(self, message: Any, level: str = "info") -> None:
        """Send a log line to the run's viewers (secret values are redacted)."""
        level = level if level in LOG_LEVELS else "info"
        self._emit({"type": "log", "level": level, "message": self._text(message)})

    def progress(self, percent: float, message: Any = "") -> None:
        """Report progress, 0-100 (clamped)."""
        try:
            value = float(percent)
        except (TypeError, ValueError):
            value = 0.0
        if value != value:  # NaN
            value = 0.0
        value = min(100.0, max(0.0, value))
        self._emit(
            {
                "type": "progress",
                "percent": int(value) if value.is_integer() else round(value, 2),
                "message": self._text(message),
            }
        )

    # --- internals ---------------------------------------------------------------------------------
    def _text(self, message: Any) -> str:
        return _cut(self.redact(message if isinstance(message, str) else str(message)))

    def _emit(self, event: Mapping[str, Any]) -> None:
        data = _line(event)
        with self._lock:
            if self._open:
                self._write(data)

    def _emit_raw(self, data: bytes) -> None:
        """Write bytes to the event stream as they are (protocol tests only)."""
        with self._lock:
            if self._open:
                self._write(data)

    def _close(self) -> None:
        with self._lock:
            self._open = False


def _takes_context(func: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


class Agent:
    """A handler function `(input, ctx) -> JSON value` (or `(input) -> ...`) made servable."""

    def __init__(self, func: Callable[..., Any], *, name: str | None = None) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.name = name or getattr(func, "__name__", "agent")
        self._takes_ctx = _takes_context(func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Agent {self.name}>"

    def execute(self, payload: Mapping[str, Any], write: Callable[[Line], None]) -> Line:
        """Run the handler for one /execute payload. Log and progress lines go to `write` while it
        runs; the final `result` or `error` line is returned (not written)."""
        ctx = Context(write=write, secrets=payload.get("secrets"), metadata=payload.get("metadata"))
        try:
            args = (payload.get("input"), ctx) if self._takes_ctx else (payload.get("input"),)
            output = self.func(*args)
        except AgentError as exc:
            final = {"type": "error", "code": exc.code, "message": _cut(ctx.redact(exc.message))}
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - every failure becomes an event
            tb = ctx.redact("".join(traceback.format_exception(exc)))
            print(f"agentnexus_sdk: handler raised\n{tb}", file=sys.stderr, flush=True)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            final = {"type": "error", "code": "agent_error", "message": _cut(ctx.redact(message))}
        else:
            try:
                body = _dumps(output)
            except (TypeError, ValueError) as exc:
                final = {
                    "type": "error",
                    "code": "invalid_output",
                    "message": _cut(
                        ctx.redact(f"The handler returned a value that is not JSON: {exc}")
                    ),
                }
            else:
                ctx._close()
                return ('{"type":"result","output":' + body + "}\n").encode("utf-8")
        finally:
            ctx._close()
        return _line(final)

    def run_local(
        self,
        input: Any,
        *,
        secrets: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Run once in this process and return the events (the last one is the result or the
        error), exactly as the platform would receive them. For tests and local development."""
        lines: list[bytes] = []
        payload = {"input": input, "secrets": dict(secrets or {}), "metadata": dict(metadata or {})}
        lines.append(self.execute(payload, lines.append))
        return [json.loads(line) for line in lines]

    def serve(self, socket_path: str | None = None) -> None:
        """Serve this agent on the Unix socket `socket_path` (default $AGENT_SOCKET) forever."""
        from agentnexus_sdk._server import serve

        serve(self, socket_path=socket_path)


_registry: list[Agent] = []


def agent(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: `@agent` or `@agent(name="summarizer")` turns a handler into an `Agent`."""

    def wrap(f: Callable[..., Any]) -> Agent:
        made = Agent(f, name=name)
        _registry.append(made)
        return made

    return wrap(func) if func is not None else wrap


def registered_agent() -> Agent:
    """The agent defined last with `@agent` (what `python3 -m agentnexus_sdk` serves)."""
    if not _registry:
        raise LookupError("no @agent handler has been defined")
    return _registry[-1]
