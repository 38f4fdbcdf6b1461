"""Sustained webhook intake on the scale-out path: N ASGI processes on PostgreSQL + Redis,
M Celery workers draining the intake queue, and wrk as the load generator on loopback.

Prints deliveries/s and p50/p95/p99 acknowledgement latency, the floor measured in the same
run (an empty ASGI app served by the same server with the same process count), the time
the workers took to drain the queue, the CPU each part used, and checks the database:
every acknowledged delivery stored exactly once, processed, its message filed in a case.

    .venv/bin/python bench/webhook_load.py                        # PostgreSQL + Redis + Celery
    .venv/bin/python bench/webhook_load.py --db sqlite            # one process, inline intake
    .venv/bin/python bench/webhook_load.py --processes 3 --workers 2 --connections 16

Needs wrk (Debian: `apt-get install -y wrk`). PostgreSQL gets a database of its own beside
--pg-url, dropped afterwards; Redis is --redis-url (its intake list and Celery task queue
are emptied first and used, nothing else). Bounded: at most --deliveries requests and
--seconds of load.
"""

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webhook_bench import SECRET, free_port, payload

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).with_suffix(".lua")


def needs_wrk() -> None:
    """Stop with what to install when the load generator is missing."""
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install -y wrk (Debian/Ubuntu)")


def write_payloads(path: Path, prefix: str, count: int, twcs: list | None = None) -> None:
    """Unique signed generic deliveries (webhook_bench's), one customer in 997 writing each;
    with `twcs`, those customer tweets instead (ids prefixed, replies kept in their threads)."""
    start = datetime.now(UTC) - timedelta(days=1)
    with path.open("w") as out:
        for n in range(count):
            body = payload(n, start, prefix) if twcs is None else tweet(twcs[n], prefix)
            signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            out.write(f"X-Caremgr-Signature: sha256={signature}\t{body.decode()}\n")


