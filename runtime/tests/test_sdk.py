"""The agent SDK (sdk/agentnexus_sdk) and the SDK example agents in agents/catalog/, in this process
(no Docker)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from runtime import protocol

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk"))

from agentnexus_sdk import Agent, AgentError, agent  # noqa: E402
from agentnexus_sdk._server import make_server  # noqa: E402

EXAMPLES = ROOT / "agents" / "catalog"
SLUGS = ["csv-analyzer", "echo", "page-summarizer"]  # the single-file SDK examples


def load_example(slug: str):
    spec = importlib.util.spec_from_file_location(
        f"example_{slug.replace('-', '_')}", EXAMPLES / slug / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- handler semantics


def test_a_handler_becomes_an_agent_with_events_and_one_result():
    @agent
    def handle(input, ctx):
        ctx.log("starting", level="debug")
        ctx.progress(250, "clamped")
        ctx.log("odd level", level="loud")
        return {"double": input["n"] * 2, "run": ctx.run_id}

    assert isinstance(handle, Agent)
    assert handle.__name__ == "handle" and handle.name == "handle"
    events = handle.run_local({"n": 21}, metadata={"run_id": "r1"})
    assert events == [
        {"type": "log", "level": "debug", "message": "starting"},
        {"type": "progress", "percent": 100, "message": "clamped"},
        {"type": "log", "level": "info", "message": "odd level"},
        {"type": "result", "output": {"double": 42, "run": "r1"}},
    ]


def test_single_argument_handlers_and_named_agents():
    handle = agent(name="upper")(lambda input: input.upper())
    assert handle.name == "upper"
    assert handle.run_local("abc") == [{"type": "result", "output": "ABC"}]


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (AgentError("bad_input", "column missing"), "bad_input", "column missing"),
        (ValueError("nope"), "agent_error", "ValueError: nope"),
        (SystemExit(3), "agent_error", "SystemExit: 3"),
    ],
)
def test_exceptions_become_one_error_event(exc, code, message):
    @agent
    def handle(input, ctx):
        ctx.log("before")
        raise exc

    events = handle.run_local({})
    assert events[-1] == {"type": "error", "code": code, "message": message}
    assert [e["type"] for e in events] == ["log", "error"]


def test_output_that_is_not_json_is_an_invalid_output_error():
    events = agent(lambda input, ctx: {"x": float("nan")}).run_local({})
    assert events[-1]["type"] == "error" and events[-1]["code"] == "invalid_output"
    events = agent(lambda input, ctx: {"x": object()}).run_local({})
    assert events[-1]["code"] == "invalid_output"


def test_secrets_are_available_but_never_echoed():
    secret = "sk-very-secret-value"

    @agent
    def handle(input, ctx):
        assert ctx.secrets["API_KEY"] == secret
        ctx.log(f"using {ctx.secrets['API_KEY']}")
        ctx.progress(10, f"key {secret}")
        raise AgentError("auth", f"rejected {secret}")

    events = handle.run_local({}, secrets={"API_KEY": secret})
    assert secret not in json.dumps(events)
    assert events[0]["message"] == "using [redacted]"
    assert events[-1] == {"type": "error", "code": "auth", "message": "rejected [redacted]"}


def test_context_deadline_and_logging_after_the_end_are_ignored():
    kept = {}
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)).isoformat()

    @agent
    def handle(input, ctx):
        kept["ctx"] = ctx
        return {"remaining": ctx.remaining()}

    events = handle.run_local({}, metadata={"deadline": deadline})
    assert 55 < events[-1]["output"]["remaining"] <= 60
    assert kept["ctx"].deadline.tzinfo is not None
    kept["ctx"].log("too late")  # after the final event: dropped
    assert len(events) == 1


# ----------------------------------------------------------------------------- HTTP on a Unix socket


@pytest.fixture
def served():
    """An agent served by the SDK on a temporary Unix socket, in a thread."""

    @agent
    def handle(input, ctx):
        for i in range(3):
            ctx.log(f"line {i}")
        ctx.progress(50, "half")
        if input.get("fail"):
            raise AgentError("asked", "you asked for it")
        return {"echo": input, "run": ctx.run_id}

    with tempfile.TemporaryDirectory(prefix="anx-sdk-") as tmp:
        path = f"{tmp}/agent.sock"
        server = make_server(handle, path)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield path
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def test_health_and_unknown_paths(served):
    assert protocol.check_health(served)
    conn = protocol.UnixHTTPConnection(served, timeout=2)
    conn.request("GET", "/health")
    response = conn.getresponse()
    body = json.loads(response.read())
    assert body["status"] == "ok" and body["protocol"] == 1
    conn.request("GET", "/nope")
    assert conn.getresponse().status == 404
    conn.close()


def test_execute_streams_ndjson_in_chunks(served):
    body = protocol.encode_payload(
        {"input": {"a": 1}, "secrets": {}, "metadata": {"run_id": "abc"}}
    )
    conn, response = protocol.open_execute(served, body, run_id="abc", timeout=5)
    assert response.getheader("Content-Type") == "application/x-ndjson"
    assert response.getheader("Transfer-Encoding") == "chunked"
    seen: list[dict] = []
    outcome = protocol.EventReader(
        max_output_bytes=10_000, max_log_bytes=10_000, on_event=seen.append
    ).read(response)
    conn.close()
    assert [e.get("message") for e in seen] == ["line 0", "line 1", "line 2", "half"]
    assert outcome.final.output == {"echo": {"a": 1}, "run": "abc"}


def test_execute_rejects_bad_requests(served):
    conn = protocol.UnixHTTPConnection(served, timeout=2)
    conn.request("POST", "/execute", body=b"[1]", headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 400
    conn.close()
    conn = protocol.UnixHTTPConnection(served, timeout=2)
    conn.request("POST", "/other", body=b"{}")
    assert conn.getresponse().status == 404
    conn.close()
    with pytest.raises(protocol.ProtocolViolation, match="HTTP 400"):
        protocol.open_execute(served, b"not json", run_id="x", timeout=2)


# ----------------------------------------------------------------------------- example agents


@pytest.mark.parametrize("slug", SLUGS)
def test_example_manifests_are_valid_and_their_examples_hold(slug):
    manifest = yaml.safe_load((EXAMPLES / slug / "agent.yaml").read_text())
    assert manifest["slug"] == slug
    for key in ("name", "version", "summary", "category", "resources", "price", "examples"):
        assert manifest.get(key), key
    assert set(manifest["resources"]) == {"memory_mb", "cpus", "timeout_s", "concurrency"}
    for key in ("input_schema", "output_schema"):
        Draft202012Validator.check_schema(manifest[key])
        assert manifest[key]["$schema"].endswith("/2020-12/schema")
    assert (EXAMPLES / slug / "Dockerfile").read_text().count("ARG BASE_IMAGE") == 1
    module = load_example(slug)
    for example in manifest["examples"]:
        Draft202012Validator(manifest["input_schema"]).validate(example["input"])
        events = module.handle.run_local(example["input"])
        assert events[-1]["type"] == "result", events[-1]
        Draft202012Validator(manifest["output_schema"]).validate(events[-1]["output"])
        assert events[-1]["output"] == example["output"]


def test_csv_analyzer_details():
    analyze = load_example("csv-analyzer").analyze
    result = analyze("a;b;c\n1;x;\n2;;2024-01-02\n3;x;2024-01-01;extra\n")
    assert result["delimiter"] == ";" and result["rows"] == 3 and result["ragged_rows"] == 1
    a, b, c = result["columns"]
    assert (a["type"], a["min"], a["max"], a["median"], a["stddev"]) == ("integer", 1, 3, 2, 1)
    assert (b["type"], b["missing"], b["top_values"]) == ("text", 1, [{"value": "x", "count": 2}])
    assert (c["type"], c["min"], c["max"]) == ("date", "2024-01-01", "2024-01-02")
    with pytest.raises(AgentError):
        analyze("\n\n")


def test_page_summarizer_ignores_scripts_and_keeps_page_order():
    summarize = load_example("page-summarizer").summarize
    html = (
        "<title>T</title><script>alert('Alert alert alert.')</script>"
        "<p>Cats sleep a lot. Cats and dogs play. Dogs bark at cats. The sky is blue.</p>"
    )
    result = summarize(html, 2)
    assert result["title"] == "T"
    assert "alert" not in json.dumps(result).lower()
    assert result["summary"] == ["Cats and dogs play.", "Dogs bark at cats."]
    assert result["sentence_count"] == 4
