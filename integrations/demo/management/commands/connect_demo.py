from django.core.management.base import BaseCommand, CommandError

from integrations.demo import connect
from integrations.demo.simulator import talks_to_sandbox


class Command(BaseCommand):
    help = (
        "Connect the demo companies to the embedded Codat sandbox and map their categories, "
        "cards and defaults, as a customer would (safe to re-run; needs the web server)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=120,
            help="Seconds to wait for each company's first ledger read (default 120).",
        )

    def handle(self, *args, timeout, **options):
        if not talks_to_sandbox():
            # `make run` against real Codat: there is nothing to click through, and no demo
            # company should ever be connected to a real ledger.
            return "Not connecting the demo companies: the portal does not use the sandbox."
        try:
            done = connect.connect_demo_companies(timeout=timeout)
        except connect.DemoConnectError as exc:
            raise CommandError(f"Demo companies not connected: {exc}") from exc
        for name, steps in done.items():
            self.stdout.write(f"{name}: {'; '.join(steps) or 'already connected and mapped'}")
        return "Demo companies connected."
