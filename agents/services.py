"""Agent submissions: create, build, scan, smoke-test, review. Every status change goes through
`submission_transition` (row lock + a SubmissionEvent row); the pipeline's steps are run by the
Celery task `agents.pipeline_step` (agents/tasks.py), one step per task, each enqueuing the next
after commit. See docs/decisions/0013-submission-pipeline.md.

The manifest (agents.manifest), archive (agents.archive) and image checks (agents.scan) are
imported where used, so this module loads without them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import DeveloperProfile, User
from agentnexus.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from agents.models import (
    PIPELINE,
    STEP_OF_STATUS,
    TRANSITIONS,
    FindingSeverity,
    ScanFinding,
    SmokeResult,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionStep,
    SubmissionStepLog,
)
from compliance.audit.services import audit_record
from marketplace.models import SEMVER_RE, Agent, AgentVersion, Category
from marketplace.services import agent_create, agent_version_create
from runtime.backends.base import BuildError, InfrastructureError, RunSpec, get_backend
from runtime.services import output_schema_problem

logger = logging.getLogger(__name__)

MANIFEST_NAME = "agent.yaml"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def max_archive_bytes() -> int:
    """The largest upload accepted (the compressed .tar.gz)."""
    return _setting("AGENTS_MAX_ARCHIVE_BYTES", 20 * 1024 * 1024)


# ============================================================================ manifest helpers


def _manifest_data(manifest: Any) -> dict:
    """The manifest as plain JSON (what Submission.manifest stores), whatever its class."""
    if isinstance(manifest, dict):
        data = manifest
    elif hasattr(manifest, "as_dict"):
        data = manifest.as_dict()
    elif hasattr(manifest, "model_dump"):
        data = manifest.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif hasattr(manifest, "to_dict"):
        data = manifest.to_dict()
    elif dataclasses.is_dataclass(manifest) and not isinstance(manifest, type):
        data = dataclasses.asdict(manifest)
    elif hasattr(manifest, "data"):
        data = manifest.data
    else:
        data = dict(vars(manifest))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _manifest_errors(exc: Exception) -> dict[str, list[str]]:
    """ManifestError(errors=[(path, message), ...]) -> {path: [message, ...]}; the manifest as a
    whole ("(root)") is reported under "manifest"."""
    fields: dict[str, list[str]] = {}
    for path, message in getattr(exc, "errors", None) or [("", str(exc))]:
        if isinstance(path, (list, tuple)):
            path = ".".join(str(p) for p in path)
        key = "manifest" if path in ("", "(root)") else str(path)
        fields.setdefault(key, []).append(str(message))
    return fields


def manifest_examples(data: dict) -> list[Any]:
    """The example inputs: `examples: [{input: ...}, ...]` (or a bare list of inputs)."""
    examples = data.get("examples") or data.get("example_inputs") or []
    return [e["input"] if isinstance(e, dict) and "input" in e else e for e in examples]


def manifest_resources(data: dict) -> dict[str, Any]:
    res = data.get("resources") or {}
    return {
        "memory_mb": int(res.get("memory_mb", 512)),
        "cpus": Decimal(str(res.get("cpus", "1"))),
        "timeout_s": int(res.get("timeout_s", res.get("timeout_seconds", 300))),
    }


def manifest_price(data: dict) -> tuple[Decimal, str]:
    """(price, currency) of a run. A catalog version has one price; with several accepted tokens
    the stablecoin's is used (AgentVersion holds one, see the ADR)."""
    price = data.get("pricing", data.get("price"))
    entries: list[tuple[str, Any]] = []
    if isinstance(price, dict) and "amount" in price:
        entries = [(str(price.get("currency", "USDC")), price["amount"])]
    elif isinstance(price, dict):
        entries = [(str(k), v) for k, v in price.items()]
    elif isinstance(price, list):
        entries = [(str(p.get("currency", "USDC")), p.get("amount")) for p in price]
    entries.sort(key=lambda e: e[0] != "USDC")
    if not entries:
        return Decimal("0"), "USDC"
    currency, amount = entries[0]
    try:
        return Decimal(str(amount)), currency.upper()
    except InvalidOperation as exc:
        raise ApplicationError(
            "The price is not a number.",
            code="validation_error",
            fields={"price": ["Not a number."]},
        ) from exc


