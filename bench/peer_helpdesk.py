"""caremgr against its nearest open-source Django peer, django-helpdesk, measured the same way.

Installs django-helpdesk into a virtualenv of its own (never caremgr's), gives it a minimal
project (bench/peer/) on a fresh database of the same engine as caremgr's, and then, for each
system in turn on the same machine:

1. starts it with daphne, one process, like `manage.py serve`;
2. feeds it the same customer messages, the first N inbound tweets of the twcs excerpts, from a
   separate load process with the same number of keep-alive connections: caremgr through its
   signed generic webhook (the API a platform posts to, processed inline), helpdesk through
   its REST API (`POST /api/tickets/`, token auth), one message per request;
3. times its lists at that size, sequential requests: the API list (25 rows) and the page
   an agent works in (caremgr `/`, 100 rows; helpdesk's staff `/tickets/` page plus the
   datatables request that fills it, 100 rows).

Prints creation rate, latency and server CPU, list p50/p95, and the ratios, then optionally
profiles caremgr's intake in-process. Target: caremgr at least 10x helpdesk on both.

    flock /tmp/caremgr-bench.lock .venv/bin/python bench/peer_helpdesk.py [--messages 2000]
    flock /tmp/caremgr-bench.lock .venv/bin/python bench/peer_helpdesk.py --db postgres
    flock /tmp/caremgr-bench.lock .venv/bin/python bench/peer_helpdesk.py --deployment scale \
        --messages 5000 --concurrency 16

`--deployment scale` (PostgreSQL only) runs each system in its production deployment
instead of one daphne process: see bench/peer_scale.py.

On PostgreSQL the databases caremgr_peer_a and helpdesk_peer are recreated, and dropped at the
end unless --keep. The peer's virtualenv stays (default /tmp/caremgr-peer-venv) for the next run.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import io
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import admin_sql, cpu_model
from webhook_bench import free_port, percentile
from webhook_load import cpu_seconds
from ws_fanout_bench import Server, manage, session_cookie

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = ROOT.parent / "shared" / "data" / "twcs"
FILES = [DATA / "twcs_head5000.csv", DATA / "twcs_random5000.csv"]
HELPDESK_VERSION = "2.6.1"  # newest on PyPI that installs here (Python 3.11, Django 5.2)
GUNICORN_VERSION = "27.0.1"
SECRET = "peer-secret"
USER, PASSWORD = "peer-supervisor", "peer-pass-1"
TARGET = 10.0


@dataclass
class Side:
    """One system under test: how to start it, what to send it, what to time."""

    name: str
    command: list[str]
    env: dict
    cwd: Path
    creations: list[tuple[str, dict, bytes]] = field(default_factory=list)
    lists: dict[str, tuple[list[str], dict]] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    after_start: Callable[["Side"], None] | None = None

    def start(self, log: Path) -> None:
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/no-such-page/", timeout=1)
            except urllib.error.HTTPError:
                return  # a 404 answers: the server is up
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{log.read_text()[-2000:]}")

    stop = Server.stop  # terminate, then kill after 10 s: it only needs `process`


def peer_venv(path: Path) -> Path:
    """The peer's Python, installing django-helpdesk (plus caremgr's daphne and psycopg
    versions, so server and driver are the same) when they are missing."""
    python = path / "bin" / "python"
    wanted = {
        "django-helpdesk": HELPDESK_VERSION,
        "daphne": metadata.version("daphne"),
        "psycopg": metadata.version("psycopg"),
        # --deployment scale: caremgr's uvicorn, and gunicorn for the peer's WSGI app
        **{p: metadata.version(p) for p in ("uvicorn", "uvloop", "httptools")},
        "gunicorn": GUNICORN_VERSION,
    }
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    probe = "import importlib.metadata as m, sys; print(*(m.version(p) for p in sys.argv[1:]))"
    found = subprocess.run(
        [python, "-c", probe, *wanted], capture_output=True, text=True, check=False
    ).stdout.split()
    if found != list(wanted.values()):
        print(f"installing into {path}: " + ", ".join(f"{p}=={v}" for p, v in wanted.items()))
        packages = [f"{p}=={v}" for p, v in wanted.items()]
        packages[2] = f"psycopg[binary]=={wanted['psycopg']}"
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
            check=True,
            timeout=600,
        )
    return python


def inbound_messages(count: int) -> list:
    """The first `count` customer tweets of the twcs excerpts, as caremgr's importer reads them."""
    sys.path.insert(0, str(ROOT))
    from inbox.importers import twcs

    messages: list = []
    seen: set[str] = set()  # a tweet in both excerpts is one message (caremgr would dedupe it)
    for path in FILES:
        for batch in twcs.read(path, skip_bad=True):
            for message in batch:
                if message.direction == "in" and message.external_id not in seen:
                    seen.add(message.external_id)
                    messages.append(message)
            if len(messages) >= count:
                return messages[:count]
    if len(messages) < count:
        raise SystemExit(f"only {len(messages)} inbound messages in {', '.join(map(str, FILES))}")
    return messages


