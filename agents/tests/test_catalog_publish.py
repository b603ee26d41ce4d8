"""`manage.py catalog_publish`: the catalog agents (agents/catalog/<slug>/) go through the real
submission pipeline (real PostgreSQL, real Docker; in CI a missing Docker engine fails the test
through the `runtime_images` fixture, never skips it)."""

from __future__ import annotations

import contextlib
import importlib
import io
import shutil
import tarfile
from functools import partial

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from agentnexus.celery import app as celery_app
from agents import catalog_publish as publishing
from agents.catalog_publish import (
    CATALOG_DIR,
    DEFAULT_DEVELOPER_EMAIL,
    REVIEWER_EMAIL,
    catalog_agent_dirs,
    catalog_archive,
    catalog_developer,
    catalog_publish,
)
from agents.manifest import manifest_load
from agents.models import SmokeResult, Submission, SubmissionStatus, SubmissionStep
from agents.services import submission_create
from compliance.audit.models import AuditEntry
from marketplace.models import Agent, AgentVersion
from marketplace.tests.factories import CategoryFactory
from runtime.backends.base import InfrastructureError

SEEDED_CATEGORIES = {
    row[0]
    for row in importlib.import_module(
        "marketplace.migrations.0002_categories_and_search"
    ).CATEGORIES
}