def semver_key(version: str) -> tuple:
    """semver.org precedence: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0 < 1.0.1."""
    match = re.match(SEMVER_RE, version)
    if not match:
        raise ValueError(f"{version!r} is not a semantic version")
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    if pre is None:
        pre_key: tuple = (1,)
    else:
        pre_key = (
            0,
            tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")),
        )
    return (int(major), int(minor), int(patch), pre_key)


def _check_version_is_new(*, agent: Agent, version: str) -> None:
    existing = list(agent.versions.values_list("version", flat=True))
    newest = max(existing, key=semver_key, default=None)
    if newest is not None and semver_key(version) <= semver_key(newest):
        problem = f"The version must be greater than {newest}, the agent's latest."
        raise ConflictError(problem, code="version_not_greater", fields={"version": [problem]})


# ============================================================================ archive


@contextmanager
def _extracted(data: bytes) -> Iterator[Path]:
    """Extract an uploaded build context into a temporary directory (checked by archive_extract
    against traversal, links out of the context and size/file-count limits)."""
    from agents.archive import ArchiveError, archive_extract

    tmp = Path(tempfile.mkdtemp(prefix="agentnexus-submission-"))
    try:
        try:
            root = archive_extract(
                fileobj=io.BytesIO(data),
                dest=tmp,
                max_bytes=_setting("AGENTS_MAX_CONTEXT_BYTES", 100 * 1024 * 1024),
                max_files=_setting("AGENTS_MAX_CONTEXT_FILES", 5000),
            )
        except ArchiveError as exc:
            raise ApplicationError(
                f"The archive cannot be used: {exc}",
                code="validation_error",
                fields={"archive": [str(exc)]},
            ) from exc
        yield Path(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_upload(fileobj: IO[bytes]) -> bytes:
    limit = max_archive_bytes()
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KB"
        problem = f"The archive is larger than {size}."
        raise ApplicationError(problem, code="validation_error", fields={"archive": [problem]})
    if not data:
        raise ApplicationError(
            "The archive is empty.", code="validation_error", fields={"archive": ["Empty file."]}
        )
    return data


def _dockerfile_path(data: dict) -> str:
    return str(data.get("dockerfile") or "Dockerfile")


def _prepare_context(context: Path, data: dict) -> None:
    """The backend builds `<context>/Dockerfile`; a manifest naming another file gets it copied."""
    name = _dockerfile_path(data)
    source = (context / name).resolve()
    if not source.is_relative_to(context.resolve()) or not source.is_file():
        raise ApplicationError(
            f"The Dockerfile {name!r} is not in the archive.",
            code="validation_error",
            fields={"dockerfile": [f"{name} is not in the archive."]},
        )
    target = context / "Dockerfile"
    if source != target.resolve():
        shutil.copyfile(source, target)


# ============================================================================ create


def submission_create(
    *, developer: DeveloperProfile, archive_fileobj: IO[bytes], agent: Agent | None = None
) -> Submission:
    """Accept an upload of a new agent (`agent` None) or of a new version of `agent`, and start the
    pipeline after commit. Every manifest problem is reported at once, keyed by field path."""
    from agents.manifest import ManifestError, manifest_load

    data = _read_upload(archive_fileobj)
    with _extracted(data) as context:
        manifest_file = context / MANIFEST_NAME
        if not manifest_file.is_file():
            raise ApplicationError(
                f"The archive has no {MANIFEST_NAME} at its root.",
                code="validation_error",
                fields={"archive": [f"Add {MANIFEST_NAME} next to the Dockerfile."]},
            )
        try:
            manifest = manifest_load(manifest_file.read_text(encoding="utf-8"))
        except ManifestError as exc:
            raise ApplicationError(
                "The manifest has problems.", code="validation_error", fields=_manifest_errors(exc)
            ) from exc
        except UnicodeDecodeError as exc:
            raise ApplicationError(
                f"{MANIFEST_NAME} is not UTF-8 text.",
                code="validation_error",
                fields={"manifest": ["Not UTF-8 text."]},
            ) from exc
        manifest_data = _manifest_data(manifest)
        _prepare_context(context, manifest_data)

    slug, version = str(manifest_data.get("slug", "")), str(manifest_data.get("version", ""))
    fields: dict[str, list[str]] = {}
    if not Category.objects.filter(slug=manifest_data.get("category")).exists():
        choices = ", ".join(Category.objects.values_list("slug", flat=True))
        fields["category"] = [f"Unknown category; choose one of: {choices}."]
    if not manifest_examples(manifest_data):
        fields["examples"] = ["Give at least one example input for the smoke test."]
    if fields:
        raise ApplicationError("The manifest has problems.", code="validation_error", fields=fields)

    with transaction.atomic():
        if agent is None:
            if Agent.objects.filter(slug=slug).exists():
                problem = (
                    f"The slug {slug!r} is taken. To publish a new version of your agent, "
                    "submit it as a new version of that agent."
                )
                raise ConflictError(problem, code="slug_taken", fields={"slug": [problem]})
            others = Submission.objects.filter(slug=slug, agent__isnull=True).exclude(
                developer=developer
            )
            if others.exclude(
                status__in=[SubmissionStatus.REJECTED, SubmissionStatus.FAILED]
            ).exists():
                problem = f"Another developer's submission already uses the slug {slug!r}."
                raise ConflictError(problem, code="slug_taken", fields={"slug": [problem]})
        else:
            agent = Agent.objects.select_for_update().get(pk=agent.pk)
            if agent.developer_id != developer.pk:
                raise PermissionDeniedError("You can only submit versions of your own agents.")
            if slug != agent.slug:
                problem = f"The slug must be {agent.slug!r}, this agent's."
                raise ApplicationError(problem, code="validation_error", fields={"slug": [problem]})
            _check_version_is_new(agent=agent, version=version)
        in_flight = Submission.objects.filter(slug=slug, version=version).exclude(
            status__in=[SubmissionStatus.REJECTED, SubmissionStatus.FAILED]
        )
        if in_flight.exists():
            problem = f"Version {version} of {slug} was already submitted; versions are immutable."
            raise ConflictError(problem, code="version_submitted", fields={"version": [problem]})
        submission = Submission.objects.create(
            developer=developer,
            agent=agent,
            slug=slug,
            version=version,
            manifest=manifest_data,
            archive=data,
            archive_sha256=hashlib.sha256(data).hexdigest(),
            archive_size=len(data),
        )
        SubmissionEvent.objects.create(
            submission=submission,
            to_status=SubmissionStatus.SUBMITTED,
            actor=developer.user,
            message="Submitted.",
        )
        _enqueue_step(submission.pk)
    return submission


# ============================================================================ transitions


def submission_transition(
    *,
    submission_id: int,
    to: str,
    actor: User | None = None,
    message: str = "",
    **changes: Any,
) -> Submission | None:
    """Move a submission to `to` under a row lock, with an event. Returns None when the move is not
    allowed from its current status (another worker or reviewer got there first)."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        if to not in TRANSITIONS[submission.status]:
            return None
        previous = submission.status
        submission.status = to
        for name, value in changes.items():
            setattr(submission, name, value)
        submission.save()
        SubmissionEvent.objects.create(
            submission=submission,
            from_status=previous,
            to_status=to,
            actor=actor,
            message=message[:10_000],
        )
        status_message = {
            "kind": "status",
            "status": to,
            "failed_step": submission.failed_step or None,
            "message": message,
            "at": timezone.now().isoformat(),
        }
        group = submission.group_name
        transaction.on_commit(lambda: _broadcast(group, [status_message]))
    return submission


def _enqueue_step(submission_id: int) -> None:
    from agents.tasks import pipeline_step

    transaction.on_commit(lambda: pipeline_step.delay(submission_id))


def _lease_seconds(status: str) -> int:
    if status == SubmissionStatus.BUILDING:
        return _setting("AGENTS_BUILD_TIMEOUT_S", 600) + 60
    if status == SubmissionStatus.SMOKE_TESTING:
        return 1800 + 60
    return 600


def _step_claim(submission_id: int) -> Submission | None:
    """Take the submission's current step for this worker: None when there is none (ended, in
    review) or another worker holds it. `submitted` starts the build."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None:
            return None
        if submission.status == SubmissionStatus.SUBMITTED:
            submission = submission_transition(
                submission_id=submission_id, to=SubmissionStatus.BUILDING, message="Build started."
            )
        if submission.status not in PIPELINE:
            return None
        now = timezone.now()
        if submission.lease_until and submission.lease_until > now:
            return None
        submission.lease_until = now + timezone.timedelta(seconds=_lease_seconds(submission.status))
        submission.step_attempts += 1
        submission.save(update_fields=["lease_until", "step_attempts", "updated_at"])
        return submission


