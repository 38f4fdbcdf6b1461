"""Who is on which case right now (viewing or typing), kept in the shared cache.

Entries expire by themselves, so a browser that vanished without saying goodbye drops
off the list after `TTL` seconds; open pages refresh their entry while they stay open.
Presence is a courtesy: while the cache (Redis) is down nobody is shown on a case, and the
case page and the socket go on working.
"""

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

TTL = 90
STATES = ("viewing", "typing", "left")


def _key(case_id: int) -> str:
    return f"presence:case:{case_id}"


def _entries(case_id: int) -> dict:
    try:
        return cache.get(_key(case_id)) or {}
    except Exception:  # the cache is down: nobody is known to be here
        log.warning("presence of case %s not read", case_id, exc_info=True)
        return {}


def update(case_id: int, user_id: int, name: str, state: str) -> list[dict]:
    """Record a user's state on a case and return everyone now on it."""
    entries = {k: v for k, v in _entries(case_id).items() if v["at"] > time.time() - TTL}
    if state == "left":
        entries.pop(str(user_id), None)
    else:
        entries[str(user_id)] = {"user": user_id, "name": name, "state": state, "at": time.time()}
    try:
        cache.set(_key(case_id), entries, TTL)
    except Exception:
        log.warning("presence of case %s not kept", case_id, exc_info=True)
    return viewers_from(entries)


def viewers(case_id: int) -> list[dict]:
    return viewers_from(_entries(case_id))


def viewers_from(entries: dict) -> list[dict]:
    now = time.time()
    return sorted(
        (
            {"user": v["user"], "name": v["name"], "state": v["state"]}
            for v in entries.values()
            if v["at"] > now - TTL
        ),
        key=lambda v: v["name"],
    )
