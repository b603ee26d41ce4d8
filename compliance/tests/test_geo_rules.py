"""Rules and precedence: the default rule set, block / limited / allow, rule changes."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from compliance import geo
from compliance.geo import Outcome, geo_decision, min_kyc_level_for_country
from compliance.models import CountryRule, IpRange, IpRangeList
from compliance.tests.geo_mmdb import (
    CUBA,
    FRANCE,
    FRANCE_TOR,
    GERMANY,
    IRAN,
    NORTH_KOREA_V6,
    UNMAPPED,
    US,
)
from marketplace.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def germany_limited(geo_settings):
    rule = CountryRule.objects.create(
        country="DE", max_transaction_usd=Decimal("500"), min_kyc_level=2
    )
    rule.blocked_categories.add(Category.objects.get(slug="crypto"))
    return rule


@pytest.fixture
def tor_list(geo_settings):
    tor = IpRangeList.objects.create(name="Tor exits", kind=IpRangeList.Kind.TOR)
    IpRange.objects.create(list=tor, cidr="5.40.1.0/24")
    IpRange.objects.create(list=tor, cidr="5.10.1.0/24")  # an exit in a blocked country
    IpRange.objects.create(list=tor, cidr="2a05:d000::/48")
    return tor


def test_default_rules_block_the_sanctioned_countries_and_are_reviewable():
    rules = {rule.country: rule for rule in CountryRule.objects.all()}
    for code in ["CU", "IR", "KP", "SY"]:
        assert rules[code].blocked
        assert rules[code].reviewable
        assert rules[code].reason


def test_blocked_country(geo_settings):
    decision = geo_decision(ip=CUBA)
    assert decision.outcome == Outcome.BLOCK and decision.blocked and not decision.allowed
    assert decision.code == "country_blocked"
    assert "Cuba" in decision.reason
    assert geo_decision(ip=IRAN).blocked
    assert geo_decision(ip=NORTH_KOREA_V6).blocked


def test_allowed_country(geo_settings):
    decision = geo_decision(ip=US)
    assert decision.outcome == Outcome.ALLOW and decision.allowed
    assert decision.country == "US"


def test_limited_country_explains_its_limits(germany_limited):
    decision = geo_decision(ip=GERMANY)
    assert decision.outcome == Outcome.LIMITED and decision.allowed
    assert decision.code == "country_limited"
    assert "Crypto" in decision.reason
    assert "$500.00" in decision.reason
    assert "KYC level 2" in decision.reason
    assert min_kyc_level_for_country("DE") == 2
    assert min_kyc_level_for_country("de") == 2
    assert min_kyc_level_for_country("US") == 0
    assert min_kyc_level_for_country(None) == 0


def test_anonymized_is_limited(tor_list):
    decision = geo_decision(ip=FRANCE_TOR)
    assert decision.outcome == Outcome.LIMITED
    assert decision.code == "anonymized"
    assert geo_decision(ip=FRANCE).outcome == Outcome.ALLOW
    assert geo_decision(ip="2a05:d000::5").code == "anonymized"
    assert geo_decision(ip="2a05:d000:1::5").outcome == Outcome.ALLOW


def test_blocked_country_wins_over_anonymizer(tor_list):
    assert geo_decision(ip=CUBA).code == "country_blocked"


def test_anonymizer_wins_over_country_limits(tor_list, germany_limited):
    IpRange.objects.create(list=tor_list, cidr="5.30.1.0/24")
    assert geo_decision(ip=GERMANY).code == "anonymized"
    assert geo_decision(ip="5.30.2.1").code == "country_limited"


def test_inactive_list_is_ignored(tor_list):
    tor_list.active = False
    tor_list.save()
    assert geo_decision(ip=FRANCE_TOR).outcome == Outcome.ALLOW


def test_explicit_country_overrides_the_lookup(geo_settings):
    assert geo_decision(ip=US, country="cu").blocked
    assert geo_decision(ip=CUBA, country="US").outcome == Outcome.ALLOW


def test_unknown_country(geo_settings):
    assert geo_decision(ip=UNMAPPED).outcome == Outcome.ALLOW
    geo_settings.COMPLIANCE_UNKNOWN_COUNTRY = "block"
    decision = geo_decision(ip=UNMAPPED)
    assert decision.blocked and decision.code == "country_unknown"


def test_rule_changes_apply_at_once_in_this_process(geo_settings):
    assert geo_decision(ip=US).outcome == Outcome.ALLOW
    rule = CountryRule.objects.create(country="us", blocked=True, reason="Testing a block.")
    assert rule.country == "US"
    decision = geo_decision(ip=US)
    assert decision.blocked and decision.reason == "Testing a block."
    rule.delete()
    assert geo_decision(ip=US).outcome == Outcome.ALLOW
    CountryRule.objects.filter(country="CU").update(blocked=False)  # no signal
    cu = CountryRule.objects.get(country="CU")
    cu.save()
    assert not geo_decision(ip=CUBA).blocked


def test_other_processes_reload_when_the_shared_version_changes(geo_settings):
    geo_settings.COMPLIANCE_RULES_RECHECK_SECONDS = 0
    assert geo_decision(ip=CUBA).blocked
    CountryRule.objects.filter(country="CU").update(blocked=False)  # as if another process
    assert geo_decision(ip=CUBA).blocked  # same version: snapshot kept, no DB read
    cache.set(geo.RULES_VERSION_KEY, "bumped-elsewhere", None)
    assert not geo_decision(ip=CUBA).blocked


def test_snapshot_is_not_reread_within_the_recheck_interval(
    geo_settings, django_assert_num_queries
):
    geo_settings.COMPLIANCE_RULES_RECHECK_SECONDS = 60
    geo_decision(ip=US)
    with django_assert_num_queries(0):
        for ip in [US, CUBA, GERMANY, FRANCE, UNMAPPED]:
            geo_decision(ip=ip)


def test_overlapping_ranges_are_merged(geo_settings):
    wide = IpRangeList.objects.create(name="hosting", kind=IpRangeList.Kind.HOSTING)
    IpRange.objects.create(list=wide, cidr="5.20.0.0/16")
    IpRange.objects.create(list=wide, cidr="5.20.1.0/24")
    IpRange.objects.create(list=wide, cidr="5.20.200.7")
    assert geo_decision(ip="5.20.250.1").code == "anonymized"
    assert geo_decision(ip="5.21.0.0").outcome == Outcome.ALLOW
