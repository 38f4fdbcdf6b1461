"""Bulk import speed against its two bounds: the sentiment engine and a bare INSERT.

Imports each twcs file with `import_messages` into a fresh SQLite database and prints the
end-to-end rate beside the rate of `sentiment.analyze` alone on the same texts (one core),
and beside a floor: the same message rows inserted with one executemany into a bare table
of the same database. The import's target is to stay within 2x of the sentiment rate.

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


def texts_of(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def time_import(path: Path, batch_size: int) -> tuple[float, int]:
    from django.core.management import call_command

    from inbox.models import Account, Message

    slug = "bench"
    account = Account.objects.create(platform="x", slug=slug, secret="bench")
    started = time.perf_counter()
    call_command(
        "import_messages",
        str(path),
        format="twcs",
        account=slug,
        batch_size=batch_size,
        verbosity=0,
        stdout=StringIO(),
    )
    elapsed = time.perf_counter() - started
    return elapsed, Message.objects.filter(account=account).count()


def time_sentiment(texts: list[str]) -> float:
    from sentiment import analyze

    started = time.perf_counter()
    for text in texts:
        analyze(text)
    return time.perf_counter() - started


def time_floor() -> tuple[float, int]:
    """executemany of the imported rows into a bare table (no index, no constraint)."""
    from django.db import connection, transaction

    from inbox.models import Message

    rows = list(Message.objects.values_list(*FLOOR_COLUMNS))
    names = ", ".join(FLOOR_COLUMNS)
    marks = ", ".join(["%s"] * len(FLOOR_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, {names})")
        raw = [(*row[:-1], str(row[-1])) for row in rows]
        started = time.perf_counter()
        with transaction.atomic():
            cursor.executemany(f"INSERT INTO bench_floor ({names}) VALUES ({marks})", raw)
        elapsed = time.perf_counter() - started
    return elapsed, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best counts")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="caremgr-bench-"))
    template = workdir / "template.sqlite3"
    setup_django(template)
    from sentiment import analyze

    analyze("warm up the language detector and the lexicons")
    print(
        f"machine: {os.cpu_count()} CPUs, {cpu_model()}; Python {platform.python_version()}; "
        f"SQLite (WAL), a fresh database per run in {workdir}; "
        f"batch size {args.batch_size}; best of {args.repeat}"
    )
    print(
        f"{'file':<24}{'messages':>9}{'import msg/s':>14}{'sentiment msg/s':>17}"
        f"{'ratio':>8}{'INSERT floor msg/s':>20}"
    )
    for path in args.files:
        if not path.exists():
            print(f"{path.name:<24} missing, skipped")
            continue
        texts = texts_of(path)
        runs = []
        for run in range(args.repeat):
            fresh_database(template, workdir / f"{path.stem}-{run}.sqlite3")
            runs.append(time_import(path, args.batch_size))
        import_seconds, stored = min(runs)
        sentiment_seconds = min(time_sentiment(texts) for _ in range(args.repeat))
        floor_seconds, floor_rows = min(time_floor() for _ in range(args.repeat))
        import_rate = stored / import_seconds
        sentiment_rate = len(texts) / sentiment_seconds
        ratio = sentiment_rate / import_rate
        verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO:g}x target"
        print(
            f"{path.name:<24}{stored:>9}{import_rate:>14.0f}{sentiment_rate:>17.0f}"
            f"{ratio:>7.2f}x{floor_rows / floor_seconds:>20.0f}  {verdict}"
        )


if __name__ == "__main__":
    main()
