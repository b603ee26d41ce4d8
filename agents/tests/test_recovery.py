"""Pipeline housekeeping: steps whose task or worker was lost are enqueued again (and failed after
too many attempts); the image of a failed or rejected submission is deleted, an approved one's
kept. Real PostgreSQL and the real Docker engine."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from agents.models import Submission, SubmissionStatus
from agents.services import MAX_STEP_ATTEMPTS, submission_image_remove, submissions_recover
from agents.tests.test_pipeline import developer  # noqa: F401 - fixture
from runtime.backends.base import get_backend

pytestmark = pytest.mark.django_db(transaction=True)


def _submission(developer, **fields) -> Submission:  # noqa: F811
    defaults = {
        "slug": "stalled",
        "version": "1.0.0",
        "manifest": {"slug": "stalled", "version": "1.0.0"},
        "archive": b"not a gzip archive",
        "archive_sha256": "0" * 64,
        "archive_size": 18,
    }
    return Submission.objects.create(developer=developer, **{**defaults, **fields})


def _age(submission: Submission, seconds: int) -> None:
    Submission.objects.filter(pk=submission.pk).update(
        updated_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_a_lost_task_is_enqueued_again(developer):  # noqa: F811
    lost = _submission(developer)  # submitted, but its task never ran
    _age(lost, 600)
    fresh = _submission(developer, slug="fresh")  # its task may still be on its way
    report = submissions_recover()
    assert report == {"requeued": [lost.pk], "failed": []}
    lost.refresh_from_db()
    # The re-enqueued step ran (eagerly here) and failed on the archive, with its reason.
    assert (lost.status, lost.failed_step) == (SubmissionStatus.FAILED, "build")
    assert "archive" in lost.error_message
    fresh.refresh_from_db()
    assert fresh.status == SubmissionStatus.SUBMITTED


def test_a_held_step_is_left_alone_and_an_expired_lease_is_taken_over(developer):  # noqa: F811
    now = timezone.now()
    held = _submission(
        developer, status=SubmissionStatus.BUILDING, lease_until=now + dt.timedelta(minutes=5)
    )
    expired = _submission(
        developer,
        slug="expired",
        status=SubmissionStatus.BUILDING,
        lease_until=now - dt.timedelta(seconds=1),
        step_attempts=1,
    )
    report = submissions_recover()
    assert report["requeued"] == [expired.pk]
    held.refresh_from_db()
    assert held.status == SubmissionStatus.BUILDING
    expired.refresh_from_db()
    assert expired.status == SubmissionStatus.FAILED and expired.step_attempts == 2


def test_a_step_that_keeps_losing_its_worker_fails(developer):  # noqa: F811
    stuck = _submission(
        developer,
        status=SubmissionStatus.SMOKE_TESTING,
        lease_until=timezone.now() - dt.timedelta(seconds=1),
        step_attempts=MAX_STEP_ATTEMPTS,
    )
    assert submissions_recover() == {"requeued": [], "failed": [stuck.pk]}
    stuck.refresh_from_db()
    assert (stuck.status, stuck.failed_step) == (SubmissionStatus.FAILED, "smoke")
    assert f"after {MAX_STEP_ATTEMPTS} attempts" in stuck.error_message
    assert stuck.events.last().to_status == SubmissionStatus.FAILED


@pytest.fixture
def throwaway_image(example_images, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM agentnexus/agent-python:1\nLABEL purpose=test\n")
    tag = f"agentnexus/agent-throwaway:{tmp_path.name.lower()}"
    get_backend().build_image(context_dir=tmp_path, tag=tag, labels={"agentnexus.test": "1"})
    yield tag
    get_backend().remove_image(tag)


def test_a_failed_submissions_image_is_removed_an_approved_ones_kept(
    developer,  # noqa: F811
    throwaway_image,
):
    backend = get_backend()
    approved = _submission(developer, status=SubmissionStatus.APPROVED, image_ref=throwaway_image)
    assert submission_image_remove(submission_id=approved.pk) is False
    assert backend.image_exists(throwaway_image)
    failed = _submission(
        developer,
        slug="failed",
        status=SubmissionStatus.FAILED,
        failed_step="smoke",
        image_ref=throwaway_image,
    )
    assert submission_image_remove(submission_id=failed.pk) is True
    assert not backend.image_exists(throwaway_image)
    assert backend.image_exists("agentnexus/agent-python:1"), "the base image stays"
    assert submission_image_remove(submission_id=failed.pk) is False, "idempotent"
    assert "removed image" in failed.log_lines.last().line
