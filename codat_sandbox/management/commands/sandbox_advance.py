import time

from django.core.management.base import BaseCommand

from codat_sandbox import engine, limits


class Command(BaseCommand):
    help = "Progress the Codat sandbox's due syncs, push operations, pulls and webhooks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running (for a web process without the thread).",
        )
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between ticks.")

    def handle(self, *args, loop: bool, interval: float, **options):
        processed = engine.advance()
        while loop:
            time.sleep(interval)
            processed += engine.advance()
            limits.prune()
        return f"Processed {processed} item(s)."
