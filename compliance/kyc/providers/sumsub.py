"""A Sumsub-style external provider: applicants and access tokens over a signed HTTP API, results
by webhook. The wire format follows Sumsub's public API reference:

- requests carry `X-App-Token`, `X-App-Access-Ts` and `X-App-Access-Sig` =
  hex HMAC-SHA256(secret key, ts + METHOD + path?query + body);
- `POST /resources/applicants?levelName=…` with `externalUserId` (our submission's public id)
  returns the applicant `id`; `POST /resources/accessTokens?userId=…&levelName=…` a WebSDK token;
- webhooks carry `X-Payload-Digest` = hex HMAC(webhook secret, raw body) with the algorithm in
  `X-Payload-Digest-Alg`. The digest covers the body only, so the freshness check reads the signed
  `createdAtMs` in the body (window `KYC_WEBHOOK_TOLERANCE_SECONDS`), and each accepted digest is
  stored so the same delivery cannot be replayed inside the window.

Tests run it against a fake of this API on loopback (compliance/kyc/tests/fake_sumsub.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agentnexus.core.errors import ApplicationError
from compliance.kyc.providers.base import KycProvider, ProviderVerdict, WebhookRejected

DIGEST_ALGORITHMS = {
    "HMAC_SHA1_HEX": hashlib.sha1,
    "HMAC_SHA256_HEX": hashlib.sha256,
    "HMAC_SHA512_HEX": hashlib.sha512,
}
# Review answers → our status. RED/RETRY (the user may try again) and RED/FINAL both reject;
# the reason tells the user which.
PENDING_TYPES = {"applicantPending", "applicantOnHold", "applicantCreated", "applicantReset"}


def _setting(name: str, default=""):
    return getattr(settings, name, default)


def sign_request(*, secret: str, ts: str, method: str, path: str, body: bytes) -> str:
    message = ts.encode() + method.upper().encode() + path.encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_digest(*, secret: str, body: bytes, algorithm: str = "HMAC_SHA256_HEX") -> str:
    return hmac.new(secret.encode(), body, DIGEST_ALGORITHMS[algorithm]).hexdigest()


def map_status(payload: dict) -> tuple[str, str]:
    """(KycStatus value, reason) for a webhook payload."""
    kind = payload.get("type", "")
    result = payload.get("reviewResult") or {}
    answer = result.get("reviewAnswer", "")
    if kind == "applicantReviewed" and answer == "GREEN":
        return "verified", ""
    if kind == "applicantReviewed" and answer == "RED":
        labels = ", ".join(result.get("rejectLabels") or [])
        reason = result.get("moderationComment") or (
            f"The provider rejected the documents ({labels})."
            if labels
            else "The provider rejected the documents."
        )
        if result.get("reviewRejectType") == "RETRY":
            reason += " You can correct the details and submit again."
        return "rejected", reason[:500]
    if kind in PENDING_TYPES or kind == "applicantReviewed":
        return "pending", ""
    raise WebhookRejected(f"Unsupported webhook type {kind!r}.")


def _created_at(payload: dict) -> float:
    value = payload.get("createdAtMs")
    if isinstance(value, int | float):
        return value / 1000
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "T"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise WebhookRejected("The webhook has no valid createdAtMs.")


class SumsubProvider(KycProvider):
    name = "sumsub"

    # ---- outgoing API ---------------------------------------------------------------------
    def _request(self, method: str, path: str, payload: dict | None = None) -> dict:
        base = _setting("KYC_SUMSUB_BASE_URL", "https://api.sumsub.com").rstrip("/")
        token = _setting("KYC_SUMSUB_APP_TOKEN")
        secret = _setting("KYC_SUMSUB_SECRET_KEY")
        if not (token and secret):
            raise ImproperlyConfigured("KYC_SUMSUB_APP_TOKEN and KYC_SUMSUB_SECRET_KEY are needed.")
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise ImproperlyConfigured("KYC_SUMSUB_BASE_URL must be http(s).")
        body = json.dumps(payload).encode() if payload is not None else b""
        ts = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            base + path,
            data=body or None,
            method=method,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "X-App-Token": token,
                "X-App-Access-Ts": ts,
                "X-App-Access-Sig": sign_request(
                    secret=secret, ts=ts, method=method, path=path, body=body
                ),
            },
        )
        timeout = float(_setting("KYC_SUMSUB_TIMEOUT_SECONDS", 10))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            # The error body may echo what we sent: it is not logged or shown.
            raise ApplicationError(
                f"The verification provider refused the request (HTTP {exc.code}).",
                code="kyc_provider_error",
            ) from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise ApplicationError(
                "The verification provider is unreachable; please try again later.",
                code="kyc_provider_unavailable",
            ) from exc

    def create_applicant(self, *, external_user_id: str, fixed_info: dict) -> str:
        level = urllib.parse.quote(_setting("KYC_SUMSUB_LEVEL_NAME", "basic-kyc-level"))
        data = self._request(
            "POST",
            f"/resources/applicants?levelName={level}",
            {"externalUserId": external_user_id, "fixedInfo": fixed_info},
        )
        applicant_id = data.get("id")
        if not applicant_id:
            raise ApplicationError("The verification provider sent no applicant id.")
        return str(applicant_id)

    def access_token(self, *, external_user_id: str, ttl_seconds: int = 600) -> str:
        query = urllib.parse.urlencode(
            {
                "userId": external_user_id,
                "levelName": _setting("KYC_SUMSUB_LEVEL_NAME", "basic-kyc-level"),
                "ttlInSecs": ttl_seconds,
            }
        )
        data = self._request("POST", f"/resources/accessTokens?{query}")
        if not data.get("token"):
            raise ApplicationError("The verification provider sent no access token.")
        return str(data["token"])

    def submit(self, *, submission, personal) -> None:
        fixed_info = {
            "firstName": personal.full_name,
            "dob": personal.date_of_birth.isoformat(),
            "nationality": personal.nationality,
            "idDocs": [
                {
                    "idDocType": personal.document_type.upper(),
                    "number": personal.document_number,
                    "validUntil": personal.document_expiry.isoformat(),
                }
            ],
        }
        submission.provider_ref = self.create_applicant(
            external_user_id=str(submission.public_id), fixed_info=fixed_info
        )

    # ---- incoming webhooks ----------------------------------------------------------------
    def parse_webhook(self, *, body: bytes, headers: dict[str, str]) -> ProviderVerdict:
        """Verify and decode a webhook; replays are refused by the caller's digest store."""
        secret = _setting("KYC_SUMSUB_WEBHOOK_SECRET")
        if not secret:
            raise WebhookRejected("Webhooks are not configured.", status_code=404)
        algorithm = headers.get("x-payload-digest-alg", "HMAC_SHA256_HEX")
        if algorithm not in DIGEST_ALGORITHMS:
            raise WebhookRejected("Unsupported digest algorithm.", status_code=401)
        given = headers.get("x-payload-digest", "")
        expected = webhook_digest(secret=secret, body=body, algorithm=algorithm)
        if not given or not hmac.compare_digest(given.lower(), expected):
            raise WebhookRejected("Bad signature.", status_code=401)
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookRejected("The body is not JSON.") from None
        if not isinstance(payload, dict):
            raise WebhookRejected("The body is not a JSON object.")
        tolerance = float(_setting("KYC_WEBHOOK_TOLERANCE_SECONDS", 300))
        if abs(time.time() - _created_at(payload)) > tolerance:
            raise WebhookRejected(
                "The webhook is outside the accepted time window.", status_code=401
            )
        status, reason = map_status(payload)
        ref = payload.get("externalUserId") or payload.get("applicantId") or ""
        if not ref:
            raise WebhookRejected("The webhook names no applicant.")
        return ProviderVerdict(
            submission_ref=str(ref),
            status=status,
            reason=reason,
            extra={"digest": expected, "applicant_id": payload.get("applicantId", "")},
        )
