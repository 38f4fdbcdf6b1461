"""Whatever a browser or script puts in a list's query string or a socket frame, the answer
is a list, a 400 naming what was wrong, or an error frame: never a 500, never a dead socket.

Query strings mix every parameter the lists read (filters, ordering, cursor, page size,
report periods) with values that are right, nearly right or hostile: huge and negative
numbers, NUL and lone surrogates, dates at the calendar's edges, cursors that decode to the
wrong shapes. Frames mix the three kinds the consumer reads with wrong types and raw text.
"""

import base64
import json
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caremgr.asgi import application
from cases.models import Case, Team
from tests.conftest import generic_message, make_account, make_user, post_generic
from tests.test_consumer import ORIGIN, cookie_of

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EDGES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "me",
    "none",
    "None",
    "null",
    "true",
    str(2**63),
    str(2**63 - 1),
    "9" * 40,
    "1e400",
    "NaN",
    "\x00",
    "\udc80",
    "%",
    "2026-11-20",
    "2026-11-20T10:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2026-11-20T10:00:00-16:04",  # an offset Python reads and PostgreSQL refuses
    "2026-11-20T10:00:00+23:59",
    "2026-02-30",
    "P1",
    "open",
    "negative",
    "mid",
    "acme",
    "generic",
    "in",
    "-updated_at",
    "sla_due",
    "priority",
]
texts = st.text(max_size=30) | st.sampled_from(EDGES)
cursor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | texts,
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=6,
)


@st.composite
def cursors(draw) -> str:
    """A cursor as a client might forge one: base64 of JSON of any shape, or plain text."""
    if draw(st.booleans()):
        return draw(texts)
    values = draw(st.lists(cursor_values, min_size=1, max_size=4))
    raw = json.dumps(values, default=str, allow_nan=True).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def query(names: list[str]):
    """Query strings over `names`: a parameter may repeat, and may be misspelt."""
    pairs = st.tuples(
        st.sampled_from([*names, "cursor", "page_size", "ordering", "unknown"]),
        texts | cursors(),
    )
    return st.lists(pairs, max_size=8)


CASE_FILTERS = [
    *("status", "tier", "priority", "assignee", "team", "account", "platform", "sentiment"),
    *("created_after", "created_before", "q"),
]
MESSAGE_FILTERS = ["case", "account", "direction", "sentiment", "q"]
PAGE_FILTERS = [*CASE_FILTERS, "view", "sort"]
PERIOD = ["from", "to", "group_by", "days"]


@pytest.fixture
def inbox(db, django_capture_on_commit_callbacks):
    team = Team.objects.create(name="Care", slug="care")
    account = make_account(slug="acme", default_team=team)
    agent = make_user("ann", teams=[team])
    supervisor = make_user("sue", "supervisor")
    for n in range(3):
        author = {"id": f"c{n}", "handle": f"c{n}", "name": f"C {n}", "followers": n}
        item = generic_message(f"m{n}", "Wo ist mein Paket? refund", author=author)
        with django_capture_on_commit_callbacks(execute=True):
            assert post_generic(Client(), account, [item]).status_code == 200
    assert Case.objects.count() == 3
    return {"agent": agent, "supervisor": supervisor, "case": Case.objects.first()}


def encode(pairs) -> str:
    return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs])


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("path", "names", "viewer", "answers"),
    [
        ("/api/v1/cases/", CASE_FILTERS, "agent", {200, 400}),
        ("/api/v1/cases/", CASE_FILTERS, "supervisor", {200, 400}),
        ("/api/v1/messages/", MESSAGE_FILTERS, "agent", {200, 400}),
        ("/", PAGE_FILTERS, "agent", {200}),
        ("/reports/", PERIOD, "supervisor", {200}),
        ("/api/v1/reports/sla/", PERIOD, "supervisor", {200, 400}),
        ("/api/v1/reports/cases.csv", PERIOD, "supervisor", {200, 400}),
        ("/api/v1/reports/retention/", PERIOD, "supervisor", {200, 400}),
    ],
)
def test_lists_answer_any_query_string_without_a_server_error(inbox, path, names, viewer, answers):
    client = client_of(inbox[viewer])

    @FUZZ
    @given(pairs=query(names))
    def check(pairs):
        answer = client.get(f"{path}?{encode(pairs)}")
        if answer.streaming:
            b"".join(answer.streaming_content)
        assert answer.status_code in answers, (pairs, answer.status_code)
        if answer.status_code == 400:
            assert answer.json(), pairs  # says what was wrong

    check()


