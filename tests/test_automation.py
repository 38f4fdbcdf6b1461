"""Tech- and low-touch automation: automatic answers in the customer's language, escalation."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases import actions
from cases.automation import ACKNOWLEDGEMENT, HANDOVER
from cases.intake import intake_messages
from cases.models import Case, CaseEvent, KnowledgeArticle, Team
from inbox.connectors.generic import parse_item
from inbox.models import Message
from tests.conftest import generic_message, make_account, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
_ids = itertools.count()
ADDRESS_EN = "Hello, how can I change the shipping address for my order please?"
ADDRESS_DE = "Hallo, wie kann ich die Lieferadresse meiner Bestellung ändern?"
ANGRY = "This is terrible, worst service ever, I am furious!"


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", lambda message_id: None)
    monkeypatch.setattr(timezone, "now", lambda: T0 + timedelta(hours=1))


@pytest.fixture
def team(db):
    return Team.objects.create(name="Care", slug="care")


@pytest.fixture
def agent(team):
    return make_user("alex", teams=[team], presence="online")


@pytest.fixture
def tech(team):
    return make_account(slug="tech", default_tier="tech", default_team=team)


@pytest.fixture
def articles(db):
    english = KnowledgeArticle.objects.create(
        title="Changing the delivery address",
        body="Open My orders, pick the order and choose Change address.",
        keywords="address, shipping, delivery",
        url="https://help.example.com/address",
    )
    german = KnowledgeArticle.objects.create(
        title="Lieferadresse ändern",
        body="Unter Meine Bestellungen können Sie die Adresse ändern.",
        keywords="lieferadresse, adresse, bestellung",
        language="de",
    )
    KnowledgeArticle.objects.create(
        title="Returns", body="Send it back within 30 days.", keywords="return, refund"
    )
    return english, german


def deliver(account, text, *, author="u1") -> Case:
    n = next(_ids)
    data = generic_message(
        f"m{n}",
        text,
        created_at=(T0 + timedelta(minutes=n)).isoformat(),
        author={"id": author, "handle": author},
    )
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Message.objects.select_related("case").get(external_id=f"m{n}").case


def automatic_replies(case):
    return list(case.messages.filter(direction="out", is_automatic=True))


def timeline(case, kind):
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


def test_tech_touch_answers_with_an_acknowledgement_and_the_best_article(tech, articles, agent):
    english, _ = articles
    case = deliver(tech, ADDRESS_EN)
    (reply,) = automatic_replies(case)
    assert reply.text.startswith(ACKNOWLEDGEMENT["en"])
    assert english.body in reply.text and english.url in reply.text
    assert (reply.direction, reply.sent_by, reply.status) == ("out", None, "queued")
    (entry,) = timeline(case, "reply")
    assert (entry.is_automatic, entry.actor, entry.message) == (True, None, reply)
    case.refresh_from_db()
    assert (case.is_escalated, case.assignee, case.first_response_at) == (False, None, None)


def test_a_german_message_gets_the_german_article(tech, articles, agent):
    _, german = articles
    case = deliver(tech, ADDRESS_DE)
    (reply,) = automatic_replies(case)
    assert reply.text.startswith(ACKNOWLEDGEMENT["de"])
    assert german.body in reply.text
    assert case.language == "de"


def test_without_a_german_article_the_english_one_is_used(tech, agent):
    english = KnowledgeArticle.objects.create(
        title="Delivery address", body="Change it under My orders.", keywords="lieferadresse"
    )
    (reply,) = automatic_replies(deliver(tech, ADDRESS_DE))
    assert english.body in reply.text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (ANGRY, "negative sentiment"),
        (
            "Hi there, I would like to speak to a real person about my contract.",
            "asked for a person",
        ),
        ("Hello, what is the weather like on Mars?", "no answer found"),
    ],
)
def test_tech_touch_escalates_to_a_person_when_automation_cannot_help(
    tech, articles, agent, text, reason
):
    case = deliver(tech, text)
    case.refresh_from_db()
    assert case.is_escalated
    assert [e.text for e in timeline(case, "escalated")] == [reason]
    assert case.assignee == agent
    (reply,) = automatic_replies(case)
    assert reply.text == f"{ACKNOWLEDGEMENT['en']} {HANDOVER['en']}"


def test_tech_touch_escalates_when_the_customer_writes_again(tech, articles, agent):
    case = deliver(tech, ADDRESS_EN)
    assert Case.objects.get(pk=case.pk).assignee is None
    again = deliver(tech, "Hello, I have a question about the warranty of my coffee machine.")
    assert again.pk == case.pk
    assert (again.is_escalated, again.assignee) == (True, agent)
    assert [e.text for e in timeline(case, "escalated")] == ["the customer wrote again"]
    assert len(automatic_replies(case)) == 1


def test_escalation_is_recorded_once(tech, articles, agent):
    case = deliver(tech, ANGRY)
    deliver(tech, "Hello, still waiting for an answer here.")
    assert len(timeline(case, "escalated")) == 1


def test_escalated_case_waits_for_an_agent_when_nobody_is_online(tech, articles, team):
    alex = make_user("alex", teams=[team])
    case = deliver(tech, ANGRY)
    assert (case.is_escalated, case.assignee) == (True, None)
    actions.set_presence(alex, "online")
    case.refresh_from_db()
    assert case.assignee == alex


def test_an_answered_tech_touch_case_is_not_handed_to_an_agent_from_the_queue(tech, articles, team):
    alex = make_user("alex", teams=[team])
    case = deliver(tech, ADDRESS_EN)
    actions.set_presence(alex, "online")
    case.refresh_from_db()
    assert (case.is_escalated, case.assignee) == (False, None)


def test_low_touch_acknowledges_suggests_an_article_then_an_agent_takes_over(team, articles, agent):
    english, _ = articles
    account = make_account(slug="low", default_tier="low", default_team=team)
    case = deliver(account, ADDRESS_EN)
    (reply,) = automatic_replies(case)
    assert reply.text.startswith(ACKNOWLEDGEMENT["en"])
    assert english.title in reply.text and reply.text.endswith(HANDOVER["en"])
    case.refresh_from_db()
    assert case.assignee == agent
    assert (case.automated_response_at, case.first_response_at) == (reply.created_at, None)
    assert timeline(case, "reply")[0].is_automatic


def test_mid_touch_gets_no_automatic_message(team, articles, agent):
    case = deliver(make_account(slug="mid", default_team=team), ADDRESS_EN)
    assert automatic_replies(case) == []
    assert Case.objects.get(pk=case.pk).assignee == agent


def test_suggested_articles_give_their_link_or_null_as_the_schema_says(
    client, team, articles, agent
):
    """An article without a link gives null, not an empty text the schema's URI forbids."""
    account = make_account(slug="sugg", default_team=team)
    case = deliver(account, "I need to change my delivery address and return")
    client.force_login(agent)
    answer = client.get(f"/api/v1/cases/{case.pk}/suggestions/")
    assert answer.status_code == 200
    links = {item["title"]: item["url"] for item in answer.json()}
    assert links["Changing the delivery address"] == "https://help.example.com/address"
    assert links["Returns"] is None
    schema = client.get("/api/v1/schema/?format=json").json()
    assert schema["components"]["schemas"]["KnowledgeArticle"]["properties"]["url"]["nullable"]
