"""Staff views: the read-only audit admin, its CSV export, the monthly compliance report, and
the admin mixin that records admin actions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse

from accounts.admin import UserAdmin
from compliance.audit import report as report_module
from compliance.audit.models import AuditEntry
from compliance.audit.report import compliance_report
from compliance.audit.services import audit_record
from marketplace.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


def _entry_at(when: datetime, action: str) -> AuditEntry:
    from django.utils import timezone

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timezone, "now", lambda: when)
        return audit_record(actor=None, action=action, data={"formula": "=1+1"})


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_export_of_a_date_range(client, staff):
    _entry_at(datetime(2026, 3, 31, 23, 59, tzinfo=UTC), "before")
    _entry_at(datetime(2026, 4, 1, 0, 0, tzinfo=UTC), "first-day")
    _entry_at(datetime(2026, 4, 15, 23, 59, 59, tzinfo=UTC), "last-day")
    _entry_at(datetime(2026, 4, 16, 0, 0, tzinfo=UTC), "after")
    client.force_login(staff)

    response = client.get(
        reverse("admin:audit_auditentry_export"), {"start": "2026-04-01", "end": "2026-04-15"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit-20260401-20260415.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:5] == ["seq", "created_at", "actor_label", "actor_id", "action"]
    assert [r[4] for r in rows[1:]] == ["first-day", "last-day"]
    assert rows[1][7] == '{"formula": "=1+1"}'
    # The export is itself audited.
    last = AuditEntry.objects.order_by("-seq").first()
    assert last.action == "audit.export" and last.data == {
        "start": "2026-04-01",
        "end": "2026-04-15",
    }


def test_csv_export_form_and_validation(client, staff):
    client.force_login(staff)
    url = reverse("admin:audit_auditentry_export")
    assert b"Download CSV" in client.get(url).content
    bad = client.get(url, {"start": "2026-04-15", "end": "2026-04-01"})
    assert bad.status_code == 200 and b"must not be after" in bad.content


def test_csv_export_is_staff_only(client):
    url = reverse("admin:audit_auditentry_export")
    params = {"start": "2026-04-01", "end": "2026-04-15"}
    assert client.get(url, params).status_code == 302  # anonymous: to the admin login
    client.force_login(UserFactory())
    response = client.get(url, params)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    # Staff without the view permission on audit entries: forbidden.
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url, params).status_code == 403
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_auditentry"))
    client.force_login(viewer)
    assert client.get(url, params).status_code == 200


def test_audit_admin_is_read_only(client, staff):
    entry = audit_record(actor=None, action="test.event")
    client.force_login(staff)
    listing = client.get(reverse("admin:audit_auditentry_changelist"))
    assert listing.status_code == 200 and b"Export CSV" in listing.content
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    change = client.post(
        reverse("admin:audit_auditentry_change", args=[entry.pk]), {"action": "forged"}
    )
    assert change.status_code == 403
    delete = client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.event"


# ---------------------------------------------------------------------------------------------
# Monthly compliance report
# ---------------------------------------------------------------------------------------------


def _decision(when: datetime, **fields):
    from compliance.models import AccessDecisionLog

    row = AccessDecisionLog.objects.create(**fields)
    AccessDecisionLog.objects.filter(pk=row.pk).update(time=when)
    return row


@pytest.fixture
def decisions(db):
    april = datetime(2026, 4, 10, 12, tzinfo=UTC)
    for _ in range(3):
        _decision(april, country="IR", decision="block", reason="Sanctioned country", path="/")
    _decision(april, country="US", decision="block", category="crypto", reason="KYC level 2 needed")
    _decision(april, country="US", decision="limited", category="crypto", reason="Over limit")
    _decision(april, country="US", decision="allow", point="purchase", category="general")
    _decision(datetime(2026, 5, 1, tzinfo=UTC), country="CU", decision="block", reason="x")
    _decision(datetime(2026, 3, 31, 23, 59, tzinfo=UTC), country="KP", decision="block")


def test_report_counts_attempts_and_blocks_by_country_category_and_reason(decisions):
    report = compliance_report(month=date(2026, 4, 20))
    assert report.available
    assert (report.attempts, report.blocks, report.limited) == (6, 4, 1)
    assert [(r.key, r.attempts, r.blocks) for r in report.by_country] == [
        ("IR", 3, 3),
        ("US", 3, 1),
    ]
    assert {(r.key, r.attempts, r.blocks, r.limited) for r in report.by_category} == {
        ("(none)", 3, 3, 0),
        ("crypto", 2, 1, 1),
        ("general", 1, 0, 0),
    }
    assert report.by_reason[0].key == "Sanctioned country" and report.by_reason[0].blocks == 3


def test_report_page_and_csv_export(client, staff, decisions):
    client.force_login(staff)
    url = reverse("admin:audit_auditentry_report")
    page = client.get(url, {"month": "2026-04"})
    assert page.status_code == 200
    assert (
        b"Compliance report, April 2026" in page.content and b"Sanctioned country" in page.content
    )
    response = client.get(url, {"month": "2026-04", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="compliance-report-2026-04.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["month", "dimension", "value", "attempts", "blocks", "limited"]
    assert ["2026-04", "total", "all", "6", "4", "1"] in rows
    assert ["2026-04", "country", "IR", "3", "3", "0"] in rows
    assert ["2026-04", "category", "crypto", "2", "1", "1"] in rows


def test_report_is_staff_only(client):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:audit_auditentry_report"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_report_without_the_access_log_says_so(client, staff, monkeypatch):
    monkeypatch.setattr(report_module, "access_decision_model", lambda: None)
    report = compliance_report(month=date(2026, 4, 1))
    assert not report.available and report.attempts == 0
    client.force_login(staff)
    page = client.get(reverse("admin:audit_auditentry_report"), {"month": "2026-04"})
    assert b"not installed" in page.content


# ---------------------------------------------------------------------------------------------
# AuditedAdminMixin
# ---------------------------------------------------------------------------------------------


# The project's UserAdmin already carries the mixin.
AuditedUserAdmin = UserAdmin


def _request(user):
    request = RequestFactory().post("/admin/")
    request.user = user
    return request


def test_mixin_records_additions_changes_and_deletions(staff):
    model_admin = AuditedUserAdmin(UserFactory._meta.model, admin.site)
    target = UserFactory(email="target@example.com")
    request = _request(staff)

    model_admin.log_addition(request, target, [{"added": {}}])
    model_admin.log_change(request, target, [{"changed": {"fields": ["Active"]}}])
    model_admin.log_deletions(request, [target])

    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.action for e in entries] == ["admin.add", "admin.change", "admin.delete"]
    for entry in entries:
        assert entry.actor == staff and entry.object_type == "accounts.user"
        assert entry.object_id == str(target.pk)
        assert "target@example.com" not in str(entry.data)
    assert entries[1].data["message"] == [{"changed": {"fields": ["Active"]}}]
    assert LogEntry.objects.filter(object_id=str(target.pk)).count() == 3  # Django's log too


def test_mixin_records_bulk_actions(staff):
    def deactivate(modeladmin, request, queryset):
        queryset.update(is_active=False)

    user_model = UserFactory._meta.model
    model_admin = AuditedUserAdmin(user_model, admin.site)
    model_admin.actions = [deactivate]
    targets = [UserFactory(), UserFactory()]
    request = _request(staff)
    actions = model_admin.get_actions(request)
    assert "delete_selected" in actions  # recorded per object by log_deletions instead

    func = actions["deactivate"][0]
    func(model_admin, request, user_model.objects.filter(pk__in=[t.pk for t in targets]))
    assert not user_model.objects.filter(pk__in=[t.pk for t in targets], is_active=True).exists()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.actor) == ("admin.action", staff)
    assert entry.data["action"] == "deactivate" and entry.data["model"] == "accounts.user"
    assert sorted(entry.data["ids"]) == sorted(str(t.pk) for t in targets)