@pytest.mark.parametrize(
    "moment",
    ["0155-12-10T16:06:43-16:04", "2026-11-20T10:00:00+23:59", "9999-12-31T23:59:59-12:00"],
)
def test_a_period_with_a_far_offset_is_read_in_utc(inbox, moment):
    client = client_of(inbox["supervisor"])
    for name in ("created_after", "created_before"):
        for path in ("/api/v1/cases/", "/"):
            answer = client.get(f"{path}?" + urlencode({name: moment}))
            assert answer.status_code == 200, (path, name)


def test_following_next_links_ends_without_repeating_a_case(inbox):
    """The cursors the API hands out are taken back as they are, in every ordering."""
    client = client_of(inbox["supervisor"])
    for ordering in ("priority", "-priority", "sla_due", "-sla_due", "created_at"):
        seen, url = [], f"/api/v1/cases/?ordering={ordering}&page_size=1"
        while url:
            body = client.get(url).json()
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(Case.objects.values_list("pk", flat=True)), ordering


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def frames(draw, case_id: int):
    """A frame the consumer might be sent: a known kind with any fields, or anything."""
    kind = draw(st.sampled_from(["presence", "catchup", "ping", "other"]))
    if kind == "other":
        return draw(json_values | st.text(min_size=1, max_size=40).map(lambda t: ("raw", t)))
    frame = {"type": kind}
    if kind == "presence":
        frame["case"] = draw(st.just(case_id) | json_values)
        frame["state"] = draw(st.sampled_from(["viewing", "typing", "left"]) | json_values)
    elif kind == "catchup":
        frame["since"] = draw(st.integers(min_value=-(2**70), max_value=2**70) | json_values)
    return frame


LIVE_EVENTS = {
    "case.created",
    "case.updated",
    "message.created",
    "message.updated",
    "sla.warning",
    "sla.breached",
}
DEEP = "[" * 100_000 + "]" * 100_000  # nested beyond the JSON reader's recursion limit


# Committed data: the consumer reads it on connections of its own (closed and reopened
# around each read, which a test transaction would not survive on PostgreSQL).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewer", ["agent", "supervisor"])
def test_the_socket_survives_any_frame_and_still_answers(inbox, viewer):
    cookie = cookie_of(inbox[viewer])

    async def exchange(sent: list) -> None:
        channel_layers.backends.clear()  # each example runs on an event loop of its own
        socket = WebsocketCommunicator(application, "/ws/inbox/", headers=[ORIGIN, cookie])
        connected, _ = await socket.connect()
        assert connected
        for frame in sent:
            if isinstance(frame, tuple):
                await socket.send_to(text_data=frame[1])
            else:
                await socket.send_to(text_data=json.dumps(frame))
        await socket.send_json_to({"type": "ping"})
        while (reply := await socket.receive_json_from(timeout=5))["type"] != "pong":
            # Live events of other work sharing the layer may come in between, as in a browser.
            assert reply["type"] in {"error", "catchup", "presence"} | LIVE_EVENTS, reply
        await socket.disconnect()

    @FUZZ
    @given(sent=st.lists(frames(inbox["case"].pk), max_size=6))
    def check(sent):
        async_to_sync(exchange)(sent)

    check()
    async_to_sync(exchange)([("raw", DEEP), {"type": "catchup", "since": 2**80}])
