"""Docker runtime backend: one short-lived, locked-down container per run.

The only module that imports docker-py. Each run gets:

* a private directory <RUNTIME_SOCKET_ROOT>/<run_id>/ (0700, host only) holding `sock/`, which is
  bind-mounted at /run/agentnexus; the agent serves $AGENT_SOCKET=/run/agentnexus/agent.sock there.
  `sock/` is writable by the agent only until /health answers, then read-only to it;
* a container "agentnexus-run-<run_id>" labelled agentnexus.managed=1 / agentnexus.run=<run_id>:
  no network, read-only root, /tmp a small noexec tmpfs, all capabilities dropped,
  no-new-privileges, uid/gid 10001, pids / memory (no swap) / CPU limits, no environment but
  AGENT_SOCKET (secrets travel only in the /execute body);
* a watchdog thread that kills the container at the deadline (container start + execute), on
  cancel (should_cancel(), or cancel() from any process), and samples peak memory.

The container and the directory are removed on every path, exceptions included.
"""

from __future__ import annotations

import collections
import datetime as dt
import http.client
import json
import logging
import os
import shutil
import stat
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests
from docker.types import LogConfig, Mount, Ulimit

from runtime import protocol
from runtime.backends.base import (
    AGENT_ERROR,
    AGENT_SOCKET,
    AGENT_UID,
    CANCELED,
    IMAGE_MISSING,
    INFRASTRUCTURE_ERROR,
    LABEL_MANAGED,
    LABEL_RUN,
    OUT_OF_MEMORY,
    PROTOCOL_ERROR,
    SOCKET_DIR_IN_CONTAINER,
    TIMEOUT,
    BuildError,
    ContainerInfo,
    ImageFile,
    ImageNotFoundError,
    InfrastructureError,
    RunOutcome,
    RunSpec,
    _setting,
    container_name,
)

log = logging.getLogger(__name__)

MiB = 1024 * 1024
CANCEL_MARKER = "canceled"  # in the run directory, out of the agent's reach
HEALTH_POLL_S = 0.01  # first /health polls; backs off to HEALTH_POLL_MAX_S
HEALTH_POLL_MAX_S = 0.05
STATE_CHECK_S = 0.25  # how often the health wait asks the engine whether the container died
WATCHDOG_TICK_S = 0.05
MEMORY_SAMPLE_S = 0.25
READ_GRACE_S = 5.0  # socket read timeout beyond the deadline (the watchdog normally acts first)
OOM_CONFIRM_S = 0.5  # how long to wait for the engine to report an OOM kill
MAX_SOCKET_PATH = 107  # sun_path is 108 bytes with the terminating NUL
LOG_TAIL_LINES = 20
LOG_TAIL_CHARS = 4000
CONNECTION_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)


def _is_unavailable(exc: Exception) -> bool:
    """The engine itself failed (not the request): worth retrying later."""
    if isinstance(exc, CONNECTION_ERRORS):
        return True
    if isinstance(exc, docker.errors.APIError):
        return exc.is_server_error()
    return isinstance(exc, docker.errors.DockerException)


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class _Execution:
    """Per-run state shared by execute() and its watchdog."""

    def __init__(self, spec: RunSpec, run_dir: Path, deadline: float) -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.deadline = deadline
        self.container_id: str | None = None
        self.stop_reason: str | None = None  # TIMEOUT | CANCELED once the watchdog killed it
        self.done = threading.Event()
        self.peak_memory: int | None = None
        self.sent = False  # /execute sent: from here on a retry could run the agent twice
        self.created_at = time.time()  # wall clock, for the engine's event log
        self.lock = threading.Lock()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def cancel_marked(self) -> bool:
        return (self.run_dir / CANCEL_MARKER).exists()


@dataclass
class _Exit:
    running: bool
    exit_code: int | None
    oom_killed: bool


