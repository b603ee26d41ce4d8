"""Access-decision log retention and the anonymizer range import."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.geo import Outcome, geo_decision
from compliance.models import AccessDecisionLog, IpRange, IpRangeList
from compliance.tasks import access_log_purge_task
from compliance.tests.geo_mmdb import FRANCE, FRANCE_TOR

pytestmark = pytest.mark.django_db


def _row(days_old: int) -> AccessDecisionLog:
    row = AccessDecisionLog.objects.create(ip="5.10.1.1", country="CU", decision="block")
    AccessDecisionLog.objects.filter(pk=row.pk).update(
        time=timezone.now() - dt.timedelta(days=days_old)
    )
    return row


def test_purge_keeps_the_retention_period(settings):
    settings.COMPLIANCE_ACCESS_LOG_DAYS = 30
    old, recent = _row(31), _row(29)
    assert access_log_purge_task() == 1
    assert list(AccessDecisionLog.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk not in AccessDecisionLog.objects.values_list("pk", flat=True)


def test_purge_command_default_90_days():
    _row(91), _row(89)
    out = io.StringIO()
    call_command("purge_access_log", stdout=out)
    assert "Deleted 1" in out.getvalue()
    assert AccessDecisionLog.objects.count() == 1


def test_import_ip_ranges(tmp_path, geo_settings):
    source = tmp_path / "tor.txt"
    source.write_text("# Tor exits\n5.40.1.7\n5.40.1.0/24  # a block\n\nnonsense\n2a05:d000::/48\n")
    out, err = io.StringIO(), io.StringIO()
    assert geo_decision(ip=FRANCE_TOR).outcome == Outcome.ALLOW
    call_command(
        "import_ip_ranges", str(source), "--list", "Tor", "--kind", "tor", stdout=out, stderr=err
    )
    assert "3 added" in out.getvalue() and "1 rejected" in out.getvalue()
    assert "line 5" in err.getvalue()
    tor = IpRangeList.objects.get(name="Tor")
    assert tor.kind == "tor"
    assert set(tor.ranges.values_list("cidr", flat=True)) == {
        "5.40.1.7/32",
        "5.40.1.0/24",
        "2a05:d000::/48",
    }
    assert geo_decision(ip=FRANCE_TOR).code == "anonymized"  # visible at once

    source.write_text("5.40.1.0/24\n")
    out = io.StringIO()
    call_command("import_ip_ranges", str(source), "--list", "Tor", "--replace", stdout=out)
    assert "0 added, 2 removed, 1 already present" in out.getvalue()
    assert list(IpRange.objects.values_list("cidr", flat=True)) == ["5.40.1.0/24"]
    assert geo_decision(ip=FRANCE).outcome == Outcome.ALLOW
