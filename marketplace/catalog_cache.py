"""Short-lived Redis cache for public catalog reads, invalidated by a version number.

Every cached entry carries the catalog version it was built under, and a reader uses it only if
that is the current version; any change that can alter a listing bumps the version (after
commit), so readers never see a stale entry for longer than it takes the bump to land, and the
TTL (CATALOG_CACHE_SECONDS) bounds anything the bump misses. The version and the entry are read
with one MGET (atomic, one round trip). Template fragments of catalog pages put
`catalog_version()` in their cache key instead. Documented in docs/decisions/0002-catalog-search.md
and docs/benchmarks.md.
"""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalog:version"
T = TypeVar("T")


def catalog_version() -> int:
    """The current catalog version: carried by every cached entry, part of every fragment key."""
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def catalog_cached(key: str, build: Callable[[], T]) -> T:
    """`build()`'s value, shared across processes for up to CATALOG_CACHE_SECONDS."""
    ttl = settings.CATALOG_CACHE_SECONDS
    if ttl <= 0:
        return build()
    entry_key = f"catalog:entry:{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"
    found = cache.get_many([VERSION_KEY, entry_key])
    version = found.get(VERSION_KEY)
    if version is None:  # first read, or Redis was flushed
        version = catalog_version()
    entry = found.get(entry_key)
    if entry is not None and entry[0] == version:
        return entry[1]
    # Stored under the version read *before* building: if a change lands meanwhile, the entry
    # is already outdated and the next reader rebuilds it.
    value = build()
    cache.set(entry_key, (version, value), ttl)
    return value


def catalog_changed() -> None:
    """Invalidate every cached catalog read once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (first write, or Redis was flushed)
            cache.set(VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)
