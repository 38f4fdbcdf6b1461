"""Duplicate storms: hundreds of copies of the same deliveries at once, against two real
server processes sharing one database. Every copy is answered 200, every message is stored
once, the customer has one case whose counters match, and the low-touch acknowledgement
goes out once.

Runs on SQLite (two processes contending for one file) and, with DATABASE_URL, on
PostgreSQL.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.faults import AGENT, PASSWORD, message, post, prepare, signed, start
from tests.live_server import Server

COPIES = 100  # of each of three deliveries
THREADS = 24
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


def deliveries() -> list[list[dict]]:
    """A question, a burst of five more, and a reply chain: one customer, seven messages."""
    at = [(T0 + timedelta(minutes=i)).isoformat() for i in range(7)]
    return [
        [message("s-1", "My parcel is lost", created_at=at[0])],
        [message(f"s-{i}", f"Still nothing, day {i}", created_at=at[i - 1]) for i in range(2, 6)],
        [
            message("s-6", "Hello?", created_at=at[5], in_reply_to="s-5"),
            message("s-7", "Anyone there?", created_at=at[6], in_reply_to="s-6"),
        ],
    ]


def storm(servers: list[Server]) -> list[int]:
    """Every copy of every delivery, shuffled over the servers, many at a time."""
    bodies = [signed(payload) for payload in deliveries()]
    jobs = [
        (servers[n % len(servers)], *bodies[n % len(bodies)]) for n in range(COPIES * len(bodies))
    ]

    def send(job) -> int:
        server, body, headers = job
        return post(f"{server.url}/webhooks/generic/shop/", body, headers, timeout=60).status

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, jobs))


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite3'}"
    request.getfixturevalue("needs_postgres")
    return request.getfixturevalue("own_postgres")


def test_a_storm_of_duplicate_deliveries_stores_each_message_once(tmp_path, database):
    env = {"CAREMGR_TASKS_INLINE": "true", "DATABASE_URL": database}
    env.update({"REDIS_URL": os.environ["REDIS_URL"]} if os.environ.get("REDIS_URL") else {})
    servers = [Server(tmp_path, **env) for _ in range(2)]
    prepare(servers[0], tier="low")
    for server in servers:
        start(server)
    try:
        statuses = storm(servers)

        assert statuses == [200] * len(statuses)
        token = servers[1].token(AGENT, PASSWORD)
        listing = servers[1].api("/api/v1/messages/?page_size=500", token)["results"]
        inbound = sorted(m["external_id"] for m in listing if m["direction"] == "in")
        assert inbound == [f"s-{i}" for i in range(1, 8)]
        automatic = [m for m in listing if m["direction"] == "out" and m["is_automatic"]]
        assert len(automatic) == 1, automatic
        cases = servers[0].api("/api/v1/cases/", token)["results"]
        assert len(cases) == 1
        (case,) = cases
        assert case["message_count"] == 8  # seven questions and one acknowledgement
        detail = servers[0].api(f"/api/v1/cases/{case['id']}/", token)
        kinds = [entry["kind"] for entry in detail["timeline"]]
        assert kinds.count("message.in") == 7 and kinds.count("created") == 1
        assert case["created_at"].startswith(T0.isoformat()[:16])
    finally:
        for server in servers:
            server.stop()
