"""Runs: start, admit, execute, cancel, reap. Every status change goes through `run_transition`.

State machine (runtime/models.py TRANSITIONS):
    queued -> starting -> running -> succeeded | failed | timed_out | canceled
with failed / canceled reachable from every non-terminal state. Each change locks the run row
and appends a `status` event; agent output arrives as log / progress / result / error events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from accounts.models import User
from agentnexus.core.errors import ApplicationError, ConflictError, NotFoundError
from compliance.gate import run_check
from marketplace.models import Agent, AgentVersion
from payments.settlement import run_requires_purchase, settlement_request, settlement_reserve
from runtime.backends.base import InfrastructureError, RunOutcome, RunSpec, get_backend
from runtime.broadcast import run_events_broadcast
from runtime.models import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    FailureReason,
    Run,
    RunEvent,
    RunStatus,
)
from runtime.secrets import secrets_decrypt, secrets_encrypt

logger = logging.getLogger(__name__)

MAX_SECRETS = 20
MAX_SECRET_BYTES = 8_192
MAX_INPUT_BYTES = 1_000_000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ----------------------------------------------------------------------------- input validation


def _error_path(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and error.validator_value:
        # "'text' is a required property" belongs to the missing field, not its parent.
        missing = next(
            (name for name in error.validator_value if name not in (error.instance or {})), None
        )
        if missing:
            path.append(missing)
    return ".".join(["input", *path])


def run_input_validate(*, version: AgentVersion, data: Any) -> dict:
    """Check `data` against the version's input schema; every problem, keyed by field path."""
    if not isinstance(data, dict):
        raise ApplicationError(
            "The input must be a JSON object.",
            code="validation_error",
            fields={"input": ["Must be a JSON object."]},
        )
    validator = Draft202012Validator(version.input_schema, format_checker=FormatChecker())
    fields: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        fields.setdefault(_error_path(error), []).append(error.message)
    if fields:
        raise ApplicationError(
            "The input does not match the agent's input schema.",
            code="validation_error",
            fields=fields,
        )
    return data


def version_secrets(version: AgentVersion) -> list[dict]:
    """The secrets the version's manifest requires the user to supply: [{name, description}]."""
    return [
        {"name": str(s["name"]), "description": str(s.get("description", ""))}
        for s in version.permissions.get("secrets") or []
        if isinstance(s, dict) and s.get("name")
    ]


def _secrets_clean(secrets: Any) -> dict[str, str]:
    if secrets in (None, {}):
        return {}
    problem = None
    if not isinstance(secrets, dict):
        problem = "Must be an object of names to string values."
    elif len(secrets) > MAX_SECRETS:
        problem = f"At most {MAX_SECRETS} secrets per run."
    elif not all(isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()):
        problem = "Names and values must be strings."
    elif any(len(v.encode()) > MAX_SECRET_BYTES for v in secrets.values()):
        problem = f"Each value must be at most {MAX_SECRET_BYTES} bytes."
    if problem:
        raise ApplicationError(problem, code="validation_error", fields={"secrets": [problem]})
    return secrets


# ----------------------------------------------------------------------------- start