def generic_delivery(message) -> tuple[str, dict, bytes]:
    body = json.dumps(
        {
            "external_id": message.external_id,
            "author": {"id": message.author.external_id, "handle": message.author.handle},
            "text": message.text,
            "created_at": message.created_at.isoformat(),
            "in_reply_to": message.in_reply_to,
            "conversation_id": message.conversation_id,
            "public": True,
        }
    ).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Caremgr-Signature": signature}
    return "/webhooks/generic/peer/", headers, body


def helpdesk_ticket(message, queue: int, token: str) -> tuple[str, dict, bytes]:
    """The same message as a helpdesk ticket: its first words as the title, the customer as
    the submitter (helpdesk knows customers by e-mail address only)."""
    body = json.dumps(
        {
            "queue": queue,
            "title": message.text[:80] or "(no text)",
            "description": message.text or "(no text)",
            "submitter_email": f"{message.author.external_id}@customers.invalid",
            "priority": 3,
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Token {token}",
    }
    return "/api/tickets/", headers, body


def caremgr_side(url: str, messages: list) -> Side:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")},
        "DATABASE_URL": url,
        "SECRET_KEY": "peer-bench",
        "LOG_LEVEL": "WARNING",
        "CAREMGR_TASKS_INLINE": "true",
    }
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "create_account", "generic", "peer", "--secret", SECRET, "--tier", "mid")
    manage(env, "create_agent", USER, "--role", "supervisor", "--password", PASSWORD)
    token = manage(env, "drf_create_token", USER).split()[2]
    port = free_port()
    side = Side(
        "caremgr",
        [sys.executable, "manage.py", "serve", "--port", str(port), "--no-background"],
        env,
        ROOT,
        port=port,
    )
    side.creations = [generic_delivery(m) for m in messages]
    api = {"Authorization": f"Token {token}", "Accept": "application/json"}
    page: dict = {}
    side.lists = {
        "API list, 25 rows": (["/api/v1/cases/?page_size=25"], api),
        "agent page, 100 rows": (["/"], page),
    }

    def log_in(side: Side) -> None:  # through the login form, as a browser does
        page["Cookie"] = (
            f"sessionid={session_cookie(f'http://127.0.0.1:{side.port}', USER, PASSWORD)}"
        )

    side.after_start = log_in
    return side


