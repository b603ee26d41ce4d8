"""Geo-fencing decisions: where a request comes from and what that allows.

`geo_decision(ip=..., country=...)` answers block / limited / allow with a human-readable reason.
It runs on every request, so it never touches the database or the network on the hot path:

- the rules (CountryRule, active IpRangeList ranges) live in an in-process snapshot, with one
  precomputed Decision per country and the anonymizer ranges merged into sorted integer intervals
  (one bisect per lookup);
- the snapshot carries a version token kept in the shared cache. Saving or deleting a rule bumps
  the token (compliance/models.py signals); each process compares its token at most every
  COMPLIANCE_RULES_RECHECK_SECONDS (one cache GET) and reloads when it changed. The process that
  made the change drops its snapshot at once;
- the country lookup is cached in process (compliance/geoip).

Precedence: a blocked country blocks (even through an anonymizer); then an anonymizer makes the
request limited (browse yes, restricted categories need a staff decision); then a country with
category, amount or KYC rules is limited; everything else is allowed. An unknown country follows
COMPLIANCE_UNKNOWN_COUNTRY ("allow" by default).

Access decisions are logged by `access_log_record` (see its docstring for what is written).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import ipaddress
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from compliance.geoip import country_for_ip
from compliance.ip import parse_ip

logger = logging.getLogger(__name__)

RULES_VERSION_KEY = "compliance:geo-rules-version"


class Outcome(StrEnum):
    BLOCK = "block"
    LIMITED = "limited"
    ALLOW = "allow"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    code: str = ""
    country: str | None = None

    @property
    def allowed(self) -> bool:
        """True for allow and limited: limited requests go on, later gates look closer."""
        return self.outcome != Outcome.BLOCK

    @property
    def blocked(self) -> bool:
        return self.outcome == Outcome.BLOCK


@dataclass(frozen=True)
class RequestGeo:
    """What the middleware attaches to `request.geo` for later gates."""

    ip: str | None
    country: str | None
    anonymized: bool
    decision: Decision
    anonymizer: str = ""  # the name of the range list that matched


@dataclass(frozen=True)
class CountryPolicy:
    country: str
    blocked: bool
    blocked_categories: dict[str, str]  # slug -> name
    max_transaction_usd: Decimal | None
    min_kyc_level: int
    reason: str
    decision: Decision  # for a request that is not anonymized


@dataclass(frozen=True)
class _Intervals:
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def find(self, value: int) -> str | None:
        index = bisect.bisect_right(self.starts, value) - 1
        if index >= 0 and value <= self.ends[index]:
            return self.names[index]
        return None


@dataclass(frozen=True)
class Rules:
    version: str
    countries: dict[str, CountryPolicy]
    anonymizers_v4: _Intervals
    anonymizers_v6: _Intervals
    restricted_categories: frozenset[str]

    def anonymizer_for(self, ip: str | None) -> str | None:
        address = parse_ip(ip)
        if address is None:
            return None
        table = self.anonymizers_v4 if address.version == 4 else self.anonymizers_v6
        return table.find(int(address)) if table.starts else None


# --- Decisions --------------------------------------------------------------------------------


def _setting(name: str, default):
    return getattr(settings, name, default)


def _country_label(country: str | None) -> str:
    return country or "an unknown country"


def _limited_reason(country: str, categories: dict[str, str], max_usd, min_kyc: int) -> str:
    parts = []
    if categories:
        parts.append("agents in " + ", ".join(sorted(categories.values())) + " are not available")
    if max_usd is not None:
        parts.append(f"a purchase may not exceed ${max_usd:,.2f}")
    if min_kyc:
        parts.append(f"purchases and runs need KYC level {min_kyc} or higher")
    return f"Limited access from {country}: " + "; ".join(parts) + "."


def _policy(rule, categories: dict[str, str]) -> CountryPolicy:
    country = rule.country
    if rule.blocked:
        reason = rule.reason or (
            f"{_setting('SITE_NAME', 'This service')} is not available in {country} "
            "because of legal restrictions that apply to it."
        )
        decision = Decision(Outcome.BLOCK, reason, "country_blocked", country)
    elif categories or rule.max_transaction_usd is not None or rule.min_kyc_level:
        reason = rule.reason or _limited_reason(
            country, categories, rule.max_transaction_usd, rule.min_kyc_level
        )
        decision = Decision(Outcome.LIMITED, reason, "country_limited", country)
    else:
        decision = Decision(Outcome.ALLOW, f"No restrictions apply in {country}.", "", country)
    return CountryPolicy(
        country=country,
        blocked=rule.blocked,
        blocked_categories=categories,
        max_transaction_usd=rule.max_transaction_usd,
        min_kyc_level=rule.min_kyc_level,
        reason=decision.reason,
        decision=decision,
    )


def geo_decision(*, ip: str | None, country: str | None = None) -> Decision:
    """Block / limited / allow for a request from `ip` (placed in `country`, looked up if None)."""
    return request_geo_for(ip=ip, country=country).decision


def request_geo_for(*, ip: str | None, country: str | None = None) -> RequestGeo:
    """The full placement of one request: country, anonymizer, decision. In-memory only once the
    rules are loaded (see `rules_fresh`)."""
    rules = current_rules()
    country = country_for_ip(ip) if country is None else country.upper()
    anonymizer = rules.anonymizer_for(ip) or ""
    policy = rules.countries.get(country) if country else None

    if policy is not None and policy.blocked:
        decision = policy.decision
    elif country is None and _setting("COMPLIANCE_UNKNOWN_COUNTRY", "allow") == "block":
        decision = Decision(
            Outcome.BLOCK,
            "We could not tell which country you are connecting from, and access from unknown "
            "locations is not available.",
            "country_unknown",
            None,
        )
    elif anonymizer:
        decision = Decision(
            Outcome.LIMITED,
            "You are connecting through an anonymizing network or a hosting provider: browsing "
            "works, but buying or running restricted agents needs a manual review first.",
            "anonymized",
            country,
        )
    elif policy is not None:
        decision = policy.decision
    else:
        decision = Decision(
            Outcome.ALLOW, f"No restrictions apply in {_country_label(country)}.", "", country
        )
    return RequestGeo(
        ip=ip,
        country=country,
        anonymized=bool(anonymizer),
        decision=decision,
        anonymizer=anonymizer,
    )


def country_policy(country: str | None) -> CountryPolicy | None:
    if not country:
        return None
    return current_rules().countries.get(country.upper())


def min_kyc_level_for_country(country: str | None) -> int:
    """The minimum KYC level the country's rule requires (0 without a rule)."""
    policy = country_policy(country)
    return policy.min_kyc_level if policy else 0


