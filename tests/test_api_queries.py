"""API lists and details make a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases import actions
from cases.models import Case, Team
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made per test; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    team = Team.objects.create(name="Care", slug="care")
    return {
        "team": team,
        "account": make_account(slug="acme", default_team=team),
        "ann": make_user("ann", teams=[team]),
        "ada": make_user("ada", teams=[team]),
        "sue": make_user("sue", "supervisor"),
    }


@pytest.fixture
def make_cases(world, django_capture_on_commit_callbacks):
    """`n` more cases of `n` customers; every third one assigned and answered."""
    made = []

    def make_cases(n):
        start = len(made)
        people = [
            generic_message(
                f"m{i}",
                f"question number {i}, please help",
                author={"id": f"u{i}", "handle": f"cust{i}", "name": f"Cust {i}", "followers": i},
                created_at=f"2026-11-20T{10 + i // 60:02d}:{i % 60:02d}:00Z",
            )
            for i in range(start, start + n)
        ]
        with django_capture_on_commit_callbacks(execute=True):
            assert post_generic(Client(), world["account"], people).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            for i, case in enumerate(Case.objects.order_by("pk")[start:]):
                if i % 3 == 0:
                    agent = world["ann"] if i % 2 else world["ada"]
                    actions.assign_case(case, agent, actor=world["sue"])
                    actions.record_reply(case, "on it", actor=agent)
                made.append(case)
        assert Case.objects.count() == start + n
        return made

    return make_cases


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(url)
    assert answer.status_code == 200, answer.content
    return len(queries), answer.json()


@pytest.mark.parametrize("viewer", ["ann", "sue"])
@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/cases/?ordering=sla_due"])
def test_case_list_queries_do_not_grow_with_the_cases(client, world, make_cases, viewer, url):
    client.force_login(world[viewer])
    make_cases(5)
    few, body = count_queries(client, url + ("&" if "?" in url else "?") + "page_size=200")
    assert len(body["results"]) == 5
    make_cases(55)
    many, body = count_queries(client, url + ("&" if "?" in url else "?") + "page_size=200")
    assert len(body["results"]) == 60
    assert many == few
    assert few <= 8


@pytest.mark.parametrize("viewer", ["ann", "sue"])
def test_message_list_queries_do_not_grow_with_the_messages(client, world, make_cases, viewer):
    client.force_login(world[viewer])
    make_cases(5)
    few, body = count_queries(client, "/api/v1/messages/")
    make_cases(55)
    many, body = count_queries(client, "/api/v1/messages/")
    assert len(body["results"]) == 81  # 60 questions, 2 + 19 replies
    assert many == few <= 8


def write_again(world, django_capture_on_commit_callbacks, start, n):
    """`n` more messages of the same customer: they all join one open case."""
    author = {"id": "u1", "handle": "dana", "name": "Dana", "followers": 99}
    messages = [
        generic_message(
            f"d{i}", f"still waiting ({i})", author=author, created_at=f"2026-11-20T10:{i:02d}:00Z"
        )
        for i in range(start, start + n)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_generic(Client(), world["account"], messages).status_code == 200
    return Case.objects.get()


@pytest.mark.parametrize("viewer", ["ann", "sue"])
def test_case_detail_queries_do_not_grow_with_the_messages(
    client, world, django_capture_on_commit_callbacks, viewer
):
    client.force_login(world[viewer])
    case = write_again(world, django_capture_on_commit_callbacks, 0, 2)
    actions.add_note(case, "first note", actor=world["ann"])
    few, body = count_queries(client, f"/api/v1/cases/{case.pk}/")
    assert len(body["messages"]) == 2
    write_again(world, django_capture_on_commit_callbacks, 2, 28)
    actions.assign_case(case, world["ada"], actor=world["sue"])
    actions.add_note(case, "second note", actor=world["ada"])
    many, body = count_queries(client, f"/api/v1/cases/{case.pk}/")
    assert len(body["messages"]) == 30
    assert many == few <= 8


def test_contact_history_queries_do_not_grow_with_the_cases(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world["ann"])
    case = write_again(world, django_capture_on_commit_callbacks, 0, 1)
    few, _ = count_queries(client, f"/api/v1/contacts/{case.contact_id}/")
    for i in range(1, 4):  # earlier, closed cases of the same customer
        Case.objects.create(
            account=case.account,
            contact=case.contact,
            channel=case.channel,
            tier=case.tier,
            team=world["team"],
            assignee=world["ada"],
            created_at=case.created_at,
            updated_at=case.updated_at,
            status="closed",
            message_count=i,
        )
    many, body = count_queries(client, f"/api/v1/contacts/{case.contact_id}/")
    assert len(body["history"]) == 4
    assert many == few <= 8