def run_start(
    *,
    user: User,
    agent: Agent,
    data: Any,
    secrets: Any = None,
    version: AgentVersion | None = None,
    idempotency_key: str | None = None,
    request=None,
) -> tuple[Run, bool]:
    """Queue a run; returns (run, created). A repeated `idempotency_key` returns the first run."""
    if idempotency_key:
        existing = Run.objects.filter(user=user, idempotency_key=idempotency_key).first()
        if existing:
            if existing.agent_id != agent.pk or existing.input != data:
                raise ConflictError(
                    "This Idempotency-Key was already used for a different run.",
                    code="idempotency_key_reused",
                )
            return existing, False
    version = version or agent.current_version
    if version is None or version.agent_id != agent.pk:
        raise NotFoundError("This agent has no version to run.")
    run_availability_check(agent=agent, version=version)
    run_input_validate(version=version, data=data)
    secrets = _secrets_clean(secrets)
    missing = {
        f"secrets.{s['name']}": [f"Required: {s.get('description') or 'this agent needs it'}"]
        for s in version_secrets(version)
        if not secrets.get(s["name"])
    }
    if missing:
        raise ApplicationError(
            "This agent needs secrets you did not supply.", code="validation_error", fields=missing
        )
    # Geo rules and KYC level for where the user is now (451 / 403 when refused).
    run_check(user=user, agent=agent, request=request)
    with transaction.atomic():
        run = Run.objects.create(
            user=user,
            agent=agent,
            version=version,
            input=data,
            secrets_ciphertext=secrets_encrypt(secrets),
            idempotency_key=idempotency_key or None,
        )
        if run_requires_purchase(version=version):
            # Spends one purchased run in this same transaction (or refuses with 403).
            settlement_reserve(run=run, user=user, agent=agent)
        _events_create(run=run, events=[("status", {"status": RunStatus.QUEUED})])
        _after_commit_dispatch(agent.pk)
    return run, True


def run_availability_check(*, agent: Agent, version: AgentVersion) -> None:
    """Refuse a new run the agent's status or the version's deprecation rules out (409, with a
    message for the user). A deprecated agent still runs what its buyers already paid for."""
    status = agent.status
    if status == Agent.Status.SUSPENDED:
        why = f" Reason: {agent.status_reason}" if agent.status_reason else ""
        raise ConflictError(
            f"{agent.name} is suspended by AgentNexus and does not accept runs.{why}",
            code="agent_suspended",
        )
    if status == Agent.Status.MAINTENANCE:
        raise ConflictError(
            f"{agent.name} is under maintenance and does not accept runs now. Try again later.",
            code="agent_unavailable",
        )
    if status == Agent.Status.DEPRECATED and not run_requires_purchase(version=version):
        raise ConflictError(
            f"{agent.name} is deprecated by its developer and no longer accepts runs.",
            code="agent_deprecated",
        )
    if version.deprecated_at is not None:
        raise ConflictError(
            f"Version {version.version} of {agent.name} is deprecated; run the current version.",
            code="version_deprecated",
        )


def _suspension_message(agent: Agent) -> str:
    return f"Stopped: {agent.name} was suspended by AgentNexus. This run is refunded."


def _runs_cancel_for_suspension(*, agent: Agent, statuses) -> list[int]:
    stopped: list[int] = []
    message = _suspension_message(agent)
    for run_id, public_id in Run.objects.filter(agent_id=agent.pk, status__in=statuses).values_list(
        "id", "public_id"
    ):
        with transaction.atomic():
            Run.objects.filter(pk=run_id).update(cancel_requested=True)
            ended = run_transition(
                run_id=run_id,
                to=RunStatus.CANCELED,
                failure_reason=FailureReason.AGENT_SUSPENDED,
                error_code="agent_suspended",
                error_message=message[:2000],
            )
            if ended is not None:
                stopped.append(run_id)
                key = public_id.hex
                transaction.on_commit(lambda key=key: get_backend().cancel(run_id=key))
    return stopped


