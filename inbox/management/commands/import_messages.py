"""`import_messages FILE --format twcs|airline|jsonl --account SLUG`: bulk import of a file.

Each batch goes through the same intake as a webhook delivery (store, sentiment, threading)
in its own transaction, with live events and automatic replies switched off. Known external
ids are skipped by the store, so running the same import again adds nothing, and an import
stopped half-way is finished by running it again. Sentiment is scored in worker processes
(`--workers`, default one per core) while this process files the batches before.
"""

import gc
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from inbox.filed_in_parts import PartFilers
from inbox.handoff import batch_handler, import_text_ahead
from inbox.importers import FORMATS, ImportFileError, Tally, estimate_records
from inbox.models import Account
from sentiment.pool import default_workers, scored_batches

# Threads filing a batch's parts at once on PostgreSQL: two hide most of the waits on
# the database (`inbox.filed_in_parts`); more parts only add statements.
FILERS_ON_POSTGRESQL = 2
# Messages per batch for each filer: fewer statements per message than smaller batches
# (with two filers, 2,000 rather than 1,000 a batch filed 3-10 % faster on PostgreSQL),
# and a batch's rows and scores held at once stay a few megabytes.
BATCH_PER_FILER = 1000
# Allocations between collections of the youngest objects during an import (Python: 700).
YOUNG_COLLECTION_EVERY = 20_000


def commit_without_flush() -> None:
    """PostgreSQL: this transaction's commit does not wait for its log to reach the disk.

    A crash may lose the last batches committed; the import is idempotent, so running it
    again files them, and nothing is ever half written. SQLite's WAL with synchronous=NORMAL
    already commits so.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class Command(BaseCommand):
    help = "Import messages from a file (twcs, airline or jsonl) into an account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path of the file to import")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), dest="format")
        parser.add_argument("--account", required=True, help="slug of the receiving account")
        parser.add_argument(
            "--batch-size",
            type=int,
            help=f"messages per batch (default: {BATCH_PER_FILER} per filer)",
        )
        parser.add_argument(
            "--brand", help="keep only this brand's messages (twcs: author id; airline: airline)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="processes scoring sentiment beside this one; 1 scores here (default: cores)",
        )
        parser.add_argument(
            "--filers",
            type=int,
            help="threads filing each batch's independent parts at once, PostgreSQL only "
            f"(default: {FILERS_ON_POSTGRESQL} there, 1 on SQLite)",
        )
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="skip records that cannot be read and count them, instead of stopping",
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(
                f"no account with slug {options['account']!r}; create it with create_account"
            )
        fmt = FORMATS[options["format"]]
        if options["brand"] and not fmt.has_brands:
            raise CommandError(f"--brand does not apply to --format {options['format']}")
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        filers = self.filers(options["filers"])
        batch_size = options["batch_size"]
        if batch_size is None:
            batch_size = BATCH_PER_FILER * filers
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")

        started = time.perf_counter()
        tally = Tally()
        new = known = 0
        handler = batch_handler()
        filer = PartFilers(
            filers,
            lambda messages, moods: handler(account, messages, live=False, sentiments=moods),
            commit_without_flush,
        )
        work_out, found = import_text_ahead()
        batches = fmt.read(
            path,
            batch_size=batch_size,
            brand=options["brand"],
            skip_bad=options["skip_bad"],
            tally=tally,
        )
        progress = tqdm(
            total=estimate_records(path, options["format"]),
            unit="msg",
            file=sys.stderr,
            disable=True if options["verbosity"] == 0 else None,
        )
        # What is loaded by now (Django, the lexicons) lasts the whole run: the collector's
        # full passes need not walk it again. A batch allocates tens of thousands of
        # objects that reference counting frees; collecting the youngest every 700 of them
        # costs more than the few cycles it finds.
        threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(YOUNG_COLLECTION_EVERY, *threshold[1:])
        try:
            with progress:
                scored = scored_batches(
                    batches,
                    lambda message: message.text,
                    workers=options["workers"],
                    also=work_out,
                )
                for batch, sentiments, ahead in scored:
                    if ahead is not None:
                        found([message.text for message in batch], ahead)
                    for result in filer.file_batch(batch, sentiments):
                        new += len(result.new)
                        known += result.duplicates
                    progress.update(len(batch))
                progress.total = progress.n
        except ImportFileError as exc:
            raise CommandError(
                f"{path}: {exc} (stopped after {new} new messages; "
                "fix the file and run again, or pass --skip-bad)"
            ) from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        finally:
            filer.close()
            gc.set_threshold(*threshold)
            gc.unfreeze()

        elapsed = time.perf_counter() - started
        rate = (new + known) / elapsed if elapsed > 0 else 0.0
        summary = (
            f"imported {new} new messages, {known} already known, "
            f"in {elapsed:.1f} s ({rate:.0f} msg/s)"
        )
        if tally.bad:
            summary += f"; skipped {tally.bad} bad records"
        if tally.filtered:
            summary += f"; left out {tally.filtered} records of other brands"
        self.stdout.write(summary)

    @staticmethod
    def filers(asked: int | None) -> int:
        """Threads filing each batch's parts: more than one on PostgreSQL only, and only
        outside a transaction (the others' connections would not see what it wrote)."""
        alone = connection.vendor != "postgresql" or connection.in_atomic_block
        if asked is None:
            return 1 if alone else FILERS_ON_POSTGRESQL
        if asked < 1:
            raise CommandError("--filers must be at least 1")
        if asked > 1 and connection.vendor != "postgresql":
            raise CommandError("--filers above 1 needs PostgreSQL: SQLite writes one at a time")
        if asked > 1 and connection.in_atomic_block:
            raise CommandError(
                "--filers above 1 cannot run inside a transaction: the other filers' "
                "connections would not see what it wrote"
            )
        return asked
