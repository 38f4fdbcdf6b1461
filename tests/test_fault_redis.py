"""Redis down: pages and webhooks keep working, and live updates resume when it returns.

A real server reaches Redis (channel layer, cache, broker) through a TCP proxy the test
cuts and restores. The WebSocket client does what the browser's live.js does: it
reconnects with backoff when the socket closes and asks for what it missed since the last
`seq` it saw; the test asserts on what that client ends up knowing.
"""

import asyncio
import contextlib
import json
import os
import sqlite3
import time

import pytest

from tests.faults import (
    AGENT,
    PASSWORD,
    celery_worker,
    deliver,
    get,
    message,
    prepare,
    start,
    wait_until,
)
from tests.live_server import Server, launch_chromium, need_browser
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.redis
CATCHUP_EVERY = 2.0  # seconds; the browser asks every 20 (a test has less time)


class Browser:
    """The live connection of the inbox page, as live.js keeps it: reconnect with backoff
    when it closes, and ask for what changed since the last seq on open and now and then."""

    def __init__(self, url: str, cookie: str, since: int = 0) -> None:
        self.url, self.cookie, self.since = url, cookie, since
        self.frames: list[dict] = []
        self.previews: dict[int, str] = {}  # case id → the last message preview it shows
        self.connections = 0
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "Browser":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        import websockets

        attempts = 0
        while True:
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers={
                        "Cookie": f"sessionid={self.cookie}",
                        "Origin": "http://127.0.0.1",
                    },
                    open_timeout=5,
                ) as socket:
                    self.connections += 1
                    attempts = 0
                    asking = asyncio.create_task(self._ask_now_and_then(socket))
                    try:
                        async for text in socket:
                            self._hear(json.loads(text))
                    finally:
                        asking.cancel()
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            attempts += 1
            await asyncio.sleep(min(2.0, 0.1 * 2**attempts))

    async def _ask_now_and_then(self, socket) -> None:
        """On open and every CATCHUP_EVERY seconds (live.js: 20 s): what changed since?"""
        while True:
            await socket.send(json.dumps({"type": "catchup", "since": self.since}))
            await asyncio.sleep(CATCHUP_EVERY)

    def _hear(self, frame: dict) -> None:
        self.frames.append(frame)
        if isinstance(frame.get("seq"), int):
            self.since = max(self.since, frame["seq"])
        for row in frame.get("rows") or [frame.get("row")]:
            if row:
                self.previews[row["id"]] = row["last_message_preview"]

    async def sees(self, text: str, *, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.previews.values():
            if time.monotonic() > deadline:
                raise AssertionError(f"the browser never showed {text!r}: {self.frames[-5:]}")
            await asyncio.sleep(0.1)


@pytest.fixture
def redis_proxy(needs_redis):
    proxy, url = TcpProxy.for_url(os.environ["REDIS_URL"])
    proxy.start()
    yield proxy, url
    proxy.stop()


def test_pages_and_webhooks_work_while_redis_is_down_and_live_updates_resume(tmp_path, redis_proxy):
    proxy, redis_url = redis_proxy
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="true", REDIS_URL=redis_url)
    prepare(server)
    output = start(server)
    cookie = server.session_cookie(AGENT, PASSWORD)
    token = server.token(AGENT, PASSWORD)
    session = {"Cookie": f"sessionid={cookie}"}

    async def scenario() -> None:
        async with Browser(server.ws_url, cookie) as browser:
            await asyncio.sleep(1.0)  # joined its groups
            await asyncio.to_thread(deliver, server, message("r-1", "Before the outage"))
            await browser.sees("Before the outage", seconds=10)
            case_id = next(iter(browser.previews))

            proxy.cut()
            started = time.monotonic()
            answer = await asyncio.to_thread(deliver, server, message("r-2", "During the outage"))
            assert answer.status == 200, answer.body
            for path in ("/", f"/cases/{case_id}/"):
                page = await asyncio.to_thread(get, server.url + path, headers=session)
                assert page.status == 200, (path, page.status, page.body[:300])
            fresh = await asyncio.to_thread(server.session_cookie, AGENT, PASSWORD)
            assert fresh and fresh != cookie  # signing in works too
            listing = await asyncio.to_thread(server.api, "/api/v1/messages/", token)
            assert {m["external_id"] for m in listing["results"]} == {"r-1", "r-2"}
            assert time.monotonic() - started < 20, "requests stalled while Redis was down"

            proxy.restore()
            await browser.sees("During the outage", seconds=15)  # caught up
            await asyncio.to_thread(deliver, server, message("r-3", "After the outage"))
            await browser.sees("After the outage", seconds=15)  # live again
            assert browser.previews[case_id] == "After the outage"

    try:
        asyncio.run(scenario())
    except BaseException:
        print(b"".join(output).decode(errors="replace")[-6000:])
        raise
    finally:
        server.stop()


