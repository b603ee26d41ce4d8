"""The developer API (/api/v1/developer/): profile, agents with per-version figures, submissions
(upload, detail, logs), earnings and deprecation. Uploads only create the submission: the
pipeline is enqueued on commit, which these (non-transactional) tests never reach."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.services import api_token_create
from agents.models import (
    ScanFinding,
    SmokeResult,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionStepLog,
)
from agents.tests.test_pipeline import echo_files, targz
from marketplace.models import Agent
from marketplace.tests.factories import (
    AgentFactory,
    AgentVersionFactory,
    CategoryFactory,
    DeveloperProfileFactory,
    UserFactory,
)
from payments.models import ChainDeployment, Purchase, PurchaseStatus, Settlement, Wallet
from runtime.models import Run

pytestmark = pytest.mark.django_db

BASE = "/api/v1/developer/"
ADDR = "0x" + "11" * 20


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


@pytest.fixture
def dev(db):
    CategoryFactory(slug="general")
    return DeveloperProfileFactory()


@pytest.fixture
def dev_client(api_client, dev):
    api_client.force_authenticate(dev.user)
    return api_client


def make_submission(developer, *, slug="echo", version="1.0.0", **changes) -> Submission:
    archive = b"not really a tar"
    submission = Submission.objects.create(
        developer=developer,
        slug=slug,
        version=version,
        manifest={"slug": slug, "version": version},
        archive=archive,
        archive_sha256=hashlib.sha256(archive).hexdigest(),
        archive_size=len(archive),
        **changes,
    )
    SubmissionEvent.objects.create(submission=submission, to_status=SubmissionStatus.SUBMITTED)
    return submission


def upload(dev_client, files, **data):
    archive = SimpleUploadedFile("agent.tar.gz", targz(files).getvalue(), "application/gzip")
    return dev_client.post(f"{BASE}submissions/", {"archive": archive, **data}, format="multipart")


def run(version, status="succeeded", duration_ms=None, failure_reason=""):
    return Run.objects.create(
        user=UserFactory(),
        agent=version.agent,
        version=version,
        input={},
        status=status,
        duration_ms=duration_ms,
        failure_reason=failure_reason,
    )


# ------------------------------------------------------------------------------ access

ENDPOINTS = [
    ("get", ""),
    ("get", "agents/"),
    ("get", "agents/some-agent/"),
    ("post", "agents/some-agent/deprecate/"),
    ("post", "agents/some-agent/versions/1.0.0/deprecate/"),
    ("get", "submissions/"),
    ("post", "submissions/"),
    ("get", f"submissions/{uuid.uuid4()}/"),
    ("get", f"submissions/{uuid.uuid4()}/logs/"),
    ("get", "earnings/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_non_developers_are_told_to_create_a_profile(api_client, method, path):
    assert_error(getattr(api_client, method)(BASE + path), 401, "not_authenticated")
    api_client.force_authenticate(UserFactory())
    error = assert_error(getattr(api_client, method)(BASE + path), 403, "not_a_developer")
    assert "developer profile" in error["message"] and "/profile/" in error["message"]


def test_api_token_authenticates_a_developer(api_client, dev):
    _, raw = api_token_create(user=dev.user, name="ci")
    response = api_client.get(BASE, HTTP_AUTHORIZATION=f"Token {raw}")
    assert response.status_code == 200
    assert response.json()["slug"] == dev.slug


# ------------------------------------------------------------------------------ profile


def test_profile_summary(dev_client, dev):
    body = dev_client.get(BASE).json()
    assert body == {
        "slug": dev.slug,
        "display_name": dev.display_name,
        "verified": True,
        "payout_address": None,
        "payout_wallet_linked": False,
        "agent_count": 0,
        "submission_count": 0,
        "submissions_pending": 0,
        "created_at": body["created_at"],
    }

    Wallet.objects.create(user=dev.user, address="0x" + "22" * 20, is_primary=False)
    Wallet.objects.create(user=dev.user, address=ADDR, is_primary=True)
    Wallet.objects.create(user=UserFactory(), address="0x" + "33" * 20, is_primary=True)
    AgentFactory(developer=dev)
    AgentFactory(developer=dev)
    AgentFactory()  # someone else's
    make_submission(dev, version="1.0.0")
    make_submission(dev, version="1.0.1", status=SubmissionStatus.PENDING_REVIEW)
    make_submission(dev, version="1.0.2", status=SubmissionStatus.FAILED)
    make_submission(dev, version="1.0.3", status=SubmissionStatus.APPROVED)
    make_submission(DeveloperProfileFactory(), slug="other")

    body = dev_client.get(BASE).json()
    assert body["payout_address"] is None, "linking a wallet does not change where payouts go"
    assert (body["agent_count"], body["submission_count"], body["submissions_pending"]) == (2, 4, 2)


def test_payouts_go_to_a_linked_wallet_of_mine(dev_client, dev):
    mine = Wallet.objects.create(user=dev.user, address=ADDR, is_primary=True)
    theirs = Wallet.objects.create(user=UserFactory(), address="0x" + "33" * 20, is_primary=True)
    assert_error(dev_client.post(f"{BASE}payout/", {"wallet": theirs.pk}), 404, "not_found")
    missing = dev_client.post(f"{BASE}payout/", {}, format="json")
    assert missing.status_code == 400 and "wallet" in missing.json()["error"]["fields"]
    body = dev_client.post(f"{BASE}payout/", {"wallet": mine.pk}, format="json").json()
    assert (body["payout_address"], body["payout_wallet_linked"]) == (ADDR, True)
    dev.refresh_from_db()
    assert dev.payout_address == ADDR


# ------------------------------------------------------------------------------ agents


def test_agents_with_versions_and_their_run_figures(dev_client, dev):
    agent = AgentFactory(developer=dev, slug="mine", name="Mine", price=Decimal("2.5"))
    old = agent.current_version
    new = AgentVersionFactory(agent=agent, version="2.0.0", price=Decimal("3"))
    for ms in (1000, 2000, 3000, 4000):
        run(old, duration_ms=ms)
    run(old, "failed", failure_reason="agent_error")
    run(old, "failed", failure_reason="agent_error")
    run(old, "timed_out", failure_reason="timeout")
    AgentFactory(developer=DeveloperProfileFactory(), slug="theirs")

    body = dev_client.get(f"{BASE}agents/").json()
    assert [a["slug"] for a in body] == ["mine"]
    mine = body[0]
    assert mine["status"] == "active" and mine["current_version"] == old.version
    assert mine["category"] == "general"
    assert [v["version"] for v in mine["versions"]] == ["2.0.0", old.version]
    newest, oldest = mine["versions"]
    assert newest["stats"] == {
        "runs": 0,
        "success_rate": None,
        "median_s": None,
        "p95_s": None,
        "top_errors": [],
    }
    assert newest["price"] == "3.000000000000000000" and newest["image_ref"] == new.image_ref
    assert oldest["price"] == "2.500000000000000000" and oldest["currency"] == "USDC"
    assert oldest["image_ref"] == old.image_ref
    assert oldest["deprecated"] is False and oldest["deprecated_at"] is None
    assert oldest["stats"] == {
        "runs": 7,
        "success_rate": 57.1,
        "median_s": 3.0,
        "p95_s": 4.0,
        "top_errors": [{"reason": "agent_error", "count": 2}, {"reason": "timeout", "count": 1}],
    }
    assert dev_client.get(f"{BASE}agents/mine/").json() == mine
    assert_error(dev_client.get(f"{BASE}agents/theirs/"), 404, "not_found")
    assert_error(dev_client.get(f"{BASE}agents/nothing/"), 404, "not_found")


# ------------------------------------------------------------------------------ submit


def test_submit_a_new_agent(dev_client, dev):
    response = upload(dev_client, echo_files())
    assert response.status_code == 201, response.content
    body = response.json()
    submission = Submission.objects.get()
    assert submission.developer == dev and submission.agent is None
    assert body["id"] == str(submission.public_id)
    assert (body["slug"], body["version"], body["status"]) == ("echo", "1.0.0", "submitted")
    assert body["agent"] is None and body["failed_step"] == ""
    assert body["manifest"]["slug"] == "echo" and body["manifest"]["name"] == "Echo"
    assert body["archive_size"] == submission.archive_size
    assert [e["to_status"] for e in body["events"]] == ["submitted"]
    assert body["url"].endswith(f"/api/v1/developer/submissions/{submission.public_id}/")
    assert body["logs_url"].endswith("/logs/")


def test_submit_a_new_version_of_my_agent_only(dev_client, dev):
    mine = AgentFactory(developer=dev, slug="echo", price=Decimal("1"))
    mine.current_version.version = "0.9.0"
    mine.current_version.save(update_fields=["version"])
    AgentFactory(slug="theirs")

    response = upload(dev_client, echo_files(), agent="echo")
    assert response.status_code == 201, response.content
    assert response.json()["agent"] == "echo"
    assert Submission.objects.get().agent == mine

    for slug in ("theirs", "nothing"):
        error = assert_error(
            upload(dev_client, echo_files(slug=slug), agent=slug), 400, "validation_error"
        )
        assert list(error["fields"]) == ["agent"]
    assert Submission.objects.count() == 1


def test_invalid_manifest_reports_every_field(dev_client):
    files = echo_files(version="one", resources={"memory_mb": "lots"})
    files["agent.yaml"] = files["agent.yaml"].replace("name: Echo\n", "")
    error = assert_error(upload(dev_client, files), 400, "validation_error")
    fields = error["fields"]
    assert set(fields) == {"name", "version", "resources.memory_mb"}, fields
    assert all(isinstance(messages, list) and messages for messages in fields.values())
    assert not Submission.objects.exists()


def test_upload_errors_name_the_archive(dev_client, settings):
    error = assert_error(
        dev_client.post(f"{BASE}submissions/", {}, format="multipart"), 400, "validation_error"
    )
    assert "archive" in error["fields"]

    error = assert_error(
        upload(dev_client, {"Dockerfile": "FROM scratch\n"}), 400, "validation_error"
    )
    assert "archive" in error["fields"]

    settings.AGENTS_MAX_ARCHIVE_BYTES = 200
    error = assert_error(upload(dev_client, echo_files()), 400, "validation_error")
    assert "larger than" in error["fields"]["archive"][0]
    assert not Submission.objects.exists()


def test_a_taken_slug_is_a_conflict_on_slug(dev_client):
    AgentFactory(slug="echo")
    error = assert_error(upload(dev_client, echo_files()), 409, "slug_taken")
    assert "slug" in error["fields"]


# ------------------------------------------------------------------------------ submissions


def test_submissions_are_mine_newest_first_and_paginated(dev_client, dev):
    base = timezone.now()
    for n in range(23):
        submission = make_submission(dev, version=f"1.0.{n}")
        Submission.objects.filter(pk=submission.pk).update(created_at=base + timedelta(minutes=n))
    make_submission(DeveloperProfileFactory(), slug="other")

    page1 = dev_client.get(f"{BASE}submissions/").json()
    assert page1["count"] == 23 and len(page1["results"]) == 20 and page1["next"]
    assert page1["results"][0]["version"] == "1.0.22"
    assert page1["results"][19]["version"] == "1.0.3"
    page2 = dev_client.get(page1["next"]).json()
    assert [s["version"] for s in page2["results"]] == ["1.0.2", "1.0.1", "1.0.0"]
    assert page2["next"] is None
    small = dev_client.get(f"{BASE}submissions/", {"page_size": 5, "page": 2}).json()
    assert [s["version"] for s in small["results"]] == [f"1.0.{n}" for n in range(17, 12, -1)]
    assert_error(dev_client.get(f"{BASE}submissions/", {"page": 9}), 404, "not_found")


def test_submission_detail(dev_client, dev):
    submission = make_submission(
        dev,
        status=SubmissionStatus.FAILED,
        failed_step="smoke",
        error_message="Example 1 failed.",
        image_ref="agentnexus/agent-echo:1.0.0-abc",
    )
    SubmissionEvent.objects.create(
        submission=submission,
        from_status=SubmissionStatus.SUBMITTED,
        to_status=SubmissionStatus.FAILED,
        message="Example 1 failed.",
    )
    ScanFinding.objects.create(
        submission=submission, check_name="user", severity="warning", message="Runs as root."
    )
    SmokeResult.objects.create(
        submission=submission,
        example_index=0,
        status="failed",
        input={"name": "Ada"},
        output=None,
        error="greeting: 42 is not a string",
        duration_ms=812,
    )

    body = dev_client.get(f"{BASE}submissions/{submission.public_id}/").json()
    assert (body["status"], body["failed_step"]) == ("failed", "smoke")
    assert body["error_message"] == "Example 1 failed." and body["feedback"] == ""
    assert body["image_ref"] == "agentnexus/agent-echo:1.0.0-abc"
    assert body["manifest"] == {"slug": "echo", "version": "1.0.0"}
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "submitted"),
        ("submitted", "failed"),
    ]
    assert body["findings"] == [
        {
            "check": "user",
            "severity": "warning",
            "message": "Runs as root.",
            "created_at": body["findings"][0]["created_at"],
        }
    ]
    assert body["smoke_results"] == [
        {
            "example_index": 0,
            "status": "failed",
            "input": {"name": "Ada"},
            "output": None,
            "error": "greeting: 42 is not a string",
            "duration_ms": 812,
        }
    ]

    theirs = make_submission(DeveloperProfileFactory(), slug="other")
    assert_error(dev_client.get(f"{BASE}submissions/{theirs.public_id}/"), 404, "not_found")
    assert_error(dev_client.get(f"{BASE}submissions/{theirs.public_id}/logs/"), 404, "not_found")
    assert_error(dev_client.get(f"{BASE}submissions/{uuid.uuid4()}/"), 404, "not_found")


def test_submission_logs_after_a_sequence_number(dev_client, dev):
    submission = make_submission(dev, status=SubmissionStatus.BUILDING)
    for seq in range(1, 6):
        SubmissionStepLog.objects.create(
            submission=submission, step="build", seq=seq, line=f"line {seq}"
        )
    logs = f"{BASE}submissions/{submission.public_id}/logs/"

    body = dev_client.get(logs).json()
    assert body["status"] == "building" and body["next_after"] == 5
    assert body["lines"][0] == {"seq": 1, "step": "build", "line": "line 1"}
    body = dev_client.get(logs, {"after": 2, "limit": 2}).json()
    assert [line["seq"] for line in body["lines"]] == [3, 4] and body["next_after"] == 4
    body = dev_client.get(logs, {"after": 5}).json()
    assert body["lines"] == [] and body["next_after"] == 5

    error = assert_error(dev_client.get(logs, {"after": -1, "limit": 0}), 400, "validation_error")
    assert set(error["fields"]) == {"after", "limit"}


# ------------------------------------------------------------------------------ earnings


def test_earnings(dev_client, dev):
    agent = AgentFactory(developer=dev, slug="paid", name="Paid", price=Decimal("1"))
    deployment = ChainDeployment.objects.create(
        chain_id=31337, escrow_address=ADDR, entitlements_address=ADDR, deployer_address=ADDR,
        admin_address=ADDR, orchestrator_address=ADDR, pauser_address=ADDR,
        fee_recipient_address=ADDR, fee_bps=250, payment_ttl_seconds=600, block_number=1,
        entitlements_tx="0x1", escrow_tx="0x2", compiler_version="test",
    )  # fmt: skip
    buyer = UserFactory()
    purchase = Purchase.objects.create(
        public_id=uuid.uuid4(), user=buyer, agent=agent, deployment=deployment,
        buyer_address=ADDR, token_address=ADDR, currency="USDC", runs=3, unit_price=1_000_000,
        total=3_000_000, status=PurchaseStatus.COMPLETED,
    )  # fmt: skip
    for status, kind in (
        ("confirmed", "release"),
        ("confirmed", "release"),
        ("pending", "release"),
    ):
        finished = run(agent.current_version)
        Settlement.objects.create(
            run=finished,
            purchase=purchase,
            run_ref=f"0x{finished.pk:064x}",
            kind=kind,
            status=status,
            amount=1_000_000,
            developer_amount=975_000,
            fee_amount=25_000,
        )

    body = dev_client.get(f"{BASE}earnings/", {"days": 7}).json()
    assert body["days"] == 7
    assert body["per_agent"] == [
        {
            "slug": "paid",
            "name": "Paid",
            "currency": "USDC",
            "runs": 2,
            "amount": "1.950000000000000000",
        }
    ]
    assert body["per_day"] == [
        {
            "day": timezone.now().date().isoformat(),
            "currency": "USDC",
            "runs": 2,
            "amount": "1.950000000000000000",
        }
    ]
    assert dev_client.get(f"{BASE}earnings/").json()["days"] == 30

    other = DeveloperProfileFactory()
    dev_client.force_authenticate(other.user)
    assert dev_client.get(f"{BASE}earnings/").json()["per_agent"] == []
    error = assert_error(dev_client.get(f"{BASE}earnings/", {"days": 0}), 400, "validation_error")
    assert "days" in error["fields"]


# ------------------------------------------------------------------------------ deprecation


def test_deprecate_an_agent(dev_client, dev):
    AgentFactory(developer=dev, slug="mine", price=Decimal("1"))
    theirs = AgentFactory(slug="theirs", price=Decimal("1"))

    response = dev_client.post(f"{BASE}agents/mine/deprecate/", {"reason": "Replaced by mine-2."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "deprecated" and body["status_reason"] == "Replaced by mine-2."
    assert Agent.objects.get(slug="mine").status == Agent.Status.DEPRECATED
    # Again: already deprecated, nothing changes.
    assert dev_client.post(f"{BASE}agents/mine/deprecate/").json()["status"] == "deprecated"

    assert_error(dev_client.post(f"{BASE}agents/theirs/deprecate/"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.status == Agent.Status.ACTIVE

    reactivated = dev_client.post(f"{BASE}agents/mine/reactivate/")
    assert reactivated.status_code == 200 and reactivated.json()["status"] == "active"
    assert_error(dev_client.post(f"{BASE}agents/theirs/reactivate/"), 404, "not_found")

    Agent.objects.filter(slug="mine").update(status=Agent.Status.SUSPENDED)
    # Only staff lift a suspension, also towards deprecated.
    assert_error(dev_client.post(f"{BASE}agents/mine/deprecate/"), 403, "permission_denied")
    assert_error(dev_client.post(f"{BASE}agents/mine/reactivate/"), 403, "permission_denied")
    assert Agent.objects.get(slug="mine").status == Agent.Status.SUSPENDED


def test_deprecate_a_version(dev_client, dev):
    agent = AgentFactory(developer=dev, slug="mine", price=Decimal("1"))
    current = agent.current_version
    old = AgentVersionFactory(agent=agent, version="0.1.0")
    theirs = AgentFactory(slug="theirs", price=Decimal("1"))

    response = dev_client.post(f"{BASE}agents/mine/versions/0.1.0/deprecate/")
    assert response.status_code == 200, response.content
    shown = {v["version"]: v for v in response.json()["versions"]}
    assert shown["0.1.0"]["deprecated"] is True and shown["0.1.0"]["deprecated_at"]
    assert shown[current.version]["deprecated"] is False
    old.refresh_from_db()
    assert old.deprecated_at is not None

    assert_error(
        dev_client.post(f"{BASE}agents/mine/versions/{current.version}/deprecate/"),
        409,
        "current_version",
    )
    assert_error(dev_client.post(f"{BASE}agents/mine/versions/9.9.9/deprecate/"), 404, "not_found")
    version = theirs.current_version.version
    assert_error(
        dev_client.post(f"{BASE}agents/theirs/versions/{version}/deprecate/"), 404, "not_found"
    )
    error = assert_error(
        dev_client.post(f"{BASE}agents/mine/deprecate/", {"reason": "x" * 1001}),
        400,
        "validation_error",
    )
    assert "reason" in error["fields"]
