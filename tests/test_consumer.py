"""The `/ws/inbox/` WebSocket: session login, live events per team, presence, catch-up."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from caremgr.asgi import application
from cases.models import Case, CaseEvent, Team
from tests.conftest import generic_message, make_account, make_user, post_generic

# Committed transactions: events go out on commit (conftest puts the seeded tiers back).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("offline")]

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made per test; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world():
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    return {
        "acme": make_account(slug="acme", default_team=team_a),
        "beta": make_account(slug="beta", default_team=team_b),
        "ann": make_user("ann", teams=[team_a]),
        "ada": make_user("ada", teams=[team_a]),
        "bob": make_user("bob", teams=[team_b]),
        "sue": make_user("sue", "supervisor"),
    }


def cookie_of(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
async def connect(world):
    """Open a socket as one of the world's users (None: anonymous); closed after the test."""
    opened = []

    async def connect(name, *, origin=ORIGIN):
        headers = [origin] if origin else []
        if name is not None:
            headers.append(await sync_to_async(cookie_of)(world[name]))
        socket = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
        connected, _ = await socket.connect()
        if connected:
            opened.append(socket)
        return connected, socket

    yield connect
    for socket in opened:
        await socket.disconnect()


async def deliver(account, *messages):
    """Post to the webhook as a platform would; intake and events follow the commit."""
    answer = await sync_to_async(post_generic)(Client(), account, list(messages))
    assert answer.status_code == 200


def said(external_id, handle, text="My parcel never arrived"):
    author = {"id": handle, "handle": handle, "name": handle.title(), "followers": 3}
    return generic_message(external_id, text, author=author)


async def frames(socket, *, until, timeout=2.0, also=()):
    """Frames received up to the first one of type `until` (and one of each type in `also`,
    in any order: the Redis layer does not keep the order of frames sent in the same
    instant). A receive that times out cancels the consumer, so waiting for silence uses
    `receive_nothing`."""
    got = []
    wanted = {until, *also}
    while not wanted <= {f.get("type") for f in got} or got[-1].get("type") not in wanted:
        try:
            got.append(await socket.receive_json_from(timeout=timeout))
        except TimeoutError:
            raise AssertionError(f"no {until!r} frame after {got}") from None
    return got


async def test_anonymous_connection_is_refused(connect):
    connected, _ = await connect(None)
    assert not connected


async def test_connection_without_an_allowed_origin_is_refused(connect):
    assert not (await connect("ann", origin=(b"origin", b"http://evil.example")))[0]
    assert not (await connect("ann", origin=None))[0]


async def test_logged_in_agent_connects_and_answers_ping(connect):
    connected, socket = await connect("ann")
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}


async def test_team_agents_get_new_cases_and_messages_live_others_do_not(connect, world):
    ann, bob, sue = [(await connect(name))[1] for name in ("ann", "bob", "sue")]
    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    for socket in (ann, sue):
        got = await frames(socket, until="message.created", also=("case.created",))
        created = next(f for f in got if f["type"] == "case.created")
        assert created["case"] == case.pk and created["row"]["account"] == "acme"
        assert isinstance(created["seq"], int)
        message = next(f for f in got if f["type"] == "message.created")
        assert message["case"] == case.pk
        assert message["message"]["text"] == "My parcel never arrived"
    assert await bob.receive_nothing(timeout=0.5)


async def test_events_of_another_teams_case_reach_only_that_team(connect, world):
    ann, bob = (await connect("ann"))[1], (await connect("bob"))[1]
    await deliver(world["beta"], said("b1", "ben"))
    assert [f["type"] for f in await frames(bob, until="message.created")][-1] == (
        "message.created"
    )
    assert await ann.receive_nothing(timeout=0.5)


async def test_a_reply_through_the_api_reaches_the_team_as_message_created(connect, world):
    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    ada = (await connect("ada"))[1]

    def reply():
        client = Client()
        client.force_login(world["ann"])
        url = f"/api/v1/cases/{case.pk}/reply/"
        return client.post(url, {"text": "On its way"}, content_type="application/json")

    assert (await sync_to_async(reply)()).status_code == 201
    got = await frames(ada, until="message.created")
    assert got[-1]["message"]["direction"] == "out"
    assert got[-1]["row"]["message_count"] == 2


async def test_assigning_to_an_agent_of_another_team_tells_them_and_the_team(connect, world):
    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    ann, bob = (await connect("ann"))[1], (await connect("bob"))[1]

    def reassign():
        client = Client()
        client.force_login(world["sue"])
        url = f"/api/v1/cases/{case.pk}/assign/"
        return client.post(url, {"agent": world["bob"].pk}, content_type="application/json")

    assert (await sync_to_async(reassign)()).status_code == 200
    for socket in (ann, bob):
        update = (await frames(socket, until="case.updated"))[-1]
        assert (update["case"], update["row"]["assignee"]) == (case.pk, world["bob"].pk)


