"""The agent protocol, platform side (docs/agent-protocol.md).

HTTP/1.1 over the Unix socket the agent serves ($AGENT_SOCKET): `GET /health`, then one
`POST /execute` answered with `application/x-ndjson` events. This module holds the client (plain
http.client with a Unix-socket connection) and the event reader, which enforces the limits:
bounded line length (nothing unbounded is buffered), the output size, the log budget, strict JSON,
secret redaction in messages. No Docker here.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

PROTOCOL_VERSION = 1
LOG_LEVELS = ("debug", "info", "warning", "error")
MAX_MESSAGE_CHARS = 16_000  # forwarded log / progress / error messages are cut to this
MAX_CODE_CHARS = 100
LINE_OVERHEAD = 64 * 1024  # allowance over max_output_bytes for one event line
MIN_SECRET_CHARS = 4  # shorter secret values are not redacted
REDACTED = "[redacted]"
FINAL_TYPES = ("result", "error")


class ProtocolViolation(Exception):
    """The agent broke the protocol (bad JSON, bad status, ...)."""

    reason = "protocol_error"


class OutputTooLarge(ProtocolViolation):
    reason = "output_too_large"


# ----------------------------------------------------------------------------- HTTP over Unix socket


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client connection to a Unix socket; `timeout` applies to connect and each read."""

    def __init__(self, socket_path: str, timeout: float | None = None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def check_health(socket_path: str, timeout: float = 1.0) -> bool:
    """True when the agent answers `GET /health` with 200."""
    conn = UnixHTTPConnection(socket_path, timeout=timeout)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def open_execute(
    socket_path: str, body: bytes, *, run_id: str, timeout: float | None
) -> tuple[UnixHTTPConnection, http.client.HTTPResponse]:
    """Send `POST /execute`; returns the connection and the (streaming) response. Raises
    ProtocolViolation for a non-200 answer, OSError / HTTPException when the agent is gone."""
    conn = UnixHTTPConnection(socket_path, timeout=timeout)
    try:
        conn.request(
            "POST",
            "/execute",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/x-ndjson",
                "X-Run-ID": run_id,
            },
        )
        response = conn.getresponse()
    except BaseException:
        conn.close()
        raise
    if response.status != 200:
        detail = response.read(2000).decode("utf-8", "replace")
        conn.close()
        raise ProtocolViolation(f"/execute answered HTTP {response.status}: {detail}".strip())
    return conn, response


# ----------------------------------------------------------------------------- events


class Redactor:
    """Replaces the values of a run's secrets in text the platform forwards or stores."""

    def __init__(self, secrets: Mapping[str, Any] | None) -> None:
        values = set()
        for value in (secrets or {}).values():
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) >= MIN_SECRET_CHARS:
                values.add(text)
                escaped = json.dumps(text)[1:-1]  # as it appears inside a JSON string
                if escaped != text:
                    values.add(escaped)
        self.values = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(line: bytes) -> Any:
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ProtocolViolation(f"an event line is not valid JSON: {str(exc)[:200]}") from None


