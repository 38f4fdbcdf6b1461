"""`sla_monitor [--once]`: fire SLA warnings and breaches and score waiting cases again as
their wait grows, once or in a loop."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from cases import monitor, waiting


class Command(BaseCommand):
    help = (
        "Fire SLA warnings and breaches and raise waiting cases' priority "
        "(a loop beside the server, or once with --once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between passes")

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            close_old_connections()
            result = monitor.tick()
            waited = waiting.tick()
            if once or result.warnings or result.breaches:
                self.stdout.write(f"{result.warnings} warnings, {result.breaches} breaches")
            if waited.moved:
                self.stdout.write(f"{waited.moved} priorities raised by waiting")
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
