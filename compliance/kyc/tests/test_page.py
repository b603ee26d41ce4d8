import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from compliance.kyc.models import KycDocument, KycProfile, KycSubmission, Notification
from compliance.kyc.services import kyc_document_content, kyc_personal_data
from marketplace.tests.factories import UserFactory

from .conftest import JPEG, PDF, PNG

pytestmark = pytest.mark.django_db


def form_data(document: SimpleUploadedFile, **overrides) -> dict:
    data = {
        "full_name": "Zelda Quixote-Marchetti",
        "date_of_birth": "1987-03-14",
        "nationality": "it",
        "address": "17 Via Sconosciuta, Bergamo",
        "document_type": "passport",
        "document_number": "YA9876543",
        "document_expiry": "2034-06-30",
        "document": document,
    }
    data.update(overrides)
    return data


@pytest.fixture
def member(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get("/kyc/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_shows_status_level_and_what_levels_unlock(client, member):
    html = client.get("/kyc/").content.decode()
    assert 'data-kyc-status="none"' in html and "Level 0" in html
    for limit in ("$100", "$1,000", "$10,000", "Unlimited"):
        assert limit in html
    assert 'enctype="multipart/form-data"' in html and 'name="document_number"' in html


@pytest.mark.parametrize(
    "content,kind",
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (PDF, "application/pdf")],
    ids=["png", "jpeg", "pdf"],
)
def test_submission_is_stored_encrypted_and_pending(
    client, member, content, kind, django_capture_on_commit_callbacks
):
    # The name lies (".exe"): the type comes from the content.
    upload = SimpleUploadedFile("scan.exe", content, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/kyc/", form_data(upload))
    assert response.status_code == 302
    submission = KycSubmission.objects.get(user=member)
    assert submission.status == "pending" and submission.key_id == "k1"
    personal = kyc_personal_data(submission=submission)
    assert personal.full_name == "Zelda Quixote-Marchetti" and personal.nationality == "IT"
    document = KycDocument.objects.get(submission=submission)
    assert document.content_type == kind and kyc_document_content(document=document) == content
    assert KycProfile.objects.get(user=member).status == "pending"
    html = client.get("/kyc/").content.decode()
    assert 'data-kyc-status="pending"' in html and "being reviewed" in html
    assert Notification.objects.filter(user=member).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [member.email]


def test_content_that_is_not_an_image_or_pdf_is_refused(client, member):
    upload = SimpleUploadedFile(
        "passport.png", b"MZ\x90\x00 not really a png", content_type="image/png"
    )
    response = client.post("/kyc/", form_data(upload))
    assert response.status_code == 400
    assert "Upload a JPEG or PNG image or a PDF." in response.content.decode()
    assert not KycSubmission.objects.exists()


def test_too_large_documents_are_refused(client, member, settings):
    settings.KYC_MAX_DOCUMENT_BYTES = 1024
    upload = SimpleUploadedFile("p.png", PNG + b"\x00" * 2048, content_type="image/png")
    response = client.post("/kyc/", form_data(upload))
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert not KycSubmission.objects.exists()


def test_expired_document_is_refused_beside_the_field(client, member):
    upload = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    response = client.post("/kyc/", form_data(upload, document_expiry="2020-01-01"))
    assert response.status_code == 400 and "The document has expired." in response.content.decode()
    assert not KycSubmission.objects.exists()


def test_a_second_submission_waits_for_the_first(client, member):
    client.post("/kyc/", form_data(SimpleUploadedFile("a.png", PNG)))
    response = client.post("/kyc/", form_data(SimpleUploadedFile("b.png", PNG)))
    assert response.status_code == 400 and "still being reviewed" in response.content.decode()
    assert KycSubmission.objects.count() == 1


def test_rejection_reason_is_shown(client, member):
    KycProfile.objects.create(user=member, status="rejected", reason="The photo is blurred.")
    html = client.get("/kyc/").content.decode()
    assert 'data-kyc-status="rejected"' in html and "The photo is blurred." in html


def test_the_form_is_csrf_protected(member):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post("/kyc/", form_data(SimpleUploadedFile("a.png", PNG)))
    assert response.status_code == 403 and not KycSubmission.objects.exists()
