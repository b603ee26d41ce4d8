"""API rate limits as fixed-window counters in Redis: one INCR + EXPIRE round trip per request.

DRF's `SimpleRateThrottle` keeps a pickled list of request timestamps per client and, on every
request, reads it, trims it and writes it back: two round trips, a value of up to 600 floats to
unpickle and pickle, and a read-modify-write race that lets concurrent requests of one client
through uncounted. Here each request increments the client's counter for the current window
(atomic INCR, with the key's expiry set in the same pipeline).

Unchanged from DRF: the scopes and rates (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]: "anon",
"user"), how a client is identified (`get_ident`: X-Forwarded-For / REMOTE_ADDR, NUM_PROXIES),
and the refusal: `Throttled` with `wait()` = seconds until the window ends, so the response is
the API's 429 `{"error": {"code": "throttled", ...}}` with a `Retry-After` header.

Differences, deliberate: a fixed window allows a client up to twice the rate across a window
boundary (the limit guards against abuse, it does not meter anything); refused requests count
too; and each request is counted once: anonymous requests by address under "anon", signed-in
users by id under "user" (DRF's user throttle also counted anonymous requests, at the laxer user
rate, which only cost a second round trip). Docs: docs/api.md (errors), bench/README.md.
"""

import hashlib
import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


def _count_hit(key: str, window_seconds: int) -> int:
    """Count one request in `key`'s window; the count so far, this request included."""
    incr_window = getattr(cache, "incr_window", None)
    if incr_window is not None:  # agentnexus.core.cache.SharedRedisCache: one round trip
        return incr_window(key, window_seconds)
    cache.add(key, 0, window_seconds)  # any other backend (e.g. locmem in a test)
    return cache.incr(key)


def _short(ident: object) -> str:
    """The ident, hashed when long: X-Forwarded-For is the client's to fill."""
    text = str(ident)
    return text if len(text) <= 64 else hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class FixedWindowRateThrottle(SimpleRateThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s"
    timer = time.time

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        # Expires one window after its last hit, so at most one window after its own ends.
        count = _count_hit(f"{key}:{window}", self.duration)
        return count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the current window ends (at least 1: Retry-After is whole seconds)."""
        return max(1.0, self.window_ends - self.now)


class AnonRateThrottle(FixedWindowRateThrottle):
    """Anonymous requests, per client address."""

    scope = "anon"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _short(self.get_ident(request))}


class UserRateThrottle(FixedWindowRateThrottle):
    """Signed-in users (session or API token), per user id."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
