"""Staff in Chromium: overview, filter the triage list, open the failing company, retry.

The failing company is the demo's story (integrations/demo/health_story.py). Each page is
screenshotted under var/browser/staff-health/ at 1280 and 390 px and checked with axe-core.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.demo import health_story
from integrations.syncs.services import health
from integrations.transactions.models import Transaction

from .live import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-passphrase"


@pytest.fixture
def story(django_user_model, monkeypatch):
    from integrations.syncs import tasks

    queued = []
    # The worker's part (pre-flight, push) is not this journey's: note what was queued.
    monkeypatch.setattr(tasks.preflight_company, "delay", queued.append)
    owner = django_user_model.objects.create_user("erin", password=PASSWORD)
    django_user_model.objects.create_user("sam", password=PASSWORD, is_staff=True)
    health_story.seed(owner)
    health.rebuild_all()
    return queued


def sign_in(page, base):
    page.goto(base + "/staff/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_find_a_failing_company_see_why_and_retry(live_server, browser, story, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    from .live import serve_axe

    serve_axe(context)
    page = context.new_page()
    journey = Journey(f"staff-health-{width}", page)
    base = live_server.url

    sign_in(page, base)
    expect(page.get_by_role("heading", name="Sync health")).to_be_visible()
    expect(page.locator(".staff-stats")).to_contain_text("Failing")
    journey.shot("overview")

    page.get_by_role("link", name="Companies", exact=True).click()
    page.locator("summary", has_text="More filters").click()
    page.get_by_label("Health", exact=True).select_option("failing")
    page.get_by_role("button", name="Filter").click()
    assert "health=failing" in page.url
    row = page.locator("#triage-list tr", has_text=health_story.NAME)
    expect(row).to_be_visible()
    journey.shot("triage filtered to failing")

    row.get_by_role("link", name=health_story.NAME).click()
    expect(page.get_by_role("heading", name=health_story.NAME)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Account '6120' is archived")
    expect(page.locator("a.code", has_text="5130").first).to_be_visible()
    journey.shot("drill-down says why")

    page.get_by_role("link", name="Retry failed").click()
    page.get_by_label("Yes, do this").check()
    journey.shot("retry confirm")
    page.get_by_role("button", name="Retry failed").click()
    expect(page.locator(".messages")).to_contain_text("3 failed transaction(s) sent back")
    journey.shot("retried")
    assert not Transaction.objects.filter(status=Transaction.Status.FAILED).exists()
    assert len(story) == 1
    context.close()
