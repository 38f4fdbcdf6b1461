"""Business time: SLA clocks that stop outside a team's hours, across weekends and clock changes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cases.business_time
from cases.business_time import BusinessHours, add_business_time, business_duration, is_open

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessHours("Europe/Berlin", tuple((day, time(9), time(17)) for day in range(5)))
EPSILON = timedelta(microseconds=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


# Examples


def test_friday_afternoon_plus_an_hour_is_monday_morning():
    due = add_business_time(berlin(2026, 11, 20, 16, 30), timedelta(hours=1), OFFICE)
    assert due == berlin(2026, 11, 23, 9, 30)
    assert due.tzinfo is UTC


def test_a_message_on_saturday_noon_is_due_monday_after_opening():
    due = add_business_time(berlin(2026, 11, 21, 12), timedelta(minutes=30), OFFICE)
    assert due == berlin(2026, 11, 23, 9, 30)


def test_a_duration_ending_at_closing_time_is_due_at_closing_time():
    due = add_business_time(berlin(2026, 11, 20, 16), timedelta(hours=1), OFFICE)
    assert due == berlin(2026, 11, 20, 17)


def test_a_start_in_another_zone_gives_the_same_utc_moment():
    start = berlin(2026, 11, 20, 16, 30)
    in_new_york = add_business_time(start.astimezone(NEW_YORK), timedelta(hours=1), OFFICE)
    assert in_new_york == add_business_time(start, timedelta(hours=1), OFFICE)
    assert in_new_york.tzinfo is UTC


def test_72_hours_on_a_weekday_office_take_nine_working_days():
    start = berlin(2026, 11, 20, 16, 30)
    due = add_business_time(start, timedelta(hours=72), OFFICE)
    assert due == berlin(2026, 12, 3, 16, 30)
    assert business_duration(start, due, OFFICE) == timedelta(hours=72)


def test_long_spans_skip_whole_weeks_instead_of_walking_every_day(monkeypatch):
    days_walked = 0
    day_spans = cases.business_time._day_spans

    def counting(*args):
        nonlocal days_walked
        days_walked += 1
        return day_spans(*args)

    monkeypatch.setattr(cases.business_time, "_day_spans", counting)
    start = berlin(2026, 1, 7, 10)
    due = add_business_time(start, timedelta(hours=40 * 520), OFFICE)  # ten years of weeks
    assert due == berlin(2035, 12, 26, 10)  # clock changes do not fall in office hours
    assert business_duration(start, due, OFFICE) == timedelta(hours=40 * 520)
    assert days_walked < 100  # 20 clock-change days and the ends per call; 7,300 if daily


@pytest.mark.parametrize("hours", [None, BusinessHours(), BusinessHours("Europe/Berlin")])
def test_always_open_is_plain_arithmetic_even_across_a_clock_change(hours):
    start = berlin(2026, 3, 28, 12)
    assert add_business_time(start, timedelta(hours=24), hours) == berlin(2026, 3, 29, 13)
    assert business_duration(start, berlin(2026, 3, 29, 12), hours) == timedelta(hours=23)
    assert is_open(start, hours)


def test_office_hours_across_the_spring_clock_change_stay_at_nine_local():
    friday = berlin(2026, 3, 27, 16, 30)  # clocks go forward on Sunday 29 March
    assert add_business_time(friday, timedelta(hours=1), OFFICE) == berlin(2026, 3, 30, 9, 30)
    week = business_duration(berlin(2026, 3, 23), berlin(2026, 3, 30), OFFICE)
    assert week == timedelta(hours=40)


def test_a_day_open_around_the_clock_lasts_23_hours_in_spring_and_25_in_autumn():
    sundays = BusinessHours("Europe/Berlin", ((6, time(0), time.max),))
    spring = business_duration(berlin(2026, 3, 29), berlin(2026, 3, 30), sundays)
    autumn = business_duration(berlin(2026, 10, 25), berlin(2026, 10, 26), sundays)
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))
    due = add_business_time(berlin(2026, 3, 29, 1), timedelta(hours=2), sundays)
    assert due == berlin(2026, 3, 29, 4)  # 01:00 + 2 h of real time, over the skipped hour


def test_an_interval_inside_the_skipped_hour_is_not_open_that_night():
    night = BusinessHours("Europe/Berlin", ((6, time(2), time(3)),))
    assert business_duration(berlin(2026, 3, 29), berlin(2026, 3, 30), night) == timedelta(0)
    assert business_duration(berlin(2026, 4, 5), berlin(2026, 4, 6), night) == timedelta(hours=1)


def test_overlapping_and_adjacent_intervals_merge():
    monday = BusinessHours(
        "UTC", ((0, time(9), time(12)), (0, time(12), time(17)), (0, time(11), time(13)))
    )
    day = datetime(2026, 11, 23, tzinfo=UTC)
    assert business_duration(day, day + timedelta(days=1), monday) == timedelta(hours=8)
    assert is_open(day.replace(hour=12), monday)


def test_an_evening_to_midnight_interval_joins_the_next_morning():
    late = BusinessHours("Europe/Berlin", ((0, time(22), time.max), (1, time(0), time(2))))
    due = add_business_time(berlin(2026, 11, 23, 23, 30), timedelta(hours=1), late)
    assert due == berlin(2026, 11, 24, 0, 30)
    assert is_open(berlin(2026, 11, 23, 23, 59, 59, 999_999), late)
    assert is_open(berlin(2026, 11, 24, 0, 0), late)


@pytest.mark.parametrize("closes", [time.max, time(23, 59, 59)])
def test_every_day_to_midnight_counts_as_always_open(closes):
    assert BusinessHours(
        "Europe/Berlin", tuple((d, time(0), closes) for d in range(7))
    ).is_always_open
    assert not OFFICE.is_always_open


def test_open_at_the_opening_instant_and_closed_at_the_closing_instant():
    assert is_open(berlin(2026, 11, 23, 9), OFFICE)
    assert is_open(berlin(2026, 11, 23, 16, 59, 59), OFFICE)
    assert not is_open(berlin(2026, 11, 23, 17), OFFICE)
    assert not is_open(berlin(2026, 11, 22, 12), OFFICE)


def test_no_time_passes_backwards_or_in_a_zero_duration():
    start = berlin(2026, 11, 21, 12)
    assert business_duration(start, start - timedelta(days=3), OFFICE) == timedelta(0)
    assert add_business_time(start, timedelta(0), OFFICE) == start


@pytest.mark.parametrize(
    "fields",
    [
        {"intervals": ((0, time(9), time(9)), (1, time(12), time(12)))},  # never open
        {"intervals": ((0, time(22), time(6)),)},  # overnight in one interval
        {"intervals": ((7, time(9), time(17)),)},
        {"intervals": ((0, "09:00", "17:00"),)},
        {"intervals": ((0, time(9)),)},
        {"timezone": "Mars/Olympus_Mons"},
    ],
)
def test_an_impossible_calendar_is_refused(fields):
    with pytest.raises(ValueError):
        BusinessHours(**fields)


def test_zero_length_intervals_beside_real_ones_are_ignored():
    hours = BusinessHours("UTC", ((0, time(9), time(9)), (0, time(10), time(11))))
    day = datetime(2026, 11, 23, tzinfo=UTC)
    assert business_duration(day, day + timedelta(days=1), hours) == timedelta(hours=1)


def test_naive_datetimes_and_negative_durations_are_refused():
    with pytest.raises(ValueError):
        is_open(datetime(2026, 11, 23, 10), OFFICE)
    with pytest.raises(ValueError):
        add_business_time(berlin(2026, 11, 23, 10), timedelta(hours=-1), OFFICE)


# Properties

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
# Sao Paulo changed its clocks at midnight until 2019, the hardest case for day boundaries.
ZONES_WITH_MIDNIGHT_CHANGES = (*ZONES, "America/Sao_Paulo")


@st.composite
def intervals(draw, earliest: int = 0) -> tuple[int, time, time]:
    opens = draw(st.integers(earliest, 1439))
    closes = draw(st.integers(opens + 1, 1440))
    as_time = time.max if closes == 1440 else time(closes // 60, closes % 60)
    return draw(st.integers(0, 6)), time(opens // 60, opens % 60), as_time


def calendars(zones=ZONES_WITH_MIDNIGHT_CHANGES, earliest: int = 0):
    return st.builds(
        BusinessHours,
        timezone=st.sampled_from(zones),
        intervals=st.lists(intervals(earliest), min_size=1, max_size=6).map(tuple),
    )


moments = st.datetimes(
    min_value=datetime(2015, 1, 1),
    max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([UTC, BERLIN, NEW_YORK]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
few = settings(max_examples=60, deadline=None)


@few
@given(calendars(), moments, durations)
def test_the_open_time_up_to_the_due_moment_is_the_duration(hours, start, duration):
    due = add_business_time(start, duration, hours)
    assert due.tzinfo is UTC
    assert business_duration(start, due, hours) == duration


@few
@given(calendars(), moments, durations, durations)
def test_a_longer_duration_is_never_due_earlier(hours, start, a, b):
    short, long = sorted((a, b))
    assert add_business_time(start, short, hours) <= add_business_time(start, long, hours)


@few
@given(calendars(), moments, st.timedeltas(timedelta(0), timedelta(days=90)))
def test_open_time_never_exceeds_wall_time(hours, start, span):
    assert timedelta(0) <= business_duration(start, start + span, hours) <= span


@few
@given(calendars(), moments, durations.filter(bool))
def test_the_team_is_open_just_before_the_due_moment(hours, start, duration):
    assert is_open(add_business_time(start, duration, hours) - EPSILON, hours)


@few
@given(calendars(), moments, durations, durations)
def test_open_time_adds_up_over_consecutive_spans(hours, start, first, second):
    middle, end = start + first, start + first + second
    whole = business_duration(start, end, hours)
    assert whole == business_duration(start, middle, hours) + business_duration(middle, end, hours)


@few
@given(calendars(), moments)
def test_is_open_agrees_with_a_microsecond_of_business_time(hours, moment):
    open_time = business_duration(moment, moment + EPSILON, hours)
    assert is_open(moment, hours) == (open_time == EPSILON)


@few
@given(calendars(zones=ZONES[:3], earliest=4 * 60), moments)
def test_is_open_matches_the_local_clock_away_from_clock_changes(hours, moment):
    # With every interval after 04:00 local, no opening or closing falls on a clock change.
    local = moment.astimezone(ZoneInfo(hours.timezone))
    clock = local.time()
    expected = any(
        day == local.weekday() and opens <= clock and (clock < closes or closes == time.max)
        for day, opens, closes in hours.intervals
    )
    assert is_open(moment, hours) == expected


@few
@given(st.sampled_from([None, BusinessHours(), BusinessHours("Asia/Kolkata")]), moments, durations)
def test_always_open_is_plain_utc_arithmetic(hours, start, duration):
    due = add_business_time(start, duration, hours)
    assert due == start.astimezone(UTC) + duration
    assert business_duration(start, due, hours) == duration
    assert is_open(start, hours)
