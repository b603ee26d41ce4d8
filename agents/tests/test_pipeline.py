"""The submission pipeline end to end: real PostgreSQL, real Docker, Celery eager.

A submission is uploaded as a .tar.gz build context, built with no network, scanned, smoke-tested
in the sandbox on its example inputs, then approved into the catalog.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from pathlib import Path

import pytest
import yaml
from django.core import mail

from agentnexus.core.errors import ApplicationError, ConflictError
from agents.models import (
    TRANSITIONS,
    SmokeResult,
    Submission,
    SubmissionStatus,
    SubmissionStep,
)
from agents.services import semver_key, submission_approve, submission_create, submission_transition
from compliance.audit.models import AuditEntry
from marketplace.models import Agent, AgentVersion
from marketplace.tests.factories import CategoryFactory, DeveloperProfileFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ECHO = ROOT / "agents" / "catalog" / "echo"

PIPELINE_PATH = [
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.BUILDING,
    SubmissionStatus.SCANNING,
    SubmissionStatus.SMOKE_TESTING,
    SubmissionStatus.PENDING_REVIEW,
]


# ------------------------------------------------------------------------------ stand-ins


# ------------------------------------------------------------------------------ helpers


def targz(files: dict[str, bytes | str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def echo_files(**manifest_changes) -> dict[str, bytes | str]:
    manifest = yaml.safe_load((ECHO / "agent.yaml").read_text())
    manifest.update(manifest_changes)
    return {
        "Dockerfile": (ECHO / "Dockerfile").read_bytes(),
        "app.py": (ECHO / "app.py").read_bytes(),
        "agent.yaml": yaml.safe_dump(manifest, sort_keys=False),
    }


BAD_OUTPUT_APP = """
from agentnexus_sdk import agent


@agent
def handle(input, ctx):
    ctx.log("about to answer with a number where a string belongs")
    return {"greeting": 42, "echo": input}


if __name__ == "__main__":
    handle.serve()
"""


@pytest.fixture
def developer(db):
    CategoryFactory(slug="general")  # transactional tests flush the seeded categories
    return DeveloperProfileFactory(payout_address="")


@pytest.fixture
def reviewer(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def built_images():
    """Remove the images the test's submissions built."""
    yield
    from runtime.backends.base import get_backend

    api = get_backend().api
    for image_ref in Submission.objects.exclude(image_ref="").values_list("image_ref", flat=True):
        with contextlib.suppress(Exception):  # best effort
            api.remove_image(image_ref, force=True)


def statuses(submission: Submission) -> list[str]:
    return list(submission.events.order_by("id").values_list("to_status", flat=True))


# ------------------------------------------------------------------------------ end to end


