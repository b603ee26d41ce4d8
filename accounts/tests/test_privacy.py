"""Data export (everything we hold, no secrets) and erasure (anonymize; keep money and audit)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.privacy import user_data_export, user_erase
from accounts.services import api_token_create
from agentnexus.core.errors import ApplicationError
from compliance.audit.models import AuditEntry
from compliance.audit.services import audit_record, verify_chain
from marketplace.models import Agent, Review
from marketplace.tests.factories import (
    AgentFactory,
    DeveloperProfileFactory,
    ReviewFactory,
    UserFactory,
)
from payments.models import ChainDeployment, Purchase, Settlement, Wallet
from runtime.models import Run, RunEvent, RunStatus

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
ADDRESS = "0x" + "ab" * 20


def _deployment() -> ChainDeployment:
    zero = "0x" + "00" * 20
    return ChainDeployment.objects.create(
        chain_id=31337,
        escrow_address=zero,
        entitlements_address=zero,
        deployer_address=zero,
        admin_address=zero,
        orchestrator_address=zero,
        pauser_address=zero,
        fee_recipient_address=zero,
        fee_bps=250,
        payment_ttl_seconds=3600,
        block_number=1,
        entitlements_tx="0x" + "11" * 32,
        escrow_tx="0x" + "22" * 32,
        compiler_version="test",
    )


@pytest.fixture
def customer(db):
    """A user with one of everything: token, wallet, review, purchase, a settled run."""
    user = UserFactory(email="alice@example.com", display_name="Alice Liddell")
    agent = AgentFactory(price=Decimal("1.00"))
    token, raw = api_token_create(user=user, name="laptop")
    Wallet.objects.create(user=user, address=ADDRESS, is_primary=True, label="main")
    ReviewFactory(agent=agent, author=user, rating=5, body="Alice loved it")
    ReviewFactory(agent=agent, rating=1, body="someone else's review")
    purchase = Purchase.objects.create(
        public_id=uuid.uuid4(),
        user=user,
        agent=agent,
        deployment=_deployment(),
        buyer_address=ADDRESS,
        token_address="0x" + "00" * 20,
        currency="USDC",
        runs=2,
        unit_price=Decimal(1_000_000),
        total=Decimal(2_000_000),
        status="completed",
        runs_reserved=1,
    )
    run = Run.objects.create(
        user=user,
        agent=agent,
        version=agent.current_version,
        input={"text": "my secret diary"},
        output={"result": "summary of my diary"},
        status=RunStatus.SUCCEEDED,
        secrets_ciphertext=b"sealed-run-secret",
    )
    RunEvent.objects.create(run=run, seq=1, type="log", payload={"line": "reading diary"})
    settlement = Settlement.objects.create(
        run=run,
        purchase=purchase,
        run_ref="0x" + "33" * 32,
        kind=Settlement.Kind.RELEASE,
        status="confirmed",
        amount=Decimal(1_000_000),
    )
    audit_record(actor=user, action="test.user_did_something", obj=purchase)
    return {
        "user": user,
        "agent": agent,
        "token": token,
        "raw_token": raw,
        "purchase": purchase,
        "run": run,
        "settlement": settlement,
    }


def _kyc_tables_exist() -> bool:
    return "kyc_kycsubmission" in connection.introspection.table_names()


def _add_kyc(user, settings) -> None:
    if not _kyc_tables_exist():
        pytest.skip("KYC tables are not migrated yet")
    from compliance.kyc import crypto
    from compliance.kyc.models import KycDocument, KycProfile, KycSubmission
    from compliance.kyc.services import PersonalData

    settings.KYC_ENCRYPTION_KEYS = f"t1:{crypto.generate_key()}"
    settings.KYC_ACTIVE_KEY_ID = "t1"
    KycProfile.objects.create(user=user, level=2, status="verified", reason="ok")
    personal = PersonalData(
        full_name="Alice Pleasance Liddell",
        date_of_birth=date(1990, 5, 4),
        nationality="GB",
        address="1 Rabbit Hole, Oxford",
        document_type="passport",
        document_number="P1234567",
        document_expiry=timezone.localdate() + timedelta(days=900),
    )
    submission = KycSubmission(user=user, status="approved", requested_level=2, granted_level=2)
    submission.key_id, submission.personal_ciphertext = crypto.encrypt(
        personal.to_bytes(), aad=submission.aad
    )
    submission.save()
    document = KycDocument(submission=submission, content_type="application/pdf", size=9)
    document.key_id, document.ciphertext = crypto.encrypt(b"%PDF-scan", aad=document.aad)
    document.save()


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def test_export_holds_everything_about_the_user(customer):
    user = customer["user"]
    DeveloperProfileFactory(user=user, display_name="Alice Labs", slug="alice-labs")
    user.refresh_from_db()
    data = user_data_export(user=user)

    assert data["user"]["email"] == "alice@example.com"
    assert data["user"]["display_name"] == "Alice Liddell"
    assert data["email_addresses"] == [
        {"email": "alice@example.com", "verified": True, "primary": True}
    ]
    assert data["developer_profile"]["slug"] == "alice-labs"
    assert [t["name"] for t in data["api_tokens"]] == ["laptop"]
    assert data["api_tokens"][0]["prefix"] == customer["token"].prefix
    assert data["wallets"][0]["address"] == ADDRESS
    assert [r["body"] for r in data["reviews"]] == ["Alice loved it"]
    [purchase] = data["purchases"]
    assert purchase["id"] == str(customer["purchase"].public_id)
    assert purchase["total"] == "2000000"
    assert purchase["settlements"][0]["run"] == str(customer["run"].public_id)
    [run] = data["runs"]
    assert run["input"] == {"text": "my secret diary"}
    assert run["output"] == {"result": "summary of my diary"}
    assert run["events"][0]["payload"] == {"line": "reading diary"}
    assert [e["action"] for e in data["audit_entries"]] == ["test.user_did_something"]
    json.dumps(data)  # JSON-ready as it is


def test_export_never_contains_secrets(customer):
    user = customer["user"]
    text = json.dumps(user_data_export(user=user))
    token = ApiToken.objects.get(pk=customer["token"].pk)
    assert token.token_hash not in text
    assert customer["raw_token"] not in text
    assert user.password not in text and "password" not in text
    assert "secret" not in json.dumps(list(user_data_export(user=user)["runs"][0]))
    assert "sealed-run-secret" not in text
    assert "c2VhbGVkLXJ1bi1zZWNyZXQ" not in text  # nor base64 of it
    assert "someone else's review" not in text


def test_export_is_recorded_in_the_audit_trail(customer):
    user = customer["user"]
    user_data_export(user=user)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.actor_label) == ("privacy.export", f"user:{user.pk}")


def test_export_includes_kyc_personal_fields_decrypted_and_documents_as_metadata(
    customer, settings
):
    user = customer["user"]
    _add_kyc(user, settings)
    kyc = user_data_export(user=user)["kyc"]
    assert (kyc["level"], kyc["status"]) == (2, "verified")
    [submission] = kyc["submissions"]
    assert submission["personal_data"]["document_number"] == "P1234567"
    assert submission["personal_data"]["date_of_birth"] == "1990-05-04"
    assert submission["documents"][0]["content_type"] == "application/pdf"
    assert "%PDF-scan" not in json.dumps(kyc)


@pytest.mark.urls("compliance.audit.tests.urls")
def test_download_my_data_page(client, customer):
    client.force_login(customer["user"])
    page = client.get(reverse("audit:privacy"))
    assert page.status_code == 200
    assert b"Download my data" in page.content and b"Delete my account" in page.content
    assert client.get(reverse("audit:privacy_export")).status_code == 405
    response = client.post(reverse("audit:privacy_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["user"]["email"] == "alice@example.com"


@pytest.mark.urls("compliance.audit.tests.urls")
def test_privacy_pages_need_login(client):
    response = client.get(reverse("audit:privacy"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(reverse("audit:privacy_export")).status_code == 302


# ---------------------------------------------------------------------------------------------
# Erasure
# ---------------------------------------------------------------------------------------------


def test_erasure_anonymizes_the_user_and_removes_personal_data(customer):
    user = customer["user"]
    agent = customer["agent"]
    user_erase(user=user)
    user.refresh_from_db()

    assert user.email == f"erased-{user.pk}@invalid"
    assert user.display_name == ""
    assert not user.has_usable_password() and not user.is_active
    assert user.last_login is None
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    assert not Wallet.objects.filter(user=user).exists()
    assert not Review.objects.filter(author=user).exists()
    agent.refresh_from_db()
    assert agent.rating_count == 1 and agent.rating_avg == Decimal("1.00")
    run = Run.objects.get(pk=customer["run"].pk)
    assert run.input == {} and run.output is None and run.secrets_ciphertext is None
    assert not RunEvent.objects.filter(run=run).exists()
    text = json.dumps(user_data_export(user=user))
    assert "alice" not in text.lower() and "diary" not in text


def test_erasure_keeps_financial_and_audit_records(customer):
    user = customer["user"]
    entries_before = AuditEntry.objects.count()
    user_erase(user=user)

    purchase = Purchase.objects.get(pk=customer["purchase"].pk)
    assert purchase.user_id == user.pk
    assert (purchase.total, purchase.buyer_address) == (Decimal(2_000_000), ADDRESS)
    settlement = Settlement.objects.get(pk=customer["settlement"].pk)
    assert settlement.amount == Decimal(1_000_000) and settlement.run_id == customer["run"].pk
    assert Run.objects.filter(pk=customer["run"].pk, user=user).exists()

    assert AuditEntry.objects.count() == entries_before + 1
    assert AuditEntry.objects.filter(actor=user, action="test.user_did_something").exists()
    erase = AuditEntry.objects.order_by("-seq").first()
    assert erase.action == "privacy.erase" and erase.object_id == str(user.pk)
    assert erase.data["reviews"] == 1 and erase.data["api_tokens"] == 1
    assert "alice" not in json.dumps(erase.data).lower()
    assert verify_chain().ok


def test_erasure_anonymizes_a_developer_and_retires_their_agents(db):
    profile = DeveloperProfileFactory(display_name="Bob Builds", slug="bob-builds")
    profile.bio, profile.website, profile.payout_address = (
        "I am Bob",
        "https://bob.example",
        ADDRESS,
    )
    profile.save()
    agent = AgentFactory(developer=profile)
    user_erase(user=profile.user)
    profile.refresh_from_db()
    agent.refresh_from_db()
    assert profile.display_name == f"Erased developer {profile.pk}"
    assert (profile.bio, profile.website, profile.payout_address) == ("", "", "")
    assert agent.status == Agent.Status.DEPRECATED


def test_erasure_removes_kyc_documents_and_personal_fields(customer, settings):
    from compliance.kyc.models import KycDocument, KycProfile, KycSubmission

    user = customer["user"]
    _add_kyc(user, settings)
    user_erase(user=user)
    assert not KycSubmission.objects.filter(user=user).exists()
    assert not KycDocument.objects.filter(submission__user=user).exists()
    profile = KycProfile.objects.get(user=user)
    assert (profile.level, profile.reason) == (2, "")


def test_erasure_is_refused_for_staff_and_during_runs(customer):
    staff = UserFactory(is_staff=True)
    with pytest.raises(ApplicationError, match="Staff"):
        user_erase(user=staff)
    user = customer["user"]
    Run.objects.filter(pk=customer["run"].pk).update(status=RunStatus.RUNNING)
    with pytest.raises(ApplicationError, match="in progress"):
        user_erase(user=user)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


@pytest.mark.urls("compliance.audit.tests.urls")
def test_delete_my_account_needs_the_password_and_signs_out(client, customer):
    user = customer["user"]
    client.force_login(user)
    url = reverse("audit:privacy_delete")

    wrong = client.post(url, {"password": "wrong", "confirm": "on"})
    assert wrong.status_code == 400 and b"That is not your password" in wrong.content
    unconfirmed = client.post(url, {"password": PASSWORD})
    assert unconfirmed.status_code == 400
    user.refresh_from_db()
    assert user.is_active

    done = client.post(url, {"password": PASSWORD, "confirm": "on"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.email.startswith("erased-") and not user.is_active
    assert client.get(reverse("audit:privacy")).status_code == 302  # signed out
