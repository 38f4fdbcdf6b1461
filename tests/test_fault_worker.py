"""The Celery worker killed in the middle of a batch: nothing lost, nothing doubled.

A real worker on PostgreSQL and Redis processes webhook deliveries of many messages; the
test kills it with SIGKILL while it is inside a delivery's transaction, starts a new one,
and lets the periodic recovery (`inbox.tasks.redeliver_stale`, run by beat) hand over what
the dead worker had taken. Every message is then stored once, each customer has one case
whose counters match its messages, the timeline has one entry per message and each case
one automatic acknowledgement. Running every task once more changes nothing.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.faults import celery_worker, deliver, message, prepare, start, wait_until
from tests.live_server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery]

DELIVERIES, PER_DELIVERY, CUSTOMERS = 30, 40, 8


def batch(n: int) -> list[dict]:
    """One delivery: PER_DELIVERY messages of several customers."""
    return [
        message(
            f"d{n}-m{i}",
            f"Parcel {n}-{i} has not arrived",
            author={"id": f"c-{(n + i) % CUSTOMERS}", "handle": f"c{(n + i) % CUSTOMERS}"},
        )
        for i in range(PER_DELIVERY)
    ]


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
    tmp_path, own_postgres, needs_redis
):
    import psycopg
    import redis
    from celery import Celery

    env = {"DATABASE_URL": own_postgres, "REDIS_URL": os.environ["REDIS_URL"]}
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="false", **env)
    prepare(server, tier="low")  # low-touch: each new case gets one automatic acknowledgement
    start(server)
    broker = Celery(broker=env["REDIS_URL"])
    db = psycopg.connect(own_postgres, autocommit=True)

    def scalar(sql: str, *params):
        return db.execute(sql, params).fetchone()[0]

    processed = "SELECT count(*) FROM inbox_delivery WHERE status = 'processed'"
    in_transaction = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    )
    first = second = None
    try:
        for n in range(DELIVERIES):
            assert deliver(server, batch(n)).status == 200
        first = celery_worker(server.env)

        deadline = time.monotonic() + 120
        while not scalar(in_transaction):  # until the worker is writing
            assert time.monotonic() < deadline, "the worker never started writing"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert scalar(processed) < DELIVERIES, "the kill did not land mid-batch"
        # The delivery it was writing left nothing behind: all or nothing per delivery.
        assert scalar("SELECT count(*) FROM inbox_message WHERE direction = 'in'") == (
            scalar("SELECT coalesce(sum(message_count), 0) FROM inbox_delivery")
        )

        second = celery_worker(server.env)
        # What the dead worker had taken stays unacknowledged until recovery hands it over:
        # beat runs redeliver_stale every minute for deliveries older than the grace period.
        time.sleep(3)
        db.execute("UPDATE inbox_delivery SET received_at = received_at - interval '10 minutes'")
        broker.send_task("inbox.tasks.redeliver_stale")
        wait_until(
            lambda: scalar(processed) == DELIVERIES, seconds=120, what="every delivery processed"
        )

        def ledger() -> dict:
            return {
                "messages": scalar("SELECT count(*) FROM inbox_message WHERE direction = 'in'"),
                "distinct": scalar(
                    "SELECT count(DISTINCT external_id) FROM inbox_message WHERE direction = 'in'"
                ),
                "cases": scalar("SELECT count(*) FROM cases_case"),
                "counted": scalar("SELECT sum(inbound_count) FROM cases_case"),
                "in_case": scalar(
                    "SELECT count(*) FROM inbox_message WHERE direction = 'in' AND case_id "
                    "IS NOT NULL"
                ),
                "timeline": scalar(
                    "SELECT count(*) FROM cases_caseevent WHERE kind = 'message.in'"
                ),
                "acknowledgements": scalar(
                    "SELECT count(*) FROM inbox_message WHERE direction = 'out' AND is_automatic"
                ),
                "stored": scalar("SELECT sum(message_count) FROM inbox_delivery"),
                "mismatched": scalar(
                    "SELECT count(*) FROM cases_case c WHERE c.message_count <> "
                    "(SELECT count(*) FROM inbox_message m WHERE m.case_id = c.id)"
                ),
            }

        total = DELIVERIES * PER_DELIVERY
        expected = {
            "messages": total,
            "distinct": total,
            "cases": CUSTOMERS,
            "counted": total,
            "in_case": total,
            "timeline": total,
            "acknowledgements": CUSTOMERS,
            "stored": total,
            "mismatched": 0,
        }
        assert ledger() == expected

        # Redis hands the dead worker's tasks out again one day (after its visibility
        # timeout), and a retry may run twice: every task once more changes nothing.
        ids = [row[0] for row in db.execute("SELECT id FROM inbox_delivery ORDER BY id")]
        marker = scalar("SELECT max(id) FROM cases_caseevent")
        queue = redis.Redis.from_url(env["REDIS_URL"])
        taken_by_the_dead = queue.hlen("unacked")
        for delivery_id in ids:
            broker.send_task("inbox.tasks.process_delivery", args=[delivery_id])
        wait_until(
            lambda: queue.llen("celery") == 0 and queue.hlen("unacked") <= taken_by_the_dead,
            seconds=60,
            what="the repeated tasks ran",
        )
        assert ledger() == expected
        assert scalar("SELECT count(*) FROM cases_caseevent WHERE id > %s", marker) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        db.close()
        server.stop()
