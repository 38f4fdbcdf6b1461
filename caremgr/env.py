"""Strict parsing of environment variables: a typo is an error, never a silent default."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_str(name: str, default: str) -> str:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else raw


def env_rate(name: str, default: str) -> tuple[int, int] | None:
    """COUNT/SECONDS (e.g. 5/900) as (count, seconds); `off` switches the limit off."""
    raw = os.environ.get(name)
    value = (default if raw is None or raw.strip() == "" else raw).strip().lower()
    if value == "off":
        return None
    count, slash, seconds = value.partition("/")
    if not (slash and count.isdigit() and seconds.isdigit() and int(count) and int(seconds)):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate (use COUNT/SECONDS, or off)")
    return int(count), int(seconds)
