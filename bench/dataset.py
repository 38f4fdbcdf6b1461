"""Generate a realistic data set of N messages in M cases into a database, deterministically.

Distributions come from the real files in ../shared/data (twcs thread lengths, turn-taking
and response delays, hours of the day; customer and brand texts from twcs, the airline
tweets, the IBM care set and GermEval for German). Every case is filed through the product's
own rules (bench/generate/simulate.py), every text scored by our sentiment analyzer (once
per distinct text, cached). The rows go in by COPY on PostgreSQL, executemany on SQLite.
The same --seed and --now give the same data.

    .venv/bin/python bench/dataset.py --create --messages 1000000 --cases 200000 \\
        --database-url postgres://postgres@127.0.0.1:5432/caremgr_big
    .venv/bin/python bench/dataset.py --database-url sqlite:////tmp/quick.sqlite3 --create \\
        --messages 20000 --cases 4000
"""

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import ROOT, admin_sql, cpu_model, database_label, setup_django

BATCH_CASES = 2000


def prepare(url: str, create: bool) -> None:
    """Drop and create the target database (or SQLite file) when asked to."""
    if not create:
        return
    if url.startswith(("postgres://", "postgresql://")):
        name = urlsplit(url).path.lstrip("/")
        admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_sql(url, f'CREATE DATABASE "{name}"')
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def load(options) -> dict:
    """Generate and write everything; returns what a summary needs."""
    from django.db import connection, transaction
    from tqdm import tqdm

    from bench.generate import sources
    from bench.generate.cast import create_cast
    from bench.generate.simulate import (
        EVENT_COLUMNS,
        GenMessage,
        Ids,
        Simulator,
        arrival_times,
        thread_lengths,
    )
    from bench.generate.texts import ScoredTexts
    from bench.generate.write import (
        next_ids,
        reset_sequences,
        update_contacts,
        write,
        write_models,
    )
    from cases.models import Case, CaseEvent, ResponseTime
    from inbox.models import Contact, Message

    if Case.objects.exists() or Message.objects.exists():
        raise SystemExit("the database already holds cases or messages: use --create")
    began = time.perf_counter()
    shape = sources.learn(options.data)
    print(f"learned from {options.data}: {shape.summary()}")
    print(f"  ({time.perf_counter() - began:.1f} s)")
    rng = random.Random(options.seed)
    now = options.now
    created = arrival_times(shape, options.cases, now, options.days, rng)
    lengths = thread_lengths(shape, options.cases, options.messages, rng)
    models = {
        "contact": Contact,
        "case": Case,
        "message": Message,
        "event": CaseEvent,
        "response": ResponseTime,
    }
    with transaction.atomic():
        cast = create_cast()
    texts = ScoredTexts()
    simulator = Simulator(cast, shape, texts, Ids(next_ids(models)), now=now, seed=options.seed)
    totals = Counter()
    statuses, channels = Counter(), Counter()
    with tqdm(total=options.messages, unit="msg", desc="generate + load", smoothing=0.05) as bar:
        for start in range(0, options.cases, BATCH_CASES):
            stop = min(start + BATCH_CASES, options.cases)
            batch = simulator.run(created[start:stop], lengths[start:stop])
            with transaction.atomic():
                write_models(Contact, batch.contacts)
                write_models(Case, batch.cases)
                write(Message, list(GenMessage.COLUMNS), batch.messages)
                write(CaseEvent, list(EVENT_COLUMNS), batch.events)
                write_models(ResponseTime, batch.responses)
            for name in ("contacts", "cases", "messages", "events", "responses"):
                totals[name] += len(getattr(batch, name))
            statuses.update(case.status for case in batch.cases)
            channels.update(case.channel for case in batch.cases)
            bar.update(len(batch.messages))
    with transaction.atomic():
        update_contacts(simulator.changed_contacts.values())
        reset_sequences(models.values())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "totals": totals,
        "statuses": statuses,
        "channels": channels,
        "languages": simulator.language_use,
        "texts": len(texts.cache),
        "sentiment_seconds": texts.seconds,
        "seconds": time.perf_counter() - began,
        "label": database_label(connection),
    }


def share(counter: Counter | dict) -> str:
    total = sum(counter.values()) or 1
    top = sorted(counter.items(), key=lambda item: -item[1])
    return ", ".join(f"{key} {value / total:.1%}" for key, value in top[:8])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--create", action="store_true", help="drop and create the database")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=365, help="period the cases span")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
        help="end of the period, ISO 8601 (default: this hour)",
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    options = parser.parse_args()
    if not options.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    if not 1 <= options.cases <= 2_000_000 or not options.cases <= options.messages <= 10_000_000:
        parser.error("--cases 1..2,000,000 and --messages from --cases to 10,000,000")
    if options.now.tzinfo is None:
        options.now = options.now.replace(tzinfo=UTC)
    prepare(options.database_url, options.create)
    setup_django(options.database_url)
    result = load(options)
    totals = result["totals"]
    print(
        f"wrote {totals['messages']:,} messages, {totals['cases']:,} cases, "
        f"{totals['contacts']:,} contacts, {totals['events']:,} timeline entries, "
        f"{totals['responses']:,} response times in {result['seconds']:.0f} s "
        f"({totals['messages'] / result['seconds']:,.0f} messages/s)"
    )
    print(
        f"sentiment: {result['texts']:,} distinct texts analyzed in "
        f"{result['sentiment_seconds']:.1f} s CPU (cached per text)"
    )
    print(f"statuses: {share(result['statuses'])}")
    print(f"channels (cases): {share(result['channels'])}")
    print(f"languages (messages, detected): {share(result['languages'])}")
    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, {result['label']}, load average "
        f"{os.getloadavg()[0]:.1f}; seed {options.seed}, now {options.now.isoformat()}"
    )


if __name__ == "__main__":
    main()
