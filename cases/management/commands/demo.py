"""`demo [--if-empty] [--seed N] [--messages N]`: the demo data `make run` serves.

Teams, the demo users (password "demo"), four connected accounts, knowledge base, canned
replies, routing rules and a week of customer messages in English and German, fed through
the real intake. It loads into an empty database only; with `--if-empty` a second
`make run` keeps what is there.
"""

import time
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases import demo
from cases.models import Case
from inbox.models import Account, Message
from inbox.outbound.outbox import wait_for_sends


class Command(BaseCommand):
    help = "Load the demo: users, accounts, configuration and a week of customer messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when there is an account already"
        )
        parser.add_argument("--seed", type=int, default=7, help="seed of the generated data")
        parser.add_argument(
            "--messages", type=int, default=400, help="about how many messages to write"
        )

    def handle(self, *args, **options) -> None:
        if Account.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo data already present")
                return
            raise CommandError(
                "the database has accounts already; the demo loads into an empty database "
                "(--if-empty skips it quietly)"
            )
        if options["messages"] < 1:
            raise CommandError("--messages must be at least 1")
        started = time.perf_counter()
        demo.load(
            seed=options["seed"], messages=options["messages"], progress=options["verbosity"] > 0
        )
        wait_for_sends()  # the demo's automatic replies, before the summary counts them
        elapsed = time.perf_counter() - started
        for line in summary():
            self.stdout.write(line)
        self.stdout.write(f"demo loaded in {elapsed:.1f} s")


def summary() -> list[str]:
    def counted(rows) -> str:
        return ", ".join(f"{key or '?'} {n}" for key, n in sorted(Counter(rows).items()))

    messages = list(Message.objects.values_list("direction", "channel", "language"))
    cases = list(Case.objects.values_list("status", "tier_id", "priority"))
    users = list(get_user_model().objects.order_by("pk").values_list("username", flat=True))
    inbound = sum(1 for m in messages if m[0] == "in")
    return [
        f"users: {len(users)}: {', '.join(users)}",
        f"accounts: {Account.objects.count()}",
        *(
            f"  {a.slug} ({a.platform}): secret {a.secret}, verify token {a.verify_token}, "
            f"own ids {', '.join(a.own_ids)}"
            for a in Account.objects.all()
        ),
        f"messages: {len(messages)} ({inbound} in, {len(messages) - inbound} out)",
        f"  channels: {counted(m[1] for m in messages)}",
        f"  languages: {counted(m[2] for m in messages)}",
        f"cases: {len(cases)}",
        f"  status: {counted(c[0] for c in cases)}",
        f"  tiers: {counted(c[1] for c in cases)}",
        f"  priorities: {counted(c[2] for c in cases)}",
        f"log in at /accounts/login/ as {', '.join(demo.LOGINS)} with password {demo.PASSWORD!r}",
    ]
