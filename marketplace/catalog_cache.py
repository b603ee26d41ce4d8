"""Short-lived Redis cache for public catalog reads, invalidated by a version number.

Every cached entry's key carries the catalog version; any change that can alter a listing bumps it
(after commit), so readers never see a stale entry for longer than it takes the bump to land, and
the TTL (CATALOG_CACHE_SECONDS) bounds anything the bump misses. Documented in
docs/decisions/0002-catalog-search.md.
"""

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "catalog:version"
T = TypeVar("T")


def _version() -> int:
    return cache.get_or_set(VERSION_KEY, 1, timeout=None)


def catalog_cached(key: str, build: Callable[[], T]) -> T:
    """`build()`'s value, shared across processes for up to CATALOG_CACHE_SECONDS."""
    ttl = settings.CATALOG_CACHE_SECONDS
    if ttl <= 0:
        return build()
    full_key = f"catalog:{_version()}:{hashlib.blake2b(key.encode(), digest_size=16).hexdigest()}"
    value = cache.get(full_key)
    if value is None:
        value = build()
        cache.set(full_key, value, ttl)
    return value


def catalog_changed() -> None:
    """Invalidate every cached catalog read once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (first write, or Redis was flushed)
            cache.set(VERSION_KEY, 2, timeout=None)

    transaction.on_commit(bump)
