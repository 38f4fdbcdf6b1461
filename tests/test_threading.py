"""Which case a message lands in: reply chains, threads, reopening, native replies, merges."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import actions
from cases.intake import intake_messages
from cases.models import Case, CaseEvent
from inbox.connectors.generic import parse_item
from inbox.models import Message
from tests.conftest import generic_message, make_account, make_user, post_generic, wall_clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday
_slugs = itertools.count()


@pytest.fixture
def clock(monkeypatch):
    """Wall-clock time under the test's control (resolution times, reply times)."""
    return wall_clock(monkeypatch, T0 + timedelta(days=1))


@pytest.fixture
def agent(db):
    return make_user("alex")


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST through the real generic webhook and run what it schedules after commit."""

    def send(account, payload):
        with django_capture_on_commit_callbacks(execute=True):
            answer = post_generic(client, account, payload)
        assert answer.status_code == 200, answer.content
        return answer

    return send


def item(external_id, *, at, author="u1", text="Where is my parcel?", reply_to="", **fields):
    """A generic-format message; `direction="out", recipient=...` makes the brand's reply."""
    if isinstance(author, str):
        author = {"id": author, "handle": author, "name": author.title(), "followers": 10}
    return generic_message(
        external_id,
        text,
        author=author,
        created_at=at.isoformat(),
        in_reply_to=reply_to or None,
        **fields,
    )


def brand_reply(external_id, *, at, to="u1", reply_to="", text="We are on it."):
    return item(
        external_id,
        at=at,
        text=text,
        reply_to=reply_to,
        author={"id": "brand", "handle": "acme"},
        recipient={"id": to},
        direction="out",
    )


def deliver(account, *items):
    parsed = [parse_item(data, f"[{i}]") for i, data in enumerate(items)]
    with transaction.atomic():
        return intake_messages(account, parsed)


def case_of(account, external_id) -> Case:
    return Message.objects.select_related("case").get(account=account, external_id=external_id).case


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


def test_reply_chain_through_the_webhook_forms_one_case(send, account):
    send(account, item("m1", at=T0))
    send(account, item("m2", at=T0 + timedelta(minutes=5), reply_to="m1"))
    send(account, [item("m3", at=T0 + timedelta(minutes=9), reply_to="m2")])
    case = Case.objects.get()
    assert set(case.messages.values_list("external_id", flat=True)) == {"m1", "m2", "m3"}
    assert case.message_count == 3
    assert kinds(case).count("message.in") == 3


def test_dm_thread_and_the_brands_answers_in_it_stay_one_case(account):
    deliver(account, item("d1", at=T0, conversation_id="dm-7"))
    deliver(account, brand_reply("d2", at=T0 + timedelta(minutes=3), text="Which order?"))
    deliver(account, item("d3", at=T0 + timedelta(minutes=6), conversation_id="dm-7"))
    assert Case.objects.count() == 1
    assert Case.objects.get().message_count == 3


def test_comment_thread_under_a_public_post_stays_one_case(account):
    deliver(account, item("p1", at=T0, public=True, text="My parcel is lost, @acme?"))
    deliver(account, brand_reply("c1", at=T0 + timedelta(minutes=4), reply_to="p1"))
    deliver(account, item("c2", at=T0 + timedelta(minutes=8), public=True, reply_to="c1"))
    case = case_of(account, "p1")
    assert case_of(account, "c1") == case_of(account, "c2") == case
    assert case.message_count == 3 and case.is_public


def test_same_customer_writing_again_while_a_case_is_open_joins_it(account):
    deliver(account, item("m1", at=T0, conversation_id="a"))
    deliver(account, item("m2", at=T0 + timedelta(hours=5), conversation_id="b", public=True))
    assert Case.objects.count() == 1
    assert Case.objects.get().inbound_count == 2


