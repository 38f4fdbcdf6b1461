"""Counting events per key in fixed time windows, in the Django cache: with REDIS_URL every
process shares the counts, so a limit holds across a scaled-out installation.

A fixed window lets at most twice the count through around a window's end; that is accepted
for one increment per request instead of a sorted set per key.

A large limit on Redis (a webhook account's thousands a minute) is not counted one event
per round trip: a process takes a thousandth of the limit at a time from the shared count
and uses those slots locally, so the count in Redis runs ahead of the events by less than a
thousandth of the limit per process, and refusals can start that much early. A limit below
2,000 is counted event by event, exactly.

When the cache (Redis) is down the limits let everything through: refusing every customer
message and every sign-in while it is away would be the outage the limits are there to
prevent.
"""

import hashlib
import logging
import math
import threading
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


def _count(key: str, remaining: int, by: int = 1) -> int | None:
    """`by` more events under `key` (Redis only: 1 elsewhere); the new total, None while
    the cache cannot be reached."""
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            # One round trip: INCRBY and EXPIRE sent together. Setting the expiry on each
            # event is harmless, it is the same moment each time: the window's end.
            full_key = backend.make_and_validate_key(key)
            pipe = _client(backend, full_key).pipeline(transaction=False)
            return pipe.incrby(full_key, by).expire(full_key, remaining + 1).execute()[0]
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


# A limit is taken from the shared count in slots of this share of it (at least 2 a time).
SLOT_SHARE = 1000

# Slots this process took from a shared count and has not used yet: the key without its
# window -> (the key with its window, slots left). A new window drops the old one's.
_slots: dict[str, tuple[str, int]] = {}
_slots_lock = threading.Lock()


def hit(scope: str, ident: str, rate: Rate | None) -> Refusal | None:
    """Count one event; a Refusal when it goes over the limit."""
    if not _active(rate):
        return None
    now = time.time()
    key, remaining = _key(scope, ident, rate, now)
    chunk = rate[0] // SLOT_SHARE
    if chunk > 1 and isinstance(caches["default"], RedisCache):
        return _hit_in_slots(key, remaining, rate, chunk)
    count = _count(key, remaining)
    if count is None or count <= rate[0]:
        return None
    return Refusal(retry_after=max(remaining, 1), is_first=count == rate[0] + 1)


def _hit_in_slots(key: str, remaining: int, rate: Rate, chunk: int) -> Refusal | None:
    """`hit` for a large limit: a slot taken earlier by this process, or `chunk` more."""
    base = key.rpartition(":")[0]
    with _slots_lock:
        kept = _slots.get(base)
        if kept is not None and kept[0] == key and kept[1] > 0:
            _slots[base] = (key, kept[1] - 1)
            return None
    count = _count(key, remaining, by=chunk)
    if count is None:
        return None
    before = count - chunk
    granted = min(chunk, rate[0] - before)
    if granted > 0:
        with _slots_lock:
            _slots[base] = (key, granted - 1)
        return None
    # Exactly one reservation starts in [limit, limit + chunk): the first refused one.
    return Refusal(retry_after=max(remaining, 1), is_first=before < rate[0] + chunk)


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
