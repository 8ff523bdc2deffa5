from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import RestrictedError, Sum

from integrations.companies.models import Company
from integrations.ledger.models import Card
from integrations.syncs.models import SyncTransaction
from integrations.transactions.models import Receipt, Transaction

from .factories import (
    REFUSED,
    make_bank_account,
    make_card,
    make_category,
    make_company,
    make_receipt,
    make_sync,
    make_transaction,
)

pytestmark = pytest.mark.django_db


def rejected(**fields):
    with pytest.raises(REFUSED), transaction.atomic():
        make_transaction(**fields)


@pytest.mark.parametrize("currency", ["gbp", "GB", "GBPX", "G1P", ""])
def test_it_rejects_a_currency_that_is_not_a_three_letter_code(currency):
    rejected(currency=currency)


def test_it_requires_a_type_on_card_expenses():
    rejected(kind=Transaction.Kind.EXPENSE, expense_type="")
    rejected(kind=Transaction.Kind.EXPENSE, expense_type="TransferIn")


def test_it_refuses_a_type_on_other_kinds():
    rejected(kind=Transaction.Kind.REIMBURSABLE, expense_type="Payment")
    make_transaction(kind=Transaction.Kind.REIMBURSABLE, expense_type="")


def test_it_requires_a_reason_when_attention_is_needed():
    rejected(status=Transaction.Status.NEEDS_ATTENTION, needs_attention_reason="")
    txn = make_transaction(
        status=Transaction.Status.NEEDS_ATTENTION,
        needs_attention_reason="Travel is not mapped to a ledger account.",
    )
    assert txn.status == "needs_attention"


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-1.25")])
def test_it_rejects_a_currency_rate_that_is_not_positive(rate):
    rejected(currency_rate=rate)


@pytest.mark.parametrize("field", ["from_amount", "to_amount"])
def test_it_rejects_transfer_amounts_that_are_not_positive(field):
    rejected(kind="transfer", expense_type="", **{field: Decimal("0")})


def test_it_rejects_a_due_date_before_the_issue_date():
    rejected(issue_date=date(2026, 3, 14), due_date=date(2026, 3, 13))
    make_transaction(issue_date=date(2026, 3, 14), due_date=date(2026, 3, 14))


def test_it_round_trips_money_as_exact_decimals():
    txn = make_transaction(
        net_amount=Decimal("1234.5678"),
        tax_amount=Decimal("0.1"),
        currency_rate=Decimal("1.17654321"),
    )
    txn = Transaction.objects.get(pk=txn.pk)
    for value in (txn.net_amount, txn.tax_amount, txn.currency_rate):
        assert type(value) is Decimal
    assert txn.net_amount == Decimal("1234.5678")
    assert txn.tax_amount == Decimal("0.1")
    assert txn.currency_rate == Decimal("1.17654321")
    assert txn.total_amount == Decimal("1234.6678")


def test_it_adds_money_without_float_error():
    company = make_company()
    make_transaction(company, net_amount=Decimal("0.1"), tax_amount=Decimal("0"))
    make_transaction(company, net_amount=Decimal("0.2"), tax_amount=Decimal("0"))
    total = Transaction.objects.filter(company=company).aggregate(t=Sum("net_amount"))["t"]
    assert type(total) is Decimal
    assert total == Decimal("0.3")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps decimals as REAL, exact to about 15 significant digits",
)
def test_it_keeps_all_eighteen_digits_on_postgresql():
    txn = make_transaction(net_amount=Decimal("99999999999999.9999"))
    assert Transaction.objects.get(pk=txn.pk).net_amount == Decimal("99999999999999.9999")


def test_it_uses_its_own_uuid_as_the_codat_id():
    a, b = make_transaction(), make_transaction()
    assert a.pk != b.pk
    assert Transaction.objects.get(pk=str(a.pk)) == a


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"kind": "expense", "expense_type": "Refund"}, "expense-transactions.Refund"),
        ({"kind": "reimbursable", "expense_type": ""}, "reimbursable-expense-transactions"),
        ({"kind": "transfer", "expense_type": ""}, "transfer-transactions"),
        ({"kind": "adjustment", "expense_type": ""}, "adjustment-transactions"),
    ],
)
def test_it_names_its_codat_valid_for_entry(fields, key):
    assert Transaction(**fields).valid_for_key == key


def test_it_totals_a_transfer_by_what_left_the_account():
    company = make_company()
    txn = make_transaction(
        company,
        kind="transfer",
        expense_type="",
        from_bank_account=make_bank_account(company),
        from_amount=Decimal("500"),
        to_bank_account=make_bank_account(company, name="Current account"),
        to_amount=Decimal("585.25"),
    )
    assert txn.total_amount == Decimal("500")


def test_it_keeps_cards_and_categories_with_spend_against_them():
    company = make_company()
    card, category = make_card(company), make_category(company)
    make_transaction(company, card=card, category=category)
    with pytest.raises(RestrictedError):
        card.delete()
    with pytest.raises(RestrictedError):
        category.delete()


def test_it_keeps_transactions_that_have_been_synced():
    txn = make_transaction()
    SyncTransaction.objects.create(sync=make_sync(txn.company), transaction=txn)
    with pytest.raises(RestrictedError):
        txn.delete()


def test_it_deletes_everything_with_the_company():
    company = make_company()
    card = make_card(company)
    txn = make_transaction(company, card=card, category=make_category(company))
    SyncTransaction.objects.create(sync=make_sync(company), transaction=txn)
    make_receipt(txn)
    company.delete()
    assert not Company.objects.exists()
    assert not Card.objects.exists()
    assert not Transaction.objects.exists()
    assert not Receipt.objects.exists()


def test_it_rejects_a_negative_receipt_size():
    txn = make_transaction()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_receipt(txn, size=-1)


def test_it_needs_an_attachment_id_once_a_receipt_is_uploaded():
    txn = make_transaction()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_receipt(txn, upload_status=Receipt.UploadStatus.UPLOADED)
    receipt = make_receipt(txn, upload_status="uploaded", codat_attachment_id="att-1")
    assert receipt.upload_status == "uploaded"


def test_it_stores_receipts_under_an_opaque_name():
    txn = make_transaction()
    upload = SimpleUploadedFile("My Lunch.PDF", b"%PDF-1.4 receipt", "application/pdf")
    receipt = make_receipt(txn, file=upload, original_filename="My Lunch.PDF")
    assert receipt.file.name.startswith(f"receipts/{txn.company_id}/{txn.pk}/")
    assert receipt.file.name.endswith(".pdf")
    assert "Lunch" not in receipt.file.name
    assert receipt.file.read() == b"%PDF-1.4 receipt"


def test_it_builds_the_ready_index_as_a_partial_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Transaction._meta.db_table)
    assert constraints["transaction_ready_by_company"]["columns"] == ["company_id", "issue_date"]