def test_another_customer_replying_in_the_thread_gets_their_own_case(account):
    deliver(account, item("p1", at=T0, public=True))
    deliver(account, item("c1", at=T0 + timedelta(minutes=2), author="u2", reply_to="p1"))
    first, second = case_of(account, "p1"), case_of(account, "c1")
    assert first != second
    assert (first.contact.external_id, second.contact.external_id) == ("u1", "u2")
    assert first.message_count == 1


def test_message_within_72_hours_of_resolution_reopens_the_case(account, agent, clock):
    deliver(account, item("m1", at=T0))
    clock.set(T0 + timedelta(hours=2))
    case = actions.set_status(case_of(account, "m1"), "resolved", actor=agent)
    deliver(account, item("m2", at=T0 + timedelta(hours=2 + 71)))
    case.refresh_from_db()
    assert case_of(account, "m2") == case
    assert (case.status, case.reopen_count, case.resolved_at) == ("open", 1, None)
    assert "reopened" in kinds(case)
    assert Case.objects.count() == 1


def test_message_after_the_reopen_window_starts_a_new_case(account, agent, clock):
    deliver(account, item("m1", at=T0))
    clock.set(T0 + timedelta(hours=2))
    old = actions.set_status(case_of(account, "m1"), "resolved", actor=agent)
    deliver(account, item("m2", at=T0 + timedelta(hours=2 + 73), reply_to="m1"))
    old.refresh_from_db()
    assert case_of(account, "m2") != old
    assert (old.status, old.reopen_count) == ("resolved", 0)


def test_reply_to_an_old_closed_case_joins_the_customers_open_case(account, agent, clock):
    deliver(account, item("m1", at=T0))
    clock.set(T0 + timedelta(hours=1))
    actions.set_status(case_of(account, "m1"), "resolved", actor=agent)
    later = T0 + timedelta(days=10)
    deliver(account, item("m2", at=later, text="New problem: my invoice is wrong"))
    deliver(account, item("m3", at=later + timedelta(minutes=5), reply_to="m1"))
    assert case_of(account, "m3") == case_of(account, "m2")
    assert Case.objects.count() == 2


def test_brands_native_reply_is_the_first_response_at_its_own_time(send, account, clock):
    send(account, item("m1", at=T0))
    clock.set(T0 + timedelta(hours=3))  # the webhook brings the reply late
    send(account, brand_reply("r1", at=T0 + timedelta(minutes=20), reply_to="m1"))
    case = case_of(account, "m1")
    assert case_of(account, "r1") == case
    assert case.first_response_at == T0 + timedelta(minutes=20)
    assert case.status == "open"
    assert "message.out" in kinds(case)


def test_brand_reply_in_the_same_delivery_as_the_question_is_filed_once(account):
    deliver(
        account, item("m1", at=T0), brand_reply("r1", at=T0 + timedelta(minutes=7), reply_to="m1")
    )
    case = case_of(account, "m1")
    assert case_of(account, "r1") == case
    assert case.message_count == 2
    assert kinds(case).count("message.out") == 1
    assert case.first_response_at == T0 + timedelta(minutes=7)


def test_reply_that_arrives_before_its_question_is_adopted_when_it_comes(account):
    deliver(account, brand_reply("r1", at=T0 + timedelta(minutes=15), reply_to="m1"))
    assert Message.objects.get(external_id="r1").case is None
    deliver(account, item("m1", at=T0))
    case = case_of(account, "m1")
    assert case_of(account, "r1") == case
    assert case.message_count == 2
    assert case.first_response_at == T0 + timedelta(minutes=15)


def test_early_reply_is_adopted_by_the_new_case_not_an_old_one(account, agent, clock):
    deliver(account, item("m0", at=T0))
    clock.set(T0 + timedelta(hours=1))
    old = actions.set_status(case_of(account, "m0"), "resolved", actor=agent)
    later = T0 + timedelta(days=20)
    deliver(account, brand_reply("r1", at=later + timedelta(minutes=10), reply_to="m1"))
    deliver(account, item("m1", at=later))
    new = case_of(account, "m1")
    assert new != old
    assert case_of(account, "r1") == new
    assert new.first_response_at == later + timedelta(minutes=10)


