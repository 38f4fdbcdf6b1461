"""`replay_failed [--account SLUG] [--id N]`: process failed webhook deliveries again.

A delivery fails when its body could not be read or its processing raised; its body is
kept, so once the cause is fixed (a connector bug, a database outage, a body corrected by
an admin) it is replayed through the same handler as a fresh delivery, oldest first.
The handler records each outcome on the delivery (status, error, attempts).
"""

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from inbox.handoff import delivery_handler
from inbox.models import Account, Delivery, DeliveryStatus

ERRORS_SHOWN = 10


def first_line(text: str, limit: int = 300) -> str:
    return (text.splitlines() or ["(no error recorded)"])[0][:limit]


class Command(BaseCommand):
    help = "Re-process stored webhook deliveries that failed, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="only this account's deliveries (slug)")
        parser.add_argument(
            "--id", type=int, action="append", dest="ids", help="only this delivery (repeatable)"
        )

    def handle(self, *args, **options) -> None:
        failed = Delivery.objects.filter(status=DeliveryStatus.FAILED)
        if options["account"]:
            account = Account.objects.filter(slug=options["account"]).first()
            if account is None:
                raise CommandError(f"no account with slug {options['account']!r}")
            failed = failed.filter(account=account)
        if options["ids"]:
            self._check_ids(options["ids"])
            failed = failed.filter(pk__in=options["ids"])
        ids = list(failed.order_by("received_at", "id").values_list("pk", flat=True))
        if not ids:
            self.stdout.write("no failed deliveries to replay")
            return

        handler = delivery_handler()
        outcomes: dict[str, int] = {}
        for delivery_id in tqdm(
            ids,
            unit="delivery",
            file=sys.stderr,
            disable=True if options["verbosity"] == 0 else None,
        ):
            outcome = str(handler(delivery_id))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        ignored = outcomes.get(DeliveryStatus.IGNORED, 0)
        done = outcomes.get(DeliveryStatus.PROCESSED, 0) + ignored
        still = len(ids) - done
        summary = f"replayed {len(ids)} failed deliveries: {done} now processed"
        if ignored:
            summary += f" ({ignored} of them carried no message)"
        self.stdout.write(f"{summary}, {still} still failing")
        if still:
            self._show_errors(ids)

    def _check_ids(self, ids: list[int]) -> None:
        found = dict(Delivery.objects.filter(pk__in=ids).values_list("pk", "status"))
        missing = sorted(set(ids) - set(found))
        if missing:
            raise CommandError(f"no delivery with id {', '.join(map(str, missing))}")
        for pk, status in sorted(found.items()):
            if status != DeliveryStatus.FAILED:
                self.stdout.write(f"delivery {pk} is {status}, not failed: left as it is")

    def _show_errors(self, ids: list[int]) -> None:
        still = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.FAILED).order_by(
            "received_at", "id"
        )
        for delivery in still[:ERRORS_SHOWN]:
            self.stdout.write(f"delivery {delivery.pk}: {first_line(delivery.error)}")
        rest = still.count() - ERRORS_SHOWN
        if rest > 0:
            self.stdout.write(f"... and {rest} more")
