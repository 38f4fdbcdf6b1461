"""One Redis connection pool per process for Django's cache.

Django keeps a cache backend per async context, and under ASGI every request runs in a
context of its own: each request that touched the cache built a new `RedisCache`, whose
client built a new connection pool, so it opened a TCP connection to Redis (connect,
handshake, health check) for one command and left it to the garbage collector. On the
webhook path, where the rate limit counts every delivery, that was more than half of the
request's CPU. With this pool class the backends of a process share one pool per URL and
options; redis-py's pools are safe across threads and start afresh in a forked child.
"""

import threading

import redis

_pools: dict[tuple, redis.ConnectionPool] = {}
_lock = threading.Lock()


class SharedConnectionPool(redis.ConnectionPool):
    """`from_url` hands out the process's pool for that URL and those options."""

    @classmethod
    def from_url(cls, url: str, **kwargs):
        key = (cls, url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = super().from_url(url, **kwargs)
        return pool
