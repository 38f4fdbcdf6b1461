"""Every delivery looks for the brand's replies that waited for it: that lookup must read
only those replies, however many messages the account holds, and still find them."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.intake import intake_messages
from inbox.connectors.generic import parse_item
from inbox.models import Message
from tests.conftest import generic_message

pytestmark = pytest.mark.django_db


def deliver(account, *items) -> None:
    with transaction.atomic():
        intake_messages(account, [parse_item(item, f"[{n}]") for n, item in enumerate(items)])


def customer(n: int, **fields) -> dict:
    fields.setdefault("author", {"id": f"u{n}", "handle": f"user{n}"})
    return generic_message(f"q{n}", f"Question {n}: where is my parcel?", **fields)


def brand_reply(n: int, answers: str) -> dict:
    return generic_message(
        f"r{n}",
        "We are on it.",
        direction="out",
        in_reply_to=answers,
        author={"id": "brand", "handle": "brand"},
        recipient={"id": f"u{n}", "handle": f"user{n}"},
    )


def test_the_waiting_replies_are_read_by_their_own_index(account):
    """SQLite's planner follows the query's shape (it keeps no statistics unless told): the
    lookup once read every message of the account, 2.6 ms a delivery at 5,000 messages."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL chooses by its statistics")
    deliver(account, *(customer(n) for n in range(5)))

    with CaptureQueriesContext(connection) as queries:
        deliver(account, customer(99))

    lookup = next(q["sql"] for q in queries if "in_reply_to IN" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {lookup}")
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert "INDEX message_unfiled_reply " in plan, plan


def test_a_reply_that_came_first_joins_the_case_of_the_message_it_answers(account):
    deliver(account, brand_reply(1, answers="q1"))
    reply = Message.objects.get(external_id="r1")
    assert reply.case_id is None  # its question is not there yet

    deliver(account, customer(1))

    reply.refresh_from_db()
    question = Message.objects.get(external_id="q1")
    assert question.case_id is not None
    assert reply.case_id == question.case_id
    assert question.case.first_response_at == reply.created_at
