"""Purchase and run checks: category blocks, maximum transaction, anonymized review."""

from decimal import Decimal

import pytest

from compliance.gate_geo import min_kyc_level_for_country, purchase_geo_check, run_geo_check
from compliance.geo import Outcome, request_geo_for
from compliance.models import (
    AccessDecisionLog,
    AnonymizedAccessApproval,
    CountryRule,
    IpRange,
    IpRangeList,
)
from compliance.tests.geo_mmdb import CUBA, FRANCE, FRANCE_TOR, GERMANY, US
from marketplace.models import Category
from marketplace.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(geo_settings):
    germany = CountryRule.objects.create(
        country="DE", max_transaction_usd=Decimal("500"), min_kyc_level=1
    )
    germany.blocked_categories.add(Category.objects.get(slug="automation"))
    tor = IpRangeList.objects.create(name="Tor", kind=IpRangeList.Kind.TOR)
    IpRange.objects.create(list=tor, cidr="5.40.1.0/24")


def test_category_blocked_in_the_country(rules):
    geo = request_geo_for(ip=GERMANY)
    decision = purchase_geo_check(
        request_geo=geo, category_slug="automation", amount_usd=Decimal("10")
    )
    assert decision.blocked and decision.code == "category_blocked"
    assert "Automation" in decision.reason
    assert run_geo_check(request_geo=geo, category_slug="automation").blocked
    assert run_geo_check(request_geo=geo, category_slug="general").allowed
    # the same category elsewhere is fine
    assert purchase_geo_check(
        request_geo=request_geo_for(ip=US), category_slug="automation", amount_usd=Decimal("10")
    ).allowed


def test_maximum_transaction(rules):
    geo = request_geo_for(ip=GERMANY)
    ok = purchase_geo_check(request_geo=geo, category_slug="general", amount_usd=Decimal("500"))
    assert ok.outcome == Outcome.ALLOW
    over = purchase_geo_check(
        request_geo=geo, category_slug="general", amount_usd=Decimal("500.01")
    )
    assert over.blocked and over.code == "amount_over_country_limit"
    assert "$500.00" in over.reason
    assert min_kyc_level_for_country("DE") == 1


def test_blocked_country_is_blocked_at_every_point(rules):
    geo = request_geo_for(ip=CUBA)
    assert purchase_geo_check(
        request_geo=geo, category_slug="general", amount_usd=Decimal("1")
    ).blocked
    assert run_geo_check(request_geo=geo, category_slug="general").blocked


def test_anonymized_restricted_category_needs_a_staff_decision(rules):
    user = UserFactory()
    staff = UserFactory(is_staff=True)
    geo = request_geo_for(ip=FRANCE_TOR)
    assert geo.anonymized

    # Unrestricted categories are fine through an anonymizer.
    assert run_geo_check(request_geo=geo, category_slug="general", user=user).allowed

    # Crypto (COMPLIANCE_RESTRICTED_CATEGORIES) and any category blocked somewhere are restricted.
    for category in ["crypto", "automation"]:
        decision = run_geo_check(request_geo=geo, category_slug=category, user=user)
        assert decision.blocked and decision.code == "anonymized_review_required"
    approvals = AnonymizedAccessApproval.objects.filter(user=user)
    assert [a.decision for a in approvals] == ["pending"]  # one request for staff, not one per try

    approval = approvals.get()
    approval.decision = AnonymizedAccessApproval.Decision.APPROVED
    approval.decided_by = staff
    approval.save()
    decision = purchase_geo_check(
        request_geo=geo, category_slug="crypto", amount_usd=Decimal("5"), user=user
    )
    assert decision.allowed and decision.code == "anonymized_approved"

    AnonymizedAccessApproval.objects.create(
        user=user, decided_by=staff, decision=AnonymizedAccessApproval.Decision.REJECTED
    )
    decision = run_geo_check(request_geo=geo, category_slug="crypto", user=user)
    assert decision.blocked and "refused" in decision.reason

    # Not anonymized: no review needed.
    assert run_geo_check(
        request_geo=request_geo_for(ip=FRANCE), category_slug="crypto", user=user
    ).allowed


def test_refusals_are_logged(rules):
    geo = request_geo_for(ip=GERMANY)
    for _ in range(2):
        purchase_geo_check(request_geo=geo, category_slug="automation", amount_usd=Decimal("1"))
    run_geo_check(request_geo=geo, category_slug="general")  # allowed: not logged
    rows = AccessDecisionLog.objects.all()
    assert rows.count() == 2
    assert {(r.point, r.category, r.code) for r in rows} == {
        ("purchase", "automation", "category_blocked")
    }


def test_missing_request_geo_is_an_unknown_location(rules):
    assert run_geo_check(request_geo=None, category_slug="general").allowed
