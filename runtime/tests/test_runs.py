"""Runs end to end: API -> Celery -> a real container -> events, on real PostgreSQL, Redis, Docker.

Most tests run Celery eagerly (the run executes inside the request's on-commit hook, so the API
answer already holds the outcome); the concurrency and cancel tests use a real worker thread pool.
"""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from runtime.models import FailureReason, Run, RunEvent, RunStatus
from runtime.tests.runs_env import UserFactory, example_agent, example_input

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sk-test-5e3c7e7-never-store-me"


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def echo(example_images):
    return example_agent("echo", image=example_images["echo"])


def start(api, agent, data, **extra):
    headers = extra.pop("headers", {})
    return api.post(
        "/api/v1/runs/",
        {"agent": agent.slug, "input": data, **extra},
        format="json",
        headers=headers,
    )


def event_types(run_id: str) -> list[str]:
    run = Run.objects.get(public_id=run_id)
    return list(run.events.order_by("seq").values_list("type", flat=True))


@pytest.mark.parametrize("slug", ["echo", "page-summarizer", "csv-analyzer"])
def test_each_example_agent_succeeds_through_the_api(api, example_images, slug):
    agent = example_agent(slug, image=example_images[slug])
    example = example_input(slug)
    response = start(api, agent, example)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "succeeded", body
    assert body["output"] is not None
    run = Run.objects.get(public_id=body["id"])
    statuses = list(
        run.events.filter(type="status").order_by("seq").values_list("payload__status", flat=True)
    )
    assert statuses == ["queued", "starting", "running", "succeeded"]
    seqs = list(run.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)), "events are numbered without gaps"
    assert run.duration_ms and run.duration_ms > 0
    assert run.progress == 100
    agent.refresh_from_db()
    assert (agent.runs_total, agent.runs_succeeded) == (1, 1)

    events = api.get(f"/api/v1/runs/{body['id']}/events/?after=2").json()
    assert [e["seq"] for e in events] == seqs[2:]


def test_echo_streams_logs_and_progress(api, echo):
    body = start(api, echo, {"name": "Ada"}).json()
    assert body["output"]["greeting"] == "hello Ada"
    kinds = event_types(body["id"])
    assert "log" in kinds and "progress" in kinds
    assert kinds.index("progress") < len(kinds) - 1, "progress arrives before the final status"


def test_invalid_input_names_the_field_and_queues_nothing(api, echo):
    schema = echo.current_version.input_schema
    bad = {
        name: 12345
        for name, prop in schema.get("properties", {}).items()
        if prop.get("type") == "string"
    }
    assert bad, "the echo agent takes a string field"
    response = start(api, echo, bad)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(key.startswith("input.") for key in error["fields"]), error
    assert not Run.objects.exists()


def test_input_must_be_an_object(api, echo):
    response = start(api, echo, [1, 2])
    assert response.status_code == 400
    assert "input" in response.json()["error"]["fields"]


def test_idempotency_key_returns_the_same_run(api, echo):
    first = start(api, echo, {"name": "x"}, headers={"Idempotency-Key": "abc-1"})
    again = start(api, echo, {"name": "x"}, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Run.objects.count() == 1
    other = start(api, echo, {"name": "y"}, headers={"Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_another_user_cannot_see_stream_or_cancel_a_run(api, echo):
    run_id = start(api, echo, {"name": "x"}).json()["id"]
    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    assert stranger.get(f"/api/v1/runs/{run_id}/").status_code == 404
    assert stranger.get(f"/api/v1/runs/{run_id}/events/").status_code == 404
    assert stranger.post(f"/api/v1/runs/{run_id}/cancel/").status_code == 404
    assert stranger.get("/api/v1/runs/").json()["results"] == []
    assert APIClient().get(f"/api/v1/runs/{run_id}/").status_code in (401, 403)


def test_a_secret_is_stored_nowhere(api, echo, caplog):
    caplog.set_level(logging.DEBUG)
    body = start(api, echo, {"name": "x"}, secrets={"API_KEY": SECRET}).json()
    assert body["status"] == "succeeded"
    assert SECRET not in json.dumps(body)
    run = Run.objects.get(public_id=body["id"])
    assert run.secrets_ciphertext is None, "erased when the run ended"
    for event in RunEvent.objects.filter(run=run):
        assert SECRET not in json.dumps(event.payload)
    # No column of any table holds it in clear text.
    with connection.cursor() as cursor:
        for table in ("runtime_run", "runtime_runevent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert SECRET not in repr(cursor.fetchall())
    assert SECRET not in caplog.text


def test_secret_waits_encrypted_while_queued(user, echo, settings):
    from runtime.services import run_start

    settings.RUNTIME_MAX_RUNS_PER_AGENT = 0  # nothing is admitted: the run stays queued
    run, _ = run_start(user=user, agent=echo, data={"name": "x"}, secrets={"K": SECRET})
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.secrets_ciphertext and SECRET.encode() not in bytes(run.secrets_ciphertext)


def test_runs_of_an_agent_under_maintenance_are_refused(api, echo):
    echo.status = "maintenance"
    echo.save()
    response = start(api, echo, {"name": "x"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "agent_unavailable"


def test_missing_image_fails_with_image_missing(api, example_images):
    agent = example_agent("echo", image="agentnexus/does-not-exist:0")
    body = start(api, agent, {"name": "x"}).json()
    assert body["status"] == "failed"
    assert body["failure_reason"] == FailureReason.IMAGE_MISSING


def test_cancel_a_finished_run_is_a_conflict(api, echo):
    run_id = start(api, echo, {"name": "x"}).json()["id"]
    response = api.post(f"/api/v1/runs/{run_id}/cancel/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "run_finished"