def runs_stop_for_suspended_agent(*, agent_id: int) -> list[int]:
    """End every queued or running run of a suspended agent now: each becomes canceled with
    reason `agent_suspended`, its container is killed after commit, and settlement refunds it.
    One transaction per run, no agent lock held (a finishing run locks run, then agent).
    Idempotent; nothing happens once the agent is no longer suspended."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or agent.status != Agent.Status.SUSPENDED:
        return []
    return _runs_cancel_for_suspension(agent=agent, statuses=[RunStatus.QUEUED, *ACTIVE])


# ----------------------------------------------------------------------------- events


def _events_create(*, run: Run, events: list[tuple[str, dict]]) -> list[RunEvent]:
    """Append events to a run whose row the caller has locked (or just created)."""
    rows = []
    for kind, payload in events:
        run.last_seq += 1
        rows.append(RunEvent(run=run, seq=run.last_seq, type=kind, payload=payload))
    RunEvent.objects.bulk_create(rows)
    Run.objects.filter(pk=run.pk).update(last_seq=run.last_seq)
    messages = [
        {"seq": r.seq, "type": r.type, "at": timezone.now().isoformat(), "payload": r.payload}
        for r in rows
    ]
    public_id = run.public_id
    transaction.on_commit(lambda: run_events_broadcast(public_id=public_id, messages=messages))
    return rows


def run_events_append(*, run_id: int, events: list[tuple[str, dict]]) -> None:
    """Append agent events (log / progress) in one transaction; ignored once the run has ended."""
    if not events:
        return
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.is_terminal:
            return
        progress = [p["percent"] for kind, p in events if kind == "progress"]
        _events_create(run=run, events=events)
        updates: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if progress:
            updates["progress"] = max(0, min(100, int(progress[-1])))
        Run.objects.filter(pk=run_id).update(**updates)


def run_events_after(*, run: Run, after: int = 0, limit: int = 1000) -> list[RunEvent]:
    return list(run.events.filter(seq__gt=after).order_by("seq")[:limit])


# ----------------------------------------------------------------------------- transitions


def run_transition(*, run_id: int, to: str, **changes: Any) -> Run | None:
    """Move a run to `to` under a row lock, with a status event. Returns None when not allowed
    (e.g. the run already ended: the first terminal state wins)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if to not in TRANSITIONS[run.status]:
            return None
        now = timezone.now()
        run.status = to
        for name, value in changes.items():
            setattr(run, name, value)
        if to == RunStatus.STARTING:
            run.heartbeat_at = now
        if to == RunStatus.RUNNING:
            run.started_at = run.started_at or now
        payload: dict[str, Any] = {"status": to}
        if to in TERMINAL:
            run.finished_at = now
            run.secrets_ciphertext = None  # erased as soon as the run ends
            if to == RunStatus.SUCCEEDED:
                run.progress = 100
            payload.update(
                reason=run.failure_reason or None,
                code=run.error_code or None,
                message=run.error_message or None,
            )
        run.save()
        _events_create(run=run, events=[("status", payload)])
        if to in TERMINAL:
            _run_finished(run)
    return run


def _run_finished(run: Run) -> None:
    """Inside the terminal transition: statistics now; settlement and the next runs after commit."""
    Agent.objects.filter(pk=run.agent_id).update(
        runs_total=F("runs_total") + 1,
        runs_succeeded=F("runs_succeeded") + (1 if run.status == RunStatus.SUCCEEDED else 0),
    )
    run_id, agent_id = run.pk, run.agent_id
    transaction.on_commit(lambda: run_settlement_handoff(run_id=run_id))
    _after_commit_dispatch(agent_id)


def run_settlement_handoff(*, run_id: int) -> None:
    """THE place where a run's terminal state hands over to payments: release the run's price to
    the developer when it succeeded, refund it otherwise (payments.settlement)."""
    settlement_request(run_id=run_id)


def _after_commit_dispatch(agent_id: int) -> None:
    from runtime.tasks import dispatch_runs

    transaction.on_commit(lambda: dispatch_runs.delay(agent_id))


# ----------------------------------------------------------------------------- admission


def _concurrency_wish(agent: Agent | None) -> int | None:
    """The manifest's resources.concurrency of the agent's current version (None: no wish)."""
    version = agent.current_version if agent is not None else None
    wish = ((version.manifest if version else None) or {}).get("resources", {}).get("concurrency")
    return wish if isinstance(wish, int) and wish > 0 else None


