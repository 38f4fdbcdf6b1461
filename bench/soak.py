"""Soak: the real server stack under a steady load for a bounded time, memory watched.

Starts the stack on a fresh database (`bench/soak_stack.py`), connects 50 WebSocket clients
(agents and supervisors, each logged in through the login form), then sends signed webhook
deliveries of four platforms at a steady rate while a few agents work their cases through
the REST API (`bench/soak_load.py`). Every few seconds it samples the RSS, open descriptors,
database connections and CPU of every server-side process, and the latencies of the window.
At the end it checks that every message sent is stored exactly once and filed in a case,
that every client received a frame for every message it may see, that nothing failed, and
that memory stayed flat: the RSS slope over the second half of the run (least squares) must
stay under --max-slope MB/min for every process. Exit status 1 when a check fails.

    .venv/bin/python bench/soak.py --duration 60                 # embedded: SQLite, 1 daphne
    flock /tmp/caremgr-bench.lock .venv/bin/python bench/soak.py # 10 minutes at 4/s
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caremgr_soak \\
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/soak.py   # scale-out

Scale-out runs on a database `<name>_run` created beside the one in DATABASE_URL (dropped
afterwards) and FLUSHES the Redis database of REDIS_URL before and after.
"""

import argparse
import csv
import multiprocessing
import os
import platform
import queue
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from report_bench import cpu_model
from soak_chart import Panel, Series, render
from soak_load import load_process
from soak_probe import postgres_connections, sample_role, slope_per_minute
from soak_stack import ROOT, log_in, log_problems, people, prepare, start, webhook_accounts
from tqdm import tqdm
from webhook_bench import percentile


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (600)")
    parser.add_argument("--rate", type=float, default=4, help="webhook deliveries/s (4)")
    parser.add_argument("--clients", type=int, default=50, help="WebSocket clients (50)")
    parser.add_argument("--supervisors", type=int, default=5, help="of the clients (5)")
    parser.add_argument("--actors", type=int, default=6, help="agents also using the API (6)")
    parser.add_argument("--customers", type=int, default=0, help="pool (default: 1 per 4 sent)")
    parser.add_argument("--interval", type=float, default=5, help="seconds between samples")
    parser.add_argument("--in-flight", type=int, default=8, help="webhook requests at once")
    parser.add_argument("--max-slope", type=float, default=1.0, help="MB/min, second half")
    parser.add_argument("--settle", type=float, default=120, help="max s to wait at the end")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="CSV and SVG")
    parser.add_argument("--name", default="", help="file name stem (default soak-<mode>)")
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the server logs when all checks pass"
    )
    options = parser.parse_args()
    if not 1 <= options.duration <= 3600 or not 0 < options.rate <= 500:
        parser.error("--duration 1..3600 s, --rate up to 500/s")
    if not options.supervisors < options.clients <= 1000 or options.actors > options.clients:
        parser.error("--clients up to 1000, more than --supervisors and at least --actors")
    return options


def stack_mode() -> str:
    database, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database and not redis:
        return "embedded"
    if database.startswith(("postgres://", "postgresql://")) and redis:
        return "scale-out"
    sys.exit("the scale-out stack needs both DATABASE_URL (PostgreSQL) and REDIS_URL")


def watch(stack, options, stats, results, loader) -> tuple[list[dict], dict]:
    """Sample every `interval` seconds until the load process hands back its outcome."""
    rows: list[dict] = []
    bound = time.monotonic() + options.duration + options.settle + 300
    while True:  # the clients connect first; the clock starts with the first delivery
        try:
            if stats.get(timeout=5).get("event") == "sending":
                break
        except queue.Empty:
            if not loader.is_alive() or time.monotonic() > bound:
                return rows, results.get(timeout=5) if not results.empty() else {
                    "error": "no start"
                }
    began = time.monotonic()
    bar = tqdm(total=round(options.duration), unit="s", desc="soak", dynamic_ncols=True)
    outcome = None
    while outcome is None:
        deadline = time.monotonic() + options.interval
        while outcome is None and time.monotonic() < deadline:
            try:
                outcome = results.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                if not loader.is_alive() or time.monotonic() > bound:
                    outcome = {"error": "the load process ended without a result"}
        row = sample(stack, time.monotonic() - began)
        window = drain(stats)
        row.update(window)
        rows.append(row)
        bar.update(min(round(row["t"]), bar.total) - bar.n)
        bar.set_postfix(
            sent=window.get("delivered", ""),
            rss=f"{sum(v for k, v in row.items() if k.endswith('_rss')):.0f}MB",
            frame_p95=ms(window.get("frame_p95")),
        )
    bar.close()
    return rows, outcome


