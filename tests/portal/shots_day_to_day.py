"""Screenshots of the transactions list, a transaction's page and home at 1280 and 390 px
(run by hand, not collected as tests: pytest tests/portal/shots_day_to_day.py -p no:cacheprovider).
They land in var/shots/."""

import os
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.companies.models import Membership
from integrations.ledger.models import CategoryMapping
from integrations.syncs.models import Sync, SyncTransaction
from integrations.transactions.models import Receipt, Transaction
from tests.models import factories

OUT = "var/shots"
S = Transaction.Status


def shoot(page, live, url, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live + url)
        page.screenshot(path=f"{OUT}/{name}-{width}.png", full_page=True)


def _data():
    user = factories.make_user("olive")
    company = factories.make_company(
        "Acme Coffee Ltd",
        codat_company_id=uuid.uuid4(),
        onboarding_reviewed_at=timezone.now(),
        auto_sync_chosen_at=timezone.now(),
    )
    factories.make_membership(user, company)
    factories.make_connection(company)
    travel = factories.make_category(company, name="Travel")
    meals = factories.make_category(company, name="Meals and entertainment")
    account = factories.make_ledger_account(company, name="Travel and subsistence")
    tax = factories.make_tax_rate(company, name="20% (VAT on expenses)")
    CategoryMapping.objects.create(category=travel, account=account, tax_rate=tax)
    card = factories.make_card(company, name="Company card", last_four="4242")
    today = date(2026, 11, 30)
    rows = [
        ("Great Western Railway", travel, S.READY, {}),
        (
            "Pret A Manger",
            meals,
            S.NEEDS_ATTENTION,
            Transaction.attention(
                "category_not_mapped",
                "“Meals and entertainment” is not mapped to an account yet.",
                "category_mapping",
            ),
        ),
        (
            "Figma",
            None,
            S.FAILED,
            Transaction.attention(
                "rejected_by_ledger",
                "The ledger is locked for its date. The accounting software refused it: "
                "Transaction date is before the lock date 2026-10-31.",
                "transaction",
            ),
        ),
        ("Bean Bros Roasters", travel, S.QUEUED, {}),
        ("Shell", travel, S.SYNCING, {}),
        (
            "Delta Air Lines",
            travel,
            S.COMPLETED,
            {"ledger_record_id": "purchase-8f2c61d0-4a1b-4e7e-9d3a"},
        ),
        ("Hotel Chocolat", travel, S.COMPLETED, {"ledger_record_id": "1047"}),
        ("Bean Bros Roasters", None, S.DRAFT, {}),
    ]
    made = []
    for n, (merchant, category, status, extra) in enumerate(rows):
        made.append(
            factories.make_transaction(
                company,
                merchant_name=merchant,
                category=category,
                card=card,
                status=status,
                issue_date=today - timedelta(days=n * 2),
                net_amount=Decimal("84.50") + n * 17,
                tax_amount=Decimal("16.90"),
                notes="Return to Bristol" if n == 0 else "",
                **extra,
            )
        )
    factories.make_receipt(
        made[6], upload_status=Receipt.UploadStatus.UPLOADED, codat_attachment_id="a1"
    )
    factories.make_transaction(
        company,
        kind="reimbursable",
        expense_type="",
        merchant_name="Mileage claim",
        status=S.READY,
        issue_date=today - timedelta(days=1),
        net_amount=Decimal("45"),
        tax_amount=0,
    )
    failed = made[2]
    sync = factories.make_sync(
        company, status_code=5130, error_message="Data write error", completed_at=timezone.now()
    )
    SyncTransaction.objects.create(
        sync=sync,
        transaction=failed,
        status="PushError",
        message="Transaction date is before the lock date 2026-10-31.",
    )
    done = made[5]
    ok = factories.make_sync(
        company,
        status_code=Sync.StatusCode.SUCCESS,
        completed_at=timezone.now() - timedelta(minutes=40),
    )
    SyncTransaction.objects.create(
        sync=ok, transaction=done, status="Completed", ledger_record_id=done.ledger_record_id
    )
    factories.make_receipt(
        done,
        upload_status=Receipt.UploadStatus.REJECTED,
        original_filename="hotel-folio-scan.heic",
        error="QuickBooks Online does not take HEIC files.",
    )
    # More companies for home: one never connected, one being set up.
    other = factories.make_company("Globex Outdoor Inc")
    factories.make_membership(user, other, Membership.Role.ACCOUNTANT)
    third = factories.make_company("Initech Ltd", codat_company_id=uuid.uuid4())
    factories.make_membership(user, third, Membership.Role.VIEWER)
    factories.make_connection(third, platform_key="gbol", platform_name="Xero")
    return user, company, made


@pytest.mark.django_db(transaction=True)
def test_shots(live_server, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.MEDIA_ROOT = tmp_path
    os.makedirs(OUT, exist_ok=True)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    user, company, made = _data()
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    live = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        ctx = browser.new_context()
        ctx.add_cookies([{"name": "sessionid", "value": cookie, "url": live}])
        page = ctx.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        shoot(page, live, reverse("home"), "home")
        shoot(page, live, reverse("portal:transactions", args=[company.pk]), "transactions")
        shoot(
            page,
            live,
            reverse("portal:transactions", args=[company.pk]) + "?q=zzz",
            "transactions-empty",
        )
        shoot(
            page,
            live,
            reverse("portal:transaction", args=[company.pk, made[2].pk]),
            "transaction-failed",
        )
        shoot(
            page,
            live,
            reverse("portal:transaction", args=[company.pk, made[5].pk]),
            "transaction-done",
        )
        # A refused file, checked in the browser before anything is sent.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(live + reverse("portal:transaction", args=[company.pk, made[6].pk]))
        page.set_input_files(
            "#receipt-file",
            files=[{"name": "scan.heic", "mimeType": "image/heic", "buffer": b"x" * 100}],
        )
        page.screenshot(path=f"{OUT}/receipt-refused-1280.png", full_page=True)
        # Live rows: a queued row lands while the page is open, with no reload.
        page.goto(live + reverse("portal:transactions", args=[company.pk]))
        page.check(f"input[value='{made[0].pk}']")
        Transaction.objects.filter(pk=made[3].pk).update(status=S.COMPLETED, ledger_record_id="77")
        Transaction.objects.filter(pk=made[4].pk).update(status=S.COMPLETED, ledger_record_id="78")
        page.wait_for_timeout(4000)
        row = page.inner_text(f"#txn-{made[3].pk}")
        ticked = page.is_checked(f"input[value='{made[0].pk}']")
        polling = page.get_attribute("#txn-rows", "hx-trigger")
        print(
            "live row:", row.replace("\n", " | "), "| still ticked:", ticked, "| polling:", polling
        )
        # The status box on a syncing transaction.
        Transaction.objects.filter(pk=made[1].pk).update(status=S.SYNCING)
        page.goto(live + reverse("portal:transaction", args=[company.pk, made[1].pk]))
        page.screenshot(path=f"{OUT}/transaction-syncing-1280.png", full_page=True)
        Transaction.objects.filter(pk=made[1].pk).update(status=S.COMPLETED, ledger_record_id="79")
        page.wait_for_timeout(4000)
        print("live status:", page.inner_text("#txn-status").replace("\n", " | "))
        print("console errors:", errors)
        browser.close()