def tweet(message, prefix: str) -> bytes:
    """A twcs customer tweet as bench/peer_helpdesk.py sends it, its ids under `prefix`."""
    return json.dumps(
        {
            "external_id": f"{prefix}-{message.external_id}",
            "author": {"id": message.author.external_id, "handle": message.author.handle},
            "text": message.text,
            "created_at": message.created_at.isoformat(),
            "in_reply_to": f"{prefix}-{message.in_reply_to}" if message.in_reply_to else "",
            "conversation_id": message.conversation_id,
            "public": True,
        }
    ).encode()


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU time of a process and all its descendants, from /proc; with `reaped`, also that
    of the descendants that ended and were waited for (a server's finished backends)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            if reaped:
                total += int(fields[13]) + int(fields[14])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port} after {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Stack:
    """The processes of one run, started with one environment."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]):
        self.args, self.env = args, env

    def manage(self, *argv: str, **env: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *argv],
            cwd=ROOT,
            env={**self.env, **env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def server(self, app: str, port: int, processes: int) -> subprocess.Popen:
        if self.args.server == "daphne":
            if processes != 1:
                raise SystemExit("daphne serves one process per port; use --server uvicorn")
            command = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
        else:
            command = ["-m", "uvicorn", app, "--port", str(port), "--workers", str(processes)]
            command += ["--no-access-log", "--log-level", "warning"]
            command += ["--loop", "uvloop", "--http", "httptools"]
        return subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.args.workdir / "server.log", "a"),
        )

    def worker(self, n: int) -> subprocess.Popen:
        command = ["nice", "-n", str(self.args.worker_nice), sys.executable, "-m", "celery"]
        command += ["-A", "caremgr", "worker", "--pool", "solo", "--loglevel", "WARNING"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        command += ["-n", f"load{n}@%h"]
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.args.workdir / f"worker{n}.log", "a"),
        )


def wrk_command(args, port: int, payloads: Path, seconds: float, path: str) -> list[str]:
    """wrk with webhook_load.lua over the lines of `payloads`, for at most `seconds`."""
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections)]
    command += ["-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(LUA)]
    return [*command, f"http://127.0.0.1:{port}{path}", "--", str(payloads), str(args.threads)]


def wrk_figures(output: str) -> dict:
    """The RESULT and LATENCY figures webhook_load.lua prints (latencies in µs), and the rate."""
    figures: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith(("RESULT ", "LATENCY ")):
            for pair in line.split()[1:]:
                key, value = pair.split("=")
                figures[key] = float(value)
    figures["rate"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def wrk(
    args,
    port: int,
    payloads: Path,
    seconds: float,
    ack_file: Path | None,
    path: str = "/webhooks/generic/bench/",
) -> dict:
    env = {**os.environ, "WRK_ACK_FILE": str(ack_file or "/dev/null")}
    command = wrk_command(args, port, payloads, seconds, path)
    return wrk_figures(
        subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    )


def describe(name: str, figures: dict) -> str:
    return (
        f"{name}: {figures['rate']:.0f} requests/s ({figures['requests']:.0f} in "
        f"{figures['duration_us'] / 1e6:.1f} s), p50 {figures['p50'] / 1000:.1f} ms, "
        f"p95 {figures['p95'] / 1000:.1f} ms, p99 {figures['p99'] / 1000:.1f} ms, "
        f"max {figures['max'] / 1000:.1f} ms"
    )


CHECK = """
import json, os
from django.db.models import Count
from inbox.models import Delivery, Message
acked = [int(x) for x in open(os.environ["ACK_FILE"]).read().split()]
messages = Message.objects.filter(delivery_id__in=acked)
doubled = (Message.objects.filter(external_id__startswith="load-").values("external_id")
           .annotate(n=Count("pk")).filter(n__gt=1).count())
print(json.dumps({
    "acked": len(acked), "distinct_acked": len(set(acked)),
    "stored_acked": Delivery.objects.filter(pk__in=acked).count(),
    "statuses": dict(Delivery.objects.filter(pk__in=acked).values_list("status")
                     .annotate(Count("pk"))),
    "messages_of_acked": messages.count(),
    "filed_of_acked": messages.filter(case__isnull=False).count(),
    "doubled": doubled,
    "waiting": Delivery.objects.filter(status="received").count(),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--processes", type=int, default=2, help="ASGI server processes")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--worker-nice", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--deliveries", type=int, default=20_000, help="at most this many")
    parser.add_argument("--seconds", type=float, default=20, help="at most this long")
    parser.add_argument("--floor-seconds", type=float, default=5)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--twcs",
        action="store_true",
        help="post twcs customer tweets (bench/peer_helpdesk.py's) instead of synthetic "
        "deliveries; at most 5,491 with the warm-up",
    )
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="keep the webhook rate limit on (raised as docs/deploy.md advises, counted in "
        "Redis), as bench/peer_scale.py does",
    )
    args = parser.parse_args()
    needs_wrk()
    args.workdir = Path(tempfile.mkdtemp(prefix="caremgr-load-"))

    env = {
        **os.environ,
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
        "CAREMGR_RATE_LIMITS": "false",  # one account at hundreds of deliveries a second
        "PYTHONPATH": str(ROOT),
    }
    if args.rate_limits:
        env.update(CAREMGR_RATE_LIMITS="true", CAREMGR_WEBHOOK_RATE_LIMIT="6000000/60")
    database = None
    if args.db == "postgres":
        database = f"caremgr_load_{uuid.uuid4().hex[:8]}"
        base = args.pg_url.rsplit("/", 1)[0]
        subprocess.run(["psql", args.pg_url, "-qc", f'CREATE DATABASE "{database}"'], check=True)
        env.update(
            DATABASE_URL=f"{base}/{database}",
            REDIS_URL=args.redis_url,
            CAREMGR_TASKS_INLINE="false",
        )
    else:
        env.pop("REDIS_URL", None)
        env.update(DATABASE_URL=f"sqlite:///{args.workdir / 'load.sqlite3'}")
        args.processes, args.workers = 1, 0
    stack = Stack(args, env)
    processes: list[subprocess.Popen] = []
    try:
        if args.db == "postgres":
            # Task messages and intake lists of earlier runs name deliveries of other databases.
            import redis

            conn = redis.Redis.from_url(args.redis_url)
            conn.delete("celery", *conn.keys("caremgr:intake:*"))
        stack.manage("migrate", "--noinput", "-v", "0")
        stack.manage("create_account", "generic", "bench", "--secret", SECRET, "--tier", "mid")
        payloads, warm, floor_payloads = (args.workdir / n for n in ("load", "warm", "floor"))
        twcs = twcs_warm = None
        if args.twcs:
            from peer_helpdesk import inbound_messages

            tweets = inbound_messages(5491)
            args.deliveries = min(args.deliveries, len(tweets) - 400 * args.processes)
            twcs, twcs_warm = tweets[: args.deliveries], tweets[args.deliveries :]
        write_payloads(payloads, "load", args.deliveries, twcs)
        write_payloads(warm, "warm", 400 * args.processes, twcs_warm)
        # The floor answers thousands a second: enough lines that it never runs out.
        write_payloads(floor_payloads, "floor", int(15_000 * args.floor_seconds))
        load_before = os.getloadavg()

        port = free_port()
        server = stack.server("bench.empty_asgi:app", port, args.processes)
        processes.append(server)  # stopped in `finally` should the floor fail
        wait_for_port(port, server)
        floor = wrk(args, port, floor_payloads, args.floor_seconds, None)
        stop(server)
        processes.remove(server)

        port = free_port()
        server = stack.server("caremgr.asgi:application", port, args.processes)
        processes.append(server)
        workers = [stack.worker(n) for n in range(args.workers)]
        processes.extend(workers)
        wait_for_port(port, server)
        wrk(args, port, warm, 3, None)  # imports, connections, the language detector
        if args.workers:
            wait_drained(env["DATABASE_URL"], 120)

        ack_file = args.workdir / "acked"
        cpu_before = {p.pid: cpu_seconds(p.pid) for p in processes}
        began = time.monotonic()
        load = wrk(args, port, payloads, args.seconds, ack_file)
        load_ended = time.monotonic()
        load_after = os.getloadavg()
        cpu_load = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in processes}
        drained_in = wait_drained(env["DATABASE_URL"], args.drain_timeout) if args.workers else 0.0
        cpu_all = {p.pid: cpu_seconds(p.pid) - cpu_before[p.pid] for p in processes}
        check = json.loads(
            stack.manage("shell", "-v", "0", "-c", CHECK, ACK_FILE=str(ack_file)).splitlines()[-1]
        )
    finally:
        for process in processes:
            stop(process)
        if database and not args.keep:
            subprocess.run(
                ["psql", args.pg_url, "-qc", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'],
                check=False,
            )

    server_cpu = cpu_load[server.pid]
    worker_cpu = sum(cpu_all[w.pid] for w in workers)
    mode = (
        f"PostgreSQL + Redis, {args.processes} {args.server} processes, "
        f"{args.workers} Celery worker(s) (solo pool, nice {args.worker_nice})"
        if args.db == "postgres"
        else f"SQLite, 1 {args.server} process, intake inline in the request"
    )
    print(f"mode: {mode}")
    print(
        f"load: wrk, {args.threads} thread(s), {args.connections} connections, on loopback; "
        f"{'twcs customer tweets' if args.twcs else 'synthetic deliveries'}, rate limits "
        f"{'on (6000000/60)' if args.rate_limits else 'off'}"
    )
    print(f"load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f} (2 cores)")
    print(
        describe("floor (empty ASGI app)", floor)
        + (" (ran out of lines: a lower bound)" if floor["exhausted"] else "")
    )
    print(describe("webhook", load))
    print(
        f"acknowledged: {load['acked']:.0f}, refused: {load['refused']:.0f}, "
        f"socket errors: {load['errors']:.0f}"
        + (" (a thread ran out of deliveries: raise --deliveries)" if load["exhausted"] else "")
    )
    print(
        f"server CPU per delivery during the load: {server_cpu / load['requests'] * 1000:.2f} ms; "
        f"workers: {worker_cpu / max(load['acked'], 1) * 1000:.2f} ms per delivery"
    )
    if args.workers:
        print(
            f"workers drained the queue {drained_in:.1f} s after the load ended "
            f"({load_ended - began + drained_in:.1f} s from first delivery to last filed)"
        )
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(check["statuses"].items()))
    print(
        f"database: {check['stored_acked']} of {check['distinct_acked']} acknowledged deliveries "
        f"stored ({statuses}); {check['messages_of_acked']} messages, "
        f"{check['filed_of_acked']} filed in a case; {check['doubled']} stored twice; "
        f"{check['waiting']} still waiting"
    )
    whole = (
        check["stored_acked"] == check["distinct_acked"] == check["acked"]
        and check["filed_of_acked"] == check["acked"]
        and check["doubled"] == 0
    )
    print("nothing lost or doubled" if whole else "LOST OR DOUBLED: see the line above")


def wait_drained(database_url: str, seconds: float) -> float:
    """Seconds until no delivery is waiting (status received), polled every 0.2 s."""
    import psycopg

    began = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        waiting = conn.execute(WAITING).fetchone()[0]
        with tqdm(total=waiting, desc="draining", unit="delivery", mininterval=1) as bar:
            while waiting and time.monotonic() - began < seconds:
                time.sleep(0.2)
                now_waiting = conn.execute(WAITING).fetchone()[0]
                bar.update(max(0, waiting - now_waiting))
                waiting = now_waiting
    return time.monotonic() - began


WAITING = "SELECT count(*) FROM inbox_delivery WHERE status = 'received'"


if __name__ == "__main__":
    main()
