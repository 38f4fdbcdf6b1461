"""Inbox list speed: the case list API and the inbox page over N cases, through a real server.

Builds N realistic cases (the generator of bench/report_bench.py, plus a contact and a message
per case for the previews) in a database of its own, starts `manage.py serve` (daphne) and
times each request from a separate client process (httpx, a supervisor's session cookie):
p50/p95 wall time and the server's CPU per request. The floor is an empty ASGI request in the
same run. Then the same requests run once in-process (django.test.Client) to count their
queries at page sizes 10, 50 and 200; on PostgreSQL the list query is EXPLAINed.
Target: inbox list API p95 < 50 ms at 100k cases on PostgreSQL.

    .venv/bin/python bench/list_bench.py                            # PostgreSQL, 100,000 cases
    .venv/bin/python bench/list_bench.py --db sqlite --cases 20000  # SQLite, a temp file

On PostgreSQL the data goes into a temp database beside --pg-url, dropped at the end.
"""

import argparse
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import admin_sql, cpu_model, database_label, realistic_case, setup_django
from webhook_bench import percentile
from ws_fanout_bench import Server, manage, process_cpu, session_cookie

BATCH = 5000
USER, PASSWORD = "list-supervisor", "list-pass-1"
API = "/api/v1/cases/"
REQUESTS = {
    "list, ?page_size=1 (fixed cost)": API + "?page_size=1",
    "list, default ordering (-updated_at)": API,
    "list, ?ordering=priority": API + "?ordering=priority",
    "list, ?ordering=sla_due": API + "?ordering=sla_due",
    "list, ?status=open&tier=high": API + "?status=open&tier=high",
    "list, ?assignee=none": API + "?assignee=none",
    "inbox page GET /": "/",
}
FLOORS = {
    "floor: GET /accounts/login/, no session": "/accounts/login/",
    "floor: 404, no session": "/no-such-page/",
}
TEXTS = [
    "My order still hasn't arrived, it's been two weeks. Where is it? Order #{n}",
    "Thanks a lot, the replacement came today and works perfectly!",
    "Ich warte seit Tagen auf eine Antwort, das ist wirklich ärgerlich.",
    "How do I reset my password? The link in the email doesn't work.",
    "Flight {n} cancelled again and nobody answers the phone. I want a refund.",
    "@brand your app logs me out every time I open it, please fix",
    "¿Dónde está mi pedido? Llevo una semana esperando.",
]


