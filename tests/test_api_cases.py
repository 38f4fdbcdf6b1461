"""REST API of cases, messages and contacts: fields, filters, ordering, actions, errors."""

from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cases import actions
from cases.models import Case, Team
from tests.conftest import generic_message, make_account, make_user, post_generic

pytestmark = pytest.mark.django_db

CASE_FIELDS = {
    "id", "number", "status", "priority", "priority_score", "priority_reason", "tier",
    "assignee", "team", "account", "platform", "contact", "sentiment", "created_at",
    "updated_at", "first_response_at", "first_response_due", "resolution_due", "resolved_at",
    "message_count",
}  # fmt: skip
MESSAGE_FIELDS = {
    "id", "case", "external_id", "direction", "text", "author", "created_at", "language",
    "sentiment",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made per test; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def outbox(monkeypatch):
    """Replies are queued, never sent: the ids queued for sending."""
    queued = []
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", queued.append)
    return queued


def said(external_id, text, author, minute=0, **fields):
    """A generic inbound message by `author` (also their id and name)."""
    person = {"id": author, "handle": author, "name": author.title(), "followers": 10}
    when = f"2026-11-20T10:{minute:02d}:00Z"
    return generic_message(external_id, text, author=person, created_at=when, **fields)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Post messages to an account's generic webhook; returns their cases in order."""
    webhook = Client()

    def deliver(account, *messages):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_generic(webhook, account, list(messages)).status_code == 200
        ids = [m["external_id"] for m in messages]
        return list(Case.objects.filter(messages__external_id__in=ids).distinct().order_by("pk"))

    return deliver


@pytest.fixture
def world(db):
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    return {
        "team_a": team_a,
        "team_b": team_b,
        "acme": make_account(slug="acme", default_team=team_a),
        "beta": make_account(slug="beta", default_team=team_b, default_tier="high"),
        "ann": make_user("ann", teams=[team_a]),
        "sue": make_user("sue", "supervisor", teams=[team_a, team_b]),
    }


@pytest.fixture
def api(client, world):
    client.force_login(world["sue"])
    return client


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def inbox(world, deliver, django_capture_on_commit_callbacks):
    """Three cases: an angry P2 one on acme (assigned to ann, answered), a happy pending P3
    one on acme (sue's), a neutral P4 high-touch one on beta (nobody's)."""
    (refund,) = deliver(world["acme"], said("r1", "Where is my refund? This is terrible.", "dana"))
    (happy,) = deliver(world["acme"], said("h1", "Thanks, great service!", "eve", minute=5))
    (other,) = deliver(world["beta"], said("b1", "Is the shop open on Sunday", "zed", minute=9))
    sue = world["sue"]
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign_case(refund, world["ann"], actor=sue)
        actions.record_reply(refund, "We are on it.", actor=sue)
        actions.assign_case(happy, sue, actor=sue)
        actions.set_status(happy, "pending", actor=sue)
        for case, priority in ((refund, "P2"), (happy, "P3"), (other, "P4")):
            actions.set_priority(case, priority, actor=sue)
    return {"refund": refund.pk, "happy": happy.pk, "other": other.pk}


def is_zoned(value):
    return value is not None and datetime.fromisoformat(value).tzinfo is not None


def walk(client, url, *, pages=50):
    """Every row of a cursor-paginated list, following `next` links (at most `pages`)."""
    rows = []
    for _ in range(pages):
        if not url:
            break
        answer = client.get(url)
        assert answer.status_code == 200, answer.content
        rows.extend(answer.json()["results"])
        url = answer.json()["next"]
    return rows


def test_case_row_carries_every_spec_field_with_zoned_times(api, inbox):
    row = next(r for r in api.get("/api/v1/cases/").json()["results"] if r["id"] == inbox["refund"])
    assert set(row) >= CASE_FIELDS
    assert row["number"] == row["id"]
    assert row["priority"] in {"P1", "P2", "P3", "P4"}
    assert isinstance(row["priority_score"], int) and row["priority_reason"]
    assert (row["status"], row["tier"], row["account"], row["platform"]) == (
        "open",
        "mid",
        "acme",
        "generic",
    )
    assert row["assignee"] == Case.objects.get(pk=inbox["refund"]).assignee_id
    assert row["team"] == Case.objects.get(pk=inbox["refund"]).team_id
    assert set(row["contact"]) == {"id", "handle", "name", "followers"}
    assert row["contact"]["handle"] == "dana"
    assert row["sentiment"] == "negative"
    assert row["message_count"] == 2
    for name in (
        "created_at",
        "updated_at",
        "first_response_at",
        "first_response_due",
        "resolution_due",
    ):
        assert is_zoned(row[name]), name
    assert row["resolved_at"] is None


def test_case_detail_has_messages_with_spec_fields_and_its_timeline(api, inbox):
    answer = api.get(f"/api/v1/cases/{inbox['refund']}/")
    assert answer.status_code == 200
    case = answer.json()
    assert set(case) >= CASE_FIELDS
    inbound, reply = case["messages"]
    assert set(inbound) >= MESSAGE_FIELDS
    assert (inbound["case"], inbound["external_id"], inbound["direction"]) == (
        inbox["refund"],
        "r1",
        "in",
    )
    assert inbound["author"] == {"handle": "dana", "name": "Dana"}
    assert set(inbound["sentiment"]) == {"label", "polarity", "subjectivity"}
    assert inbound["sentiment"]["label"] == "negative" and inbound["sentiment"]["polarity"] < 0
    assert is_zoned(inbound["created_at"]) and inbound["language"] == "en"
    assert (reply["direction"], reply["text"]) == ("out", "We are on it.")
    kinds = [entry["kind"] for entry in case["timeline"]]
    assert "assigned" in kinds and "reply" in kinds


def test_unknown_case_is_404(api, inbox):
    assert api.get("/api/v1/cases/999999/").status_code == 404
    assert post(api, "/api/v1/cases/999999/notes/", {"text": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", {"refund"}),
        ("status=new&status=pending", {"happy", "other"}),
        ("tier=high", {"other"}),
        ("tier=mid", {"refund", "happy"}),
        ("priority=P4", {"other"}),
        ("priority=P2&priority=P3", {"refund", "happy"}),
        ("assignee=me", {"happy"}),
        ("assignee=none", {"other"}),
        ("assignee=ANN_ID", {"refund"}),
        ("team=TEAM_B", {"other"}),
        ("account=acme", {"refund", "happy"}),
        ("sentiment=negative", {"refund"}),
        ("sentiment=positive", {"happy"}),
        ("q=refund", {"refund"}),  # in an older message, not the last one
        ("q=zed", {"other"}),  # the contact's handle
        ("q=nothing-like-this", set()),
    ],
)
def test_case_list_filters(api, world, inbox, query, expected):
    query = query.replace("ANN_ID", str(world["ann"].pk))
    query = query.replace("TEAM_B", str(world["team_b"].pk))
    names = {pk: name for name, pk in inbox.items()}
    answer = api.get(f"/api/v1/cases/?{query}")
    assert answer.status_code == 200, answer.content
    assert {names[row["id"]] for row in answer.json()["results"]} == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("refund", {"refund"}), ("zed", {"other"}), ("e", {"refund", "happy", "other"})],
)
def test_text_search_finds_the_same_cases_when_matches_are_many(
    api, inbox, monkeypatch, query, expected
):
    """A text matching many rows is checked while walking the list instead of by ids."""
    monkeypatch.setattr("cases.search.FEW", 0)
    names = {pk: name for name, pk in inbox.items()}
    answer = api.get(f"/api/v1/cases/?q={query}")
    assert answer.status_code == 200, answer.content
    assert {names[row["id"]] for row in answer.json()["results"]} == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("refund", {"refund"}), ("zed", {"other"}), ("e", {"refund", "happy", "other"})],
)
def test_text_search_finds_the_same_cases_when_the_newest_cases_hold_it_often(
    api, inbox, monkeypatch, query, expected
):
    """A text the newest cases hold often is checked case by case, in the list's order."""
    monkeypatch.setattr("cases.search.DENSE", 1)
    monkeypatch.setattr("cases.search.FEW_WHEN_DENSE", 0)
    names = {pk: name for name, pk in inbox.items()}
    for ordering in ("-updated_at", "priority", "sla_due"):
        answer = api.get(f"/api/v1/cases/?q={query}&ordering={ordering}")
        assert answer.status_code == 200, answer.content
        assert {names[row["id"]] for row in answer.json()["results"]} == expected


