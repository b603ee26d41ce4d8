"""Data export and erasure for one user (GDPR articles 15/20 and 17).

Export: everything the platform holds about the user as one JSON document, including their KYC
personal fields decrypted (they gave them to us), but never secrets: no password hash, no API
token hashes, no run secrets, no KYC document contents (metadata only).

Erasure: personal data and documents are removed and the user row is anonymized in place;
purchases, settlements, runs (as the spend record) and audit entries are kept, as the law requires
for financial and compliance records, pointing at the anonymized row. What is removed, blanked or
kept is listed in docs/decisions/0012-audit-trail.md.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from accounts.models import NotificationPreference, Theme, User
from agentnexus.core.errors import ApplicationError
from compliance.audit.models import AuditEntry
from compliance.audit.services import audit_record
from marketplace.models import Agent, Review
from marketplace.services import agent_transition
from payments.models import Purchase, Wallet
from runtime.models import ACTIVE, Run, RunEvent, RunStatus

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1


def _dt(value) -> str | None:
    return value.isoformat() if value is not None else None


def _amount(value) -> str | None:
    return str(value) if value is not None else None


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def _export_user(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "theme": user.theme,
        "notifications": user.notifications,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "date_joined": _dt(user.date_joined),
        "last_login": _dt(user.last_login),
    }


def _export_email_addresses(user: User) -> list[dict]:
    return [
        {"email": e.email, "verified": e.verified, "primary": e.primary}
        for e in EmailAddress.objects.filter(user=user).order_by("id")
    ]


def _export_developer(user: User) -> dict | None:
    profile = getattr(user, "developer_profile", None)
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "slug": profile.slug,
        "bio": profile.bio,
        "website": profile.website,
        "payout_address": profile.payout_address,
        "verified": profile.verified,
        "created_at": _dt(profile.created_at),
        "agents": [
            {"slug": a.slug, "name": a.name, "status": a.status, "created_at": _dt(a.created_at)}
            for a in profile.agents.order_by("id")
        ],
    }


def _export_tokens(user: User) -> list[dict]:
    # Metadata only: the hash is a credential verifier and is never exported.
    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": _dt(t.created_at),
            "last_used_at": _dt(t.last_used_at),
            "revoked_at": _dt(t.revoked_at),
        }
        for t in user.api_tokens.order_by("created_at", "id")
    ]


def _export_wallets(user: User) -> list[dict]:
    return [
        {
            "address": w.address,
            "is_primary": w.is_primary,
            "is_contract": w.is_contract,
            "label": w.label,
            "linked_at": _dt(w.linked_at),
        }
        for w in Wallet.objects.filter(user=user).order_by("linked_at", "id")
    ]


def _export_purchases(user: User) -> list[dict]:
    purchases = (
        Purchase.objects.filter(user=user)
        .select_related("agent", "deployment")
        .prefetch_related("settlements__run")
        .order_by("created_at", "id")
    )
    return [
        {
            "id": str(p.public_id),
            "agent": p.agent.slug,
            "chain_id": p.deployment.chain_id,
            "buyer_address": p.buyer_address,
            "token_address": p.token_address,
            "currency": p.currency,
            "runs": p.runs,
            "runs_reserved": p.runs_reserved,
            "unit_price": _amount(p.unit_price),
            "total": _amount(p.total),
            "status": p.status,
            "failure_reason": p.failure_reason,
            "payment_id": p.payment_id,
            "tx_hash": p.tx_hash,
            "created_at": _dt(p.created_at),
            "settlements": [
                {
                    "run": str(s.run.public_id),
                    "kind": s.kind,
                    "status": s.status,
                    "amount": _amount(s.amount),
                    "tx_hash": s.tx_hash,
                    "created_at": _dt(s.created_at),
                }
                for s in p.settlements.all()
            ],
        }
        for p in purchases
    ]


def _export_runs(user: User) -> list[dict]:
    runs = Run.objects.filter(user=user).select_related("agent", "version").order_by("id")
    events: dict[int, list[dict]] = {}
    for event in RunEvent.objects.filter(run__user=user).order_by("run_id", "seq"):
        events.setdefault(event.run_id, []).append(event.as_message())
    # Never the run secrets (secrets_ciphertext) nor worker internals.
    return [
        {
            "id": str(r.public_id),
            "agent": r.agent.slug,
            "version": r.version.version,
            "status": r.status,
            "input": r.input,
            "output": r.output,
            "failure_reason": r.failure_reason,
            "error_code": r.error_code,
            "error_message": r.error_message,
            "created_at": _dt(r.created_at),
            "started_at": _dt(r.started_at),
            "finished_at": _dt(r.finished_at),
            "duration_ms": r.duration_ms,
            "events": events.get(r.pk, []),
        }
        for r in runs
    ]


def _export_reviews(user: User) -> list[dict]:
    return [
        {
            "agent": r.agent.slug,
            "rating": r.rating,
            "body": r.body,
            "created_at": _dt(r.created_at),
            "updated_at": _dt(r.updated_at),
        }
        for r in Review.objects.filter(author=user).select_related("agent").order_by("id")
    ]


def _export_kyc(user: User) -> dict | None:
    """Status, level, each submission's personal fields decrypted, documents as metadata."""
    try:
        from compliance.kyc import models as kyc_models
        from compliance.kyc.services import kyc_personal_data
    except ImportError:  # the KYC app is not there yet
        return None
    profile = kyc_models.KycProfile.objects.filter(user=user).first()
    submissions = []
    for submission in kyc_models.KycSubmission.objects.filter(user=user).order_by("created_at"):
        try:
            personal = kyc_personal_data(submission=submission)
            fields: dict | str = {
                key: value.isoformat() if hasattr(value, "isoformat") else value
                for key, value in vars(personal).items()
            }
        except Exception:  # noqa: BLE001 - a missing key must not block the rest of the export
            logger.exception("KYC export: could not decrypt submission %s", submission.pk)
            fields = "unavailable: could not be decrypted; contact support"
        submissions.append(
            {
                "id": str(submission.public_id),
                "status": submission.status,
                "requested_level": submission.requested_level,
                "granted_level": submission.granted_level,
                "reason": submission.reason,
                "provider": submission.provider,
                "created_at": _dt(submission.created_at),
                "reviewed_at": _dt(submission.reviewed_at),
                "personal_data": fields,
                "documents": [
                    {
                        "id": str(d.public_id),
                        "content_type": d.content_type,
                        "size": d.size,
                        "uploaded_at": _dt(d.created_at),
                    }
                    for d in submission.documents.order_by("created_at")
                ],
            }
        )
    notifications = [
        {"message": n.message, "created_at": _dt(n.created_at), "read_at": _dt(n.read_at)}
        for n in kyc_models.Notification.objects.filter(user=user).order_by("created_at")
    ]
    return {
        "level": profile.level if profile else 0,
        "status": profile.status if profile else "none",
        "reason": profile.reason if profile else "",
        "submissions": submissions,
        "notifications": notifications,
    }


