"""Who is on which case right now (viewing or typing), kept in the shared cache.

Entries expire by themselves, so a browser that vanished without saying goodbye drops
off the list after `TTL` seconds; open pages refresh their entry while they stay open.
"""

import time

from django.core.cache import cache

TTL = 90
STATES = ("viewing", "typing", "left")


def _key(case_id: int) -> str:
    return f"presence:case:{case_id}"


def update(case_id: int, user_id: int, name: str, state: str) -> list[dict]:
    """Record a user's state on a case and return everyone now on it."""
    entries = {
        k: v for k, v in (cache.get(_key(case_id)) or {}).items() if v["at"] > time.time() - TTL
    }
    if state == "left":
        entries.pop(str(user_id), None)
    else:
        entries[str(user_id)] = {"user": user_id, "name": name, "state": state, "at": time.time()}
    cache.set(_key(case_id), entries, TTL)
    return viewers_from(entries)


def viewers(case_id: int) -> list[dict]:
    return viewers_from(cache.get(_key(case_id)) or {})


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