def runs_admit(*, agent_id: int) -> list[int]:
    """Move the oldest queued runs of an agent to `starting` while it has free slots.

    At most RUNTIME_MAX_RUNS_PER_AGENT active runs per agent, or fewer if the manifest's
    resources.concurrency wishes so (strict: the agent row is locked), and
    RUNTIME_MAX_RUNS_PER_USER per user (counted under the same lock). Runs that do not fit stay
    queued, in order, until a run of the agent ends.
    """
    per_agent = _setting("RUNTIME_MAX_RUNS_PER_AGENT", 10)
    per_user = _setting("RUNTIME_MAX_RUNS_PER_USER", 10)
    admitted: list[int] = []
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
        if agent is not None and agent.status == Agent.Status.SUSPENDED:
            # A run started while the suspension committed: it never runs, and is refunded.
            _runs_cancel_for_suspension(agent=agent, statuses=[RunStatus.QUEUED])
            return []
        per_agent = min(per_agent, _concurrency_wish(agent) or per_agent)
        active = Run.objects.filter(agent_id=agent_id, status__in=ACTIVE).count()
        free = per_agent - active
        if free <= 0:
            return []
        queued = list(
            Run.objects.filter(agent_id=agent_id, status=RunStatus.QUEUED)
            .order_by("id")
            .values_list("id", "user_id")[: free + 100]
        )
        users = {user_id for _, user_id in queued}
        user_active = dict(
            Run.objects.filter(user_id__in=users, status__in=ACTIVE)
            .values_list("user_id")
            .annotate(n=Count("id"))
        )
        for run_id, user_id in queued:
            if len(admitted) >= free:
                break
            if user_active.get(user_id, 0) >= per_user:
                continue
            if run_transition(run_id=run_id, to=RunStatus.STARTING):
                admitted.append(run_id)
                user_active[user_id] = user_active.get(user_id, 0) + 1
        if admitted:
            from runtime.tasks import execute_run

            for run_id in admitted:
                transaction.on_commit(lambda run_id=run_id: execute_run.delay(run_id))
    return admitted


# ----------------------------------------------------------------------------- execution


class _EventSink:
    """Collects agent events from the backend's reader thread and writes them in small batches."""

    def __init__(self, run_id: int, *, flush_every: float = 0.1, batch: int = 200) -> None:
        self.run_id = run_id
        self.flush_every = flush_every
        self.batch = batch
        self.pending: list[tuple[str, dict]] = []
        self.last_flush = time.monotonic()
        self.running = False

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "ready":  # the container answered /health
            self.mark_running()
            return
        if kind == "log":
            payload = {
                "level": str(event.get("level", "info")),
                "message": str(event.get("message", "")),
            }
        elif kind == "progress":
            payload = {"percent": event.get("percent", 0), "message": str(event.get("message", ""))}
        else:
            return  # result / error are recorded by the terminal transition
        self.mark_running()
        self.pending.append((kind, payload))
        if (
            len(self.pending) >= self.batch
            or time.monotonic() - self.last_flush >= self.flush_every
        ):
            self.flush()

    def mark_running(self) -> None:
        if not self.running:
            self.flush()
            run_transition(run_id=self.run_id, to=RunStatus.RUNNING)
            self.running = True

    def flush(self) -> None:
        events, self.pending = self.pending, []
        self.last_flush = time.monotonic()
        run_events_append(run_id=self.run_id, events=events)


class _Heartbeat(threading.Thread):
    """Marks the run alive while the backend waits on a quiet agent; the reaper watches it."""

    def __init__(self, run_id: int, every: float) -> None:
        super().__init__(daemon=True, name=f"run-heartbeat-{run_id}")
        self.run_id = run_id
        self.every = every
        self.stop = threading.Event()
        self.canceled = False

    def run(self) -> None:
        try:
            while not self.stop.wait(self.every):
                Run.objects.filter(pk=self.run_id).update(heartbeat_at=timezone.now())
                self.canceled = Run.objects.filter(pk=self.run_id, cancel_requested=True).exists()
        finally:
            connection.close()