def _step_release(submission: Submission) -> None:
    """Give the step back (a transient platform failure) so a retry can claim it."""
    Submission.objects.filter(pk=submission.pk, status=submission.status).update(lease_until=None)


def _step_pass(submission: Submission, *, to: str, message: str, **changes: Any) -> Submission:
    with transaction.atomic():
        moved = submission_transition(
            submission_id=submission.pk,
            to=to,
            message=message,
            lease_until=None,
            step_attempts=0,
            **changes,
        )
        if moved is not None and to in PIPELINE:
            _enqueue_step(submission.pk)
        if moved is not None and to == SubmissionStatus.PENDING_REVIEW:
            pk = submission.pk
            transaction.on_commit(lambda: _notify_developer_by_id(pk))
    return moved or submission


def _step_fail(submission: Submission, *, step: str, message: str) -> Submission:
    _log(submission, step, [f"FAILED: {message}"])
    with transaction.atomic():
        moved = submission_transition(
            submission_id=submission.pk,
            to=SubmissionStatus.FAILED,
            message=message,
            failed_step=step,
            error_message=message[:10_000],
            lease_until=None,
        )
        if moved is not None:
            pk = submission.pk
            transaction.on_commit(lambda: _notify_developer_by_id(pk))
            transaction.on_commit(lambda: _enqueue_image_removal(pk))
    return moved or submission