# --- The rules snapshot -----------------------------------------------------------------------

_lock = threading.Lock()
_rules: Rules | None = None
_checked_at = 0.0


def _shared_version() -> str:
    try:
        version = cache.get(RULES_VERSION_KEY)
        if version is None:
            cache.add(RULES_VERSION_KEY, uuid.uuid4().hex, None)
            version = cache.get(RULES_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the cache being down must not take the site down
        logger.warning("compliance: rules version unavailable, keeping the snapshot", exc_info=True)
        return _rules.version if _rules is not None else "local"
    return version or "local"


def _intervals(rows: list[tuple[int, int, str]]) -> _Intervals:
    rows.sort()
    merged: list[list] = []
    for start, end, name in rows:
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, name])
    return _Intervals(
        starts=[row[0] for row in merged],
        ends=[row[1] for row in merged],
        names=[row[2] for row in merged],
    )


def _load(version: str) -> Rules:
    from compliance.models import CountryRule, IpRange

    rules = CountryRule.objects.prefetch_related("blocked_categories")
    ranges = IpRange.objects.filter(list__active=True).values_list("cidr", "list__name")
    return build_rules(
        version=version,
        rules=[
            (rule, {category.slug: category.name for category in rule.blocked_categories.all()})
            for rule in rules
        ],
        ranges=ranges.iterator(chunk_size=5000),
    )


def build_rules(*, version: str, rules, ranges) -> Rules:
    """A snapshot from (CountryRule, {slug: name}) pairs and (cidr, list name) pairs."""
    countries: dict[str, CountryPolicy] = {}
    restricted = set(_setting("COMPLIANCE_RESTRICTED_CATEGORIES", ("crypto",)))
    for rule, categories in rules:
        restricted.update(categories)
        countries[rule.country] = _policy(rule, categories)

    v4: list[tuple[int, int, str]] = []
    v6: list[tuple[int, int, str]] = []
    for cidr, name in ranges:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            logger.warning("compliance: ignoring invalid range %r in list %r", cidr, name)
            continue
        row = (int(network.network_address), int(network.broadcast_address), name)
        (v4 if network.version == 4 else v6).append(row)
    return Rules(
        version=version,
        countries=countries,
        anonymizers_v4=_intervals(v4),
        anonymizers_v6=_intervals(v6),
        restricted_categories=frozenset(restricted),
    )


