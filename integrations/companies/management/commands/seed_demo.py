import time
import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from integrations.companies.models import Company, Membership
from integrations.ledger.models import Card, ExpenseCategory
from integrations.transactions.models import Transaction

DEMO_PASSWORD = "expenses-demo"

# Transaction ids are derived from this namespace and a stable label, so a second run finds
# the rows the first one made instead of inventing new ids (ids are Codat's idempotency keys).
DEMO_NAMESPACE = uuid.UUID("6f1c1f0e-8a53-4c57-9d0e-3f4a2b1c5d7e")

USERS = [
    # username, first name, last name, staff
    ("alice", "Alice", "Archer", False),
    ("bob", "Bob", "Baker", False),
    ("carol", "Carol", "Cooper", False),
    ("dave", "Dave", "Dawson", False),  # the bookkeeper: accountant of both companies
    ("erin", "Erin", "Evans", False),
    ("staff", "Sam", "Staff", True),
]

COMPANIES = [
    {
        "name": "Acme Coffee Ltd",
        "members": [
            ("alice", Membership.Role.OWNER),
            ("bob", Membership.Role.VIEWER),
            ("dave", Membership.Role.ACCOUNTANT),
        ],
        "categories": [
            ("TRAVEL", "Travel"),
            ("MEALS", "Meals and entertainment"),
            ("SOFTWARE", "Software subscriptions"),
            ("SUPPLIES", "Coffee supplies"),
        ],
        "cards": [
            ("acme-0001", "Company card", "Alice Archer", "4242", "GBP"),
            ("acme-0002", "Travel card", "Bob Baker", "1881", "GBP"),
        ],
        "transactions": [
            # merchant, category, card, days ago, currency, net, tax, status
            ("Great Western Railway", "TRAVEL", "acme-0002", 12, "GBP", "84.50", "0.00", "ready"),
            ("Pret A Manger", "MEALS", "acme-0001", 9, "GBP", "18.25", "3.65", "ready"),
            ("Figma", "SOFTWARE", "acme-0001", 6, "USD", "45.00", "0.00", "draft"),
            ("Bean Bros Roasters", "SUPPLIES", "acme-0001", 3, "GBP", "240.00", "48.00", "draft"),
        ],
    },
    {
        "name": "Globex Outdoor Inc",
        "members": [
            ("carol", Membership.Role.OWNER),
            ("erin", Membership.Role.MEMBER),
            ("dave", Membership.Role.ACCOUNTANT),
        ],
        "categories": [
            ("TRAVEL", "Travel"),
            ("FUEL", "Fuel"),
            ("GEAR", "Equipment"),
        ],
        "cards": [
            ("globex-0001", "Operations card", "Carol Cooper", "5100", "USD"),
            ("globex-0002", "Field team card", "Dan Diaz", "7733", "USD"),
        ],
        "transactions": [
            ("Delta Air Lines", "TRAVEL", "globex-0001", 15, "USD", "412.80", "0.00", "ready"),
            ("Shell", "FUEL", "globex-0002", 8, "USD", "63.10", "5.05", "ready"),
            ("REI", "GEAR", "globex-0002", 4, "USD", "329.99", "26.40", "draft"),
        ],
    },
    {
        # Left unconnected on purpose (connect_demo links only the two above): the company in
        # which a person walks the whole journey by hand, from choosing the software on.
        "name": "Hooli Bakery Inc",
        "members": [
            ("alice", Membership.Role.OWNER),
            ("dave", Membership.Role.ACCOUNTANT),
        ],
        "categories": [
            ("TRAVEL", "Travel"),
            ("MEALS", "Meals"),
            ("FLOUR", "Ingredients"),
        ],
        "cards": [
            ("hooli-0001", "Bakery card", "Alice Archer", "3005", "USD"),
        ],
        "transactions": [
            ("Amtrak", "TRAVEL", "hooli-0001", 5, "USD", "84.00", "0.00", "ready"),
            ("Flour & Co", "FLOUR", "hooli-0001", 2, "USD", "41.50", "0.00", "ready"),
            ("King Arthur Baking", "FLOUR", "hooli-0001", 1, "USD", "126.00", "0.00", "draft"),
        ],
    },
]


