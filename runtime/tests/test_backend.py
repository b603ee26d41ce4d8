"""The Docker runtime backend against a real engine: examples, misbehaving agents, sandbox,
cancel, concurrency, cleanup. Adversarial runs use small limits (64 MB, a few seconds)."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from runtime.backends.base import (
    AGENT_SOCKET,
    BuildError,
    InfrastructureError,
    RunSpec,
    container_name,
)
from runtime.backends.docker import DockerBackend

EXAMPLES = Path(__file__).resolve().parents[2] / "agents" / "catalog"
SECRET = "sk-test-7f3a9c-supersecret"


@pytest.fixture(scope="module")
def socket_root():
    # Short: Unix socket paths are limited to 107 bytes.
    root = tempfile.mkdtemp(prefix="anx-bt-")
    yield Path(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def backend(socket_root, runtime_images) -> DockerBackend:
    return DockerBackend(socket_root=socket_root)


@pytest.fixture
def run_ids(backend, socket_root):
    """Run ids used by a test; afterwards none may have a container or a directory left."""
    ids: list[str] = []
    yield ids
    ours = {info.run_id for info in backend.list_run_containers()} & set(ids)
    leftovers = list(socket_root.iterdir())
    for run_id in ours:
        backend.cleanup(run_id=run_id)
    assert not ours, f"containers left behind: {ours}"
    assert not leftovers, f"socket directories left behind: {leftovers}"


def spec(run_ids, image, **limits) -> RunSpec:
    run_id = uuid.uuid4().hex
    run_ids.append(run_id)
    limits.setdefault("memory_mb", 64)
    limits.setdefault("timeout_s", 10)
    limits.setdefault("cpus", 0.5)
    return RunSpec(run_id=run_id, image=image, labels={"agentnexus.agent": "test"}, **limits)


def payload(input, secrets=None, run_id="r"):
    return {
        "input": input,
        "secrets": secrets or {},
        "metadata": {"run_id": run_id, "agent": "test", "version": "1.0.0", "deadline": None},
    }


def execute(backend, run_spec, input, *, secrets=None, **kwargs):
    events: list[dict] = []
    outcome = backend.execute(
        spec=run_spec,
        payload=payload(input, secrets, run_spec.run_id),
        on_event=kwargs.pop("on_event", events.append),
        **kwargs,
    )
    return outcome, events


# ----------------------------------------------------------------------------- examples


@pytest.mark.parametrize("slug", ["echo", "page-summarizer", "csv-analyzer"])
def test_each_example_agent_succeeds_with_its_events_in_order(
    backend, run_ids, example_images, slug
):
    manifest = yaml.safe_load((EXAMPLES / slug / "agent.yaml").read_text())
    example = manifest["examples"][0]
    outcome, events = execute(
        backend, spec(run_ids, example_images[slug], memory_mb=128), example["input"]
    )
    assert outcome.status == "succeeded", outcome
    assert outcome.reason is None and outcome.error_code is None
    assert outcome.output == example["output"]
    assert events[0]["type"] == "ready"
    assert 0 < events[0]["container_started_ms"] == outcome.container_started_ms
    assert outcome.container_started_ms <= outcome.duration_ms < 10_000
    assert [e["type"] for e in events[1:]] and {e["type"] for e in events[1:]} <= {
        "log",
        "progress",
    }
    if slug == "echo":
        assert events[1:] == [
            {"type": "log", "level": "info", "message": "received an input with 1 field(s)"},
            {"type": "progress", "percent": 50, "message": "composing the greeting"},
            {"type": "progress", "percent": 100, "message": "done"},
        ]
    assert outcome.exit_code is None  # stopped by the platform after the result
    assert outcome.peak_memory_bytes is None or outcome.peak_memory_bytes > 1_000_000
    assert not outcome.logs_truncated


# ----------------------------------------------------------------------------- misbehaving agents


@pytest.mark.parametrize(
    ("input", "status", "reason", "code"),
    [
        ({"mode": "ok"}, "succeeded", None, None),
        ({"mode": "invalid_output"}, "succeeded", None, None),  # the caller's schema check
        ({"mode": "error"}, "failed", "agent_error", "bad_input"),
        ({"mode": "crash"}, "failed", "agent_error", "agent_error"),
        ({"mode": "not_json"}, "failed", "agent_error", "invalid_output"),
        ({"mode": "garbage"}, "failed", "protocol_error", "protocol_error"),
        ({"mode": "oom"}, "failed", "out_of_memory", "out_of_memory"),
        ({"mode": "big_output", "size": 1_100_000}, "failed", "output_too_large", None),
        ({"mode": "exit", "code": 3}, "failed", "agent_error", "agent_exited"),
        ({"mode": "sleep"}, "timed_out", "timeout", "timeout"),
    ],
    ids=lambda v: v["mode"] if isinstance(v, dict) else None,
)
def test_misbehaving_agents_end_with_the_right_status(
    backend, run_ids, misbehave_image, input, status, reason, code
):
    run_spec = spec(run_ids, misbehave_image, timeout_s=3 if input["mode"] == "sleep" else 10)
    started = time.monotonic()
    outcome, events = execute(backend, run_spec, input)
    elapsed = time.monotonic() - started
    assert (outcome.status, outcome.reason) == (status, reason), outcome
    if code:
        assert outcome.error_code == code
    if status != "succeeded":
        assert outcome.error_message and outcome.output is None
    mode = input["mode"]
    if mode == "exit":
        assert outcome.exit_code == 3
        assert "code 3" in outcome.error_message
    if mode == "oom":
        assert outcome.exit_code == 137
        assert outcome.peak_memory_bytes >= 60 * 1024 * 1024
    if mode == "sleep":
        assert 2.9 < elapsed < 5, elapsed  # the deadline covers start + execute
        assert outcome.duration_ms >= 2900
    if mode == "invalid_output":
        assert outcome.output == {"unexpected": "shape"}


def test_an_oom_kill_is_recognised_even_when_docker_does_not_flag_it(
    socket_root, run_ids, misbehave_image
):
    # State.OOMKilled races with the exit event in some engine versions; the "oom" event decides.
    backend = DockerBackend(socket_root=socket_root)
    inspect = backend.api.inspect_container

    def unflagged(container):
        found = inspect(container)
        found["State"]["OOMKilled"] = False
        return found

    backend.api.inspect_container = unflagged
    outcome, _ = execute(backend, spec(run_ids, misbehave_image), {"mode": "oom"})
    assert (outcome.status, outcome.reason, outcome.exit_code) == ("failed", "out_of_memory", 137)


def test_a_result_after_the_first_final_event_is_ignored(backend, run_ids, misbehave_image):
    outcome, _ = execute(backend, spec(run_ids, misbehave_image), {"mode": "two_results"})
    assert outcome.status == "succeeded" and outcome.output == 1


def test_an_agent_that_exits_before_serving(backend, run_ids, misbehave_images):
    outcome, events = execute(backend, spec(run_ids, misbehave_images["exit"]), {})
    assert (outcome.status, outcome.reason, outcome.exit_code) == ("failed", "agent_error", 2)
    assert "before it was ready" in outcome.error_message
    assert not [e for e in events if e["type"] == "ready"]
    assert any("exiting before serving" in e.get("message", "") for e in events)  # output tail


def test_an_agent_that_never_serves_times_out(backend, run_ids, misbehave_images):
    started = time.monotonic()
    outcome, events = execute(backend, spec(run_ids, misbehave_images["hang"], timeout_s=2), {})
    assert (outcome.status, outcome.reason) == ("timed_out", "timeout")
    assert "before the agent was ready" in outcome.error_message
    assert time.monotonic() - started < 4
    assert events == []


def test_a_missing_image_fails_without_retry(backend, run_ids):
    outcome, events = execute(backend, spec(run_ids, "agentnexus/does-not-exist:0"), {})
    assert (outcome.status, outcome.reason) == ("failed", "image_missing")
    assert events == []


def test_the_pids_limit_stops_a_fork_bomb(backend, run_ids, misbehave_image):
    outcome, _ = execute(
        backend, spec(run_ids, misbehave_image, pids_limit=32, memory_mb=128), {"mode": "fork_bomb"}
    )
    assert outcome.status == "succeeded", outcome
    assert outcome.output["children"] < 32
    assert "Resource temporarily unavailable" in outcome.output["error"]


def test_no_network(backend, run_ids, misbehave_image):
    outcome, _ = execute(backend, spec(run_ids, misbehave_image), {"mode": "network"})
    seen = outcome.output
    assert seen["interfaces"] == ["lo"]
    assert seen["loopback"]["ok"] is False  # nothing listens inside; the host is unreachable
    assert seen["private"]["ok"] is False
    assert "unreachable" in seen["private"]["error"]
    assert seen["dns"]["ok"] is False


def test_read_only_filesystem_and_noexec_tmp(backend, run_ids, misbehave_image):
    tmp_ok = "/tmp/ok"  # noqa: S108 - inside the container
    paths = ["/x", "/home/x", "/app/x", "/etc/x", "/home/agent/x", "/run/agentnexus/x", tmp_ok]
    outcome, _ = execute(
        backend, spec(run_ids, misbehave_image), {"mode": "write_fs", "paths": paths}
    )
    seen = outcome.output
    for path in paths[:5]:
        assert seen[path]["ok"] is False and seen[path]["errno"] == 30, (path, seen[path])  # EROFS
    assert seen["/run/agentnexus/x"]["ok"] is False  # the socket directory is locked once ready
    assert seen[tmp_ok] == {"ok": True}
    assert seen["exec:/tmp"]["ok"] is False and seen["exec:/tmp"]["errno"] == 13  # noexec
    assert seen["uid"] == 10001


def test_log_flood_is_truncated_with_one_marker(backend, run_ids, misbehave_image):
    run_spec = spec(run_ids, misbehave_image, max_log_bytes=200_000)
    outcome, events = execute(backend, run_spec, {"mode": "log_flood", "lines": 6000})
    assert outcome.status == "succeeded" and outcome.output == {"done": True}
    assert outcome.logs_truncated
    logs = [e for e in events if e["type"] == "log"]
    markers = [e for e in logs if e["message"].startswith("[log truncated")]
    assert markers == [
        {
            "type": "log",
            "level": "warning",
            "message": "[log truncated: limit of 200000 bytes reached]",
        }
    ]
    assert logs[-1] == markers[0]
    assert sum(len(e["message"]) for e in logs) < 200_000


def test_a_leaked_secret_is_redacted_from_events_and_errors(backend, run_ids, misbehave_image):
    outcome, events = execute(
        backend, spec(run_ids, misbehave_image), {"mode": "leak"}, secrets={"API_KEY": SECRET}
    )
    assert (outcome.status, outcome.error_code) == ("failed", "leaky")
    assert SECRET not in json.dumps(events) + (outcome.error_message or "")
    assert "key=[redacted]" in [e.get("message") for e in events]


# ----------------------------------------------------------------------------- sandbox and secrets


def test_container_settings_and_no_secret_anywhere(backend, run_ids, socket_root, example_images):
    run_spec = spec(run_ids, example_images["echo"], memory_mb=96, cpus=0.5, pids_limit=40)
    seen = {}

    def on_event(event):
        if event["type"] == "ready":
            seen["inspect"] = backend.api.inspect_container(container_name(run_spec.run_id))
            seen["listed"] = [
                c for c in backend.list_run_containers() if c.run_id == run_spec.run_id
            ]
            seen["dir"] = sorted(p.name for p in (socket_root / run_spec.run_id).iterdir())

    outcome, _ = execute(
        backend, run_spec, {"name": "Ada"}, secrets={"API_KEY": SECRET}, on_event=on_event
    )
    assert outcome.status == "succeeded"
    inspect = seen["inspect"]
    assert SECRET not in json.dumps(inspect)
    config, host = inspect["Config"], inspect["HostConfig"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["AGENT_SOCKET"] == AGENT_SOCKET
    assert set(env) <= {"AGENT_SOCKET", "PATH", "LANG", "HOME", "PYTHONPATH"} | {
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
    }
    assert config["User"] == "10001:10001"
    assert config["Labels"]["agentnexus.run"] == run_spec.run_id
    assert config["Labels"]["agentnexus.managed"] == "1"
    assert config["Labels"]["agentnexus.agent"] == "test"
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == host["MemorySwap"] == 96 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 40
    assert host["Privileged"] is False
    tmpfs = host["Tmpfs"]["/tmp"]  # noqa: S108 - inside the container
    assert "noexec" in tmpfs and "size=64m" in tmpfs
    assert [(m["Destination"], m["RW"]) for m in inspect["Mounts"]] == [("/run/agentnexus", True)]
    listed = seen["listed"][0]
    assert listed.status == "running" and listed.created_at.tzinfo is not None
    assert seen["dir"] == ["sock"]  # nothing but the socket directory (no payload on disk)
    assert not (socket_root / run_spec.run_id).exists()


# ----------------------------------------------------------------------------- cancel and concurrency


def test_cancel_from_another_backend_instance_kills_within_a_second(
    backend, run_ids, socket_root, misbehave_image
):
    run_spec = spec(run_ids, misbehave_image, timeout_s=30)
    ready = threading.Event()
    result = {}

    def on_event(event):
        if event["type"] == "log":  # "going to sleep": /execute is running
            ready.set()

    def target():
        result["outcome"], _ = execute(backend, run_spec, {"mode": "sleep"}, on_event=on_event)
        result["ended"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    assert ready.wait(10)
    other_process = DockerBackend(socket_root=socket_root)  # like the web process
    asked = time.monotonic()
    assert other_process.cancel(run_id=run_spec.run_id) is True
    thread.join(10)
    assert result["ended"] - asked < 1.0
    outcome = result["outcome"]
    assert (outcome.status, outcome.reason) == ("canceled", "canceled")
    assert outcome.exit_code is None  # the platform stopped it
    assert other_process.cancel(run_id=run_spec.run_id) is False  # gone
    assert other_process.cancel(run_id=uuid.uuid4().hex) is False


def test_should_cancel_stops_a_run(backend, run_ids, misbehave_image):
    flag = threading.Event()

    def on_event(event):
        if event["type"] == "log":
            flag.set()

    started = time.monotonic()
    outcome, _ = execute(
        backend,
        spec(run_ids, misbehave_image, timeout_s=30),
        {"mode": "sleep"},
        on_event=on_event,
        should_cancel=flag.is_set,
    )
    assert (outcome.status, outcome.reason) == ("canceled", "canceled")
    assert time.monotonic() - started < 5


def test_a_run_canceled_before_it_starts_creates_nothing(backend, run_ids, example_images):
    outcome, events = execute(
        backend, spec(run_ids, example_images["echo"]), {}, should_cancel=lambda: True
    )
    assert (outcome.status, outcome.reason) == ("canceled", "canceled")
    assert events == []


def test_concurrent_runs_do_not_interfere(backend, run_ids, example_images):
    names = [f"agent-{i}" for i in range(3)]
    results: dict[str, object] = {}

    def target(name):
        results[name] = execute(backend, spec(run_ids, example_images["echo"]), {"name": name})

    threads = [threading.Thread(target=target, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for name in names:
        outcome, events = results[name]
        assert outcome.status == "succeeded"
        assert outcome.output == {"greeting": f"hello {name}", "echo": {"name": name}}
        assert [e["type"] for e in events][0] == "ready"


# ----------------------------------------------------------------------------- engine problems, build


def test_an_unreachable_engine_is_an_infrastructure_error(run_ids, socket_root):
    broken = DockerBackend(socket_root=socket_root, docker_url="unix:///nonexistent/docker.sock")
    with pytest.raises(InfrastructureError):
        execute(broken, spec(run_ids, "agentnexus/agent-python:1"), {})
    assert broken.cancel(run_id=uuid.uuid4().hex) is False  # never raises
    with pytest.raises(InfrastructureError):
        broken.list_run_containers()


def test_cleanup_is_idempotent(backend, run_ids):
    run_id = uuid.uuid4().hex
    backend.cleanup(run_id=run_id)
    backend.cleanup(run_id=run_id)


def test_build_runs_without_network_and_reports_the_log_tail(backend, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE:-agentnexus/agent-python:1}\n"
        "RUN python3 -c \"import socket; socket.create_connection(('10.0.0.1', 80), timeout=2)\"\n"
    )
    lines: list[str] = []
    with pytest.raises(BuildError) as caught:
        backend.build_image(
            context_dir=tmp_path, tag="agentnexus/test-build:fail", labels={}, on_log=lines.append
        )
    assert "unreachable" in caught.value.log_tail
    assert lines
    assert not backend.image_exists("agentnexus/test-build:fail")
