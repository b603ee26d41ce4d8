"""Publish the platform's own agents (`agents/catalog/<slug>/`) through the submission pipeline.

Each directory goes the way a developer's upload goes: packed as a .tar.gz, `submission_create`,
the build, scan and smoke-test steps, then `submission_approve` by the platform's catalog
reviewer and the on-chain listing. Nothing is written to the catalog directly, so the catalog
runs exactly the images the pipeline built and checked. `manage.py catalog_publish` (run by
`make run`) calls `catalog_publish`. See docs/decisions/0013-submission-pipeline.md.

Idempotent: an agent whose current version is the manifest's version is "unchanged"; a newer
manifest version is submitted as a new version of the agent; a submission left half-way by an
earlier run (built but not approved, say) is resumed rather than submitted again.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from accounts.models import DeveloperProfile, User
from accounts.services import developer_profile_create
from agentnexus.core.errors import ApplicationError
from agents.models import PIPELINE, STEP_OF_STATUS, Submission, SubmissionStatus
from agents.services import (
    MANIFEST_NAME,
    agent_list_on_chain,
    submission_approve,
    submission_create,
    submission_fail_infrastructure,
    submission_pipeline_step,
)
from marketplace.models import Agent
from marketplace.services import agent_set_featured
from runtime.backends.base import InfrastructureError, get_backend

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
DEFAULT_DEVELOPER_EMAIL = "labs@agentnexus.local"
DEVELOPER_NAME = "AgentNexus Labs"
REVIEWER_EMAIL = "catalog@agentnexus.local"
REVIEWER_NAME = "Catalog publisher"
_SKIPPED_NAMES = {"__pycache__", ".DS_Store"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}
# The chain_agent_list results that mean "the agent is on chain now".
_ON_CHAIN = {"registered", "updated", "unchanged"}


@dataclass(frozen=True)
class CatalogPublishResult:
    """What happened to one catalog agent. `step` names where a failure happened: manifest,
    submit, build, scan, smoke, review or chain."""

    slug: str
    version: str
    outcome: str  # "published" | "unchanged" | "failed"
    step: str = ""
    message: str = ""
    submission: Submission | None = None
    chain: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def __str__(self) -> str:
        name = f"{self.slug} {self.version}".strip()
        if self.outcome == "failed":
            return f"{name}: failed at {self.step}: {self.message}"
        if self.outcome == "unchanged":
            return f"{name}: unchanged"
        chain = "listed on chain" if self.chain in _ON_CHAIN else f"chain: {self.chain}"
        if self.chain == "skipped":
            chain += " (free, no payout address, or no stablecoin)"
        return f"{name}: published ({self.submission.image_ref}; {chain})"


# ============================================================================ the catalog


def catalog_agent_dirs(*, root: Path = CATALOG_DIR, only: Iterable[str] = ()) -> list[Path]:
    """The catalog's agent directories (those with an agent.yaml), by name; `only` picks some and
    raises ApplicationError for a name that is not there."""
    dirs = sorted(p.parent for p in root.glob(f"*/{MANIFEST_NAME}") if p.is_file())
    wanted = list(dict.fromkeys(only))
    if not wanted:
        return dirs
    known = {d.name: d for d in dirs}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ApplicationError(
            f"Not in the catalog: {', '.join(unknown)} (there: {', '.join(known) or 'nothing'}).",
            code="validation_error",
        )
    return [known[name] for name in wanted]


def catalog_archive(*, directory: Path) -> io.BytesIO:
    """The directory as a .tar.gz build context, in memory. Reproducible (sorted entries, no
    owners or times, no bytecode caches), so the same sources always have the same sha256."""

    def skipped(path: Path) -> bool:
        parts = path.relative_to(directory).parts
        return any(p in _SKIPPED_NAMES for p in parts) or path.suffix in _SKIPPED_SUFFIXES

    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(directory.rglob("*")):
            if skipped(path) or not (path.is_file() or path.is_dir()) or path.is_symlink():
                continue
            info = tar.gettarinfo(str(path), arcname=path.relative_to(directory).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o755 if path.is_dir() or info.mode & 0o111 else 0o644
            if info.isfile():
                with path.open("rb") as content:
                    tar.addfile(info, content)
            else:
                tar.addfile(info)
    buffer.seek(0)
    return buffer


# ============================================================================ accounts


@transaction.atomic
def catalog_developer(*, email: str = DEFAULT_DEVELOPER_EMAIL) -> DeveloperProfile:
    """The developer profile the catalog is published as: `email`'s, created (with a verified
    "AgentNexus Labs" profile, and an account that cannot sign in) when missing."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, display_name=DEVELOPER_NAME)
    profile = DeveloperProfile.objects.filter(user=user).first()
    if profile is None:
        profile = developer_profile_create(
            user=user, display_name=DEVELOPER_NAME, bio="The platform team's reference agents."
        )
        profile.verified = True
        profile.save(update_fields=["verified"])
    return profile


