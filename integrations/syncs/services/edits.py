"""Stage 7: a transaction changed after it reached the ledger.

The partner's change is saved on the row first (by whoever edits it); `submit_edit` then sends
it the way new spend goes: through pre-flight, which parks it with "change it in the ledger"
where the platform takes no updates through Codat, and through the push, which sends Codat's
update (one PUT per transaction) instead of a create.
"""

from __future__ import annotations

from django.utils import timezone

from integrations.transactions.models import Transaction

# In the ledger, parked because the platform takes no updates, or a refused earlier change.
EDITABLE_IN_LEDGER = (
    Transaction.Status.COMPLETED,
    Transaction.Status.NEEDS_ATTENTION,
    Transaction.Status.FAILED,
)


def submit_edit(transaction_id) -> bool:
    """Queue the saved change to a transaction already in the ledger; False if it is not."""
    return bool(
        Transaction.objects.filter(pk=transaction_id, status__in=EDITABLE_IN_LEDGER)
        .exclude(ledger_record_id="")
        .update(
            status=Transaction.Status.READY,
            status_changed_at=timezone.now(),
            pending_edit=True,
        )
    )


def mark_changed_in_ledger(transaction_id) -> bool:
    """A person made the change in the accounting software itself: nothing is left to send."""
    return bool(
        Transaction.objects.filter(
            pk=transaction_id,
            pending_edit=True,
            attention_code=Transaction.AttentionCode.EDIT_NOT_SUPPORTED,
        ).update(
            status=Transaction.Status.COMPLETED,
            status_changed_at=timezone.now(),
            pending_edit=False,
            **Transaction.attention(),
        )
    )
