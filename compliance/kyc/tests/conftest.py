import base64
from datetime import date

import pytest

from compliance.kyc.services import PersonalData

KEY_1 = base64.b64encode(b"\x01" * 32).decode()
KEY_2 = base64.b64encode(b"\x02" * 32).decode()

# Minimal files with real magic bytes.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def kyc_settings(settings):
    settings.KYC_ENCRYPTION_KEYS = f"k1:{KEY_1}"
    settings.KYC_ACTIVE_KEY_ID = "k1"
    settings.KYC_PROVIDER = "manual"
    settings.ROOT_URLCONF = "compliance.kyc.tests.urls"
    return settings


def make_personal(**overrides) -> PersonalData:
    values = {
        "full_name": "Zelda Quixote-Marchetti",
        "date_of_birth": date(1987, 3, 14),
        "nationality": "IT",
        "address": "17 Via Sconosciuta, Bergamo",
        "document_type": "passport",
        "document_number": "YA9876543",
        "document_expiry": date(2034, 6, 30),
    }
    values.update(overrides)
    return PersonalData(**values)


@pytest.fixture
def personal() -> PersonalData:
    return make_personal()
