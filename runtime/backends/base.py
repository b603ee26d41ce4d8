"""The runtime backend interface: run one agent image in a sandbox, stream its events, report how
it ended. The Docker implementation is runtime.backends.docker; the protocol spoken with the
agent is in runtime.protocol and docs/agent-protocol.md. Nothing here imports docker."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol

MAX_MEMORY_MB = 8192
MAX_CPUS = 4.0
MAX_TIMEOUT_S = 1800
DEFAULT_BACKEND = "runtime.backends.docker.DockerBackend"

# Container naming and labels: everything the platform starts carries these.
CONTAINER_PREFIX = "agentnexus-run-"
LABEL_RUN = "agentnexus.run"
LABEL_MANAGED = "agentnexus.managed"
AGENT_UID = 10001  # every agent runs as 10001:10001, whatever its image says
SOCKET_DIR_IN_CONTAINER = "/run/agentnexus"
AGENT_SOCKET = f"{SOCKET_DIR_IN_CONTAINER}/agent.sock"

RunStatus = Literal["succeeded", "failed", "timed_out", "canceled"]

# RunOutcome.reason values. `invalid_output` is the caller's (after its schema check); the backend
# only guarantees that `output` is JSON.
AGENT_ERROR = "agent_error"
INVALID_OUTPUT = "invalid_output"
OUTPUT_TOO_LARGE = "output_too_large"
OUT_OF_MEMORY = "out_of_memory"
TIMEOUT = "timeout"
IMAGE_MISSING = "image_missing"
INFRASTRUCTURE_ERROR = "infrastructure_error"
PROTOCOL_ERROR = "protocol_error"
CANCELED = "canceled"
REASONS = (
    AGENT_ERROR,
    INVALID_OUTPUT,
    OUTPUT_TOO_LARGE,
    OUT_OF_MEMORY,
    TIMEOUT,
    IMAGE_MISSING,
    INFRASTRUCTURE_ERROR,
    PROTOCOL_ERROR,
    CANCELED,
)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclass(frozen=True)
class RunSpec:
    """What to run and within which limits. Out-of-range limits are clamped, not rejected."""

    run_id: str  # uuid hex: container "agentnexus-run-<run_id>", label agentnexus.run
    image: str
    memory_mb: int = 512  # capped at 8192; no swap
    cpus: float = 1.0  # capped at 4
    timeout_s: int = 300  # capped at 1800; the deadline covers container start + execute
    pids_limit: int = 128
    tmpfs_mb: int = 64  # /tmp, the only writable path besides the socket directory
    max_output_bytes: int = 1_000_000
    max_log_bytes: int = 5_000_000
    labels: Mapping[str, str] = field(default_factory=dict)  # agent slug, version; never secrets

    def __post_init__(self) -> None:
        run_id = str(self.run_id)
        if not run_id or not all(c.isalnum() or c in "-_" for c in run_id) or len(run_id) > 64:
            raise ValueError(f"run_id must be a uuid hex (got {run_id!r})")
        object.__setattr__(self, "run_id", run_id)
        object.__setattr__(self, "memory_mb", int(_clamp(int(self.memory_mb), 16, MAX_MEMORY_MB)))
        object.__setattr__(self, "cpus", float(_clamp(float(self.cpus), 0.05, MAX_CPUS)))
        object.__setattr__(self, "timeout_s", int(_clamp(int(self.timeout_s), 1, MAX_TIMEOUT_S)))
        object.__setattr__(self, "pids_limit", int(_clamp(int(self.pids_limit), 8, 4096)))
        object.__setattr__(self, "tmpfs_mb", int(_clamp(int(self.tmpfs_mb), 1, 1024)))
        object.__setattr__(self, "max_output_bytes", max(1024, int(self.max_output_bytes)))
        object.__setattr__(self, "max_log_bytes", max(0, int(self.max_log_bytes)))
        object.__setattr__(
            self, "labels", MappingProxyType({str(k): str(v) for k, v in dict(self.labels).items()})
        )

    @property
    def container_name(self) -> str:
        return container_name(self.run_id)


def container_name(run_id: str) -> str:
    return f"{CONTAINER_PREFIX}{run_id}"


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    reason: str | None = None  # one of REASONS; None when succeeded
    output: Any | None = None  # the agent's result (JSON); only when succeeded
    error_code: str | None = None  # the agent's error code, or the reason
    error_message: str | None = None
    exit_code: int | None = None  # None when the platform stopped a healthy container itself
    peak_memory_bytes: int | None = None  # best effort; None when the engine does not say
    duration_ms: int = 0  # container start to the end of the run
    container_started_ms: int = 0  # container start to /health answering
    logs_truncated: bool = False


@dataclass(frozen=True)
class ContainerInfo:
    run_id: str
    container_id: str
    status: str  # the engine's state: created, running, exited, ...
    created_at: dt.datetime | None  # aware (UTC)
    labels: Mapping[str, str] = field(default_factory=dict)


class InfrastructureError(Exception):
    """The platform could not run the agent (Docker API unavailable, ...): transient, retry."""


class BuildError(Exception):
    """An image build failed; `log_tail` holds the end of the build output."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n{self.log_tail}" if self.log_tail else base


