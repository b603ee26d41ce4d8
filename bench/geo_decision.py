#!/usr/bin/env python
"""Geo decision latency: the per-request cost of geo-fencing, in process.

    DATABASE_URL=postgres://dev:dev@127.0.0.1:5432/agentnexus_geo \\
    REDIS_URL=redis://127.0.0.1:6379/14 \\
    .venv/bin/python bench/geo_decision.py [--iterations 100000] [--json PATH]

No database or Redis is touched (the URLs only satisfy the settings module): the rules snapshot
is built from synthetic rows with compliance.geo.build_rules, exactly as a reload builds it —
4 blocked countries + 60 limited ones (blocked categories, amount and KYC limits), and anonymizer
lists of 1,500 Tor exits (/32), 20,000 hosting networks (/20-/28) and 2,000 IPv6 /48s. The country
database is a .mmdb of 5,000 networks written with mmdb-writer, then the bundled default (iptocc).

Measured per call with perf_counter_ns, after 5,000 unmeasured warm-up calls:

    decision_warm    geo_decision(ip=...) over a pool of 2,000 addresses (lookup cache hits)
    decision_cold    geo_decision(ip=...) with a new address every call (country lookup misses)
    middleware       GeoFenceMiddleware on a prebuilt request (client IP through one trusted
                     proxy + X-Forwarded-For, placement, request.geo), allowed addresses, the
                     view a no-op. Blocked and limited requests add an access-log write that
                     allowed requests never make.

The once-every-COMPLIANCE_RULES_RECHECK_SECONDS cache GET (rules version) is not in the loop.
Writes bench/results/geo_decision.json; exit status 1 when a p99 is 1 ms or more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import json
import os
import platform
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results" / "geo_decision.json"
BUDGET_NS = 1_000_000


def _setup_django() -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agentnexus.settings.test")
    import django

    django.setup()


def _countries(rng: random.Random) -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = {a + b for a in letters for b in letters}
    return sorted(rng.sample(sorted(codes - {"CU", "IR", "KP", "SY", "US"}), 120))


def synthetic_rules(rng: random.Random, version: str = "bench"):
    from compliance.geo import build_rules

    rules = []
    for code in ["CU", "IR", "KP", "SY"]:
        rules.append(
            (
                SimpleNamespace(
                    country=code, blocked=True, reason="", max_transaction_usd=None, min_kyc_level=0
                ),
                {},
            )
        )
    for code in _countries(rng)[:60]:
        rule = SimpleNamespace(
            country=code,
            blocked=False,
            reason="",
            max_transaction_usd=Decimal(rng.choice([100, 500, 1000, 5000])),
            min_kyc_level=rng.randint(0, 3),
        )
        rules.append((rule, {"crypto": "Crypto"} if rng.random() < 0.5 else {}))
    ranges = []
    for _ in range(1_500):
        ranges.append(
            (
                f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}/32",
                "tor",
            )
        )
    for _ in range(20_000):
        prefix = rng.randint(20, 28)
        net = ipaddress.ip_network(
            f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/{prefix}",
            strict=False,
        )
        ranges.append((str(net), "hosting"))
    for _ in range(2_000):
        ranges.append(
            (
                f"2a0{rng.randint(0, 9)}:{rng.randint(0, 0xFFFF):x}:{rng.randint(0, 0xFFFF):x}::/48",
                "hosting6",
            )
        )
    return build_rules(version=version, rules=rules, ranges=ranges)


def write_mmdb(path: Path, rng: random.Random) -> Path:
    from compliance.tests.geo_mmdb import write_country_mmdb

    codes = _countries(rng) + ["CU", "IR", "KP", "SY", "US"]
    networks: dict[str, str] = {}
    while len(networks) < 5_000:
        first = rng.randint(1, 223)
        if first in {10, 127}:
            continue
        net = ipaddress.ip_network(f"{first}.{rng.randint(0, 255)}.0.0/16")
        if net.is_global:
            networks[str(net)] = rng.choice(codes)
    return write_country_mmdb(path, networks)


def _random_public_ip(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.getrandbits(32))
        if address.is_global:
            return str(address)


def _stats(samples: list[int]) -> dict:
    samples.sort()
    n = len(samples)

    def pct(p: float) -> float:
        return round(samples[min(n - 1, int(p * n))] / 1000, 2)

    return {
        "n": n,
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "p999_us": pct(0.999),
        "max_us": round(samples[-1] / 1000, 2),
        "mean_us": round(sum(samples) / n / 1000, 2),
    }


def _time(call, args_list, warmup: int = 5_000) -> list[int]:
    for args in args_list[:warmup]:
        call(args)
    clock = time.perf_counter_ns
    samples = []
    append = samples.append
    for args in args_list:
        start = clock()
        call(args)
        append(clock() - start)
    return samples


def run(*, iterations: int = 100_000, seed: int = 7, mmdb_dir: Path | None = None) -> dict:
    """Run every scenario with both backends; Django must be set up. Returns the report."""
    from django.http import HttpResponse
    from django.test import RequestFactory, override_settings

    from compliance import geo, geoip
    from compliance.geo import geo_decision
    from compliance.middleware import GeoFenceMiddleware

    rng = random.Random(seed)
    rules = synthetic_rules(rng)
    with tempfile.TemporaryDirectory() as tmp:
        mmdb = write_mmdb(Path(mmdb_dir or tmp) / "bench-countries.mmdb", rng)
        pool = [_random_public_ip(rng) for _ in range(2_000)]
        warm_ips = [pool[rng.randrange(len(pool))] for _ in range(iterations)]
        cold_ips = [_random_public_ip(rng) for _ in range(iterations)]
        allowed = [ip for ip in pool if ip not in rules.countries][:500]

        factory = RequestFactory()
        requests = []
        for ip in allowed:
            requests.append(
                factory.get(
                    "/agents/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{ip}, 10.0.0.9"
                )
            )

        results: dict[str, dict] = {}
        for backend, path in (("mmdb", str(mmdb)), ("bundled", None)):
            with override_settings(
                GEOIP_MMDB_PATH=path,
                TRUSTED_PROXIES=["10.0.0.0/8"],
                COMPLIANCE_RULES_RECHECK_SECONDS=3600,
                COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE=0.0,
            ):
                geoip.reset()
                geo.install_rules(rules)
                results[f"{backend}.decision_warm"] = _stats(
                    _time(lambda ip: geo_decision(ip=ip), warm_ips)
                )
                geoip.reset()
                results[f"{backend}.decision_cold"] = _stats(
                    _time(lambda ip: geo_decision(ip=ip), cold_ips, warmup=0)
                )
                # Only requests that stay allowed: blocked/limited ones also write a log row.
                geoip.reset()
                usable = [
                    r
                    for r in requests
                    if geo_decision(ip=r.META["HTTP_X_FORWARDED_FOR"].split(",")[0]).outcome
                    == "allow"
                ]
                response = HttpResponse()
                middleware = GeoFenceMiddleware(lambda request, response=response: response)
                stream = [usable[i % len(usable)] for i in range(iterations)]
                results[f"{backend}.middleware"] = _stats(_time(middleware, stream))
        geo.reset_rules()
        geoip.reset()

    return {
        "benchmark": "geo_decision",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "iterations": iterations,
        "rules": {
            "countries": len(rules.countries),
            "anonymizer_intervals_v4": len(rules.anonymizers_v4.starts),
            "anonymizer_intervals_v6": len(rules.anonymizers_v6.starts),
        },
        "budget_p99_us": BUDGET_NS / 1000,
        "results": results,
        "within_budget": all(r["p99_us"] * 1000 < BUDGET_NS for r in results.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--json", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    _setup_django()
    report = run(iterations=args.iterations)
    print(
        f"{'scenario':28} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9} {'max µs':>9}"
    )
    for name, row in report["results"].items():
        print(
            f"{name:28} {row['p50_us']:8.2f} {row['p90_us']:8.2f} {row['p99_us']:8.2f} "
            f"{row['p999_us']:9.2f} {row['max_us']:9.2f}"
        )
    print(f"p99 budget 1000 µs: {'met' if report['within_budget'] else 'MISSED'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
