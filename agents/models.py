"""Agent submissions: the pipeline's state machine, its append-only event log, step logs, scan
findings and smoke-test results (agents/services.py; docs/decisions/0013-submission-pipeline.md).

State machine (TRANSITIONS):
    submitted -> building -> scanning -> smoke_testing -> pending_review -> approved | rejected
with `failed` (and `failed_step` naming the step) reachable from every pipeline step.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    BUILDING = "building", "Building"
    SCANNING = "scanning", "Scanning"
    SMOKE_TESTING = "smoke_testing", "Smoke testing"
    PENDING_REVIEW = "pending_review", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


class SubmissionStep(models.TextChoices):
    BUILD = "build", "Build"
    SCAN = "scan", "Scan"
    SMOKE = "smoke", "Smoke test"


# The status whose work each step does: a submission in `building` has its build to do or under way.
STEP_OF_STATUS: dict[str, str] = {
    SubmissionStatus.BUILDING: SubmissionStep.BUILD,
    SubmissionStatus.SCANNING: SubmissionStep.SCAN,
    SubmissionStatus.SMOKE_TESTING: SubmissionStep.SMOKE,
}
PIPELINE = frozenset(STEP_OF_STATUS)  # the pipeline's working states
TERMINAL = frozenset(
    {SubmissionStatus.APPROVED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED}
)

# The only moves a submission can make. Any pipeline step can fail; only a reviewer ends a
# submission that passed them all.
TRANSITIONS: dict[str, frozenset[str]] = {
    SubmissionStatus.SUBMITTED: frozenset({SubmissionStatus.BUILDING, SubmissionStatus.FAILED}),
    SubmissionStatus.BUILDING: frozenset({SubmissionStatus.SCANNING, SubmissionStatus.FAILED}),
    SubmissionStatus.SCANNING: frozenset({SubmissionStatus.SMOKE_TESTING, SubmissionStatus.FAILED}),
    SubmissionStatus.SMOKE_TESTING: frozenset(
        {SubmissionStatus.PENDING_REVIEW, SubmissionStatus.FAILED}
    ),
    SubmissionStatus.PENDING_REVIEW: frozenset(
        {SubmissionStatus.APPROVED, SubmissionStatus.REJECTED}
    ),
    SubmissionStatus.APPROVED: frozenset(),
    SubmissionStatus.REJECTED: frozenset(),
    SubmissionStatus.FAILED: frozenset(),
}


class Submission(models.Model):
    """A developer's upload of an agent (new, `agent` NULL) or of a new version of `agent`.

    Immutable once created except through `submission_transition` and the pipeline steps. The
    uploaded build context is kept in the database (`archive`, size-limited by
    AGENTS_MAX_ARCHIVE_BYTES) so any worker can build it without a shared volume.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    developer = models.ForeignKey(
        "accounts.DeveloperProfile", on_delete=models.PROTECT, related_name="submissions"
    )
    agent = models.ForeignKey(
        "marketplace.Agent",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        help_text="Empty for a new agent; the agent for a new version of it.",
    )
    slug = models.SlugField(max_length=80)
    version = models.CharField(max_length=64)
    manifest = models.JSONField(help_text="The validated agent.yaml, as JSON.")
    archive = models.BinaryField(editable=False)
    archive_sha256 = models.CharField(max_length=64, editable=False)
    archive_size = models.PositiveIntegerField(editable=False)

    status = models.CharField(
        max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    failed_step = models.CharField(max_length=8, choices=SubmissionStep.choices, blank=True)
    error_message = models.TextField(blank=True)
    image_ref = models.CharField(max_length=255, blank=True)
    image_id = models.CharField(max_length=128, blank=True)
    # A worker holds the current step until then; a redelivered task skips a held step.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Claims of the current step; a step that keeps losing its worker is failed by the recovery.
    step_attempts = models.PositiveSmallIntegerField(default=0, editable=False)

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    feedback = models.TextField(blank=True, help_text="The reviewer's feedback (on rejection).")
    agent_version = models.OneToOneField(
        "marketplace.AgentVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submission",
    )
    last_log_seq = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="submission_status_created"),
            models.Index(fields=["developer", "-created_at"], name="submission_developer"),
            models.Index(fields=["slug", "version"], name="submission_slug_version"),
        ]

    def __str__(self) -> str:
        return f"{self.slug}@{self.version} ({self.get_status_display()})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def group_name(self) -> str:
        return f"submission.{self.public_id.hex}"


class SubmissionEvent(models.Model):
    """Append-only history of a submission's status changes (who, when, why)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=SubmissionStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=SubmissionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class SubmissionStepLog(models.Model):
    """One line of a step's output (build log, scan summary, smoke-test agent logs), in order."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="log_lines")
    step = models.CharField(max_length=8, choices=SubmissionStep.choices)
    seq = models.PositiveIntegerField()
    line = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "seq"], name="submission_log_unique_seq")
        ]

    def __str__(self) -> str:
        return f"[{self.step} {self.seq}] {self.line[:80]}"


class FindingSeverity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class ScanFinding(models.Model):
    """One result of the static checks on the built image; a critical one stops the pipeline."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="findings")
    check_name = models.CharField(max_length=64)
    severity = models.CharField(max_length=8, choices=FindingSeverity.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.severity}: {self.check_name}"


class SmokeResult(models.Model):
    """The run of one example input in the sandbox during the smoke test."""

    class Status(models.TextChoices):
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="smoke_results"
    )
    example_index = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["example_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "example_index"], name="smoke_result_unique_example"
            )
        ]

    def __str__(self) -> str:
        return f"example {self.example_index}: {self.status}"
