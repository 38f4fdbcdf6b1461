"""What the fault tests share: a prepared real server, raw webhook posts that report any
status, a database of their own on PostgreSQL, and waiting for a condition with a bound."""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import ROOT, Server

SECRET = "fault-secret"
AGENT, PASSWORD = "dana", "dana-pass-1"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def message(external_id: str, text: str = "Where is my refund?", **fields) -> dict:
    item = {
        "external_id": external_id,
        "author": {"id": "c-1", "handle": "kim", "name": "Kim", "followers": 300},
        "text": text,
        "created_at": datetime.now(UTC).isoformat(),
    }
    item.update(fields)
    return item


PREPARE = """
import sys, django
django.setup()
from django.core.management import call_command
agent, password, secret, tier = sys.argv[1:]
call_command("migrate", interactive=False, verbosity=0)
call_command("create_agent", agent, "--role=agent", "--team=care", "--password=" + password)
call_command(
    "create_account", "generic", "shop", "--secret=" + secret, "--team=care", "--tier=" + tier
)
"""
_prepared: dict[str, Path] = {}  # tier → a prepared SQLite file, copied for each test


def prepare(server: Server, *, tier: str = "mid") -> None:
    """Migrate, one agent in team `care`, one generic account `shop` of that team.

    One process does all three (each start of Django costs seconds on a busy machine), and a
    prepared SQLite database is copied rather than made again.
    """
    url = server.env["DATABASE_URL"]
    target = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    template = _prepared.get(tier)
    if target is not None and template is not None:
        _copy_sqlite(template, target)
        return
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, AGENT, PASSWORD, SECRET, tier],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{done.stderr[-3000:]}")
    if target is not None:
        folder = tempfile.mkdtemp(prefix="caremgr-fault-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Path(folder) / f"{tier}.sqlite3"
        _copy_sqlite(target, template)
        _prepared[tier] = template


def _copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def start(server: Server) -> list[bytes]:
    """Start the server and keep reading what it prints (a full pipe would stall it)."""
    server.start()
    output: list[bytes] = []

    def drain() -> None:
        for line in server.process.stdout:
            output.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return output


def celery_worker(env: dict[str, str]) -> subprocess.Popen:
    """A real Celery worker (one process, no prefork) with the server's environment."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "caremgr",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def signed(payload: Any, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Caremgr-Signature": signature}


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 30) -> Answer:
    """POST and return whatever came back, error statuses included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def get(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10) -> Answer:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def deliver(server: Server, payload: Any, *, slug: str = "shop") -> Answer:
    body, headers = signed(payload)
    return post(f"{server.url}/webhooks/generic/{slug}/", body, headers)


def wait_until(condition: Callable[[], Any], *, seconds: float, what: str) -> Any:
    """Poll `condition` until it returns something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.2)


@pytest.fixture
def own_postgres(needs_postgres):
    """A PostgreSQL database of the test's own (the server runs in another process)."""
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"caremgr_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