@pytest.mark.parametrize("query", ["status=bogus", "sentiment=angry", "priority=P9"])
def test_case_list_refuses_unknown_filter_values_with_json(api, inbox, query):
    answer = api.get(f"/api/v1/cases/?{query}")
    assert answer.status_code == 400
    assert answer.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/?team=99999999999999999999",
        "/api/v1/cases/?assignee=99999999999999999999",
        "/api/v1/cases/?team=1.5",
        "/api/v1/messages/?case=99999999999999999999",
        "/api/v1/messages/?case=1.5",
    ],
)
def test_ids_out_of_range_are_refused_or_match_nothing_never_a_500(api, inbox, url):
    answer = api.get(url)
    assert answer.status_code in (200, 400), answer.status_code
    assert answer.json() if answer.status_code == 400 else answer.json()["results"] == []


@pytest.fixture
def many(world, deliver, django_capture_on_commit_callbacks):
    """Seven acme cases with mixed priorities, two of them resolved (no SLA due time)."""
    cases = deliver(
        world["acme"], *(said(f"n{i}", f"question {i}", f"cust{i}", minute=i) for i in range(7))
    )
    sue = world["sue"]
    with django_capture_on_commit_callbacks(execute=True):
        for case, priority in zip(cases, ["P4", "P1", "P3", "P2", "P1", "P4", "P2"], strict=True):
            actions.set_priority(case, priority, actor=sue)
        for case in cases[5:]:
            actions.set_status(case, "resolved", actor=sue)
    return [c.pk for c in cases]