def _export_audit(user: User) -> list[dict]:
    return [
        {
            "seq": e.seq,
            "created_at": _dt(e.created_at),
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
        }
        for e in AuditEntry.objects.filter(actor=user).order_by("seq")
    ]


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about `user`, as JSON-ready data. Recorded in the audit."""
    data = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": _dt(timezone.now()),
        "user": _export_user(user),
        "email_addresses": _export_email_addresses(user),
        "developer_profile": _export_developer(user),
        "api_tokens": _export_tokens(user),
        "wallets": _export_wallets(user),
        "purchases": _export_purchases(user),
        "runs": _export_runs(user),
        "reviews": _export_reviews(user),
        "kyc": _export_kyc(user),
        "audit_entries": _export_audit(user),
    }
    audit_record(actor=user, action="privacy.export", obj=user)
    return data


# ---------------------------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------------------------


def erased_email(user: User) -> str:
    return f"erased-{user.pk}@invalid"


def _erase_kyc(user: User) -> dict[str, int]:
    try:
        from compliance.kyc import models as kyc_models
    except ImportError:
        return {}
    submissions = kyc_models.KycSubmission.objects.filter(user=user)
    documents = kyc_models.KycDocument.objects.filter(submission__user=user).count()
    deleted_submissions = submissions.count()
    submissions.delete()  # documents cascade; staff access logs keep a NULL reference
    kyc_models.Notification.objects.filter(user=user).delete()
    # The level and status stay (which level authorised the kept purchases); the free-text
    # reason may quote personal data and goes.
    kyc_models.KycProfile.objects.filter(user=user).update(reason="")
    return {"kyc_submissions": deleted_submissions, "kyc_documents": documents}


def _erase_reviews(user: User) -> int:
    """Reviews are deleted (text and rating): they are the user's own words and opinion, not a
    financial record. review_delete recomputes each agent's rating figures."""
    from marketplace.services import review_delete

    reviews = list(Review.objects.filter(author=user).select_related("agent").order_by("agent_id"))
    for review in reviews:
        review_delete(review=review, author=user)
    return len(reviews)


