"""Live fan-out: webhook accepted → `case.created` / `message.created` on N WebSocket clients.

Starts real servers (`manage.py serve`, daphne) on a database of their own, logs one supervisor
in through the login form and opens N sockets with that session from a separate client process
(asyncio + websockets). Then posts M signed webhooks, ~100 ms apart, and measures from just
before each POST to each client's receipt of the first frame carrying that message's marker.
The floor is a bare `{"type": "ping"}` → pong round trip on one socket, in the same run.

    .venv/bin/python bench/ws_fanout_bench.py [--clients 100] [--deliveries 50]     # memory
    .venv/bin/python bench/ws_fanout_bench.py --mode redis                         # 2 servers

`--mode memory`: one server, in-memory channel layer, SQLite in a temp file.
`--mode redis`: two servers sharing a temp PostgreSQL database (created and dropped here) and
Redis (db 7 by default, flushed at start and end), intake inline (CAREMGR_TASKS_INLINE=true);
clients alternate between the servers, webhooks go to server one. Loopback only; the whole
run is bounded by --timeout.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import admin_sql, cpu_model
from webhook_bench import free_port, percentile

ROOT = Path(__file__).resolve().parents[1]
SECRET = "fanout-secret"
USER, PASSWORD = "fanout-supervisor", "fanout-pass-1"
MARKER = re.compile(r"FANOUT#(\d+)#")
TEXTS = [
    "My order still hasn't arrived, it's been two weeks. Where is it?",
    "Flight cancelled again and nobody answers the phone. I want a refund.",
    "How do I reset my password? The link in the email doesn't work.",
]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(values: list[float]) -> str:
    values = sorted(values) or [float("nan")]
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"p50 {ms(p50)}, p95 {ms(p95)}, max {ms(values[-1])}"


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One `manage.py serve` process (daphne), by default without the background thread
    (SLA monitor and outbox) that `make run` starts beside it."""

    def __init__(self, env: dict, workdir: Path, name: str, *, background: bool = False):
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"{name}.log"
        self.process = None
        self.options = [] if background else ["--no-background"]

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--port", str(self.port), *self.options],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/accounts/login/", timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """Terminate a process; kill it if it has not ended after `timeout` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def manage(env: dict, *args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def session_cookie(url: str, username: str = USER, password: str = PASSWORD) -> str:
    """Log in through the login form, as a browser does."""
    import httpx

    with httpx.Client(base_url=url, follow_redirects=False, timeout=10) as client:
        client.get("/accounts/login/")
        form = {"username": username, "password": password}
        form["csrfmiddlewaretoken"] = client.cookies["csrftoken"]
        answer = client.post(
            "/accounts/login/", data=form, headers={"Referer": url + "/accounts/login/"}
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login failed with {answer.status_code}")
        return client.cookies["sessionid"]


async def run_clients(options: dict) -> dict:
    """The client side: N sockets, the ping floor, then the timed deliveries."""
    import httpx
    import websockets

    n_clients, n_deliveries = options["clients"], options["warmup"] + options["deliveries"]
    received = [[None] * n_clients for _ in range(n_deliveries)]
    pongs: list[asyncio.Future] = []
    headers = {"Cookie": f"sessionid={options['cookie']}", "Origin": "http://127.0.0.1"}

    async def reader(index: int, socket) -> None:
        async for raw in socket:
            now = time.perf_counter()
            found = MARKER.search(raw)
            if found:
                n = int(found.group(1))
                if n < n_deliveries and received[n][index] is None:
                    received[n][index] = now
            elif index == 0 and '"pong"' in raw and pongs and not pongs[-1].done():
                pongs[-1].set_result(now)

    began = time.perf_counter()
    sockets = []
    for index in range(n_clients):
        url = options["ws_urls"][index % len(options["ws_urls"])]
        sockets.append(await websockets.connect(url, additional_headers=headers, open_timeout=10))
    connect_seconds = time.perf_counter() - began
    readers = [asyncio.create_task(reader(i, s)) for i, s in enumerate(sockets)]
    await asyncio.sleep(0.5)  # every consumer has joined its groups before accept(); settle

    sent_at, answers, errors = [], [], 0

    async def deliver(client, n: int) -> None:
        nonlocal errors
        run = options["run"]
        body = json.dumps(
            {
                "external_id": f"fanout-{run}-{n}",
                "author": {"id": f"fan-{run}-{n}", "handle": f"fan{n}", "followers": 100 + n},
                "text": f"FANOUT#{n}# {TEXTS[n % len(TEXTS)]}",
                "created_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = client.build_request(
            "POST",
            "/webhooks/generic/fanout/",
            content=body,
            headers={"Content-Type": "application/json", "X-Caremgr-Signature": signature},
        )
        start = time.perf_counter()
        sent_at.append(start)
        answer = await client.send(request)
        answers.append(time.perf_counter() - start)
        errors += answer.status_code != 200
        await asyncio.sleep(max(0.0, start + options["interval"] - time.perf_counter()))

    async def settle(rows: list) -> None:
        deadline = time.perf_counter() + options["settle"]
        while time.perf_counter() < deadline and any(None in row for row in rows):
            await asyncio.sleep(0.05)

    warm = options["warmup"]
    async with httpx.AsyncClient(base_url=options["post_url"], timeout=10) as client:
        for n in range(warm):  # first requests import and build lazily: not measured
            await deliver(client, n)
        await settle(received[:warm])
        floor = []
        for _ in range(options["pings"]):
            pongs.append(asyncio.get_running_loop().create_future())
            sent = time.perf_counter()
            await sockets[0].send('{"type": "ping"}')
            floor.append(await asyncio.wait_for(pongs[-1], 5) - sent)
        cpu_before = cpu_snapshot(options)
        for n in range(warm, n_deliveries):
            await deliver(client, n)
        await settle(received)
    cpu = {k: v - cpu_before[k] for k, v in cpu_snapshot(options).items()}
    for socket in sockets:
        await socket.close()
    for task in readers:
        task.cancel()
    latencies = [
        [at - sent_at[n] if at is not None else None for at in row]
        for n, row in enumerate(received)
    ]
    return {
        "connect": connect_seconds,
        "floor": floor,
        "warmup": latencies[:warm],
        "latencies": latencies[warm:],
        "answers": answers[warm:],
        "errors": errors,
        "cpu": cpu,
    }


def cpu_snapshot(options: dict) -> dict:
    """CPU seconds so far of this process, each server and Redis (when used)."""
    snapshot = {"client": time.process_time()}
    for k, pid in enumerate(options["server_pids"]):
        snapshot[f"server {k + 1}"] = process_cpu(pid)
    if options["redis_url"]:
        snapshot["Redis"] = redis_cpu(options["redis_url"])
    return snapshot


def client_process(options: dict, queue) -> None:
    """Runs in its own process so the clients never share a GIL with a server."""
    try:
        result = asyncio.run(asyncio.wait_for(run_clients(options), options["timeout"]))
    except Exception as exc:  # reported by the parent, which owns the cleanup
        result = {"error": f"{type(exc).__name__}: {exc}"}
    queue.put(result)


def report(result: dict, options, servers: list[Server], label: str) -> None:
    n_servers = len(servers)
    floor = sorted(result["floor"])
    flat = [x for row in result["latencies"] for x in row if x is not None]
    lost = sum(x is None for row in result["latencies"] for x in row)
    print(label)
    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{versions(options)}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"clients: {options.clients} sockets of one supervisor session, connected in "
        f"{ms(result['connect'])}, one client process (asyncio + websockets)"
    )
    print(
        f"floor, ping → pong on one socket ({len(floor)} round trips): "
        f"p50 {ms(percentile(floor, 0.5))}, p95 {ms(percentile(floor, 0.95))}"
    )
    print(
        f"fan-out, just before POST → matching frame, {options.deliveries} deliveries × "
        f"{options.clients} clients = {len(flat)} receipts, {lost} missing:"
    )
    print(f"  all receipts: {spread(flat)}")
    if n_servers > 1:
        for k, server in enumerate(servers):
            mine = [x for row in result["latencies"] for x in row[k::n_servers] if x is not None]
            print(f"  clients on server {k + 1} (port {server.port}): {spread(mine)}")
    firsts = [min(x for x in row if x is not None) for row in result["latencies"] if any(row)]
    lasts = [max(x for x in row if x is not None) for row in result["latencies"] if any(row)]
    print(f"  per delivery, first client: {spread(firsts)}")
    print(f"  per delivery, last client:  {spread(lasts)}")
    for n, row in enumerate(result["warmup"]):
        got = [x for x in row if x is not None]
        print(f"  warm-up delivery {n + 1} (not counted): last client {ms(max(got, default=0))}")
    print(f"webhook POST answered (intake inline, before the answer): {spread(result['answers'])}")
    print(f"webhook errors: {result['errors']}")
    parts = [
        f"{name} {used:.2f} s ({used / options.deliveries * 1000:.1f} ms/delivery)"
        for name, used in result["cpu"].items()
    ]
    print(f"CPU during the deliveries: {', '.join(parts)}")


def versions(options) -> str:
    if options.mode == "memory":
        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg
    import redis

    with psycopg.connect(options.pg_url) as connection:
        number = connection.info.server_version
    server = redis.Redis.from_url(options.redis_url).info("server")["redis_version"]
    return f"PostgreSQL {number // 10000}.{number % 100}, Redis {server}"


def redis_cpu(url: str) -> float:
    import redis

    info = redis.Redis.from_url(url).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["memory", "redis"], default="memory")
    parser.add_argument("--clients", type=int, default=100, help="sockets (default 100)")
    parser.add_argument("--deliveries", type=int, default=50, help="webhooks (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured first webhooks")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between webhooks")
    parser.add_argument("--pings", type=int, default=200, help="round trips for the floor")
    parser.add_argument("--timeout", type=float, default=180, help="bound of the whole run, s")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server for --mode redis (a temp database is created beside)",
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/7", help="--mode redis; FLUSHED at start/end"
    )
    options = parser.parse_args()
    deadline = time.monotonic() + options.timeout
    if not 1 <= options.clients <= 2000 or not 1 <= options.deliveries <= 1000:
        parser.error("--clients 1..2000, --deliveries 1..1000")

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-fanout-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "SECRET_KEY": "fanout-bench",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "caremgr.settings",
        "CAREMGR_GENERIC_API_BASE": "http://127.0.0.1:9/unreachable",
    }
    pg_name, n_servers = None, 1
    label = "mode memory: 1 daphne process, in-memory channel layer, SQLite, intake inline"
    if options.mode == "memory":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'fanout.sqlite3'}"
    else:
        import redis

        pg_name = f"caremgr_fanout_{uuid.uuid4().hex[:8]}"
        admin_sql(options.pg_url, f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = options.pg_url.rsplit("/", 1)[0] + "/" + pg_name
        env["REDIS_URL"] = options.redis_url
        env["CAREMGR_TASKS_INLINE"] = "true"
        redis.Redis.from_url(options.redis_url).flushdb()
        label = (
            "mode redis: 2 daphne processes, Redis channel layer, PostgreSQL, intake inline "
            "(CAREMGR_TASKS_INLINE=true); webhooks to server 1, clients alternate"
        )
        n_servers = 2
    servers = [Server(env, workdir, f"server{k + 1}") for k in range(n_servers)]
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "create_agent", USER, "--role", "supervisor", "--password", PASSWORD)
        manage(env, "create_account", "generic", "fanout", "--secret", SECRET)
        for server in servers:
            server.start()
        run_options = {
            "clients": options.clients,
            "deliveries": options.deliveries,
            "warmup": options.warmup,
            "interval": options.interval,
            "pings": options.pings,
            "settle": 10.0,
            "timeout": deadline - time.monotonic() - 10,
            "cookie": session_cookie(servers[0].url),
            "ws_urls": [f"ws://127.0.0.1:{s.port}/ws/inbox/" for s in servers],
            "post_url": servers[0].url,
            "run": uuid.uuid4().hex[:6],
            "server_pids": [s.process.pid for s in servers],
            "redis_url": options.redis_url if options.mode == "redis" else None,
        }
        load_before = os.getloadavg()[0]
        queue = multiprocessing.Queue()
        clients = multiprocessing.Process(target=client_process, args=(run_options, queue))
        clients.start()
        try:
            result = queue.get(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            clients.join(timeout=5)
            if clients.is_alive():
                clients.terminate()
        if "error" in result:
            raise RuntimeError(f"client process failed: {result['error']}")
        print(f"load average at the start {load_before:.2f}")
        report(result, options, servers, label)
        print(f"command: .venv/bin/python bench/ws_fanout_bench.py {' '.join(sys.argv[1:])}")
    finally:
        for server in servers:
            server.stop()
        if pg_name:
            admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        if options.mode == "redis":
            import redis

            redis.Redis.from_url(options.redis_url).flushdb()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