def publish(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog_publish", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def built_images():
    """Remove the images the test's submissions built."""
    yield
    from runtime.backends.base import get_backend

    api = get_backend().api
    for image_ref in Submission.objects.exclude(image_ref="").values_list("image_ref", flat=True):
        with contextlib.suppress(Exception):  # best effort
            api.remove_image(image_ref, force=True)


# ------------------------------------------------------------------------------ no Docker needed


def test_every_catalog_manifest_is_valid_and_in_a_seeded_category():
    dirs = catalog_agent_dirs()
    assert [d.name for d in dirs] == [
        "csv-analyzer",
        "echo",
        "hyperliquid-paper-trader",
        "knowledge-qa",
        "page-summarizer",
        "pdf-extractor",
    ]
    for directory in dirs:
        manifest = manifest_load((directory / "agent.yaml").read_text())
        assert manifest.slug == directory.name
        assert manifest.category in SEEDED_CATEGORIES
        assert (directory / manifest.dockerfile).is_file()


def test_the_archive_is_the_directory_reproducibly_without_caches(tmp_path):
    echo = tmp_path / "echo"
    shutil.copytree(CATALOG_DIR / "echo", echo)
    (echo / "__pycache__").mkdir()
    (echo / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")

    first = catalog_archive(directory=echo).getvalue()

    assert catalog_archive(directory=echo).getvalue() == first
    with tarfile.open(fileobj=io.BytesIO(first), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {".dockerignore", "Dockerfile", "agent.yaml", "app.py"}
        assert {(m.uid, m.mtime, m.mode) for m in members.values()} == {(0, 0, 0o644)}
        assert tar.extractfile("app.py").read() == (echo / "app.py").read_bytes()


@pytest.mark.django_db
def test_an_unknown_slug_is_refused_before_anything_is_created():
    with pytest.raises(CommandError, match="Not in the catalog: nope"):
        publish("--only", "echo", "--only", "nope")
    assert not User.objects.filter(email__in=[DEFAULT_DEVELOPER_EMAIL, REVIEWER_EMAIL]).exists()


@pytest.mark.django_db
def test_without_docker_nothing_is_submitted(monkeypatch):
    class NoDocker:
        def image_exists(self, image: str) -> bool:
            raise InfrastructureError("Docker is unavailable: connection refused")

    monkeypatch.setattr(publishing, "get_backend", NoDocker)

    with pytest.raises(CommandError, match="Docker is unavailable.*nothing was submitted"):
        publish("--only", "echo")
    assert Submission.objects.count() == 0
    assert not Agent.objects.filter(slug="echo").exists()


# ------------------------------------------------------------------------------ end to end


@pytest.mark.django_db(transaction=True)
def test_publishes_through_the_pipeline_once_then_new_versions_only(
    runtime_images, built_images, tmp_path
):
    CategoryFactory(slug="general")  # transactional tests flush the seeded categories
    eager_before = celery_app.conf.task_always_eager

    out = publish("--only", "echo")

    submission = Submission.objects.get(slug="echo")
    assert out.splitlines()[-1] == (
        f"echo 1.0.0: published ({submission.image_ref}; chain: no deployment)"
    )
    assert submission.status == SubmissionStatus.APPROVED, submission.error_message
    assert list(submission.events.order_by("id").values_list("to_status", flat=True)) == [
        SubmissionStatus.SUBMITTED,
        SubmissionStatus.BUILDING,
        SubmissionStatus.SCANNING,
        SubmissionStatus.SMOKE_TESTING,
        SubmissionStatus.PENDING_REVIEW,
        SubmissionStatus.APPROVED,
    ]
    assert set(submission.log_lines.values_list("step", flat=True)) == {
        SubmissionStep.BUILD,
        SubmissionStep.SCAN,
        SubmissionStep.SMOKE,
    }
    assert [r.status for r in submission.smoke_results.order_by("example_index")] == [
        SmokeResult.Status.PASSED
    ] * 2
    assert submission.image_ref.startswith("agentnexus/agent-echo:1.0.0-")
    assert submission.archive_sha256 and submission.archive_size > 0

    developer = submission.developer
    assert developer.user.email == DEFAULT_DEVELOPER_EMAIL and developer.verified
    assert not developer.user.has_usable_password()
    reviewer = submission.reviewer
    assert reviewer.email == REVIEWER_EMAIL and reviewer.is_staff
    assert not reviewer.has_usable_password()
    assert AuditEntry.objects.filter(
        action="agents.submission.approve", object_id=str(submission.pk)
    ).exists()

    agent = Agent.objects.select_related("current_version").get(slug="echo")
    assert agent.is_listed and agent.developer == developer
    assert agent.current_version == submission.agent_version
    assert agent.current_version.version == "1.0.0"
    assert agent.current_version.image_ref == submission.image_ref  # the pipeline's image
    assert celery_app.conf.task_always_eager == eager_before  # restored

    # Again: nothing to do.
    assert publish("--only", "echo").splitlines() == ["echo 1.0.0: unchanged"]
    assert Submission.objects.count() == 1

    # A newer manifest version is submitted as a new version of the same agent.
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR / "echo", root / "echo")
    data = yaml.safe_load((root / "echo" / "agent.yaml").read_text())
    data["version"] = "1.1.0"
    (root / "echo" / "agent.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    [result] = catalog_publish(root=root)

    assert (result.slug, result.version, result.outcome) == ("echo", "1.1.0", "published")
    second = result.submission
    assert second.status == SubmissionStatus.APPROVED and second.agent == agent
    agent.refresh_from_db()
    assert agent.current_version.version == "1.1.0"
    assert agent.current_version.image_ref == second.image_ref != submission.image_ref
    assert AgentVersion.objects.filter(agent=agent).count() == 2
    assert Submission.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_agent_is_reported_with_its_step_and_exits_non_zero(
    runtime_images, built_images, tmp_path, monkeypatch
):
    CategoryFactory(slug="general")
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR / "echo", root / "echo")
    (root / "echo" / "Dockerfile").write_text("FROM agentnexus/agent-python:1\nRUN exit 3\n")
    command = importlib.import_module("agents.management.commands.catalog_publish")
    monkeypatch.setattr(command, "catalog_publish", partial(catalog_publish, root=root))
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 of 1 catalog agents failed"):
        call_command("catalog_publish", stdout=out)

    submission = Submission.objects.get(slug="echo")
    assert submission.status == SubmissionStatus.FAILED
    assert out.getvalue().splitlines()[-1] == (
        f"echo 1.0.0: failed at build: {submission.error_message}"
    )
    assert not Agent.objects.filter(slug="echo").exists()


@pytest.mark.django_db(transaction=True)
def test_a_submission_an_earlier_run_left_in_review_is_approved_not_submitted_again(
    runtime_images, built_images
):
    CategoryFactory(slug="general")
    left = submission_create(
        developer=catalog_developer(),
        archive_fileobj=catalog_archive(directory=CATALOG_DIR / "echo"),
    )
    left.refresh_from_db()
    assert left.status == SubmissionStatus.PENDING_REVIEW, left.error_message

    out = publish("--only", "echo")

    assert out.splitlines()[-1].startswith(f"echo 1.0.0: published ({left.image_ref};")
    left.refresh_from_db()
    assert left.status == SubmissionStatus.APPROVED
    assert Submission.objects.count() == 1
    assert Agent.objects.get(slug="echo").current_version.image_ref == left.image_ref