def _erase_runs(user: User) -> int:
    """Runs stay (settlements point at them: the spend record) but lose their content."""
    runs = Run.objects.filter(user=user)
    RunEvent.objects.filter(run__in=runs).delete()
    return runs.update(
        input={},
        output=None,
        error_message="",
        secrets_ciphertext=None,
        worker="",
    )


def _erase_developer(user: User) -> bool:
    profile = getattr(user, "developer_profile", None)
    if profile is None:
        return False
    # The profile row stays (agents and their purchases point at it); what identifies the
    # person goes, and their agents leave the catalog.
    profile.display_name = f"Erased developer {profile.pk}"
    profile.slug = f"erased-developer-{profile.pk}"
    profile.bio = ""
    profile.website = ""
    profile.payout_address = ""
    profile.save(update_fields=["display_name", "slug", "bio", "website", "payout_address"])
    for agent in profile.agents.filter(status__in=[Agent.Status.ACTIVE, Agent.Status.MAINTENANCE]):
        agent_transition(
            agent=agent, to=Agent.Status.DEPRECATED, actor=None, reason="The developer left."
        )
    return True


def user_erase(*, user: User, actor: User | None = None) -> User:
    """Erase `user`'s personal data and anonymize the account; financial and audit rows stay.

    `actor`: who asked (the user themselves, or staff acting on a request). Refused for staff
    accounts and while runs are in progress. Not reversible.
    """
    actor = actor or user
    if user.is_staff or user.is_superuser:
        raise ApplicationError(
            "Staff accounts cannot be erased; remove the staff role first.", code="staff_account"
        )
    if Run.objects.filter(user=user, status__in={*ACTIVE, RunStatus.QUEUED}).exists():
        raise ApplicationError(
            "You have runs in progress. Wait for them to finish, then try again.",
            code="runs_in_progress",
        )

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        summary: dict[str, Any] = {}
        summary["email_addresses"] = EmailAddress.objects.filter(user=user).delete()[0]
        if apps.is_installed("allauth.socialaccount"):
            social_account = apps.get_model("socialaccount", "SocialAccount")
            summary["social_accounts"] = social_account.objects.filter(user=user).delete()[0]
        summary["api_tokens"] = user.api_tokens.all().delete()[0]
        summary["wallets"] = Wallet.objects.filter(user=user).delete()[0]
        summary["reviews"] = _erase_reviews(user)
        summary["runs_blanked"] = _erase_runs(user)
        summary["developer_profile"] = _erase_developer(user)
        summary.update(_erase_kyc(user))

        user.email = erased_email(user)
        user.display_name = ""
        user.set_unusable_password()  # also ends every session (their auth hash changes)
        user.is_active = False
        user.theme = Theme.SYSTEM
        user.notifications = NotificationPreference.NONE
        user.last_login = None
        user.save()
        user.groups.clear()
        user.user_permissions.clear()

        # The audit entry names the account by id only; `summary` holds counts, no content.
        audit_record(actor=actor, action="privacy.erase", obj=user, data=summary)
    return user
