"""Runs of agents: the state machine's data and its append-only event log (runtime/services.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELED = "canceled", "Canceled"


TERMINAL = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELED}
)
ACTIVE = frozenset({RunStatus.STARTING, RunStatus.RUNNING})

# The only moves a run can make. Any non-terminal run can fail (infrastructure error, worker lost)
# or be canceled; only a running one can succeed.
TRANSITIONS: dict[str, frozenset[str]] = {
    RunStatus.QUEUED: frozenset({RunStatus.STARTING, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.STARTING: frozenset(
        {RunStatus.RUNNING, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELED}
    ),
    RunStatus.RUNNING: frozenset(
        {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELED}
    ),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.TIMED_OUT: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


class FailureReason(models.TextChoices):
    AGENT_ERROR = "agent_error", "The agent reported an error"
    INVALID_OUTPUT = "invalid_output", "The agent's output did not match its output schema"
    OUTPUT_TOO_LARGE = "output_too_large", "The agent's output exceeded the size limit"
    PROTOCOL_ERROR = "protocol_error", "The agent broke the agent protocol"
    OUT_OF_MEMORY = "out_of_memory", "The agent ran out of memory"
    TIMEOUT = "timeout", "The run passed its deadline"
    IMAGE_MISSING = "image_missing", "The agent's image is not available"
    INFRASTRUCTURE_ERROR = "infrastructure_error", "The platform could not run the agent"
    WORKER_LOST = "worker_lost", "The worker running the agent stopped"
    CANCELED = "canceled", "Canceled"
    AGENT_SUSPENDED = "agent_suspended", "The agent was suspended"


class Run(models.Model):
    """One execution of an agent version for a user.

    `id` is sequential (cheap escrow run references, docs/decisions/0004); `public_id` names the run
    in URLs, the API, WebSocket groups and container names.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="runs"
    )
    agent = models.ForeignKey("marketplace.Agent", on_delete=models.PROTECT, related_name="runs")
    version = models.ForeignKey(
        "marketplace.AgentVersion", on_delete=models.PROTECT, related_name="runs"
    )
    input = models.JSONField()
    # Secrets for this run, encrypted (runtime/secrets.py); erased when the run ends.
    secrets_ciphertext = models.BinaryField(null=True, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    failure_reason = models.CharField(max_length=32, choices=FailureReason.choices, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    output = models.JSONField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    logs_truncated = models.BooleanField(default=False)
    cancel_requested = models.BooleanField(default=False)

    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    peak_memory_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    container_start_ms = models.PositiveIntegerField(null=True, blank=True)

    last_seq = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="run_unique_idempotency_key",
            ),
        ]
        indexes = [
            # The dispatcher: queued runs of an agent in order; active runs per agent and user.
            models.Index(fields=["agent", "status", "id"], name="run_agent_status"),
            models.Index(fields=["user", "status"], name="run_user_status"),
            models.Index(fields=["user", "agent", "-created_at"], name="run_user_agent_recent"),
        ]

    def __str__(self) -> str:
        return f"run {self.public_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class RunEvent(models.Model):
    """Append-only: what happened to a run, in order. Streamed to the browser and the API."""

    class Type(models.TextChoices):
        STATUS = "status", "Status change"
        LOG = "log", "Log line"
        PROGRESS = "progress", "Progress"
        RESULT = "result", "Result"
        ERROR = "error", "Error"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=16, choices=Type.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="runevent_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.type}"

    def as_message(self) -> dict:
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.created_at.isoformat(),
            "payload": self.payload,
        }
