import pytest
from django.core.management import call_command

from compliance.kyc.models import KycDocument, KycSubmission
from compliance.kyc.services import kyc_document_content, kyc_personal_data, kyc_submission_create
from marketplace.tests.factories import UserFactory

from .conftest import JPEG, KEY_1, KEY_2, make_personal

pytestmark = pytest.mark.django_db


def test_rotation_reencrypts_under_the_active_key(settings, capsys):
    for n in range(3):
        kyc_submission_create(
            user=UserFactory(), personal=make_personal(full_name=f"P{n}"), document=JPEG
        )
    before = {row.pk: bytes(row.personal_ciphertext) for row in KycSubmission.objects.all()}
    settings.KYC_ENCRYPTION_KEYS = f"k1:{KEY_1},k2:{KEY_2}"
    settings.KYC_ACTIVE_KEY_ID = "k2"
    call_command("kyc_reencrypt", batch_size=2)
    assert "3 submissions and 3 documents" in capsys.readouterr().out
    assert set(KycSubmission.objects.values_list("key_id", flat=True)) == {"k2"}
    assert set(KycDocument.objects.values_list("key_id", flat=True)) == {"k2"}
    # The old key can go: everything opens with k2 alone.
    settings.KYC_ENCRYPTION_KEYS = f"k2:{KEY_2}"
    for submission in KycSubmission.objects.all():
        assert bytes(submission.personal_ciphertext) != before[submission.pk]
        assert kyc_personal_data(submission=submission).full_name.startswith("P")
    assert all(kyc_document_content(document=d) == JPEG for d in KycDocument.objects.all())
    call_command("kyc_reencrypt")
    assert "0 submissions and 0 documents" in capsys.readouterr().out