def sample(stack, t: float) -> dict:
    row = {"t": round(t, 1), "load1": os.getloadavg()[0]}
    for role, pid in stack.roles.items():
        figures = sample_role(pid, stack.sqlite_path)
        for key, value in figures.items():
            row[f"{role}_{key}"] = round(value, 2)
    if stack.pg_name:
        row["pg_connections"] = postgres_connections(stack.env["DATABASE_URL"], stack.pg_name)
    return row


def drain(stats) -> dict:
    """The load's windows since the last sample, merged: counts added, the last percentiles."""
    merged: dict = {}
    while True:
        try:
            window = stats.get_nowait()
        except queue.Empty:
            return merged
        for key, value in window.items():
            if key == "event":
                continue
            if key in ("posts", "frames", "api", "errors"):
                merged[key] = merged.get(key, 0) + value
            elif value is not None:
                merged[key] = value


def ms(seconds) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}ms"


def check(stack, staff, outcome: dict, facts: dict, problems: list[str]) -> list[str]:
    """Every failure of the run, as lines of text; empty when all is well."""
    failures = []
    stored: dict[str, dict[str, list]] = {}
    for _pk, external_id, account, direction, case_id, _team in facts["messages"]:
        if direction == "in":
            stored.setdefault(account, {}).setdefault(external_id, []).append(case_id)
    for account, sent in outcome["sent"].items():
        have = stored.get(account, {})
        missing = set(sent) - set(have)
        twice = [e for e in sent if len(have.get(e, ())) > 1]
        unfiled = [e for e in sent if e in have and None in have[e]]
        extra = set(have) - set(sent)
        if missing or twice or unfiled or extra:
            failures.append(
                f"{account}: {len(missing)} sent but not stored, {len(twice)} stored twice, "
                f"{len(unfiled)} not filed in a case, {len(extra)} stored but not sent"
            )
    if set(facts["deliveries"]) - {"processed"}:
        failures.append(f"deliveries not all processed: {facts['deliveries']}")
    failures += [f"delivery error: {e}" for e in facts["delivery_errors"]]
    if facts["outbound"].get("failed"):
        failures.append(f"outbound replies failed: {facts['outbound']}")
    lost, _expected = lost_frames(staff, outcome, facts)
    if sum(lost):
        failures.append(f"{sum(lost)} message frames lost, on {sum(1 for n in lost if n)} clients")
    failures += [f"WebSocket dropped: {d}" for d in outcome["drops"][:10]]
    failures += [f"webhook: {e}" for e in outcome["post_errors"][:10]]
    failures += [f"API: {e}" for e in outcome["api_errors"][:10]]
    failures += [f"log: {line}" for line in problems[:20]]
    return failures


def lost_frames(staff, outcome: dict, facts: dict) -> tuple[list[int], list[int]]:
    """Per client: messages it may see (its team's, or all for a supervisor) that never
    reached it as a `message.created` frame; and how many it may see."""
    by_team: dict = {}
    for pk, _external_id, _account, _direction, _case, team in facts["messages"]:
        by_team.setdefault(team, set()).add(pk)
    everything = set().union(*by_team.values()) if by_team else set()
    lost, expected = [], []
    for person, received in zip(staff, outcome["received"], strict=True):
        visible = everything if person.role == "supervisor" else by_team.get(person.team, set())
        lost.append(len(visible - set(received)))
        expected.append(len(visible))
    return lost, expected


def slopes(rows: list[dict], roles, sending: float) -> dict[str, float]:
    """RSS slope (MB/min) of each role over the second half of the sending time."""
    half = [r for r in rows if sending / 2 <= r["t"] <= sending + 1]
    return {
        role: slope_per_minute([r["t"] for r in half], [r[f"{role}_rss"] for r in half])
        for role in roles
    }


def write_csv(rows: list[dict], path: Path) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


