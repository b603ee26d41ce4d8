"""Account services: profile changes, developer profiles and personal API tokens."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ApiToken, DeveloperProfile, User
from agentnexus.core.errors import ApplicationError, NotFoundError

TOKEN_PREFIX = "anx_"  # noqa: S105 - a public marker, not a secret
MAX_ACTIVE_TOKENS = 20
# Writing last_used_at on every request would turn each API read into a write.
TOKEN_LAST_USED_RESOLUTION = timedelta(minutes=5)


def profile_update(*, user: User, display_name: str, theme: str, notifications: str) -> User:
    user.display_name = display_name.strip()
    user.theme = theme
    user.notifications = notifications
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "theme", "notifications"])
    return user


def _unique_developer_slug(display_name: str) -> str:
    base = slugify(display_name)[:70] or "developer"
    slug, n = base, 1
    while DeveloperProfile.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def developer_profile_create(
    *, user: User, display_name: str, payout_address: str = "", bio: str = "", website: str = ""
) -> DeveloperProfile:
    if hasattr(user, "developer_profile"):
        raise ApplicationError("This account already has a developer profile.", code="conflict")
    profile = DeveloperProfile(
        user=user,
        display_name=display_name.strip(),
        slug=_unique_developer_slug(display_name),
        payout_address=payout_address,
        bio=bio,
        website=website,
    )
    profile.full_clean()
    profile.save()
    return profile


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ApplicationError(
            "Give the token a name.", fields={"name": ["This field is required."]}
        )
    if len(name) > 60:
        raise ApplicationError(
            "Token names are at most 60 characters.",
            fields={"name": ["Ensure this field has no more than 60 characters."]},
        )
    # Lock the user row so two concurrent creations cannot both pass the limit check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
        raise ApplicationError(
            f"You already have {MAX_ACTIVE_TOKENS} active tokens. Revoke one first.",
            code="limit_reached",
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], token_hash=_hash_token(raw)
    )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFoundError("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user owning this token, or None. Records use at most every few minutes."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
