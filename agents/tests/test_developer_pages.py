"""The developer's pages: submit an archive, follow the pipeline, see the dashboard."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agents.models import Submission
from agents.tests.test_pipeline import built_images, developer, echo_files, targz  # noqa: F401
from marketplace.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, files):
    archive = SimpleUploadedFile("agent.tar.gz", targz(files).getvalue(), "application/gzip")
    return client.post("/developer/submit/", {"archive": archive})


def test_submit_follow_and_dashboard(client, developer, example_images, built_images):  # noqa: F811
    client.force_login(developer.user)
    response = upload(client, echo_files())
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/developer/submissions/{submission.public_id}/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Pipeline log" in page.content
    status = client.get(f"/developer/submissions/{submission.public_id}/status/?after=0").json()
    assert status["status"] == "pending_review", status
    assert status["lines"], "the step logs are shown"
    dashboard = client.get("/developer/")
    assert dashboard.status_code == 200
    assert b"echo" in dashboard.content and b"Pending review" in dashboard.content


def test_bad_manifest_is_shown_beside_the_field(client, developer):  # noqa: F811
    client.force_login(developer.user)
    response = upload(client, echo_files(version="not-semver", input_schema="nope"))
    assert response.status_code == 400
    assert not Submission.objects.exists()
    assert response.context["form"].errors


def test_only_developers_and_their_own_submissions(client, developer, example_images, built_images):  # noqa: F811
    client.force_login(developer.user)
    upload(client, echo_files())
    submission = Submission.objects.get()
    client.force_login(UserFactory())
    assert client.get("/developer/").status_code == 302  # not a developer: become one first
    assert client.get(f"/developer/submissions/{submission.public_id}/").status_code == 404
