"""The period a report covers, read from `from` / `to` query parameters.

Both take an ISO 8601 date or datetime. A datetime without a zone is UTC. A date means the
start of that UTC day for `from`, and the whole day for `to` (the period ends at the next
midnight), so `from=2026-11-01&to=2026-11-30` is all of November. The period is [from, to).
Without parameters a report covers the last 30 days: today (UTC) and the 29 before.
"""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_DAYS = 30
# A "+01:00" offset typed into a URL unencoded arrives as " 01:00".
_SPACED_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}$")


class PeriodError(ValueError):
    """A query parameter that cannot be read; names the parameter for the 400 answer."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def last_days(days: int, now: datetime) -> tuple[datetime, datetime]:
    """Today (UTC, up to its end) and the `days` − 1 days before it."""
    end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), tzinfo=UTC)
    return end - timedelta(days=days), end


def parse_moment(value: str, parameter: str, *, is_end: bool = False) -> datetime:
    value = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        # A bare date first: Python's fromisoformat would take it as midnight.
        day = parse_date(value) if _DATE_ONLY.match(value) else None
        moment = None if day else parse_datetime(value)
    except ValueError:
        moment = day = None
    try:
        if moment is not None:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return aware.astimezone(UTC)
        if day is not None:
            return _day_start(day + timedelta(days=1) if is_end else day)
    except OverflowError:
        raise PeriodError(parameter, "is out of range") from None
    raise PeriodError(parameter, "must be an ISO 8601 date or datetime, e.g. 2026-11-01")


def parse_period(
    query: Mapping, *, now: datetime, default_days: int = DEFAULT_DAYS
) -> tuple[datetime, datetime]:
    """(start, end) from a query's `from` and `to`; either may be left out."""
    start_text, end_text = query.get("from") or "", query.get("to") or ""
    default_start, default_end = last_days(default_days, now)
    end = parse_moment(end_text, "to", is_end=True) if end_text else default_end
    if start_text:
        start = parse_moment(start_text, "from")
    else:
        try:
            start = end - (default_end - default_start)
        except OverflowError:
            raise PeriodError("to", "is out of range") from None
    if start >= end:
        raise PeriodError("to", "must be later than from")
    return start, end


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