def test_messages_for_a_merged_case_go_to_the_case_it_was_merged_into(account, agent):
    deliver(account, item("a1", at=T0, author="u1"))
    deliver(account, item("b1", at=T0 + timedelta(minutes=1), author="u2"))
    gone, kept = case_of(account, "a1"), case_of(account, "b1")
    actions.merge_cases(gone, kept, actor=agent)
    deliver(account, item("a2", at=T0 + timedelta(minutes=30), author="u1", reply_to="a1"))
    deliver(account, item("a3", at=T0 + timedelta(minutes=40), author="u1"))
    assert case_of(account, "a2") == kept
    assert case_of(account, "a3") == kept
    assert Case.objects.count() == 2
    gone.refresh_from_db()
    assert (gone.status, gone.merged_into_id) == ("closed", kept.pk)


# -- properties -----------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def fresh_account():
    return make_account(slug=f"prop-{next(_slugs)}")


def split(sequence, cuts):
    """Cut a sequence into consecutive deliveries at the given positions."""
    bounds = [0, *sorted(set(cuts)), len(sequence)]
    return [sequence[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@st.composite
def chain_arrivals(draw):
    size = draw(st.integers(2, 7))
    order = draw(st.permutations(range(size)))
    cuts = draw(st.lists(st.integers(1, size - 1), max_size=size))
    return size, split(list(order), cuts)


@PROPERTY
@given(chain_arrivals())
def test_any_arrival_order_of_a_reply_chain_forms_one_case(db, arrival):
    size, deliveries = arrival
    account = fresh_account()
    customer = f"chain-{account.slug}"
    chain = [
        item(
            f"m{i}",
            at=T0 + timedelta(minutes=3 * i),
            author=customer,
            reply_to=f"m{i - 1}" if i else "",
        )
        for i in range(size)
    ]
    for batch in deliveries:
        deliver(account, *(chain[i] for i in batch))
    case = Case.objects.get(account=account)
    assert case.messages.count() == case.message_count == size


@st.composite
def threads(draw):
    """Messages of up to 3 customers in one thread, answered now and then by the brand."""
    size = draw(st.integers(2, 9))
    messages = []
    for i in range(size):
        earlier = draw(st.none() | st.integers(0, i - 1)) if i else None
        if i and draw(st.booleans()) and messages[earlier or 0][1] == "in":
            target = earlier or 0
            messages.append((i, "out", messages[target][2], target))
        else:
            messages.append((i, "in", draw(st.integers(0, 2)), earlier))
    order = draw(st.permutations(range(size)))
    cuts = draw(st.lists(st.integers(1, size - 1), max_size=3)) if size > 1 else []
    return messages, split(list(order), cuts)


@PROPERTY
@given(threads())
def test_multi_customer_threads_give_each_customer_their_own_cases(db, thread):
    messages, deliveries = thread
    account = fresh_account()
    people = [f"{account.slug}-c{n}" for n in range(3)]
    items = []
    for i, direction, who, reply in messages:
        at, reply_to = T0 + timedelta(minutes=2 * i), "" if reply is None else f"t{reply}"
        if direction == "in":
            items.append(item(f"t{i}", at=at, author=people[who], reply_to=reply_to))
        else:
            items.append(brand_reply(f"t{i}", at=at, to=people[who], reply_to=reply_to))
    for batch in deliveries:
        deliver(account, *(items[i] for i in batch))

    stored = Message.objects.filter(account=account).select_related("contact")
    inbound = [m for m in stored if m.direction == "in"]
    assert inbound and all(m.case_id is not None for m in inbound)
    cases = Case.objects.filter(account=account)
    for case in cases:
        mine = [m for m in stored if m.case_id == case.pk]
        assert case.message_count == len(mine), "a message was counted twice"
        assert {m.contact_id for m in mine} == {case.contact_id}
    filed = [m for m in stored if m.case_id is not None]
    assert sum(c.message_count for c in cases) == len(filed)