def build(count: int, now: datetime, seed: int = 11) -> None:
    """`count` cases over the year before `now`, each with its first inbound message."""
    from django.contrib.auth import get_user_model
    from tqdm import tqdm

    from cases.models import Case, Status, Team
    from inbox.models import Account, Contact, Message

    rng = random.Random(seed)
    User = get_user_model()
    accounts = Account.objects.bulk_create(
        Account(platform="generic", slug=f"brand-{i}", secret="s") for i in range(8)
    )
    teams = Team.objects.bulk_create(Team(name=f"Team {i}", slug=f"team-{i}") for i in range(6))
    agents = User.objects.bulk_create(User(username=f"agent{i}", password="!") for i in range(40))
    contacts = Contact.objects.bulk_create(
        (
            Contact(channel="generic", external_id=f"c{i}", handle=f"customer_{i}")
            for i in range(count // 2 + 1)
        ),
        batch_size=BATCH,
    )
    tiers, weights = ["tech", "low", "mid", "high"], [0.15, 0.35, 0.35, 0.15]
    year = 365 * 86400
    with tqdm(total=count, unit="case", desc="cases + messages") as bar:
        for offset in range(0, count, BATCH):
            cases = []
            for index in range(offset, min(offset + BATCH, count)):
                created = now - timedelta(seconds=max(year * (1 - index / count), 0))
                case, _ = realistic_case(
                    rng, created, tiers, weights, accounts, teams, agents, contacts
                )
                target = case.first_response_due - created
                text = rng.choice(TEXTS).format(n=index)
                case.last_message_at, case.last_message_preview = created, text
                case.last_message_direction, case.message_count, case.inbound_count = "in", 1, 1
                case.priority_score = rng.randint(0, 100)
                case.updated_at = min(
                    now, max(t for t in (created, case.first_response_at, case.resolved_at) if t)
                )
                if case.status == Status.CLOSED:
                    case.closed_at = case.updated_at
                if case.status in (Status.NEW, Status.OPEN, Status.PENDING):
                    case.resolution_due = created + target * 12
                    waiting = case.first_response_due if not case.first_response_at else None
                    case.sla_due = min(t for t in (waiting, case.resolution_due) if t)
                cases.append(case)
            Case.objects.bulk_create(cases, batch_size=BATCH)
            Message.objects.bulk_create(
                (
                    Message(
                        account=case.account,
                        contact=case.contact,
                        case=case,
                        external_id=f"m{case.pk}",
                        channel=case.channel,
                        direction="in",
                        text=case.last_message_preview,
                        author_external_id=case.contact.external_id,
                        author_handle=case.contact.handle,
                        created_at=case.created_at,
                        sentiment_label=case.sentiment,
                    )
                    for case in cases
                ),
                batch_size=BATCH,
            )
            bar.update(len(cases))


def walk(client, pages: int) -> list[str]:
    """The URLs of the first `pages` pages of the default list, following next links."""
    urls, url = [], API
    for _ in range(pages):
        urls.append(url)
        url = client.get(url).raise_for_status().json()["next"]
        if url is None:
            break
    return urls


def timed(client, path: str) -> tuple[float, int]:
    began = time.perf_counter()
    answer = client.get(path)
    wall = time.perf_counter() - began
    if answer.status_code not in (200, 404):
        raise RuntimeError(f"GET {path}: {answer.status_code}")
    return wall, len(answer.content)


def load(base: str, cookie: str, pid: int, extra: dict, options: tuple, queue) -> None:
    """Runs in its own process: sequential requests, each timed from send to last byte.

    The server's CPU (daphne is one process) is read from /proc around each batch: its clock
    ticks are 10 ms, too coarse for one request."""
    import httpx

    repeat, pages = options
    results = {}
    try:
        with (
            httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=30) as client,
            httpx.Client(base_url=base, timeout=30) as anonymous,
        ):
            jobs = [(name, anonymous, [path]) for name, path in FLOORS.items()]
            jobs += [(name, client, [path]) for name, path in {**REQUESTS, **extra}.items()]
            jobs.append((f"list, cursor walk pages 1–{pages}", client, walk(client, pages)))
            for name, session, paths in jobs:
                for path in paths * 3:  # warm-up
                    timed(session, path)
                cpu = process_cpu(pid)
                samples = [timed(session, path) for _ in range(repeat) for path in paths]
                cpu = (process_cpu(pid) - cpu) / len(samples)
                results[name] = (samples, cpu)
                if len(paths) > 1:
                    deepest = samples[len(paths) - 1 :: len(paths)]
                    results[f"list, cursor page {len(paths)} alone"] = (deepest, None)
    except Exception as exc:  # reported by the parent, which owns the cleanup
        results = {"error": f"{type(exc).__name__}: {exc}"}
    queue.put(results)


def query_counts(pages: int, extra: dict) -> list[tuple[str, list[int], str]]:
    """(request, queries at page sizes 10/50/200, SQL of the case list query) in-process."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=USER))
    rows = []
    deep = walk(client_adapter(client), pages)[-1]
    for name, path in [*REQUESTS.items(), (f"list, cursor page {pages}", deep), *extra.items()]:
        if "page_size" in path:
            continue
        counts, sql = [], ""
        for size in (10, 50, 200):
            joiner = "&" if "?" in path else "?"
            url = path if path == "/" else f"{path}{joiner}page_size={size}"
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, url
            counts.append(len(queries))
            listing = [q["sql"] for q in queries if 'FROM "cases_case"' in q["sql"]]
            if listing and (size == 50 or path == "/"):
                sql = listing[-1]
            if path == "/":
                break
        rows.append((name, counts, sql))
    return rows


def middle_cursor(row: int) -> str:
    """The default list from row `row` on: how the keyset query fares deep in the inbox."""
    from cases.api.pagination import CaseKeysetPagination
    from cases.models import Case

    values = Case.objects.order_by("-updated_at", "-id").values_list("updated_at", "id")[row]
    return f"{API}?cursor={CaseKeysetPagination._encode(list(values))}"


def client_adapter(client):
    """django.test.Client with httpx's `.get(url).raise_for_status().json()` surface."""

    class Adapter:
        def get(self, url):
            answer = client.get(url.replace("http://testserver", ""))
            answer.raise_for_status = lambda: answer
            return answer

    return Adapter()