@transaction.atomic
def catalog_reviewer() -> User:
    """The staff account that approves catalog submissions (the audit trail names it); it has no
    password and cannot sign in."""
    user = User.objects.filter(email__iexact=REVIEWER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(
            email=REVIEWER_EMAIL, password=None, display_name=REVIEWER_NAME, is_staff=True
        )
    if not user.is_staff:
        raise ApplicationError(f"{REVIEWER_EMAIL} exists but is not staff.", code="conflict")
    return user


# ============================================================================ publishing


@contextmanager
def _tasks_inline() -> Iterator[None]:
    """Run the Celery tasks the services enqueue after commit (the next pipeline step, the chain
    listing) in this process, as they are enqueued: no broker or worker needed. Process-wide while
    it lasts, so not for use inside a worker."""
    from agentnexus.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def _builder_check() -> None:
    """Fail early, once, when the pipeline cannot build: Docker down or the base image missing."""
    base_image = getattr(settings, "AGENTS_BASE_IMAGE", "agentnexus/agent-python:1")
    try:
        present = get_backend().image_exists(base_image)
    except InfrastructureError as exc:
        raise ApplicationError(f"{exc}; nothing was submitted.", code="docker_unavailable") from exc
    if not present:
        raise ApplicationError(
            f"The base image {base_image} is missing (build it with scripts/docker_images.sh); "
            "nothing was submitted.",
            code="docker_unavailable",
        )


def _error_text(exc: ApplicationError) -> str:
    problems = [f"{field}: {'; '.join(messages)}" for field, messages in exc.fields.items()]
    return " ".join([exc.message, *problems])


def _live_submission(slug: str, version: str) -> Submission | None:
    """The submission of this version that is neither failed nor rejected (at most one)."""
    return (
        Submission.objects.filter(slug=slug, version=version)
        .exclude(status__in=[SubmissionStatus.FAILED, SubmissionStatus.REJECTED])
        .first()
    )


def _pipeline_run(submission: Submission) -> Submission:
    """Run the submission's remaining steps here until it leaves the pipeline, or until a step is
    held by another worker. With tasks inline they usually ran already, inside submission_create."""
    for _ in range(len(PIPELINE) + 2):  # one call per step; a step held elsewhere returns None
        submission.refresh_from_db()
        if submission.status != SubmissionStatus.SUBMITTED and submission.status not in PIPELINE:
            break
        try:
            step = submission_pipeline_step(submission_id=submission.pk)
        except InfrastructureError as exc:
            submission_fail_infrastructure(
                submission_id=submission.pk, message=f"Docker is unavailable: {exc}"
            )
            continue
        if step is None:
            submission.refresh_from_db()
            break
    return submission


def catalog_agent_publish(
    *, directory: Path, developer: DeveloperProfile, reviewer: User, check: Callable[[], None]
) -> CatalogPublishResult:
    """Publish one catalog directory; `check` is called before anything is submitted."""
    from agents.manifest import ManifestError, manifest_load

    try:
        manifest = manifest_load((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (ManifestError, OSError, UnicodeDecodeError) as exc:
        return CatalogPublishResult(directory.name, "", "failed", "manifest", str(exc))
    slug, version = manifest.slug, str(manifest.version)

    def failed(step: str, message: str, submission: Submission | None = None):
        return CatalogPublishResult(slug, version, "failed", step, message, submission)

    agent = Agent.objects.select_related("current_version").filter(slug=slug).first()
    if agent is not None and agent.current_version and agent.current_version.version == version:
        return CatalogPublishResult(slug, version, "unchanged")

    submission = _live_submission(slug, version)
    if submission is not None and submission.developer_id != developer.pk:
        return failed("submit", f"{slug} {version} was submitted by another developer.")
    if submission is not None and submission.status == SubmissionStatus.APPROVED:
        current = agent.current_version.version if agent and agent.current_version else "none"
        return failed(
            "review",
            f"{slug} {version} is approved, but the agent's current version is {current}.",
            submission,
        )
    if submission is None:
        check()
        try:
            submission = submission_create(
                developer=developer,
                archive_fileobj=catalog_archive(directory=directory),
                agent=agent,
            )
        except ApplicationError as exc:
            return failed("submit", _error_text(exc))

    submission = _pipeline_run(submission)
    if submission.status == SubmissionStatus.FAILED:
        return failed(submission.failed_step, submission.error_message, submission)
    if submission.status == SubmissionStatus.PENDING_REVIEW:
        try:
            listed = submission_approve(submission=submission, reviewer=reviewer)
        except ApplicationError as exc:
            return failed("review", _error_text(exc), submission)
        if listed.agent.versions.count() == 1:
            # The platform's own agents open the demo catalog.
            agent_set_featured(agent=listed.agent, featured=True)
    elif submission.status != SubmissionStatus.APPROVED:
        held = f" until {submission.lease_until:%H:%M:%S}" if submission.lease_until else ""
        return failed(
            STEP_OF_STATUS.get(submission.status, submission.status),
            f"The submission is {submission.get_status_display().lower()}, held by another "
            f"worker{held}; run again later.",
            submission,
        )
    submission.refresh_from_db()
    from payments.chain.client import ChainError

    try:
        # Approval also enqueued this (run inline here); it is idempotent, and this call's
        # answer says whether the agent is on chain.
        chain = agent_list_on_chain(agent_id=submission.agent_id)
    except (ChainError, ImproperlyConfigured) as exc:
        return failed("chain", f"Listed in the catalog, not on chain: {exc}", submission)
    return CatalogPublishResult(slug, version, "published", submission=submission, chain=chain)


def catalog_publish(
    *,
    developer_email: str = DEFAULT_DEVELOPER_EMAIL,
    only: Iterable[str] = (),
    root: Path = CATALOG_DIR,
    on_result: Callable[[CatalogPublishResult], None] = lambda result: None,
) -> list[CatalogPublishResult]:
    """Publish every catalog agent (or the `only` ones) as `developer_email`'s, approved by the
    catalog reviewer, one at a time; `on_result` hears of each as it ends. Raises
    ApplicationError, before submitting anything, when Docker cannot build."""
    directories = catalog_agent_dirs(root=root, only=only)
    developer = catalog_developer(email=developer_email)
    reviewer = catalog_reviewer()
    checked: list[bool] = []

    def check_once() -> None:
        if not checked:
            _builder_check()
            checked.append(True)

    results = []
    with _tasks_inline():
        for directory in directories:
            result = catalog_agent_publish(
                directory=directory, developer=developer, reviewer=reviewer, check=check_once
            )
            results.append(result)
            on_result(result)
    return results
