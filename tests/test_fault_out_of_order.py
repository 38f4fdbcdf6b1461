"""Messages arriving out of order or with skewed clocks: threading, response times and SLA
clocks stay sane.

A customer's message may arrive after the brand's reply to it, a sender's clock may run
hours ahead, and a broken one may say 1971. Whatever the order and the skew: one case per
customer, no negative response time, an agent's reply always counts as the response that
stops the clock, no message dated after it was received, and the thread reads in order.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from cases import actions
from cases.intake import intake_messages
from cases.models import Case, ResponseTime
from inbox.connectors.generic import parse_item
from inbox.models import Message
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

_accounts = itertools.count()
SKEWS = {
    "none": timedelta(0),
    "ahead by minutes": timedelta(minutes=7),
    "ahead by hours": timedelta(hours=5),
    "ahead by days": timedelta(days=3),
    "late by a day": -timedelta(days=1),
    "years behind": -timedelta(days=3 * 365),
}


def item(external_id, at, *, author="kim", reply_to="", direction="in", text="Any news?"):
    fields = {"in_reply_to": reply_to or None, "created_at": at.isoformat()}
    if direction == "out":
        fields.update(direction="out", recipient={"id": author})
        author = "brand"
    person = {"id": author, "handle": author, "name": author.title(), "followers": 10}
    return generic_message(external_id, text, author=person, **fields)


def deliver(account, *items):
    parsed = [parse_item(data, f"[{i}]") for i, data in enumerate(items)]
    with transaction.atomic():
        return intake_messages(account, parsed)


def test_a_question_stamped_in_the_future_is_answered_by_the_reply_that_follows_it(
    client, django_capture_on_commit_callbacks
):
    account = make_account()
    agent = make_user("alex")
    ahead = timezone.now() + timedelta(hours=3)  # the sender's clock runs three hours fast
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_generic(client, account, item("q-1", ahead, text="Where is my refund?"))
    assert answer.status_code == 200
    case = Case.objects.get()

    actions.record_reply(case, "It left our bank today.", actor=agent)

    case.refresh_from_db()
    question = Message.objects.get(external_id="q-1")
    assert question.created_at <= question.received_at
    assert case.first_response_at is not None and case.first_response_seconds >= 0
    assert case.awaiting_since is None
    assert case.sla_due != case.first_response_due  # that clock stopped
    assert list(case.messages.values_list("direction", flat=True)) == ["in", "out"]


def test_a_reply_from_the_brand_before_its_question_arrives_is_filed_once_counted_once():
    account = make_account()
    now = timezone.now()
    deliver(account, item("r-1", now - timedelta(minutes=5), reply_to="q-1", direction="out"))
    deliver(account, item("q-1", now - timedelta(minutes=20)))
    case = Case.objects.get()
    assert case.message_count == 2
    assert case.first_response_seconds == 15 * 60
    assert ResponseTime.objects.get().seconds == 15 * 60


# -- properties -----------------------------------------------------------------------------


@st.composite
def conversations(draw):
    """One customer's questions and the brand's native answers, each message with a skewed
    clock, arriving in any order and grouping of deliveries."""
    count = draw(st.integers(1, 5))
    plan = []  # (id, direction, minutes ago, skew, reply_to)
    for i in range(count):
        minutes_ago = draw(st.integers(0, 600))
        skew = draw(st.sampled_from(sorted(SKEWS)))
        if i and draw(st.booleans()):
            target = draw(st.integers(0, i - 1))
            plan.append((f"m{i}", "out", minutes_ago, skew, f"m{target}"))
        else:
            earlier = draw(st.none() | st.integers(0, max(i - 1, 0))) if i else None
            plan.append(
                (f"m{i}", "in", minutes_ago, skew, "" if earlier is None else f"m{earlier}")
            )
    if all(direction == "out" for _, direction, *_ in plan):
        plan[0] = ("m0", "in", plan[0][2], plan[0][3], "")
    order = draw(st.permutations(range(count)))
    cuts = sorted(set(draw(st.lists(st.integers(1, max(count - 1, 1)), max_size=3))))
    bounds = [0, *[c for c in cuts if c < count], count]
    deliveries = [order[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return plan, deliveries


PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(conversations(), st.booleans())
def test_any_order_and_clock_skew_keep_threading_and_clocks_sane(db, conversation, agent_replies):
    plan, deliveries = conversation
    account = make_account(slug=f"skew-{next(_accounts)}")
    customer = f"kim-{account.slug}"
    now = timezone.now()
    items = [
        item(
            external_id,
            now - timedelta(minutes=minutes_ago) + SKEWS[skew],
            author=customer,
            reply_to=reply_to,
            direction=direction,
        )
        for external_id, direction, minutes_ago, skew, reply_to in plan
    ]
    for batch in deliveries:
        deliver(account, *(items[i] for i in batch))
    cases = list(Case.objects.filter(account=account))
    if agent_replies and cases:
        actions.record_reply(cases[0], "Sorted, sorry for the wait.", actor=make_user(customer))

    checked_at = datetime.now(UTC)
    stored = list(Message.objects.filter(account=account).order_by("created_at", "id"))
    assert len(stored) == len(plan) + agent_replies
    assert all(m.created_at <= checked_at for m in stored), "a message dated in the future"
    inbound = [m for m in stored if m.direction == "in"]
    assert len(cases) == 1, "one customer, one open case"
    case = Case.objects.get(account=account)
    assert all(m.case_id == case.pk for m in inbound)
    assert case.message_count == sum(1 for m in stored if m.case_id == case.pk)
    assert case.created_at == min(m.created_at for m in inbound)
    seconds = list(ResponseTime.objects.filter(case=case).values_list("seconds", flat=True))
    assert all(s >= 0 for s in seconds), seconds
    assert case.first_response_seconds is None or case.first_response_seconds >= 0
    if case.first_response_at is not None:
        assert case.first_response_at >= case.created_at
    for due in (case.first_response_due, case.resolution_due, case.sla_due):
        assert due is None or due >= case.created_at
    if agent_replies:
        # Our reply answers everything that arrived before it: no clock is left waiting.
        reply = Message.objects.get(case=case, direction="out", sent_by__isnull=False)
        assert all(m.created_at <= reply.created_at for m in inbound)
        assert case.first_response_at is not None
        assert case.awaiting_since is None and case.next_response_due is None
        assert stored[-1].pk == reply.pk or stored[-1].created_at == reply.created_at


@st.composite
def arrivals(draw):
    """A thread of one customer's questions and the brand's answers, written at distinct
    moments, and any order and grouping of the deliveries that bring it."""
    count = draw(st.integers(2, 6))
    # m0 is the oldest: a message can only quote one written before it.
    minutes = sorted(
        draw(st.lists(st.integers(1, 900), min_size=count, max_size=count, unique=True)),
        reverse=True,
    )
    plan = []  # (id, direction, minutes ago, reply_to)
    for i, minutes_ago in enumerate(minutes):
        # The brand answers a message of the thread or writes to the customer; the customer
        # may or may not quote one.
        direction = "out" if i and draw(st.booleans()) else "in"
        quotes = i and draw(st.booleans())
        reply_to = f"m{draw(st.integers(0, i - 1))}" if quotes else ""
        if direction == "out" and not quotes and draw(st.booleans()):
            reply_to = "gone"  # a message never stored: older than the thread, or deleted
        plan.append((f"m{i}", direction, minutes_ago, reply_to))
    order = draw(st.permutations(range(count)))
    cuts = sorted(set(draw(st.lists(st.integers(1, count - 1), max_size=3))))
    bounds = [0, *cuts, count]
    return plan, [order[a:b] for a, b in itertools.pairwise(bounds)]


FIGURES = [
    "created_at",
    "status",
    "message_count",
    "inbound_count",
    "last_message_at",
    "last_message_preview",
    "first_response_at",
    "first_response_seconds",
    "first_response_due",
    "resolution_due",
    "awaiting_since",
    "next_response_due",
    "sla_due",
]


def figures_of(account) -> tuple:
    case = Case.objects.get(account=account)
    responses = sorted(
        ResponseTime.objects.filter(case=case).values_list("kind", "at", "waited_since", "seconds")
    )
    return [getattr(case, name) for name in FIGURES], responses


@PROPERTY
@given(arrivals())
def test_a_thread_arriving_in_any_order_shows_the_figures_of_its_arrival_in_order(db, arrival):
    """Late deliveries (a platform retrying, an import cut into batches) change nothing a
    supervisor reads: the case's clocks, response times and counts are those of the same
    messages arriving in the order they were written."""
    plan, deliveries = arrival
    now = timezone.now()
    figures = []
    for groups in ([sorted(range(len(plan)), key=lambda i: -plan[i][2])], deliveries):
        account = make_account(slug=f"order-{next(_accounts)}")
        items = [
            item(
                external_id,
                now - timedelta(minutes=minutes_ago),
                author=f"kim-{account.slug}",
                reply_to=reply_to,
                direction=direction,
                text=f"message {external_id}",
            )
            for external_id, direction, minutes_ago, reply_to in plan
        ]
        for group in groups:
            deliver(account, *(items[i] for i in group))
        figures.append(figures_of(account))
    in_order, as_delivered = figures
    note(f"PLAN {plan} {deliveries}")
    assert dict(zip(FIGURES, as_delivered[0], strict=True)) == dict(
        zip(FIGURES, in_order[0], strict=True)
    )
    assert as_delivered[1] == in_order[1]


def test_a_case_too_long_to_read_again_takes_a_late_reply_as_it_comes(monkeypatch):
    now = timezone.now()
    question = item("q-1", now - timedelta(minutes=30))
    later = item("r-2", now - timedelta(minutes=10), reply_to="q-1", direction="out")
    earlier = item("r-1", now - timedelta(minutes=20), reply_to="q-1", direction="out")
    first_response = {}
    for limit in (1, 1_000):
        monkeypatch.setattr("cases.filing.REPLAYED_AT_MOST", limit)
        account = make_account(slug=f"long-{limit}")
        for delivery in (question, later, earlier):
            deliver(account, delivery)
        first_response[limit] = Case.objects.get(account=account).first_response_seconds
    # Read again in order, the earlier answer is the first response; taken as it came,
    # the first one to arrive stays it.
    assert first_response == {1: 20 * 60, 1_000: 10 * 60}


def test_a_brand_reply_without_a_reference_that_arrives_first_answers_the_case():
    """Direct messages often say nothing of what they answer: the brand's reply, delivered
    before the customer's question it followed, still joins the case and stops its clock;
    a message the brand wrote before the question does not."""
    account = make_account()
    now = timezone.now()
    deliver(account, item("old", now - timedelta(minutes=60), direction="out", text="Hi!"))
    deliver(account, item("r-1", now - timedelta(minutes=10), direction="out", text="Sorted."))
    deliver(account, item("q-1", now - timedelta(minutes=25), text="Where is my parcel?"))
    case = Case.objects.get()
    assert sorted(case.messages.values_list("external_id", flat=True)) == ["q-1", "r-1"]
    assert case.first_response_seconds == 15 * 60
    assert case.awaiting_since is None
    assert Message.objects.get(external_id="old").case_id is None


def test_a_brand_reply_to_a_message_never_stored_joins_the_case_that_opens_after_it():
    """A reply to a tweet older than the import (or deleted) waits for a parent that never
    comes; when the customer's case opens before the reply was written, it joins it as it
    would have, had it come after the case."""
    account = make_account()
    now = timezone.now()
    reply = item("r-1", now - timedelta(minutes=10), direction="out", reply_to="gone", text="Ok!")
    deliver(account, reply)
    deliver(account, item("q-1", now - timedelta(minutes=25), text="Where is my parcel?"))
    case = Case.objects.get()
    assert sorted(case.messages.values_list("external_id", flat=True)) == ["q-1", "r-1"]
    assert case.first_response_seconds == 15 * 60

    deliver(account, item("r-2", now - timedelta(minutes=5), direction="out", reply_to="q-9"))
    deliver(account, item("q-9", now - timedelta(minutes=7), text="And the invoice?"))
    assert Message.objects.get(external_id="r-2").case_id == case.pk  # its parent came after
