"""Bulk inserts that skip rows a concurrent writer stored first still tell which are which."""

from unittest import mock

import pytest

from inbox import store
from inbox.bulk import insert_rows, new_instance
from inbox.connectors.base import Person
from inbox.models import Contact

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
