import pytest

from accounts.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_signup_enforces_12_character_passwords_and_sends_verification(client, mailoutbox):
    response = client.post(
        "/accounts/signup/",
        {"email": "a@example.com", "password1": "Short-pw1", "password2": "Short-pw1"},
    )
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(email="a@example.com").exists()

    response = client.post(
        "/accounts/signup/",
        {
            "email": "a@example.com",
            "password1": "long-enough-pass-1",
            "password2": "long-enough-pass-1",
        },
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and "confirm-email" in mailoutbox[0].body


def test_profile_update_validates_display_name(client, user):
    client.force_login(user)
    response = client.post(
        "/profile/", {"display_name": "x", "theme": "dark", "notifications": "all"}
    )
    assert response.status_code == 400
    assert "display_name" in response.context["profile_form"].errors
    user.refresh_from_db()
    assert user.theme == "system"

    response = client.post(
        "/profile/", {"display_name": "Ada L", "theme": "dark", "notifications": "all"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.theme, user.notifications) == ("Ada L", "dark", "all")
    assert 'data-theme="dark"' in client.get("/").content.decode()


def test_token_is_shown_once_and_can_be_revoked(client, user):
    client.force_login(user)
    response = client.post("/profile/tokens/", {"name": "ci"})
    assert response.status_code == 200
    raw = response.context["new_token"]
    assert raw.startswith("anx_") and raw in response.content.decode()
    assert raw not in client.get("/profile/").content.decode()

    token = ApiToken.objects.get(user=user)
    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_become_a_developer(client, user):
    client.force_login(user)
    bad = client.post(
        "/profile/developer/", {"display_name": "Ada Labs", "payout_address": "0x123"}
    )
    assert bad.status_code == 400
    assert "payout_address" in bad.context["developer_form"].errors
    ok = client.post("/profile/developer/", {"display_name": "Ada Labs", "payout_address": ""})
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.role == "developer"
    assert user.developer_profile.slug == "ada-labs"


def test_profile_requires_login(client):
    assert client.get("/profile/").status_code == 302


def test_password_reset_sends_a_working_link(client, user, mailoutbox):
    import re

    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": "a-brand-new-password-7", "password2": "a-brand-new-password-7"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-password-7")


def test_login_with_wrong_password_names_the_problem(client, user):
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "wrong-password-123"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode() or "incorrect" in response.content.decode()