@dataclass(frozen=True)
class _Claim:
    run: Run
    secrets: dict[str, str]


def _claim(run_id: int, worker: str) -> _Claim | None:
    """Take a starting run for this worker; None if another worker has it or it has ended."""
    with transaction.atomic():
        run = (
            Run.objects.select_for_update()
            .select_related("version", "agent")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status != RunStatus.STARTING or run.worker:
            return None
        run.worker = worker
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["worker", "heartbeat_at"])
        return _Claim(run=run, secrets=secrets_decrypt(run.secrets_ciphertext))


def run_spec(run: Run) -> RunSpec:
    version = run.version
    return RunSpec(
        run_id=run.public_id.hex,
        image=version.image_ref,
        memory_mb=min(version.memory_mb, 8192),
        cpus=float(min(version.cpus, 4)),
        timeout_s=min(version.timeout_seconds, 1800),
        max_output_bytes=_setting("RUNTIME_MAX_OUTPUT_BYTES", 1_000_000),
        max_log_bytes=_setting("RUNTIME_MAX_LOG_BYTES", 5_000_000),
        labels={"agentnexus.agent": run.agent.slug, "agentnexus.version": version.version},
    )


def run_execute(*, run_id: int, worker: str) -> None:
    """Execute a claimed run in its container and record how it ended. Idempotent: a run that is
    not `starting` or that another worker claimed is left alone.

    Raises InfrastructureError (after releasing the claim) so the task can retry a Docker outage.
    """
    claim = _claim(run_id, worker)
    if claim is None:
        return
    run = claim.run
    deadline = timezone.now() + timezone.timedelta(seconds=run.version.timeout_seconds)
    payload = {
        "input": run.input,
        "secrets": claim.secrets,
        "metadata": {
            "run_id": str(run.public_id),
            "agent": run.agent.slug,
            "version": run.version.version,
            "deadline": deadline.isoformat(),
        },
    }
    sink = _EventSink(run.pk)
    heartbeat = _Heartbeat(run.pk, _setting("RUNTIME_HEARTBEAT_SECONDS", 2.0))
    heartbeat.start()
    try:
        outcome = get_backend().execute(
            spec=run_spec(run),
            payload=payload,
            on_event=sink,
            should_cancel=lambda: heartbeat.canceled,
        )
    except InfrastructureError:
        Run.objects.filter(pk=run.pk, status=RunStatus.STARTING).update(worker="")
        raise
    finally:
        heartbeat.stop.set()
        heartbeat.join(timeout=5)
        sink.flush()
    _record_outcome(run=run, outcome=outcome, sink=sink)


def _record_outcome(*, run: Run, outcome: RunOutcome, sink: _EventSink) -> None:
    measures = {
        "exit_code": outcome.exit_code,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "duration_ms": outcome.duration_ms,
        "container_start_ms": getattr(outcome, "container_started_ms", None),
        "logs_truncated": outcome.logs_truncated,
    }
    if outcome.status == RunStatus.SUCCEEDED:
        problem = output_schema_problem(run.version.output_schema, outcome.output)
        sink.mark_running()
        if problem:
            run_transition(
                run_id=run.pk,
                to=RunStatus.FAILED,
                failure_reason=FailureReason.INVALID_OUTPUT,
                error_code="invalid_output",
                error_message=problem,
                **measures,
            )
        else:
            run_transition(run_id=run.pk, to=RunStatus.SUCCEEDED, output=outcome.output, **measures)
        return
    reason = outcome.reason or FailureReason.INFRASTRUCTURE_ERROR
    if outcome.status == RunStatus.CANCELED:
        reason = FailureReason.CANCELED
    run_transition(
        run_id=run.pk,
        to=outcome.status,
        failure_reason=reason,
        error_code=(outcome.error_code or reason)[:100],
        error_message=outcome.error_message or FailureReason(reason).label,
        **measures,
    )