def submission_pipeline_step(*, submission_id: int) -> str | None:
    """Run the submission's current step, if it has one no other worker holds. Idempotent.
    Returns the step run (or None). InfrastructureError propagates for the task to retry."""
    submission = _step_claim(submission_id)
    if submission is None:
        return None
    step = STEP_OF_STATUS[submission.status]
    runner = {
        SubmissionStep.BUILD: submission_build,
        SubmissionStep.SCAN: submission_scan,
        SubmissionStep.SMOKE: submission_smoke_test,
    }[step]
    try:
        runner(submission=submission)
    except InfrastructureError:
        _step_release(submission)
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in a step must end the submission, not hang it
        logger.exception("submission %s: step %s crashed", submission.public_id, step)
        _step_fail(submission, step=step, message=f"The {step} step stopped unexpectedly: {exc}")
    return step


def submission_fail_infrastructure(*, submission_id: int, message: str) -> None:
    """After the task's retries: the platform, not the agent, could not run the step."""
    submission = Submission.objects.get(pk=submission_id)
    step = STEP_OF_STATUS.get(submission.status)
    if step:
        _step_fail(submission, step=step, message=message)


# ============================================================================ recovery, cleanup

MAX_STEP_ATTEMPTS = 5
UNCLAIMED_AFTER_S = 120  # a submission this long without a worker lost its task


