"""Bulk import speed against its floors: TextBlob, our sentiment engine and a raw INSERT.

For each twcs file, on SQLite (a fresh database file per run) or on PostgreSQL when
DATABASE_URL points there (a database of its own beside that one, emptied before each run),
it times, best of --repeat:

- textblob: plain `TextBlob(text).sentiment` on the file's texts, one core;
- engine: `sentiment.analyze` on the same texts, one core;
- insert: the imported message rows inserted again with raw multi-row INSERT statements into
  the same database's message table (indexes and all; rolled back);
- parse: the importer alone (CSV → ParsedMessage batches, no database);
- import 1: `import_messages --workers 1` end to end (sentiment scored in-process);
- import N: `import_messages --workers N` end to end, N = cores by default (sentiment in N
  worker processes while this one files the batches before; on PostgreSQL in two filing
  threads, each batch's independent parts at once);
- import N 1 filer (PostgreSQL): the same with `--filers 1`, the batch filed in one piece.

Rates are messages per second of wall clock and of CPU time. CPU time counts this process,
its worker processes and, on PostgreSQL on this machine, the server's processes. The machine is
shared, so a third figure, "idle bound", is what idle cores would allow for the work
measured: messages / max(CPU of this process, all CPU / cores), since this process files
while the workers score (for the one-core figures it is the CPU rate). Targets: the import
with N workers at least 70 % of TextBlob's rate, and within 2x of the engine's; both are
checked on wall clock and on the idle bound (against the floors' CPU rates).

    .venv/bin/python bench/import_bench.py [--repeat 3] [--workers N] [FILE ...]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caremgr_dev \
        .venv/bin/python bench/import_bench.py
"""

import argparse
import csv
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from report_bench import admin_sql, cpu_model
from webhook_load import cpu_seconds

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "twcs"
DEFAULT_FILES = [DATA / "twcs_head5000.csv", DATA / "twcs_random5000.csv"]
TEXTBLOB_SHARE = 0.70  # issue #6: the import at least 70 % of TextBlob's rate
ENGINE_RATIO = 2.0  # issue #2: the import within 2x of the engine's rate


class Database:
    """The bench's own database, fresh before each run."""

    def __init__(self, given: str, workdir: Path) -> None:
        self.postgres = given.startswith(("postgres://", "postgresql://"))
        self.workdir = workdir
        if self.postgres:
            parts = urlsplit(given)
            self.name = parts.path.lstrip("/") + "_import_bench"
            self.url = urlunsplit(parts._replace(path="/" + self.name))
            admin_sql(given, f'DROP DATABASE IF EXISTS "{self.name}"')
            admin_sql(given, f'CREATE DATABASE "{self.name}"')
            self.given = given
        else:
            self.template = workdir / "template.sqlite3"
            self.url = f"sqlite:///{self.template}"
        self.runs = 0

    def setup_django(self) -> None:
        """Point Django at the bench database before anything reads the settings; migrate."""
        os.environ["DATABASE_URL"] = self.url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")
        sys.path.insert(0, str(ROOT))
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        call_command("migrate", verbosity=0)
        connection.close()

    def fresh(self) -> None:
        """SQLite: a copy of the migrated template. PostgreSQL: every imported row gone."""
        from django.db import connection

        self.runs += 1
        if self.postgres:
            with connection.cursor() as cursor:
                # The accounts and contacts take every message, case and timeline entry along.
                cursor.execute(
                    "TRUNCATE inbox_account, inbox_contact, inbox_delivery RESTART IDENTITY CASCADE"
                )
            return
        connection.close()
        copy = self.workdir / f"run-{self.runs}.sqlite3"
        shutil.copyfile(self.template, copy)
        connection.settings_dict["NAME"] = str(copy)

    def label(self) -> str:
        from django.db import connection

        if connection.vendor == "sqlite":
            return f"SQLite {connection.Database.sqlite_version} (WAL), a fresh file per run"
        connection.ensure_connection()
        version = connection.connection.info.server_version
        return f"PostgreSQL {version // 10000}.{version % 100}, emptied before each run"

    def drop(self) -> None:
        if self.postgres:
            from django.db import connections

            connections.close_all()
            admin_sql(self.given, f'DROP DATABASE IF EXISTS "{self.name}"')


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # seconds, everything counted
    own: float  # seconds, this process alone
    count: int  # messages


class Clock:
    """Wall time and CPU time: this process, its reaped children (the scoring workers) and,
    on PostgreSQL on this machine, the whole server: every backend (an import files with
    more than one connection), those that ended included, and its background processes
    (the WAL writer, autovacuum), whose work the import's writes cause."""

    def __init__(self) -> None:
        self.server: int | None = None

    def attach(self) -> None:
        """Follow the PostgreSQL server of the current database connection."""
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        if backend.exists():  # the server runs here: its postmaster is the backend's parent
            self.server = int(backend.read_text().rsplit(")", 1)[1].split()[1])

    def cpu(self) -> tuple[float, float]:
        """(CPU seconds of everything counted, of this process alone)."""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = time.process_time()
        server = cpu_seconds(self.server, reaped=True) if self.server else 0.0
        return own + server + children.ru_utime + children.ru_stime, own

    def measure(self, work: Callable[..., int], *args) -> Run:
        wall, (cpu, own) = time.perf_counter(), self.cpu()
        count = work(*args)
        total_after, own_after = self.cpu()
        return Run(time.perf_counter() - wall, total_after - cpu, own_after - own, count)


def textblob_only(texts: list[str]) -> int:
    from textblob import TextBlob

    for text in texts:
        TextBlob(text).sentiment  # noqa: B018 - the property computes the score
    return len(texts)