class ImageNotFoundError(LookupError):
    """image_inspect / image_files: the engine has no such image."""


class ImageFile(NamedTuple):
    """One entry of an image's filesystem (RuntimeBackend.image_files); unpacks as
    (path, mode, size, read)."""

    path: str  # absolute, e.g. "/usr/bin/python3"
    mode: int  # st_mode: file type bits (stat.S_ISREG, S_ISDIR, S_ISLNK, ...) + permission bits
    size: int  # bytes of content (0 for directories and symbolic links)
    read: Callable[..., bytes]  # read(limit: int | None = None) -> bytes; a symlink's target


EventCallback = Callable[[dict], None]


class RuntimeBackend(Protocol):
    def execute(
        self,
        *,
        spec: RunSpec,
        payload: dict,
        on_event: EventCallback,
        should_cancel: Callable[[], bool] | None = None,
    ) -> RunOutcome:
        """Run `spec.image` once with `payload` ({"input", "secrets", "metadata"}) as the
        /execute body. Events go to `on_event` from the calling thread, in order: one
        {"type": "ready", "container_started_ms": n} when /health answered, then the agent's
        {"type": "log", ...} and {"type": "progress", ...} events. The result or error is in the
        returned outcome. Raises InfrastructureError when the engine failed before the container
        started (nothing ran; safe to retry)."""
        ...

    def cancel(self, *, run_id: str) -> bool:
        """Kill the run's container now; callable from any process. True if one was found."""
        ...

    def list_run_containers(self) -> list[ContainerInfo]: ...

    def cleanup(self, *, run_id: str) -> None:
        """Remove the run's container and socket directory; idempotent."""
        ...

    def image_exists(self, image: str) -> bool: ...

    def remove_image(self, image: str) -> bool:
        """Delete a local image (e.g. a failed or rejected submission's); True if it existed.
        An image a container still uses is left alone (False)."""
        ...

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
        """Build `context_dir` (its Dockerfile) with network none; returns the image id.
        Raises BuildError with the log tail."""
        ...

    def image_inspect(self, image: str) -> dict[str, Any]:
        """Static facts about a local image: {"id": str, "user": str ("" = root),
        "entrypoint": list[str] | None, "cmd": list[str] | None, "labels": dict[str, str],
        "env": list[str] ("K=V"), "working_dir": str, "size": int (bytes),
        "layers": list[str] (diff ids, bottom first)}. Raises ImageNotFoundError,
        InfrastructureError."""
        ...

    def image_files(self, image: str, *, all_layers: bool = False) -> Iterator[ImageFile]:
        """The files of a local image, without running it. Default: the merged filesystem a
        container would see (layers applied in order, whiteouts and opaque directories honoured;
        each path once). all_layers=True: every entry of every layer, bottom layer first,
        including files a later layer deleted or replaced (they are still shipped in the image).
        Each ImageFile's read() works until the iterator is exhausted or closed. Raises
        ImageNotFoundError, InfrastructureError."""
        ...


def _setting(name: str, default: Any) -> Any:
    try:
        from django.conf import settings

        return getattr(settings, name, default)
    except Exception:  # noqa: BLE001 - settings not configured: plain defaults
        return default


@functools.cache
def _backend(path: str) -> RuntimeBackend:
    from django.utils.module_loading import import_string

    return import_string(path)()


def get_backend() -> RuntimeBackend:
    """The configured backend (settings.RUNTIME_BACKEND, a dotted path), one per process."""
    return _backend(_setting("RUNTIME_BACKEND", DEFAULT_BACKEND))
