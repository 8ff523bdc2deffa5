"""The customer's two journeys of issue 8, in Chromium against the live portal, the sandbox at the
same origin and a real Celery worker (tests/browser/live.py).

(a) QuickBooks Online: sign in, connect through the sandbox's Link page, wait while the ledger
    is fetched, choose the card's account and the defaults (creating a new supplier in the
    ledger), map the categories, sync, attach a receipt on the transaction's page, and find the
    expense with its receipt in the sandbox's ledger viewer.
(b) Xero: one category points at an account archived in the ledger; the transactions list says
    why, its link leads to the categories page, the person maps it again, syncs, and it lands.

Every page is screenshotted under var/browser/<journey>/ and checked with axe-core.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from codat_sandbox.models import LedgerRecord as SandboxRecord
from integrations.companies.models import Company, Membership
from integrations.ledger.models import CategoryMapping, ExpenseCategory, LedgerAccount
from integrations.transactions.models import Receipt, Transaction
from tests.integration.helpers import tiny_png
from tests.models.factories import make_card, make_category, make_transaction

from .live import Journey, serve_axe, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Parts of the journeys whose pages have not landed on main yet. The journey does that part
# through the services the page would call instead and goes on; at the end it is reported as
# skipped, naming the pieces it could not walk (and every step it did), so the suite stays
# green meanwhile. Remove a piece as soon as its page works.
UNTIL_THE_PAGES_LAND: dict[str, str] = {}

PASSWORD = "a-long-test-passphrase"
WAIT_MS = 30_000  # the longest a person is made to wait for anything (ledger fetch, a sync)


def landed(journey: Journey, piece: str) -> bool:
    """False (and noted) while `piece` waits for its page."""
    if piece in UNTIL_THE_PAGES_LAND:
        journey.problems.append(f"{piece} ({UNTIL_THE_PAGES_LAND[piece]})")
        return False
    return True


def finish(journey: Journey) -> None:
    if journey.problems:
        pytest.skip(
            f"journey {journey.name} walked every step but: {'; '.join(journey.problems)}. "
            f"Steps walked: {'; '.join(journey.steps)}"
        )


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def owner_of(company_name: str, username: str, django_user_model) -> Company:
    user = django_user_model.objects.create_user(username, password=PASSWORD)
    company = Company.objects.create(name=company_name)
    Membership.objects.create(user=user, company=company, role=Membership.Role.OWNER)
    return company


def spend(company, category, card, merchant, amount, days_ago=3) -> Transaction:
    return make_transaction(
        company,
        category=category,
        card=card,
        merchant_name=merchant,
        currency=card.currency,
        net_amount=Decimal(amount),
        tax_amount=Decimal("0.00"),
        issue_date=datetime.date.today() - datetime.timedelta(days=days_ago),
        status=Transaction.Status.READY,
    )


def wait_for_status(page, row_text: str, words: str) -> None:
    """The transactions list updates itself (HTMX polling); no reload."""
    row = page.locator("#txn-rows tr", has_text=row_text)
    expect(row).to_contain_text(words, timeout=WAIT_MS)


# --- (a) QuickBooks Online, from nothing to the ledger ---------------------------------------


def test_journey_a_quickbooks_online_from_sign_in_to_the_ledger(
    live_world, page, browser, django_user_model
):
    base = live_world
    company = owner_of("Browser Bakery Inc", "olive", django_user_model)
    travel = make_category(company, code="TRAVEL", name="Travel")
    meals = make_category(company, code="MEALS", name="Meals")
    card = make_card(company, name="Company Visa", currency="USD", last_four="4242")
    spend(company, travel, card, "Amtrak", "84.00")
    lunch = spend(company, meals, card, "Flour & Co", "41.50")
    journey = Journey("a-quickbooks-online", page)

    # Sign in.
    page.goto(base + "/accounts/login/")
    journey.shot("sign in")
    sign_in(page, base, "olive")
    journey.shot("home")
    page.get_by_role("link", name=re.compile("Browser Bakery Inc")).first.click()
    page.wait_for_load_state()
    journey.shot("overview before connecting")

    # Step 1: connect through Codat Link (the sandbox's page).
    page.goto(f"{base}/c/{company.pk}/connect/")
    journey.shot("connect: choose the software")
    page.get_by_label("QuickBooks Online").check()
    page.get_by_role("button", name="Continue to authorise").click()
    expect(page.get_by_role("heading", name=re.compile("QuickBooks Online"))).to_be_visible()
    journey.shot("sandbox link page")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**/c/{company.pk}/**")

    # Fetching the ledger: live progress, then the next steps unlock.
    journey.shot("fetching the ledger")
    expect(page.get_by_role("heading", name=re.compile("Fetching your ledger"))).to_have_count(
        0, timeout=WAIT_MS
    )
    expect(page.get_by_role("link", name="Accounts and contacts").first).to_be_visible()
    journey.shot("ledger fetched, steps unlocked")
    company.refresh_from_db()  # the Codat company id the connect gave it

    # Step 2: accounts and contacts, creating a new supplier in the ledger.
    supplier = "Browser Bakery Card Spend"
    if landed(journey, "accounts"):
        page.get_by_role("link", name="Accounts and contacts").first.click()
        page.wait_for_url(f"**/c/{company.pk}/accounts/")
        journey.shot("accounts and contacts")
    if landed(journey, "create supplier"):
        page.goto(f"{base}/c/{company.pk}/accounts/")
        page.get_by_role("link", name="or create a new supplier in the ledger").click()
        page.wait_for_load_state()
        journey.shot("new supplier form")
        page.locator("[name=supplierName]").fill(supplier)
        page.get_by_role("button", name="Create in the ledger").click()
        expect(page.get_by_text("Created in the ledger.")).to_be_visible(timeout=WAIT_MS)
        journey.shot("supplier created in the ledger")
        page.get_by_role("link", name="Back to accounts and contacts").click()
        page.wait_for_url(f"**/c/{company.pk}/accounts/**")
        expect(page.get_by_label("Supplier", exact=False).first).to_contain_text(supplier)
    if landed(journey, "accounts"):
        choose_accounts_and_contacts(page)
        journey.shot("accounts and contacts saved")

    # Step 3: categories.
    if landed(journey, "categories"):
        page.goto(f"{base}/c/{company.pk}/categories/")
        journey.shot("categories")
        map_category(page, "Travel", account=re.compile("Travel", re.I))
        map_category(page, "Meals", account=re.compile("Meals|Entertainment", re.I))
        journey.shot("categories mapped")
    if "accounts" in UNTIL_THE_PAGES_LAND or "categories" in UNTIL_THE_PAGES_LAND:
        from integrations.demo.connect import map_demo_company

        map_demo_company(company)  # what those pages would have saved

    # Step 4: review what is mapped; step 5: the automatic sync, off (this journey syncs by
    # hand, from the list).
    page.get_by_role("navigation", name="Browser Bakery Inc").get_by_role(
        "link", name="Review"
    ).click()
    page.wait_for_url(f"**/c/{company.pk}/review/")
    journey.shot("review")
    page.get_by_role("button", name=re.compile("Looks right, continue|Continue anyway")).click()
    page.wait_for_url(f"**/c/{company.pk}/automatic-sync/")
    journey.shot("automatic sync")
    page.get_by_label("Off: only when I sync").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Automatic sync is off")).to_be_visible()

    # Sync from the transactions list; the rows update live.
    page.goto(f"{base}/c/{company.pk}/transactions/")
    journey.shot("transactions ready")
    page.get_by_role("button", name=re.compile("Sync everything ready")).click()
    page.wait_for_load_state()
    wait_for_status(page, "Amtrak", "In the ledger")
    wait_for_status(page, "Flour & Co", "In the ledger")
    journey.shot("transactions in the ledger")

    # A receipt, uploaded on the transaction's page.
    page.locator("#txn-rows").get_by_role("link", name="Flour & Co").click()
    page.wait_for_load_state()
    journey.shot("transaction page")
    receipt = tiny_png()
    page.get_by_label("Add a receipt").set_input_files(
        files=[{"name": "flour-receipt.png", "mimeType": "image/png", "buffer": receipt}]
    )
    page.locator("#receipts").get_by_role("button", name="Upload").click()
    expect(page.locator("#receipts")).to_contain_text("flour-receipt.png", timeout=WAIT_MS)
    expect(page.locator("#receipts")).to_contain_text(
        re.compile("Uploaded|Attached", re.I), timeout=WAIT_MS
    )
    journey.shot("receipt attached")
    assert Receipt.objects.get(transaction=lunch).upload_status == Receipt.UploadStatus.UPLOADED
    page.get_by_role("link", name="Expenses Portal").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Browser Bakery Inc").first).to_be_visible()
    journey.shot("home once set up")

    # The sandbox's ledger viewer (staff only outside debug): the expense and its receipt.
    lunch.refresh_from_db()
    django_user_model.objects.create_user("ops", password=PASSWORD, is_staff=True)
    ops = browser.new_context(viewport={"width": 1280, "height": 900})
    serve_axe(ops)
    try:
        viewer = ops.new_page()
        staff_sign_in(
            viewer, base, "ops", PASSWORD, f"/codat-sandbox/ledger/{company.codat_company_id}/"
        )
        row = viewer.locator("tr", has_text="Flour & Co")
        expect(row).to_be_visible()
        expect(row).to_contain_text("41.50")
        expect(row.get_by_role("link", name="flour-receipt.png")).to_be_visible()
        Journey("a-quickbooks-online-ledger", viewer).shot("sandbox ledger viewer")
    finally:
        ops.close()
    finish(journey)


def choose_accounts_and_contacts(page) -> None:
    """The defaults (bank account, supplier, customer): whatever is chosen stays (the new
    supplier is preselected), anything empty takes the first choice; then each card's account."""
    defaults = page.locator("form.map-defaults")
    for select in defaults.locator("select").all():
        if select.input_value() == "":
            choices = select.locator("option:not([value=''])")
            # A bank account in the company's own currency (the others name theirs).
            plain = choices.filter(has_not_text=re.compile(r"\([A-Z]{3}\)"))
            option = plain.first if plain.count() else choices.first
            select.select_option(option.get_attribute("value"))
    defaults.get_by_role("button", name="Save defaults").click()
    page.wait_for_load_state()
    expect(page.locator(".errorlist")).to_have_count(0)
    for select in page.get_by_label(re.compile("^Account for ")).all():
        choices = select.locator("option:not([value=''])")
        wanted = choices.filter(has_text=re.compile("Card|Credit", re.I))
        option = wanted.first if wanted.count() else choices.first
        select.select_option(option.get_attribute("value"))
    page.get_by_role("button", name="Save cards").click()
    page.wait_for_load_state()
    expect(page.locator(".errorlist")).to_have_count(0)


