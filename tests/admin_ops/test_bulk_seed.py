"""The bulk seeder at a tiny size: the story every generated company tells holds together."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Q

from integrations.companies.management.commands import seed_demo
from integrations.companies.models import Company, Connection
from integrations.syncs.models import (
    CompanyHealth,
    ErrorCluster,
    Sync,
    SyncTransaction,
    WebhookEvent,
)
from integrations.transactions.models import Receipt, Transaction

pytestmark = pytest.mark.django_db

FAILED_ITEMS = ["PushError", "ValidationError"]


def test_a_tiny_bulk_seed_is_consistent():
    """One seed, every check (the seed is the slow part, so it runs once)."""
    call_command("seed_demo", companies=20, transactions=500, seed=3, stdout=None)
    demo = [spec["name"] for spec in seed_demo.COMPANIES]
    seeded = Company.objects.exclude(name__in=demo)
    seeded_ids = list(seeded.values_list("pk", flat=True))
    check_it_makes_the_companies_and_transactions_asked_for(seeded)
    check_each_transaction_status_matches_its_sync_history(seeded)
    check_sync_counts_match_their_items_and_each_finished_sync_has_its_webhook()
    check_receipts_belong_to_spend_in_the_ledger()
    check_health_summaries_are_rebuilt_for_every_company()
    # The seeder chooses primary keys itself; the database's own must not collide with them.
    company = Company.objects.create(name="Made afterwards")
    assert company.pk > max(seeded_ids)


def check_it_makes_the_companies_and_transactions_asked_for(seeded):
    assert seeded.count() == 20
    assert Transaction.objects.filter(company__in=seeded).count() == 500
    assert set(Transaction.objects.values_list("status", flat=True)) >= {
        "completed",
        "failed",
        "ready",
    }
    # Mixed platforms on the accounting connections.
    platforms = Connection.objects.filter(source_type="Accounting").values("platform_key")
    assert platforms.distinct().count() > 1


def check_each_transaction_status_matches_its_sync_history(seeded):
    latest = {}
    for item in SyncTransaction.objects.select_related("sync").order_by("sync__requested_at"):
        latest[item.transaction_id] = item
    for txn in Transaction.objects.filter(company__in=seeded):
        item = latest.get(txn.pk)
        if txn.status == "completed":
            assert item is not None and item.status == "Completed" and txn.ledger_record_id
        elif txn.status == "failed":
            assert item.status in FAILED_ITEMS and txn.needs_attention_reason
        elif txn.status == "syncing":
            assert item.status == "Pending" and not item.sync.is_terminal
        else:
            assert item is None or item.status in FAILED_ITEMS


def check_sync_counts_match_their_items_and_each_finished_sync_has_its_webhook():
    syncs = Sync.objects.annotate(
        items_total=Count("items"),
        items_done=Count("items", filter=Q(items__status="Completed")),
        items_failed=Count("items", filter=Q(items__status__in=FAILED_ITEMS)),
    )
    assert syncs.exists()
    for sync in syncs:
        assert (sync.total_count, sync.completed_count, sync.failed_count) == (
            sync.items_total,
            sync.items_done,
            sync.items_failed,
        )
    finished = Sync.objects.filter(status_code__gte=2000).count()
    assert WebhookEvent.objects.count() == finished


def check_receipts_belong_to_spend_in_the_ledger():
    receipts = Receipt.objects.select_related("transaction")
    assert receipts.exists()
    assert {r.transaction.status for r in receipts} == {"completed"}
    assert not receipts.filter(upload_status="uploaded", codat_attachment_id="").exists()


def check_health_summaries_are_rebuilt_for_every_company():
    assert CompanyHealth.objects.count() == Company.objects.count()
    # Failures recur across customers with different ids: they cluster.
    assert ErrorCluster.objects.exists()
    assert ErrorCluster.objects.aggregate(most=Max("total_transactions"))["most"] > 1