def engine_only(texts: list[str]) -> int:
    from sentiment import analyze

    for text in texts:
        analyze(text)
    return len(texts)


def parse_only(path: Path, batch_size: int) -> int:
    from inbox.importers import FORMATS

    return sum(len(batch) for batch in FORMATS["twcs"].read(path, batch_size=batch_size))


def full_import(path: Path, batch_size: int | None, workers: int, filers: int | None) -> int:
    from django.core.management import call_command

    from inbox.models import Account, Message

    account = Account.objects.create(platform="x", slug="bench", secret="bench")
    call_command(
        "import_messages",
        str(path),
        format="twcs",
        account=account.slug,
        batch_size=batch_size,
        workers=workers,
        filers=filers,
        verbosity=0,
        stdout=StringIO(),
    )
    return Message.objects.filter(account=account).count()


def insert_floor(clock: Clock) -> Run:
    """The imported message rows inserted again, as raw multi-row INSERTs, into the same
    table under another account (every index maintained), in a transaction rolled back."""
    from django.db import connection, transaction

    from inbox.models import Account, Message

    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    rows = [
        [f.get_db_prep_save(getattr(m, f.attname), connection) for f in fields]
        for m in Message.objects.all()
    ]
    quote = connection.ops.quote_name
    table, names = quote(Message._meta.db_table), ", ".join(map(quote, columns))
    head = f"INSERT INTO {table} ({names}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    per_statement = 16_000 // len(columns)
    account_at = columns.index("account_id")
    with transaction.atomic():
        other = Account.objects.create(platform="x", slug="floor", secret="floor")
        for row in rows:
            row[account_at] = other.pk

        def insert() -> int:
            with connection.cursor() as cursor:
                for start in range(0, len(rows), per_statement):
                    chunk = rows[start : start + per_statement]
                    cursor.execute(
                        head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row]
                    )
            return len(rows)

        figures = clock.measure(insert)
        transaction.set_rollback(True)
    return figures


@dataclass(frozen=True)
class Rates:
    wall: float  # messages per second of wall clock, best run
    cpu: float  # per CPU second, everything counted, best run
    bound: float  # what 2 idle cores would allow: per max(own CPU, all CPU / cores)


def rates(runs: list[Run]) -> Rates:
    count = runs[0].count
    cores = os.cpu_count() or 1
    return Rates(
        wall=count / min(run.wall for run in runs),
        cpu=count / min(run.cpu for run in runs),
        bound=count / min(max(run.own, run.cpu / cores) for run in runs),
    )


def bench_file(path: Path, database: Database, options) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    clock = Clock()
    repeat = range(options.repeat)
    figures: dict[str, Rates] = {}
    figures["textblob"] = rates([clock.measure(textblob_only, texts) for _ in repeat])
    figures["engine"] = rates([clock.measure(engine_only, texts) for _ in repeat])
    from inbox.management.commands.import_messages import BATCH_PER_FILER

    batch_size = options.batch_size or BATCH_PER_FILER  # one filer's, for the parser alone
    figures["parse"] = rates([clock.measure(parse_only, path, batch_size) for _ in repeat])
    imported = f"import {options.workers}"
    imports = [("import 1", 1, None), (imported, options.workers, None)]
    if database.postgres:  # the same with one filer, as before the parts were filed at once
        imports.append((f"{imported} 1 filer", options.workers, 1))
    for name, workers, filers in imports:
        runs = []
        for _ in repeat:
            database.fresh()
            clock.attach()
            runs.append(clock.measure(full_import, path, options.batch_size, workers, filers))
        if runs[0].count != len(texts):
            raise SystemExit(f"{path.name}: imported {runs[0].count} of {len(texts)} messages")
        figures[name] = rates(runs)
    clock.attach()
    figures["insert"] = rates([insert_floor(clock) for _ in repeat])

    print(f"{path.name} ({len(texts)} messages), messages per second:")
    print(f"  {'':<16} {'wall':>9} {'CPU':>9} {'idle bound':>11}")
    for name, figure in figures.items():
        print(f"  {name:<16} {figure.wall:>9,.0f} {figure.cpu:>9,.0f} {figure.bound:>11,.0f}")
    for basis in ("wall", "bound"):
        rate = getattr(figures[imported], basis)
        floor = {n: getattr(figures[n], "wall" if basis == "wall" else "cpu") for n in figures}
        share, ratio = rate / floor["textblob"], floor["engine"] / rate
        print(
            f"  {imported} ({basis}) / textblob: {share:.0%} (target ≥ {TEXTBLOB_SHARE:.0%}: "
            f"{'met' if share >= TEXTBLOB_SHARE else 'not met'}); engine / {imported}: "
            f"{ratio:.2f}x (target ≤ {ENGINE_RATIO:g}x: "
            f"{'met' if ratio <= ENGINE_RATIO else 'not met'})"
        )


def main() -> None:
    from sentiment.pool import default_workers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument(
        "--batch-size", type=int, help="messages per batch (default: the command's own)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    parser.add_argument("--workers", type=int, default=default_workers())
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-bench-"))
    database = Database(os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"), workdir)
    try:
        database.setup_django()
        engine_only(["warm up the language detector and the lexicons"])
        textblob_only(["warm up TextBlob"])
        from inbox.management.commands.import_messages import BATCH_PER_FILER

        default = f"the command default ({BATCH_PER_FILER} per filer)"
        print(
            f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python "
            f"{platform.python_version()}; {database.label()}; batch size "
            f"{options.batch_size or default}; best of "
            f"{options.repeat}; load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        for path in options.files:
            if not path.exists():
                print(f"{path.name}: missing, skipped")
                continue
            bench_file(path, database, options)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
