"""Personal fields and documents never appear in clear text in the database or the logs."""

import logging

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from marketplace.tests.factories import UserFactory

from .conftest import PNG

pytestmark = pytest.mark.django_db

SECRETS = {
    "full_name": "Ottoline Fenwick-Zabala",
    "address": "991 Quarantine Lane, Ulaanbaatar",
    "document_number": "QX55501234",
    "nationality": "MN",
}
DOCUMENT = PNG + b"UNIQUE-DOCUMENT-MARKER-7f3a9c" * 10


def database_dump() -> bytes:
    """Every row of every KYC table, as bytes (text and bytea columns alike)."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("kyc").get_models():
            cursor.execute(f'SELECT * FROM "{model._meta.db_table}"')  # noqa: S608 - table names from models
            for row in cursor.fetchall():
                for value in row:
                    chunks.append(
                        bytes(value)
                        if isinstance(value, memoryview | bytes)
                        else str(value).encode()
                    )
    return b"\n".join(chunks)


def test_nothing_personal_in_clear_text(client, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    user = UserFactory()
    client.force_login(user)
    data = {
        **SECRETS,
        "date_of_birth": "1979-11-05",
        "document_type": "id_card",
        "document_expiry": "2033-01-31",
        "document": SimpleUploadedFile("id.png", DOCUMENT, content_type="image/png"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/kyc/", data).status_code == 302
    # Staff review and a document view decrypt; neither may leak into logs.
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    from compliance.kyc.models import KycDocument, KycSubmission

    submission = KycSubmission.objects.get()
    assert (
        SECRETS["full_name"]
        in client.get(f"/admin/kyc/kycsubmission/{submission.pk}/review/").content.decode()
    )
    document = KycDocument.objects.get()
    assert client.get(f"/admin/kyc/kycsubmission/document/{document.pk}/").content == DOCUMENT

    dump = database_dump()
    assert dump  # the scan did see the rows
    logs = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    for value in [*SECRETS.values(), "1979-11-05", "UNIQUE-DOCUMENT-MARKER"]:
        if value == "MN":
            continue  # two letters occur by chance in ciphertext; checked below as JSON
        assert value.encode() not in dump, value
        assert value not in logs, value
    assert b'"nationality": "MN"' not in dump
