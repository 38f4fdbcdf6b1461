"""Counting events per key in fixed time windows, in the Django cache: with REDIS_URL every
process shares the counts, so a limit holds across a scaled-out installation.

A fixed window lets at most twice the count through around a window's end; that is accepted
for one increment per request instead of a sorted set per key.

When the cache (Redis) is down the limits let everything through: refusing every customer
message and every sign-in while it is away would be the outage the limits are there to
prevent.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

Rate = tuple[int, int]  # (count, seconds), parsed from COUNT/SECONDS by caremgr.env.env_rate


@dataclass(frozen=True)
class Refusal:
    """Over the limit: wait retry_after seconds; is_first marks the first refusal of a window
    (log and audit that one, not each of a flood)."""

    retry_after: int
    is_first: bool


def _key(scope: str, ident: str, rate: Rate, now: float) -> tuple[str, int]:
    window = int(now // rate[1])
    # Hashed: keys stay short and names or addresses are not readable in Redis.
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:32]
    prefix = getattr(settings, "CAREMGR_RATE_LIMIT_PREFIX", "rl")
    return f"{prefix}:{scope}:{digest}:{window}", math.ceil((window + 1) * rate[1] - now)


def _active(rate: Rate | None) -> bool:
    return rate is not None and settings.CAREMGR_RATE_LIMITS


def _count(key: str, remaining: int) -> int | None:
    """One more event under `key`; None while the cache cannot be reached."""
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            # One round trip: INCR and EXPIRE sent together. Setting the expiry on each event
            # is harmless, it is the same moment each time: the window's end.
            full_key = backend.make_and_validate_key(key)
            pipe = _client(backend, full_key).pipeline(transaction=False)
            return pipe.incr(full_key).expire(full_key, remaining + 1).execute()[0]
        try:
            return cache.incr(key)
        except ValueError:
            # First event of the window (or a race with another process that just added it).
            return 1 if cache.add(key, 1, timeout=remaining + 1) else cache.incr(key)
    except Exception:
        log.warning("rate limit not counted: the cache is unavailable", exc_info=True)
        return None


_clients: dict = {}  # SharedConnectionPool -> redis.Redis


def _client(backend: RedisCache, key: str):
    """A client on the backend's connection pool, made once per process's pool.

    Django builds a `redis.Redis` for every command (its callback table alone is a few
    hundred entries). A pool shared by the process (caremgr.redis_pool) gets one client,
    kept as long as the pool; any other pool a client of its own, as Django does.
    """
    from caremgr.redis_pool import SharedConnectionPool  # redis: with REDIS_URL only

    pool = backend._cache._get_connection_pool(write=True)
    if not isinstance(pool, SharedConnectionPool):
        return backend._cache.get_client(key, write=True)
    client = _clients.get(pool)
    if client is None:
        client = _clients[pool] = backend._cache.get_client(key, write=True)
    return client


def hit(scope: str, ident: str, rate: Rate | None) -> Refusal | None:
    """Count one event; a Refusal when it goes over the limit."""
    if not _active(rate):
        return None
    now = time.time()
    key, remaining = _key(scope, ident, rate, now)
    count = _count(key, remaining)
    if count is None or count <= rate[0]:
        return None
    return Refusal(retry_after=max(remaining, 1), is_first=count == rate[0] + 1)


def exhausted(scope: str, ident: str, rate: Rate | None) -> Refusal | None:
    """Whether the limit is already used up, without counting."""
    if not _active(rate):
        return None
    now = time.time()
    key, remaining = _key(scope, ident, rate, now)
    try:
        used = cache.get(key, 0)
    except Exception:
        log.warning("rate limit not read: the cache is unavailable", exc_info=True)
        return None
    if used < rate[0]:
        return None
    return Refusal(retry_after=max(remaining, 1), is_first=False)


def clear(scope: str, ident: str, rate: Rate | None) -> None:
    """Forget the events of the current window (a successful sign-in ends the failures)."""
    if rate is not None:
        try:
            cache.delete(_key(scope, ident, rate, time.time())[0])
        except Exception:
            log.warning("rate limit not cleared: the cache is unavailable", exc_info=True)
