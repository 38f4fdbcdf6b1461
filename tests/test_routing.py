"""Routing rules decide a new case's tier, team, priority floor, skills, tags and auto reply."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from cases.intake import intake_messages
from cases.models import Case, CaseEvent, RoutingRule, Team, Tier
from inbox.connectors.generic import parse_item
from inbox.models import Contact, Message
from tests.conftest import generic_message, make_account

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
_ids = itertools.count()
ENGLISH = "Hello, I have a question about the warranty of my coffee machine."
GERMAN = "Hallo, wie kann ich die Lieferadresse meiner Bestellung ändern?"
ANGRY = "This is terrible, worst service ever, I am furious!"


def deliver(account, text=ENGLISH, *, author=None, followers=10, public=False) -> Case:
    n = next(_ids)
    data = generic_message(
        f"m{n}",
        text,
        created_at=(T0 + timedelta(minutes=n)).isoformat(),
        public=public,
        author={"id": author or f"person{n}", "handle": "someone", "followers": followers},
    )
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Message.objects.get(account=account, external_id=f"m{n}").case


def rule(name="rule", position=100, **fields):
    return RoutingRule.objects.create(name=name, position=position, **fields)


def high():
    return Tier.objects.get(slug="high")


def person(external_id, **fields):
    return Contact.objects.create(channel="generic", external_id=external_id, **fields)


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ("channel", {}, {}),
        ("language", {"text": GERMAN}, {"text": ENGLISH}),
        ("keywords", {"text": "I want my REFUNDS now"}, {"text": "prefunding question, hello"}),
        ("sentiment", {"text": ANGRY}, {"text": ENGLISH}),
        ("min_followers", {"followers": 25_000}, {"followers": 9_999}),
        ("is_public", {"public": True}, {"public": False}),
    ],
)
def test_a_rule_applies_only_when_its_condition_holds(account, condition, matching, other):
    values = {
        "channel": "generic",
        "language": "de",
        "keywords": "refund, cancel",
        "sentiment": "negative",
        "min_followers": 10_000,
        "is_public": True,
    }
    rule(set_tier=high(), **{condition: values[condition]})
    assert deliver(account, **matching).tier_id == "high"
    if other:
        assert deliver(account, **other).tier_id == "mid"


def test_a_rule_for_another_channel_does_not_apply(account):
    rule(channel="x", set_tier=high())
    assert deliver(account).tier_id == "mid"


def test_a_rule_for_one_account_leaves_the_others_alone(account):
    rule(account=account, set_tier=high())
    assert deliver(account).tier_id == "high"
    assert deliver(make_account(slug="other")).tier_id == "mid"


def test_contact_tier_and_lifecycle_stage_conditions(account):
    team = Team.objects.create(name="Loyal", slug="loyal")
    rule("low", position=1, contact_tier="low", set_tier=high(), stop_processing=False)
    rule("loyal", position=2, lifecycle_stage="loyalty", set_team=team)
    person("p-low", tier="low")
    person("p-loyal", lifecycle_stage="loyalty")
    case = deliver(account, author="p-low")
    assert (case.tier_id, case.team_id) == ("high", None)
    case = deliver(account, author="p-loyal")
    assert (case.tier_id, case.team) == ("mid", team)


def test_every_action_of_a_matching_rule_lands_on_the_case(account):
    team = Team.objects.create(name="Billing", slug="billing")
    rule(
        keywords="invoice",
        set_tier=Tier.objects.get(slug="low"),
        set_team=team,
        priority_floor="P2",
        required_skills=["billing"],
        add_tag="invoice",
        auto_reply="Thanks, our billing team has your invoice question.",
    )
    case = deliver(account, "Hello, my invoice shows the wrong amount.")
    assert (case.tier_id, case.team, case.priority_floor) == ("low", team, "P2")
    assert (case.required_skills, case.tags) == (["billing"], ["invoice"])
    reply = case.messages.get(direction="out")
    assert reply.text == "Thanks, our billing team has your invoice question."
    assert reply.is_automatic
    created = CaseEvent.objects.get(case=case, kind="created")
    assert created.data["rules"] == ["rule"]


def test_rules_apply_in_order_and_stop_processing_ends_the_walk(account):
    rule("third", position=3, add_tag="c")
    rule("first", position=1, add_tag="a", stop_processing=False)
    rule("second", position=2, add_tag="b", required_skills=["x"], stop_processing=True)
    case = deliver(account)
    assert case.tags == ["a", "b"]
    assert CaseEvent.objects.get(case=case, kind="created").data["rules"] == ["first", "second"]


def test_the_first_matching_rule_decides_the_tier(account):
    rule("later", position=20, set_tier=Tier.objects.get(slug="low"))
    rule("earlier", position=10, set_tier=high())
    assert deliver(account).tier_id == "high"


def test_a_later_rule_can_add_to_what_an_earlier_one_did(account):
    rule("a", position=1, add_tag="press", priority_floor="P3", stop_processing=False)
    rule("b", position=2, add_tag="vip", priority_floor="P1")
    case = deliver(account)
    assert (case.tags, case.priority_floor, case.priority) == (["press", "vip"], "P1", "P1")


def test_inactive_rules_are_ignored(account):
    rule(set_tier=high(), is_active=False)
    assert deliver(account).tier_id == "mid"


def test_contact_tier_beats_the_account_default(account):
    low_default = make_account(slug="cheap", default_tier="low")
    person("vip", tier="high")
    assert deliver(low_default, author="vip").tier_id == "high"
    assert deliver(low_default).tier_id == "low"


def test_a_rule_tier_beats_the_contact_tier(account):
    person("vip", tier="high")
    rule(keywords="warranty", set_tier=Tier.objects.get(slug="low"))
    assert deliver(account, author="vip").tier_id == "low"
