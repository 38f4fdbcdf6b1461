"""Inbox list, case page and SLA report at data-set scale, each next to its raw floors.

Runs against a database filled by bench/dataset.py (it writes nothing there but two bench
logins' passwords). One server (`manage.py serve`, daphne), a separate client process
(httpx, sequential, a supervisor's and an agent's session): p50/p95 wall time and the
server's CPU per request for every filter and ordering the inbox offers, deep keyset pages,
the case page (HTML and API) and the SLA report API. Two floors in the same run:

- an empty request through the same stack (a 404 and the login page, no session);
- raw SQL of the same shape: every statement the request ran (captured in-process, values
  bound), executed again on a plain cursor, summed; p50/p95 over the repeats.

Targets: inbox list API p95 < 50 ms at 1M messages (PostgreSQL); SLA report < 1 s.

    .venv/bin/python bench/scale_bench.py --database-url postgres://postgres@127.0.0.1:5432/caremgr_big
    .venv/bin/python bench/scale_bench.py --database-url sqlite:////tmp/quick.sqlite3 --requests 10
"""

import argparse
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from list_bench import timed, walk
from report_bench import cpu_model, database_label, setup_django
from webhook_bench import percentile
from ws_fanout_bench import Server, manage, process_cpu, session_cookie

SUPERVISOR, AGENT, PASSWORD = "scale-supervisor", "shop-agent1", "scale-pass-1"
API = "/api/v1/cases/"
MESSAGES_API = "/api/v1/messages/"


# The case list as a supervisor: (line, query); {team}, {account}, {handle} come from the data.
LIST_QUERIES = (
    ("?page_size=1 (fixed cost)", "page_size=1"),
    ("default (-updated_at)", ""),
    ("?ordering=priority", "ordering=priority"),
    ("?ordering=sla_due", "ordering=sla_due"),
    ("?ordering=-sla_due", "ordering=-sla_due"),
    ("?status=open", "status=open"),
    ("?status=new&status=open&status=pending", "status=new&status=open&status=pending"),
    ("?status=open&ordering=sla_due", "status=open&ordering=sla_due"),
    ("?tier=high", "tier=high"),
    ("?status=open&tier=high", "status=open&tier=high"),
    ("?priority=P1", "priority=P1"),
    ("?priority=P1&ordering=sla_due", "priority=P1&ordering=sla_due"),
    ("?assignee=none", "assignee=none"),
    ("?assignee=none&status=new", "assignee=none&status=new"),
    ("?team=<shop>", "team={team}"),
    ("?team=none", "team=none"),
    ("?account=<slug>", "account={account}"),
    ("?platform=whatsapp", "platform=whatsapp"),
    ("?sentiment=negative", "sentiment=negative"),
    ("?sentiment=positive&ordering=priority", "sentiment=positive&ordering=priority"),
    ("?q=refund (common word)", "q=refund"),
    # in 8 % of the cases, which PostgreSQL took for rare: it fetched every match first
    ("?q=delayed (common word)", "q=delayed"),
    ("?q=lawyer (rare word)", "q=lawyer"),
    ("?q=<one customer's handle>", "q={handle}"),
    ("?q=zzqx (no match)", "q=zzqx"),
)


