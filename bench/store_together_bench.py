"""What a web process spends to store and queue a delivery, alone or with others.

The scale-out webhook stores the deliveries that arrive at the same moment together
(`inbox.stored_together`): one INSERT, one commit and one Redis push per write. This bench
makes those writes directly, in groups of 1, 2, 4 and 8 deliveries (rounds alternated), on
a PostgreSQL database of its own and a Redis database, and prints per delivery the CPU of
this process, the CPU of its PostgreSQL backend and the wall time.

    .venv/bin/python bench/store_together_bench.py [--deliveries 2000] [--rounds 2]
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from report_bench import admin_sql, cpu_model
from webhook_load import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1, 2, 4, 8)
BODY = b'[{"external_id": "m", "text": "' + b"My parcel is late again " * 20 + b'"}]'


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--deliveries", type=int, default=2000, help="per size and round")
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    name = "caremgr_store_bench"
    admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{name}"')
    admin_sql(options.pg_url, f'CREATE DATABASE "{name}"')
    try:
        run(urlunsplit(urlsplit(options.pg_url)._replace(path=f"/{name}")), options)
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(options.pg_url, f'DROP DATABASE IF EXISTS "{name}"')


def run(url: str, options) -> None:
    os.environ.update(DATABASE_URL=url, REDIS_URL=options.redis_url, CAREMGR_TASKS_INLINE="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    from inbox import intake_queue
    from inbox.models import Account, Delivery
    from inbox.stored_together import store_and_hand_over

    account = Account.objects.create(platform="generic", slug="bench", name="bench")
    queue = intake_queue.client()
    queue.delete("celery", *intake_queue.keys())  # the bench's Redis database: no worker drains it
    store_and_hand_over([Delivery(account=account, body=BODY)])  # connections made
    backend = connection.connection.info.backend_pid
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; PostgreSQL, Redis {options.redis_url}")
    print(f"{options.deliveries} deliveries per size and round, {options.rounds} rounds")
    print("together  this process  PostgreSQL  wall  (per delivery, ms)")
    for round_ in range(options.rounds):
        for size in SIZES:
            own, db, wall = own_cpu(), cpu_seconds(backend), time.perf_counter()
            for _ in range(options.deliveries // size):
                store_and_hand_over([Delivery(account=account, body=BODY) for _ in range(size)])
            count = options.deliveries // size * size
            own, db = own_cpu() - own, cpu_seconds(backend) - db
            wall = time.perf_counter() - wall
            print(
                f"{size:8d}  {1000 * own / count:12.3f}  {1000 * db / count:10.3f}"
                f"  {1000 * wall / count:4.3f}  (round {round_ + 1})"
            )
    queue.delete("celery", *intake_queue.keys())


if __name__ == "__main__":
    main()