def chart(rows, roles, slope: dict, options, label: str, sending: float) -> str:
    def series(key, text, dashed=False, scale=1.0):
        points = [(r["t"], r[key] * scale if r.get(key) is not None else None) for r in rows]
        return Series(text, points, dashed)

    memory = [series(f"{role}_rss", f"{role} ({slope[role]:+.2f} MB/min)") for role in roles]
    latency = [
        series("frame_p50", "frame p50", scale=1000),
        series("frame_p95", "frame p95", dashed=True, scale=1000),
        series("post_p50", "POST p50", scale=1000),
        series("post_p95", "POST p95", dashed=True, scale=1000),
    ]
    panels = [
        Panel("RSS per process; slope over the second half of the sending", "MB", memory),
        Panel(
            "webhook POST answered, and POST → message.created frame (per window)", "ms", latency
        ),
    ]
    title = (
        f"caremgr soak: {options.rate:g} deliveries/s asked for {options.duration:g} s, "
        f"{options.clients} WebSocket clients"
    )
    end = max((r["t"] for r in rows), default=sending)
    return render(title, label, panels, end, markers=[sending / 2, sending])


def machine(mode: str, stack) -> str:
    if mode == "embedded":
        database = f"SQLite {sqlite3.sqlite_version}"
    else:
        import psycopg
        import redis

        with psycopg.connect(stack.env["DATABASE_URL"]) as connection:
            number = connection.info.server_version
        version = redis.Redis.from_url(stack.env["REDIS_URL"]).info("server")["redis_version"]
        database = f"PostgreSQL {number // 10000}.{number % 100}, Redis {version}"
    return f"nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, {database}"


