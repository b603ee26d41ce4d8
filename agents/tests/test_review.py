"""The admin review queue: the review page, approve and reject-with-feedback (real PostgreSQL).

Submissions here are put in `pending_review` directly (the pipeline itself is test_pipeline.py);
approval does not need the image to exist.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from django.core import mail
from django.urls import reverse

from agentnexus.core.errors import ConflictError
from agents.models import (
    FindingSeverity,
    ScanFinding,
    SmokeResult,
    Submission,
    SubmissionStatus,
    SubmissionStep,
    SubmissionStepLog,
)
from agents.services import submission_approve
from agents.tests.test_pipeline import ECHO
from compliance.audit.models import AuditEntry
from marketplace.models import Agent
from marketplace.tests.factories import (
    AgentFactory,
    CategoryFactory,
    DeveloperProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def echo_manifest(**changes) -> dict:
    from agents.manifest import manifest_validate

    data = yaml.safe_load((ECHO / "agent.yaml").read_text())
    data.update(changes)
    return manifest_validate(data).as_dict()


def pending(developer, *, agent=None, **manifest_changes) -> Submission:
    manifest = echo_manifest(**manifest_changes)
    submission = Submission.objects.create(
        developer=developer,
        agent=agent,
        slug=manifest["slug"],
        version=manifest["version"],
        manifest=manifest,
        archive=b"not used here",
        archive_sha256="0" * 64,
        archive_size=13,
        image_ref="agentnexus/catalog-echo:1.0.0",
        image_id="sha256:" + "1" * 64,
        status=SubmissionStatus.PENDING_REVIEW,
    )
    ScanFinding.objects.create(
        submission=submission,
        check_name="image_size",
        severity=FindingSeverity.WARNING,
        message="The image is 148 MB.",
    )
    SmokeResult.objects.create(
        submission=submission,
        example_index=0,
        status=SmokeResult.Status.PASSED,
        input={"name": "Ada"},
        output={"greeting": "hello Ada", "echo": {"name": "Ada"}},
        duration_ms=420,
    )
    SubmissionStepLog.objects.create(
        submission=submission, step=SubmissionStep.BUILD, seq=1, line="Step 1/3 : FROM base"
    )
    return submission


@pytest.fixture
def developer():
    CategoryFactory(slug="general")
    return DeveloperProfileFactory()


@pytest.fixture
def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def test_queue_lists_pending_reviews_first(admin_client, developer):
    older_failed = pending(developer, slug="first-failed")
    Submission.objects.filter(pk=older_failed.pk).update(status=SubmissionStatus.FAILED)
    waiting = pending(developer, slug="waiting")

    response = admin_client.get(reverse("admin:agents_submission_changelist"))

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [s.pk for s in rows] == [waiting.pk, older_failed.pk]


def test_review_page_shows_manifest_diff_findings_smoke_and_logs(admin_client, developer):
    agent = AgentFactory(slug="echo", developer=developer, summary="The old summary.")
    previous = pending(developer, agent=agent)
    Submission.objects.filter(pk=previous.pk).update(status=SubmissionStatus.APPROVED)
    submission = pending(developer, agent=agent, version="1.1.0", summary="A new summary.")

    response = admin_client.get(reverse("admin:agents_submission_change", args=[submission.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "&quot;summary&quot;: &quot;A new summary.&quot;" in html  # the pretty manifest
    diff = response.context["manifest_diff"]
    assert '-  "version": "1.0.0"' in diff and '+  "version": "1.1.0"' in diff
    assert '+  "summary": "A new summary."' in diff
    assert "The image is 148 MB." in html
    assert "hello Ada" in html
    assert "Step 1/3 : FROM base" in html
    assert reverse("admin:agents_submission_approve", args=[submission.pk]) in html
    assert reverse("admin:agents_submission_reject", args=[submission.pk]) in html


def test_approve_through_the_admin_lists_the_agent(admin_client, developer):
    submission = pending(developer)
    url = reverse("admin:agents_submission_approve", args=[submission.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url)

    assert response.status_code == 302
    agent = Agent.objects.get(slug="echo")
    assert agent.is_listed and agent.current_version.version == "1.0.0"
    assert agent.current_version.image_ref == "agentnexus/catalog-echo:1.0.0"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.APPROVED
    assert submission.reviewer == admin_client.staff
    assert AuditEntry.objects.filter(action="agents.submission.approve").count() == 1
    # A second approval (double click, another admin) changes nothing.
    admin_client.post(url)
    assert Agent.objects.get(slug="echo").versions.count() == 1


def test_rejected_submission_never_reaches_the_catalog(
    admin_client, developer, django_capture_on_commit_callbacks
):
    submission = pending(developer)
    url = reverse("admin:agents_submission_reject", args=[submission.pk])

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"feedback": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING_REVIEW

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"feedback": "Describe what the agent does with the input."}
        )

    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REJECTED
    assert submission.feedback == "Describe what the agent does with the input."
    assert list(submission.events.values_list("from_status", "to_status", "actor")) == [
        (SubmissionStatus.PENDING_REVIEW, SubmissionStatus.REJECTED, admin_client.staff.pk)
    ]
    assert AuditEntry.objects.filter(
        action="agents.submission.reject", object_id=str(submission.pk)
    ).exists()
    assert mail.outbox[-1].subject == "echo 1.0.0 was not approved"
    assert "Describe what the agent does" in mail.outbox[-1].body
    assert not Agent.objects.filter(slug="echo").exists()
    with pytest.raises(ConflictError):
        submission_approve(submission=submission, reviewer=admin_client.staff)
    assert not Agent.objects.filter(slug="echo").exists()


def test_staff_without_change_permission_cannot_review(client, developer):
    submission = pending(developer)
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_submission"))
    client.force_login(viewer)

    assert (
        client.get(reverse("admin:agents_submission_change", args=[submission.pk])).status_code
        == 200
    )
    assert (
        client.post(reverse("admin:agents_submission_approve", args=[submission.pk])).status_code
        == 403
    )
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING_REVIEW


def test_manifest_round_trips_through_the_stored_json():
    manifest = echo_manifest()
    from agents.manifest import manifest_validate

    assert manifest_validate(copy.deepcopy(manifest)).as_dict() == manifest
