"""Priority that follows the wait: what the monitor's pass costs as cases wait.

Files N customers' first messages through the intake (one case each, all waiting), then
runs the monitor's waiting pass (`cases.waiting.tick`, 500 cases a pass) at each whole hour
of waiting up to 7 h, until nothing is due, and prints per hour the passes, the cases scored
again, the levels moved, the wall time and queries per pass, and cases per second. Last,
the cost of a pass when nothing is due (the pass `serve` runs every 5 s).

    .venv/bin/python bench/waiting_bench.py [--cases 20000]        # SQLite, a temp file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caremgr_dev \\
        .venv/bin/python bench/waiting_bench.py                    # PostgreSQL

On PostgreSQL the cases go into a database `<name>_report_bench` next to the one in
DATABASE_URL (created, and dropped afterwards), never into that database.
"""

import argparse
import os
import platform
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_bench import admin_sql, bench_database_url, cpu_model, setup_django

TEXTS = (
    "Could you refund the order from Monday?",
    "My parcel is late again, where is it?",
    "Thanks, the app works fine now",
    "I want to cancel, this is urgent!!",
    "Wo bleibt meine Erstattung? Bitte dringend melden.",
)


def build(cases: int, batch: int = 2000):
    """`cases` customers' first messages, filed by the intake; returns when they were written."""
    from django.db import transaction
    from django.utils import timezone
    from tqdm import tqdm

    from cases.intake import intake_messages
    from inbox.connectors.generic import parse_item
    from inbox.models import Account

    account = Account.objects.create(platform="generic", slug="waiting-bench", secret="s")
    written = timezone.now() - timedelta(minutes=1)
    with tqdm(total=cases, unit="case", desc="filing") as bar:
        for start in range(0, cases, batch):
            items = [
                parse_item(
                    {
                        "external_id": f"w{n}",
                        "author": {"id": f"c{n}", "handle": f"c{n}", "followers": n % 5000},
                        "text": TEXTS[n % len(TEXTS)],
                        "created_at": written.isoformat(),
                        "public": n % 3 == 0,
                        "direction": "in",
                    },
                    f"[{n}]",
                )
                for n in range(start, min(start + batch, cases))
            ]
            with transaction.atomic():
                intake_messages(account, items, live=False)
            bar.update(len(items))
    return written


def passes_at(now) -> tuple[int, int, int, float, int]:
    """Passes until nothing is due at `now`: (passes, rescored, moved, seconds, queries)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases import waiting

    passes = rescored = moved = queries = 0
    seconds = 0.0
    while True:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = waiting.tick(now=now)
            seconds += time.perf_counter() - started
        queries += len(captured)
        passes += 1
        rescored += result.rescored
        moved += result.moved
        if result.rescored == 0:
            return passes, rescored, moved, seconds, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    args = parser.parse_args()
    url, created = bench_database_url(os.environ.get("DATABASE_URL", ""))
    if created:
        admin_sql(url, f'DROP DATABASE IF EXISTS "{created}"')
        admin_sql(url, f'CREATE DATABASE "{created}"')
    try:
        setup_django(url)
        from django.db import connection

        print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"database: {connection.vendor}; {args.cases:,} waiting cases")
        written = build(args.cases)
        print(
            "| waited | passes | scored again | levels moved | ms per pass | queries per pass "
            "| cases/s |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for hours in range(1, 8):
            passes, rescored, moved, seconds, queries = passes_at(written + timedelta(hours=hours))
            rate = rescored / seconds if seconds else 0.0
            print(
                f"| {hours} h | {passes} | {rescored:,} | {moved:,} | {seconds / passes * 1000:.1f}"
                f" | {queries / passes:.1f} | {rate:,.0f} |"
            )
        idle = [passes_at(written + timedelta(hours=7))[3] for _ in range(20)]
        print(f"a pass with nothing due: {min(idle) * 1000:.2f} ms (best of 20)")
    finally:
        if created:
            from django.db import connections

            connections.close_all()
            admin_sql(url, f'DROP DATABASE IF EXISTS "{created}"')


if __name__ == "__main__":
    main()
