"""Suite-wide fixtures. Tests run against real PostgreSQL and Redis (see docs/testing.md)."""

import os

import pytest
from django.conf import settings

pytest_plugins = ["marketplace.tests.fixtures", "runtime.tests.fixtures"]


def pytest_configure(config) -> None:
    # Real components only: the suite refuses to run on SQLite or without a Redis URL,
    # so a missing service fails loudly instead of silently testing something else.
    engine = settings.DATABASES["default"]["ENGINE"]
    problems = []
    if engine != "django.db.backends.postgresql":
        problems.append(f"DATABASE_URL must point at PostgreSQL (got {engine}).")
    if not os.environ.get("REDIS_URL"):
        problems.append("REDIS_URL must point at a Redis server.")
    if problems:
        raise pytest.UsageError(
            "The test suite needs real services; run it with `make test`, which starts them.\n  "
            + "\n  ".join(problems)
        )


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
