import hashlib

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import MAX_ACTIVE_TOKENS, api_token_create, api_token_revoke
from agentnexus.core.errors import ApplicationError, NotFoundError
from marketplace.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_is_stored_hashed_and_shown_once(user):
    token, raw = api_token_create(user=user, name="laptop")
    assert raw.startswith("anx_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.name, stored.prefix, stored.token_hash}
    assert stored.prefix == raw[:12]


def test_revoked_token_stops_working(api_client, user):
    token, raw = api_token_create(user=user, name="ci")
    header = {"HTTP_AUTHORIZATION": f"Token {raw}"}
    assert api_client.get("/api/v1/me/", **header).status_code == 200
    api_token_revoke(user=user, token_id=token.pk)
    assert api_client.get("/api/v1/me/", **header).status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(user):
    token, _ = api_token_create(user=user, name="mine")
    with pytest.raises(NotFoundError):
        api_token_revoke(user=UserFactory(), token_id=token.pk)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_token_limit_and_name_validation(user):
    with pytest.raises(ApplicationError) as exc:
        api_token_create(user=user, name="  ")
    assert "name" in exc.value.fields
    ApiToken.objects.bulk_create(
        ApiToken(user=user, name=f"t{i}", prefix="anx_x", token_hash=f"{i:064d}")
        for i in range(MAX_ACTIVE_TOKENS)
    )
    with pytest.raises(ApplicationError, match="active tokens"):
        api_token_create(user=user, name="one too many")


def test_inactive_users_tokens_fail(api_client, user):
    _, raw = api_token_create(user=user, name="ci")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401


def test_last_used_is_recorded(api_client, user):
    token, raw = api_token_create(user=user, name="ci")
    api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at <= timezone.now()
