"""A Celery worker keeps its database connection from one intake batch to the next, as a
web process keeps its connection between requests: no new PostgreSQL backend per task; a
connection the database dropped is replaced before the next batch, nothing lost."""

import os
import time

import pytest

from tests.faults import celery_worker, deliver, message, prepare, start, wait_until
from tests.live_server import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery]

WORKER = "caremgr-test-worker"  # the worker's application_name in pg_stat_activity


def test_a_worker_files_batch_after_batch_on_one_connection(tmp_path, own_postgres, needs_redis):
    import psycopg

    env = {"DATABASE_URL": own_postgres, "REDIS_URL": os.environ["REDIS_URL"]}
    server = Server(tmp_path, CAREMGR_TASKS_INLINE="false", **env)
    prepare(server)
    start(server)
    db = psycopg.connect(own_postgres, autocommit=True)

    def processed() -> int:
        sql = "SELECT count(*) FROM inbox_delivery WHERE status = 'processed'"
        return db.execute(sql).fetchone()[0]

    def worker_backends() -> list:
        sql = (
            "SELECT backend_start FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()"
        )
        return [row[0] for row in db.execute(sql, [WORKER]).fetchall()]

    # Kept as long as the setting says (`make test` runs with CONN_MAX_AGE=0).
    worker = celery_worker({**server.env, "PGAPPNAME": WORKER, "CONN_MAX_AGE": "60"})
    try:
        assert deliver(server, [message("first", "Where is my parcel?")]).status == 200
        wait_until(lambda: processed() == 1, seconds=60, what="the first delivery filed")
        started = db.execute("SELECT now()").fetchone()[0]
        time.sleep(0.05)
        for n in range(6):  # one at a time: each one a drain task of its own
            answer = deliver(
                server, [message(f"m{n}", f"Order {n} is late", author={"id": f"c{n}"})]
            )
            assert answer.status == 200
            wait_until(lambda n=n: processed() == n + 2, seconds=30, what=f"delivery {n} filed")

        backends = worker_backends()
        assert len(backends) == 1, backends  # still connected between tasks
        assert backends[0] < started  # the connection of the first batch, not a new one

        # A connection the database dropped is noticed before the next batch uses it.
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [WORKER],
        )
        wait_until(lambda: not worker_backends(), seconds=10, what="the backend gone")
        assert (
            deliver(server, [message("after", "Still waiting", author={"id": "c9"})]).status == 200
        )
        wait_until(lambda: processed() == 8, seconds=30, what="the delivery after the drop filed")
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        db.close()
        server.stop()
