"""The platform side of the agent protocol: event parsing, limits and redaction (no Docker)."""

from __future__ import annotations

import io
import json

import pytest

from runtime import protocol
from runtime.protocol import OutputTooLarge, ProtocolViolation, Redactor


def lines(*events) -> io.BytesIO:
    return io.BytesIO(
        b"".join(e if isinstance(e, bytes) else (json.dumps(e) + "\n").encode() for e in events)
    )


def read(stream, *, max_output=1000, max_log=10_000, secrets=None):
    seen: list[dict] = []
    outcome = protocol.read_events(
        stream,
        max_output_bytes=max_output,
        max_log_bytes=max_log,
        on_event=seen.append,
        secrets=secrets,
    )
    return outcome, seen


def test_events_are_normalised_and_forwarded_in_order():
    outcome, seen = read(
        lines(
            {"type": "log", "level": "info", "message": "one"},
            {"type": "progress", "percent": 150, "message": "over"},
            {"type": "log", "level": "shout", "message": 42},
            {"type": "progress", "percent": "half"},
            {"type": "mystery", "anything": True},
            b"\n",
            {"type": "result", "output": {"ok": True}},
        )
    )
    assert outcome.final == protocol.Final("result", output={"ok": True})
    assert outcome.violation is None and not outcome.logs_truncated
    assert seen == [
        {"type": "log", "level": "info", "message": "one"},
        {"type": "progress", "percent": 100, "message": "over"},
        {"type": "log", "level": "info", "message": "42"},
        {"type": "progress", "percent": 0, "message": ""},
    ]


def test_the_first_final_event_ends_reading():
    stream = lines(
        {"type": "error", "code": "bad_input", "message": "no"},
        {"type": "result", "output": 1},
        b"garbage\n",
    )
    outcome, _ = read(stream)
    assert outcome.final == protocol.Final("error", code="bad_input", message="no")
    assert stream.read() == b'{"type": "result", "output": 1}\ngarbage\n'


def test_error_codes_and_messages_are_bounded():
    outcome, _ = read(lines({"type": "error", "code": "x" * 500, "message": "m" * 50_000}))
    assert len(outcome.final.code) == protocol.MAX_CODE_CHARS
    assert len(outcome.final.message) == protocol.MAX_MESSAGE_CHARS
    outcome, _ = read(lines({"type": "error", "code": "  "}))
    assert outcome.final.code == "agent_error"


@pytest.mark.parametrize(
    "raw",
    [b"not json\n", b"[1, 2]\n", b'{"type": "result", "output": NaN}\n', b'{"type": "result"}\n'],
)
def test_malformed_events_are_protocol_errors(raw):
    outcome, _ = read(lines({"type": "log", "message": "fine"}, raw))
    assert type(outcome.violation) is ProtocolViolation
    assert outcome.violation.reason == "protocol_error"
    assert outcome.final is None


def test_a_result_over_the_output_limit_is_output_too_large():
    outcome, _ = read(lines({"type": "result", "output": "x" * 2000}), max_output=1000)
    assert isinstance(outcome.violation, OutputTooLarge)
    assert outcome.violation.reason == "output_too_large"


def test_an_endless_line_is_never_buffered_past_the_cap():
    class Endless(io.RawIOBase):
        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.served == 0:
                head = b'{"type":"result","output":"'
                buffer[: len(head)] = head
                self.served += len(head)
                return len(head)
            n = min(len(buffer), 65536)
            buffer[:n] = b"x" * n
            self.served += n
            return n

    raw = Endless()
    outcome, _ = read(io.BufferedReader(raw), max_output=100_000)
    assert isinstance(outcome.violation, OutputTooLarge)
    assert raw.served < 100_000 + protocol.LINE_OVERHEAD + 2 * 65536


def test_log_flood_is_cut_with_one_marker_and_the_result_still_counts():
    flood = [{"type": "log", "level": "info", "message": "y" * 100} for _ in range(100)]
    outcome, seen = read(lines(*flood, {"type": "result", "output": "done"}), max_log=2000)
    assert outcome.final.output == "done"
    assert outcome.logs_truncated
    markers = [e for e in seen if "log truncated" in e["message"]]
    assert markers == [
        {
            "type": "log",
            "level": "warning",
            "message": "[log truncated: limit of 2000 bytes reached]",
        }
    ]
    forwarded = [e for e in seen if e not in markers]
    assert 0 < len(forwarded) < 20
    assert seen[-1] == markers[0]


def test_eof_without_a_final_event():
    outcome, seen = read(lines({"type": "log", "message": "bye"}))
    assert outcome.final is None and outcome.violation is None
    assert "ended" in outcome.ended
    assert seen == [{"type": "log", "level": "info", "message": "bye"}]


def test_secret_values_are_redacted_from_messages_but_not_from_the_output():
    secrets = {"API_KEY": "sk-live-123456", "PIN": "12", "QUOTE": 'pa"ss-word'}
    outcome, seen = read(
        lines(
            {"type": "log", "message": "key=sk-live-123456 pin=12"},
            {"type": "progress", "percent": 5, "message": "sk-live-123456"},
            b'{"type":"log","message":"escaped pa\\"ss-word"}\n',
            {"type": "error", "code": "sk-live-123456", "message": "failed sk-live-123456"},
        ),
        secrets=secrets,
    )
    assert seen[0]["message"] == "key=[redacted] pin=12"  # too short to redact
    assert seen[1]["message"] == "[redacted]"
    assert seen[2]["message"] == "escaped [redacted]"
    assert outcome.final.message == "failed [redacted]"
    assert outcome.final.code == "[redacted]"
    redact = Redactor({"A": "abcd", "B": "abcdef"})
    assert redact("abcdef abcd") == "[redacted] [redacted]"


def test_broken_streams_end_reading_without_raising():
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise ConnectionResetError("gone")

    outcome, _ = read(io.BufferedReader(Broken()))
    assert outcome.final is None
    assert "ConnectionResetError" in outcome.ended
