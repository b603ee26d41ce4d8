#!/usr/bin/env python
"""Run overhead: the echo agent through the platform vs. a plain `docker run` of the same image.

    DATABASE_URL=postgres://dev:dev@127.0.0.1:5432/agentnexus_runbench \
    REDIS_URL=redis://127.0.0.1:6379/4 \
    .venv/bin/python bench/run_overhead.py [--runs 20] [--json PATH] [--keep-server [SECONDS]]

Setup: build the agent images (scripts/docker_images.sh), create the database if missing, migrate,
create a bench user, an API token, a session and the agent `bench-echo` from
agents/catalog/echo/agent.yaml (image agentnexus/catalog-echo:1.0.0), then start uvicorn (1
worker, a free loopback port) and a Celery worker (`-Q celery,runs -P threads -c 4`), both with
agentnexus.settings.local and CELERY_TASK_ALWAYS_EAGER off.

Measured in rounds, one run of each kind per round in this process (the order rotates every
round), after 2 unmeasured warm-up rounds:

    platform  POST /api/v1/runs/ -> the terminal `status` event received on /ws/runs/<id>/
    plain     `docker run -d` with the sandbox's options (runtime/backends/docker.py: network none,
              read-only root, /tmp tmpfs, cap-drop ALL, no-new-privileges, pids / memory / CPU
              limits, uid 10001, the socket directory bind-mounted at /run/agentnexus) -> /health
              on the socket -> POST /execute -> NDJSON to the result -> `docker rm -f -v`
    plain_api the same container and steps through the Engine API on /var/run/docker.sock
              (create, start, DELETE ?force&v; keep-alive), as the backend calls the engine:
              the baseline without the docker CLI's own cost

It prints the median / p95 / min / max of each, the ratio of medians and the median overhead of
the platform over both baselines, a breakdown of the platform's time from its events' timestamps,
and writes bench/results/run_overhead.json.
Exit status 1 when a run failed, 2 on a setup problem. Every process it starts is stopped, also on
errors and Ctrl-C. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results" / "run_overhead.json"
ECHO_MANIFEST = REPO / "agents" / "catalog" / "echo" / "agent.yaml"
HOST = "127.0.0.1"
SETTINGS = "agentnexus.settings.local"
AGENT_SLUG = "bench-echo"
USER_EMAIL = "bench-runs@bench.agentnexus.local"
PLAIN_LABEL = "agentnexus.bench=run_overhead"  # not agentnexus.managed: no reaper touches them

SPEC_CONTAINER_START_MS = 10_000.0  # the spec's floor: a container start under 10 s
AIM_OVERHEAD_MS = 300.0  # median platform time minus median plain time
RUN_TIMEOUT_S = 60.0
TERMINAL = ("succeeded", "failed", "timed_out", "canceled")
# /health polling, as the backend does it (runtime/backends/docker.py HEALTH_POLL_S / _MAX_S).
HEALTH_POLL_S = 0.01
HEALTH_POLL_MAX_S = 0.05

# Platform timeline points, in order along the critical path: (key, label).
PLATFORM_POINTS = [
    ("queued", "queued event (API transaction)"),
    ("api", "API response received"),
    ("starting", "starting event (dispatch_runs)"),
    ("exec_start", "backend.execute() began"),
    ("running", "running event (/health answered)"),
    ("result", "result read (duration_ms)"),
    ("terminal", "terminal event (container gone)"),
    ("seen", "terminal event seen on the socket"),
]
# Consecutive phases of the platform's critical path; they add up to the total.
PLATFORM_PHASES = [
    ("api_commit", "request -> queued event", None, "queued"),
    ("dispatch", "queued -> starting (dispatch_runs hop)", "queued", "starting"),
    ("execute_hop", "starting -> execute() (execute_run hop, claim)", "starting", "exec_start"),
    ("container_start", "execute() -> /health answered", "exec_start", "running"),
    ("execute", "running -> result read", "running", "result"),
    ("teardown", "result -> terminal event (kill, rm, record)", "result", "terminal"),
    ("push", "terminal event -> seen on the WebSocket", "terminal", "seen"),
]
PLAIN_PHASES = [
    ("docker_run", "create + start (`docker run -d` / API calls)"),
    ("health", "-> /health answered"),
    ("execute", "-> result read"),
    ("remove", "-> removed (`docker rm -f -v` / API DELETE)"),
]
KINDS = {  # key: label
    "platform": "platform (API -> terminal on WS)",
    "plain": "plain docker run (CLI)",
    "plain_api": "plain, Engine API (no CLI)",
}


class BenchError(Exception):
    """A problem the user must fix; printed without a traceback."""


class RunFailed(Exception):
    """One measured run did not succeed (counted, reported; the bench goes on)."""


# --------------------------------------------------------------------------------------------
# Configuration, database, fixtures
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Platform run overhead vs. a plain docker run of the echo agent.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="measured rounds (one run of each kind per round)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured warm-up rounds")
    parser.add_argument("--json", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument(
        "--keep-server",
        type=float,
        nargs="?",
        const=300.0,
        default=0.0,
        metavar="SECONDS",
        help="keep uvicorn and the worker up this long after the runs (default with the flag: "
        "300) for py-spy on the printed pids; Ctrl-C stops them",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= 500:
        parser.error("--runs must be between 1 and 500")
    if not 0 <= args.warmup <= 20:
        parser.error("--warmup must be between 0 and 20")
    if not 0 <= args.keep_server <= 3600:
        parser.error("--keep-server must be between 0 and 3600 seconds")
    return args


def service_urls() -> tuple[str, str]:
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if urllib.parse.urlsplit(db_url).scheme not in {"postgres", "postgresql", "pgsql"}:
        raise BenchError(
            "DATABASE_URL must point at PostgreSQL (postgres://user:password@127.0.0.1:5432/"
            "agentnexus_runbench): the run pipeline's row locks and pool are PostgreSQL's."
        )
    if urllib.parse.urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise BenchError(
            "REDIS_URL must point at Redis (for example redis://127.0.0.1:6379/4): it is the "
            "Celery broker and the Channels layer."
        )
    for name, url in (("DATABASE_URL", db_url), ("REDIS_URL", redis_url)):
        host = urllib.parse.urlsplit(url).hostname
        if host not in {None, "", "127.0.0.1", "localhost", "::1"}:
            raise BenchError(f"{name} must be on this machine (127.0.0.1); got host {host!r}.")
    return db_url, redis_url


def ensure_database(db_url: str) -> None:
    """Create the database when it does not exist (needs a CREATEDB role)."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(db_url)
    dbname = urllib.parse.unquote(parts.path.lstrip("/"))
    if not dbname:
        raise BenchError("DATABASE_URL names no database (…/dbname at the end).")

    def libpq(path: str) -> str:
        return urllib.parse.urlunsplit(("postgresql", parts.netloc, path, parts.query, ""))

    try:
        with psycopg.connect(libpq(parts.path), connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise BenchError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
    print(f"· creating database {dbname}")
    try:
        with psycopg.connect(libpq("/postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot create database {dbname}: {exc}".strip()) from exc


def bench_env(db_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("CELERY_BROKER_URL", None)  # the broker is REDIS_URL, like the Channels layer
    return env


def build_images() -> None:
    print("· scripts/docker_images.sh")
    proc = subprocess.run(
        [str(REPO / "scripts" / "docker_images.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise BenchError(f"scripts/docker_images.sh failed:\n{tail}")


def prepare_fixtures() -> dict:
    """Migrate; the bench user, its token and session; the echo agent. Idempotent."""
    import yaml
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from accounts.models import ApiToken, DeveloperProfile, User
    from accounts.services import api_token_create, developer_profile_create
    from marketplace.models import Agent, Category
    from marketplace.services import agent_create, agent_version_create
    from runtime.models import ACTIVE, Run
    from runtime.services import run_fail_infrastructure

    print("· migrate")
    call_command("migrate", interactive=False, verbosity=0)
    data = yaml.safe_load(ECHO_MANIFEST.read_text())
    image = f"agentnexus/catalog-echo:{data['version']}"
    resources = data.get("resources", {})
    with transaction.atomic():
        user = User.objects.filter(email=USER_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                email=USER_EMAIL, password=None, display_name="Run bench"
            )
        developer = DeveloperProfile.objects.filter(user=user).first()
        if developer is None:
            developer = developer_profile_create(user=user, display_name="Run bench")
        agent = Agent.objects.filter(slug=AGENT_SLUG).first()
        if agent is None:
            agent = agent_create(
                developer=developer,
                slug=AGENT_SLUG,
                name=data["name"],
                summary=data["summary"],
                description=data.get("description", ""),
                category=Category.objects.get(slug=data.get("category", "general")),
                tags=data.get("tags", []),
            )
        version = agent.versions.filter(version=str(data["version"])).first()
        if version is None:
            version = agent_version_create(
                agent=agent,
                version=str(data["version"]),
                image_ref=image,
                input_schema=data["input_schema"],
                output_schema=data["output_schema"],
                example_input=data["examples"][0]["input"],
                memory_mb=resources.get("memory_mb", 128),
                cpus=Decimal(str(resources.get("cpus", 1))),
                timeout_seconds=resources.get("timeout_s", 60),
                price=Decimal(str(data["price"]["amount"])),
                currency=data["price"]["currency"],
            )
        elif version.image_ref != image:
            raise BenchError(
                f"{AGENT_SLUG} {version.version} runs {version.image_ref}, not {image}: "
                "drop the bench database and run again"
            )
        agent.refresh_from_db()
        if agent.current_version_id != version.pk or agent.status != Agent.Status.ACTIVE:
            raise BenchError(f"{AGENT_SLUG} is not active on {version.version}: drop the database")
        # One token per bench run (at most 20 active per user): revoke the previous ones.
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        _, token = api_token_create(user=user, name="run-overhead bench")
    # Runs an interrupted bench left behind would take slots (and CPU) from the measured ones.
    for run_id in Run.objects.filter(agent=agent, status__in=ACTIVE).values_list("id", flat=True):
        run_fail_infrastructure(run_id=run_id, message="left over by an interrupted bench run")
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    return {
        "agent": agent,
        "version": version,
        "input": data["examples"][0]["input"],
        "token": token,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
        "postgresql": pg_version,
    }


# --------------------------------------------------------------------------------------------
# Processes: uvicorn and the Celery worker, each in its own process group, always stopped
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Proc:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept until stop()
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )

    def start(self) -> None:
        print(f"· {' '.join(self.cmd[2:] if self.cmd[1] == '-m' else self.cmd)}")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() reaches its children too
        )

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None:
            self._stop_group()
        with contextlib.suppress(OSError):
            self.log.close()
            os.unlink(self.log.name)

    def _stop_group(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything left in its group
        self.proc = None


def wait_http_ready(server: Proc, base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"uvicorn exited during start-up:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise BenchError(
        f"uvicorn did not answer /healthz within {timeout:.0f} s:\n{server.log_tail()}"
    )


def wait_worker_ready(worker: Proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise BenchError(f"the Celery worker exited during start-up:\n{worker.log_tail()}")
        if " ready." in worker.log_text():
            return
        time.sleep(0.2)
    raise BenchError(
        f"the Celery worker was not ready within {timeout:.0f} s:\n{worker.log_tail()}"
    )


# --------------------------------------------------------------------------------------------
# The three kinds of run
# --------------------------------------------------------------------------------------------


class Platform:
    """POST /api/v1/runs/ on a keep-alive connection, then the run's WebSocket to the end."""

    def __init__(self, port: int, fx: dict) -> None:
        self.port = port
        self.fx = fx
        self.conn: http.client.HTTPConnection | None = None
        self.body = json.dumps({"agent": AGENT_SLUG, "input": fx["input"]}).encode()
        self.headers = {
            "Authorization": f"Token {fx['token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.in_flight: str | None = None  # container name of the run being measured

    def _post(self) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            try:
                self.conn.request("POST", "/api/v1/runs/", body=self.body, headers=self.headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = None
                # Only a keep-alive connection the server had closed is retried (the request
                # never reached the view); anything else could start a second run.
                closed = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                if attempt == 2 or not isinstance(exc, closed):
                    raise RunFailed(f"POST /api/v1/runs/ failed: {exc!r}") from exc
        raise AssertionError("unreachable")

    def run(self) -> dict:
        t0 = time.perf_counter()
        wall0 = time.time()
        status, raw = self._post()
        t_api = time.perf_counter()
        if status != 201:
            raise RunFailed(f"POST /api/v1/runs/ answered {status}: {raw[:300]!r}")
        run_id = json.loads(raw)["id"]
        self.in_flight = f"agentnexus-run-{uuid.UUID(run_id).hex}"
        try:
            events, terminal, t_ws, t_end = self._stream(run_id, t0)
        except (OSError, WebSocketException) as exc:
            raise RunFailed(f"run {run_id}: the WebSocket failed: {exc!r}") from exc
        total_ms = (t_end - t0) * 1000
        self.in_flight = None
        if terminal["status"] != "succeeded":
            raise RunFailed(f"run {run_id} {terminal['status']}: {terminal.get('message')}")
        return self._breakdown(run_id, events, wall0, t0, t_api, t_ws, total_ms)

    def _stream(self, run_id: str, t0: float) -> tuple[list[dict], dict, float, float]:
        """The run's events from its WebSocket until the terminal status event."""
        events: list[dict] = []
        with connect(
            f"ws://{HOST}:{self.port}/ws/runs/{run_id}/?after=0",
            origin=f"http://{HOST}:{self.port}",
            additional_headers={"Cookie": self.fx["cookie"]},
            open_timeout=10,
        ) as ws:
            t_ws = time.perf_counter()
            while True:
                remaining = t0 + RUN_TIMEOUT_S - time.perf_counter()
                try:
                    frame = ws.recv(timeout=max(0.01, remaining))
                except TimeoutError as exc:
                    raise RunFailed(
                        f"run {run_id}: no terminal event within {RUN_TIMEOUT_S:g} s"
                    ) from exc
                now = time.perf_counter()
                for event in json.loads(frame).get("events", []):
                    events.append(event)
                    payload = event.get("payload") or {}
                    if event.get("type") == "status" and payload.get("status") in TERMINAL:
                        return events, payload, t_ws, now

    @staticmethod
    def _breakdown(run_id, events, wall0, t0, t_api, t_ws, total_ms) -> dict:
        """Milliseconds since the request for each point of the timeline (events' `at` is the
        server's clock at the event's creation: same machine, same clock)."""
        from runtime.models import Run

        points: dict[str, float] = {"api": (t_api - t0) * 1000, "seen": total_ms}
        for event in events:
            status = (event.get("payload") or {}).get("status")
            if event.get("type") == "status" and status:
                at = dt.datetime.fromisoformat(event["at"]).timestamp()
                key = "terminal" if status in TERMINAL else status
                points.setdefault(key, (at - wall0) * 1000)
        row = Run.objects.values("container_start_ms", "duration_ms").get(public_id=run_id)
        if "running" in points and row["container_start_ms"] is not None:
            points["exec_start"] = points["running"] - row["container_start_ms"]
            points["result"] = points["exec_start"] + row["duration_ms"]
        return {
            "run_id": run_id,
            "total_ms": round(total_ms, 1),
            "ws_open_ms": round((t_ws - t0) * 1000, 1),
            "events": len(events),
            "container_start_ms": row["container_start_ms"],
            "duration_ms": row["duration_ms"],
            "points_ms": {k: round(v, 1) for k, v in points.items()},
        }

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Plain:
    """The same container without the platform, then the agent protocol on its socket.

    mode "cli": `docker run -d` and `docker rm -f -v` through the docker CLI (the headline
    baseline). mode "api": the same container through the Engine API on its Unix socket
    (POST /containers/create, /start, DELETE ?force&v) on a keep-alive connection, as the backend
    talks to the engine, without the CLI's process starts."""

    def __init__(self, fx: dict, mode: str = "cli") -> None:
        from runtime.backends.base import RunSpec

        version = fx["version"]
        # As runtime.services.run_spec() builds it for a run of this version (same clamping).
        self.spec = RunSpec(
            run_id="0" * 32,
            image=version.image_ref,
            memory_mb=version.memory_mb,
            cpus=float(version.cpus),
            timeout_s=version.timeout_seconds,
        )
        self.fx = fx
        self.mode = mode
        self.root = Path(tempfile.mkdtemp(prefix="anx-bench-"))
        self.in_flight: str | None = None
        self.engine: http.client.HTTPConnection | None = None

    def docker_args(self, name: str, sock_dir: Path) -> list[str]:
        """`docker run` with the options DockerBackend._create() passes to the engine."""
        from runtime.backends.base import AGENT_SOCKET, AGENT_UID, SOCKET_DIR_IN_CONTAINER

        spec = self.spec
        return [
            "docker", "run", "--detach", "--name", name, "--label", PLAIN_LABEL,
            "--network", "none", "--read-only",
            "--tmpfs", f"/tmp:rw,noexec,nosuid,nodev,size={spec.tmpfs_mb}m,mode=1777",  # noqa: S108
            "--mount", f"type=bind,source={sock_dir},target={SOCKET_DIR_IN_CONTAINER}",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--pids-limit", str(spec.pids_limit),
            "--memory", f"{spec.memory_mb}m", "--memory-swap", f"{spec.memory_mb}m",
            "--cpus", f"{spec.cpus:g}",
            "--ulimit", "nofile=1024:1024",
            "--log-driver", "json-file", "--log-opt", "max-size=1m", "--log-opt", "max-file=1",
            "--oom-score-adj", "500",
            "--user", f"{AGENT_UID}:{AGENT_UID}",
            "--env", f"AGENT_SOCKET={AGENT_SOCKET}",
            "--hostname", "agent",
            spec.image,
        ]  # fmt: skip

    def create_body(self, sock_dir: Path) -> dict:
        """The same container as an Engine API create request (what docker-py sends)."""
        from runtime.backends.base import AGENT_SOCKET, AGENT_UID, SOCKET_DIR_IN_CONTAINER

        spec = self.spec
        memory = spec.memory_mb * 1024 * 1024
        key, value = PLAIN_LABEL.split("=")
        return {
            "Image": spec.image,
            "User": f"{AGENT_UID}:{AGENT_UID}",
            "Env": [f"AGENT_SOCKET={AGENT_SOCKET}"],
            "Labels": {key: value},
            "Hostname": "agent",
            "NetworkDisabled": True,
            "AttachStdin": False,
            "AttachStdout": False,
            "AttachStderr": False,
            "HostConfig": {
                "NetworkMode": "none",
                "ReadonlyRootfs": True,
                "Tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={spec.tmpfs_mb}m,mode=1777"},  # noqa: S108
                "Mounts": [
                    {"Target": SOCKET_DIR_IN_CONTAINER, "Source": str(sock_dir), "Type": "bind"}
                ],
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges"],
                "PidsLimit": spec.pids_limit,
                "Memory": memory,
                "MemorySwap": memory,
                "NanoCpus": int(spec.cpus * 1e9),
                "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 1024}],
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}},
                "OomScoreAdj": 500,
                "AutoRemove": False,
            },
        }

    def _engine(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        from runtime.protocol import UnixHTTPConnection

        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (1, 2):  # a keep-alive connection the engine closed: reconnect once
            if self.engine is None:
                self.engine = UnixHTTPConnection(engine_socket(), timeout=30)
            try:
                self.engine.request(method, path, body=data, headers=headers)
                response = self.engine.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.engine.close()
                self.engine = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start(self, name: str, sock_dir: Path) -> None:
        if self.mode == "cli":
            proc = subprocess.run(
                self.docker_args(name, sock_dir), capture_output=True, check=False
            )
            if proc.returncode != 0:
                raise RunFailed(f"docker run failed: {proc.stderr.decode(errors='replace')[:300]}")
            return
        status, raw = self._engine(
            "POST", f"/containers/create?name={name}", self.create_body(sock_dir)
        )
        if status != 201:
            raise RunFailed(f"container create answered {status}: {raw[:300]!r}")
        status, raw = self._engine("POST", f"/containers/{name}/start")
        if status != 204:
            raise RunFailed(f"container start answered {status}: {raw[:300]!r}")

    def _remove(self, name: str) -> None:
        if self.mode == "cli":
            subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
        else:
            self._engine("DELETE", f"/containers/{name}?force=1&v=1")

    def run(self) -> dict:
        from runtime import protocol

        run_hex = uuid.uuid4().hex
        name = f"anx-bench-{self.mode}-{run_hex[:12]}"
        run_dir = self.root / run_hex[:12]
        sock_dir = run_dir / "sock"
        socket_path = str(sock_dir / "agent.sock")
        payload = {
            "input": self.fx["input"],
            "secrets": {},
            "metadata": {
                "run_id": str(uuid.UUID(run_hex)),
                "agent": AGENT_SLUG,
                "version": self.fx["version"].version,
                "deadline": (
                    dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.spec.timeout_s)
                ).isoformat(),
            },
        }
        t0 = time.perf_counter()
        run_dir.mkdir(mode=0o700)
        sock_dir.mkdir(mode=0o700)
        os.chmod(sock_dir, 0o777)  # noqa: S103 - as the backend: the agent (uid 10001) binds here
        self.in_flight = name
        try:
            self._start(name, sock_dir)
            t_run = time.perf_counter()
            deadline = t0 + RUN_TIMEOUT_S
            delay = HEALTH_POLL_S
            while not (os.path.exists(socket_path) and protocol.check_health(socket_path)):
                if time.perf_counter() > deadline:
                    raise RunFailed(f"{name}: /health did not answer within {RUN_TIMEOUT_S:g} s")
                time.sleep(delay)
                delay = min(HEALTH_POLL_MAX_S, delay * 1.5)
            t_health = time.perf_counter()
            os.chmod(sock_dir, 0o755)  # noqa: S103 - as the backend once /health answered
            conn, response = protocol.open_execute(
                socket_path, protocol.encode_payload(payload), run_id=run_hex, timeout=30
            )
            try:
                outcome = protocol.read_events(
                    response,
                    max_output_bytes=self.spec.max_output_bytes,
                    max_log_bytes=self.spec.max_log_bytes,
                    on_event=lambda event: None,
                )
            finally:
                conn.close()
            t_result = time.perf_counter()
            if outcome.final is None or outcome.final.kind != "result":
                raise RunFailed(f"{name}: no result ({outcome.violation or outcome.ended})")
        finally:
            self._remove(name)
            shutil.rmtree(run_dir, ignore_errors=True)
            self.in_flight = None
        t_end = time.perf_counter()
        ms = lambda a, b: round((b - a) * 1000, 1)  # noqa: E731
        return {
            "total_ms": ms(t0, t_end),
            "phases_ms": {
                "docker_run": ms(t0, t_run),
                "health": ms(t_run, t_health),
                "execute": ms(t_health, t_result),
                "remove": ms(t_result, t_end),
            },
        }

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
        shutil.rmtree(self.root, ignore_errors=True)


def engine_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "")
    if host and not host.startswith("unix://"):
        raise BenchError(f"DOCKER_HOST={host}: the Engine API baseline needs a local Unix socket")
    return host.removeprefix("unix://") or "/var/run/docker.sock"


def remove_container(name: str | None) -> None:
    if name:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)


# --------------------------------------------------------------------------------------------
# Statistics, output
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "median": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "mean": round(sum(values) / len(values), 1),
    }


def platform_phases(runs: list[dict]) -> dict:
    phases: dict[str, dict] = {}
    for key, label, start, end in PLATFORM_PHASES:
        values = [
            r["points_ms"][end] - (r["points_ms"][start] if start else 0.0)
            for r in runs
            if end in r["points_ms"] and (start is None or start in r["points_ms"])
        ]
        phases[key] = {"label": label, **summary(values)}
    return phases


def plain_phases(runs: list[dict]) -> dict:
    return {
        key: {"label": label, **summary([r["phases_ms"][key] for r in runs])}
        for key, label in PLAIN_PHASES
    }


def docker_info() -> dict:
    def out(*args: str) -> str:
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    server, storage, cgroup = (out("info", "--format", "{{.ServerVersion}}|{{.Driver}}|{{.CgroupVersion}}").split("|") + ["", "", ""])[:3]  # fmt: skip
    # What one docker CLI call costs here (process start + an engine round trip): the plain run
    # pays it twice (run, rm), the platform talks to the engine's API directly.
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        out("version", "--format", "{{.Server.Version}}")
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "server": server,
        "client": out("version", "--format", "{{.Client.Version}}"),
        "storage_driver": storage,
        "cgroup_version": cgroup,
        "cli_call_ms_median": round(percentile(samples, 50), 1),
    }


def machine_info() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    tmp.replace(path)


def print_report(result: dict) -> None:
    print()
    header = f"{'':<34} {'N':>4} {'median':>8} {'p95':>8} {'min':>8} {'max':>8}   (ms)"
    print(header)
    print("-" * len(header))
    for key, label in KINDS.items():
        stats = result[f"{key}_ms"]
        if stats:
            print(
                f"{label:<34} {result['n'][key]:>4} {stats['median']:>8.1f} {stats['p95']:>8.1f} "
                f"{stats['min']:>8.1f} {stats['max']:>8.1f}"
            )
    print()
    for key, versus in (("plain", "docker run (CLI)"), ("plain_api", "the Engine API")):
        over = result["overhead"].get(key)
        if over:
            paired = over["paired_ms"]
            print(
                f"vs {versus:<17} ratio of medians {over['ratio_of_medians']:.2f}x, median "
                f"overhead {over['median_overhead_ms']:+7.1f} ms (aim < {AIM_OVERHEAD_MS:g} ms: "
                f"{'met' if over['median_overhead_ms'] < AIM_OVERHEAD_MS else 'MISSED'}); paired "
                f"differences median {paired['median']:+.1f}, p95 {paired['p95']:+.1f} ms"
            )
    print(f"\n{'platform, phase of the critical path':<52} {'median':>8} {'p95':>8}")
    for phase in result["platform_phases_ms"].values():
        if "median" in phase:
            print(f"  {phase['label']:<50} {phase['median']:>8.1f} {phase['p95']:>8.1f}")
    for key in ("plain", "plain_api"):
        print(f"{KINDS[key] + ', phase':<52} {'median':>8} {'p95':>8}")
        for phase in result[f"{key}_phases_ms"].values():
            if "median" in phase:
                print(f"  {phase['label']:<50} {phase['median']:>8.1f} {phase['p95']:>8.1f}")
    extra = [("API response", result["api_response_ms"]), ("WebSocket open", result["ws_open_ms"])]
    print("  ".join(f"{label} median {s['median']:.1f} ms" for label, s in extra if s))
    load = result.get("loadavg")
    if load:
        busy = " (busy machine: rerun for steadier figures)" if max(load) > result["cpus"] else ""
        print(f"load average before/after {load[0]:.2f} / {load[1]:.2f}{busy}")
    starts = result["container_start_ms"]
    if starts:
        print(
            f"container start (execute() -> /health) median {starts['median']:.0f} ms, max "
            f"{starts['max']:.0f} ms: spec floor < {SPEC_CONTAINER_START_MS / 1000:g} s "
            f"{'met' if result['meets']['spec_container_start'] else 'MISSED'}"
        )


# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    db_url, redis_url = service_urls()
    if shutil.which("docker") is None:
        raise BenchError("the docker CLI is not installed")
    engine_socket()
    build_images()
    ensure_database(db_url)
    env = bench_env(db_url, redis_url)
    os.environ.update(env)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import celery
    import django
    import uvicorn
    import websockets

    django.setup()
    fx = prepare_fixtures()

    meta = {
        "benchmark": "run_overhead",
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "docker": docker_info(),
        "software": {
            "django": django.get_version(),
            "celery": celery.__version__,
            "uvicorn": uvicorn.__version__,
            "websockets": websockets.__version__,
            "postgresql": fx["postgresql"],
        },
        "settings": {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "server": "uvicorn agentnexus.asgi:application --workers 1",
            "worker": "celery -A agentnexus worker -Q celery,runs -P threads -c 4 -l info",
            "image": fx["version"].image_ref,
            "input": fx["input"],
            "runs": args.runs,
            "warmup": args.warmup,
            "order": "platform, plain, plain_api rotated by one every round",
        },
        "targets": {
            "aim_median_overhead_ms": AIM_OVERHEAD_MS,
            "spec_container_start_ms": SPEC_CONTAINER_START_MS,
        },
    }
    port = free_port()
    server = Proc(
        "uvicorn",
        [
            sys.executable, "-m", "uvicorn", "agentnexus.asgi:application", "--workers", "1",
            "--host", HOST, "--port", str(port), "--no-access-log", "--log-level", "warning",
        ],
        env,
    )  # fmt: skip
    worker = Proc(
        "celery",
        [
            sys.executable, "-m", "celery", "-A", "agentnexus", "worker", "-Q", "celery,runs",
            "-P", "threads", "-c", "4", "-l", "info", "-n", f"runbench-{os.getpid()}@%h",
        ],
        env,
    )  # fmt: skip
    runs: dict[str, list[dict]] = {key: [] for key in KINDS}
    failures: list[str] = []
    kinds: dict = {}
    try:
        server.start()
        worker.start()
        wait_http_ready(server, f"http://{HOST}:{port}")
        wait_worker_ready(worker)
        print(f"· uvicorn pid {server.pid} on http://{HOST}:{port}; celery pid {worker.pid}")
        kinds = {"platform": Platform(port, fx), "plain": Plain(fx), "plain_api": Plain(fx, "api")}
        meta["limits"] = {
            k: getattr(kinds["plain"].spec, k)
            for k in ("memory_mb", "cpus", "pids_limit", "tmpfs_mb")
        }
        order = list(KINDS)
        for i in range(args.warmup + args.runs):
            measured = i >= args.warmup
            shift = i % len(order)
            for key in order[shift:] + order[:shift]:
                try:
                    result = kinds[key].run()
                except RunFailed as exc:
                    if not measured:
                        raise BenchError(
                            f"warm-up run failed: {exc}\n--- worker log ---\n{worker.log_tail()}"
                        ) from exc
                    failures.append(f"{key}: {exc}")
                    print(f"! {failures[-1]}")
                    continue
                if measured:
                    runs[key].append(result)
            done = i + 1 - args.warmup
            if i + 1 == args.warmup:
                print(f"· {args.warmup} warm-up rounds done; measuring {args.runs} rounds")
            elif measured and (done % 5 == 0 or done == args.runs):
                last = "  ".join(
                    f"{key} {runs[key][-1]['total_ms']:.0f} ms" for key in KINDS if runs[key]
                )
                print(f"  {done}/{args.runs}: {last}")
        if args.keep_server:
            print(
                f"· keeping uvicorn (pid {server.pid}) and celery (pid {worker.pid}) up "
                f"{args.keep_server:g} s; Ctrl-C stops them"
            )
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(args.keep_server)
    finally:
        for kind in kinds.values():
            kind.close()
        worker.stop()  # warm shutdown: a run in progress ends (its container goes) first
        server.stop()
        for kind in kinds.values():
            remove_container(kind.in_flight)

    meta["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta["machine"]["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    totals = {key: [r["total_ms"] for r in runs[key]] for key in KINDS}
    platform_runs = runs["platform"]
    result: dict = {
        "n": {key: len(runs[key]) for key in KINDS},
        **{f"{key}_ms": summary(totals[key]) for key in KINDS},
        "overhead": {},
        "platform_phases_ms": platform_phases(platform_runs),
        "plain_phases_ms": plain_phases(runs["plain"]),
        "plain_api_phases_ms": plain_phases(runs["plain_api"]),
        "container_start_ms": summary(
            [r["container_start_ms"] for r in platform_runs if r["container_start_ms"] is not None]
        ),
        "api_response_ms": summary([r["points_ms"]["api"] for r in platform_runs]),
        "ws_open_ms": summary([r["ws_open_ms"] for r in platform_runs]),
        "meets": {},
        "failures": failures,
        "cpus": os.cpu_count(),
        "loadavg": [
            float(meta["machine"]["loadavg_before"][0]),
            float(meta["machine"]["loadavg_after"][0]),
        ],
    }
    for key in ("plain", "plain_api"):
        if totals["platform"] and totals[key]:
            med_platform, med_plain = (
                percentile(totals["platform"], 50),
                percentile(totals[key], 50),
            )
            result["overhead"][key] = {
                "ratio_of_medians": round(med_platform / med_plain, 3),
                "median_overhead_ms": round(med_platform - med_plain, 1),
                # platform minus plain within the same round (same machine state)
                "paired_ms": summary(
                    [a - b for a, b in zip(totals["platform"], totals[key], strict=False)]
                ),
            }
    if "plain" in result["overhead"]:  # the comparison: the plain `docker run`
        result["ratio_of_medians"] = result["overhead"]["plain"]["ratio_of_medians"]
        result["median_overhead_ms"] = result["overhead"]["plain"]["median_overhead_ms"]
        result["meets"]["aim_overhead"] = result["median_overhead_ms"] < AIM_OVERHEAD_MS
    if "plain_api" in result["overhead"]:
        result["meets"]["aim_overhead_vs_engine_api"] = (
            result["overhead"]["plain_api"]["median_overhead_ms"] < AIM_OVERHEAD_MS
        )
    if result["container_start_ms"]:
        result["meets"]["spec_container_start"] = (
            result["container_start_ms"]["max"] < SPEC_CONTAINER_START_MS
        )
    print_report(result)
    write_json(args.json, {**meta, **result, "runs": runs})
    shown = args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json
    print(f"\n· results written to {shown}")
    if failures:
        print(f"\n! {len(failures)} runs failed: see above", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def on_term(signum, frame):  # run the `finally` blocks (stop the processes) on SIGTERM too
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        return run(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
