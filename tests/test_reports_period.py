"""Reading a report's period from `from` and `to`."""

from datetime import UTC, datetime, timedelta

import pytest

from cases.reports_period import PeriodError, last_days, parse_period

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def period(**query):
    return parse_period(query, now=NOW)


def test_dates_cover_whole_days():
    assert period(**{"from": "2026-11-01", "to": "2026-11-30"}) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-03T11:00:00+01:00",
        "2026-11-03T11:00:00 01:00",  # "+" sent unencoded in a URL becomes a space
        "2026-11-03T10:00:00Z",
        "2026-11-03T10:00:00",  # no zone: UTC
        "2026-11-03 10:00",
    ],
)
def test_datetimes_are_instants_in_utc(text):
    start, _ = period(**{"from": text, "to": "2026-11-04"})
    assert start == datetime(2026, 11, 3, 10, tzinfo=UTC)
    assert start.tzinfo == UTC


def test_default_is_the_last_30_days_up_to_the_end_of_today():
    start, end = period()
    assert end == datetime(2026, 11, 24, tzinfo=UTC)
    assert end - start == timedelta(days=30)
    assert (start, end) == last_days(30, NOW)


def test_only_to_given_keeps_30_days_before_it():
    start, end = period(to="2026-10-31")
    assert (start, end) == (datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"from": "last week"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-04"}, "to"),
        ({"from": "2026-11-05T10:00Z", "to": "2026-11-05T10:00Z"}, "to"),
    ],
)
def test_unreadable_values_name_their_parameter(query, parameter):
    with pytest.raises(PeriodError) as error:
        period(**query)
    assert error.value.parameter == parameter