def helpdesk_side(url: str, python: Path, messages: list) -> Side:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VIRTUAL_ENV")},
        "PEER_DATABASE_URL": url,
        "PYTHONPATH": str(BENCH),
        "DJANGO_SETTINGS_MODULE": "peer.settings",
    }
    peer = [str(python), "-m"]
    run = {"cwd": BENCH, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([*peer, "django", "migrate", "--noinput", "-v", "0"], timeout=300, **run)
    prepared = json.loads(subprocess.run([*peer, "peer.tools", "prepare"], **run).stdout)
    port = free_port()
    side = Side(
        "helpdesk",
        [*peer, "daphne", "-b", "127.0.0.1", "-p", str(port), "peer.asgi:application"],
        env,
        BENCH,
        port=port,
    )
    side.creations = [helpdesk_ticket(m, prepared["queue"], prepared["token"]) for m in messages]
    api = {"Authorization": f"Token {prepared['token']}", "Accept": "application/json"}
    page = {"Cookie": f"sessionid={prepared['session']}"}
    # The staff list page is a shell; its rows come from the datatables request it makes
    # with the page's default query (open and reopened tickets, oldest first), encoded as
    # helpdesk's query_to_base64 does. check_helpdesk_page() verifies the page asks for it.
    default = {"filtering": {"status__in": [1, 2]}, "sorting": "created", "search_string": ""}
    query = base64.b64encode(json.dumps({**default, "sortreverse": False}).encode()).decode()
    rows = f"/datatables_ticket_list/{query}?draw=1&start=0&length=100&search%5Bvalue%5D="
    side.lists = {
        "API list, 25 rows": (["/api/tickets/"], api),
        "agent page, 100 rows": (["/tickets/", rows], page),
    }
    return side


def send_all(port: int, requests: list, concurrency: int, seconds: float, queue) -> None:
    """Load process: POST every request over `concurrency` keep-alive connections, until done
    or `seconds` have passed; latency from send to the last byte of the answer."""
    from tqdm import tqdm

    latencies: list[float] = []
    errors: list[str] = []
    bar = tqdm(total=len(requests), unit="msg", desc="creating", mininterval=1)
    deadline = time.monotonic() + seconds

    def sender(share: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for path, headers, body in share:
            if time.monotonic() > deadline:
                break
            began = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                answer = conn.getresponse()
                content = answer.read()
                if answer.status not in (200, 201):
                    errors.append(f"{answer.status} {content[:200]!r}")
            except OSError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            latencies.append(time.perf_counter() - began)
            bar.update()

    threads = [
        threading.Thread(target=sender, args=(requests[i::concurrency],))
        for i in range(concurrency)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    bar.close()
    queue.put({"elapsed": elapsed, "latencies": sorted(latencies), "errors": errors})


def get_all(port: int, pid: int, lists: dict, repeat: int, queue) -> None:
    """Load process: each list `repeat` times after 3 warm-ups, sequentially; a sample is
    the paths of one entry fetched one after the other (a page and the rows it loads)."""
    from tqdm import tqdm

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    results = {}
    try:
        with tqdm(total=len(lists) * (repeat + 3), unit="req", desc="lists", mininterval=1) as bar:
            for name, (paths, headers) in lists.items():
                samples, cpu = [], 0.0
                for index in range(repeat + 3):
                    if index == 3:
                        cpu = cpu_seconds(pid)
                    began = time.perf_counter()
                    for path in paths:
                        conn.request("GET", path, headers=headers)
                        answer = conn.getresponse()
                        answer.read()
                        if answer.status != 200:
                            raise RuntimeError(f"GET {path}: {answer.status}")
                    if index >= 3:
                        samples.append(time.perf_counter() - began)
                    bar.update()
                results[name] = {
                    "samples": sorted(samples),
                    "cpu": (cpu_seconds(pid) - cpu) / repeat,
                }
    except Exception as exc:  # reported by the parent, which owns the cleanup
        results = {"error": f"{type(exc).__name__}: {exc}"}
    queue.put(results)


def in_process(target, *args, timeout: float):
    """Run one load function in its own process: the servers' CPU is not the client's."""
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=target, args=(*args, queue))
    worker.start()
    try:
        return queue.get(timeout=timeout)
    finally:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()


def measure(side: Side, options, workdir: Path) -> dict:
    side.start(workdir / f"{side.name}.log")
    try:
        if side.after_start:
            side.after_start(side)
        load_before = os.getloadavg()[0]
        cpu = cpu_seconds(side.process.pid)
        created = in_process(
            send_all,
            side.port,
            side.creations,
            options.concurrency,
            options.timeout,
            timeout=options.timeout + 120,
        )
        created["cpu"] = cpu_seconds(side.process.pid) - cpu
        created["sent"] = len(created["latencies"])
        lists = in_process(
            get_all, side.port, side.process.pid, side.lists, options.requests, timeout=900
        )
        if "error" in lists:
            raise RuntimeError(f"{side.name} lists: {lists['error']}")
        return {"create": created, "lists": lists, "load": (load_before, os.getloadavg()[0])}
    finally:
        side.stop()


def check_helpdesk_page(side: Side) -> None:
    """The staff page must ask for the rows URL this script times."""
    paths, headers = side.lists["agent page, 100 rows"]
    with urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{side.port}{paths[0]}", headers=headers)
    ) as answer:
        page = answer.read().decode()
    if paths[1].split("?")[0] not in page:
        raise RuntimeError("helpdesk's ticket list asks for other rows than the ones timed")


def stored(side: Side) -> str:
    """What each system holds after the feed, counted by its own code."""
    if side.name == "caremgr":
        return manage(
            side.env,
            "shell",
            "-v",
            "0",
            "-c",
            "from inbox.models import Message, Delivery; from cases.models import Case; "
            "print(f'{Message.objects.count()} messages in {Case.objects.count()} cases, '"
            "f\"{Delivery.objects.filter(status='processed').count()} deliveries processed\")",
        ).strip()
    peer = [side.command[0], "-m", "peer.tools"]
    run = {"cwd": BENCH, "env": side.env, "check": True, "capture_output": True, "text": True}
    counts = json.loads(subprocess.run([*peer, "count"], **run).stdout)
    return f"{counts['tickets']} tickets with {counts['followups']} follow-ups"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def list_rows(caremgr: dict, helpdesk: dict) -> list[tuple]:
    """Table rows for the lists timed on both sides: p50, p95 and server CPU of each."""
    rows = []
    for name in caremgr:
        cl, hl = caremgr[name], helpdesk[name]
        for share in (0.5, 0.95):
            cm, hm = percentile(cl["samples"], share), percentile(hl["samples"], share)
            rows.append((f"{name} p{round(share * 100)} (ms)", ms(cm), ms(hm), hm / cm))
        rows.append(
            (f"{name}, server CPU (ms)", ms(cl["cpu"]), ms(hl["cpu"]), hl["cpu"] / cl["cpu"])
        )
    return rows


def print_table(rows: list[tuple]) -> None:
    """`(label, caremgr, helpdesk, caremgr ×)` rows, each against the 10× target."""
    print(f"\n{'measure':<38} {'caremgr':>9} {'helpdesk':>9} {'caremgr ×':>10}  target 10×")
    for label, mine, peer, ratio in rows:
        verdict = "met" if ratio >= TARGET else "not met"
        print(f"{label:<38} {mine:>9} {peer:>9} {ratio:>9.1f}×  {verdict}")


def report(results: dict, options, versions: str) -> None:
    c, h = results["caremgr"], results["helpdesk"]
    print(
        f"\nmachine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}; "
        f"{versions}"
    )
    print(
        f"database: {options.db}; servers: 1 daphne process each, started the same way; "
        f"{options.messages} inbound twcs messages, {options.concurrency} connections"
    )
    for name, result in results.items():
        create = result["create"]
        print(
            f"{name}: load average {result['load'][0]:.2f} → {result['load'][1]:.2f}; "
            f"sent {create['sent']} in {create['elapsed']:.1f} s, {len(create['errors'])} errors"
            f"{' (first: ' + create['errors'][0] + ')' if create['errors'] else ''}; "
            f"stored: {result['stored']}"
        )
    rows = []

    def rate(result: dict) -> float:
        return result["create"]["sent"] / result["create"]["elapsed"]

    def cpu(result: dict) -> float:
        return result["create"]["cpu"] / max(result["create"]["sent"], 1)

    lat = {name: r["create"]["latencies"] for name, r in results.items()}
    rows.append(("creation rate (msg/s)", f"{rate(c):.1f}", f"{rate(h):.1f}", rate(c) / rate(h)))
    for share in (0.5, 0.95):
        label = f"creation p{round(share * 100)} (ms)"
        cm, hm = percentile(lat["caremgr"], share), percentile(lat["helpdesk"], share)
        rows.append((label, ms(cm), ms(hm), hm / cm))
    rows.append(("server CPU per message (ms)", ms(cpu(c)), ms(cpu(h)), cpu(h) / cpu(c)))
    print_table(rows + list_rows(c["lists"], h["lists"]))
    print(
        "caremgr ×: how many times faster caremgr is (rate ratio, or helpdesk's time over "
        "caremgr's)"
    )


AREAS = [  # (label, test on a profile entry's file and function name), first match wins
    ("caremgr sentiment/", lambda f, n: f.startswith(str(ROOT / "sentiment"))),
    ("caremgr inbox/ (webhook, store)", lambda f, n: f.startswith(str(ROOT / "inbox"))),
    ("caremgr cases/ (intake, threading, SLA…)", lambda f, n: f.startswith(str(ROOT / "cases"))),
    ("textblob / lingua / nltk", lambda f, n: any(p in f for p in ("textblob", "lingua", "nltk"))),
    ("database driver", lambda f, n: "sqlite" in (f + n).lower() or "psycopg" in f + n),
    ("Django ORM (django/db)", lambda f, n: "/django/db/" in f),
    ("DRF (live rows)", lambda f, n: "/rest_framework/" in f),
    ("channels / asgiref (live events)", lambda f, n: "/channels/" in f or "/asgiref/" in f),
    ("Django, other (request, test client)", lambda f, n: "/django/" in f),
    ("builtins (getattr, isinstance, locks…)", lambda f, n: f == "~"),
    ("other (stdlib: json, re, copy, …)", lambda f, n: True),
]


def profile_caremgr(url: str, messages: list, count: int) -> None:
    """In-process (django.test.Client, no server): queries and time per webhook, then where a
    profile of the same path spends it, by area."""
    import cProfile
    import pstats

    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="peer-bench",
        LOG_LEVEL="WARNING",
        CAREMGR_TASKS_INLINE="true",
        DJANGO_SETTINGS_MODULE="caremgr.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    call_command(
        "create_account",
        "generic",
        "peer",
        "--secret",
        SECRET,
        "--tier",
        "mid",
        stdout=io.StringIO(),
    )
    warnings.filterwarnings("ignore", message="No directory at")  # static files: not served here
    client = Client()

    def post(delivery) -> None:
        path, headers, body = delivery
        signature = headers["X-Caremgr-Signature"]
        answer = client.post(
            path, body, content_type="application/json", HTTP_X_CAREMGR_SIGNATURE=signature
        )
        assert answer.status_code == 200, answer.content

    deliveries = [generic_delivery(m) for m in messages[: count + 20]]
    for delivery in deliveries[:20]:  # warm-up: lazy imports, the language detector
        post(delivery)
    plain, profiled = deliveries[20 : 20 + count // 2], deliveries[20 + count // 2 :]
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        for delivery in plain:
            post(delivery)
        elapsed = time.perf_counter() - began
    print(
        f"\ncaremgr in-process, {connection.vendor}: {len(captured) / len(plain):.1f} queries "
        f"and {elapsed / len(plain) * 1000:.1f} ms per webhook ({len(plain)} webhooks)"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for delivery in profiled:
        post(delivery)
    profiler.disable()
    stats = pstats.Stats(profiler)
    areas = dict.fromkeys((label for label, _ in AREAS), 0.0)
    for (path, _, name), (_, _, own, _, _) in stats.stats.items():
        areas[next(label for label, test in AREAS if test(path, name))] += own
    total = sum(areas.values())
    print(f"where a webhook's time goes (own time by area, profiled over {len(profiled)}):")
    for label, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        print(f"  {label:<42} {seconds / total * 100:5.1f} %")
    print("  caremgr's own functions by inclusive time, ms per webhook (nested ones overlap):")
    ours = [str(ROOT / app) for app in ("caremgr", "inbox", "cases", "sentiment")]
    steps = [item for item in stats.stats.items() if item[0][0].startswith(tuple(ours))]
    for (path, line, name), (_, calls, _, inclusive, _) in sorted(
        steps, key=lambda item: -item[1][3]
    )[:15]:
        per = f"{inclusive / len(profiled) * 1000:6.2f}  {calls / len(profiled):4.1f}×"
        print(f"    {per}  {Path(path).relative_to(ROOT)}:{line}({name})")


def embedded(options, python: Path, sides: list, urls: dict, messages: list) -> None:
    """One daphne process each: creation, lists, the peer's probe, then caremgr's profile."""
    workdir = Path(options.workdir)
    results = {}
    for side in sides:
        print(f"\n{side.name}: {len(side.creations)} messages, then the lists", flush=True)
        results[side.name] = measure(side, options, workdir)
        results[side.name]["stored"] = stored(side)
    peer_probe = subprocess.run(
        [str(python), "-m", "peer.tools", "probe", "50"],
        cwd=BENCH,
        env=sides[1].env,
        capture_output=True,
        text=True,
        check=True,
    )
    report(results, options, versions(python))
    probe = json.loads(peer_probe.stdout)
    print(
        f"\nhelpdesk in-process: {probe['queries_per_ticket']:.1f} queries and "
        f"{probe['ms_per_ticket']:.1f} ms per API ticket (50 tickets); its API list of 25 "
        f"made {probe['list_queries']} queries at {options.messages + 50} tickets"
    )
    print("where a ticket's time goes (own time by area, profiled over the 50):")
    for label, share in sorted(probe["areas"].items(), key=lambda item: -item[1]):
        print(f"  {label:<42} {share:5.1f} %")
    if options.profile:
        if options.db == "postgres":
            admin_sql(options.pg_url, 'DROP DATABASE "caremgr_peer_a" WITH (FORCE)')
            admin_sql(options.pg_url, 'CREATE DATABASE "caremgr_peer_a"')
        else:
            urls["caremgr"] = f"sqlite:///{workdir / 'profile.sqlite3'}"
        profile_caremgr(urls["caremgr"], messages, options.profile)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help="default 2000 (max 5000)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections, default 4")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per list")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server; databases caremgr_peer_a and helpdesk_peer are made beside",
    )
    parser.add_argument("--peer-venv", type=Path, default=Path("/tmp/caremgr-peer-venv"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds per feed at most")
    parser.add_argument("--profile", type=int, default=300, help="webhooks profiled; 0: none")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    scale = parser.add_argument_group("--deployment scale (see bench/peer_scale.py)")
    parser.add_argument(
        "--deployment",
        choices=["embedded", "scale"],
        default="embedded",
        help="embedded: one daphne process each (default); scale: production deployments",
    )
    scale.add_argument("--processes", type=int, default=2, help="server processes, default 2")
    scale.add_argument("--caremgr-workers", type=int, default=2, help="Celery workers")
    scale.add_argument("--peer-server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    scale.add_argument("--peer-threads", type=int, default=4, help="threads per gunicorn worker")
    scale.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    scale.add_argument("--warm", type=int, default=400, help="warm-up messages, default 400")
    scale.add_argument(
        "--only",
        choices=["caremgr", "helpdesk"],
        help="run one side only (its own figures, no ratios): to study one system",
    )
    parser.add_argument(
        "--db-prefix", default="", help="prefix of the two PostgreSQL databases' names"
    )
    options = parser.parse_args()
    if options.deployment == "scale":
        options.db = "postgres"
        options.profile = 0
    else:
        options.warm = 0
        if options.only:
            parser.error("--only: with --deployment scale")
    if not 10 <= options.messages <= 5000 or not 1 <= options.concurrency <= 32:
        parser.error("--messages 10..5000, --concurrency 1..32")
    if options.messages + options.warm > 5491:
        parser.error("--messages + --warm: at most 5491 (the inbound tweets of the excerpts)")
    if not 1 <= options.requests <= 500 or not 0 <= options.profile <= 2000:
        parser.error("--requests 1..500, --profile 0..2000")

    python = peer_venv(options.peer_venv) if options.only != "caremgr" else Path(sys.executable)
    messages = inbound_messages(options.messages + options.warm)
    workdir = Path(tempfile.mkdtemp(prefix="caremgr-peer-"))
    options.workdir = workdir
    databases = {
        name: f"{options.db_prefix}{db}"
        for name, db in (("caremgr", "caremgr_peer_a"), ("helpdesk", "helpdesk_peer"))
        if options.only in (None, name)
    }
    if options.db == "postgres":
        parts = urlsplit(options.pg_url)
        urls = {k: urlunsplit(parts._replace(path=f"/{v}")) for k, v in databases.items()}
        for name in databases.values():
            admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin_sql(options.pg_url, f'CREATE DATABASE "{name}"')
    else:
        urls = {k: f"sqlite:///{workdir / f'{k}.sqlite3'}" for k in databases}
    try:
        sides = []
        if "caremgr" in urls:
            sides.append(caremgr_side(urls["caremgr"], messages))
        if "helpdesk" in urls:
            sides.append(helpdesk_side(urls["helpdesk"], python, messages))
            sides[-1].after_start = check_helpdesk_page
        if options.deployment == "scale":
            import peer_scale

            measured, warm = messages[: options.messages], messages[options.messages :]
            peer_scale.run(options, python, sides, measured, warm, urls)
            if options.only is None:
                print(f"versions: {versions(python)}")
        else:
            embedded(options, python, sides, urls, messages)
    finally:
        if options.db == "postgres" and not options.keep:
            from django.conf import settings

            if settings.configured:  # the in-process profile used caremgr_peer_a
                from django.db import connections

                connections.close_all()
            for name in databases.values():
                admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"command: .venv/bin/python bench/peer_helpdesk.py {' '.join(sys.argv[1:])}".rstrip())


def versions(python: Path) -> str:
    probe = (
        "import importlib.metadata as m; "
        "print(*(m.version(p) for p in ('django-helpdesk', 'Django', 'djangorestframework')))"
    )
    helpdesk, django, drf = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    mine = f"Django {metadata.version('Django')}, DRF {metadata.version('djangorestframework')}"
    return (
        f"caremgr: {mine}; django-helpdesk {helpdesk}: Django {django}, DRF {drf}; "
        f"daphne {metadata.version('daphne')} for both"
    )


if __name__ == "__main__":
    main()
