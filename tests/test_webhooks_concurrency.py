"""Platforms retry and deliver twice at once: concurrent copies store each message once.

Eight threads, each with its own client and database connection, are released together by
a barrier. On PostgreSQL they run here against the test database. SQLite's in-memory test
database (shared cache) answers "table is locked" instead of waiting, which says nothing
about the deployed setup, so on SQLite the same threads run in a child process against a
file copy of the test database with the production options (WAL, IMMEDIATE transactions,
busy timeout).
"""

import json
import os
import subprocess
import sys
import threading
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from inbox.models import Delivery, Message
from tests.conftest import generic_message, hex_signature, make_account
from tests.payloads import meta

COPIES = 8
ROOT = Path(__file__).resolve().parents[1]
CHILD = (
    "import django, json, sys; django.setup(); "
    "from tests.test_webhooks_concurrency import deliver_concurrently; "
    "print(json.dumps(deliver_concurrently(**json.loads(sys.argv[1]))))"
)


@pytest.fixture
def tiers():
    """The tiers the data migration seeds: an earlier transactional test may have flushed them."""
    from django.apps import apps

    import_module("cases.migrations.0003_seed_tiers").seed(apps, None)


def post_at_once(path: str, body: bytes, headers: dict) -> list:
    """POST the same body from COPIES threads released together; each answer or exception."""
    barrier = threading.Barrier(COPIES)
    outcomes: list = []

    def deliver():
        try:
            client = Client()
            barrier.wait(timeout=10)
            answer = client.post(path, body, content_type="application/json", **headers)
            outcomes.append(answer.status_code)
        except Exception as exc:  # reported by the test's assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def deliver_concurrently(path: str, body: str, headers: dict) -> dict:
    outcomes = post_at_once(path, body.encode(), headers)
    return {
        "outcomes": outcomes,
        "messages": sorted(Message.objects.values_list("external_id", flat=True)),
        "deliveries": sorted(Delivery.objects.values_list("status", flat=True)),
        "stored": sum(Delivery.objects.values_list("message_count", flat=True)),
    }


def run(tmp_path: Path, path: str, body: bytes, headers: dict) -> dict:
    if connection.vendor != "sqlite":
        return deliver_concurrently(path, body.decode(), headers)
    snapshot = tmp_path / "caremgr.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(snapshot)])
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{snapshot}", "CAREMGR_TASKS_INLINE": "1"}
    env.pop("REDIS_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "caremgr.settings"
    arguments = json.dumps({"path": path, "body": body.decode(), "headers": headers})
    child = subprocess.run(
        [sys.executable, "-c", CHILD, arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_a_generic_delivery_store_one_message(tmp_path, tiers):
    account = make_account("generic", slug="acme")
    body = json.dumps(generic_message("m-concurrent", "Refund please")).encode()
    headers = {"HTTP_X_CAREMGR_SIGNATURE": hex_signature(account.secret, body)}

    seen = run(tmp_path, f"/webhooks/generic/{account.slug}/", body, headers)

    assert seen["outcomes"] == [200] * COPIES
    assert seen["messages"] == ["m-concurrent"]
    assert seen["deliveries"] == ["processed"] * COPIES
    assert seen["stored"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_copies_of_a_meta_batch_store_each_message_once(tmp_path, tiers):
    account = make_account("meta", slug="brand", own_ids=[meta.PAGE_ID])
    payload = meta.messaging(meta.messenger_message("m_a", "first"))
    second = meta.messenger_message("m_b", "second", sender="6783456238909999")
    payload["entry"].append({"id": meta.PAGE_ID, "time": 1, "messaging": [second]})
    body = json.dumps(payload).encode()
    headers = {"HTTP_X_HUB_SIGNATURE_256": meta.sign(account.secret, body)}

    seen = run(tmp_path, f"/webhooks/meta/{account.slug}/", body, headers)

    assert seen["outcomes"] == [200] * COPIES
    assert seen["messages"] == ["m_a", "m_b"]
    assert seen["deliveries"] == ["processed"] * COPIES
    assert seen["stored"] == 2