def submissions_recover(*, now=None) -> dict[str, list[int]]:
    """Find submissions whose step no worker holds any more (the task was lost, or the worker died
    mid-step and its lease ran out) and enqueue the step again; one that has lost its worker
    MAX_STEP_ATTEMPTS times fails instead. Run by beat (agents.recover_submissions)."""
    from django.db.models import Q

    from agents.tasks import pipeline_step

    now = now or timezone.now()
    quiet = now - timezone.timedelta(seconds=UNCLAIMED_AFTER_S)
    stalled = Submission.objects.filter(
        Q(status=SubmissionStatus.SUBMITTED, updated_at__lt=quiet)
        | Q(status__in=PIPELINE, lease_until__lt=now)
        | Q(status__in=PIPELINE, lease_until__isnull=True, updated_at__lt=quiet)
    ).values_list("pk", "status", "step_attempts")
    report: dict[str, list[int]] = {"requeued": [], "failed": []}
    for pk, status, attempts in stalled:
        step = STEP_OF_STATUS.get(status)
        if step and attempts >= MAX_STEP_ATTEMPTS:
            with transaction.atomic():
                current = Submission.objects.select_for_update().get(pk=pk)
                if current.status != status or (current.lease_until and current.lease_until > now):
                    continue  # a worker took the step meanwhile
                _step_fail(
                    current,
                    step=step,
                    message=f"The platform could not finish the {step} step after {attempts} "
                    "attempts. Submit again, or contact support if it keeps happening.",
                )
            report["failed"].append(pk)
        else:
            pipeline_step.delay(pk)
            report["requeued"].append(pk)
    return report


def _enqueue_image_removal(submission_id: int) -> None:
    from agents.tasks import remove_submission_image

    remove_submission_image.delay(submission_id)


def submission_image_remove(*, submission_id: int) -> bool:
    """Delete the image of a failed or rejected submission (it can never run); True if removed.
    Approved images stay: runs use them."""
    submission = Submission.objects.filter(pk=submission_id).first()
    if submission is None or not submission.image_ref:
        return False
    if submission.status not in (SubmissionStatus.FAILED, SubmissionStatus.REJECTED):
        return False
    removed = get_backend().remove_image(submission.image_ref)
    if removed:
        _log(
            submission,
            submission.failed_step or SubmissionStep.SMOKE,
            [f"removed image {submission.image_ref}"],
        )
    return removed


# ============================================================================ step logs


class _StepLogger:
    """Collects a step's output lines and writes them in small batches (the developer follows
    them live: rows + a Channels broadcast)."""

    def __init__(self, submission: Submission, step: str, *, every: float = 0.25) -> None:
        self.submission, self.step, self.every = submission, step, every
        self.pending: list[str] = []
        self.last = time.monotonic()

    def __call__(self, line: str) -> None:
        self.pending.append(line)
        if len(self.pending) >= 100 or time.monotonic() - self.last >= self.every:
            self.flush()

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        self.last = time.monotonic()
        _log(self.submission, self.step, lines)


def _log(submission: Submission, step: str, lines: list[str]) -> None:
    if not lines:
        return
    with transaction.atomic():
        last = (
            Submission.objects.select_for_update()
            .values_list("last_log_seq", flat=True)
            .get(pk=submission.pk)
        )
        rows = [
            SubmissionStepLog(
                submission_id=submission.pk, step=step, seq=last + i, line=line[:10_000]
            )
            for i, line in enumerate(lines, start=1)
        ]
        SubmissionStepLog.objects.bulk_create(rows)
        Submission.objects.filter(pk=submission.pk).update(last_log_seq=last + len(rows))
        messages = [{"kind": "log", "step": step, "seq": r.seq, "line": r.line} for r in rows]
        group = submission.group_name
        transaction.on_commit(lambda: _broadcast(group, messages))


