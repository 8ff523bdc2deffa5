"""Onboarding steps 2 and 3: accounts and contacts, categories, and records created in the
ledger from a chooser (the last against the embedded sandbox over real HTTP)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.companies.models import AuditEvent, Membership
from integrations.ledger import mapping
from integrations.ledger.models import (
    CardMapping,
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    LedgerAccount,
    LedgerRead,
    RecordStatus,
    TaxRate,
)
from integrations.ledger.writes import FieldSpec, fields_of
from integrations.transactions.models import Transaction
from tests.models import factories

Role = Membership.Role
PAYMENT = "expense-transactions.Payment"
REFUND = "expense-transactions.Refund"


# --- Pure functions ------------------------------------------------------------------------------


def _account(pk, name, **fields):
    values = {
        "valid_for": [PAYMENT, REFUND],
        "valid_transaction_types": ["Payment", "Refund"],
        "status": RecordStatus.ACTIVE,
    }
    values.update(fields)
    return LedgerAccount(pk=pk, name=name, **values)


def test_only_accounts_valid_for_the_transaction_type_are_offered():
    payment_only = _account(1, "Travel", valid_for=[PAYMENT])
    both = _account(2, "Meals")
    income = _account(3, "Cashback", valid_for=["expense-transactions.Reward"])
    archived = _account(4, "Old travel", status=RecordStatus.ARCHIVED)
    gone = _account(5, "Deleted", missing_since=timezone.now())
    bank = _account(6, "Card", is_bank_account=True)
    # An older answer without validFor: validTransactionTypes decides.
    legacy = _account(7, "Postage", valid_for=[], valid_transaction_types=["Payment"])
    accounts = [payment_only, both, income, archived, gone, bank, legacy]

    assert mapping.accounts_for(accounts, PAYMENT) == [payment_only, both, legacy]
    assert mapping.accounts_for(accounts, REFUND) == [both]
    assert mapping.accounts_for(accounts, "expense-transactions.Reward") == [income]


def test_only_tax_rates_valid_for_the_transaction_type_are_offered():
    any_type = TaxRate(pk=1, name="Standard", valid_transaction_types=[])
    payments = TaxRate(pk=2, name="Purchases", valid_transaction_types=["Payment"])
    refunds = TaxRate(pk=3, name="Sales", valid_transaction_types=["Refund"])
    gone = TaxRate(pk=4, name="Old", missing_since=timezone.now())
    rates = [any_type, payments, refunds, gone]
    assert mapping.tax_rates_for(rates, PAYMENT) == [any_type, payments]
    assert mapping.tax_rates_for(rates, REFUND) == [any_type, refunds]


def test_suggestion_from_names():
    accounts = [
        _account(1, "Travel and Subsistence"),
        _account(2, "Meals and Entertainment"),
        _account(3, "Software Subscriptions"),
    ]
    assert mapping.suggest_account("Taxis", accounts).account_id == 1
    assert mapping.suggest_account("Client dinners", accounts) is None
    assert mapping.suggest_account("Restaurants", accounts).account_id == 2
    saas = mapping.suggest_account("SaaS tools", accounts)
    assert (saas.account_id, saas.reason) == (3, "name match")
    assert mapping.suggest_account("", accounts) is None


def test_suggestion_from_how_similar_categories_were_mapped_wins_over_names():
    accounts = [_account(1, "Travel"), _account(2, "Staff travel (UK)")]
    mapped = [("Travel - UK", 2), ("Office", 1)]
    suggestion = mapping.suggest_account("Travel - US", accounts, mapped)
    assert suggestion.account_id == 2
    assert suggestion.reason == "how similar categories are mapped"
    # An account that may not be chosen (here: not offered) is never suggested.
    assert mapping.suggest_account("Travel - US", accounts[:1], mapped).account_id == 1


def test_the_form_fields_come_from_codats_options_model():
    option = {
        "type": "Object",
        "properties": {
            "nominalCode": {
                "type": "String",
                "displayName": "Nominal Code",
                "description": "Identifier for the nominal account.",
                "required": True,
                "validation": {
                    "warnings": [
                        {"field": "NominalCode", "details": "Max length of 10 characters."},
                        {"field": "NominalCode", "details": "Must be unique."},
                    ],
                    "information": [{"field": "NominalCode", "details": "Must be provided."}],
                },
            },
            "fullyQualifiedCategory": {
                "type": "String",
                "displayName": "Fully Qualified Category",
                "required": True,
                "options": [{"value": "Expense.Expense"}, {"value": "Asset.Current"}],
            },
            "addresses": {"type": "Array", "displayName": "Addresses"},
        },
    }
    code, category = fields_of(option)
    assert code == FieldSpec(
        name="nominalCode",
        label="Nominal Code",
        help="Identifier for the nominal account.",
        required=True,
        max_length=10,
        notes=("Max length of 10 characters.", "Must be unique."),
    )
    assert category.choices == ("Expense.Expense", "Asset.Current")
    assert category.required and category.max_length is None


# --- Pages ---------------------------------------------------------------------------------------


@pytest.fixture
def ledger(db):
    """A company whose ledger has been read, with a chart, contacts, a card and categories."""
    company = factories.make_company("Mapping Ltd", codat_company_id=uuid.uuid4())
    factories.make_connection(company)
    LedgerRead.objects.create(
        company=company, reason=LedgerRead.Reason.LINK, status=LedgerRead.Status.DONE
    )
    CompanyInfo.objects.create(company=company, base_currency="GBP")
    parent = factories.make_tracking_category(company, name="Department", has_children=True)
    return {
        "company": company,
        "travel": factories.make_ledger_account(company, name="Travel", nominal_code="7400"),
        "meals": factories.make_ledger_account(company, name="Meals", nominal_code="7500"),
        "income": factories.make_ledger_account(
            company,
            name="Cashback income",
            nominal_code="4900",
            account_type=LedgerAccount.Type.INCOME,
            valid_for=["expense-transactions.Reward"],
            valid_transaction_types=["Reward"],
        ),
        "tax": factories.make_tax_rate(company, valid_transaction_types=["Payment"]),
        "sales_tax": factories.make_tax_rate(
            company, name="Sales", valid_transaction_types=["Refund"]
        ),
        "sales": factories.make_tracking_category(company, name="Sales", parent=parent),
        "ops": factories.make_tracking_category(company, name="Ops", parent=parent),
        "bank": factories.make_bank_account(company, name="Amex"),
        "supplier": factories.make_supplier(company),
        "customer": factories.make_customer(company),
        "card": factories.make_card(company),
        "taxis": factories.make_category(company, name="Taxis", code="TAXI"),
        "lunch": factories.make_category(company, name="Lunch", code="LUNCH"),
    }


def _member(company, role=Role.ACCOUNTANT):
    user = factories.make_user()
    factories.make_membership(user, company, role)
    return user


@pytest.fixture
def accountant_client(client, ledger):
    client.force_login(_member(ledger["company"]))
    return client


def _url(name, company, *args):
    return reverse(f"portal:{name}", args=[company.pk, *args])


def test_the_pages_are_locked_until_the_ledger_has_been_read(client, db):
    company = factories.make_company()
    client.force_login(_member(company))
    for name in ("accounts", "categories"):
        response = client.get(_url(name, company))
        assert response.status_code == 200
        assert b"opens once your ledger has been read" in response.content
        assert _url("company", company).encode() in response.content


def test_categories_page_offers_only_payment_options(accountant_client, ledger):
    company = ledger["company"]
    response = accountant_client.get(_url("categories", company))
    assert response.status_code == 200
    html = response.content.decode()
    assert "7400 · Travel" in html and "7500 · Meals" in html
    assert "Cashback income" not in html, "an income account for rewards is not offered"
    assert "Sales (20%)" not in html, "a tax rate for refunds only is not offered"
    assert ">Department<" in html and ">Ops<" in html
    # Taxis is suggested the Travel account from its name.
    assert "Suggested: <strong>7400 · Travel</strong>" in html


def _row_post(client, ledger, category, **data):
    return client.post(
        _url("category-save", ledger["company"], category.pk), data, headers={"HX-Request": "true"}
    )


def test_inline_save_returns_the_row_and_the_counts(accountant_client, ledger):
    taxis = ledger["taxis"]
    response = _row_post(
        accountant_client,
        ledger,
        taxis,
        account=ledger["travel"].pk,
        tax_rate=ledger["tax"].pk,
        # The Region chooser left on "—" sends an empty value beside Department's.
        tracking=[ledger["ops"].pk, ""],
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="cat-{taxis.pk}"')
    assert "Saved" in html
    assert 'id="category-counts"' in html and 'hx-swap-oob="true"' in html
    assert "Unmapped <strong" in html and ">1</strong>" in html
    saved = CategoryMapping.objects.get(category=taxis)
    assert (saved.account, saved.tax_rate) == (ledger["travel"], ledger["tax"])
    assert list(saved.tracking_categories.all()) == [ledger["ops"]]
    event = AuditEvent.objects.get(action="mapping.category")
    assert event.company == ledger["company"] and event.object_label == "Taxis"
    assert event.changes["account"] == {"before": None, "after": ledger["travel"].pk}


@pytest.mark.parametrize(
    ("field", "bad"),
    [("account", "income"), ("tax_rate", "sales_tax"), ("account", "not-a-number")],
)
def test_inline_save_refused_shows_the_error_on_the_row_and_saves_nothing(
    accountant_client, ledger, field, bad
):
    value = ledger[bad].pk if bad in ledger else bad
    response = _row_post(accountant_client, ledger, ledger["taxis"], **{field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert "has-error" in html and 'aria-invalid="true"' in html
    assert "Choose " in html
    assert not CategoryMapping.objects.exists()
    assert not AuditEvent.objects.exists()


def test_without_javascript_a_refused_row_comes_back_with_the_choice_and_the_error(
    accountant_client, ledger
):
    taxis = ledger["taxis"]
    response = accountant_client.post(
        _url("category-save", ledger["company"], taxis.pk),
        {"account": ledger["meals"].pk, "tax_rate": ledger["sales_tax"].pk},
    )
    assert response.status_code == 200
    html = response.content.decode()
    row = html.split(f'<tr id="cat-{taxis.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "has-error" in row and "Choose a tax rate from the list." in row
    assert f'<option value="{ledger["meals"].pk}" selected>' in row
    assert not CategoryMapping.objects.exists()


def test_two_values_of_one_tracking_category_are_refused(accountant_client, ledger):
    response = _row_post(
        accountant_client,
        ledger,
        ledger["taxis"],
        account=ledger["travel"].pk,
        tracking=[ledger["ops"].pk, ledger["sales"].pk],
    )
    assert "at most one value under each tracking category" in response.content.decode()
    assert not CategoryMapping.objects.exists()


def test_bulk_apply_sets_the_account_of_the_ticked_categories(accountant_client, ledger):
    company = ledger["company"]
    other = factories.make_category(factories.make_company(), name="Not mine")
    response = accountant_client.post(
        _url("categories-bulk", company),
        {"categories": [ledger["taxis"].pk, ledger["lunch"].pk], "account": ledger["meals"].pk},
    )
    assert response.status_code == 302
    assert {m.category.name: m.account for m in CategoryMapping.objects.all()} == {
        "Taxis": ledger["meals"],
        "Lunch": ledger["meals"],
    }
    assert AuditEvent.objects.filter(action="mapping.category").count() == 2
    # Another company's category cannot be ticked in: the whole request is refused.
    refused = accountant_client.post(
        _url("categories-bulk", company), {"categories": [other.pk], "tax_rate": ledger["tax"].pk}
    )
    assert refused.status_code == 302
    assert not CategoryMapping.objects.filter(category=other).exists()
    nothing = accountant_client.post(
        _url("categories-bulk", company), {"categories": [ledger["taxis"].pk]}
    )
    assert nothing.status_code == 302
    assert CategoryMapping.objects.get(category=ledger["taxis"]).tax_rate is None


def test_an_account_archived_in_the_ledger_is_flagged_with_what_to_do(accountant_client, ledger):
    company = ledger["company"]
    travel = ledger["travel"]
    CategoryMapping.objects.create(category=ledger["taxis"], account=travel)
    CategoryMapping.objects.create(category=ledger["lunch"], account=ledger["meals"])
    travel.status = RecordStatus.ARCHIVED
    travel.save()

    response = accountant_client.get(_url("categories", company))
    html = response.content.decode()
    assert "is archived in the ledger. Map the category to another account" in html
    assert "7400 Travel (archived)</option>" in html
    assert 'Needs attention <strong class="count-bad">1</strong>' in html
    attention = accountant_client.get(_url("categories", company), {"state": "attention"})
    assert "Taxis" in attention.content.decode() and "Lunch" not in attention.content.decode()
    mapped = accountant_client.get(_url("categories", company), {"state": "mapped"})
    assert "Lunch" in mapped.content.decode() and "Taxis" not in mapped.content.decode()


def test_search_and_the_unmapped_filter(accountant_client, ledger):
    company = ledger["company"]
    CategoryMapping.objects.create(category=ledger["lunch"], account=ledger["meals"])
    found = accountant_client.get(_url("categories", company), {"q": "tax"}).content.decode()
    assert "Taxis" in found and ">Lunch<" not in found
    unmapped = accountant_client.get(
        _url("categories", company), {"state": "unmapped"}
    ).content.decode()
    assert "Taxis" in unmapped and ">Lunch<" not in unmapped
    # The filters swap only the table.
    partial = accountant_client.get(
        _url("categories", company),
        {"q": "lun"},
        headers={"HX-Request": "true", "HX-Target": "category-table"},
    ).content.decode()
    assert partial.lstrip().startswith('<div id="category-table">') and "Lunch" in partial


def test_a_mapping_fix_makes_parked_transactions_ready(accountant_client, ledger):
    company = ledger["company"]
    CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=ledger["bank"],
        default_supplier=ledger["supplier"],
        default_customer=ledger["customer"],
    )
    parked = factories.make_transaction(
        company,
        category=ledger["taxis"],
        card=ledger["card"],
        issue_date=date(2026, 3, 14),
        status=Transaction.Status.NEEDS_ATTENTION,
        **Transaction.attention(
            Transaction.AttentionCode.CATEGORY_NOT_MAPPED,
            "The category is not mapped.",
            Transaction.Screen.CATEGORY_MAPPING,
        ),
    )
    _row_post(accountant_client, ledger, ledger["taxis"], account=ledger["travel"].pk)
    parked.refresh_from_db()
    assert parked.status == Transaction.Status.READY
    assert parked.attention_code == ""


def test_card_and_defaults_saved_locally_when_codat_is_not_needed(accountant_client, ledger):
    company = ledger["company"]
    card = ledger["card"]
    response = accountant_client.post(
        _url("accounts", company), {"action": "cards", f"card_{card.pk}": ledger["bank"].pk}
    )
    assert response.status_code == 302
    assert CardMapping.objects.get(card=card).bank_account == ledger["bank"]
    assert AuditEvent.objects.filter(action="mapping.card").count() == 1
    # Only two of the three defaults: Codat takes all three at once, so it is not called yet.
    response = accountant_client.post(
        _url("accounts", company),
        {
            "action": "defaults",
            "bank_account": ledger["bank"].pk,
            "supplier": ledger["supplier"].pk,
        },
    )
    assert response.status_code == 302
    configuration = CompanyConfiguration.objects.get(company=company)
    assert configuration.default_supplier == ledger["supplier"]
    assert not configuration.is_complete
    page = accountant_client.get(_url("accounts", company)).content.decode()
    assert "No default customer is chosen." in page


def test_a_viewer_sees_the_pages_read_only_and_every_post_is_refused(client, ledger):
    company = ledger["company"]
    client.force_login(_member(company, Role.VIEWER))
    for name in ("accounts", "categories"):
        page = client.get(_url(name, company))
        assert page.status_code == 200
        assert b"your role cannot change" in page.content
        for control in (b'name="account"', b'name="supplier"', b"Save", b'form="bulk-form"'):
            assert control not in page.content
    posts = [
        _url("accounts", company),
        _url("categories-bulk", company),
        _url("category-save", company, ledger["taxis"].pk),
        _url("record-new", company, "suppliers"),
    ]
    for url in posts:
        assert client.post(url, {"action": "cards"}).status_code == 403, url
    assert client.get(_url("record-new", company, "suppliers")).status_code == 403
    assert not CategoryMapping.objects.exists() and not CardMapping.objects.exists()


def test_an_unknown_data_type_is_404(accountant_client, ledger):
    assert (
        accountant_client.get(_url("record-new", ledger["company"], "invoices")).status_code == 404
    )


def _categories(company, n, accounts):
    for i in range(n):
        category = factories.make_category(company, name=f"Category {i:03}", code=f"C{i:03}")
        if i % 3 == 0:
            CategoryMapping.objects.create(category=category, account=accounts[i % len(accounts)])


@pytest.mark.parametrize("rows", [10, 500])
def test_the_categories_page_costs_the_same_queries_at_10_and_500(
    accountant_client, ledger, rows, django_assert_num_queries
):
    company = ledger["company"]
    _categories(company, rows, [ledger["travel"], ledger["meals"]])
    url = _url("categories", company)
    accountant_client.get(url)  # the session's first write is not the page's cost
    with django_assert_num_queries(QUERIES):
        response = accountant_client.get(url)
    assert response.status_code == 200


QUERIES = 14


# --- Against the sandbox: defaults at Codat, records created in the ledger ------------------------


@pytest.fixture
def sandboxed(settings, live_server, monkeypatch):
    """The portal's Codat client pointed at the live sandbox; pushes finish when first read;
    Celery hand-offs captured (the page's own polls follow the write)."""
    from tests.integration.helpers import API_KEY

    url = live_server.url + "/codat-sandbox"
    settings.CODAT_SANDBOX_BACKGROUND = False
    settings.CODAT_SANDBOX_SYNC_DELAY = 0
    settings.CODAT_SANDBOX_API_KEYS = [API_KEY]
    settings.CODAT_SANDBOX_DAILY_QUOTA = 100_000
    settings.CODAT_SANDBOX_WEBHOOK_URL = ""
    settings.CODAT_SANDBOX_REDIRECT_URL = (
        "http://portal.invalid/link/return/"
        "?companyId={companyId}&connectionId={connectionId}&statusCode={statusCode}"
    )
    settings.CODAT_SANDBOX_URL = settings.CODAT_BASE_URL = url
    settings.CODAT_API_KEY = API_KEY
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        "celery.app.task.Task.apply_async",
        lambda task, args=None, kwargs=None, **options: sent.append((task.name, tuple(args or ()))),
    )
    return sent


