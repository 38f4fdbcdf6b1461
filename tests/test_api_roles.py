"""Who sees and works which case through the API: agents of two teams, supervisor, admin,
anonymous."""

import pytest
from django.test import Client

from cases import actions
from cases.models import Case, Team
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

ROLES = ["ann", "bob", "sue", "root", None]  # agent A, agent B, supervisor, admin, anonymous
# Which of the cases each role sees: a = team A's, b = team B's, b_ann = team B's given to ann.
SEES = {
    "ann": {"a", "b_ann"},
    "bob": {"b", "b_ann"},
    "sue": {"a", "b", "b_ann"},
    "root": {"a", "b", "b_ann"},
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made per test; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def customer(external_id, handle):
    author = {"id": handle, "handle": handle, "name": handle.title(), "followers": 1}
    return generic_message(external_id, f"hello from {handle}", author=author)


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    acme = make_account(slug="acme", default_team=team_a)
    beta = make_account(slug="beta", default_team=team_b)
    users = {
        "ann": make_user("ann", teams=[team_a]),
        "ada": make_user("ada", teams=[team_a]),
        "bob": make_user("bob", teams=[team_b]),
        "sue": make_user("sue", "supervisor"),
        "root": make_user("root", "admin"),
    }
    webhook = Client()
    with django_capture_on_commit_callbacks(execute=True):
        post_generic(webhook, acme, [customer("a1", "amy")])
        post_generic(webhook, beta, [customer("b1", "ben"), customer("c1", "cat")])
    cases = {
        "a": Case.objects.get(messages__external_id="a1"),
        "b": Case.objects.get(messages__external_id="b1"),
        "b_ann": Case.objects.get(messages__external_id="c1"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign_case(cases["b_ann"], users["ann"], actor=users["sue"])
    return {"users": users, "cases": cases}


def client_of(world, role):
    client = Client()
    if role is not None:
        client.force_login(world["users"][role])
    return client


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
def test_case_list_shows_exactly_the_visible_cases(world, role):
    answer = client_of(world, role).get("/api/v1/cases/")
    if role is None:
        assert answer.status_code == 401
        return
    names = {case.pk: name for name, case in world["cases"].items()}
    assert {names[row["id"]] for row in answer.json()["results"]} == SEES[role]


@pytest.mark.parametrize("name", ["a", "b", "b_ann"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "", None),
        ("post", "notes/", {"text": "looked at it"}),
        ("post", "reply/", {"text": "We will help."}),
        ("post", "status/", {"status": "pending"}),
        ("post", "priority/", {"priority": "P1"}),
        ("post", "assign/", {"agent": "me"}),
    ],
)
def test_case_detail_and_actions_follow_visibility(world, role, name, method, path, data):
    case = world["cases"][name]
    client = client_of(world, role)
    owner = Case.objects.get(pk=case.pk).assignee_id
    taken = path == "assign/" and owner not in (None, world["users"][role or "ann"].pk)
    url = f"/api/v1/cases/{case.pk}/{path}"
    answer = client.get(url) if method == "get" else post(client, url, data)
    if role is None:
        assert answer.status_code == 401
    elif name in SEES[role] and taken and role in ("ann", "bob"):
        assert answer.status_code == 403  # an agent may not take another agent's case
    elif name in SEES[role]:
        assert answer.status_code in (200, 201), answer.content
    else:
        assert answer.status_code in (403, 404)
        assert Case.objects.get(pk=case.pk).events.filter(actor__username=role).count() == 0


def test_another_teams_case_cannot_be_merged_into(world):
    mine = world["cases"]["a"]
    theirs = world["cases"]["b"]
    answer = post(client_of(world, "ann"), f"/api/v1/cases/{mine.pk}/merge/", {"into": theirs.pk})
    assert answer.status_code in (400, 403, 404)
    assert Case.objects.get(pk=theirs.pk).message_count == 1


@pytest.mark.parametrize(
    ("actor", "case", "owner", "agent", "expected"),
    [
        ("ann", "a", None, "ann", 200),  # takes an unassigned case of her team
        ("ann", "a", None, "ada", 200),  # gives it to a teammate
        ("ann", "a", None, "bob", 403),  # not to someone outside the case's team
        ("ann", "a", None, "sue", 403),  # nor to a supervisor outside the team
        ("ann", "a", "ann", "ada", 200),  # hands her own case to a teammate
        ("ann", "a", "ann", None, 200),  # or back to the queue
        ("ann", "a", "ada", "ann", 403),  # may not take a teammate's case
        ("ann", "a", "ada", None, 403),  # nor put it back in the queue
        ("ann", "b_ann", "ann", "bob", 200),  # her case of team B may go to team B's bob
        ("ann", "b_ann", "ann", "ada", 403),  # but not to her teammate outside team B
        ("bob", "a", None, "bob", 404),  # another team's case does not exist for him
        ("sue", "a", "ada", "bob", 200),  # supervisors reassign anyone
        ("sue", "b", "bob", "ann", 200),
        ("root", "a", "ann", "ada", 200),
    ],
)
def test_who_may_assign_to_whom(world, actor, case, owner, agent, expected):
    users, case = world["users"], world["cases"][case]
    if owner is not None and case.assignee_id != users[owner].pk:
        actions.assign_case(case, users[owner], actor=users["sue"])
    target = users[agent].pk if agent else None
    answer = post(client_of(world, actor), f"/api/v1/cases/{case.pk}/assign/", {"agent": target})
    assert answer.status_code == expected, answer.content
    assignee = Case.objects.get(pk=case.pk).assignee_id
    if expected == 200:
        assert assignee == target
        assert answer.json()["assignee"] == target
    else:
        assert assignee == (users[owner].pk if owner else None)
        if expected == 403:
            assert answer.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_message_list_and_detail_follow_case_visibility(world, role):
    client = client_of(world, role)
    answer = client.get("/api/v1/messages/")
    if role is None:
        assert answer.status_code == 401
        return
    texts = {row["external_id"] for row in answer.json()["results"]}
    external = {"a": "a1", "b": "b1", "b_ann": "c1"}
    assert texts == {external[name] for name in SEES[role]}
    for name, case in world["cases"].items():
        message = case.messages.get()
        status = client.get(f"/api/v1/messages/{message.pk}/").status_code
        assert status == (200 if name in SEES[role] else 404)
        filtered = client.get(f"/api/v1/messages/?case={case.pk}").json()["results"]
        assert len(filtered) == (1 if name in SEES[role] else 0)


@pytest.mark.parametrize("role", ROLES)
def test_contacts_follow_case_visibility(world, role):
    client = client_of(world, role)
    for name, case in world["cases"].items():
        answer = client.get(f"/api/v1/contacts/{case.contact_id}/")
        if role is None:
            assert answer.status_code == 401
        elif name in SEES[role]:
            assert answer.status_code == 200
            assert [row["id"] for row in answer.json()["history"]] == [case.pk]
        else:
            assert answer.status_code in (403, 404)


def test_agent_splits_a_message_off_her_case_of_another_team(
    world, django_capture_on_commit_callbacks
):
    """The new case belongs to team B and nobody: ann no longer sees it, yet gets its row."""
    case = world["cases"]["b_ann"]
    with django_capture_on_commit_callbacks(execute=True):
        post_generic(Client(), case.account, [customer("c2", "cat")])
    second = case.messages.get(external_id="c2")
    answer = post(client_of(world, "ann"), f"/api/v1/messages/{second.pk}/split/", {})
    assert answer.status_code == 201, answer.content
    fresh = Case.objects.get(pk=answer.json()["id"])
    assert (fresh.team_id, fresh.assignee_id, fresh.message_count) == (case.team_id, None, 1)
