"""Screenshots of the mapping pages at 1280 and 390 px (run by hand; not a test module):
.venv/bin/python -m pytest tests/portal/shots_mapping.py -p no:cacheprovider"""

import os

import pytest
from django.test import Client
from django.urls import reverse

from integrations.ledger.models import CategoryMapping, LedgerAccount, RecordStatus
from tests.models import factories
from tests.portal.test_mapping import _linked, sandboxed  # noqa: F401

OUT = "var/shots"
NAMES = [
    "Taxis",
    "Flights",
    "Hotels",
    "Client dinners",
    "Team lunches",
    "Software subscriptions",
    "Mobile phones",
    "Office supplies",
    "Advertising",
    "Training courses",
    "Parking",
    "Postage",
]


def shoot(page, live, url, name, widths=(1280, 390)):
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live + url)
        page.screenshot(path=f"{OUT}/{name}-{width}.png", full_page=True)
        if width < 600:
            page.screenshot(path=f"{OUT}/{name}-{width}-top.png")


@pytest.mark.django_db(transaction=True)
def test_shots(live_server, sandboxed):  # noqa: F811
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    company = _linked("gbol")
    user = factories.make_user("olive")
    factories.make_membership(user, company)
    for i, name in enumerate(NAMES):
        factories.make_category(company, name=name, code=f"C{i:02}")
    factories.make_card(company, name="Marketing card", cardholder="Olive Oyl", last_four="1881")
    factories.make_card(company, name="Travel card", cardholder="Popeye Sailor", last_four="4242")
    accounts = [
        a
        for a in LedgerAccount.objects.filter(company=company)
        if a.is_valid_for("expense-transactions.Payment") and not a.is_bank_account
    ]
    flights = company.expense_categories.get(name="Flights")
    travel = next((a for a in accounts if "travel" in a.name.lower()), accounts[0])
    CategoryMapping.objects.create(category=flights, account=travel)
    archived = next(a for a in accounts if a != travel)
    CategoryMapping.objects.create(
        category=company.expense_categories.get(name="Hotels"), account=archived
    )
    archived.status = RecordStatus.ARCHIVED
    archived.save()
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    live = live_server.url
    cats = reverse("portal:categories", args=[company.pk])
    accts = reverse("portal:accounts", args=[company.pk])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        ctx = browser.new_context()
        ctx.add_cookies([{"name": "sessionid", "value": cookie, "url": live}])
        page = ctx.new_page()
        shoot(page, live, accts, "accounts")
        shoot(page, live, cats, "categories")
        # A row refused: the archived account is still chosen on Hotels.
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live + cats)
            hotels = company.expense_categories.get(name="Hotels")
            page.click(f"#row-{hotels.pk} button")
            page.wait_for_selector(f"#cat-{hotels.pk}.has-error")
            page.screenshot(path=f"{OUT}/categories-row-error-{width}.png", full_page=True)
            page.locator(f"#cat-{hotels.pk}").screenshot(path=f"{OUT}/row-error-{width}.png")
        # Inline save of a suggestion.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live + cats)
        page.click("text=Use it >> nth=0")
        page.wait_for_selector(".map-saved")
        page.screenshot(path=f"{OUT}/categories-saved-1280.png", full_page=True)
        new_account = reverse("portal:record-new", args=[company.pk, "chartOfAccounts"])
        shoot(page, live, new_account, "record-new")
        taken = LedgerAccount.objects.filter(company=company).exclude(nominal_code="").first()
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live + new_account)
            page.fill("#id_nominalCode", taken.nominal_code)
            page.fill("#id_name", "Taxis and cabs")
            page.select_option("#id_fullyQualifiedCategory", "Expense.Expense")
            page.click("text=Create in the ledger")
            page.wait_for_selector("text=The ledger refused", timeout=15000)
            page.screenshot(path=f"{OUT}/record-failed-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live + reverse("portal:record-new", args=[company.pk, "suppliers"]))
        page.fill("#id_supplierName", "Brand New Taxis Ltd")
        page.click("text=Create in the ledger")
        page.wait_for_selector("text=Created in the ledger", timeout=15000)
        page.screenshot(path=f"{OUT}/record-success-1280.png", full_page=True)
        browser.close()
