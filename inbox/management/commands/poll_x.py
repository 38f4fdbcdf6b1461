"""`poll_x SLUG [--once]`: read X mentions and DMs through the API v2 into the intake."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from inbox.models import Account
from inbox.x_polling import PollError, poll_once


class Command(BaseCommand):
    help = "Poll the X API v2 for mentions and DMs of an X account (since_id checkpoints)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between passes")

    def handle(self, *args, slug: str, once: bool, interval: float, **options):
        account = Account.objects.filter(slug=slug, platform="x").first()
        if account is None:
            raise CommandError(f"no X account with slug {slug!r}")
        while True:
            close_old_connections()
            try:
                stored = poll_once(account)
                self.stdout.write(f"{slug}: {stored} deliveries stored")
            except PollError as exc:
                if once:
                    raise CommandError(str(exc)) from None
                self.stderr.write(f"{slug}: {exc}")
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
            account.refresh_from_db()