class DockerBackend:
    """RuntimeBackend on a Docker engine (docker-py). Thread-safe: one instance serves every run
    of a process."""

    def __init__(
        self,
        *,
        socket_root: str | Path | None = None,
        docker_url: str | None = None,
        api_version: str | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.socket_root = Path(
            socket_root or _setting("RUNTIME_SOCKET_ROOT", None) or "/tmp/agentnexus-runs"  # noqa: S108
        )
        self.docker_url = docker_url or _setting("RUNTIME_DOCKER_URL", None) or None
        self.api_version = api_version or _setting("RUNTIME_DOCKER_API_VERSION", None) or "auto"
        self._client = client
        self._client_lock = threading.Lock()
        self._cgroup_layout: tuple[str, str] | None = None  # (format with {id}, kind) once found

    # ------------------------------------------------------------------------- engine access
    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    try:
                        if self.docker_url:
                            self._client = docker.DockerClient(
                                base_url=self.docker_url, version=self.api_version, timeout=60
                            )
                        else:
                            self._client = docker.from_env(version=self.api_version, timeout=60)
                    except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
                        raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        return self._client

    @property
    def api(self) -> docker.APIClient:
        return self.client.api

    # ------------------------------------------------------------------------- public API
    def image_exists(self, image: str) -> bool:
        try:
            self.api.inspect_image(image)
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):  # e.g. an invalid reference
                return False
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        return True

    def remove_image(self, image: str) -> bool:
        try:
            self.api.remove_image(image, force=False, noprune=False)
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code in (404, 409):  # gone, or still used by a container
                return False
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        return True

    def list_run_containers(self) -> list[ContainerInfo]:
        try:
            rows = self.api.containers(all=True, filters={"label": f"{LABEL_MANAGED}=1"})
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        found = []
        for row in rows:
            labels = row.get("Labels") or {}
            created = row.get("Created")
            found.append(
                ContainerInfo(
                    run_id=labels.get(LABEL_RUN, ""),
                    container_id=row["Id"],
                    status=row.get("State") or "",
                    created_at=dt.datetime.fromtimestamp(created, tz=dt.UTC) if created else None,
                    labels=dict(labels),
                )
            )
        return found

    def cancel(self, *, run_id: str) -> bool:
        """Kill the run's container now (from any process). Also leaves a marker so execute()
        reports the run as canceled, not crashed. Never raises: if the engine is unreachable it
        logs and returns False (the worker's should_cancel() still stops the run)."""
        run_dir = self._run_dir(run_id)
        if run_dir.is_dir():
            try:
                (run_dir / CANCEL_MARKER).touch()
            except OSError:
                log.warning("run %s: could not write the cancel marker", run_id)
        try:
            self.api.kill(container_name(run_id))
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # exists but is not running
                return True
            log.warning("run %s: cancel failed: %s", run_id, exc)
            return False
        except (InfrastructureError, docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            log.warning("run %s: cancel failed, Docker is unavailable: %s", run_id, exc)
            return False
        return True

    def cleanup(self, *, run_id: str) -> None:
        """Remove the run's container and directory. Idempotent. Raises InfrastructureError only
        when the engine is unreachable (the directory is removed anyway)."""
        try:
            self._remove_container(container_name(run_id))
        finally:
            self._remove_dir(self._run_dir(run_id))

    def build_image(
        self,
        *,
        context_dir: Path,
        tag: str,
        labels: Mapping[str, str],
        buildargs: Mapping[str, str] | None = None,
        timeout_s: int = 600,
        on_log: Callable[[str], None] | None = None,
    ) -> str:
        tail: collections.deque[str] = collections.deque(maxlen=40)
        started = time.monotonic()
        image_id = None
        try:
            stream = self.api.build(
                path=str(context_dir),
                tag=tag,
                labels=dict(labels),
                buildargs=dict(buildargs or {}),
                network_mode="none",
                rm=True,
                forcerm=True,
                pull=False,
                decode=True,
                timeout=timeout_s,
                use_config_proxy=False,
            )
            for chunk in stream:
                text = chunk.get("stream") or chunk.get("status") or ""
                if text:
                    for line in text.rstrip("\n").splitlines():
                        tail.append(line)
                        if on_log:
                            on_log(line)
                if "error" in chunk:
                    raise BuildError(
                        f"Building {tag} failed: {chunk['error'].strip()}", "\n".join(tail)
                    )
                aux = chunk.get("aux")
                if isinstance(aux, dict) and aux.get("ID"):
                    image_id = aux["ID"]
                if time.monotonic() - started > timeout_s:
                    raise BuildError(
                        f"Building {tag} took longer than {timeout_s} s.", "\n".join(tail)
                    )
        except requests.exceptions.ReadTimeout as exc:
            raise BuildError(
                f"Building {tag} took longer than {timeout_s} s.", "\n".join(tail)
            ) from exc
        except docker.errors.APIError as exc:
            if exc.is_server_error():
                raise InfrastructureError(f"Docker failed to build {tag}: {exc}") from exc
            raise BuildError(
                f"Building {tag} failed: {exc.explanation or exc}", "\n".join(tail)
            ) from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            if isinstance(exc, docker.errors.BuildError):
                raise BuildError(f"Building {tag} failed: {exc}", "\n".join(tail)) from exc
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        try:
            return self.api.inspect_image(tag)["Id"]
        except docker.errors.ImageNotFound as exc:
            if image_id:
                return image_id
            raise BuildError(f"Building {tag} produced no image.", "\n".join(tail)) from exc

    # ------------------------------------------------------------------------- image contents
    def image_inspect(self, image: str) -> dict:
        try:
            data = self.api.inspect_image(image)
        except docker.errors.ImageNotFound as exc:
            raise ImageNotFoundError(f"No image {image!r}.") from exc
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):
                raise ImageNotFoundError(f"No image {image!r}: {exc.explanation or exc}") from exc
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        config = data.get("Config") or {}
        return {
            "id": data.get("Id", ""),
            "user": config.get("User") or "",
            "entrypoint": list(config["Entrypoint"]) if config.get("Entrypoint") else None,
            "cmd": list(config["Cmd"]) if config.get("Cmd") else None,
            "labels": dict(config.get("Labels") or {}),
            "env": list(config.get("Env") or []),
            "working_dir": config.get("WorkingDir") or "",
            "size": int(data.get("Size") or 0),
            "layers": list((data.get("RootFS") or {}).get("Layers") or []),
        }

    def image_files(self, image: str, *, all_layers: bool = False) -> Iterator[ImageFile]:
        """`docker save` (API get_image) spooled to a temporary file, then its layer tars walked:
        top layer first for the merged view (so whiteouts hide what lies below), bottom first
        for all_layers."""
        self.image_inspect(image)  # ImageNotFoundError before anything is spooled
        with tempfile.TemporaryFile(prefix="agentnexus-image-") as spool:
            try:
                for chunk in self.api.get_image(image, chunk_size=1024 * 1024):
                    spool.write(chunk)
            except docker.errors.ImageNotFound as exc:
                raise ImageNotFoundError(f"No image {image!r}.") from exc
            except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
                raise InfrastructureError(f"Docker could not export {image}: {exc}") from exc
            spool.seek(0)
            with tarfile.open(fileobj=spool, mode="r:") as saved:
                layers = _saved_layers(saved, image)
                if all_layers:
                    for name in layers:
                        yield from _layer_entries(saved, name)
                else:
                    yield from _merged_entries(saved, layers)

    def execute(
        self,
        *,
        spec: RunSpec,
        payload: dict,
        on_event: Callable[[dict], None],
        should_cancel: Callable[[], bool] | None = None,
    ) -> RunOutcome:
        body = protocol.encode_payload(payload)  # a payload that is not JSON fails before anything
        redact = protocol.Redactor(payload.get("secrets"))
        started = time.monotonic()
        run_dir = self._run_dir(spec.run_id)
        sock_dir = run_dir / "sock"
        ex = _Execution(spec, run_dir, deadline=started + spec.timeout_s)
        watchdog: threading.Thread | None = None
        if _safe_call(should_cancel):
            return RunOutcome(
                status="canceled",
                reason=CANCELED,
                error_code=CANCELED,
                error_message="The run was canceled before it started.",
            )
        try:
            self._prepare_dir(run_dir, sock_dir)
            outcome = self._create(ex, sock_dir)
            if outcome is not None:
                return outcome
            watchdog = threading.Thread(
                target=self._watch,
                args=(ex, should_cancel),
                name=f"agentnexus-watchdog-{spec.run_id[:8]}",
                daemon=True,
            )
            watchdog.start()
            try:
                return self._run(ex, sock_dir, body, redact, on_event, should_cancel, started)
            except InfrastructureError as exc:
                if not ex.sent:
                    raise  # the agent never saw the input: safe to retry
                return RunOutcome(
                    status="failed",
                    reason=INFRASTRUCTURE_ERROR,
                    error_code=INFRASTRUCTURE_ERROR,
                    error_message=f"The container engine failed during the run: {exc}",
                    duration_ms=_ms(time.monotonic() - started),
                )
        finally:
            ex.done.set()
            if watchdog is not None:
                watchdog.join(timeout=2)
            try:
                self._remove_container(container_name(spec.run_id))
            except InfrastructureError as exc:  # never mask the outcome; the reaper retries
                log.warning("run %s: container removal failed: %s", spec.run_id, exc)
            self._remove_dir(run_dir)

    # ------------------------------------------------------------------------- execution steps
    def _create(self, ex: _Execution, sock_dir: Path) -> RunOutcome | None:
        """Create and start the container. Returns an outcome if the run ends here; raises
        InfrastructureError when the engine failed (nothing ran)."""
        spec = ex.spec
        api = self.api
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            tmpfs={"/tmp": f"rw,noexec,nosuid,nodev,size={spec.tmpfs_mb}m,mode=1777"},  # noqa: S108
            mounts=[Mount(target=SOCKET_DIR_IN_CONTAINER, source=str(sock_dir), type="bind")],
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            pids_limit=spec.pids_limit,
            mem_limit=spec.memory_mb * MiB,
            memswap_limit=spec.memory_mb * MiB,
            nano_cpus=int(spec.cpus * 1e9),
            ulimits=[Ulimit(name="nofile", soft=1024, hard=1024)],
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
            oom_score_adj=500,  # under host memory pressure, agents go before the platform
            auto_remove=False,  # removed by us, after reading the exit code and OOMKilled
        )
        labels = {
            **{k: v for k, v in spec.labels.items() if not k.startswith("agentnexus.run")},
            LABEL_MANAGED: "1",
            LABEL_RUN: spec.run_id,
        }
        create = {
            "image": spec.image,
            "name": spec.container_name,
            "user": f"{AGENT_UID}:{AGENT_UID}",
            "environment": {"AGENT_SOCKET": AGENT_SOCKET},
            "labels": labels,
            "host_config": host_config,
            "network_disabled": True,
            "hostname": "agent",
            "detach": True,
            "use_config_proxy": False,  # no proxy variables from ~/.docker/config.json
        }
        try:
            try:
                ex.container_id = api.create_container(**create)["Id"]
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                # A container left by an earlier attempt of this run: replace it.
                self._remove_container(spec.container_name)
                ex.container_id = api.create_container(**create)["Id"]
        except docker.errors.ImageNotFound:
            return self._failed(
                IMAGE_MISSING, f"The image {spec.image} is not available on this host."
            )
        except docker.errors.APIError as exc:
            if exc.is_server_error():
                raise InfrastructureError(f"Docker could not create the container: {exc}") from exc
            if exc.status_code in (400, 404):  # e.g. an invalid image reference
                return self._failed(
                    IMAGE_MISSING, f"The image {spec.image} cannot be used: {exc.explanation}"
                )
            return self._failed(
                INFRASTRUCTURE_ERROR, f"Docker refused the container: {exc.explanation}"
            )
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        try:
            api.start(ex.container_id)
        except docker.errors.APIError as exc:
            text = str(exc.explanation or exc)
            if any(
                s in text
                for s in ("executable file not found", "no such file", "permission denied")
            ):
                return self._failed(
                    AGENT_ERROR,
                    f"The image's command could not start: {text}",
                    code="agent_start_failed",
                )
            if exc.is_server_error():
                raise InfrastructureError(f"Docker could not start the container: {exc}") from exc
            return self._failed(
                INFRASTRUCTURE_ERROR, f"Docker could not start the container: {text}"
            )
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc
        return None

    def _run(
        self,
        ex: _Execution,
        sock_dir: Path,
        body: bytes,
        redact: protocol.Redactor,
        on_event: Callable[[dict], None],
        should_cancel: Callable[[], bool] | None,
        started: float,
    ) -> RunOutcome:
        """Wait for /health, send /execute, read the events; `started` is when execute() began
        (container_started_ms and duration_ms count from there)."""
        spec = ex.spec
        socket_path = str(sock_dir / "agent.sock")
        state = self._wait_ready(ex, socket_path)
        container_started_ms = _ms(time.monotonic() - started)
        if state is not None:  # never became ready
            return self._ended_early(
                ex, state, redact, on_event, should_cancel, started, ready=False
            )
        self._lock_dir(sock_dir)
        on_event({"type": "ready", "container_started_ms": container_started_ms})

        reader = protocol.EventReader(
            max_output_bytes=spec.max_output_bytes,
            max_log_bytes=spec.max_log_bytes,
            on_event=on_event,
            redact=redact,
        )
        ex.sent = True
        try:
            conn, response = protocol.open_execute(
                socket_path,
                body,
                run_id=spec.run_id,
                timeout=max(0.1, ex.remaining()) + READ_GRACE_S,
            )
        except protocol.ProtocolViolation as exc:
            stream = protocol.StreamOutcome(violation=exc)
        except (OSError, http.client.HTTPException) as exc:
            stream = protocol.StreamOutcome(ended=f"/execute failed: {type(exc).__name__}")
        else:
            try:
                stream = reader.read(response)
            finally:
                conn.close()
        duration_ms = _ms(time.monotonic() - started)
        peak = self._peak_memory(ex)
        common = {
            "duration_ms": duration_ms,
            "container_started_ms": container_started_ms,
            "logs_truncated": stream.logs_truncated,
        }
        if stream.final is not None or stream.violation is not None:
            ex.done.set()
            self._kill(ex)
            final = stream.final
            if final is not None and final.kind == "result":
                return RunOutcome(
                    status="succeeded", output=final.output, peak_memory_bytes=peak, **common
                )
            if final is not None:
                return RunOutcome(
                    status="failed",
                    reason=AGENT_ERROR,
                    error_code=final.code,
                    error_message=final.message,
                    peak_memory_bytes=peak,
                    **common,
                )
            violation = stream.violation
            return RunOutcome(
                status="failed",
                reason=violation.reason,
                error_code=violation.reason,
                error_message=redact(str(violation)),
                peak_memory_bytes=peak,
                **common,
            )
        # The stream ended without a final event: killed (deadline, cancel, OOM) or crashed.
        exit_state = self._exit_state(ex, wait_s=2.0)
        return self._ended_early(
            ex,
            exit_state,
            redact,
            on_event,
            should_cancel,
            started,
            ready=True,
            container_started_ms=container_started_ms,
            logs_truncated=stream.logs_truncated,
            detail=stream.ended,
        )

    def _wait_ready(self, ex: _Execution, socket_path: str) -> _Exit | None:
        """Poll /health until it answers (None) or the container stopped / was killed (its
        exit state)."""
        delay = HEALTH_POLL_S
        next_check = time.monotonic() + STATE_CHECK_S
        while True:
            if ex.stop_reason is not None:
                return self._exit_state(ex, wait_s=2.0)
            if os.path.exists(socket_path) and protocol.check_health(
                socket_path, timeout=min(1.0, max(0.05, ex.remaining()))
            ):
                return None
            now = time.monotonic()
            if now >= next_check:
                next_check = now + STATE_CHECK_S
                state = self._exit_state(ex, wait_s=0)
                if not state.running:
                    return state
            time.sleep(delay)
            delay = min(HEALTH_POLL_MAX_S, delay * 1.5)

    def _ended_early(
        self,
        ex: _Execution,
        state: _Exit,
        redact: protocol.Redactor,
        on_event: Callable[[dict], None],
        should_cancel: Callable[[], bool] | None,
        started: float,
        *,
        ready: bool,
        container_started_ms: int = 0,
        logs_truncated: bool = False,
        detail: str | None = None,
    ) -> RunOutcome:
        """The outcome of a run that stopped without a final event."""
        ex.done.set()
        duration_ms = _ms(time.monotonic() - started)
        canceled = ex.stop_reason == CANCELED or ex.cancel_marked() or _safe_call(should_cancel)
        common = {
            "duration_ms": duration_ms,
            "container_started_ms": container_started_ms,
            "logs_truncated": logs_truncated,
        }
        if state.running:  # the agent closed the stream but lives on
            self._kill(ex)
        exit_code = None if (state.running or ex.stop_reason or canceled) else state.exit_code
        if not state.running and not ex.stop_reason and not canceled:
            state.oom_killed = self._was_oom_killed(ex, state)
        peak = ex.peak_memory
        if state.oom_killed:
            peak = max(peak or 0, ex.spec.memory_mb * MiB)
        common.update(exit_code=exit_code, peak_memory_bytes=peak)
        if canceled:
            return RunOutcome(
                status="canceled",
                reason=CANCELED,
                error_code=CANCELED,
                error_message="The run was canceled.",
                **common,
            )
        if ex.stop_reason == TIMEOUT:
            where = "while running" if ready else "before the agent was ready"
            return RunOutcome(
                status="timed_out",
                reason=TIMEOUT,
                error_code=TIMEOUT,
                error_message=f"The run exceeded its time limit of {ex.spec.timeout_s} s ({where}).",
                **common,
            )
        if state.oom_killed:
            return RunOutcome(
                status="failed",
                reason=OUT_OF_MEMORY,
                error_code=OUT_OF_MEMORY,
                error_message=f"The agent ran out of memory (limit {ex.spec.memory_mb} MB).",
                **common,
            )
        if state.running:
            return RunOutcome(
                status="failed",
                reason=PROTOCOL_ERROR,
                error_code=PROTOCOL_ERROR,
                error_message=f"The agent closed the event stream without a result ({detail}).",
                **common,
            )
        self._forward_log_tail(ex, redact, on_event)
        when = "before sending a result" if ready else "before it was ready"
        return RunOutcome(
            status="failed",
            reason=AGENT_ERROR,
            error_code="agent_exited",
            error_message=f"The agent exited with code {state.exit_code} {when}.",
            **common,
        )

    # ------------------------------------------------------------------------- watchdog
    def _watch(self, ex: _Execution, should_cancel: Callable[[], bool] | None) -> None:
        next_sample = 0.0
        while not ex.done.wait(WATCHDOG_TICK_S):
            reason = None
            if ex.remaining() <= 0:
                reason = TIMEOUT
            elif ex.cancel_marked() or _safe_call(should_cancel):
                reason = CANCELED
            if reason is not None:
                with ex.lock:
                    if ex.done.is_set():
                        return
                    ex.stop_reason = reason
                self._kill(ex)
                return
            now = time.monotonic()
            if now >= next_sample:
                next_sample = now + MEMORY_SAMPLE_S
                self._sample_memory(ex)

    def _kill(self, ex: _Execution) -> None:
        if ex.container_id is None:
            return
        try:
            self.api.kill(ex.container_id)
        except docker.errors.APIError as exc:
            if exc.status_code not in (404, 409):
                log.warning("run %s: kill failed: %s", ex.spec.run_id, exc)
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            log.warning("run %s: kill failed: %s", ex.spec.run_id, exc)

    # ------------------------------------------------------------------------- container state
    def _exit_state(self, ex: _Execution, *, wait_s: float) -> _Exit:
        """The container's state; with wait_s, first wait up to that long for it to exit."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                state = self.api.inspect_container(ex.container_id)["State"]
            except docker.errors.NotFound:
                return _Exit(running=False, exit_code=None, oom_killed=False)
            except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
                raise InfrastructureError(f"Docker could not inspect the container: {exc}") from exc
            running = bool(state.get("Running")) or state.get("Status") in ("created", "restarting")
            if not running or time.monotonic() >= deadline:
                return _Exit(
                    running=running,
                    exit_code=None if running else state.get("ExitCode"),
                    oom_killed=bool(state.get("OOMKilled")),
                )
            time.sleep(0.02)

    def _was_oom_killed(self, ex: _Execution, state: _Exit) -> bool:
        """Docker's State.OOMKilled races with the exit event (moby/moby#18510 and later): a
        container the OOM killer ended may briefly, or for good, say false. For an unexplained
        SIGKILL (exit 137) also look for the engine's "oom" event, then at the memory high-water
        mark."""
        if state.oom_killed:
            return True
        if state.exit_code != 137 or ex.container_id is None:
            return False
        give_up = time.monotonic() + OOM_CONFIRM_S
        while True:
            try:
                if self.api.inspect_container(ex.container_id)["State"].get("OOMKilled"):
                    return True
                events = self.api.events(
                    since=ex.created_at - 1,
                    until=time.time(),
                    filters={"container": ex.container_id, "event": "oom"},
                    decode=True,
                )
                if any(True for _ in events):
                    return True
            except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
                log.warning("run %s: OOM check failed: %s", ex.spec.run_id, exc)
                break
            if time.monotonic() >= give_up:
                break
            time.sleep(0.05)
        limit = ex.spec.memory_mb * MiB
        return ex.peak_memory is not None and ex.peak_memory >= limit * 0.95

    def _forward_log_tail(
        self, ex: _Execution, redact: protocol.Redactor, on_event: Callable[[dict], None]
    ) -> None:
        """After a crash, pass the last lines the agent printed on to the run's log."""
        try:
            raw = self.api.logs(ex.container_id, stdout=True, stderr=True, tail=LOG_TAIL_LINES)
        except (docker.errors.DockerException, *CONNECTION_ERRORS):
            return
        text = raw.decode("utf-8", "replace").strip() if isinstance(raw, bytes) else ""
        if text:
            text = redact(text)[-LOG_TAIL_CHARS:]
            on_event(
                {"type": "log", "level": "error", "message": f"[agent output before exit]\n{text}"}
            )

    # ------------------------------------------------------------------------- peak memory
    def _cgroup_candidates(self, container_id: str) -> list[tuple[str, str]]:
        v1 = "/sys/fs/cgroup/memory"
        return [
            (f"{v1}/docker/{{id}}/memory.max_usage_in_bytes", "v1"),
            (f"{v1}/system.slice/docker-{{id}}.scope/memory.max_usage_in_bytes", "v1"),
            ("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak", "v2"),
            ("/sys/fs/cgroup/docker/{id}/memory.peak", "v2"),
        ]

    def _read_cgroup_peak(self, container_id: str) -> int | None:
        layouts = (
            [self._cgroup_layout] if self._cgroup_layout else self._cgroup_candidates(container_id)
        )
        for pattern, kind in layouts:
            try:
                with open(pattern.format(id=container_id)) as f:
                    value = int(f.read().strip())
            except (OSError, ValueError):
                continue
            self._cgroup_layout = (pattern, kind)
            return value
        return None

    def _sample_memory(self, ex: _Execution) -> None:
        if ex.container_id is None:
            return
        value = self._read_cgroup_peak(ex.container_id)
        if value is not None:
            ex.peak_memory = max(ex.peak_memory or 0, value)

    def _peak_memory(self, ex: _Execution) -> int | None:
        """Best effort, never fails: the cgroup high-water mark if the host exposes it, else what
        the engine's stats say (cgroup v1 only), else None."""
        self._sample_memory(ex)
        if ex.peak_memory is None and ex.container_id is not None:
            try:
                stats = self.api.stats(ex.container_id, stream=False, one_shot=True)
                value = (stats.get("memory_stats") or {}).get("max_usage")
                if isinstance(value, int) and value > 0:
                    ex.peak_memory = value
            except Exception as exc:  # noqa: BLE001 - peak memory is informational
                log.debug("run %s: no memory stats: %s", ex.spec.run_id, exc)
        return ex.peak_memory

    # ------------------------------------------------------------------------- files
    def _run_dir(self, run_id: str) -> Path:
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ValueError(f"invalid run id {run_id!r}")
        return self.socket_root / run_id

    def _prepare_dir(self, run_dir: Path, sock_dir: Path) -> None:
        socket_path = str(sock_dir / "agent.sock")
        if len(os.fsencode(socket_path)) > MAX_SOCKET_PATH:
            raise InfrastructureError(
                f"RUNTIME_SOCKET_ROOT is too long: {socket_path} exceeds the {MAX_SOCKET_PATH}-byte "
                "limit of Unix socket paths; use a short directory such as /tmp/agentnexus-runs."
            )
        try:
            self.socket_root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if run_dir.exists():
                shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(mode=0o700)
            sock_dir.mkdir(mode=0o700)
            # The agent (uid 10001) creates its socket here; other host users cannot reach it
            # through run_dir (0700). Locked again once /health answers.
            os.chmod(sock_dir, 0o777)  # noqa: S103
        except OSError as exc:
            raise InfrastructureError(
                f"Cannot prepare the socket directory {run_dir}: {exc}"
            ) from exc

    @staticmethod
    def _lock_dir(sock_dir: Path) -> None:
        """No more files from the agent once it is serving (it does not own the directory)."""
        try:
            os.chmod(sock_dir, 0o755)  # noqa: S103
        except OSError as exc:
            log.warning("could not lock %s: %s", sock_dir, exc)

    @staticmethod
    def _remove_dir(run_dir: Path) -> None:
        if run_dir.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
            if run_dir.exists():
                log.warning("could not remove %s", run_dir)

    def _remove_container(self, name_or_id: str) -> None:
        try:
            self.api.remove_container(name_or_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # removal already in progress
                return
            if exc.is_server_error():
                raise InfrastructureError(f"Docker could not remove {name_or_id}: {exc}") from exc
            log.warning("removing %s failed: %s", name_or_id, exc)
        except (docker.errors.DockerException, *CONNECTION_ERRORS) as exc:
            raise InfrastructureError(f"Docker is unavailable: {exc}") from exc

    @staticmethod
    def _failed(reason: str, message: str, *, code: str | None = None) -> RunOutcome:
        return RunOutcome(
            status="failed", reason=reason, error_code=code or reason, error_message=message
        )


WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_TAR_TYPE_BITS = {
    tarfile.REGTYPE: stat.S_IFREG,
    tarfile.AREGTYPE: stat.S_IFREG,
    tarfile.CONTTYPE: stat.S_IFREG,
    tarfile.LNKTYPE: stat.S_IFREG,
    tarfile.DIRTYPE: stat.S_IFDIR,
    tarfile.SYMTYPE: stat.S_IFLNK,
    tarfile.CHRTYPE: stat.S_IFCHR,
    tarfile.BLKTYPE: stat.S_IFBLK,
    tarfile.FIFOTYPE: stat.S_IFIFO,
}


def _saved_layers(saved: tarfile.TarFile, image: str) -> list[str]:
    """The layer tar paths of a `docker save` archive, bottom first (its manifest.json, in both
    the legacy and the OCI layouts)."""
    try:
        member = saved.extractfile("manifest.json")
        manifest = json.load(member) if member else None
        return list(manifest[0]["Layers"])
    except (KeyError, IndexError, TypeError, ValueError, tarfile.TarError) as exc:
        raise InfrastructureError(f"Unexpected `docker save` archive for {image}: {exc}") from exc


def _open_layer(saved: tarfile.TarFile, name: str) -> tarfile.TarFile:
    fileobj = saved.extractfile(name)  # follows the OCI layout's symlinks to blobs/
    if fileobj is None:
        raise InfrastructureError(f"Layer {name} is missing from the saved image.")
    return tarfile.open(fileobj=fileobj, mode="r:*")  # noqa: SIM115 - lives as long as the spool


def _entry_path(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def _image_file(layer: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> ImageFile:
    mode = _TAR_TYPE_BITS.get(member.type, stat.S_IFREG) | (member.mode & 0o7777)
    size = member.size if member.isreg() else 0
    if member.islnk():
        try:
            size = layer._find_link_target(member).size  # noqa: SLF001 - what extractfile uses
        except (KeyError, AttributeError):
            size = 0

    def read(limit: int | None = None) -> bytes:
        if member.issym():
            return member.linkname.encode("utf-8", "surrogateescape")
        if not (member.isreg() or member.islnk()):
            return b""
        try:
            handle = layer.extractfile(member)
            if handle is None:
                return b""
            return handle.read() if limit is None else handle.read(max(0, limit))
        except (KeyError, tarfile.TarError):
            return b""
        except ValueError as exc:  # the spool is closed
            raise RuntimeError(
                "ImageFile.read() called after the image_files() iterator ended"
            ) from exc

    return ImageFile(path, mode, size, read)


def _layer_entries(saved: tarfile.TarFile, name: str) -> Iterator[ImageFile]:
    layer = _open_layer(saved, name)
    for member in layer:
        path = _entry_path(member.name)
        if path == "/" or os.path.basename(path).startswith(WHITEOUT_PREFIX):
            continue
        yield _image_file(layer, member, path)


def _ancestors(path: str) -> Iterator[str]:
    """Ancestors of a path, nearest first: /a/b/c -> /a/b, /a."""
    while True:
        path = os.path.dirname(path)
        if path == "/":
            return
        yield path


def _merged_entries(saved: tarfile.TarFile, layers: list[str]) -> Iterator[ImageFile]:
    seen: set[str] = set()  # paths provided by a higher layer
    removed: set[str] = set()  # whited out by a higher layer (and everything below them)
    opaque: set[str] = set()  # directories whose lower contents a higher layer hid
    not_dirs: set[str] = set()  # non-directories in a higher layer: lower children are hidden
    for name in reversed(layers):
        layer = _open_layer(saved, name)
        here_seen: set[str] = set()
        here_removed: set[str] = set()
        here_opaque: set[str] = set()
        here_not_dirs: set[str] = set()
        for member in layer:
            path = _entry_path(member.name)
            if path == "/":
                continue
            base = os.path.basename(path)
            parent = os.path.dirname(path)
            if base == OPAQUE_MARKER:
                here_opaque.add(parent)
                continue
            if base.startswith(WHITEOUT_PREFIX):
                here_removed.add(os.path.join(parent, base[len(WHITEOUT_PREFIX) :]))
                continue
            if path in here_seen:
                continue  # the same path twice in one layer: the first entry is kept
            here_seen.add(path)
            if not member.isdir():
                here_not_dirs.add(path)
            if path in seen or path in removed:
                continue
            if any(a in removed or a in opaque or a in not_dirs for a in _ancestors(path)):
                continue
            yield _image_file(layer, member, path)
        seen |= here_seen
        removed |= here_removed
        opaque |= here_opaque
        not_dirs |= here_not_dirs


def _safe_call(func: Callable[[], bool] | None) -> bool:
    if func is None:
        return False
    try:
        return bool(func())
    except Exception:  # noqa: BLE001 - a failing cancel check must not fail the run
        log.exception("should_cancel raised")
        return False


__all__ = ["DockerBackend"]
