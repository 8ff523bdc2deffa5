"""Changes to transactions already in the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from codat_sandbox.models import SandboxSync
from integrations.syncs.models import Sync
from integrations.syncs.services import edits, follow, platforms, preflight, push
from integrations.transactions.models import Transaction

from .helpers import PIPELINE, linked_portal

pytestmark = PIPELINE


def _in_ledger(portal, **fields):
    txn = portal.expense(**fields)
    preflight.preflight_company(portal.company.pk)
    push.push_company(portal.company.pk)
    follow.poll_due()
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED
    return txn


def test_a_changed_payment_goes_through_codats_update(codat):
    portal = linked_portal(codat)
    txn = _in_ledger(portal, net_amount=Decimal("10.00"))
    [record] = portal.ledger_records(txn)

    Transaction.objects.filter(pk=txn.pk).update(net_amount=Decimal("12.00"))
    assert edits.submit_edit(txn.pk)
    assert preflight.preflight_company(portal.company.pk).queued == 1
    assert push.push_company(portal.company.pk).sent == 1
    follow.poll_due()

    txn.refresh_from_db()
    assert (txn.status, txn.pending_edit) == (Transaction.Status.COMPLETED, False)
    assert txn.ledger_record_id == record.record_id
    [changed] = portal.ledger_records(txn)
    assert changed.record_id == record.record_id and changed.data["netAmount"] == Decimal("12.00")
    assert sorted(SandboxSync.objects.values_list("kind", flat=True)) == [
        "expense",
        "expense_update",
    ]
    assert Sync.objects.filter(kind=Sync.Kind.EXPENSE_UPDATE, status_code=2000).exists()


def test_a_change_codat_cannot_send_is_flagged_with_what_to_do(codat):
    portal = linked_portal(codat)
    txn = _in_ledger(portal, expense_type="Refund")

    assert edits.submit_edit(txn.pk)
    preflight.preflight_company(portal.company.pk)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.NEEDS_ATTENTION
    assert txn.attention_code == Transaction.AttentionCode.EDIT_NOT_SUPPORTED
    assert txn.attention_screen == Transaction.Screen.LEDGER
    assert "QuickBooks Online itself" in txn.needs_attention_reason
    assert push.push_company(portal.company.pk).sent == 0

    assert edits.mark_changed_in_ledger(txn.pk)
    txn.refresh_from_db()
    assert (txn.status, txn.pending_edit) == (Transaction.Status.COMPLETED, False)


@pytest.mark.parametrize(
    ("kind", "expense_type", "operation"),
    [
        ("expense", "Payment", "expense_update"),
        ("expense", "Refund", None),
        ("reimbursable", "", "reimbursable_update"),
        ("transfer", "", "transfer_update"),
        ("adjustment", "", None),
    ],
)
def test_which_changes_codat_can_send(kind, expense_type, operation):
    assert platforms.update_operation(kind, expense_type) == operation
