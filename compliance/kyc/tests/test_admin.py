import pytest
from django.core import mail

from compliance.audit.models import AuditEntry
from compliance.kyc.models import KycProfile, Notification
from compliance.kyc.services import kyc_submission_create
from marketplace.tests.factories import UserFactory

from .conftest import PDF, make_personal

pytestmark = pytest.mark.django_db


@pytest.fixture
def submission():
    return kyc_submission_create(user=UserFactory(), personal=make_personal(), document=PDF)


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def review_url(submission) -> str:
    return f"/admin/kyc/kycsubmission/{submission.pk}/review/"


def test_changelist_shows_no_personal_data(staff_client, submission):
    html = staff_client.get("/admin/kyc/kycsubmission/").content.decode()
    assert str(submission.public_id) in html and "Zelda" not in html
    assert not AuditEntry.objects.filter(action__startswith="kyc.view").exists()


def test_review_page_decrypts_and_logs_each_view(staff_client, submission):
    html = staff_client.get(review_url(submission)).content.decode()
    assert "Zelda Quixote-Marchetti" in html and "YA9876543" in html
    staff_client.get(review_url(submission))
    logs = AuditEntry.objects.filter(
        actor=staff_client.staff, action="kyc.view_personal_data", object_id=str(submission.pk)
    )
    assert logs.count() == 2


def test_document_view_serves_the_decrypted_file_and_is_logged(staff_client, submission):
    document = submission.documents.get()
    response = staff_client.get(f"/admin/kyc/kycsubmission/document/{document.pk}/")
    assert response.content == PDF and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="kyc.view_document")
    assert (entry.object_type, entry.object_id) == ("kyc.kycdocument", str(document.pk))
    assert entry.data["submission"] == str(submission.public_id)


def test_non_staff_cannot_see_documents(client, submission):
    client.force_login(UserFactory())
    document = submission.documents.get()
    for url in (review_url(submission), f"/admin/kyc/kycsubmission/document/{document.pk}/"):
        assert client.get(url).status_code == 302  # to the admin login
    assert not AuditEntry.objects.filter(action__startswith="kyc.view").exists()


def test_approve_grants_the_level_and_notifies(
    staff_client, submission, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(review_url(submission), {"decision": "approve", "level": "2"})
    assert response.status_code == 302
    profile = KycProfile.objects.get(user=submission.user)
    assert (profile.status, profile.level) == ("verified", 2)
    submission.refresh_from_db()
    assert submission.reviewed_by == staff_client.staff and submission.granted_level == 2
    assert Notification.objects.filter(user=submission.user, message__contains="level 2").exists()
    assert mail.outbox[-1].to == [submission.user.email] and "level 2" in mail.outbox[-1].body


def test_reject_needs_a_reason_and_shows_it(staff_client, submission, client):
    response = staff_client.post(review_url(submission), {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and "Give the user a reason." in response.content.decode()
    staff_client.post(
        review_url(submission), {"decision": "reject", "reason": "Document unreadable."}
    )
    profile = KycProfile.objects.get(user=submission.user)
    assert (profile.status, profile.reason, profile.level) == (
        "rejected",
        "Document unreadable.",
        0,
    )
    assert Notification.objects.filter(message__contains="Document unreadable.").exists()
    # Decided once: a second decision is refused.
    response = staff_client.post(review_url(submission), {"decision": "approve", "level": "2"})
    assert KycProfile.objects.get(user=submission.user).status == "rejected"


def test_category_requirement_is_editable(staff_client):
    assert staff_client.get("/admin/kyc/categorykycrequirement/add/").status_code == 200
