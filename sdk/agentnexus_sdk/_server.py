"""HTTP/1.1 on a Unix socket: GET /health, POST /execute (NDJSON events, chunked)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentnexus_sdk._core import Agent

DEFAULT_SOCKET = "/run/agentnexus/agent.sock"
MAX_REQUEST_BYTES = 64 * 1024 * 1024


class _ChunkWriter:
    """Writes NDJSON lines as HTTP chunks, one chunk per event, from any thread. Once the platform
    has gone away, writes are dropped (the handler keeps running to its end)."""

    def __init__(self, wfile: Any) -> None:
        self._wfile = wfile
        self._lock = threading.Lock()
        self._done = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            if self._done:
                return
            try:
                self._wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                self._wfile.flush()
            except OSError:
                self._done = True

    def finish(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            try:
                self._wfile.write(b"0\r\n\r\n")
                self._wfile.flush()
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "agentnexus-sdk/1"
    sys_version = ""
    server: _Server

    # Unix sockets have no client address; and request lines are not worth logging.
    def address_string(self) -> str:
        return "agent-socket"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            from agentnexus_sdk import __version__
            from agentnexus_sdk._core import PROTOCOL_VERSION

            self._reply(
                200,
                {
                    "status": "ok",
                    "agent": self.server.agent.name,
                    "sdk": __version__,
                    "protocol": PROTOCOL_VERSION,
                },
            )
        else:
            self._reply(404, {"error": "not_found"})

    def do_POST(self) -> None:
        if self.path != "/execute":
            self._reply(404, {"error": "not_found"})
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._reply(411, {"error": "length_required"})
            return
        if length < 0 or length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._reply(413, {"error": "request_too_large"})
            return
        try:
            payload = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._reply(400, {"error": "bad_request", "message": "the body must be a JSON object"})
            return
        if not self.server.busy.acquire(blocking=False):
            self._reply(409, {"error": "busy", "message": "an execution is already running"})
            return
        try:
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            writer = _ChunkWriter(self.wfile)
            final = self.server.agent.execute(payload, writer.write)
            writer.write(final)
            writer.finish()
        finally:
            self.server.busy.release()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, agent: Agent) -> None:
        self.agent = agent
        self.busy = threading.Lock()
        super().__init__(path, _Handler)


def _exit_now(signum: int, frame: Any) -> None:
    os._exit(0)


def make_server(agent: Agent, socket_path: str) -> _Server:
    """Bind `socket_path` (replacing a stale socket) and return the server, not yet serving."""
    directory = os.path.dirname(socket_path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = _Server(socket_path, agent)
    # The platform connects from the host, possibly as another user: let anyone who can reach the
    # directory connect (the directory itself is private to the run).
    with contextlib.suppress(OSError):
        os.chmod(socket_path, 0o666)  # noqa: S103
    return server


def serve(agent: Agent | None = None, *, socket_path: str | None = None) -> None:
    """Serve `agent` (default: the last `@agent` defined) on `socket_path` (default: $AGENT_SOCKET,
    else /run/agentnexus/agent.sock) until the process is stopped."""
    if agent is None:
        from agentnexus_sdk._core import registered_agent

        agent = registered_agent()
    path = socket_path or os.environ.get("AGENT_SOCKET") or DEFAULT_SOCKET
    server = make_server(agent, path)
    if threading.current_thread() is threading.main_thread():
        # The container's main process: stop at once on SIGTERM / Ctrl-C (pid 1 ignores signals
        # it does not handle).
        signal.signal(signal.SIGTERM, _exit_now)
        signal.signal(signal.SIGINT, _exit_now)
    print(f"agentnexus_sdk: serving {agent.name} on {path}", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
