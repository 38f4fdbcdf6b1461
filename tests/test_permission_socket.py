"""Who may open `/ws/inbox/` and which case events reach whom, through the real channel
layer (in memory, or Redis with REDIS_URL) and the project's ASGI application."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from caremgr.asgi import application
from cases.models import AgentProfile, Case, Role, Team
from tests.conftest import make_account, make_user
from tests.test_consumer import ORIGIN, cookie_of, deliver, said

# Committed transactions: events go out on commit (conftest puts the seeded tiers back).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("offline")]


@pytest.fixture
def world():
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    AgentProfile.objects.create(user=root, role=Role.ADMIN)
    return {
        "acme": make_account(slug="acme", default_team=team_a),
        "beta": make_account(slug="beta", default_team=team_b),
        "ann": make_user("ann", teams=[team_a]),
        "bob": make_user("bob", teams=[team_b]),
        "vic": get_user_model().objects.create_user("vic", password="pw-vic"),
        "sue": make_user("sue", "supervisor"),
        "root": root,
    }


async def open_socket(world, name):
    headers = [ORIGIN]
    if name is not None:
        headers.append(await sync_to_async(cookie_of)(world[name]))
    socket = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, code = await socket.connect()
    return socket, connected, code


@pytest.mark.parametrize(
    ("name", "accepted", "code"),
    [
        (None, False, 4401),  # no session
        ("vic", False, 4403),  # a login without an agent, supervisor or admin role
        ("ann", True, None),
        ("sue", True, None),
        ("root", True, None),
    ],
)
async def test_who_may_open_the_inbox_socket(world, name, accepted, code):
    socket, connected, close_code = await open_socket(world, name)
    assert connected is accepted
    if accepted:
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=2) == {"type": "pong"}
        await socket.disconnect()
    else:
        assert close_code == code


async def cases_heard(socket) -> set[int]:
    """The case ids of every frame until the socket has been quiet for a moment."""
    heard = set()
    while not await socket.receive_nothing(timeout=0.7):
        frame = await socket.receive_json_from(timeout=2)
        heard.add(frame["case"])
    return heard


async def test_each_role_hears_the_cases_it_may_see_and_no_other(world):
    sockets = {}
    for name in ("ann", "bob", "sue", "root"):
        sockets[name], connected, _ = await open_socket(world, name)
        assert connected
    await deliver(world["acme"], said("a1", "amy"))
    await deliver(world["beta"], said("b1", "ben"), said("c1", "cat"))
    a = await Case.objects.aget(messages__external_id="a1")
    b = await Case.objects.aget(messages__external_id="b1")
    c = await Case.objects.aget(messages__external_id="c1")

    def give_c_to_ann():
        client = Client()
        client.force_login(world["sue"])
        url = f"/api/v1/cases/{c.pk}/assign/"
        return client.post(url, {"agent": world["ann"].pk}, content_type="application/json")

    assert (await sync_to_async(give_c_to_ann)()).status_code == 200
    heard = {name: await cases_heard(socket) for name, socket in sockets.items()}
    assert heard == {
        "ann": {a.pk, c.pk},  # her team's case, and team B's case once it is hers
        "bob": {b.pk, c.pk},
        "sue": {a.pk, b.pk, c.pk},
        "root": {a.pk, b.pk, c.pk},
    }
    for socket in sockets.values():
        await socket.disconnect()
