"""The case list's rows come straight from their columns (cases/api/rows.py), and they are
byte for byte what CaseSerializer writes, on the API list and on the inbox page alike."""

import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import json_script
from rest_framework.renderers import JSONRenderer

from cases import actions
from cases.api.pagination import ORDERINGS
from cases.api.rows import COLUMNS, case_rows
from cases.api.serializers import CaseSerializer, MessageSerializer
from cases.models import Case, Team, sla_rank
from cases.templatetags.json_data import json_data
from inbox.models import Message
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

HOSTILE = '</script><script>alert("x")</script> & \\ \u2028 ünïcode 🚀 <!--'


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """Cases with and without an assignee (named, unnamed, first name only), merged,
    resolved, escalated, tagged, breached, with and without SLA times, hostile texts."""
    team = Team.objects.create(name="Care", slug="care")
    account = make_account(slug="acme", default_team=team)
    named = make_user("ann", teams=[team])
    named.first_name, named.last_name = "Ann", "Lee"
    named.save()
    unnamed = make_user("bob", teams=[team])
    first_only = make_user("cy", teams=[team])
    first_only.first_name = "Cy"
    first_only.save()
    supervisor = make_user("sue", "supervisor")
    messages = [
        generic_message(
            f"m{i}",
            f"{HOSTILE} number {i}",
            author={"id": f"u{i}", "handle": f"c{i}{HOSTILE}", "name": HOSTILE, "followers": i},
            created_at=f"2026-11-20T10:{i:02d}:00Z",
        )
        for i in range(7)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_generic(Client(), account, messages).status_code == 200
    cases = list(Case.objects.order_by("pk"))
    assert len(cases) == 7
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign_case(cases[0], named, actor=supervisor)
        actions.record_reply(cases[0], f"on it {HOSTILE}", actor=named)
        actions.assign_case(cases[1], unnamed, actor=supervisor)
        actions.assign_case(cases[2], first_only, actor=supervisor)
        actions.set_status(cases[3], "resolved", actor=supervisor)
        actions.set_priority(cases[4], "P1", actor=supervisor)
        actions.merge_cases(cases[5], cases[0], actor=supervisor)
    Case.objects.filter(pk=cases[1].pk).update(
        tags=["vip", HOSTILE], breach_count=2, is_escalated=True, language="de"
    )
    Case.objects.filter(pk=cases[6].pk).update(
        sla_due=None,
        first_response_due=None,
        resolution_due=None,
        sentiment_polarity=-0.625,
        priority="P4",
    )
    return supervisor


def serialized(cases) -> list:
    return CaseSerializer(list(cases), many=True).data


def in_order(ordering: str):
    key = ORDERINGS[ordering]
    cases = Case.objects.select_related("account", "contact", "assignee")
    return cases.annotate(sla_rank=sla_rank()).order_by(
        *[("-" if descending else "") + field for field, descending in key]
    )


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_list_answers_the_serializers_rows_byte_for_byte(client, world, ordering):
    client.force_login(world)
    answer = client.get(f"/api/v1/cases/?ordering={ordering}")
    assert answer.status_code == 200
    expected = {"next": None, "previous": None, "results": serialized(in_order(ordering))}
    assert answer.content == JSONRenderer().render(expected)
    assert len(answer.json()["results"]) == 7


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
@pytest.mark.parametrize("size", [1, 2, 3])
def test_pages_walked_by_cursor_give_every_row_once_in_order(client, world, ordering, size):
    client.force_login(world)
    url, seen = f"/api/v1/cases/?ordering={ordering}&page_size={size}", []
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= size
        seen += body["results"]
        url = body["next"]
    assert seen == serialized(in_order(ordering))
    assert len({row["priority"] for row in seen}) >= 3  # pages cross priority groups


def test_rows_follow_the_current_time_zone_as_the_serializer_does(world):
    with timezone.override("America/St_Johns"):
        rows = case_rows(list(Case.objects.order_by("pk").values(*COLUMNS)))
        assert rows == serialized(Case.objects.order_by("pk"))
    assert rows[0]["created_at"].endswith("-03:30")


def test_inbox_page_carries_the_serializers_rows_escaped_as_json_script(client, world):
    client.force_login(world)
    page = client.get("/?view=all&sort=updated").content.decode()
    expected = serialized(
        Case.objects.select_related("account", "contact", "assignee").order_by("-updated_at", "-id")
    )
    assert str(json_script(expected, "initial-rows")) in page
    script = re.search(r'<script id="initial-rows" type="application/json">(.*?)</script>', page)
    assert "<" not in script.group(1) and "&" not in script.group(1)


def test_json_data_writes_what_json_script_writes():
    value = [{"text": HOSTILE, "n": 1.5, "none": None, "at": timezone.now()}]
    assert json_data(value, "x") == json_script(value, "x")
    assert "</script><script>" not in json_data(value, "x")


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_live_events_carry_the_serializers_rows_built_from_the_cases_at_hand(world, zone):
    from cases import events

    with timezone.override(zone):
        cases = list(Case.objects.order_by("pk"))
        expected = serialized(cases)
        assert list(events.case_rows(cases).values()) == expected
        assert [events.case_row(case) for case in cases] == expected
        # Bare instances, freshly built values included, read their relations as needed.
        fresh = Case.objects.get(pk=cases[0].pk)
        fresh.updated_at = timezone.now()
        assert events.case_row(fresh) == CaseSerializer(fresh).data
        assert JSONRenderer().render(events.case_row(fresh)) == JSONRenderer().render(
            CaseSerializer(fresh).data
        )


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
def test_live_events_carry_the_serializers_messages(world, zone):
    """Customers' hostile texts and names, an agent's queued reply (no external id, its
    sender, a moment with microseconds): the same JSON as MessageSerializer writes."""
    from cases import events

    with timezone.override(zone):
        messages = list(Message.objects.select_related("account").order_by("pk"))
        assert any(m.sent_by_id and m.external_id is None for m in messages)
        expected = MessageSerializer(messages, many=True).data
        built = list(events.message_data(messages).values())
        assert built == expected
        assert JSONRenderer().render(built) == JSONRenderer().render(expected)
