"""Runs with a real Celery worker: live WebSocket stream, cancel, the concurrency cap, and a worker
killed mid-run (the reaper ends the run as worker lost)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import start_worker
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from agentnexus.celery import app
from marketplace.services import agent_set_current_version
from marketplace.tests.factories import AgentFactory, AgentVersionFactory, UserFactory
from runtime.backends.base import get_backend
from runtime.models import Run, RunEvent, RunStatus
from runtime.routing import websocket_urlpatterns
from runtime.services import runs_reap
from runtime.tests.runs_env import example_agent, wait_for, wait_terminal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker():
    """Celery workers in this process: a thread per run, like the `runner` worker."""
    app.conf.task_always_eager = False
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=24,
            perform_ping_check=False,
            shutdown_timeout=30,
            queues=["celery", "runs"],
        ):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def sleeper(misbehave_image):
    agent = AgentFactory(slug=f"sleeper-{time.monotonic_ns()}", price=None)
    version = AgentVersionFactory(
        agent=agent,
        price=0,  # free: runtime behaviour, not payments
        image_ref=misbehave_image,
        input_schema={"type": "object"},
        output_schema={"type": "object"},
        memory_mb=64,
        timeout_seconds=60,
    )
    agent_set_current_version(agent=agent, version=version)
    return agent


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def start(client, agent, data) -> Run:
    response = client.post("/api/v1/runs/", {"agent": agent.slug, "input": data}, format="json")
    assert response.status_code == 201, response.json()
    return Run.objects.get(public_id=response.json()["id"])


def our_containers(run: Run) -> list:
    return [c for c in get_backend().list_run_containers() if c.run_id == run.public_id.hex]


def test_cancel_mid_run_stops_the_container_within_a_second(worker, sleeper):
    user = UserFactory()
    client = api_for(user)
    run = start(client, sleeper, {"mode": "sleep", "seconds": 60})
    wait_for(lambda: Run.objects.get(pk=run.pk).status == RunStatus.RUNNING, timeout=30)
    assert our_containers(run), "the run has a container while it runs"
    began = time.monotonic()
    response = client.post(f"/api/v1/runs/{run.public_id}/cancel/")
    elapsed = time.monotonic() - began
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    # The kill runs right after the cancel commits, inside the request: when the answer
    # arrives the container is already stopped.
    assert elapsed < 1.0, f"cancel took {elapsed:.2f}s"
    wait_for(lambda: not [c for c in our_containers(run) if c.status == "running"], timeout=1)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELED and run.failure_reason == "canceled"
    wait_for(lambda: not our_containers(run), timeout=10, message="container removed")
    socket_dir = os.path.join(settings.RUNTIME_SOCKET_ROOT, run.public_id.hex)
    wait_for(lambda: not os.path.exists(socket_dir), timeout=10, message="socket dir removed")


def test_twenty_runs_with_a_cap_of_ten_never_exceed_ten(worker, sleeper, settings):
    settings.RUNTIME_MAX_RUNS_PER_AGENT = 10
    settings.RUNTIME_MAX_RUNS_PER_USER = 20
    client = api_for(UserFactory())
    runs = [start(client, sleeper, {"mode": "sleep", "seconds": 1}) for _ in range(20)]
    for run in runs:
        wait_terminal(run, timeout=120)
        assert run.status == RunStatus.SUCCEEDED, (run.failure_reason, run.error_message)
    # Replay admissions and ends in commit order: at most ten were ever active at once.
    changes = RunEvent.objects.filter(run__in=runs, type="status").order_by("created_at", "id")
    active = peak = 0
    for payload in changes.values_list("payload", flat=True):
        if payload["status"] == "starting":
            active += 1
        elif payload["status"] in ("succeeded", "failed", "timed_out", "canceled"):
            active -= 1
        peak = max(peak, active)
    assert peak == 10
    # Admitted in the order they were queued.
    admitted = list(
        RunEvent.objects.filter(run__in=runs, payload__status="starting")
        .order_by("id")
        .values_list("run_id", flat=True)
    )
    assert admitted == sorted(admitted)


def test_the_websocket_streams_live_and_replays_after_a_seq(worker, example_images):
    user = UserFactory()
    echo = example_agent("echo", image=example_images["echo"])
    client = api_for(user)
    run = start(client, echo, {"name": "live"})
    wait_terminal(run)
    total = run.last_seq

    async def collect(path: str, who) -> tuple[list[dict], object]:
        from channels.routing import URLRouter

        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
        communicator.scope["user"] = who
        connected, code = await communicator.connect()
        if not connected:
            return [], code
        events: list[dict] = []
        while not events or events[-1]["seq"] < total:
            frame = await communicator.receive_json_from(timeout=10)
            events.extend(frame["events"])
        await communicator.disconnect()
        return events, None

    events, _ = async_to_sync(collect)(f"/ws/runs/{run.public_id}/", user)
    assert [e["seq"] for e in events] == list(range(1, total + 1))
    assert events[-1]["payload"]["status"] == "succeeded"
    later, _ = async_to_sync(collect)(f"/ws/runs/{run.public_id}/?after=3", user)
    assert [e["seq"] for e in later] == list(range(4, total + 1))
    nothing, code = async_to_sync(collect)(f"/ws/runs/{run.public_id}/", UserFactory())
    assert nothing == [] and code == 4404


def test_live_events_reach_a_connected_socket(worker, sleeper):
    user = UserFactory()
    client = api_for(user)
    run = start(client, sleeper, {"mode": "sleep", "seconds": 2})

    async def watch():
        from channels.routing import URLRouter

        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/runs/{run.public_id}/"
        )
        communicator.scope["user"] = user
        connected, _ = await communicator.connect()
        assert connected
        statuses = []
        while not statuses or statuses[-1] not in ("succeeded", "failed", "timed_out"):
            frame = await communicator.receive_json_from(timeout=30)
            statuses += [e["payload"]["status"] for e in frame["events"] if e["type"] == "status"]
        await communicator.disconnect()
        return statuses

    assert async_to_sync(watch)() == ["queued", "starting", "running", "succeeded"]


@pytest.fixture
def worker_process(live_db_url):
    """A separate `celery worker` process on this test database, killed by the test."""
    env = {
        **os.environ,
        "DATABASE_URL": live_db_url,
        "DJANGO_SETTINGS_MODULE": "agentnexus.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "agentnexus", "worker", "-P", "threads", "-c", "4",
         "-Q", "celery,runs", "-n", f"doomed-{os.getpid()}@%h", "--without-heartbeat",
         "--without-gossip", "--without-mingle", "-l", "warning"],
        env=env,
        start_new_session=True,
    )  # fmt: skip
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.fixture
def live_db_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_killed_worker_is_reaped_as_worker_lost(worker_process, sleeper, settings):
    settings.RUNTIME_WORKER_LOST_SECONDS = 3
    app.conf.task_always_eager = False
    try:
        run = start(api_for(UserFactory()), sleeper, {"mode": "sleep", "seconds": 60})
        wait_for(
            lambda: Run.objects.get(pk=run.pk).status == RunStatus.RUNNING,
            timeout=60,
            message="the worker process started the run",
        )
    finally:
        app.conf.task_always_eager = True
    os.killpg(worker_process.pid, signal.SIGKILL)
    worker_process.wait(10)
    time.sleep(settings.RUNTIME_WORKER_LOST_SECONDS + 1)
    report = runs_reap()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.failure_reason == "worker_lost"
    assert run.pk in report.worker_lost
    assert not our_containers(run)
    assert not os.path.exists(os.path.join(settings.RUNTIME_SOCKET_ROOT, run.public_id.hex))


def test_an_api_token_can_stream_a_run(example_images):
    """API clients authenticate the WebSocket with their token (and send an Origin header)."""
    from accounts.services import api_token_create
    from agentnexus.asgi import application

    user = UserFactory()
    _, raw = api_token_create(user=user, name="stream")
    echo = example_agent("echo", image=example_images["echo"])
    run = start(api_for(user), echo, {"name": "token"})
    wait_terminal(run)

    async def stream(token: str):
        communicator = WebsocketCommunicator(
            application,
            f"/ws/runs/{run.public_id}/",
            headers=[
                (b"authorization", f"Token {token}".encode()),
                (b"origin", b"http://127.0.0.1"),
            ],
        )
        connected, code = await communicator.connect()
        if not connected:
            return None, code
        frame = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return frame, None

    frame, _ = async_to_sync(stream)(raw)
    assert frame["events"][0]["seq"] == 1
    nothing, code = async_to_sync(stream)("anx_not-a-real-token")
    assert nothing is None and code == 4404