def output_schema_problem(schema: dict, output: Any) -> str | None:
    """The first way `output` breaks `schema` (plus how many more), or None when it fits."""
    errors = sorted(
        Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(output),
        key=lambda e: list(e.absolute_path),
    )
    if not errors:
        return None
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(root)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"Output at {where}: {first.message}{more}"


def run_fail_infrastructure(*, run_id: int, message: str) -> None:
    """After the task's retries: the platform, not the agent, could not run it."""
    run_transition(
        run_id=run_id,
        to=RunStatus.FAILED,
        failure_reason=FailureReason.INFRASTRUCTURE_ERROR,
        error_code="infrastructure_error",
        error_message=message[:2000],
    )


# ----------------------------------------------------------------------------- cancel


def run_cancel(*, run: Run, by: User) -> Run:
    """End a run as canceled now; a live container is killed right after commit."""
    if run.is_terminal:
        raise ConflictError(
            f"This run already ended ({run.get_status_display().lower()}).", code="run_finished"
        )
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    ended = run_transition(
        run_id=run.pk,
        to=RunStatus.CANCELED,
        failure_reason=FailureReason.CANCELED,
        error_code="canceled",
        error_message="Canceled by the user." if by.pk == run.user_id else "Canceled by staff.",
    )
    if ended is None:
        run.refresh_from_db()
        if run.is_terminal:
            raise ConflictError(
                f"This run already ended ({run.get_status_display().lower()}).", code="run_finished"
            )
    run_key = run.public_id.hex
    transaction.on_commit(lambda: get_backend().cancel(run_id=run_key))
    run.refresh_from_db()
    return run


# ----------------------------------------------------------------------------- reaper


@dataclass
class ReapReport:
    worker_lost: list[int]
    containers_removed: list[str]
    agents_dispatched: list[int]


def runs_reap(*, now=None, log: Callable[[str], None] | None = None) -> ReapReport:
    """Periodic clean-up: runs whose worker stopped beating end as worker lost; containers with no
    live run are removed; agents with queued runs and free slots are dispatched again."""
    now = now or timezone.now()
    lost_after = timezone.timedelta(seconds=_setting("RUNTIME_WORKER_LOST_SECONDS", 30))
    report = ReapReport([], [], [])
    stale = Run.objects.filter(status__in=ACTIVE, heartbeat_at__lt=now - lost_after)
    backend = get_backend()
    for run_id, public_id in stale.values_list("id", "public_id"):
        ended = run_transition(
            run_id=run_id,
            to=RunStatus.FAILED,
            failure_reason=FailureReason.WORKER_LOST,
            error_code="worker_lost",
            error_message="The worker running this agent stopped; the run was ended.",
        )
        if ended:
            report.worker_lost.append(run_id)
        backend.cancel(run_id=public_id.hex)
        backend.cleanup(run_id=public_id.hex)
    live = {
        p.hex for p in Run.objects.filter(status__in=ACTIVE).values_list("public_id", flat=True)
    }
    grace = _setting("RUNTIME_ORPHAN_GRACE_SECONDS", 30)
    for info in backend.list_run_containers():
        if info.run_id in live:
            continue
        created = getattr(info, "created_at", None)
        # Submission smoke tests have no Run row: give them the longest possible run first.
        limit = 1800 + grace if (info.labels or {}).get("agentnexus.smoke") == "1" else grace
        if created is not None and (now - created).total_seconds() < limit:
            continue  # a container being created for a run that is just starting
        backend.cleanup(run_id=info.run_id)
        report.containers_removed.append(info.run_id)
    waiting = (
        Run.objects.filter(status=RunStatus.QUEUED).values_list("agent_id", flat=True).distinct()
    )
    for agent_id in waiting:
        if runs_admit(agent_id=agent_id):
            report.agents_dispatched.append(agent_id)
    return report
