"""The live submission stream (agents/consumers.py) over the real Redis channel layer: backlog,
live log lines and status changes in order without repeats, resuming after a seq, who may watch."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from agentnexus.routing import websocket_urlpatterns
from agents.models import Submission, SubmissionStatus, SubmissionStep, SubmissionStepLog
from agents.services import _broadcast, _log, submission_transition
from marketplace.tests.factories import CategoryFactory, DeveloperProfileFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BUILD = SubmissionStep.BUILD


@pytest.fixture
def developer():
    CategoryFactory(slug="general")  # transactional tests flush the seeded categories
    return DeveloperProfileFactory()


@pytest.fixture
def submission(developer) -> Submission:
    return Submission.objects.create(
        developer=developer,
        slug="echo",
        version="1.0.0",
        manifest={"slug": "echo", "version": "1.0.0"},
        archive=b"not used here",
        archive_sha256="0" * 64,
        archive_size=13,
    )


def path_for(submission: Submission, after: int | None = None) -> str:
    path = f"/ws/submissions/{submission.public_id}/"
    return path if after is None else f"{path}?after={after}"


async def open_socket(path: str, user) -> tuple[WebsocketCommunicator, bool, int | None]:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    if user is not None:
        communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def frames_until_status(communicator: WebsocketCommunicator) -> list[dict]:
    """Frames up to and including the next one with a status."""
    frames = []
    while not frames or "status" not in frames[-1]:
        frames.append(await communicator.receive_json_from(timeout=5))
    return frames


def seqs(frames: list[dict]) -> list[int]:
    return [line["seq"] for frame in frames for line in frame.get("lines", [])]


def log(submission: Submission, *lines: str, step: str = BUILD):
    return database_sync_to_async(_log)(submission, step, list(lines))


def move(submission: Submission, to: str, **changes):
    return database_sync_to_async(submission_transition)(
        submission_id=submission.pk, to=to, **changes
    )


def test_owner_gets_backlog_then_live_lines_and_statuses_in_order(submission, developer):
    _log(submission, BUILD, ["building echo", "Step 1/3 : FROM base"])

    async def scenario():
        ws, connected, _ = await open_socket(path_for(submission), developer.user)
        assert connected
        first = await frames_until_status(ws)
        # The backlog, then the current status.
        assert first == [
            {
                "lines": [
                    {"seq": 1, "step": "build", "line": "building echo"},
                    {"seq": 2, "step": "build", "line": "Step 1/3 : FROM base"},
                ]
            },
            {
                "status": {
                    "status": "submitted",
                    "status_display": "Submitted",
                    "failed_step": None,
                    "error": "",
                    "updated_at": first[-1]["status"]["updated_at"],
                }
            },
        ]

        await move(submission, SubmissionStatus.BUILDING, message="Build started.")
        building = await ws.receive_json_from(timeout=5)
        assert building["status"]["status"] == "building"
        assert building["status"]["status_display"] == "Building"

        await log(submission, "Step 2/3 : COPY . /app", "Step 3/3 : CMD run")
        assert await ws.receive_json_from(timeout=5) == {
            "lines": [
                {"seq": 3, "step": "build", "line": "Step 2/3 : COPY . /app"},
                {"seq": 4, "step": "build", "line": "Step 3/3 : CMD run"},
            ]
        }

        # How a step fails: its last line, then the status with the error.
        await log(submission, "FAILED: the build broke")
        await move(
            submission,
            SubmissionStatus.FAILED,
            message="the build broke",
            failed_step=BUILD,
            error_message="the build broke",
        )
        last = await frames_until_status(ws)
        assert seqs(last) == [5]
        assert last[-1]["status"] | {"updated_at": None} == {
            "status": "failed",
            "status_display": "Failed",
            "failed_step": "build",
            "error": "the build broke",
            "updated_at": None,
        }
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    async_to_sync(scenario)()


def test_repeated_and_out_of_order_broadcasts_are_deduplicated_and_gaps_filled(
    submission, developer
):
    _log(submission, BUILD, ["one", "two"])
    group = submission.group_name

    async def scenario():
        ws, connected, _ = await open_socket(path_for(submission), developer.user)
        assert connected
        assert seqs(await frames_until_status(ws)) == [1, 2]

        # A line already sent (a broadcast that raced the backlog) is dropped.
        await database_sync_to_async(_broadcast)(
            group, [{"kind": "log", "step": "build", "seq": 2, "line": "two"}]
        )
        # A repeated status broadcast is not news.
        await database_sync_to_async(_broadcast)(
            group, [{"kind": "status", "status": "submitted", "failed_step": None}]
        )
        assert await ws.receive_nothing(timeout=0.3)

        # Lines 3 and 4 are committed but only 4's broadcast arrives: 3 comes from the database.
        def write_without_broadcast():
            SubmissionStepLog.objects.bulk_create(
                [
                    SubmissionStepLog(submission=submission, step=BUILD, seq=3, line="three"),
                    SubmissionStepLog(submission=submission, step=BUILD, seq=4, line="four"),
                ]
            )
            Submission.objects.filter(pk=submission.pk).update(last_log_seq=4)

        await database_sync_to_async(write_without_broadcast)()
        await database_sync_to_async(_broadcast)(
            group, [{"kind": "log", "step": "build", "seq": 4, "line": "four"}]
        )
        assert await ws.receive_json_from(timeout=5) == {
            "lines": [
                {"seq": 3, "step": "build", "line": "three"},
                {"seq": 4, "step": "build", "line": "four"},
            ]
        }
        # The late copy of 3 is dropped; the next live line follows on.
        await database_sync_to_async(_broadcast)(
            group, [{"kind": "log", "step": "build", "seq": 3, "line": "three"}]
        )
        await log(submission, "five")
        assert seqs([await ws.receive_json_from(timeout=5)]) == [5]
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    async_to_sync(scenario)()


def test_after_resumes_from_the_next_seq(submission, developer):
    _log(submission, BUILD, [f"line {n}" for n in range(1, 6)])
    submission_transition(submission_id=submission.pk, to=SubmissionStatus.BUILDING)

    async def scenario():
        ws, connected, _ = await open_socket(path_for(submission, after=3), developer.user)
        assert connected
        frames = await frames_until_status(ws)
        assert seqs(frames) == [4, 5]
        assert frames[-1]["status"]["status"] == "building"
        await log(submission, "line 6")
        assert seqs([await ws.receive_json_from(timeout=5)]) == [6]
        # Ping keeps the socket alive and reports the last seq sent.
        await ws.send_json_to({"type": "ping"})
        assert await ws.receive_json_from(timeout=5) == {"type": "pong", "seq": 6}
        await ws.disconnect()

        # Caught up: only the status. A nonsense `after` counts from the start.
        ws, _, _ = await open_socket(path_for(submission, after=6), developer.user)
        frames = await frames_until_status(ws)
        assert len(frames) == 1 and "lines" not in frames[0]
        await ws.disconnect()
        ws, _, _ = await open_socket(path_for(submission) + "?after=nonsense", developer.user)
        assert seqs(await frames_until_status(ws)) == [1, 2, 3, 4, 5, 6]
        await ws.disconnect()

    async_to_sync(scenario)()


def test_only_the_developer_and_staff_may_watch(submission, developer):
    _log(submission, BUILD, ["secret build output"])

    async def attempt(user, path=None):
        ws, connected, code = await open_socket(path or path_for(submission), user)
        frames = await frames_until_status(ws) if connected else []
        await ws.disconnect()
        return connected, code, frames

    other_developer = DeveloperProfileFactory().user
    for stranger in (other_developer, UserFactory(), AnonymousUser(), None):
        connected, code, _ = async_to_sync(attempt)(stranger)
        assert (connected, code) == (False, 4404), stranger
    # Not a submission id at all.
    assert async_to_sync(attempt)(developer.user, "/ws/submissions/not-a-uuid/")[:2] == (
        False,
        4404,
    )

    connected, _, frames = async_to_sync(attempt)(UserFactory(is_staff=True))
    assert connected
    assert seqs(frames) == [1]
    assert frames[-1]["status"]["status"] == "submitted"


def test_the_page_points_at_the_stream_and_polling_still_answers(client, submission, developer):
    _log(submission, BUILD, ["building echo"])
    client.force_login(developer.user)
    page = client.get(f"/developer/submissions/{submission.public_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-stream-url="/ws/submissions/{submission.public_id}/"' in html
    assert 'data-status-url="/developer/submissions/' in html
    assert "js/submission.js" in html
    status = client.get(f"/developer/submissions/{submission.public_id}/status/?after=0").json()
    assert status["status"] == "submitted"
    assert status["lines"] == [{"seq": 1, "step": "build", "line": "building echo"}]
