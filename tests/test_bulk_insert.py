"""Bulk inserts that skip rows a concurrent writer stored first still tell which are which."""

from datetime import UTC, datetime, timedelta, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import store
from inbox.bulk import insert_rows, new_instance
from inbox.connectors.base import Person
from inbox.models import Contact, Message

pytestmark = pytest.mark.django_db


def contact(external_id: str, handle: str = "") -> Contact:
    return new_instance(Contact, {"channel": "x", "external_id": external_id, "handle": handle})


def test_skipped_rows_stay_unsaved_and_inserted_ones_get_their_own_ids():
    first = Contact.objects.create(channel="x", external_id="b", handle="b-first")
    rows = [contact("a"), contact("b", "b-second"), contact("c")]

    insert_rows(rows, ignore_conflicts=True, key=("channel", "external_id"))

    by_id = {c.external_id: c.pk for c in Contact.objects.all()}
    assert [row.pk for row in rows] == [by_id["a"], None, by_id["c"]]
    assert [row._state.adding for row in rows] == [False, True, False]
    assert Contact.objects.get(pk=first.pk).handle == "b-first"


def test_a_contact_stored_by_a_concurrent_delivery_after_the_lookup_is_read_back():
    Contact.objects.create(channel="x", external_id="u2", handle="early")
    real = store._fetch_contacts
    calls = []

    def first_lookup_misses_it(wanted):
        calls.append(sorted(wanted))
        return {} if len(calls) == 1 else real(wanted)

    people = [("x", Person("u1", handle="one")), ("x", Person("u2", handle="two"))]
    with mock.patch("inbox.store._fetch_contacts", first_lookup_misses_it):
        found = store.upsert_contacts(people)

    assert calls == [[("x", "u1"), ("x", "u2")], [("x", "u2")]]
    assert {key: c.pk for key, c in found.items()} == {
        ("x", c.external_id): c.pk for c in Contact.objects.all()
    }
    assert Contact.objects.count() == 2
    assert Contact.objects.get(external_id="u2").handle == "two"  # refreshed, as before


MOMENTS = st.lists(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-3, minutes=-30)), ZoneInfo("Europe/Berlin")]
        ),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pool=MOMENTS, picks=st.lists(st.tuples(*[st.integers(0, 4)] * 3), min_size=1, max_size=12))
def test_moments_shared_between_rows_and_columns_are_stored_as_each_says(account, pool, picks):
    """The same moment object in several rows and columns, equal moments in other zones,
    and empty ones: every row reads back the moments it was given."""
    pool = [*pool, None]  # next_attempt_at may be empty; the others pick a moment
    someone, _ = Contact.objects.get_or_create(channel="x", external_id="someone")
    rows = [
        new_instance(
            Message,
            {
                "account_id": account.pk,
                "contact_id": someone.pk,
                "text": "hello",
                "created_at": pool[a % (len(pool) - 1)],
                "received_at": pool[b % (len(pool) - 1)],
                "next_attempt_at": pool[c % len(pool)],
            },
        )
        for a, b, c in picks
    ]

    insert_rows(rows)

    stored = Message.objects.in_bulk([row.pk for row in rows])
    for row in rows:
        again = stored[row.pk]
        # Compared in UTC: a moment in a zone's autumn fold never equals one in another zone.
        assert in_utc(again.created_at, again.received_at, again.next_attempt_at) == in_utc(
            row.created_at, row.received_at, row.next_attempt_at
        )


def in_utc(*moments):
    return tuple(m.astimezone(UTC) if m is not None else None for m in moments)
