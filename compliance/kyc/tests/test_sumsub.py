"""The Sumsub-style adapter against a fake of its HTTP API on loopback, and its webhooks."""

import json
import time

import pytest
from django.core import mail

from agentnexus.core.errors import ApplicationError
from compliance.kyc.models import KycProfile, KycSubmission, KycWebhookDigest
from compliance.kyc.providers.sumsub import SumsubProvider, map_status, webhook_digest
from compliance.kyc.services import kyc_submission_create, kyc_webhook_digests_prune
from marketplace.tests.factories import UserFactory

from .conftest import PNG, make_personal
from .fake_sumsub import FakeSumsub

pytestmark = pytest.mark.django_db
WEBHOOK_SECRET = "whsec-test"
URL = "/kyc/webhooks/sumsub/"


@pytest.fixture
def fake(settings):
    with FakeSumsub(app_token="app-tok", secret="api-secret") as server:
        settings.KYC_PROVIDER = "sumsub"
        settings.KYC_SUMSUB_BASE_URL = server.url
        settings.KYC_SUMSUB_APP_TOKEN = "app-tok"
        settings.KYC_SUMSUB_SECRET_KEY = "api-secret"
        settings.KYC_SUMSUB_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.KYC_SUMSUB_LEVEL_NAME = "id-and-liveness"
        yield server


@pytest.fixture
def submission(fake):
    return kyc_submission_create(user=UserFactory(), personal=make_personal(), document=PNG)


def deliver(client, payload: dict, *, secret=WEBHOOK_SECRET, digest=None, alg="HMAC_SHA256_HEX"):
    body = json.dumps(payload).encode()
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_PAYLOAD_DIGEST=digest or webhook_digest(secret=secret, body=body, algorithm=alg),
        HTTP_X_PAYLOAD_DIGEST_ALG=alg,
    )


def reviewed(submission, answer="GREEN", *, created_ms=None, **result) -> dict:
    return {
        "applicantId": submission.provider_ref,
        "externalUserId": str(submission.public_id),
        "type": "applicantReviewed",
        "reviewStatus": "completed",
        "createdAtMs": created_ms if created_ms is not None else int(time.time() * 1000),
        "reviewResult": {"reviewAnswer": answer, **result},
    }


def test_submission_creates_an_applicant_with_signed_requests(fake, submission):
    assert submission.provider == "sumsub" and submission.provider_ref in fake.applicants
    applicant = fake.applicants[submission.provider_ref]
    assert applicant["externalUserId"] == str(submission.public_id)
    assert applicant["levelName"] == "id-and-liveness"
    assert applicant["fixedInfo"]["idDocs"][0]["number"] == "YA9876543"


def test_access_token(fake, submission):
    token = SumsubProvider().access_token(external_user_id=str(submission.public_id))
    assert token.startswith("_act-")


def test_a_wrong_api_secret_is_refused_by_the_provider(fake, settings):
    settings.KYC_SUMSUB_SECRET_KEY = "wrong"
    with pytest.raises(ApplicationError, match="HTTP 401"):
        kyc_submission_create(user=UserFactory(), personal=make_personal(), document=PNG)
    assert not KycSubmission.objects.exists()


def test_provider_down_keeps_nothing(fake, settings):
    settings.KYC_SUMSUB_BASE_URL = "http://127.0.0.1:9"
    with pytest.raises(ApplicationError, match="unreachable"):
        kyc_submission_create(user=UserFactory(), personal=make_personal(), document=PNG)
    assert not KycSubmission.objects.exists()


def test_good_webhook_verifies(client, submission, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, reviewed(submission))
    assert response.status_code == 200 and response.json()["outcome"] == "verified"
    profile = KycProfile.objects.get(user=submission.user)
    assert (profile.status, profile.level) == ("verified", 2)
    assert "level 2" in mail.outbox[-1].body


@pytest.mark.parametrize("alg", ["HMAC_SHA1_HEX", "HMAC_SHA512_HEX"])
def test_other_digest_algorithms(client, submission, alg):
    assert deliver(client, reviewed(submission), alg=alg).status_code == 200


def test_rejection_maps_to_rejected_with_reason(client, submission):
    payload = reviewed(
        submission, "RED", reviewRejectType="RETRY", rejectLabels=["BAD_PROOF_OF_IDENTITY"]
    )
    assert deliver(client, payload).json()["outcome"] == "rejected"
    profile = KycProfile.objects.get(user=submission.user)
    assert profile.status == "rejected" and "BAD_PROOF_OF_IDENTITY" in profile.reason
    assert "submit again" in profile.reason


def test_bad_signature_is_refused(client, submission):
    assert deliver(client, reviewed(submission), secret="not-the-secret").status_code == 401
    assert deliver(client, reviewed(submission), digest="0" * 64).status_code == 401
    assert deliver(client, reviewed(submission), digest="ab" * 16, alg="MD5").status_code == 401
    assert KycProfile.objects.get(user=submission.user).status == "pending"


def test_replayed_webhook_is_refused(client, submission):
    payload = reviewed(submission)
    assert deliver(client, payload).status_code == 200
    assert deliver(client, payload).status_code == 409
    assert KycWebhookDigest.objects.count() == 1


def test_stale_webhook_is_refused(client, submission, settings):
    settings.KYC_WEBHOOK_TOLERANCE_SECONDS = 300
    old = int((time.time() - 600) * 1000)
    assert deliver(client, reviewed(submission, created_ms=old)).status_code == 401
    assert (
        deliver(client, reviewed(submission, created_ms="2001-01-01 00:00:00.000")).status_code
        == 401
    )
    assert KycProfile.objects.get(user=submission.user).status == "pending"


def test_unknown_applicant_and_provider(client, submission):
    payload = reviewed(submission)
    payload["externalUserId"] = "00000000-0000-0000-0000-000000000000"
    payload["applicantId"] = "nobody"
    assert deliver(client, payload).status_code == 404
    assert (
        client.post("/kyc/webhooks/nope/", b"{}", content_type="application/json").status_code
        == 404
    )
    assert (
        client.post("/kyc/webhooks/manual/", b"{}", content_type="application/json").status_code
        == 404
    )


def test_pending_webhooks_change_nothing(client, submission):
    payload = {**reviewed(submission), "type": "applicantPending", "reviewResult": {}}
    assert deliver(client, payload).json()["outcome"] == "ignored"


def test_status_mapping():
    assert map_status({"type": "applicantReviewed", "reviewResult": {"reviewAnswer": "GREEN"}}) == (
        "verified",
        "",
    )
    status, reason = map_status(
        {
            "type": "applicantReviewed",
            "reviewResult": {"reviewAnswer": "RED", "moderationComment": "Expired"},
        }
    )
    assert (status, reason) == ("rejected", "Expired")
    assert map_status({"type": "applicantOnHold"})[0] == "pending"


def test_old_digests_are_pruned(client, submission):
    deliver(client, reviewed(submission))
    assert kyc_webhook_digests_prune() == 0
    KycWebhookDigest.objects.update(received_at="2000-01-01T00:00:00Z")
    assert kyc_webhook_digests_prune() == 1
