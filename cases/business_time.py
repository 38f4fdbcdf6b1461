"""Business time: how much open time lies in a span, and when a given amount of it has passed.

SLA clocks stop outside a team's business hours, so a 1 h target for a message that arrives on
Friday at 16:30 to a Berlin team open Monday to Friday 09:00–17:00 falls due on Monday at 09:30.
This module is pure (aware datetimes and timedeltas in, aware UTC datetimes out) so the rule can
be tested on its own; `cases.sla` turns a team's rows into a `BusinessHours`.

How a calendar is read:

- Intervals are local wall-clock times in `timezone`. A weekday may have several; overlapping
  or adjacent ones merge. An interval is open from `opens` (inclusive) to `closes` (exclusive).
- `closes=time.max` means midnight at the end of the day ("24:00"). Any closing time from
  23:59:59 on is read the same way, so a calendar of 00:00–23:59:59 every day has no closed
  second at midnight and is treated as open around the clock.
- An overnight shift is two intervals (22:00–24:00 and 00:00–06:00 the next day); `closes`
  before `opens` is a ValueError, as is a calendar whose intervals are all zero-length: a team
  that is never open would make every due time unreachable.
- Open time is real elapsed time. On the night the clocks go forward an interval that spans the
  change is an hour shorter, when they go back an hour longer. A wall time that does not exist
  that night is read as zoneinfo reads it (fold=0: shifted forward by the length of the gap),
  and a wall time that occurs twice means its first occurrence.

The walk goes one local day at a time, and a whole week whose eight local midnights share one
UTC offset is taken in one step from the precomputed weekly total. Weeks are checked day by day
because some zones do change their offset twice within seven days (Asia/Gaza in the 2040s,
Brazil in 2000); no zone changes it twice within one day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAY_US = 86_400_000_000
_END_OF_DAY_FROM = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)
_ZERO = timedelta(0)

Span = tuple[datetime, datetime]
_T = TypeVar("_T", int, datetime)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a team works: (weekday 0=Monday, opens, closes) in local time; empty = open 24/7."""

    timezone: str = "UTC"
    intervals: tuple[tuple[int, time, time], ...] = ()

    def __post_init__(self) -> None:
        # Rows may arrive as lists; the calendar is cached by value, so it must be hashable.
        object.__setattr__(self, "intervals", tuple(tuple(row) for row in self.intervals))
        _calendar(self)

    @property
    def is_always_open(self) -> bool:
        """No intervals, or every day open from 00:00 to 24:00: business time is wall time."""
        return _calendar(self).is_always_open


@dataclass(frozen=True, slots=True)
class _Calendar:
    zone: ZoneInfo
    days: tuple[tuple[tuple[int, int], ...], ...]  # per weekday: merged (opens, closes) in µs
    week: timedelta  # open time of a week without an offset change
    is_always_open: bool


def add_business_time(
    start: datetime, duration: timedelta, hours: BusinessHours | None
) -> datetime:
    """The UTC moment at which `duration` of open time has passed since `start`.

    A zero duration gives `start` itself; a duration ending exactly at closing time gives the
    closing moment, not the next opening.
    """
    start = _as_utc(start)
    if duration < _ZERO:
        raise ValueError("duration must not be negative")
    if hours is None or hours.is_always_open or not duration:
        return start + duration
    calendar = _calendar(hours)
    remaining = duration
    for lo, hi, open_time, monday in _chunks(calendar, start):
        if remaining > open_time:
            remaining -= open_time
            continue
        spans = [(lo, hi)] if monday is None else _week_spans(calendar, monday)
        for a, b in spans:
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
    raise AssertionError("unreachable: _chunks never ends")