def json_size(value: Any) -> int:
    """Size of `value` as compact UTF-8 JSON."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Final:
    kind: Literal["result", "error"]
    output: Any = None
    code: str | None = None
    message: str | None = None


@dataclass
class StreamOutcome:
    final: Final | None = None  # None: the stream ended (or broke) before a final event
    violation: ProtocolViolation | None = None  # set when the agent broke the protocol
    ended: str | None = None  # why the stream stopped without a final event (EOF, read error)
    logs_truncated: bool = False
    event_bytes: int = 0  # bytes of log / progress lines received
    events: int = 0  # log / progress events received


class EventReader:
    """Reads an agent's NDJSON event stream, normalises events and enforces the limits.

    Log and progress events are passed to `on_event` as {"type": "log", "level", "message"} /
    {"type": "progress", "percent", "message"}; their lines count against `max_log_bytes`. Past it,
    one warning marker is sent instead, further log / progress events are dropped and reading
    goes on for the final event. Unknown event types are ignored (forward compatibility). The
    final `result` / `error` ends reading: anything after it is never read.
    """

    def __init__(
        self,
        *,
        max_output_bytes: int,
        max_log_bytes: int,
        on_event: Callable[[dict], None],
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.max_output_bytes = max_output_bytes
        self.max_log_bytes = max_log_bytes
        self.max_line = max_output_bytes + LINE_OVERHEAD
        self.on_event = on_event
        self.redact = redact or (lambda text: text)
        self.outcome = StreamOutcome()

    def _text(self, value: Any) -> str:
        return _cut(self.redact(value if isinstance(value, str) else json.dumps(value)))

    def _budget(self, size: int) -> bool:
        """Count an event's bytes; False once the log budget is spent (marker sent once)."""
        out = self.outcome
        out.event_bytes += size
        out.events += 1
        if out.event_bytes <= self.max_log_bytes:
            return True
        if not out.logs_truncated:
            out.logs_truncated = True
            self.on_event(
                {
                    "type": "log",
                    "level": "warning",
                    "message": f"[log truncated: limit of {self.max_log_bytes} bytes reached]",
                }
            )
        return False

    def feed(self, line: bytes) -> Final | None:
        """Handle one complete line (newline included or not). Returns the final event when it
        is one; raises ProtocolViolation / OutputTooLarge."""
        if len(line) > self.max_line:
            raise self._too_long(line)
        if not line.strip():
            return None
        event = _loads(line)
        if not isinstance(event, dict):
            raise ProtocolViolation("an event is not a JSON object")
        kind = event.get("type")
        if kind == "log":
            if self._budget(len(line)):
                level = event.get("level")
                self.on_event(
                    {
                        "type": "log",
                        "level": level if level in LOG_LEVELS else "info",
                        "message": self._text(event.get("message", "")),
                    }
                )
            return None
        if kind == "progress":
            if self._budget(len(line)):
                percent = event.get("percent")
                if isinstance(percent, bool) or not isinstance(percent, int | float):
                    percent = 0
                self.on_event(
                    {
                        "type": "progress",
                        "percent": min(100, max(0, percent)),
                        "message": self._text(event.get("message", "")),
                    }
                )
            return None
        if kind == "result":
            if "output" not in event:
                raise ProtocolViolation("a result event has no output")
            output = event["output"]
            size = json_size(output)
            if size > self.max_output_bytes:
                raise OutputTooLarge(
                    f"The output is {size} bytes; the limit is {self.max_output_bytes} bytes."
                )
            return Final("result", output=output)
        if kind == "error":
            code = event.get("code")
            code = (
                code.strip()[:MAX_CODE_CHARS]
                if isinstance(code, str) and code.strip()
                else "agent_error"
            )
            message = self._text(event.get("message") or code)
            return Final("error", code=self.redact(code), message=message)
        return None  # unknown event type: ignored

    def _too_long(self, head: bytes) -> ProtocolViolation:
        if b'"result"' in head[:256]:
            return OutputTooLarge(
                f"The output is larger than the limit of {self.max_output_bytes} bytes."
            )
        return ProtocolViolation(f"an event line is longer than {self.max_line} bytes")

    def read(self, stream: BinaryIO | http.client.HTTPResponse) -> StreamOutcome:
        """Read `stream` until the final event, a violation, or its end. Never raises for I/O
        errors (a killed agent is a broken stream): they end reading with `ended` set."""
        out = self.outcome
        while True:
            try:
                line = stream.readline(self.max_line + 1)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                out.ended = f"the event stream broke: {type(exc).__name__}"
                return out
            if not line:
                out.ended = "the event stream ended without a result"
                return out
            if len(line) > self.max_line:
                out.violation = self._too_long(line)
                return out
            try:
                final = self.feed(line)
            except ProtocolViolation as exc:
                out.violation = exc
                return out
            if final is not None:
                out.final = final
                return out


def read_events(
    stream: BinaryIO | http.client.HTTPResponse,
    *,
    max_output_bytes: int,
    max_log_bytes: int,
    on_event: Callable[[dict], None],
    secrets: Mapping[str, Any] | None = None,
) -> StreamOutcome:
    """Convenience wrapper around EventReader."""
    reader = EventReader(
        max_output_bytes=max_output_bytes,
        max_log_bytes=max_log_bytes,
        on_event=on_event,
        redact=Redactor(secrets),
    )
    return reader.read(stream)