def plan(requests: int) -> list[tuple[str, str, list[str]]]:
    """(line, session, paths) for every request the run times; ids and values come from
    the data so each filter selects something."""
    from django.db.models import Count

    from cases.api.pagination import ORDERINGS, CaseKeysetPagination
    from cases.models import Case, Team, sla_rank
    from inbox.models import Account

    count = Case.objects.count()
    values = {
        "team": Team.objects.get(slug="shop").pk,
        "account": Account.objects.order_by("pk").values_list("slug", flat=True).first(),
        "handle": Case.objects.order_by("pk").values_list("contact__handle", flat=True)[count // 3],
    }

    def deep(ordering: str, row: int) -> str:
        key = ORDERINGS[ordering]
        rows = Case.objects.annotate(sla_rank=sla_rank()).order_by(
            *[("-" if desc else "") + field for field, desc in key]
        )
        cursor = CaseKeysetPagination._encode(
            list(rows.values_list(*[field for field, _ in key])[row])
        )
        joiner = f"ordering={ordering}&" if ordering != "-updated_at" else ""
        return f"{API}?{joiner}cursor={cursor}"

    lengths = Case.objects.order_by("message_count").values_list("pk", "message_count")
    typical = lengths[count // 2]
    longest = Case.objects.order_by("-message_count", "pk").values_list("pk", "message_count")[0]
    lines = [
        ("floor: 404, no session", "anon", ["/no-such-page/"]),
        ("floor: GET /accounts/login/, no session", "anon", ["/accounts/login/"]),
    ]
    for label, query in LIST_QUERIES:
        path = f"{API}?{query.format(**values)}" if query else API
        lines.append((f"list {label}", "supervisor", [path]))
    lines += [
        ("list ?assignee=me (agent)", "agent", [API + "?assignee=me"]),
        ("list default as agent (own teams)", "agent", [API]),
    ]
    for ordering, row in (("-updated_at", count // 2), ("priority", count // 2)):
        lines.append(
            (f"list cursor after row {row} ({ordering})", "supervisor", [deep(ordering, row)])
        )
    row = count // 20
    lines.append((f"list cursor after row {row} (sla_due)", "supervisor", [deep("sla_due", row)]))
    lines.append(("inbox page GET / (100 rows)", "supervisor", ["/"]))
    by_size = Account.objects.annotate(n=Count("messages")).order_by("-n", "pk")
    slugs = list(by_size.values_list("slug", flat=True))  # one count over every message
    largest, smallest = slugs[0], slugs[-1]
    for label, query in (
        ("", ""),
        ("?direction=out", "direction=out"),
        (f"?account=<largest, {largest}>", f"account={largest}"),
        (f"?account=<smallest, {smallest}>", f"account={smallest}"),
        ("?account=<largest>&direction=in", f"account={largest}&direction=in"),
    ):
        path = f"{MESSAGES_API}?{query}" if query else MESSAGES_API
        lines.append((f"messages {label or 'newest first'}", "supervisor", [path]))
    for pk, messages in (typical, longest):
        lines.append(
            (f"case page /cases/<id>/ ({messages} messages)", "supervisor", [f"/cases/{pk}/"])
        )
        lines.append(
            (f"case API /api/v1/cases/<id>/ ({messages} messages)", "supervisor", [f"{API}{pk}/"])
        )
    for group_by in ("tier", "account", "team", "agent", "platform"):
        path = f"/api/v1/reports/sla/?{period_query(365)}&group_by={group_by}"
        lines.append((f"SLA report API, a year, by {group_by}", "supervisor", [path]))
    path = f"/api/v1/reports/sla/?{period_query(30)}&group_by=tier"
    lines.append(("SLA report API, 30 days, by tier", "supervisor", [path]))
    return lines


def period_query(days: int) -> str:
    from cases.models import Case

    end = Case.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    start = end - timedelta(days=days)
    return f"from={start.date().isoformat()}&to={end.date().isoformat()}"


def client(base: str, cookies: dict, pid: int, lines: list, options: tuple, queue) -> None:
    """Its own process: sequential requests, each timed from send to last byte; the
    server's CPU (one process) read from /proc around each line."""
    import httpx

    repeat, pages = options
    results = {}
    sessions = {
        name: httpx.Client(base_url=base, cookies=jar, timeout=60) for name, jar in cookies.items()
    }
    try:
        for name, session, paths in lines:
            http = sessions[session]
            for path in paths * 2:  # warm-up
                timed(http, path)
            count = max(3, repeat // 5) if "report" in name else repeat
            cpu = process_cpu(pid)
            samples = [timed(http, path) for _ in range(count) for path in paths]
            results[name] = (samples, (process_cpu(pid) - cpu) / len(samples))
        if pages:
            http = sessions["supervisor"]
            paths = walk(http, pages)
            cpu = process_cpu(pid)
            samples = [timed(http, path) for _ in range(repeat // 5 or 1) for path in paths]
            results[f"list cursor walk, pages 1–{len(paths)}"] = (
                samples,
                (process_cpu(pid) - cpu) / len(samples),
            )
    except Exception as exc:  # reported by the parent, which owns the cleanup
        results = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        for http in sessions.values():
            http.close()
    queue.put(results)


def raw_floor(lines: list, repeat: int) -> dict[str, tuple[int, float, float, str]]:
    """Per line: (queries, raw SQL p50, p95, slowest statement), the request's own SQL
    captured in-process and run again on a plain cursor."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {"anon": Client()}
    for session, username in (("supervisor", SUPERVISOR), ("agent", AGENT)):
        clients[session] = Client()
        clients[session].force_login(get_user_model().objects.get(username=username))
    floors = {}
    for name, session, paths in lines:
        with CaptureQueriesContext(connection) as captured:
            clients[session].get(paths[0])
        statements = [q["sql"] for q in captured.captured_queries]
        statements = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        totals, slowest = [], {}
        with connection.cursor() as cursor:
            for _ in range(max(3, repeat // 5) if "report" in name else repeat):
                total = 0.0
                for sql in statements:
                    began = time.perf_counter()
                    cursor.execute(sql)
                    cursor.fetchall()
                    spent = time.perf_counter() - began
                    slowest[sql] = min(slowest.get(sql, spent), spent)
                    total += spent
                totals.append(total)
        totals.sort()
        worst = max(slowest, key=slowest.get) if slowest else ""
        floors[name] = (
            len(captured.captured_queries),
            percentile(totals, 0.5),
            percentile(totals, 0.95),
            worst,
        )
    return floors


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [row[0] for row in cursor.fetchall()]


def ensure_logins(env: dict) -> None:
    """The bench's supervisor, and a password for one agent of the generated data set."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    if not users.filter(username=SUPERVISOR).exists():
        manage(env, "create_agent", SUPERVISOR, "--role", "supervisor", "--password", PASSWORD)
    agent = users.get(username=AGENT)
    agent.set_password(PASSWORD)
    agent.save(update_fields=["password"])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=50, help="timed requests per line")
    parser.add_argument("--pages", type=int, default=5, help="depth of the cursor walk")
    parser.add_argument("--explain", type=float, default=20.0, help="plan statements over N ms")
    parser.add_argument(
        "--only", default="", help="time only the lines whose name holds this, e.g. 'SLA report'"
    )
    options = parser.parse_args()
    if not options.database_url:
        parser.error("--database-url (or DATABASE_URL) of a data set from bench/dataset.py")
    if not 1 <= options.requests <= 1000:
        parser.error("--requests 1..1000")
    setup_django(options.database_url)
    from django.db import connection, connections

    from cases.models import Case
    from inbox.models import Message

    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": options.database_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "caremgr.settings",
    }
    ensure_logins(env)
    cases, messages = Case.objects.count(), Message.objects.count()
    lines = [line for line in plan(options.requests) if options.only in line[0]]
    if not lines:
        parser.error(f"no line holds {options.only!r}")
    pages = 0 if options.only else options.pages  # the cursor walk is a line of its own
    label = database_label(connection)
    connections.close_all()

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-scale-"))
    server = Server(env, workdir, "server")
    load_before = os.getloadavg()
    try:
        server.start()
        cookies = {
            "anon": {},
            "supervisor": {"sessionid": session_cookie(server.url, SUPERVISOR, PASSWORD)},
            "agent": {"sessionid": session_cookie(server.url, AGENT, PASSWORD)},
        }
        queue = multiprocessing.Queue()
        args = (server.url, cookies, server.process.pid, lines, (options.requests, pages))
        worker = multiprocessing.Process(target=client, args=(*args, queue))
        worker.start()
        try:
            results = queue.get(timeout=1800)
        finally:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
    finally:
        server.stop()
        log = server.log.read_text(errors="replace") if server.log.exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
    if "error" in results:
        print(log[-3000:])
        raise RuntimeError(f"client process failed: {results['error']}")
    load_after = os.getloadavg()
    floors = raw_floor(lines, options.requests)

    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{label}; load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end"
    )
    print(
        f"data: {messages:,} messages, {cases:,} cases; server: 1 daphne process; client: httpx "
        "in another process, sequential"
    )
    header = f"{'request':<52} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'CPU ms':>7} {'KB':>6}"
    print(f"{header} {'queries':>7} {'raw p50':>7} {'raw p95':>7}")
    slow = []
    for name, (samples, cpu) in results.items():
        walls = sorted(s[0] for s in samples)
        size = sum(s[1] for s in samples) / len(samples) / 1024
        queries, raw50, raw95, worst = floors.get(name, (0, 0.0, 0.0, ""))
        print(
            f"{name:<52} {len(samples):>4} {ms(percentile(walls, 0.5))} "
            f"{ms(percentile(walls, 0.95))} {ms(cpu)} {size:6.1f} {queries:>7} "
            f"{ms(raw50)} {ms(raw95)}"
        )
        if worst and raw50 * 1000 > options.explain:
            slow.append((name, worst))
    print("CPU ms: the server process's CPU per request (not the database's); raw: the")
    print("request's own SQL statements run again on a plain cursor, summed")
    for name, sql in slow:
        print(f"\nslowest statement of {name!r}:\n  {sql[:160]}…")
        for line in explain(sql):
            print(f"    {line}")
    print(f"command: .venv/bin/python bench/scale_bench.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
