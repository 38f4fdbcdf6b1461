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

Long spans cost little. The walk goes one local day at a time, but a day on which the zone keeps
its UTC offset holds exactly its weekday's open time, and a run of such days starting on a Monday
is taken a whole number of weeks at once; only the days on which the clocks change are looked at
in detail, so a span costs O(days) at worst and O(clock changes) when it is long. Those days are
found by comparing the offsets of consecutive local midnights, once per zone and year: exact,
since no zone changes its offset twice within one day (some do within seven: Asia/Gaza, Brazil
in 2000).
"""

from __future__ import annotations

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
_EPSILON = timedelta(microseconds=1)

# Instants inside this module are naive UTC datetimes: they compare and subtract as real time
# (aware ones sharing a tzinfo compare as wall time) and are cheaper to build.
_Span = tuple[datetime, datetime]
_T = TypeVar("_T", int, datetime)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When a team works: (weekday 0=Monday, opens, closes) in local time; empty = open 24/7."""

    timezone: str = "UTC"
    intervals: tuple[tuple[int, time, time], ...] = ()

    def __post_init__(self) -> None:
        # Rows may arrive as lists; the calendar is cached by value, so it must be hashable.
        rows = tuple(tuple(row) if isinstance(row, list) else row for row in self.intervals)
        object.__setattr__(self, "intervals", rows)
        _calendar(self)

    @property
    def is_always_open(self) -> bool:
        """No intervals, or every day open from 00:00 to 24:00: business time is wall time."""
        return _calendar(self).is_always_open


@dataclass(frozen=True, slots=True)
class _Calendar:
    zone: ZoneInfo
    days: tuple[tuple[tuple[int, int], ...], ...]  # per weekday: merged (opens, closes) in µs
    day_totals: tuple[timedelta, ...]  # open time per weekday on a day without a clock change
    week: timedelta
    is_always_open: bool


def add_business_time(
    start: datetime, duration: timedelta, hours: BusinessHours | None
) -> datetime:
    """The UTC moment at which `duration` of open time has passed since `start`.

    A zero duration gives `start` itself; a duration that runs out exactly at closing time gives
    the closing moment, not the next opening.
    """
    start = _utc(start)
    if duration < _ZERO:
        raise ValueError("duration must not be negative")
    if hours is None or hours.is_always_open or not duration:
        return (start + duration).replace(tzinfo=UTC)
    calendar = _calendar(hours)
    zone = calendar.zone
    remaining = duration
    day = _day_of(zone, start)
    while True:
        if _midnight(zone, day) >= start:  # the whole day lies ahead
            if day.weekday() == 0:
                # Leave some time over, so the due moment is found by the walk below.
                weeks = _steady_weeks(zone, day, (remaining - _EPSILON) // calendar.week)
                remaining -= weeks * calendar.week
                day += weeks * _ONE_WEEK
            open_time = calendar.day_totals[day.weekday()]
            if remaining > open_time and not _changes_clock(zone, day):
                remaining -= open_time
                day += _ONE_DAY
                continue
        for a, b in _day_spans(calendar, day):
            a = max(a, start)
            if a >= b:
                continue
            if remaining <= b - a:
                return (a + remaining).replace(tzinfo=UTC)
            remaining -= b - a
        day += _ONE_DAY


def business_duration(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """Open time between two aware datetimes; zero when `end` is not after `start`."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return _ZERO
    if hours is None or hours.is_always_open:
        return end - start
    calendar = _calendar(hours)
    zone = calendar.zone
    total = _ZERO
    day = _day_of(zone, start)
    while (midnight := _midnight(zone, day)) < end:
        if midnight >= start and _midnight(zone, day + _ONE_DAY) <= end:  # a whole day inside
            if day.weekday() == 0:
                # Weeks without a clock change are exactly seven times 24 hours long.
                weeks = _steady_weeks(zone, day, (end - midnight) // _ONE_WEEK)
                total += weeks * calendar.week
                day += weeks * _ONE_WEEK
                if weeks:
                    continue
            if not _changes_clock(zone, day):
                total += calendar.day_totals[day.weekday()]
                day += _ONE_DAY
                continue
        for a, b in _day_spans(calendar, day):
            a, b = max(a, start), min(b, end)
            if a < b:
                total += b - a
        day += _ONE_DAY
    return total


def is_open(moment: datetime, hours: BusinessHours | None) -> bool:
    """Whether the team is open at `moment` (opening instant included, closing instant not)."""
    moment = _utc(moment)
    if hours is None or hours.is_always_open:
        return True
    calendar = _calendar(hours)
    zone = calendar.zone
    return any(a <= moment < b for a, b in _day_spans(calendar, _day_of(zone, moment)))


def _day_spans(calendar: _Calendar, day: date) -> list[_Span]:
    """The open spans of one local day, sorted and merged.

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


def _steady_weeks(zone: ZoneInfo, monday: date, wanted: int) -> int:
    """How many whole weeks from `monday` on, at most `wanted`, pass without a clock change."""
    year = monday.year
    while wanted > 0 and year <= date.max.year and (date(year, 1, 1) - monday).days < 7 * wanted:
        later = [day for day in _clock_change_days(zone, year) if day >= monday]
        if later:
            return min(wanted, (later[0] - monday).days // 7)
        year += 1
    return max(wanted, 0)


def _changes_clock(zone: ZoneInfo, day: date) -> bool:
    return day in _clock_change_days(zone, day.year)


@lru_cache(maxsize=1024)
def _clock_change_days(zone: ZoneInfo, year: int) -> tuple[date, ...]:
    """The local days of `year` that end with another UTC offset than they began with."""
    changes = []
    day = date(year, 1, 1)
    offset = zone.utcoffset(datetime.combine(day, time()))
    while day.year == year and day < date.max:
        following = day + _ONE_DAY
        next_offset = zone.utcoffset(datetime.combine(following, time()))
        if next_offset != offset:
            changes.append(day)
        day, offset = following, next_offset
    return tuple(changes)


def _day_of(zone: ZoneInfo, moment: datetime) -> date:
    """The local day whose stretch of the timeline (midnight to midnight) holds `moment`."""
    day = (moment + zone.utcoffset(moment)).date()  # a guess, off by a day at worst
    while moment < _midnight(zone, day):
        day -= _ONE_DAY
    while moment >= _midnight(zone, day + _ONE_DAY):
        day += _ONE_DAY
    return day


def _midnight(zone: ZoneInfo, day: date) -> datetime:
    return _to_utc(datetime.combine(day, time()), zone)


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # utcoffset() reads a naive datetime as wall time with fold=0, as replace(tzinfo=zone) would.
    return local - zone.utcoffset(local)


def _utc(moment: datetime) -> datetime:
    """An aware datetime as a naive UTC one, the form used inside this module."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment!r} is naive; business time needs an aware datetime")
    return (moment - offset).replace(tzinfo=None)


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
    day_totals = tuple(
        timedelta(microseconds=sum(b - a for a, b in intervals)) for intervals in days
    )
    week = sum(day_totals, _ZERO)
    if hours.intervals and not week:
        raise ValueError("business hours are never open: every interval is zero-length")
    always = not hours.intervals or all(intervals == ((0, _DAY_US),) for intervals in days)
    return _Calendar(zone, days, day_totals, week, always)


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