def rules_fresh() -> bool:
    """True when `current_rules()` will answer from memory without any I/O (async callers use
    this to decide whether to hop to a thread first)."""
    recheck = _setting("COMPLIANCE_RULES_RECHECK_SECONDS", 2.0)
    return _rules is not None and time.monotonic() - _checked_at < recheck


def current_rules() -> Rules:
    global _rules, _checked_at
    if rules_fresh():
        return _rules  # type: ignore[return-value]
    with _lock:
        if rules_fresh():
            return _rules  # type: ignore[return-value]
        version = _shared_version()
        if _rules is None or _rules.version != version:
            _rules = _load(version)
        _checked_at = time.monotonic()
        return _rules


def rules_changed() -> None:
    """Drop this process's snapshot now and bump the shared version so others reload."""
    global _rules
    _rules = None
    try:
        cache.set(RULES_VERSION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001
        logger.warning("compliance: could not bump the rules version", exc_info=True)
    _rules = None


def install_rules(rules: Rules) -> None:
    """Use `rules` as this process's snapshot (the benchmark; tests use the database)."""
    global _rules, _checked_at
    _rules = rules
    _checked_at = time.monotonic()


def reset_rules() -> None:
    """Forget the snapshot (tests: rows rolled back without a signal)."""
    global _rules, _checked_at
    _rules = None
    _checked_at = 0.0
    _recently_logged.clear()


# --- The access-decision log ------------------------------------------------------------------


_recently_logged: dict[str, float] = {}


def access_log_record(
    *,
    geo: RequestGeo | None,
    decision: Decision,
    point: str = "request",
    path: str = "",
    category: str = "",
    throttle: bool = True,
) -> bool:
    """Write one AccessDecisionLog row; returns whether it was written.

    What is logged (docs/decisions/0010-geo-fencing.md):
    - every block, but for page/API requests at most one row per (IP, decision code, path) per
      COMPLIANCE_ACCESS_LOG_THROTTLE_SECONDS (a blocked bot must not fill the table);
    - limited page/API requests at most once per (IP, code) per throttle window, whatever
      the path (the point is to count who is limited, not every page they read);
    - purchase and run decisions (block and limited) always (`throttle=False` from the gate);
    - allowed requests only as a random sample, COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE (0.0 = none):
      never a database write on every allowed request.
    """
    from compliance.models import AccessDecisionLog

    if decision.outcome == Outcome.ALLOW:
        rate = float(_setting("COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE", 0.0))
        if rate <= 0 or random.random() >= rate:  # noqa: S311 - sampling, not security
            return False
    elif throttle:
        seconds = int(_setting("COMPLIANCE_ACCESS_LOG_THROTTLE_SECONDS", 60))
        scope = path if decision.outcome == Outcome.BLOCK else ""
        digest = hashlib.sha1(  # noqa: S324 - a cache key, not a signature
            f"{geo.ip if geo else ''}|{decision.code}|{scope}".encode()
        ).hexdigest()
        now = time.monotonic()
        if seconds > 0 and now - _recently_logged.get(digest, -1e9) < seconds:
            return False  # seen in this process: no cache round trip
        if len(_recently_logged) > 10_000:
            _recently_logged.clear()
        _recently_logged[digest] = now
        try:
            if seconds > 0 and not cache.add(f"compliance:acl:{digest}", 1, seconds):
                return False
        except Exception:  # noqa: BLE001 - log anyway when the cache is down
            logger.warning("compliance: access-log throttle unavailable", exc_info=True)
    try:
        AccessDecisionLog.objects.create(
            ip=geo.ip if geo else None,
            country=(decision.country or (geo.country if geo else None) or "")[:2],
            anonymized=bool(geo and geo.anonymized),
            point=point,
            path=path[:300],
            category=category[:40],
            decision=str(decision.outcome),
            code=decision.code[:40],
            reason=decision.reason[:300],
        )
    except DatabaseError:
        logger.exception("compliance: could not write the access-decision log")
        return False
    return True


def access_log_purge(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete access-decision rows older than `days` (COMPLIANCE_ACCESS_LOG_DAYS, default 90)."""
    from compliance.models import AccessDecisionLog

    if days is None:
        days = int(_setting("COMPLIANCE_ACCESS_LOG_DAYS", 90))
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = AccessDecisionLog.objects.filter(time__lt=cutoff).delete()
    return deleted
