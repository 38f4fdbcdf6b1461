"""A real server answers webhook POSTs on the short ASGI path with every answer of the
contract, the security headers of any other answer, and leaves the rest to Django."""

import pytest

from tests.faults import AGENT, PASSWORD, deliver, get, message, post, prepare, signed, start
from tests.live_server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(
        tmp_path_factory.mktemp("fast"),
        CAREMGR_TASKS_INLINE="true",
        CAREMGR_MAX_WEBHOOK_BYTES="20000",
    )
    prepare(server)
    start(server)
    yield server
    server.stop()


def hook(server: Server, slug: str = "shop") -> str:
    return f"{server.url}/webhooks/generic/{slug}/"


def external_ids(server: Server) -> list[str]:
    token = server.token(AGENT, PASSWORD)
    listing = server.api("/api/v1/messages/?account=shop&page_size=200", token)
    return [m["external_id"] for m in listing["results"]]


def test_a_signed_delivery_is_stored_and_filed(server):
    answer = deliver(server, message("fast-1", "Parcel lost"))

    assert answer.status == 200
    assert answer.json()["status"] == "stored"
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "fast-1" in external_ids(server)


def test_every_refusal_of_the_contract_on_the_short_path(server):
    body, headers = signed(message("fast-2"))

    assert post(hook(server, "nobody"), body, headers).status == 404
    assert post(hook(server), body, {**headers, "X-Caremgr-Signature": "sha256=00"}).status == 403
    big, big_headers = signed(message("fast-3", "x" * 30_000))
    too_large = post(hook(server), big, big_headers)
    assert too_large.status == 413
    assert too_large.json()["limit"] == 20000
    unreadable, unreadable_headers = signed(b"{not json")
    refused = post(hook(server), unreadable, unreadable_headers)
    assert refused.status == 400
    assert "not valid JSON" in refused.json()["error"]
    assert isinstance(refused.json()["delivery"], int)  # kept as a failed delivery


def test_a_repeated_delivery_is_accepted_and_stored_once(server):
    body, headers = signed(message("fast-4", "Twice"))
    assert post(hook(server), body, headers).status == 200
    assert post(hook(server), body, headers).status == 200

    assert external_ids(server).count("fast-4") == 1


def test_a_foreign_host_is_left_to_django(server):
    body, headers = signed(message("fast-5"))
    answer = post(hook(server), body, {**headers, "Host": "evil.example"})

    assert answer.status == 400  # DisallowedHost, as on every other URL


def test_a_get_handshake_still_reaches_the_django_view(server):
    answer = get(hook(server))

    assert answer.status == 405  # the generic connector has no handshake
