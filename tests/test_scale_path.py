"""The scale-out path with real parts: two server processes sharing PostgreSQL and the Redis
channel layer, and a real Celery worker taking the intake off the webhook request."""

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime

import pytest

from tests.faults import celery_worker
from tests.live_server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SECRET = "scale-secret"


@pytest.fixture
def scale_env(needs_postgres, needs_redis):
    """A database of its own (the servers are other processes) and the shared Redis."""
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"caremgr_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield {"DATABASE_URL": f"{base}/{name}", "REDIS_URL": os.environ["REDIS_URL"]}
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def message(external_id: str, text: str) -> dict:
    return {
        "external_id": external_id,
        "author": {"id": "c-1", "handle": "kim", "followers": 300},
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
    }


def prepare(server: Server) -> None:
    server.manage("migrate", "--noinput", "-v", "0")
    server.manage(
        "create_agent", "dana", "--role", "agent", "--team", "care", "--password", "dana-pass-1"
    )
    server.manage("create_account", "generic", "shop", "--secret", SECRET, "--team", "care")


async def first_event(url: str, cookie: str, kind: str, timeout: float = 15.0) -> dict:
    import websockets

    async with websockets.connect(
        url, additional_headers={"Cookie": f"sessionid={cookie}", "Origin": "http://127.0.0.1"}
    ) as socket:
        await socket.send(json.dumps({"type": "ping"}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = json.loads(await asyncio.wait_for(socket.recv(), deadline - time.monotonic()))
            if frame.get("type") == kind:
                return frame
    raise AssertionError(f"no {kind} event within {timeout} s")


def test_an_event_crosses_from_one_server_process_to_another_over_redis(scale_env, tmp_path):
    one = Server(tmp_path, CAREMGR_TASKS_INLINE="true", **scale_env)
    two = Server(tmp_path, CAREMGR_TASKS_INLINE="true", **scale_env)
    prepare(one)
    one.start()
    two.start()
    try:
        cookie = two.session_cookie("dana", "dana-pass-1")

        async def scenario():
            listener = asyncio.create_task(first_event(two.ws_url, cookie, "case.created"))
            await asyncio.sleep(1.0)  # the socket has joined its groups
            await asyncio.to_thread(one.deliver, "shop", SECRET, message("r-1", "Hello there"))
            return await listener

        event = asyncio.run(scenario())
        assert event["row"]["contact"]["handle"] == "kim"
        assert event["row"]["last_message_preview"] == "Hello there"
    finally:
        one.stop()
        two.stop()


def test_a_celery_worker_processes_what_the_webhook_only_stored(scale_env, tmp_path):
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="false", **scale_env)
    prepare(server)
    server.start()
    worker = celery_worker(server.env)
    try:
        for n in range(20):
            answer = server.deliver("shop", SECRET, message(f"c-{n}", f"Message {n}"))
            assert answer["status"] == "stored"
        token = server.token("dana", "dana-pass-1")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listing = server.api("/api/v1/messages/?account=shop", token)
            if len(listing["results"]) == 20:
                break
            time.sleep(0.5)
        assert len(listing["results"]) == 20
        cases = server.api("/api/v1/cases/", token)["results"]
        assert len(cases) == 1 and cases[0]["message_count"] == 20
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        server.stop()
