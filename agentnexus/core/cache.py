"""Django's Redis cache backend with one connection pool and one client per process.

Django keeps cache backends in an asgiref `Local`, so under ASGI every request builds a new
`RedisCache`, hence a new `RedisCacheClient` with new connection pools: each request opened (and
handshook) its own TCP connection to Redis. The stock client also builds a `redis.Redis` object
for every operation. Here every backend with the same servers and options shares one client per
process (created under a lock), and that client keeps its pools and `redis.Redis` objects. Both
are thread-safe, and redis-py's pools reset themselves in a forked child (Celery's prefork
workers). Configured as CACHES["default"]["BACKEND"] in agentnexus/settings/base.py.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_lock = threading.Lock()
_clients: dict[tuple[tuple[str, ...], str], "SharedRedisCacheClient"] = {}


class SharedRedisCacheClient(RedisCacheClient):
    """Keeps one pool and one `redis.Redis` per server for the life of the process."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._redis_clients: dict[int, object] = {}

    def _client_for(self, index: int):
        client = self._redis_clients.get(index)
        if client is None:
            with _lock:
                client = self._redis_clients.get(index)
                if client is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    self._pools[index] = pool
                    client = self._redis_clients[index] = self._client(connection_pool=pool)
        return client

    def _get_connection_pool(self, write):
        return self._client_for(self._get_connection_pool_index(write)).connection_pool

    def get_client(self, key=None, *, write=False):
        return self._client_for(self._get_connection_pool_index(write))

    def incr_window(self, key: str, timeout: int) -> int:
        """INCR `key` and set its expiry in one round trip; returns the new count."""
        pipeline = self.get_client(key, write=True).pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, timeout)
        count, _ = pipeline.execute()
        return int(count)


class SharedRedisCache(RedisCache):
    """`RedisCache` whose client (pools, connections) is shared process-wide."""

    @cached_property
    def _cache(self) -> SharedRedisCacheClient:
        identity = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(identity)
        if client is None:
            with _lock:
                client = _clients.get(identity)
                if client is None:
                    client = _clients[identity] = SharedRedisCacheClient(
                        self._servers, **self._options
                    )
        return client

    def incr_window(self, key: str, timeout: int, version=None) -> int:
        """Count a hit in a fixed window: atomic INCR plus EXPIRE, one round trip."""
        key = self.make_and_validate_key(key, version=version)
        return self._cache.incr_window(key, timeout)
