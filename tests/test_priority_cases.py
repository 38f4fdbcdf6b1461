"""A case's priority as messages arrive: re-scored, explained, floored, a person's choice kept."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases import actions
from cases.intake import intake_messages
from cases.models import Case, CaseEvent, RoutingRule
from cases.monitor import tick
from inbox.connectors.generic import parse_item
from tests.conftest import brand_reply, generic_message, make_account, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
LEVELS = ["P1", "P2", "P3", "P4"]
MILD = "My order has not arrived yet, can you check?"
ANGRY = "This is terrible, worst service ever, I am furious!"


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The intake scores waiting time against the wall clock: keep it just after T0."""
    monkeypatch.setattr(timezone, "now", lambda: T0 + timedelta(minutes=1))


@pytest.fixture
def agent(db):
    return make_user("alex")


def deliver(account, external_id, text, *, at=T0, public=False, followers=10) -> Case:
    data = generic_message(
        external_id,
        text,
        created_at=at.isoformat(),
        public=public,
        author={"id": "u1", "handle": "dana", "followers": followers},
    )
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Case.objects.get(account=account)


def more_urgent(a, b):
    return LEVELS.index(a) < LEVELS.index(b)


def test_a_new_case_is_scored_and_the_reason_is_shown(account):
    case = deliver(
        account, "m1", "Where is my refund? This is urgent.", public=True, followers=48_000
    )
    assert 0 < case.priority_score <= 100
    assert case.priority in LEVELS
    assert "'refund'" in case.priority_reason and "48k followers" in case.priority_reason
    assert "public post" in case.priority_reason


def test_an_angrier_second_message_raises_the_priority_and_says_it_is_getting_worse(account):
    first = deliver(account, "m1", MILD)
    second = deliver(account, "m2", ANGRY, at=T0 + timedelta(seconds=30))
    assert second.pk == first.pk
    assert second.priority_score > first.priority_score
    assert more_urgent(second.priority, first.priority)
    assert "getting worse" in second.priority_reason
    assert "2nd contact" in second.priority_reason
    entry = CaseEvent.objects.filter(case=second, kind="priority").last()
    assert (entry.before, entry.after, entry.is_automatic) == (
        first.priority,
        second.priority,
        True,
    )


def test_a_calmer_follow_up_does_not_claim_things_got_worse(account):
    deliver(account, "m1", ANGRY)
    case = deliver(account, "m2", "Thanks a lot, great help!", at=T0 + timedelta(seconds=30))
    assert "getting worse" not in case.priority_reason


def test_a_manual_priority_is_kept_when_new_messages_arrive(account, agent):
    case = deliver(account, "m1", MILD)
    actions.set_priority(case, "P4", actor=agent)
    case = deliver(account, "m2", ANGRY, at=T0 + timedelta(seconds=30))
    assert (case.priority, case.is_priority_manual) == ("P4", True)
    assert "getting worse" in case.priority_reason  # the score goes on explaining
    kinds = list(
        CaseEvent.objects.filter(case=case, kind="priority").values_list("actor__username", "after")
    )
    assert kinds[-1] == ("alex", "P4")


def test_our_own_reply_keeps_what_the_customer_said_in_the_score(account, agent):
    case = deliver(account, "m1", MILD)
    actions.record_reply(case, "Sorry, we are checking right now.", actor=agent)
    at = T0 + timedelta(seconds=40)
    reply = brand_reply("r1", "We found it.", to="u1", in_reply_to="m1", at=at)
    with transaction.atomic():
        intake_messages(account, [parse_item(reply, "[0]")])
    after = Case.objects.get()
    assert (after.priority, after.priority_score) == (case.priority, case.priority_score)


def test_a_routing_rule_floor_lifts_the_level_but_not_the_score(account):
    RoutingRule.objects.create(name="press", keywords="journalist", priority_floor="P1")
    plain = deliver(make_account(slug="other"), "m0", "Hello, a question about my plan.")
    case = deliver(account, "m1", "Hello, journalist here, a question about my plan.")
    assert case.priority == "P1"
    assert case.priority_floor == "P1"
    assert case.priority_reason.startswith("routing floor P1")
    assert case.priority_score == plain.priority_score
    assert plain.priority != "P1"


def test_the_floor_stays_when_the_customer_writes_again(account):
    RoutingRule.objects.create(name="press", keywords="journalist", priority_floor="P2")
    deliver(account, "m1", "Hello, journalist here, a question about my plan.")
    case = deliver(account, "m2", "Thanks a lot, great help!", at=T0 + timedelta(seconds=30))
    assert not more_urgent("P2", case.priority)


def test_a_priority_raised_after_an_sla_breach_survives_the_next_message(monkeypatch):
    account = make_account(slug="vip", default_tier="high")
    case = deliver(account, "m1", "Hello, a question about my plan.")
    tick(now=T0 + timedelta(minutes=31))
    raised = Case.objects.get(pk=case.pk).priority
    assert more_urgent(raised, case.priority)
    monkeypatch.setattr(timezone, "now", lambda: T0 + timedelta(minutes=40))
    later = deliver(account, "m2", "Hello?", at=T0 + timedelta(minutes=39))
    assert not more_urgent(raised, later.priority)