@pytest.mark.parametrize("ordering", ["priority", "-updated_at", "sla_due"])
def test_ordering_pages_through_every_case_once(api, many, ordering):
    rows = walk(api, f"/api/v1/cases/?ordering={ordering}&page_size=2")
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == len(many)
    assert set(ids) == set(many)
    if ordering == "priority":
        assert [r["priority"] for r in rows] == sorted(r["priority"] for r in rows)
    elif ordering == "-updated_at":
        stamps = [datetime.fromisoformat(r["updated_at"]) for r in rows]
        assert stamps == sorted(stamps, reverse=True)
    else:
        dues = [r["sla_due"] for r in rows if r["sla_due"] is not None]
        assert dues == sorted(dues, key=datetime.fromisoformat)


def test_next_link_of_the_default_order_leads_to_the_rest(api, many):
    first = api.get("/api/v1/cases/?page_size=3").json()
    assert len(first["results"]) == 3 and first["next"]
    rest = walk(api, first["next"])
    ids = [r["id"] for r in first["results"] + rest]
    assert sorted(ids) == sorted(many)


def timeline_kinds(case_id):
    return list(Case.objects.get(pk=case_id).events.values_list("kind", flat=True))


@pytest.mark.parametrize(
    ("action", "data", "kind", "changed"),
    [
        ("reply", {"text": "Sorted, sorry!"}, "reply", lambda c: c.message_count == 2),
        ("assign", {"agent": "ANN_ID"}, "assigned", lambda c: c.assignee.username == "ann"),
        ("assign", {"agent": "me"}, "assigned", lambda c: c.assignee.username == "sue"),
        ("status", {"status": "resolved"}, "status", lambda c: c.resolved_at is not None),
        ("priority", {"priority": "P1"}, "priority", lambda c: c.priority == "P1"),
        ("notes", {"text": "called them"}, "note", lambda c: c.message_count == 1),
    ],
)
def test_action_changes_the_case_and_writes_a_timeline_entry(
    api, world, inbox, outbox, action, data, kind, changed
):
    case_id = inbox["other"]
    data = {k: str(world["ann"].pk) if v == "ANN_ID" else v for k, v in data.items()}
    before, queued = timeline_kinds(case_id), len(outbox)
    answer = post(api, f"/api/v1/cases/{case_id}/{action}/", data)
    assert answer.status_code in (200, 201), answer.content
    assert changed(Case.objects.get(pk=case_id))
    assert timeline_kinds(case_id).count(kind) == before.count(kind) + 1
    # A reply is sent; resolving sends the tier's survey; nothing else reaches the customer.
    assert len(outbox) == queued + (action == "reply") + (data.get("status") == "resolved")


