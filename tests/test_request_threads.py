"""The ASGI handler keeps its request threads, and their database connections, between
requests, answers exactly as Django's own handler does, and still gives requests served
at the same time a thread each."""

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import Client

from caremgr.request_threads import ReusedThreadsASGIHandler
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def handler():
    handler = ReusedThreadsASGIHandler()
    yield handler
    handler.close()


def session_of(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def call(app, path: str, query: str = "", cookie: bytes = b"") -> tuple[int, dict, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")] + ([(b"cookie", cookie)] if cookie else []),
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent, asked = [], False

    async def receive():
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_sequential_requests_share_one_database_connection(handler, monkeypatch):
    # Kept connections are the setting's business: CONN_MAX_AGE=0 closes each at the end
    # of its request, whichever thread it belongs to.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 60)
    cookie = session_of(make_user("sue", "supervisor"))
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(threading.get_ident())

    connection_created.connect(count)
    try:
        for _ in range(4):
            status, _, _ = asyncio.run(call(handler, "/api/v1/cases/", cookie=cookie))
            assert status == 200
    finally:
        connection_created.disconnect(count)
    assert len(opened) == 1  # Django's own handler opens one per request


@pytest.mark.parametrize(
    ("path", "query", "signed_in"),
    [
        ("/no-such-page/", "", False),
        ("/api/v1/cases/", "", False),
        ("/api/v1/cases/", "", True),
        ("/api/v1/cases/", "ordering=sideways", True),
        ("/api/v1/cases/", "status=open&page_size=2", True),
        ("/api/v1/cases/", "", True),
        ("/api/v1/cases/999999/", "", True),
        ("/", "", False),
    ],
)
def test_answers_are_those_of_djangos_handler(handler, path, query, signed_in):
    cookie = session_of(make_user("sue", "supervisor")) if signed_in else b""
    django_handler = ASGIHandler()

    ours = asyncio.run(call(handler, path, query, cookie))
    theirs = asyncio.run(call(django_handler, path, query, cookie))

    assert ours == theirs


def test_concurrent_requests_each_have_a_thread_and_few_are_kept(monkeypatch):
    handler = ReusedThreadsASGIHandler(idle_threads=2)
    started = []
    new_thread = handler._new_thread

    def counted():
        started.append(1)
        return new_thread()

    monkeypatch.setattr(handler, "_new_thread", counted)

    async def together(n):
        return await asyncio.gather(*[call(handler, "/no-such-page/") for _ in range(n)])

    try:
        answers = asyncio.run(together(5))
        assert [status for status, _, _ in answers] == [404] * 5
        assert len(started) == 5
        assert len(handler._idle) == 2
        asyncio.run(together(2))
        assert len(started) == 5  # the two kept threads served these
    finally:
        handler.close()


def kept_seconds(**env: str) -> str:
    """CONN_MAX_AGE of the settings a server starts with, given its environment."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CONN_MAX_AGE")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import caremgr.settings as s; print(s.DATABASES['default']['CONN_MAX_AGE'])",
        ],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_an_embedded_sqlite_server_keeps_its_connections_between_requests(tmp_path):
    # A SQLite connection opened per request ran its pragmas and read the schema again, and
    # its close checkpointed the write-ahead log: about a sixth of an agent page's CPU.
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert kept_seconds(DATABASE_URL=database) == "60"
    assert kept_seconds(DATABASE_URL=database, CONN_MAX_AGE="0") == "0"
