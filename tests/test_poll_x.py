"""`poll_x` against a local fake of the X API v2: mentions and DMs land in cases, the
since_id checkpoint is kept, and a second pass adds nothing."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command

from inbox.models import Account, Message
from tests.conftest import make_account

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "x-bearer-token"
OWN = "9000"

MENTIONS = {
    "data": [
        {
            "id": "1702",
            "text": "@AcmeCare my order never arrived, I want a refund",
            "author_id": "51",
            "created_at": "2026-11-20T10:05:00.000Z",
            "in_reply_to_user_id": OWN,
        },
        {
            "id": "1701",
            "text": "@AcmeCare hello?",
            "author_id": "52",
            "created_at": "2026-11-20T10:00:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {
                "id": "51",
                "username": "dana",
                "name": "Dana",
                "public_metrics": {"followers_count": 48000},
            },
            {
                "id": "52",
                "username": "lee",
                "name": "Lee",
                "public_metrics": {"followers_count": 3},
            },
        ]
    },
    "meta": {"newest_id": "1702", "oldest_id": "1701", "result_count": 2},
}
DMS = {
    "data": [
        {
            "id": "dm-2",
            "event_type": "MessageCreate",
            "text": "Any news?",
            "sender_id": "51",
            "participant_ids": ["51", OWN],
            "created_at": "2026-11-20T11:00:00.000Z",
        },
        {
            "id": "dm-1",
            "event_type": "MessageCreate",
            "text": "Order 123 is missing",
            "sender_id": "51",
            "participant_ids": ["51", OWN],
            "created_at": "2026-11-20T10:30:00.000Z",
        },
    ],
    "includes": {"users": [{"id": "51", "username": "dana", "name": "Dana"}]},
    "meta": {"result_count": 2},
}


@pytest.fixture
def fake_x():
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urlparse(self.path)
            requests.append((url.path, parse_qs(url.query)))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, {"title": "Unauthorized"})
            if url.path == f"/2/users/{OWN}/mentions":
                since = parse_qs(url.query).get("since_id", [None])[0]
                page = {"meta": {"result_count": 0}} if since == "1702" else MENTIONS
                return self._answer(200, page)
            if url.path == "/2/dm_events":
                return self._answer(200, DMS)
            return self._answer(404, {"title": "Not Found"})

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


@pytest.fixture
def x_account(settings, fake_x):
    settings.CAREMGR_API_BASE = {**settings.CAREMGR_API_BASE, "x": fake_x[0] + "/2"}
    return make_account(platform="x", slug="acme-x", own_ids=[OWN], access_token=TOKEN)


def test_mentions_and_dms_become_cases_with_their_own_timestamps(x_account, fake_x):
    call_command("poll_x", "acme-x", "--once")
    dana = Message.objects.filter(author_handle="dana").order_by("created_at")
    assert [m.text for m in dana] == [
        "@AcmeCare my order never arrived, I want a refund",
        "Order 123 is missing",
        "Any news?",
    ]
    assert all(m.case_id == dana[0].case_id for m in dana)
    assert dana[0].created_at.isoformat() == "2026-11-20T10:05:00+00:00"
    assert dana[0].contact.followers == 48000
    assert Message.objects.filter(author_handle="lee").exclude(case=None).count() == 1


def test_a_second_pass_asks_since_the_newest_mention_and_adds_nothing(x_account, fake_x):
    call_command("poll_x", "acme-x", "--once")
    count = Message.objects.count()
    call_command("poll_x", "acme-x", "--once")
    assert Message.objects.count() == count
    mention_calls = [q for path, q in fake_x[1] if path.endswith("/mentions")]
    assert mention_calls[-1]["since_id"] == ["1702"]
    assert Account.objects.get(pk=x_account.pk).poll_state["dm_seen_id"] == "dm-2"


def test_a_refused_token_is_a_clear_error(x_account):
    Account.objects.filter(pk=x_account.pk).update(access_token="wrong")
    with pytest.raises(CommandError, match="401"):
        call_command("poll_x", "acme-x", "--once")


def test_an_unknown_account_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no X account"):
        call_command("poll_x", "nope", "--once")
