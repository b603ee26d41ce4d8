"""Agents that misbehave end with the right state and reason, through the whole platform."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, UserFactory
from runtime.models import Run

pytestmark = pytest.mark.django_db(transaction=True)

ANY_OBJECT = {"type": "object"}
OK_OUTPUT = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}


@pytest.fixture
def misbehave(misbehave_image):
    agent = AgentFactory(slug="misbehave", price=None)
    version = AgentVersionFactory(
        agent=agent,
        price=0,  # free: runtime behaviour, not payments
        image_ref=misbehave_image,
        input_schema={"type": "object", "required": ["mode"]},
        output_schema=OK_OUTPUT,
        memory_mb=64,
        timeout_seconds=4,
    )
    agent_set_current_version(agent=agent, version=version)
    return agent


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def run(api, agent, data) -> Run:
    response = api.post("/api/v1/runs/", {"agent": agent.slug, "input": data}, format="json")
    assert response.status_code == 201, response.json()
    return Run.objects.get(public_id=response.json()["id"])


@pytest.mark.parametrize(
    ("data", "status", "reason", "code"),
    [
        ({"mode": "ok"}, "succeeded", "", ""),
        ({"mode": "error"}, "failed", "agent_error", "bad_input"),
        ({"mode": "crash"}, "failed", "agent_error", None),
        ({"mode": "invalid_output"}, "failed", "invalid_output", "invalid_output"),
        ({"mode": "oom"}, "failed", "out_of_memory", None),
        ({"mode": "sleep"}, "timed_out", "timeout", None),
        ({"mode": "big_output", "size": 2_000_000}, "failed", "output_too_large", None),
        ({"mode": "exit", "code": 3}, "failed", None, None),
        ({"mode": "garbage"}, "failed", "protocol_error", None),
    ],
    ids=lambda v: v["mode"] if isinstance(v, dict) else None,
)
def test_misbehaviour_ends_with_the_right_state(api, misbehave, data, status, reason, code):
    result = run(api, misbehave, data)
    assert result.status == status, (result.failure_reason, result.error_message)
    if reason is not None:
        assert result.failure_reason == reason, result.error_message
    if code is not None:
        assert result.error_code == code
    if status != "succeeded":
        assert result.error_message


def test_fork_bomb_is_contained(api, misbehave):
    result = run(api, misbehave, {"mode": "fork_bomb"})
    # The pids limit stops the forks; the agent reports it (its output then fails the schema).
    assert result.status == "failed"
    assert result.failure_reason in ("invalid_output", "agent_error", "out_of_memory")


def test_log_flood_is_truncated_with_a_marker(api, misbehave, settings):
    settings.RUNTIME_MAX_LOG_BYTES = 200_000
    result = run(api, misbehave, {"mode": "log_flood", "lines": 2000})
    assert result.logs_truncated
    logs = list(result.events.filter(type="log").values_list("payload__message", flat=True))
    assert any("truncated" in line for line in logs)
    assert sum(len(line) for line in logs) < 260_000


def test_a_leaked_secret_is_redacted(api, misbehave):
    secret = "sk-leak-7d1f00-abcdef"
    response = api.post(
        "/api/v1/runs/",
        {"agent": misbehave.slug, "input": {"mode": "leak"}, "secrets": {"API_KEY": secret}},
        format="json",
    )
    result = Run.objects.get(public_id=response.json()["id"])
    assert result.status == "failed"
    assert secret not in result.error_message
    for payload in result.events.values_list("payload", flat=True):
        assert secret not in str(payload)


def test_no_network_and_read_only_filesystem(api, misbehave):
    agent = misbehave
    version = agent.current_version
    version.output_schema = ANY_OBJECT
    version.save()
    net = run(api, agent, {"mode": "network"})
    assert net.status == "succeeded"
    assert net.output["loopback"]["ok"] is False or net.output["interfaces"] == ["lo"]
    assert net.output["private"]["ok"] is False
    assert net.output["dns"]["ok"] is False
    fs = run(api, agent, {"mode": "write_fs", "paths": ["/etc/x", "/app/x", "/home/x", "/tmp/ok"]})
    assert fs.status == "succeeded"
    assert fs.output["/etc/x"]["ok"] is False
    assert fs.output["/app/x"]["ok"] is False
    assert fs.output["/tmp/ok"]["ok"] is True
    assert fs.output["exec:/tmp"]["ok"] is False, "/tmp is noexec"
    assert fs.output["uid"] != 0
