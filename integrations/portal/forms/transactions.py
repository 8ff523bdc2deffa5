"""The transactions area's inputs: the list's filters, "Sync now" and a receipt upload."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from django import forms
from django.db.models import Q

from integrations.syncs.services import attach
from integrations.transactions.models import Transaction

Plain = Transaction.PlainStatus
Kind = Transaction.Kind

# The kinds a customer's list filters by (adjustments are a QuickBooks Desktop corner case and
# still show under "all kinds").
KIND_CHOICES = [
    ("", "All kinds"),
    (Kind.EXPENSE, "Card expenses"),
    (Kind.REIMBURSABLE, "Reimbursable claims"),
    (Kind.TRANSFER, "Transfers"),
]

# The order the status chips read in: what needs the person first.
STATUS_ORDER = (
    Plain.NEEDS_ATTENTION,
    Plain.FAILED,
    Plain.RECEIPT_MISSING,
    Plain.READY,
    Plain.QUEUED,
    Plain.SYNCING,
    Plain.IN_LEDGER,
    Plain.DRAFT,
    Plain.HANDLED_OUTSIDE,
)


class TransactionFilterForm(forms.Form):
    """The list's query string. Every field is optional; a bad value is reported and ignored
    (the list then shows everything that the valid fields allow)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Merchant, description, amount or id"}
        ),
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All statuses"), *Plain.choices]
    )
    kind = forms.ChoiceField(label="Kind", required=False, choices=KIND_CHOICES)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def values(self) -> dict:
        """The valid filters only (a bad field is dropped, not fatal)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}

    def filter_without_status(self, rows, values: dict):
        """Everything but the status: the chips count within these."""
        if kind := values.get("kind"):
            rows = rows.filter(kind=kind)
        if start := values.get("date_from"):
            rows = rows.filter(issue_date__gte=start)
        if end := values.get("date_to"):
            rows = rows.filter(issue_date__lte=end)
        if text := values.get("q"):
            rows = rows.filter(search_filter(text))
        return rows


def search_filter(text: str) -> Q:
    """Merchant, reference, notes, an amount (total or net) or the transaction's id."""
    text = text.strip()
    found = (
        Q(merchant_name__icontains=text) | Q(reference__icontains=text) | Q(notes__icontains=text)
    )
    try:
        found |= Q(pk=uuid.UUID(text))
    except ValueError:
        if len(text) >= 8 and all(c in "0123456789abcdef-" for c in text.lower()):
            # The shortened id the list shows (its first characters).
            found |= Q(pk__startswith=text.lower())
    try:
        amount = Decimal(text.replace(",", "").lstrip("£$€"))
    except InvalidOperation:
        return found
    if amount.is_finite():
        found |= Q(net_amount=amount) | Q(from_amount=amount) | Q(total=amount)
    return found


class SyncNowForm(forms.Form):
    """ "Sync now" from the list: the rows ticked, everything ready, or every failed row again.
    Ids are looked up inside the company only, so another company's id is refused as invalid,
    never acted on."""

    SELECTED, READY, FAILED = "selected", "ready", "failed"

    action = forms.ChoiceField(
        choices=[
            (SELECTED, "Sync the selected rows"),
            (READY, "Sync everything ready"),
            (FAILED, "Retry every failed row"),
        ]
    )
    ids = forms.ModelMultipleChoiceField(queryset=Transaction.objects.none(), required=False)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].queryset = Transaction.objects.filter(company=company)
        self.fields["ids"].error_messages["invalid_choice"] = (
            "Some of the chosen transactions are not this company's, or no longer exist."
        )
        self.fields["ids"].error_messages["invalid_pk_value"] = "That is not a transaction id."

    def clean(self):
        data = super().clean()
        if data.get("action") == self.SELECTED and not data.get("ids") and "ids" not in self.errors:
            raise forms.ValidationError("Tick the transactions to sync first.")
        return data

    def chosen_ids(self):
        """The ticked rows' ids, or None for "everything" (ready, or failed)."""
        if self.cleaned_data["action"] == self.SELECTED:
            return [t.pk for t in self.cleaned_data["ids"]]
        return None

    @property
    def retry_failed(self) -> bool:
        # Ticking a failed row and pressing "Sync selected" is asking to try it again.
        return self.cleaned_data["action"] in (self.SELECTED, self.FAILED)


class ReceiptUploadForm(forms.Form):
    """One receipt file, checked against what the company's ledger accepts, by its real type
    (sniffed from the bytes) and size, before anything is stored."""

    file = forms.FileField(label="Receipt")

    def __init__(self, *args, transaction, platform, **kwargs):
        super().__init__(*args, **kwargs)
        self.transaction = transaction
        self.platform = platform
        self.file_type = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem, self.file_type = attach.check_upload(self.platform, self.transaction, upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload
