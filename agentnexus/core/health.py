"""Readiness probes for the components the app depends on. Later issues add the chain and Docker."""

import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection


def _timed(check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - a probe reports any failure, never raises
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    cache.set("readyz:ping", "1", timeout=5)
    if cache.get("readyz:ping") != "1":
        raise RuntimeError("cache round-trip failed")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "redis": _redis}


def readiness() -> dict:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    return {
        "status": "ok" if all(c["ok"] for c in checks.values()) else "unavailable",
        "checks": checks,
    }
