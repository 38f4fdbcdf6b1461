"""`values_rows` gives what `list(queryset.values(...))` gives: the same dicts, the same
instants (read by psycopg's compiled loader on PostgreSQL), whatever the current zone."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caremgr.fast_values import values_rows
from cases.api.rows import COLUMNS, case_rows
from cases.models import Case
from inbox.models import Message
from tests.conftest import generic_message, make_account, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]


@pytest.fixture
def cases(django_capture_on_commit_callbacks):
    account = make_account(slug="acme")
    messages = [
        generic_message(
            f"m{i}",
            f"text {i}",
            author={"id": f"u{i}", "handle": f"c{i}"},
            created_at=f"2026-11-20T10:{i:02d}:0{i}.{i}Z",
        )
        for i in range(5)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_generic(Client(), account, messages).status_code == 200
    # Moments with and without microseconds, far apart, and none.
    Case.objects.filter(pk=Case.objects.order_by("pk")[0].pk).update(
        resolved_at=timezone.now().replace(microsecond=0) - timedelta(days=400), sla_due=None
    )
    return Case.objects.order_by("pk")


def test_rows_equal_django_values(cases):
    page = cases.values(*COLUMNS)
    rows = values_rows(page)
    assert len(rows) == 5
    assert rows == list(page)
    assert [list(row) for row in rows] == [list(COLUMNS)] * 5  # the same keys, in order
    django_rows = list(page)
    for ours, theirs in zip(rows, django_rows, strict=True):
        for name in ("created_at", "updated_at", "resolved_at", "sla_due", "last_message_at"):
            assert type(ours[name]) is type(theirs[name])
            if ours[name] is not None:
                assert ours[name].tzinfo == theirs[name].tzinfo
                assert ours[name].isoformat() == theirs[name].isoformat()


def test_rows_follow_the_current_time_zone(cases):
    with timezone.override("America/St_Johns"):
        assert case_rows(values_rows(cases.values(*COLUMNS))) == case_rows(
            list(cases.values(*COLUMNS))
        )


def test_annotations_json_and_slices_as_in_django(cases):
    page = Message.objects.order_by("-pk").values()[1:4]
    assert values_rows(page) == list(page)
    page = cases.values("id", "tags", "last_message_at", later=F("message_count") + 1)
    assert values_rows(page) == list(page)


def test_moments_computed_in_sql_as_in_django(cases):
    # SQLite gives these as text (no declared type): Django's own converter parses them.
    page = cases.values("id", moment=Coalesce("first_response_at", "created_at"))
    rows = values_rows(page)
    assert rows == list(page)
    assert all(timezone.is_aware(row["moment"]) for row in rows)


def test_an_empty_query_asks_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert values_rows(Case.objects.none().values("id")) == []
        assert values_rows(Case.objects.filter(pk__in=[]).values("id")) == []
    assert len(queries) == 0


def test_one_query_counted_like_any_other(cases):
    with CaptureQueriesContext(connection) as queries:
        values_rows(cases.values("id"))
    assert len(queries) == 1
