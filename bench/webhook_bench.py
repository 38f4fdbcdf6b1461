"""Webhook intake under load: a real server (daphne via `manage.py serve`) on a fresh
database, and a separate load-generator process on loopback sending signed generic
deliveries with a few concurrent connections. Prints deliveries/s and latency percentiles,
then checks that every message was stored exactly once.

    .venv/bin/python bench/webhook_bench.py [--deliveries 2000] [--concurrency 8]
    DATABASE_URL=postgres://... .venv/bin/python bench/webhook_bench.py   # another database
"""

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
TEXTS = [
    "My order still hasn't arrived, it's been two weeks. Where is it?",
    "Thanks a lot, the replacement came today and works perfectly!",
    "Ich warte seit Tagen auf eine Antwort, das ist wirklich ärgerlich.",
    "How do I reset my password? The link in the email doesn't work.",
    "Flight cancelled again and nobody answers the phone. I want a refund.",
    "Danke für die schnelle Hilfe, alles erledigt!",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payload(n: int, start: datetime, prefix: str = "bench") -> bytes:
    customer = n % 997
    return json.dumps(
        {
            "external_id": f"{prefix}-{n}",
            "author": {
                "id": f"c{customer}",
                "handle": f"customer{customer}",
                "followers": customer * 7,
            },
            "text": TEXTS[n % len(TEXTS)],
            "created_at": (start + timedelta(seconds=n)).isoformat(),
            "public": n % 3 == 0,
        }
    ).encode()


def sender(port: int, numbers: list[int], start: datetime, out) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    for n in numbers:
        body = payload(n, start)
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        began = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/webhooks/generic/bench/",
                body,
                {
                    "Content-Type": "application/json",
                    "X-Caremgr-Signature": signature,
                },
            )
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                errors += 1
        except OSError:
            errors += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - began)
    out.extend(latencies)
    out.append(("errors", errors))


def load(port: int, deliveries: int, concurrency: int, queue) -> None:
    """Runs in its own process: the server's CPU is not shared with the client's GIL."""
    start = datetime.now(UTC) - timedelta(days=1)
    results: list = []
    threads = [
        threading.Thread(
            target=sender, args=(port, list(range(i, deliveries, concurrency)), start, results)
        )
        for i in range(concurrency)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    errors = sum(r[1] for r in results if isinstance(r, tuple))
    latencies = sorted(r for r in results if not isinstance(r, tuple))
    queue.put((elapsed, errors, latencies))


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, round(share * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="caremgr-bench-"))
    env = {**os.environ, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "create_account", "generic", "bench", "--secret", SECRET, "--tier", "mid"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*manage, "serve", "--port", str(port), "--no-background"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        queue = multiprocessing.Queue()
        generator = multiprocessing.Process(
            target=load, args=(port, args.deliveries, args.concurrency, queue)
        )
        generator.start()
        elapsed, errors, latencies = queue.get()
        generator.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
    stored = subprocess.run(
        [
            *manage,
            "shell",
            "-v",
            "0",
            "-c",
            "from inbox.models import Message, Delivery; "
            "print(Message.objects.count(), Delivery.objects.filter(status='processed').count())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    backend = env["DATABASE_URL"].split(":", 1)[0]
    print(f"database: {backend}; server: 1 daphne process, processing inline after commit")
    print(f"deliveries: {args.deliveries} with {args.concurrency} connections in {elapsed:.1f} s")
    print(f"throughput: {args.deliveries / elapsed:.0f} deliveries/s; errors: {errors}")
    print(
        f"latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"mean {statistics.fmean(latencies) * 1000:.1f} ms"
    )
    print(
        f"stored: {stored[0]} messages, {stored[1]} deliveries processed "
        f"(expected {args.deliveries} each)"
    )


if __name__ == "__main__":
    main()