def business_duration(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """Open time between two aware datetimes; zero when `end` is not after `start`."""
    start, end = _as_utc(start), _as_utc(end)
    if end <= start:
        return _ZERO
    if hours is None or hours.is_always_open:
        return end - start
    calendar = _calendar(hours)
    total = _ZERO
    for lo, hi, open_time, monday in _chunks(calendar, start):
        if lo >= end:
            break
        if hi <= end:
            total += open_time
            continue
        spans = [(lo, hi)] if monday is None else _week_spans(calendar, monday)
        for a, b in spans:
            if a < end:
                total += min(b, end) - a
        break
    return total


def is_open(moment: datetime, hours: BusinessHours | None) -> bool:
    """Whether the team is open at `moment` (opening instant included, closing instant not)."""
    moment = _as_utc(moment)
    if hours is None or hours.is_always_open:
        return True
    calendar = _calendar(hours)
    day = _day_of(calendar.zone, moment)
    return any(a <= moment < b for a, b in _day_spans(calendar, day))


def _chunks(
    calendar: _Calendar, start: datetime
) -> Iterator[tuple[datetime, datetime, timedelta, date | None]]:
    """Open time from `start` on, in order and without overlap: (from, to, open time, monday).

    Each chunk is either one open span (monday is None, open time = to - from) or a whole
    week without an offset change, summarised (monday is its first day; `_week_spans` lists it).
    """
    zone = calendar.zone
    day = _day_of(zone, start)
    while True:
        if day.weekday() == 0 and _midnight(zone, day) >= start and _is_steady_week(zone, day):
            yield _midnight(zone, day), _midnight(zone, day + _ONE_WEEK), calendar.week, day
            day += _ONE_WEEK
            continue
        for a, b in _day_spans(calendar, day):
            a = max(a, start)
            if b > a:
                yield a, b, b - a, None
        day += _ONE_DAY


def _week_spans(calendar: _Calendar, monday: date) -> list[Span]:
    return [span for i in range(7) for span in _day_spans(calendar, monday + timedelta(days=i))]


def _day_spans(calendar: _Calendar, day: date) -> list[Span]:
    """The open spans of one local day as UTC instants, sorted and merged.

    Each is clipped to the day's own stretch of the timeline, from its midnight to the next, so
    spans of neighbouring days never overlap even when a clock change falls at midnight.
    """
    zone = calendar.zone
    lo, hi = _midnight(zone, day), _midnight(zone, day + _ONE_DAY)
    base = datetime.combine(day, time())
    spans = []
    for opens, closes in calendar.days[day.weekday()]:
        a = max(lo, _to_utc(base + timedelta(microseconds=opens), zone))
        b = min(hi, _to_utc(base + timedelta(microseconds=closes), zone))
        if b > a:
            spans.append((a, b))
    return _merge(sorted(spans))


def _is_steady_week(zone: ZoneInfo, monday: date) -> bool:
    """True when the UTC offset is the same at all eight local midnights of the week."""
    first = zone.utcoffset(datetime.combine(monday, time()))
    return all(
        zone.utcoffset(datetime.combine(monday + timedelta(days=i), time())) == first
        for i in range(1, 8)
    )


def _day_of(zone: ZoneInfo, moment: datetime) -> date:
    """The local day whose stretch of the timeline (midnight to midnight) holds `moment`."""
    day = moment.astimezone(zone).date()
    while moment < _midnight(zone, day):
        day -= _ONE_DAY
    while moment >= _midnight(zone, day + _ONE_DAY):
        day += _ONE_DAY
    return day


def _midnight(zone: ZoneInfo, day: date) -> datetime:
    return _to_utc(datetime.combine(day, time()), zone)


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _as_utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo compare and subtract as wall times, so work in UTC only.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive; business time needs an aware datetime")
    return moment.astimezone(UTC)


def _merge(spans: list[tuple[_T, _T]]) -> tuple[tuple[_T, _T], ...]:
    """Sorted intervals with overlapping or touching ones joined."""
    merged: list[tuple[_T, _T]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return tuple(merged)


@lru_cache(maxsize=256)
def _calendar(hours: BusinessHours) -> _Calendar:
    """Validate a calendar once and precompute its merged weekly template."""
    try:
        zone = ZoneInfo(hours.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {hours.timezone!r}") from exc
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for row in hours.intervals:
        weekday, opens, closes = _check_row(row)
        if closes == opens:
            continue
        if closes < opens:
            raise ValueError(
                f"interval {row!r} closes before it opens; split an overnight shift in two "
                "and use time.max for midnight"
            )
        per_day[weekday].append((_micros(opens), _closing_micros(closes)))
    days = tuple(_merge(sorted(intervals)) for intervals in per_day)
    week = timedelta(microseconds=sum(b - a for intervals in days for a, b in intervals))
    if hours.intervals and not week:
        raise ValueError("business hours are never open: every interval is zero-length")
    always = not hours.intervals or all(intervals == ((0, _DAY_US),) for intervals in days)
    return _Calendar(zone=zone, days=days, week=week, is_always_open=always)


def _check_row(row: tuple) -> tuple[int, time, time]:
    try:
        weekday, opens, closes = row
    except (TypeError, ValueError) as exc:
        raise ValueError(f"interval {row!r} is not (weekday, opens, closes)") from exc
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday {weekday!r} is not 0 (Monday) … 6 (Sunday)")
    for value in (opens, closes):
        if not isinstance(value, time) or value.tzinfo is not None:
            raise ValueError(f"{value!r} is not a naive time of day")
    return weekday, opens, closes


def _micros(moment: time) -> int:
    return (
        (moment.hour * 60 + moment.minute) * 60 + moment.second
    ) * 1_000_000 + moment.microsecond


def _closing_micros(closes: time) -> int:
    return _DAY_US if closes >= _END_OF_DAY_FROM else _micros(closes)
