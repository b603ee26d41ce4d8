"""The live submission stream: one WebSocket per submission, for its developer and staff.

Protocol (docs/agent-manifest.md#following-a-submission-live): connect to
/ws/submissions/<submission id>/?after=<seq>. Every frame is a JSON object with `lines`, `status`
or both:

    {"lines": [{"seq": 7, "step": "build", "line": "Step 2/5 : COPY . /app"}, ...]}
    {"status": {"status": "scanning", "status_display": "Scanning", "failed_step": null,
                "error": "", "updated_at": "2025-01-01T12:00:00+00:00"}}

`lines` are the pipeline's log lines in seq order, without gaps or repeats: first everything after
`after` from the database, then live lines as the pipeline writes them. `status` is the
submission's current status, read from the database: sent once on connect (after the backlog) and
again whenever it changes, always after the log lines written before the change. A client that
reconnects passes the last seq it saw and loses nothing. `{"type": "ping"}` is answered with
`{"type": "pong", "seq": <last seq sent>}`. Someone else's submission closes with code 4404.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.models import Submission
from agents.selectors import submission_status_get, submission_visible_to
from agents.services import submission_log_after

NOT_FOUND = 4404  # application close code: no such submission for this user
BATCH = 500


def _status_frame(submission: Submission) -> dict:
    return {
        "status": submission.status,
        "status_display": submission.get_status_display(),
        "failed_step": submission.failed_step or None,
        "error": submission.error_message,
        "updated_at": submission.updated_at.isoformat(),
    }


class SubmissionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        submission = (
            await database_sync_to_async(submission_visible_to)(
                user=user, public_id=self.scope["url_route"]["kwargs"]["public_id"]
            )
            if user is not None
            else None
        )
        if submission is None:
            await self.close(code=NOT_FOUND)
            return
        self.submission = submission
        self.group = submission.group_name
        self.last_seq = self._after()
        self.last_status: tuple | None = None
        # Join first, then read: a live line that lands in between arrives twice at most, and the
        # seq check drops the copy.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_status()

    def _after(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            return max(0, int(query.get("after", ["0"])[0]))
        except ValueError:
            return 0

    async def _send_backlog(self) -> None:
        while True:
            rows = await database_sync_to_async(submission_log_after)(
                submission=self.submission, after=self.last_seq, limit=BATCH
            )
            if not rows:
                return
            self.last_seq = rows[-1].seq
            await self.send_json(
                {"lines": [{"seq": r.seq, "step": r.step, "line": r.line} for r in rows]}
            )

    async def _send_lines(self, lines: list[dict]) -> None:
        fresh = [line for line in lines if line["seq"] > self.last_seq]
        if not fresh:
            return
        if fresh[0]["seq"] != self.last_seq + 1:
            # A gap (batches broadcast out of commit order): fill it from the database.
            await self._send_backlog()
            fresh = [line for line in fresh if line["seq"] > self.last_seq]
            if not fresh:
                return
        self.last_seq = fresh[-1]["seq"]
        await self.send_json({"lines": fresh})

    async def _send_status(self) -> None:
        """The current status from the database, after every log line written before it. Read
        rather than forwarded, so a late or repeated broadcast never moves the page backwards."""
        submission = await database_sync_to_async(submission_status_get)(
            submission_id=self.submission.pk
        )
        await self._send_backlog()
        if submission is None:
            return
        # updated_at moves on every save (a worker's lease too): it is not news by itself.
        key = (submission.status, submission.failed_step, submission.error_message)
        if key == self.last_status:
            return
        self.last_status = key
        await self.send_json({"status": _status_frame(submission)})

    async def submission_events(self, message: dict) -> None:
        events = message["events"]
        lines = [
            {"seq": e["seq"], "step": e["step"], "line": e["line"]}
            for e in events
            if e.get("kind") == "log"
        ]
        if lines:
            await self._send_lines(lines)
        if any(e.get("kind") == "status" for e in events):
            await self._send_status()

    async def receive_json(self, content, **kwargs) -> None:
        # Clients only listen; a ping keeps idle proxies from closing the socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": self.last_seq})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