class Command(BaseCommand):
    help = (
        "Create demo users, companies, cards, categories and transactions (safe to re-run). "
        "With --companies/--transactions, also add a large generated data set (for benchmarks)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--companies", type=int, default=0, help="Add this many generated companies."
        )
        parser.add_argument(
            "--transactions",
            type=int,
            default=0,
            help="Spread this many generated transactions over them (with syncs, receipts, ...).",
        )
        parser.add_argument("--seed", type=int, default=10, help="Random seed for the generator.")

    def handle(self, *args, **options):
        self.created = {}
        with transaction.atomic():
            users = {row[0]: self.seed_user(*row) for row in USERS}
            for spec in COMPANIES:
                self.seed_company(spec, users)
        made = ", ".join(f"{n} {label}" for label, n in self.created.items() if n) or "nothing"
        usernames = ", ".join(row[0] for row in USERS)
        if options["companies"] or options["transactions"]:
            self.seed_bulk(options["companies"], options["transactions"], options["seed"])
        return (
            f"Demo data ready (created {made}); log in as {usernames} "
            f"with password {DEMO_PASSWORD!r}."
        )

    def seed_bulk(self, companies, transactions, seed):
        # Imported here: the small demo must not depend on the generator's imports.
        from integrations.demo import bulk
        from integrations.syncs.services import health

        if companies < 1 or transactions < 0:
            raise CommandError("--companies must be at least 1 (and --transactions not negative).")
        self.stdout.write(f"Adding {companies:,} companies and {transactions:,} transactions...")
        stats = bulk.seed(
            companies=companies, transactions=transactions, seed=seed, stdout=self.stdout
        )
        started = time.monotonic()
        # The staff pages read precomputed summaries; make them match the new rows.
        health.rebuild_all()
        self.stdout.write(
            f"Generated {stats.line()}; health summaries rebuilt in "
            f"{time.monotonic() - started:.0f} s."
        )

    def count(self, label, created):
        self.created[label] = self.created.get(label, 0) + int(created)

    def seed_user(self, username, first_name, last_name, is_staff):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@example.com",
                "is_staff": is_staff,
                "is_superuser": is_staff,
            },
        )
        # Only touch the password when it is wrong: set_password salts afresh, so doing it on
        # every run would change the row each time.
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if (user.is_staff, user.is_superuser) != (is_staff, is_staff):
            user.is_staff = user.is_superuser = is_staff
            user.save(update_fields=["is_staff", "is_superuser"])
        self.count("users", created)
        return user

    def seed_company(self, spec, users):
        company, created = Company.objects.get_or_create(name=spec["name"])
        self.count("companies", created)
        for username, role in spec["members"]:
            _, created = Membership.objects.update_or_create(
                user=users[username], company=company, defaults={"role": role}
            )
            self.count("memberships", created)

        categories = {}
        for code, name in spec["categories"]:
            categories[code], created = ExpenseCategory.objects.get_or_create(
                company=company, code=code, defaults={"name": name}
            )
            self.count("categories", created)

        cards = {}
        for reference, name, cardholder, last_four, currency in spec["cards"]:
            cards[reference], created = Card.objects.get_or_create(
                company=company,
                reference=reference,
                defaults={
                    "name": name,
                    "cardholder": cardholder,
                    "last_four": last_four,
                    "currency": currency,
                },
            )
            self.count("cards", created)

        today = timezone.localdate()
        for index, row in enumerate(spec["transactions"]):
            merchant, category, card, days_ago, currency, net, tax, status = row
            _, created = Transaction.objects.get_or_create(
                id=uuid.uuid5(DEMO_NAMESPACE, f"{spec['name']}/{index}"),
                defaults={
                    "company": company,
                    "kind": Transaction.Kind.EXPENSE,
                    "expense_type": Transaction.ExpenseType.PAYMENT,
                    "card": cards[card],
                    "category": categories[category],
                    "merchant_name": merchant,
                    "issue_date": today - timedelta(days=days_ago),
                    "currency": currency,
                    "net_amount": Decimal(net),
                    "tax_amount": Decimal(tax),
                    "status": status,
                },
            )
            self.count("transactions", created)