@pytest.mark.django_db(transaction=True)
def test_valid_submission_reaches_review_then_the_catalog(
    example_images, developer, reviewer, built_images
):
    submission = submission_create(developer=developer, archive_fileobj=targz(echo_files()))

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING_REVIEW, submission.error_message
    assert statuses(submission) == PIPELINE_PATH
    assert submission.image_ref.startswith("agentnexus/agent-echo:1.0.0-")
    assert submission.image_id.startswith("sha256:")
    steps = set(submission.log_lines.values_list("step", flat=True))
    assert steps == {SubmissionStep.BUILD, SubmissionStep.SCAN, SubmissionStep.SMOKE}
    seqs = list(submission.log_lines.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    smoke = list(submission.smoke_results.order_by("example_index"))
    assert [r.status for r in smoke] == [SmokeResult.Status.PASSED] * 2
    assert smoke[0].output == {"greeting": "hello Ada", "echo": {"name": "Ada"}}
    assert not Agent.objects.filter(slug="echo").exists()  # not before review

    version = submission_approve(submission=submission, reviewer=reviewer)

    agent = Agent.objects.select_related("current_version").get(slug="echo")
    assert agent.status == Agent.Status.ACTIVE
    assert agent.is_listed
    assert agent.current_version == version
    assert version.version == "1.0.0"
    assert version.image_ref == submission.image_ref
    assert version.timeout_seconds == 30 and version.memory_mb == 64
    assert version.example_input == {"name": "Ada"}
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.APPROVED
    assert submission.agent == agent and submission.agent_version == version
    assert submission.reviewer == reviewer
    assert statuses(submission) == [*PIPELINE_PATH, SubmissionStatus.APPROVED]
    assert AuditEntry.objects.filter(
        action="agents.submission.approve", object_id=str(submission.pk)
    ).exists()
    assert [m.subject for m in mail.outbox] == [
        "echo 1.0.0 passed its checks and awaits review",
        "echo 1.0.0 is listed",
    ]

    # A new version of the agent: it must be greater, and becomes current once approved.
    with pytest.raises(ConflictError) as excinfo:
        submission_create(
            developer=developer, agent=agent, archive_fileobj=targz(echo_files(version="1.0.0"))
        )
    assert "version" in excinfo.value.fields
    second = submission_create(
        developer=developer, agent=agent, archive_fileobj=targz(echo_files(version="1.1.0"))
    )
    second.refresh_from_db()
    assert second.status == SubmissionStatus.PENDING_REVIEW, second.error_message
    new_version = submission_approve(submission=second, reviewer=reviewer)
    agent.refresh_from_db()
    assert agent.current_version == new_version
    assert AgentVersion.objects.filter(agent=agent).count() == 2
    assert AgentVersion.objects.get(pk=version.pk).image_ref == submission.image_ref  # kept


@pytest.mark.django_db(transaction=True)
def test_output_not_matching_its_schema_fails_at_smoke_with_the_log(
    example_images, developer, built_images
):
    files = echo_files(slug="bad-output", name="Bad output")
    files["app.py"] = BAD_OUTPUT_APP

    submission = submission_create(developer=developer, archive_fileobj=targz(files))

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILED
    assert submission.failed_step == SubmissionStep.SMOKE
    assert "greeting" in submission.error_message
    assert statuses(submission) == [*PIPELINE_PATH[:-1], SubmissionStatus.FAILED]
    results = list(submission.smoke_results.order_by("example_index"))
    assert [r.status for r in results] == [SmokeResult.Status.FAILED] * 2
    assert results[0].output == {"greeting": 42, "echo": {"name": "Ada"}}
    assert "42 is not of type 'string'" in results[0].error
    smoke_log = "\n".join(
        submission.log_lines.filter(step=SubmissionStep.SMOKE).values_list("line", flat=True)
    )
    assert "a number where a string belongs" in smoke_log  # the agent's own log line
    assert "FAILED: Smoke test failed" in smoke_log
    assert not Agent.objects.filter(slug="bad-output").exists()
    assert mail.outbox[-1].subject == "bad-output 1.0.0 failed at the smoke step"
    with pytest.raises(ConflictError):
        submission_approve(submission=submission, reviewer=UserFactory(is_staff=True))


@pytest.mark.django_db(transaction=True)
def test_build_error_fails_at_build_with_the_log(example_images, developer, built_images):
    files = echo_files(slug="broken-build")
    files["Dockerfile"] = "FROM agentnexus/agent-python:1\nRUN exit 3\n"

    submission = submission_create(developer=developer, archive_fileobj=targz(files))

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.FAILED
    assert submission.failed_step == SubmissionStep.BUILD
    assert statuses(submission) == [
        SubmissionStatus.SUBMITTED,
        SubmissionStatus.BUILDING,
        SubmissionStatus.FAILED,
    ]
    assert submission.log_lines.filter(step=SubmissionStep.BUILD, line__contains="exit 3").exists()


# ------------------------------------------------------------------------------ create checks


@pytest.mark.django_db
def test_invalid_manifest_reports_every_problem_and_stores_nothing(developer):
    files = echo_files(version="one", resources={"memory_mb": "lots"})
    files["agent.yaml"] = files["agent.yaml"].replace("name: Echo\n", "")

    with pytest.raises(ApplicationError) as excinfo:
        submission_create(developer=developer, archive_fileobj=targz(files))

    fields = excinfo.value.fields
    assert len(fields) >= 3, fields
    assert any("version" in path for path in fields)
    assert any("memory_mb" in path for path in fields)
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_archive_without_manifest_or_with_a_taken_slug_is_refused(developer):
    with pytest.raises(ApplicationError) as excinfo:
        submission_create(
            developer=developer, archive_fileobj=targz({"Dockerfile": "FROM scratch\n"})
        )
    assert "archive" in excinfo.value.fields

    from marketplace.tests.factories import AgentFactory

    AgentFactory(slug="echo")
    with pytest.raises(ConflictError) as excinfo:
        submission_create(developer=developer, archive_fileobj=targz(echo_files()))
    assert "slug" in excinfo.value.fields
    assert Submission.objects.count() == 0


def test_semver_precedence():
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0", "1.0.1"]
    shuffled = [ordered[i] for i in (3, 5, 0, 4, 2, 1)]
    assert sorted(shuffled, key=semver_key) == ordered
    assert semver_key("1.10.0") > semver_key("1.9.9")


# ------------------------------------------------------------------------------ state machine


def test_transition_table_is_closed():
    assert set(TRANSITIONS) == set(SubmissionStatus.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(SubmissionStatus.values)
    for terminal in (SubmissionStatus.APPROVED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED):
        assert TRANSITIONS[terminal] == frozenset()
    assert SubmissionStatus.APPROVED in TRANSITIONS[SubmissionStatus.PENDING_REVIEW]
    assert SubmissionStatus.APPROVED not in TRANSITIONS[SubmissionStatus.SMOKE_TESTING]


@pytest.mark.django_db
def test_transition_refuses_moves_outside_the_table(developer):
    submission = Submission.objects.create(
        developer=developer,
        slug="x",
        version="1.0.0",
        manifest={},
        archive=b"x",
        archive_sha256="0" * 64,
        archive_size=1,
    )
    assert submission_transition(submission_id=submission.pk, to=SubmissionStatus.APPROVED) is None
    moved = submission_transition(
        submission_id=submission.pk, to=SubmissionStatus.BUILDING, message="go"
    )
    assert moved.status == SubmissionStatus.BUILDING
    assert list(submission.events.values_list("from_status", "to_status", "message")) == [
        (SubmissionStatus.SUBMITTED, SubmissionStatus.BUILDING, "go")
    ]
