"""The database unavailable while a webhook arrives: a 503 the platform retries, with
Retry-After and a JSON error, and the retried delivery stored once when it is back.

The faults are real. On SQLite another connection holds the write lock (a backup or a
long migration does the same); on PostgreSQL the server reaches the database through a
TCP proxy the test cuts, so open connections are reset and new ones refused, or stalls,
so new connections are accepted and never answered.
"""

import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults import (
    AGENT,
    PASSWORD,
    celery_worker,
    deliver,
    message,
    prepare,
    start,
    wait_until,
)
from tests.live_server import Server
from tests.tcp_proxy import TcpProxy


def assert_retry_later(answer) -> None:
    assert answer.status == 503, answer.body[:500]
    assert answer.headers["Content-Type"] == "application/json"
    assert int(answer.headers["Retry-After"]) > 0
    assert "database" in answer.json()["error"]


def stored_once(server: Server, external_id: str) -> None:
    token = server.token(AGENT, PASSWORD)
    listing = server.api("/api/v1/messages/?account=shop", token)["results"]
    assert [m["external_id"] for m in listing] == [external_id]
    cases = server.api("/api/v1/cases/", token)["results"]
    assert len(cases) == 1 and cases[0]["message_count"] == 1


def test_a_locked_sqlite_database_answers_503_and_the_retry_is_stored_once(tmp_path):
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="true", SQLITE_BUSY_SECONDS="1")
    prepare(server)
    start(server)
    payload = message("locked-1", "My order never arrived")
    holder = sqlite3.connect(tmp_path / "live.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # readers go on; no writer gets in

        assert_retry_later(deliver(server, payload))

        holder.execute("ROLLBACK")
        assert deliver(server, payload).status == 200  # the platform's retry
        assert deliver(server, payload).status == 200  # and one more, as platforms do
        stored_once(server, "locked-1")
    finally:
        holder.close()
        server.stop()


@pytest.mark.postgres
def test_a_cut_postgres_connection_answers_503_and_the_retry_is_stored_once(tmp_path, own_postgres):
    proxy, through_proxy = TcpProxy.for_url(own_postgres)
    setup = Server(tmp_path, DATABASE_URL=own_postgres)
    prepare(setup)
    proxy.start()
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="true", DATABASE_URL=through_proxy)
    start(server)
    payload = message("cut-1", "My order never arrived")
    try:
        assert deliver(server, message("warm-up")).status == 200  # a pooled connection exists

        proxy.cut()
        for _ in range(3):  # the pooled connection is dead, and no new one gets through
            assert_retry_later(deliver(server, payload))

        proxy.restore()
        assert deliver(server, payload).status == 200
        assert deliver(server, payload).status == 200
        token = server.token(AGENT, PASSWORD)
        listing = server.api("/api/v1/messages/?account=shop", token)["results"]
        assert sorted(m["external_id"] for m in listing) == ["cut-1", "warm-up"]
    finally:
        server.stop()
        proxy.stop()


@pytest.mark.postgres
def test_a_postgres_server_that_never_answers_gets_503_within_the_connect_timeout(
    tmp_path, own_postgres
):
    proxy, through_proxy = TcpProxy.for_url(own_postgres)
    setup = Server(tmp_path, DATABASE_URL=own_postgres)
    prepare(setup)
    proxy.start()
    server = Server(
        tmp_path,
        CAREMGR_TASKS_INLINE="true",
        DATABASE_URL=through_proxy,
        DATABASE_CONNECT_TIMEOUT="2",
    )
    start(server)
    payload = message("hung-1", "My order never arrived")
    try:
        assert deliver(server, message("warm-up")).status == 200

        proxy.stall()
        started = time.monotonic()
        assert_retry_later(deliver(server, payload))
        assert time.monotonic() - started < 15  # the timeout, not the platform's, decides

        proxy.restore()
        assert deliver(server, payload).status == 200
        token = server.token(AGENT, PASSWORD)
        listing = server.api("/api/v1/messages/?account=shop", token)["results"]
        assert sorted(m["external_id"] for m in listing) == ["hung-1", "warm-up"]
    finally:
        server.stop()
        proxy.stop()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery
def test_a_burst_while_postgres_is_cut_gets_503_each_and_every_retry_is_filed_once(
    tmp_path, own_postgres, needs_redis
):
    """On the scale-out path concurrent deliveries are stored together: a write that fails
    fails every request it held, each with its own 503, and nothing half-stored stays."""
    proxy, through_proxy = TcpProxy.for_url(own_postgres)
    setup = Server(tmp_path, DATABASE_URL=own_postgres)
    prepare(setup)
    proxy.start()
    env = {"DATABASE_URL": through_proxy, "REDIS_URL": os.environ["REDIS_URL"]}
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="false", **env)
    start(server)
    burst = [
        message(f"burst-{n}", f"Parcel {n} is lost", author={"id": f"c{n}", "handle": f"c{n}"})
        for n in range(8)
    ]
    worker = None
    try:
        assert deliver(server, message("warm-up")).status == 200

        proxy.cut()
        with ThreadPoolExecutor(len(burst)) as pool:
            for answer in pool.map(lambda payload: deliver(server, payload), burst):
                assert_retry_later(answer)

        proxy.restore()
        for _ in range(2):  # the platform retries; a retry of a retry adds nothing
            with ThreadPoolExecutor(len(burst)) as pool:
                answers = list(pool.map(lambda payload: deliver(server, payload), burst))
            assert [answer.status for answer in answers] == [200] * len(burst)
        worker = celery_worker(server.env)
        token = server.token(AGENT, PASSWORD)

        def filed() -> list[str]:
            listing = server.api("/api/v1/messages/?account=shop&page_size=50", token)
            return sorted(m["external_id"] for m in listing["results"] if m["case"])

        expected = sorted(["warm-up", *(f"burst-{n}" for n in range(8))])
        wait_until(lambda: filed() == expected, seconds=60, what="every message filed once")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)
        server.stop()
        proxy.stop()
