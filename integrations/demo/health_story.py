"""A failing company for the small demo, so staff find something on the sync-health pages.

Initech Supplies' history: yesterday's sync went through; today's was refused by its ledger
(5130, an account archived there), so three card payments failed, and one category was never
mapped. It is history only: its Codat ids are made up (no sandbox company behind them) and its
automatic sync is off, so no worker tries to reach Codat for it. `seed_demo` calls this; it is
idempotent (ids derived from a namespace, nothing made twice).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from integrations.companies.models import Company, Connection, Membership
from integrations.ledger.models import ExpenseCategory
from integrations.syncs.models import Sync, SyncTransaction
from integrations.syncs.services import health, reconcile
from integrations.transactions.models import Transaction

NAME = "Initech Supplies Ltd"
NAMESPACE = uuid.UUID("0c6b6f0a-3f0e-4c1e-9b7a-1d5e2b9c8a41")
ARCHIVED = "Account '6120' is archived and cannot be used."

# merchant, net, days ago, the sync it went in ("ok" yesterday, "failed" today)
SPEND = [
    ("Staples", "42.10", 3, "ok"),
    ("Uber", "18.40", 2, "ok"),
    ("Office Depot", "129.99", 1, "failed"),
    ("FedEx", "36.75", 1, "failed"),
    ("Amazon Business", "310.00", 0, "failed"),
]


def _id(label: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, label)


def seed(owner) -> bool:
    """Make the story once; True if it was made now."""
    if Sync.objects.filter(codat_sync_id=_id("sync/failed")).exists():
        return False
    now = timezone.now()
    company, _ = Company.objects.get_or_create(
        name=NAME, defaults={"codat_company_id": _id("company"), "auto_sync_enabled": False}
    )
    Membership.objects.get_or_create(
        user=owner, company=company, defaults={"role": Membership.Role.OWNER}
    )
    Connection.objects.get_or_create(
        codat_connection_id=_id("connection"),
        defaults={
            "company": company,
            "platform_key": "qhyg",
            "platform_name": "QuickBooks Online",
            "source_type": Connection.SourceType.ACCOUNTING,
            "status": Connection.Status.LINKED,
        },
    )
    office, _ = ExpenseCategory.objects.get_or_create(
        company=company, code="OFFICE", defaults={"name": "Office supplies"}
    )
    ExpenseCategory.objects.get_or_create(
        company=company, code="POSTAGE", defaults={"name": "Postage"}
    )
    syncs = {
        "ok": (now - timedelta(days=1), Sync.StatusCode.SUCCESS),
        "failed": (now - timedelta(hours=2), Sync.StatusCode.WRITE_ERROR),
    }
    made = {}
    for label, (when, code) in syncs.items():
        made[label] = Sync.objects.create(
            company=company,
            codat_sync_id=_id(f"sync/{label}"),
            kind=Sync.Kind.EXPENSE,
            status_code=code,
            status_text="Complete" if label == "ok" else "PushError",
            error_message="" if label == "ok" else "One or more transactions failed to write.",
            data_pushed=label == "ok",
            send_state=Sync.SendState.ACCEPTED,
            requested_at=when,
            completed_at=when + timedelta(minutes=1),
        )
    for index, (merchant, net, days_ago, label) in enumerate(SPEND):
        ok = label == "ok"
        txn = Transaction.objects.create(
            id=_id(f"transaction/{index}"),
            company=company,
            kind=Transaction.Kind.EXPENSE,
            expense_type=Transaction.ExpenseType.PAYMENT,
            category=office,
            merchant_name=merchant,
            issue_date=timezone.localdate() - timedelta(days=days_ago),
            currency="USD",
            net_amount=Decimal(net),
            status=Transaction.Status.COMPLETED if ok else Transaction.Status.FAILED,
            created_at=now - timedelta(days=days_ago, hours=3),
            status_changed_at=made[label].completed_at,
            ledger_record_id=f"{1000 + index}" if ok else "",
            **(
                {}
                if ok
                else Transaction.attention(
                    Transaction.AttentionCode.REJECTED_BY_LEDGER,
                    reconcile.readable_reason(SyncTransaction.Status.PUSH_ERROR, ARCHIVED),
                    Transaction.Screen.CATEGORY_MAPPING,
                )
            ),
        )
        SyncTransaction.objects.create(
            sync=made[label],
            transaction=txn,
            status=SyncTransaction.Status.COMPLETED if ok else SyncTransaction.Status.PUSH_ERROR,
            message=f"{1000 + index}" if ok else ARCHIVED,
            ledger_record_id=f"{1000 + index}" if ok else "",
        )
    for sync in made.values():
        items = list(sync.items.values_list("status", flat=True))
        Sync.objects.filter(pk=sync.pk).update(
            total_count=len(items),
            completed_count=items.count(SyncTransaction.Status.COMPLETED),
            failed_count=items.count(SyncTransaction.Status.PUSH_ERROR),
        )
        health.sync_closed(sync.pk)
    return True