def category_row(page, name: str):
    return page.locator(
        "tr.map-row", has=page.get_by_role("button", name=f"Save {name}", exact=True)
    )


def map_category(page, name: str, account) -> None:
    """Choose the account on the category's row and save the row (HTMX, no reload)."""
    select = page.get_by_label(f"Account for {name}", exact=True)
    labels = [o.inner_text() for o in select.locator("option").all()]
    choice = next(text for text in labels if account.search(text) and "cannot" not in text)
    select.select_option(label=choice)
    page.get_by_role("button", name=f"Save {name}", exact=True).click()
    # The row is the one with this category's Save button (other rows' options name it too).
    row = category_row(page, name)
    expect(row.get_by_role("status")).to_have_text("Saved", timeout=WAIT_MS)
    expect(row).to_contain_text("Mapped")


# --- (b) Xero, an archived account --------------------------------------------------------------


def test_journey_b_xero_archived_account_is_explained_fixed_and_synced(
    live_world, page, django_user_model
):
    from integrations.demo.connect import connect_demo_company

    base = live_world
    company = owner_of("Browser Outdoor Ltd", "xena", django_user_model)
    travel = make_category(company, code="TRAVEL", name="Travel")
    adverts = make_category(company, code="ADVERTISING", name="Advertising")
    card = make_card(company, name="Company Mastercard", currency="GBP", last_four="5454")
    # Linked to Xero and mapped the way the demo set-up does it (the same services the pages
    # call); journey (a) walks those pages.
    connect_demo_company(company, "gbol", timeout=30)
    company.refresh_from_db()
    company.auto_sync_enabled = False
    company.save(update_fields=["auto_sync_enabled"])
    # Then the account the Advertising category is mapped to is archived in Xero (the
    # sandbox's ledger data), and the portal's cached copy says so, as its next ledger read would.
    mapping = CategoryMapping.objects.select_related("account").get(category=adverts)
    archived = mapping.account
    record = SandboxRecord.objects.get(
        company__id=company.codat_company_id,
        data_type="chartOfAccounts",
        record_id=archived.codat_id,
    )
    record.data = {**record.data, "status": "Archived", "metadata": {"isDeleted": True}}
    record.save(update_fields=["data"])
    LedgerAccount.objects.filter(pk=archived.pk).update(status="Archived")
    # The spend arrives only now: ready before the archiving, the worker's follow-ups of the
    # connection could push it to Codat first (seen in CI), and the story is about what
    # pre-flight says, not about that race.
    spend(company, travel, card, "Great Western Railway", "62.00")
    spend(company, adverts, card, "Local Gazette", "120.00")
    journey = Journey("b-xero-archived-account", page)

    sign_in(page, base, "xena")
    journey.shot("home")
    page.goto(f"{base}/c/{company.pk}/transactions/")
    journey.shot("transactions ready")
    page.get_by_role("button", name=re.compile("Sync everything ready")).click()
    page.wait_for_load_state()
    wait_for_status(page, "Great Western Railway", "In the ledger")
    wait_for_status(page, "Local Gazette", "Needs attention")
    row = page.locator("#txn-rows tr", has_text="Local Gazette")
    expect(row).to_contain_text(re.compile("archived", re.I))
    journey.shot("why it needs attention")

    # The fix link leads to the categories page, where the archived account is flagged.
    row.get_by_role("link", name="Map the category").click()
    page.wait_for_url(f"**/c/{company.pk}/categories/**")
    if landed(journey, "categories"):
        expect(category_row(page, "Advertising")).to_contain_text(re.compile("archived", re.I))
        journey.shot("categories: the archived account flagged")
        map_category(page, "Advertising", account=re.compile("Office Expenses", re.I))
        journey.shot("advertising mapped again")
    else:  # what the page would save
        mapping.account = LedgerAccount.objects.get(
            company=company, name="Office Expenses", status="Active"
        )
        mapping.save(update_fields=["account"])

    # Re-sync: it lands.
    page.goto(f"{base}/c/{company.pk}/transactions/")
    # It still says why until it is sent again: tick it and sync the selection.
    page.locator("#txn-rows tr", has_text="Local Gazette").get_by_role("checkbox").check()
    page.get_by_role("button", name="Sync selected").click()
    page.wait_for_load_state()
    wait_for_status(page, "Local Gazette", "In the ledger")
    journey.shot("advertising spend in the ledger")
    assert ExpenseCategory.objects.get(pk=adverts.pk).mapping.account.status == "Active"
    finish(journey)
