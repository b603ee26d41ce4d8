"""The live run stream: one WebSocket per run, for its owner and staff.

Protocol (docs/agent-protocol.md#live-status): connect to /ws/runs/<run id>/?after=<seq>; the server
sends {"events": [...]} frames, each event {seq, type, at, payload}, in seq order and without gaps:
first everything after `after` from the database, then live events as they happen. A client that
reconnects passes the last seq it saw and loses nothing.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from runtime.broadcast import run_group
from runtime.selectors import run_visible_to
from runtime.services import run_events_after

NOT_FOUND = 4404  # application close code: no such run for this user


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        run = (
            await database_sync_to_async(run_visible_to)(
                user=user, public_id=self.scope["url_route"]["kwargs"]["public_id"]
            )
            if user is not None
            else None
        )
        if run is None:
            await self.close(code=NOT_FOUND)
            return
        self.run = run
        self.group = run_group(run.public_id)
        self.last_seq = self._after()
        # Join first, then read the backlog: a live event that lands in between arrives twice at
        # most, and the seq check drops the copy.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_backlog()

    def _after(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            return max(0, int(query.get("after", ["0"])[0]))
        except ValueError:
            return 0

    async def _send_backlog(self) -> None:
        while True:
            events = await database_sync_to_async(run_events_after)(
                run=self.run, after=self.last_seq, limit=500
            )
            if not events:
                return
            await self._send([event.as_message() for event in events])

    async def _send(self, messages: list[dict]) -> None:
        fresh = [m for m in messages if m["seq"] > self.last_seq]
        if not fresh:
            return
        if fresh[0]["seq"] != self.last_seq + 1:
            # A gap (events committed out of broadcast order): fill it from the database.
            await self._send_backlog()
            fresh = [m for m in fresh if m["seq"] > self.last_seq]
            if not fresh:
                return
        self.last_seq = fresh[-1]["seq"]
        await self.send_json({"events": fresh})

    async def run_events(self, message: dict) -> None:
        await self._send(message["events"])

    async def receive_json(self, content, **kwargs) -> None:
        # Clients only listen; a ping keeps idle proxies from closing the socket.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "seq": self.last_seq})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
