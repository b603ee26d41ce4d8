"""KYC writes: submissions (encrypted), staff and provider decisions, webhooks, key rotation."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from agentnexus.core.errors import ApplicationError, ConflictError
from compliance.audit.services import audit_record
from compliance.kyc import crypto
from compliance.kyc.models import (
    MAX_LEVEL,
    KycDocument,
    KycProfile,
    KycStatus,
    KycSubmission,
    KycWebhookDigest,
)
from compliance.kyc.notifications import kyc_status_notify
from compliance.kyc.providers import active_provider, get_provider
from compliance.kyc.uploads import max_document_bytes, sniff_content_type

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PersonalData:
    """The personal fields of a submission; stored only as one encrypted JSON document."""

    full_name: str
    date_of_birth: date
    nationality: str
    address: str
    document_type: str
    document_number: str
    document_expiry: date

    def to_bytes(self) -> bytes:
        data = asdict(self)
        data["date_of_birth"] = self.date_of_birth.isoformat()
        data["document_expiry"] = self.document_expiry.isoformat()
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> PersonalData:
        data = json.loads(raw)
        data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
        data["document_expiry"] = date.fromisoformat(data["document_expiry"])
        return cls(**data)


def kyc_profile_get(*, user) -> KycProfile:
    profile, _ = KycProfile.objects.get_or_create(user=user)
    return profile


def _validate_document(*, content: bytes) -> str:
    if len(content) > max_document_bytes():
        raise ApplicationError(
            "The document is too large.",
            fields={"document": [f"Upload at most {max_document_bytes() // (1024 * 1024)} MB."]},
        )
    if not content:
        raise ApplicationError(
            "The document is empty.", fields={"document": ["The file is empty."]}
        )
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise ApplicationError(
            "Unsupported document type.",
            fields={"document": ["Upload a JPEG or PNG image or a PDF."]},
        )
    return content_type


@transaction.atomic
def kyc_submission_create(
    *, user, personal: PersonalData, document: bytes, requested_level: int = 2
) -> KycSubmission:
    """Store a verification request encrypted and hand it to the active provider."""
    content_type = _validate_document(content=document)
    if personal.document_expiry <= timezone.now().date():
        raise ApplicationError(
            "The document has expired.", fields={"document_expiry": ["The document has expired."]}
        )
    profile = KycProfile.objects.select_for_update().get(pk=kyc_profile_get(user=user).pk)
    if KycSubmission.objects.filter(user=user, status=KycStatus.PENDING).exists():
        raise ConflictError("Your previous verification is still being reviewed.")
    provider = active_provider()
    submission = KycSubmission(user=user, requested_level=requested_level, provider=provider.name)
    submission.key_id, submission.personal_ciphertext = crypto.encrypt(
        personal.to_bytes(), aad=submission.aad
    )
    provider.submit(submission=submission, personal=personal)
    submission.save()
    doc = KycDocument(submission=submission, content_type=content_type, size=len(document))
    doc.key_id, doc.ciphertext = crypto.encrypt(document, aad=doc.aad)
    doc.save()
    profile.status, profile.reason = KycStatus.PENDING, ""
    profile.save(update_fields=["status", "reason", "updated_at"])
    logger.info("KYC submission %s created (provider %s)", submission.public_id, provider.name)
    audit_record(actor=user, action="kyc.submit", obj=submission, data={"provider": provider.name})
    kyc_status_notify(user=user, status=KycStatus.PENDING, level=profile.level)
    return submission


def kyc_personal_data(*, submission: KycSubmission) -> PersonalData:
    raw = crypto.decrypt(
        submission.personal_ciphertext, key_id=submission.key_id, aad=submission.aad
    )
    return PersonalData.from_bytes(raw)


def kyc_document_content(*, document: KycDocument) -> bytes:
    return crypto.decrypt(document.ciphertext, key_id=document.key_id, aad=document.aad)


def _decide(*, submission: KycSubmission, status: str, level: int | None, reason: str, reviewer):
    submission = KycSubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != KycStatus.PENDING:
        raise ConflictError(
            f"This submission is already {submission.get_status_display().lower()}."
        )
    profile = KycProfile.objects.select_for_update().get(
        pk=kyc_profile_get(user=submission.user).pk
    )
    submission.status, submission.reason = status, reason
    submission.granted_level = level
    submission.reviewed_at, submission.reviewed_by = timezone.now(), reviewer
    submission.save(
        update_fields=["status", "reason", "granted_level", "reviewed_at", "reviewed_by"]
    )
    profile.status, profile.reason = status, reason
    if level is not None:
        profile.level = max(profile.level, level)
    profile.save(update_fields=["status", "reason", "level", "updated_at"])
    logger.info("KYC submission %s %s", submission.public_id, status)
    # No reason text in the trail: it is free text and may name the person.
    audit_record(
        actor=reviewer or f"provider:{submission.provider}",
        action="kyc.approve" if status == KycStatus.VERIFIED else "kyc.reject",
        obj=submission,
        data={"user": submission.user_id, "level": profile.level, "status": status},
    )
    kyc_status_notify(user=submission.user, status=status, level=profile.level, reason=reason)
    return submission


@transaction.atomic
def kyc_submission_approve(
    *, submission: KycSubmission, level: int | None = None, reviewer=None
) -> KycSubmission:
    level = submission.requested_level if level is None else level
    if not 1 <= level <= MAX_LEVEL:
        raise ApplicationError("Choose a level from 1 to 3.", fields={"level": ["1 to 3."]})
    return _decide(
        submission=submission, status=KycStatus.VERIFIED, level=level, reason="", reviewer=reviewer
    )


@transaction.atomic
def kyc_submission_reject(
    *, submission: KycSubmission, reason: str, reviewer=None
) -> KycSubmission:
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            "Give the user a reason.", fields={"reason": ["Give the user a reason."]}
        )
    return _decide(
        submission=submission,
        status=KycStatus.REJECTED,
        level=None,
        reason=reason[:500],
        reviewer=reviewer,
    )


@transaction.atomic
def kyc_webhook_handle(*, provider_name: str, body: bytes, headers: dict[str, str]) -> str:
    """Verify a provider webhook and apply it. Returns what happened (for the response)."""
    from compliance.kyc.providers import PROVIDERS, WebhookRejected

    if provider_name not in PROVIDERS:
        raise WebhookRejected("Unknown provider.", status_code=404)
    provider = get_provider(provider_name)
    verdict = provider.parse_webhook(body=body, headers={k.lower(): v for k, v in headers.items()})
    # Replay protection: the digest is stored; a second delivery of the same body is refused.
    try:
        with transaction.atomic():
            KycWebhookDigest.objects.create(provider=provider.name, digest=verdict.extra["digest"])
    except IntegrityError:
        raise WebhookRejected("This webhook was already received.", status_code=409) from None
    submission = (
        KycSubmission.objects.filter(provider=provider.name)
        .filter(public_id=_uuid_or_none(verdict.submission_ref))
        .first()
        or KycSubmission.objects.filter(
            provider=provider.name, provider_ref=verdict.extra.get("applicant_id") or "-"
        ).first()
    )
    if submission is None:
        raise WebhookRejected("Unknown applicant.", status_code=404)
    if verdict.status == KycStatus.PENDING or submission.status != KycStatus.PENDING:
        return "ignored"
    if verdict.status == KycStatus.VERIFIED:
        kyc_submission_approve(submission=submission, level=verdict.level)
    else:
        kyc_submission_reject(submission=submission, reason=verdict.reason or "Rejected.")
    return verdict.status


def _uuid_or_none(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def kyc_webhook_digests_prune(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Digests older than the time window can go: such a replay fails the window check anyway."""
    deleted, _ = KycWebhookDigest.objects.filter(
        received_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def kyc_access_record(
    *,
    staff,
    submission: KycSubmission,
    action: str,
    document: KycDocument | None = None,
    ip: str | None = None,
) -> None:
    """Record in the audit trail that staff saw decrypted KYC data (`action`: view_personal_data
    or view_document)."""
    audit_record(
        actor=staff,
        action=f"kyc.{action}",
        obj=document or submission,
        data={"submission": str(submission.public_id), "ip": ip},
    )


def kyc_reencrypt(*, batch_size: int = 200) -> dict[str, int]:
    """Re-seal every ciphertext not under the active key. Safe to run again after a failure."""
    active = crypto.active_key_id()
    counts = {"submissions": 0, "documents": 0}
    for model, field, label in (
        (KycSubmission, "personal_ciphertext", "submissions"),
        (KycDocument, "ciphertext", "documents"),
    ):
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.select_for_update(skip_locked=True)
                    .exclude(key_id=active)
                    .order_by("pk")[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    plain = crypto.decrypt(getattr(row, field), key_id=row.key_id, aad=row.aad)
                    key_id, blob = crypto.encrypt(plain, aad=row.aad)
                    model.objects.filter(pk=row.pk).update(key_id=key_id, **{field: blob})
                counts[label] += len(rows)
    return counts
