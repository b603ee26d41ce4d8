"""AES-256-GCM for KYC data at rest, with keys from the environment and rotation by key id.

    KYC_ENCRYPTION_KEYS = "2025a:<base64 32 bytes>,2026a:<base64 32 bytes>"
    KYC_ACTIVE_KEY_ID = "2026a"        # new ciphertext is sealed with this key

Every ciphertext is stored beside the id of its key; decryption picks the key by that id, so an
old key stays listed until `manage.py kyc_reencrypt` has moved everything to the active one.
A blob is `nonce (12 bytes) || ciphertext+tag`; the associated data binds it to its row.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class DecryptionError(Exception):
    """The ciphertext does not open: wrong or missing key, or the data was altered."""


@functools.lru_cache(maxsize=8)
def _parse_keys(raw: str) -> dict[str, AESGCM]:
    keys: dict[str, AESGCM] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise ImproperlyConfigured("KYC_ENCRYPTION_KEYS entries look like 'kid:base64key'.")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"KYC key {key_id!r} is not valid base64.") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"KYC key {key_id!r} must be 32 bytes (AES-256).")
        if key_id in keys:
            raise ImproperlyConfigured(f"KYC key id {key_id!r} is listed twice.")
        keys[key_id] = AESGCM(key)
    return keys


def _keys() -> dict[str, AESGCM]:
    keys = _parse_keys(getattr(settings, "KYC_ENCRYPTION_KEYS", "") or "")
    if not keys:
        raise ImproperlyConfigured(
            "KYC_ENCRYPTION_KEYS is empty: set it to 'kid:base64key' (see .env.example)."
        )
    return keys


def active_key_id() -> str:
    keys = _keys()
    key_id = getattr(settings, "KYC_ACTIVE_KEY_ID", "") or next(iter(keys))
    if key_id not in keys:
        raise ImproperlyConfigured(f"KYC_ACTIVE_KEY_ID {key_id!r} is not in KYC_ENCRYPTION_KEYS.")
    return key_id


def encrypt(plaintext: bytes, *, aad: bytes) -> tuple[str, bytes]:
    """Seal `plaintext` under the active key. Returns (key id, blob)."""
    key_id = active_key_id()
    nonce = os.urandom(NONCE_BYTES)
    return key_id, nonce + _keys()[key_id].encrypt(nonce, plaintext, aad)


def decrypt(blob: bytes | memoryview, *, key_id: str, aad: bytes) -> bytes:
    aead = _keys().get(key_id)
    if aead is None:
        raise DecryptionError(f"Key {key_id!r} is no longer configured.")
    data = bytes(blob)
    try:
        return aead.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise DecryptionError("The ciphertext does not match its key or was altered.") from exc


def generate_key() -> str:
    """A new key in the settings' format (base64 of 32 random bytes)."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