def revision() -> str:
    """The commit the run measured, and whether the working tree differed from it."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def summary(stack, staff, options, rows, outcome, facts, slope, failures, label) -> None:
    latencies = {k: sorted(v) for k, v in outcome["latencies"].items()}
    sent = sum(len(v) for v in outcome["sent"].values())
    lost, expected = lost_frames(staff, outcome, facts)
    loads = [r["load1"] for r in rows] or [0.0]
    print(f"\n{label}")
    print(f"machine: {machine(stack.mode, stack)}; code: {options.revision}")
    print(
        f"load average (1 min) during the run: min {min(loads):.2f}, "
        f"median {percentile(sorted(loads), 0.5):.2f}, max {max(loads):.2f}"
    )
    print(
        f"sent {sent} deliveries in {outcome['sending_seconds']:.0f} s "
        f"({sent / outcome['sending_seconds']:.1f}/s, asked {options.rate:g}/s) "
        f"+ {outcome['resent']} repeated; {len(outcome['post_errors'])} not answered 200"
    )
    print(
        f"database: {sum(facts['deliveries'].values())} deliveries {dict(facts['deliveries'])}; "
        f"{len(facts['messages'])} messages; cases {dict(facts['cases'])}; "
        f"outbound {dict(facts['outbound'])}"
    )
    timeline = facts["timeline"]
    print("timeline: " + ", ".join(f"{k} {v}" for k, v in sorted(timeline.items())))
    print(
        f"WebSocket: {len(staff)} clients, {sum(expected)} message frames expected, "
        f"{sum(expected) - sum(lost)} received, {sum(lost)} lost; "
        f"{len(outcome['drops'])} connections dropped"
    )
    kinds: dict = {}
    for counted in outcome["frame_kinds"]:
        for kind, n in counted.items():
            kinds[kind] = kinds.get(kind, 0) + n
    print("frames by type: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    for key, what in (
        ("posts", "webhook POST answered"),
        ("frames", "POST → message.created frame"),
        ("api", "agent API calls"),
    ):
        values = latencies[key]
        if values:
            print(
                f"{what}: p50 {ms(percentile(values, 0.5))}, p95 {ms(percentile(values, 0.95))}, "
                f"p99 {ms(percentile(values, 0.99))}, max {ms(values[-1])} ({len(values)})"
            )
    if outcome["api_refused"]:
        print(f"API refusals (4xx): {outcome['api_refused']}")
    first, last = rows[0], rows[-1]
    for role in stack.roles:
        cpu = last[f"{role}_cpu"] - first[f"{role}_cpu"]
        print(
            f"{role}: RSS {first[f'{role}_rss']:.0f} → {last[f'{role}_rss']:.0f} MB "
            f"(max {max(r[f'{role}_rss'] for r in rows):.0f}), slope over the second half "
            f"{slope[role]:+.2f} MB/min; fds {first[f'{role}_fds']:.0f} → "
            f"{last[f'{role}_fds']:.0f} (max {max(r[f'{role}_fds'] for r in rows):.0f}); "
            f"SQLite handles max {max(r[f'{role}_sqlite'] for r in rows):.0f}; "
            f"CPU {cpu:.0f} s ({cpu / max(sent, 1) * 1000:.1f} ms/delivery)"
        )
    if "pg_connections" in first:
        counts = [r["pg_connections"] for r in rows]
        print(f"PostgreSQL connections: {counts[0]} → {counts[-1]} (max {max(counts)})")
    verdict = "FAILED" if failures else "passed"
    print(f"checks {verdict}" + "".join(f"\n  - {f}" for f in failures))


def main() -> int:
    options = parse()
    options.revision = revision()  # at the start: the tree may change during the run
    mode = stack_mode()
    label = (
        "embedded: 1 daphne process, inline pipeline, SLA monitor thread, SQLite, in-memory layer"
        if mode == "embedded"
        else "scale-out: 2 daphne processes, Celery worker (2 processes) and beat, "
        "PostgreSQL, Redis"
    )
    if not options.customers:
        options.customers = max(50, int(options.rate * options.duration / 4))
    staff, actors = people(
        options.clients - options.supervisors, options.supervisors, options.actors
    )
    print(f"setting up ({mode}): database, {len(staff)} people, 4 accounts …", flush=True)
    stack = prepare(mode, staff)
    try:
        return run(stack, options, label, staff, actors)
    finally:
        stack.drop()


def run(stack, options, label: str, staff, actors) -> int:
    """Start, load, sample, check, report; the exit status."""
    loader = None
    try:
        start(stack)
        log_in(stack, staff, actors)
        n = len(stack.servers)
        load_options = {
            "accounts": webhook_accounts(),
            "clients": [{"cookie": p.cookie, "server": k % n} for k, p in enumerate(staff)],
            "actors": [{"token": p.token} for p in actors],
            "urls": [s.url for s in stack.servers],
            "ws_urls": [f"ws://127.0.0.1:{s.port}/ws/inbox/" for s in stack.servers],
            "rate": options.rate,
            "duration": options.duration,
            "customers": options.customers,
            "in_flight": options.in_flight,
            "interval": options.interval,
            "settle": options.settle,
            "quiet": 10.0,
            "seed": 7,
            "timeout": options.duration + options.settle + 240,
        }
        stats, results = multiprocessing.Queue(), multiprocessing.Queue()
        loader = multiprocessing.Process(
            target=load_process, args=(load_options, stats, results), daemon=True
        )
        loader.start()
        rows, outcome = watch(stack, options, stats, results, loader)
        loader.join(timeout=10)
        if "error" in outcome:
            print(f"load failed: {outcome['error']}; logs in {stack.workdir}")
            return 1
        facts = stack.facts()
    finally:
        if loader is not None and loader.is_alive():
            loader.terminate()
        stack.stop()
    problems = log_problems(stack.logs)
    failures = check(stack, staff, outcome, facts, problems)
    sending = outcome["sending_seconds"]
    slope = slopes(rows, stack.roles, sending)
    failures += [
        f"{role}: memory grows {value:+.2f} MB/min over the second half (bound {options.max_slope})"
        for role, value in slope.items()
        if value > options.max_slope
    ]
    summary(stack, staff, options, rows, outcome, facts, slope, failures, label)
    stem = options.name or f"soak-{'sqlite' if stack.mode == 'embedded' else 'postgres'}"
    options.out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, options.out / f"{stem}.csv")
    (options.out / f"{stem}.svg").write_text(
        chart(rows, stack.roles, slope, options, label, sending)
    )
    print(f"samples: {options.out / (stem + '.csv')}; chart: {options.out / (stem + '.svg')}")
    print(f"command: {' '.join(sys.argv)}")
    if failures or options.keep_logs:
        print(f"server logs kept in {stack.workdir}")
    else:
        shutil.rmtree(stack.workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
