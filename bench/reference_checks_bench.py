"""What filing costs per message with the foreign keys checked per row or per table.

PostgreSQL only. Batches of new customers' messages go through the intake
(`cases.intake.intake_messages`, live=False, sentiment given) one transaction each, on a
database of the bench's own beside DATABASE_URL's; for each batch size the script prints
the median wall time per message, best of four alternated rounds, with the per-row triggers
("rows") and with `inbox.references.checked_together` ("together"). The smallest size at
which "together" wins is where `CHECKED_TOGETHER_FROM` belongs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caremgr_dev \\
        .venv/bin/python bench/reference_checks_bench.py [--sizes 1 10 50 100 300 1000]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from import_bench import Database

ROUNDS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 100, 300, 1000])
    options = parser.parse_args()
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL")
    database = Database(given, Path(tempfile.mkdtemp(prefix="caremgr-bench-")))
    try:
        database.setup_django()
        database.fresh()
        run(options.sizes)
    finally:
        database.drop()


def run(sizes: list[int]) -> None:
    from django.db import transaction

    import inbox.references as references
    from cases.intake import intake_messages
    from inbox.connectors.base import ParsedMessage, Person
    from inbox.models import Account
    from sentiment import Sentiment

    account = Account.objects.create(platform="x", slug="bench", secret="bench")
    mood = Sentiment("negative", -0.3, 0.6, "en")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0

    def batch(size: int) -> list[ParsedMessage]:
        nonlocal made
        made += size
        return [
            ParsedMessage(
                external_id=f"m{n}",
                channel="x",
                direction="in",
                kind="comment",
                is_public=True,
                text="my parcel is late again",
                author=Person(f"c{n}"),
                customer=Person(f"c{n}"),
                created_at=start + timedelta(seconds=n),
            )
            for n in range(made - size, made)
        ]

    together = references._triggers_may_be_left_out
    with transaction.atomic():
        if not together():
            sys.exit("this database user may not set session_replication_role")

    def per_row() -> bool:
        return False

    references.CHECKED_TOGETHER_FROM = 0  # every size, to find where it pays
    print("messages per batch: wall ms per message, median of a round, best of rounds")
    for size in sizes:
        best: dict[str, float] = {}
        for mode in ("rows", "together") * ROUNDS:
            references._triggers_may_be_left_out = together if mode == "together" else per_row
            times = []
            for _ in range(max(3, 300 // size)):
                messages = batch(size)
                began = time.perf_counter()
                with transaction.atomic():
                    intake_messages(account, messages, live=False, sentiments=[mood] * size)
                times.append((time.perf_counter() - began) / size)
            best[mode] = min(best.get(mode, 1e9), statistics.median(times))
        references._triggers_may_be_left_out = together
        print(
            f"  {size:>5}: rows {best['rows'] * 1000:.3f}, together {best['together'] * 1000:.3f}"
        )


if __name__ == "__main__":
    main()
