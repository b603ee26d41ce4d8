import pytest
from django.core.exceptions import ImproperlyConfigured

from compliance.kyc import crypto

from .conftest import KEY_2


def test_round_trip_and_key_id():
    key_id, blob = crypto.encrypt(b"secret", aad=b"row-1")
    assert key_id == "k1" and b"secret" not in blob
    assert crypto.decrypt(blob, key_id=key_id, aad=b"row-1") == b"secret"


def test_nonce_is_fresh_each_time():
    assert crypto.encrypt(b"x", aad=b"a")[1] != crypto.encrypt(b"x", aad=b"a")[1]


def test_ciphertext_is_bound_to_its_row_and_untampered():
    key_id, blob = crypto.encrypt(b"secret", aad=b"row-1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key_id=key_id, aad=b"row-2")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, key_id=key_id, aad=b"row-1")


def test_unknown_key_id_fails(settings):
    _, blob = crypto.encrypt(b"secret", aad=b"a")
    settings.KYC_ENCRYPTION_KEYS = f"k2:{KEY_2}"
    settings.KYC_ACTIVE_KEY_ID = "k2"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, key_id="k1", aad=b"a")


@pytest.mark.parametrize(
    "keys,active",
    [("", ""), ("k1:not-base64!", ""), ("k1:" + "QUJD", ""), (f"k2:{KEY_2}", "k9")],
)
def test_bad_configuration_is_refused(settings, keys, active):
    settings.KYC_ENCRYPTION_KEYS = keys
    settings.KYC_ACTIVE_KEY_ID = active
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt(b"x", aad=b"a")


def test_generated_key_is_usable(settings):
    settings.KYC_ENCRYPTION_KEYS = f"new:{crypto.generate_key()}"
    settings.KYC_ACTIVE_KEY_ID = "new"
    key_id, blob = crypto.encrypt(b"x", aad=b"a")
    assert crypto.decrypt(blob, key_id=key_id, aad=b"a") == b"x"