def _broadcast(group: str, messages: list[dict]) -> None:
    """Best effort, like runtime.broadcast: the rows are the record; a client catches up by seq."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "submission.events", "events": messages})
    except Exception:  # noqa: BLE001 - a Redis hiccup must not fail the pipeline
        logger.warning("could not broadcast to %s", group, exc_info=True)


def submission_log_after(*, submission: Submission, after: int = 0, limit: int = 1000):
    return list(submission.log_lines.filter(seq__gt=after).order_by("seq")[:limit])


# ============================================================================ build


def _image_tag(submission: Submission) -> str:
    version = re.sub(r"[^A-Za-z0-9_.-]", "_", submission.version)
    return f"agentnexus/agent-{submission.slug}:{version}-{submission.public_id.hex[:12]}"


def submission_build(*, submission: Submission) -> Submission:
    """Build the image from the stored context: no network, a time limit, labeled with the
    submission. Success moves on to the scan; a build error fails the submission with its log."""
    log = _StepLogger(submission, SubmissionStep.BUILD)
    tag = _image_tag(submission)
    log(f"building {tag}")
    try:
        with _extracted(bytes(submission.archive)) as context:
            _prepare_context(context, submission.manifest)
            image_id = get_backend().build_image(
                context_dir=context,
                tag=tag,
                labels={
                    "agentnexus.submission": submission.public_id.hex,
                    "agentnexus.agent": submission.slug,
                    "agentnexus.version": submission.version,
                },
                buildargs={
                    "BASE_IMAGE": _setting("AGENTS_BASE_IMAGE", "agentnexus/agent-python:1")
                },
                timeout_s=_setting("AGENTS_BUILD_TIMEOUT_S", 600),
                on_log=log,
            )
    except BuildError as exc:
        log.flush()
        return _step_fail(submission, step=SubmissionStep.BUILD, message=str(exc).split("\n")[0])
    except ApplicationError as exc:
        log.flush()
        return _step_fail(submission, step=SubmissionStep.BUILD, message=exc.message)
    finally:
        log.flush()
    _log(submission, SubmissionStep.BUILD, [f"built {tag} ({image_id})"])
    return _step_pass(
        submission,
        to=SubmissionStatus.SCANNING,
        message="Built.",
        image_ref=tag,
        image_id=image_id,
    )


# ============================================================================ scan


def _manifest_object(submission: Submission) -> Any:
    from agents.manifest import manifest_validate

    return manifest_validate(submission.manifest)


def submission_scan(*, submission: Submission) -> Submission:
    """Static checks on the built image (agents.scan). Critical findings stop the pipeline."""
    from agents.scan import image_scan

    findings = image_scan(image=submission.image_ref, manifest=_manifest_object(submission))
    rows = []
    for finding in findings:
        severity = getattr(finding.severity, "value", finding.severity)
        rows.append(
            ScanFinding(
                submission=submission,
                check_name=str(finding.check)[:64],
                severity=str(severity),
                message=str(finding.message),
            )
        )
    with transaction.atomic():
        ScanFinding.objects.filter(submission=submission).delete()  # a redelivered scan
        ScanFinding.objects.bulk_create(rows)
    _log(
        submission,
        SubmissionStep.SCAN,
        [f"{r.severity}: {r.check_name}: {r.message}" for r in rows] or ["no findings"],
    )
    critical = [r for r in rows if r.severity == FindingSeverity.CRITICAL]
    if critical:
        names = ", ".join(r.check_name for r in critical)
        return _step_fail(
            submission,
            step=SubmissionStep.SCAN,
            message=f"{len(critical)} critical finding(s): {names}.",
        )
    return _step_pass(submission, to=SubmissionStatus.SMOKE_TESTING, message="Scanned.")


# ============================================================================ smoke test


def submission_smoke_test(*, submission: Submission) -> Submission:
    """Run each example input once in the normal sandbox (the runtime backend, with the manifest's
    limits and no secrets); every run must succeed and its output match the output schema."""
    data = submission.manifest
    resources = manifest_resources(data)
    examples = manifest_examples(data)
    backend = get_backend()
    log = _StepLogger(submission, SubmissionStep.SMOKE)
    failures: list[str] = []
    for index, example in enumerate(examples):
        run_id = f"smoke-{submission.public_id.hex}-{index}"
        spec = RunSpec(
            run_id=run_id,
            image=submission.image_ref,
            memory_mb=resources["memory_mb"],
            cpus=float(resources["cpus"]),
            timeout_s=resources["timeout_s"],
            max_output_bytes=_setting("RUNTIME_MAX_OUTPUT_BYTES", 1_000_000),
            max_log_bytes=_setting("RUNTIME_MAX_LOG_BYTES", 5_000_000),
            labels={
                "agentnexus.submission": submission.public_id.hex,
                "agentnexus.agent": submission.slug,
                "agentnexus.version": submission.version,
                "agentnexus.smoke": "1",
            },
        )
        deadline = timezone.now() + timezone.timedelta(seconds=spec.timeout_s)
        payload = {
            "input": example,
            "secrets": {},
            "metadata": {
                "run_id": run_id,
                "agent": submission.slug,
                "version": submission.version,
                "deadline": deadline.isoformat(),
                "smoke_test": True,
            },
        }

        def on_event(event: dict, index: int = index) -> None:
            if event.get("type") == "log":
                log(f"example {index}: [{event.get('level', 'info')}] {event.get('message', '')}")
            elif event.get("type") == "progress":
                log(f"example {index}: {event.get('percent', 0)}% {event.get('message', '')}")

        log(f"example {index}: running")
        outcome = backend.execute(spec=spec, payload=payload, on_event=on_event)
        error = ""
        if outcome.status != "succeeded":
            error = f"{outcome.status}: {outcome.error_code or outcome.reason or ''} {outcome.error_message or ''}".strip()
        else:
            error = output_schema_problem(data.get("output_schema") or {}, outcome.output) or ""
        status = SmokeResult.Status.FAILED if error else SmokeResult.Status.PASSED
        SmokeResult.objects.update_or_create(
            submission=submission,
            example_index=index,
            defaults={
                "status": status,
                "input": example,
                "output": outcome.output,
                "error": error,
                "duration_ms": outcome.duration_ms,
            },
        )
        log(f"example {index}: {status} in {outcome.duration_ms} ms{': ' + error if error else ''}")
        if error:
            failures.append(f"example {index}: {error}")
    log.flush()
    if failures:
        return _step_fail(
            submission,
            step=SubmissionStep.SMOKE,
            message="Smoke test failed: " + "; ".join(failures),
        )
    return _step_pass(
        submission,
        to=SubmissionStatus.PENDING_REVIEW,
        message=f"Smoke test passed ({len(examples)} example(s)); waiting for review.",
    )


# ============================================================================ review


def _category(data: dict) -> Category:
    category = Category.objects.filter(slug=data.get("category")).first()
    if category is None:
        raise ApplicationError(
            "The manifest's category no longer exists.",
            code="validation_error",
            fields={"category": ["Unknown category."]},
        )
    return category


@transaction.atomic
def submission_approve(*, submission: Submission, reviewer: User) -> AgentVersion:
    """List the submission: create the agent (new) or add its version and make it current (runs in
    progress keep the version they reference). Then, after commit, list it on chain and tell the
    developer."""
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    if locked.status != SubmissionStatus.PENDING_REVIEW:
        raise ConflictError(
            f"Only submissions pending review can be approved (this one is {locked.get_status_display().lower()}).",
            code="submission_not_pending",
        )
    data = locked.manifest
    category = _category(data)
    identity = {
        "name": str(data.get("name", locked.slug))[:80],
        "summary": str(data.get("summary", ""))[:160],
        "description": str(data.get("description", "")),
        "category": category,
    }
    tags = [str(t) for t in data.get("tags") or []]
    if locked.agent_id is None:
        if Agent.objects.filter(slug=locked.slug).exists():
            raise ConflictError(
                f"An agent with the slug {locked.slug!r} was listed meanwhile.", code="slug_taken"
            )
        agent = agent_create(developer=locked.developer, slug=locked.slug, tags=tags, **identity)
    else:
        agent = Agent.objects.select_for_update().get(pk=locked.agent_id)
        _check_version_is_new(agent=agent, version=locked.version)
        for name, value in identity.items():
            setattr(agent, name, value)
        agent.tags = sorted({t.strip().lower() for t in tags if t.strip()})
        agent.save(update_fields=[*identity, "tags", "updated_at"])
    resources = manifest_resources(data)
    price, currency = manifest_price(data)
    examples = manifest_examples(data)
    version = agent_version_create(
        agent=agent,
        version=locked.version,
        image_ref=locked.image_ref,
        input_schema=data.get("input_schema") or {},
        output_schema=data.get("output_schema") or {},
        example_input=examples[0] if examples else None,
        memory_mb=resources["memory_mb"],
        cpus=resources["cpus"],
        timeout_seconds=resources["timeout_s"],
        price=price,
        currency=currency,
        changelog=str(data.get("changelog", "")),
        manifest=data,
        make_current=True,
    )
    submission_transition(
        submission_id=locked.pk,
        to=SubmissionStatus.APPROVED,
        actor=reviewer,
        message="Approved.",
        agent=agent,
        agent_version=version,
        reviewer=reviewer,
        reviewed_at=timezone.now(),
    )
    audit_record(
        actor=reviewer,
        action="agents.submission.approve",
        obj=locked,
        data={
            "agent_id": agent.pk,
            "slug": agent.slug,
            "version": version.version,
            "agent_version_id": version.pk,
            "image_ref": locked.image_ref,
            "image_id": locked.image_id,
            "archive_sha256": locked.archive_sha256,
        },
    )
    pk, agent_id = locked.pk, agent.pk
    transaction.on_commit(lambda: _notify_developer_by_id(pk))
    transaction.on_commit(lambda: _enqueue_chain_listing(agent_id))
    submission.refresh_from_db()
    return version


@transaction.atomic
def submission_reject(*, submission: Submission, reviewer: User, feedback: str) -> Submission:
    """Refuse the submission with feedback for the developer; nothing reaches the catalog."""
    feedback = (feedback or "").strip()
    if not feedback:
        raise ApplicationError(
            "Tell the developer why.",
            code="validation_error",
            fields={"feedback": ["Feedback is required when rejecting."]},
        )
    moved = submission_transition(
        submission_id=submission.pk,
        to=SubmissionStatus.REJECTED,
        actor=reviewer,
        message=feedback,
        feedback=feedback,
        reviewer=reviewer,
        reviewed_at=timezone.now(),
    )
    if moved is None:
        submission.refresh_from_db()
        raise ConflictError(
            f"Only submissions pending review can be rejected (this one is {submission.get_status_display().lower()}).",
            code="submission_not_pending",
        )
    audit_record(
        actor=reviewer,
        action="agents.submission.reject",
        obj=moved,
        data={"slug": moved.slug, "version": moved.version, "feedback": feedback},
    )
    pk = moved.pk
    transaction.on_commit(lambda: _notify_developer_by_id(pk))
    transaction.on_commit(lambda: _enqueue_image_removal(pk))
    submission.refresh_from_db()
    return submission


# ============================================================================ notifications


_SUBJECTS = {
    SubmissionStatus.PENDING_REVIEW: "{slug} {version} passed its checks and awaits review",
    SubmissionStatus.APPROVED: "{slug} {version} is listed",
    SubmissionStatus.REJECTED: "{slug} {version} was not approved",
    SubmissionStatus.FAILED: "{slug} {version} failed at the {step} step",
}


def _notify_developer_by_id(submission_id: int) -> None:
    """Email the developer about the submission's status. Best effort, after commit."""
    submission = Submission.objects.select_related("developer__user").get(pk=submission_id)
    template = _SUBJECTS.get(submission.status)
    email = submission.developer.user.email
    if template is None or not email:
        return
    subject = template.format(
        slug=submission.slug, version=submission.version, step=submission.failed_step
    )
    lines = [
        f"Your submission {submission.slug} {submission.version}: {submission.get_status_display()}."
    ]
    if submission.status == SubmissionStatus.REJECTED:
        lines += ["", "The reviewer's feedback:", submission.feedback]
    if submission.status == SubmissionStatus.FAILED:
        lines += [
            "",
            submission.error_message,
            "",
            "The step's log is on your developer dashboard.",
        ]
    try:
        send_mail(subject, "\n".join(lines), None, [email])
    except Exception:  # noqa: BLE001 - mail trouble must not undo a committed review
        logger.warning(
            "could not email the developer of submission %s", submission_id, exc_info=True
        )


# ============================================================================ on-chain listing


def _enqueue_chain_listing(agent_id: int) -> None:
    from agents.tasks import agent_list_on_chain

    agent_list_on_chain.delay(agent_id)


def agent_list_on_chain(*, agent_id: int) -> str:
    agent = Agent.objects.select_related("current_version", "developer").get(pk=agent_id)
    return _list_on_chain(agent)


def _list_on_chain(agent: Agent) -> str:
    """Register the agent and its current price on the escrow/entitlement contracts (nothing to
    do without a deployment on CHAIN_ID: `manage.py chain_deploy` lists every agent then)."""
    from payments.services import chain_agent_list

    return chain_agent_list(agent=agent, log=logger.info)
