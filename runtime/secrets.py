"""Run secrets at rest: encrypted with a key derived from RUNTIME_SECRETS_KEY (or SECRET_KEY).

Secrets reach the agent only in the /execute request body. Between the request that starts a run
and the worker that executes it they wait encrypted on the run row, and are erased when it ends.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    secret = getattr(settings, "RUNTIME_SECRETS_KEY", "") or settings.SECRET_KEY
    digest = hashlib.sha256(b"agentnexus-run-secrets:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secrets_encrypt(values: dict[str, str]) -> bytes | None:
    if not values:
        return None
    return _fernet().encrypt(json.dumps(values).encode())


def secrets_decrypt(token: bytes | memoryview | None) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(bytes(token)))
    except InvalidToken:
        # The key changed since the run was queued: the run goes on without its secrets.
        return {}