async def test_presence_is_shown_to_teammates_naming_the_agent(connect, world):
    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    ann, ada, bob = [(await connect(name))[1] for name in ("ann", "ada", "bob")]
    await ann.send_json_to({"type": "presence", "case": case.pk, "state": "viewing"})
    seen = (await frames(ada, until="presence"))[-1]
    assert (seen["case"], seen["user"], seen["name"], seen["state"]) == (
        case.pk,
        world["ann"].pk,
        "ann",
        "viewing",
    )
    assert [v["name"] for v in seen["viewers"]] == ["ann"]
    assert await bob.receive_nothing(timeout=0.5)
    await ann.disconnect()
    gone = (await frames(ada, until="presence"))[-1]
    assert (gone["user"], gone["state"], gone["viewers"]) == (world["ann"].pk, "left", [])


async def test_presence_on_a_case_the_agent_may_not_see_is_refused(connect, world):
    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    ann, bob = (await connect("ann"))[1], (await connect("bob"))[1]
    await bob.send_json_to({"type": "presence", "case": case.pk, "state": "typing"})
    assert (await bob.receive_json_from(timeout=2))["type"] == "error"
    assert await ann.receive_nothing(timeout=0.5)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "presence", "case": "1", "state": "viewing"},
        {"type": "presence", "case": 1, "state": "dancing"},
        {"type": "catchup", "since": -1},
        {"type": "catchup"},
    ],
)
async def test_malformed_frames_get_an_error_and_keep_the_socket(connect, frame):
    socket = (await connect("ann"))[1]
    await socket.send_json_to(frame)
    assert (await socket.receive_json_from(timeout=2))["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}


@pytest.mark.django_db(transaction=True, reset_sequences=True)
async def test_presence_case_true_is_not_taken_for_case_one(connect, world):
    await deliver(world["acme"], said("m1", "dana"))
    assert await Case.objects.filter(pk=1).aexists()
    ann, ada = (await connect("ann"))[1], (await connect("ada"))[1]
    await ann.send_json_to({"type": "presence", "case": True, "state": "viewing"})
    assert (await ann.receive_json_from(timeout=2))["type"] == "error"
    assert await ada.receive_nothing(timeout=0.5)


@pytest.mark.parametrize("raw", [{"text_data": "not json {"}, {"bytes_data": b"\x00\x01"}])
async def test_frames_that_are_not_json_are_ignored_and_keep_the_socket(connect, raw):
    socket = (await connect("ann"))[1]
    await socket.send_to(**raw)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=2) == {"type": "pong"}


async def test_catchup_returns_rows_of_visible_cases_only(connect, world):
    await deliver(world["acme"], said("m1", "dana"), said("m2", "eve"))
    await deliver(world["beta"], said("b1", "ben"))
    acme = {c.pk async for c in Case.objects.filter(account__slug="acme")}
    ann = (await connect("ann"))[1]
    await ann.send_json_to({"type": "catchup", "since": 0})
    answer = await ann.receive_json_from(timeout=2)
    assert answer["type"] == "catchup"
    assert {row["id"] for row in answer["rows"]} == acme
    newest = await CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).afirst()
    assert answer["seq"] == newest
    await ann.send_json_to({"type": "catchup", "since": newest})
    assert (await ann.receive_json_from(timeout=2))["rows"] == []


async def test_a_frame_meeting_a_socket_its_client_just_closed_is_dropped_not_an_error():
    """daphne refuses a frame sent in the instant between the client's close and the
    consumer hearing of it; that must not crash the consumer into an error log."""
    from autobahn.exception import Disconnected
    from django.contrib.auth.models import AnonymousUser

    from cases.consumers import InboxConsumer

    incoming = asyncio.Queue()
    for message in ({"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}):
        incoming.put_nowait(message)
    refused = []

    async def closed(message):
        refused.append(message["type"])
        raise Disconnected("Attempt to send on a closed protocol")

    scope = {"type": "websocket", "path": "/ws/inbox/", "user": AnonymousUser()}
    await asyncio.wait_for(InboxConsumer.as_asgi()(scope, incoming.get, closed), 10)
    assert refused == ["websocket.close"]


async def test_a_stalled_presence_broadcast_holds_up_neither_catchup_nor_the_socket(
    connect, world, monkeypatch, caplog
):
    """Redis stops answering while a presence update is shared: the socket's catch-up and
    pings are answered meanwhile, and the broadcast is given up after a while, logged."""
    from channels.layers import get_channel_layer

    from cases import consumers

    await deliver(world["acme"], said("m1", "dana"))
    case = await Case.objects.aget()
    ann = (await connect("ann"))[1]
    stalled = asyncio.Event()

    async def never_answers(group, message):
        stalled.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(get_channel_layer(), "group_send", never_answers)
    monkeypatch.setattr(consumers, "PRESENCE_WAIT", 1.0)
    await ann.send_json_to({"type": "presence", "case": case.pk, "state": "viewing"})
    await asyncio.wait_for(stalled.wait(), timeout=2)
    await ann.send_json_to({"type": "catchup", "since": 0})
    answer = await ann.receive_json_from(timeout=0.5)
    assert answer["type"] == "catchup"
    assert [row["id"] for row in answer["rows"]] == [case.pk]
    await asyncio.sleep(1.2)
    assert "presence on case" in caplog.text
    await ann.send_json_to({"type": "ping"})
    assert await ann.receive_json_from(timeout=2) == {"type": "pong"}