def explain(sql: str, full: bool) -> list[str]:
    """The plan of one list query: on PostgreSQL its nodes and execution time."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [row[0] for row in cursor.fetchall()]
    if full:
        return plan
    keep = ("on cases_case", "Sort", "Limit", "Unique", "Rows Removed", "Filter", "Execution")
    plan = [line for line in plan if any(word in line for word in keep) and "Hash" not in line]
    return [line.strip()[:120] for line in plan]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="default 100000")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per line")
    parser.add_argument("--pages", type=int, default=5, help="depth of the cursor walk")
    parser.add_argument("--explain", action="store_true", help="print whole query plans")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (a temp database is created beside)",
    )
    options = parser.parse_args()
    if not 1 <= options.cases <= 5_000_000 or not 1 <= options.requests <= 1000:
        parser.error("--cases 1..5,000,000, --requests 1..1000")

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-list-"))
    pg_name = None
    if options.db == "postgres":
        pg_name = f"caremgr_list_{uuid.uuid4().hex[:8]}"
        admin_sql(options.pg_url, f'CREATE DATABASE "{pg_name}"')
        url = options.pg_url.rsplit("/", 1)[0] + "/" + pg_name
    else:
        url = f"sqlite:///{workdir / 'list.sqlite3'}"
    server = None
    try:
        server = run(url, workdir, options)
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        if pg_name and options.keep:
            print(f"kept database {pg_name}")
        elif pg_name:
            admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


def run(url: str, workdir: Path, options) -> Server:
    setup_django(url)  # also migrates
    from django.db import connection, connections

    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "caremgr.settings",
    }
    manage(env, "create_agent", USER, "--role", "supervisor", "--password", PASSWORD)
    started = time.perf_counter()
    build(options.cases, datetime.now(UTC))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {options.cases} cases + messages in {time.perf_counter() - started:.1f} s")
    label = database_label(connection)
    extra = {f"list, cursor after row {options.cases // 2}": middle_cursor(options.cases // 2)}
    connections.close_all()

    server = Server(env, workdir, "server")
    server.start()
    load_before = os.getloadavg()
    queue = multiprocessing.Queue()
    args = (server.url, session_cookie(server.url, USER, PASSWORD), server.process.pid)
    client = multiprocessing.Process(
        target=load, args=(*args, extra, (options.requests, options.pages), queue)
    )
    client.start()
    try:
        results = queue.get(timeout=900)
    finally:
        client.join(timeout=5)
        if client.is_alive():
            client.terminate()
    if "error" in results:
        raise RuntimeError(f"client process failed: {results['error']}")
    load_after = os.getloadavg()
    server.stop()

    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{label}; load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end"
    )
    print(
        f"server: 1 daphne process (`manage.py serve --no-background`), {options.cases} cases; "
        "client: httpx in another process, sequential, supervisor session"
    )
    print(f"{'request':<42} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms':>7} {'KB':>6}")
    for name, (samples, cpu) in results.items():
        walls = sorted(s[0] for s in samples)
        size = sum(s[1] for s in samples) / len(samples) / 1024
        print(
            f"{name:<42} {len(samples):>4} {ms(percentile(walls, 0.5)):>7} "
            f"{ms(percentile(walls, 0.95)):>7} {ms(cpu) if cpu is not None else '':>7} "
            f"{size:6.1f}"
        )
    print("CPU ms: the server process's CPU per request, mean (not the database's)")

    print("\nqueries per request, in-process (page_size 10 / 50 / 200; the page has 100 rows):")
    for name, counts, sql in query_counts(options.pages, extra):
        print(f"  {name:<40} {' / '.join(map(str, counts))}")
        if sql:
            for line in explain(sql, options.explain):
                print(f"      {line}")
    print(f"command: .venv/bin/python bench/list_bench.py {' '.join(sys.argv[1:])}".rstrip())
    return server


if __name__ == "__main__":
    main()