def _linked(platform_key):
    """A company linked to `platform_key` in the sandbox, its ledger read into the cache."""
    from integrations.companies import services as connect
    from integrations.ledger import services as ledger_reads
    from tests.integration.helpers import approve_link, redirect_query

    company = factories.make_company(f"Writes {platform_key}")
    connection = connect.connect_accounting(company, platform_key)
    redirect = redirect_query(approve_link(connection.link_url))
    connect.record_link_outcome(
        company, status_code=int(redirect["statusCode"]), connection_id=redirect["connectionId"]
    )
    read = LedgerRead.objects.get(company=company)
    assert ledger_reads.check_read(read.pk) and ledger_reads.import_read(read.pk)
    company.refresh_from_db()
    return company


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_new_supplier_is_created_in_the_ledger_and_offered_in_the_chooser(client, sandboxed):
    from integrations.ledger.models import Supplier
    from integrations.syncs.models import WriteOperation

    company = _linked("qhyg")
    client.force_login(_member(company))
    form = client.get(_url("record-new", company, "suppliers"))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="supplierName"' in html and "maxlength=" in html
    assert '<option value="Active" selected>' in html

    response = client.post(
        _url("record-new", company, "suppliers"),
        {"supplierName": "Brand New Taxis Ltd", "status": "Active", "defaultCurrency": "gbp"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    write = WriteOperation.objects.get(company=company)
    assert write.status == WriteOperation.Status.PENDING
    assert write.request_body["defaultCurrency"] == "GBP"
    assert ("integrations.ledger.tasks.follow_write", (write.pk,)) in sandboxed
    assert 'hx-trigger="every 1s"' in response.content.decode()

    # The page polls: the view asks Codat, which has finished by now.
    polled = client.get(
        _url("record-write", company, write.pk),
        headers={"HX-Request": "true", "HX-Trigger": "write-status"},
    )
    write.refresh_from_db()
    assert write.status == WriteOperation.Status.SUCCESS and write.record_id
    html = polled.content.decode()
    assert "Created in the ledger" in html and "every 1s" not in html
    supplier = Supplier.objects.get(company=company, codat_id=write.record_id)
    assert supplier.name == "Brand New Taxis Ltd"
    # Back on the page, the new supplier is in the chooser, already selected.
    page = client.get(_url("accounts", company), {"created": write.pk}).content.decode()
    assert f'<option value="{supplier.pk}" selected>Brand New Taxis Ltd</option>' in page
    assert AuditEvent.objects.filter(company=company, action="ledger.create").exists()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_xero_refuses_a_duplicate_nominal_code_and_the_error_is_on_the_field(client, sandboxed):
    from integrations.syncs.models import WriteOperation

    company = _linked("gbol")
    client.force_login(_member(company))
    url = _url("record-new", company, "chartOfAccounts")
    html = client.get(url).content.decode()
    # Xero's model: a nominal code of at most 10 characters, a category from its own list.
    assert 'name="nominalCode"' in html and 'maxlength="10"' in html
    assert '<option value="Expense.Overhead">' in html

    # Over Xero's limit: refused here, nothing sent.
    too_long = client.post(
        url,
        {
            "nominalCode": "12345678901",
            "name": "Taxis",
            "fullyQualifiedCategory": "Expense.Expense",
        },
    )
    assert "At most 10 characters in this accounting software." in too_long.content.decode()
    assert not WriteOperation.objects.exists()

    # A code another account already has: only the ledger knows, so Codat fails the write.
    taken = LedgerAccount.objects.filter(company=company).exclude(nominal_code="").first()
    client.post(
        url,
        {
            "nominalCode": taken.nominal_code,
            "name": "Taxis and cabs",
            "fullyQualifiedCategory": "Expense.Expense",
        },
    )
    write = WriteOperation.objects.get(company=company)
    page = client.get(_url("record-write", company, write.pk)).content.decode()
    write.refresh_from_db()
    assert write.status == WriteOperation.Status.FAILED
    assert "The ledger refused the new account" in page
    # The form is back with what was typed, and Codat's reason under the nominal code.
    assert f'value="{taken.nominal_code}"' in page and 'value="Taxis and cabs"' in page
    code_field = page.split('name="nominalCode"', 1)[1].split("</div>", 1)[0]
    assert "is already used by another record" in code_field

    # Fixed and sent again: it lands, and is offered for card spend at once.
    client.post(
        url,
        {
            "nominalCode": "TAXI1",
            "name": "Taxis and cabs",
            "fullyQualifiedCategory": "Expense.Expense",
        },
    )
    second = WriteOperation.objects.exclude(pk=write.pk).get(company=company)
    client.get(_url("record-write", company, second.pk))
    second.refresh_from_db()
    assert second.status == WriteOperation.Status.SUCCESS
    created = LedgerAccount.objects.get(company=company, codat_id=second.record_id)
    assert created.is_valid_for(PAYMENT)
    assert "TAXI1 · Taxis and cabs" in client.get(_url("categories", company)).content.decode()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_defaults_are_set_at_codat_and_recorded(client, sandboxed):
    from integrations.codat.factory import codat_client
    from integrations.ledger.models import BankAccount, Customer, Supplier

    company = _linked("qhyg")
    user = _member(company)
    client.force_login(user)
    bank = BankAccount.objects.filter(company=company, currency="USD").first() or (
        BankAccount.objects.filter(company=company).first()
    )
    supplier = Supplier.objects.filter(company=company, status="Active").first()
    customer = Customer.objects.filter(company=company, status="Active").last()
    response = client.post(
        _url("accounts", company),
        {
            "action": "defaults",
            "bank_account": bank.pk,
            "supplier": supplier.pk,
            "customer": customer.pk,
        },
    )
    assert response.status_code == 302
    with codat_client() as codat:
        remote = codat.get_company_configuration(str(company.codat_company_id))
    assert remote["bankAccount"]["id"] == bank.codat_id
    assert remote["supplier"]["id"] == supplier.codat_id
    assert remote["customer"]["id"] == customer.codat_id
    event = AuditEvent.objects.get(company=company, action="mapping.defaults")
    assert event.actor == user
    assert event.changes["default_supplier"]["after"] == supplier.pk


def test_codats_write_webhook_ends_the_wait_for_that_write(db, monkeypatch):
    from types import SimpleNamespace

    from integrations.ledger import writes
    from integrations.syncs import events
    from integrations.syncs.models import WriteOperation

    company = factories.make_company()
    key = uuid.uuid4()
    write = WriteOperation.objects.create(
        company=company,
        connection=factories.make_connection(company),
        data_type=WriteOperation.DataType.SUPPLIERS,
        push_operation_key=key,
    )
    followed = []
    monkeypatch.setattr(writes, "follow_write", followed.append)
    handler = events.registry._handlers["suppliers.write.successful"]
    handler(SimpleNamespace(data={"id": str(key)}))
    handler(SimpleNamespace(data={"id": "not-a-key"}))
    handler(SimpleNamespace(data={"id": str(uuid.uuid4())}))
    assert followed == [write.pk]
