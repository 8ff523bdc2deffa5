from django.core.management.base import BaseCommand, CommandError

from integrations.companies.models import Company
from integrations.demo import simulator


class Command(BaseCommand):
    help = (
        "Create simulated card spend, with receipts, ready to sync (development only: needs the "
        "embedded Codat sandbox). By default for each linked demo company."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--company",
            action="append",
            default=[],
            help="A company's name or id (repeatable). Default: the linked demo companies.",
        )
        parser.add_argument(
            "--count", type=int, help="Spends per company (default: 1 to 3 at random)."
        )
        parser.add_argument("--seed", type=int, help="Make the same spend every time.")

    def handle(self, *args, company, count, seed, **options):
        if count is not None and count < 1:
            raise CommandError("--count must be at least 1.")
        companies = [self.find(value) for value in company] or simulator.demo_companies()
        try:
            created = simulator.simulate_spend(companies, count=count, seed=seed)
        except simulator.SimulatorRefused as exc:
            raise CommandError(str(exc)) from exc
        for spend in created:
            self.stdout.write(f"{spend.company}: {spend.get_expense_type_display()} {spend}")
        return f"Created {len(created)} simulated spend(s)."

    def find(self, value):
        matches = Company.objects.filter(name=value)
        if value.isdigit():
            matches = matches | Company.objects.filter(pk=int(value))
        found = list(matches)
        if len(found) != 1:
            raise CommandError(f"No single company is named or numbered {value!r}.")
        return found[0]
