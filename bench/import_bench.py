"""Bulk import speed against its two bounds: the sentiment engine and a bare INSERT.

For each twcs file, in a fresh SQLite database per run, it times:

- parse: the importer alone (CSV → ParsedMessage batches, no database);
- store: parse + `inbox.store.store_messages` (contacts, duplicate check, sentiment, INSERT);
- import: `import_messages` end to end (store + threading into cases, SLA, timeline);
- sentiment: `sentiment.analyze` alone on the same texts, one core;
- floor: the imported message rows inserted with one executemany into a bare table.

Rates are messages per CPU second of this process (robust when other work shares the
machine) and per wall-clock second. The import's target is within 2x of the sentiment rate.

    .venv/bin/python bench/import_bench.py [--batch-size 1000] [--repeat 3] [FILE ...]
"""

import argparse
import csv
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "twcs"
DEFAULT_FILES = [DATA / "twcs_head5000.csv", DATA / "twcs_random5000.csv"]
TARGET_RATIO = 2.0

FLOOR_COLUMNS = (
    "account_id",
    "contact_id",
    "external_id",
    "channel",
    "direction",
    "kind",
    "is_public",
    "text",
    "author_external_id",
    "author_handle",
    "in_reply_to",
    "conversation_id",
    "created_at",
    "language",
    "sentiment_label",
    "sentiment_polarity",
    "sentiment_subjectivity",
    "status",
    "raw",
)


def setup_django(template: Path) -> None:
    """Point Django at a new SQLite file before anything reads the settings, and migrate it."""
    os.environ["DATABASE_URL"] = f"sqlite:///{template}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    connection.close()


def fresh_database(template: Path, database: Path) -> None:
    """Switch to a copy of the migrated template: every run starts from an empty database."""
    from django.db import connection

    connection.close()
    shutil.copyfile(template, database)
    connection.settings_dict["NAME"] = str(database)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(work: Callable[..., int], *args) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, messages) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = work(*args)
    return time.process_time() - cpu, time.perf_counter() - wall, count


def new_account():
    from inbox.models import Account

    return Account.objects.create(platform="x", slug="bench", secret="bench")


def parse_only(path: Path, batch_size: int) -> int:
    from inbox.importers import FORMATS

    return sum(len(batch) for batch in FORMATS["twcs"].read(path, batch_size=batch_size))


def store_only(path: Path, batch_size: int) -> int:
    from django.db import transaction

    from inbox.importers import FORMATS
    from inbox.store import store_messages

    account, stored = new_account(), 0
    for batch in FORMATS["twcs"].read(path, batch_size=batch_size):
        with transaction.atomic():
            stored += len(store_messages(account, batch).new)
    return stored


def full_import(path: Path, batch_size: int) -> int:
    from django.core.management import call_command

    from inbox.models import Message

    account = new_account()
    call_command(
        "import_messages",
        str(path),
        format="twcs",
        account=account.slug,
        batch_size=batch_size,
        verbosity=0,
        stdout=StringIO(),
    )
    return Message.objects.filter(account=account).count()


def sentiment_only(texts: list[str]) -> int:
    from sentiment import analyze

    for text in texts:
        analyze(text)
    return len(texts)


def insert_floor() -> tuple[float, float, int]:
    """executemany of the imported rows into a bare table (no index, no constraint)."""
    from django.db import connection, transaction

    from inbox.models import Message

    rows = [(*row[:-1], str(row[-1])) for row in Message.objects.values_list(*FLOOR_COLUMNS)]
    names = ", ".join(FLOOR_COLUMNS)
    marks = ", ".join(["%s"] * len(FLOOR_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, {names})")

        def insert() -> int:
            with transaction.atomic():
                cursor.executemany(f"INSERT INTO bench_floor ({names}) VALUES ({marks})", rows)
            return len(rows)

        return measure(insert)


def best(runs: list[tuple[float, float, int]]) -> tuple[float, float]:
    """(messages per CPU second, per wall second) of the fastest run."""
    cpu, _, count = min(runs)
    return count / cpu, count / min(run[1] for run in runs)


def bench_file(path: Path, template: Path, workdir: Path, batch_size: int, repeat: int) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    figures: dict[str, tuple[float, float]] = {}
    figures["parse"] = best([measure(parse_only, path, batch_size) for _ in range(repeat)])
    for name, work in (("store", store_only), ("import", full_import)):
        runs = []
        for run in range(repeat):
            fresh_database(template, workdir / f"{path.stem}-{name}-{run}.sqlite3")
            runs.append(measure(work, path, batch_size))
        figures[name] = best(runs)
    figures["floor"] = best([insert_floor() for _ in range(repeat)])
    figures["sentiment"] = best([measure(sentiment_only, texts) for _ in range(repeat)])
    ratio = figures["sentiment"][0] / figures["import"][0]
    verdict = "within" if ratio <= TARGET_RATIO else "over"
    print(
        f"{path.name} ({len(texts)} messages): "
        + "; ".join(f"{name} {cpu:.0f} ({wall:.0f})" for name, (cpu, wall) in figures.items())
        + f"; sentiment/import {ratio:.1f}x, {verdict} the {TARGET_RATIO:g}x target"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-bench-"))
    template = workdir / "template.sqlite3"
    setup_django(template)
    sentiment_only(["warm up the language detector and the lexicons"])
    print(
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.1f}; SQLite (WAL), a fresh database per run; "
        f"batch size {args.batch_size}; best of {args.repeat}"
    )
    print("messages per second, CPU time (wall clock in brackets)")
    for path in args.files:
        if not path.exists():
            print(f"{path.name}: missing, skipped")
            continue
        bench_file(path, template, workdir, args.batch_size, args.repeat)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