@pytest.mark.celery
def test_webhooks_are_stored_while_the_broker_is_down_and_processed_when_it_returns(
    tmp_path, redis_proxy
):
    from celery import Celery

    proxy, redis_url = redis_proxy
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="false", REDIS_URL=redis_url)
    prepare(server)
    start(server)
    worker = None
    try:
        proxy.cut()
        for n in range(3):
            started = time.monotonic()
            answer = deliver(server, message(f"b-{n}", f"Queued while Redis is away {n}"))
            assert answer.status == 200, answer.body
            assert answer.json()["status"] == "stored"
            assert time.monotonic() - started < 10, "the webhook waited on the broker"

        proxy.restore()
        worker = celery_worker(server.env)
        # Beat runs the recovery every minute for deliveries older than its grace period;
        # the stored rows are made that old rather than waited for.
        with sqlite3.connect(tmp_path / "live.sqlite3", timeout=20) as db:
            db.execute(
                "UPDATE inbox_delivery SET received_at = datetime(received_at, '-10 minutes')"
            )
        Celery(broker=redis_url).send_task("inbox.tasks.redeliver_stale")
        token = server.token(AGENT, PASSWORD)
        listing = wait_until(
            lambda: (
                len(server.api("/api/v1/messages/", token)["results"]) == 3
                and server.api("/api/v1/messages/", token)["results"]
            ),
            seconds=90,
            what="the stored deliveries processed",
        )
        assert sorted(m["external_id"] for m in listing) == ["b-0", "b-1", "b-2"]
        cases = server.api("/api/v1/cases/", token)["results"]
        assert len(cases) == 1 and cases[0]["message_count"] == 3
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        server.stop()


@pytest.mark.browser
def test_an_open_case_page_shows_a_message_sent_while_redis_was_away(tmp_path, redis_proxy):
    """live.js and case.js themselves: the page neither reloads nor misses the message."""
    from playwright.sync_api import expect

    need_browser()
    proxy, redis_url = redis_proxy
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="true", REDIS_URL=redis_url)
    prepare(server)
    start(server)
    deliver(server, message("p-1", "Before the blip"))
    try:
        with launch_chromium() as chromium:
            page = chromium.new_page()
            page.goto(server.url + "/accounts/login/")
            page.get_by_label("Username").fill(AGENT)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(server.url + "/")
            page.goto(server.url + "/cases/1/")
            page.locator("#live-status[data-state=live]").wait_for(timeout=10_000)
            page.evaluate("window.loadedOnce = true")  # gone if the page reloads

            proxy.cut()
            assert deliver(server, message("p-2", "Sent during the blip")).status == 200
            proxy.restore()

            # The socket survives a short blip (or reconnects); at the latest the next
            # catch-up, 20 s on, brings it, given time for a busy machine.
            expect(page.locator("#messages")).to_contain_text(
                "Sent during the blip", timeout=40_000
            )
            assert page.evaluate("window.loadedOnce") is True
            deliver(server, message("p-3", "After the blip"))
            expect(page.locator("#messages")).to_contain_text("After the blip", timeout=15_000)
    finally:
        server.stop()
