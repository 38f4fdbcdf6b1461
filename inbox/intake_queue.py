"""The queue from the webhook to the intake workers: delivery ids on a Redis list.

A Celery message per delivery costs the webhook about a millisecond of CPU (building the
task message, a new Redis client per publish) and the worker the same again to receive it,
and it brings one delivery per task where the intake files a batch far cheaper than its
parts. So the webhook pushes the id onto a list in the broker's Redis (one list per
database), one round trip, and wakes a `drain_intake` task only when none is awake; that
task takes up to a batch of ids at a time and files them together.

The list is only a hint: the stored `Delivery` row (status `received`) is the truth. An id
lost with a worker that died holding it is found again by `redeliver_stale`, and an id
taken twice finds its delivery processed and adds nothing.
"""

import hashlib
import threading

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

# One list per database: installations (or test runs) that share a Redis never take each
# other's ids.
KEY_PREFIX = "caremgr:intake"
# A drain that died without saying so keeps the flag this long; then a delivery wakes
# another one.
AWAKE_SECONDS = 30


def keys() -> tuple[str, str]:
    """The list of queued ids and the flag of an awake drain, for this database."""
    database = settings.DATABASES["default"]
    name = f"{database.get('HOST', '')}:{database.get('PORT', '')}/{database['NAME']}"
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{KEY_PREFIX}:{digest}", f"{KEY_PREFIX}:{digest}:awake"


def is_available() -> bool:
    """The broker is Redis, so the list can live beside the task queue."""
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://"))


_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def client() -> redis.Redis:
    """One client per process and broker: making a client is the costly part of a publish,
    and its connection pool serves every thread."""
    url = settings.CELERY_BROKER_URL
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(
                url,
                socket_timeout=5,
                socket_connect_timeout=2,
                # A connection Redis closed while idle is replaced, once, before giving up.
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[redis.ConnectionError, redis.TimeoutError, OSError],
            )
        return _clients[url]


def push(*delivery_ids: int) -> bool:
    """Queue deliveries, in order; True when no drain was awake and the caller must start
    one."""
    queue, awake = keys()
    pipe = client().pipeline(transaction=False)
    pipe.rpush(queue, *delivery_ids)
    pipe.set(awake, 1, nx=True, ex=AWAKE_SECONDS)
    _, woke = pipe.execute()
    return bool(woke)


def take(limit: int) -> list[int]:
    """Up to `limit` queued delivery ids, oldest first; they are gone from the list."""
    ids = client().lpop(keys()[0], limit) or []
    return [int(value) for value in ids]


def settle() -> bool:
    """Called by a drain that found the list short: it goes to sleep.

    True when ids arrived after it looked and it took the flag back, so the caller must
    start another drain (a webhook that saw the flag still set did not).
    """
    queue, awake = keys()
    conn = client()
    conn.delete(awake)
    if not conn.llen(queue):
        return False
    return bool(conn.set(awake, 1, nx=True, ex=AWAKE_SECONDS))


def waiting() -> int:
    """How many ids are queued (benchmarks and operators watch it drain)."""
    return int(client().llen(keys()[0]))