def test_merge_moves_the_messages_and_closes_the_merged_case(api, world, deliver):
    first, second = deliver(
        world["acme"], said("x1", "my order is late", "kim"), said("y1", "hi", "lou", minute=3)
    )
    answer = post(api, f"/api/v1/cases/{second.pk}/merge/", {"into": first.pk})
    assert answer.status_code == 200, answer.content
    assert answer.json()["id"] == first.pk and answer.json()["message_count"] == 2
    merged = Case.objects.get(pk=second.pk)
    assert (merged.status, merged.merged_into_id, merged.message_count) == ("closed", first.pk, 0)
    assert "merged" in timeline_kinds(first.pk) and "merged" in timeline_kinds(second.pk)


@pytest.mark.parametrize(
    ("action", "data", "key"),
    [
        ("status", {"status": "bogus"}, "status"),
        ("status", {}, "status"),
        ("priority", {"priority": "P9"}, "priority"),
        ("reply", {"text": ""}, "text"),
        ("reply", {"text": "   "}, "text"),
        ("notes", {"text": ""}, "text"),
        ("merge", {"into": "SELF"}, "error"),
        ("merge", {"into": 999999}, "into"),
        ("merge", {"into": "nope"}, "into"),
        ("assign", {"agent": 999999}, "agent"),
        ("assign", {"agent": "NOBODY"}, "agent"),
    ],
)
def test_bad_action_input_is_a_400_with_a_json_error(api, inbox, action, data, key):
    case_id = inbox["other"]
    if data.get("into") == "SELF":
        data = {"into": case_id}
    if data.get("agent") == "NOBODY":
        data = {"agent": get_user_model().objects.create_user("norole").pk}
    before = timeline_kinds(case_id)
    answer = post(api, f"/api/v1/cases/{case_id}/{action}/", data)
    assert answer.status_code == 400, answer.content
    assert key in answer.json()
    assert timeline_kinds(case_id) == before


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("case=REFUND", {"r1", None}),
        ("account=beta", {"b1"}),
        ("direction=out", {None}),
        ("direction=in", {"r1", "h1", "b1"}),
        ("sentiment=positive", {"h1"}),
        ("q=sunday", {"b1"}),
    ],
)
def test_message_list_filters(api, inbox, query, expected):
    answer = api.get("/api/v1/messages/?" + query.replace("REFUND", str(inbox["refund"])))
    assert answer.status_code == 200, answer.content
    rows = answer.json()["results"]
    assert {row["external_id"] for row in rows} == expected
    assert all(set(row) >= MESSAGE_FIELDS for row in rows)


def test_contact_shows_history_tier_and_health(api, world, inbox, deliver):
    deliver(world["acme"], said("r2", "and another thing", "dana", minute=30))
    contact = Case.objects.get(pk=inbox["refund"]).contact
    answer = api.get(f"/api/v1/contacts/{contact.pk}/")
    assert answer.status_code == 200
    body = answer.json()
    assert {"id", "handle", "name", "followers", "tier", "health", "history"} <= set(body)
    assert (body["handle"], body["health"]) == ("dana", "healthy")
    assert inbox["refund"] in [row["id"] for row in body["history"]]
    assert api.get("/api/v1/contacts/999999/").status_code == 404


def test_schema_is_openapi_3_in_yaml_and_json(api, world):
    answer = api.get("/api/v1/schema/")
    assert answer.status_code == 200
    assert answer.content.decode().startswith("openapi: 3")
    schema = api.get("/api/v1/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/cases/", "/api/v1/cases/{id}/merge/", "/api/v1/messages/"} <= set(
        schema["paths"]
    )


def test_docs_page_is_html_for_a_logged_in_user(api, world):
    answer = api.get("/api/docs/")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("ordering", ["priority", "-priority", "sla_due", "-updated_at"])
def test_every_ordering_pages_through_long_runs_of_ties_without_repeats(api, many, world, ordering):
    Case.objects.update(priority="P3", updated_at=Case.objects.first().updated_at)
    ids = [row["id"] for row in walk(api, f"/api/v1/cases/?ordering={ordering}&page_size=1")]
    assert sorted(ids) == sorted(many)


def test_a_cursor_that_was_not_made_by_the_list_is_a_clear_400(api, world):
    answer = api.get("/api/v1/cases/?cursor=not-a-cursor")
    assert answer.status_code == 400
    assert "cursor" in answer.json()


def test_an_unknown_ordering_is_a_clear_400(api, world):
    answer = api.get("/api/v1/cases/?ordering=text")
    assert answer.status_code == 400
    assert "ordering" in answer.json()
