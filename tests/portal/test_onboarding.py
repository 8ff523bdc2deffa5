"""Onboarding and the connection page: the checklist, connect → Link → return, the "fetching your
ledger" partial, review with a test post, the automatic sync and unlinking.

The first half needs only the database; the tests marked `live` drive the embedded sandbox over
real HTTP (the portal's Codat client pointed at a live server, Celery hand-offs captured and
each step run by the test, as tests/integration does).
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from codat_sandbox import engine
from integrations.companies.models import AuditEvent, Connection, Membership
from integrations.ledger import services as ledger_services
from integrations.ledger.models import (
    CategoryMapping,
    CompanyConfiguration,
    CompanyInfo,
    LedgerRead,
)
from integrations.portal import onboarding
from integrations.syncs.models import Sync
from integrations.syncs.services import follow, push
from integrations.transactions.models import Transaction
from tests.integration.conftest import (  # noqa: F401 (fixtures)
    _sandbox_settings,
    codat,
    make_client,
    sandbox_url,
)
from tests.integration.helpers import API_KEY, WAIT_SECONDS, _LinkFormParser, redirect_query
from tests.models import factories
from tests.syncs.helpers import linked_portal

Role = Membership.Role
HTMX = {"HTTP_HX_REQUEST": "true"}


def _member(company, role=Role.OWNER):
    user = factories.make_user()
    factories.make_membership(user, company, role)
    return user


def _ready_ledger(company):
    """A linked company whose ledger has been read once."""
    factories.make_connection(company)
    LedgerRead.objects.create(
        company=company,
        status=LedgerRead.Status.DONE,
        reason=LedgerRead.Reason.LINK,
        finished_at=timezone.now(),
    )


def _mapped(company):
    """Defaults chosen and one category mapped: the two mapping steps done."""
    bank = factories.make_bank_account(company)
    CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=bank,
        default_supplier=factories.make_supplier(company),
        default_customer=factories.make_customer(company),
    )
    category = factories.make_category(company, name="Travel")
    CategoryMapping.objects.create(
        category=category, account=factories.make_ledger_account(company)
    )
    return category


def _states(company):
    return {step.key: step.state for step in onboarding.steps(company)}


# --- The checklist ---


@pytest.mark.django_db
def test_a_new_company_starts_at_connect_with_everything_else_locked():
    company = factories.make_company()
    assert _states(company) == {
        "connect": "current",
        "accounts": "locked",
        "categories": "locked",
        "review": "locked",
        "automatic_sync": "locked",
    }
    progress = onboarding.progress(company)
    assert (progress.done, progress.total, progress.current.key) == (0, 5, "connect")
    assert progress.current.url == reverse("portal:connect", args=[company.pk])
    assert not progress.complete


@pytest.mark.django_db
def test_mapping_steps_stay_locked_until_the_ledger_is_in():
    company = factories.make_company()
    factories.make_connection(company)
    LedgerRead.objects.create(
        company=company, status=LedgerRead.Status.READING, reason=LedgerRead.Reason.LINK
    )
    states = _states(company)
    assert states["connect"] == "done"
    assert states["accounts"] == states["categories"] == states["review"] == "locked"
    # The automatic sync needs only the connection.
    assert states["automatic_sync"] == "current"
    [accounts] = [s for s in onboarding.steps(company) if s.key == "accounts"]
    assert "as soon as your ledger has been fetched" in accounts.summary


@pytest.mark.django_db
def test_the_checklist_remembers_where_the_user_stopped():
    company = factories.make_company()
    _ready_ledger(company)
    factories.make_category(company, name="Travel")  # not mapped yet
    assert _states(company) == {
        "connect": "done",
        "accounts": "current",
        "categories": "todo",
        "review": "todo",
        "automatic_sync": "todo",
    }
    CompanyConfiguration.objects.create(
        company=company,
        default_bank_account=factories.make_bank_account(company),
        default_supplier=factories.make_supplier(company),
        default_customer=factories.make_customer(company),
    )
    assert onboarding.progress(company).current.key == "categories"
    CategoryMapping.objects.create(
        category=company.expense_categories.get(),
        account=factories.make_ledger_account(company),
    )
    assert onboarding.progress(company).current.key == "review"
    company.onboarding_reviewed_at = timezone.now()
    company.auto_sync_chosen_at = timezone.now()
    company.save()
    progress = onboarding.progress(company)
    assert progress.complete and progress.current is None and progress.left == []


@pytest.mark.django_db
def test_an_account_archived_later_turns_its_step_back_from_done():
    company = factories.make_company()
    _ready_ledger(company)
    category = _mapped(company)
    assert _states(company)["categories"] == "done"
    account = category.mapping.account
    account.status = "Archived"
    account.save()
    assert _states(company)["categories"] == "current"


@pytest.mark.django_db
def test_a_deauthorised_connection_sends_connect_to_the_connection_page():
    company = factories.make_company()
    factories.make_connection(company, status=Connection.Status.DEAUTHORIZED)
    [connect] = [s for s in onboarding.steps(company) if s.key == "connect"]
    assert connect.state == "current"
    assert connect.url == reverse("portal:connection", args=[company.pk])
    assert "authorise it again" in connect.summary


@pytest.mark.django_db
def test_the_overview_shows_the_checklist_and_the_current_step(client):
    company = factories.make_company("Acme Coffee Ltd")
    _ready_ledger(company)
    client.force_login(_member(company))
    page = client.get(reverse("portal:company", args=[company.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Step 2 of 5 · next up" in html
    assert "Accounts and contacts" in html
    assert 'aria-current="step"' in html


@pytest.mark.django_db
def test_a_failed_first_read_stops_polling_and_offers_to_try_again(client, monkeypatch):
    opened = []
    monkeypatch.setattr(
        ledger_services, "request_refresh", lambda company, **kw: opened.append(kw["actor"])
    )
    company = factories.make_company()
    factories.make_connection(company)
    LedgerRead.objects.create(
        company=company,
        status=LedgerRead.Status.FAILED,
        reason=LedgerRead.Reason.LINK,
        error="Codat refused: the ledger is offline.",
    )
    user = _member(company)
    client.force_login(user)
    url = reverse("portal:company", args=[company.pk])
    partial = client.get(url, **HTMX)
    assert partial.status_code == 286
    assert "the ledger is offline" in partial.content.decode()
    assert "Try again" in partial.content.decode()
    client.post(url)
    assert opened == [user]


@pytest.mark.django_db
def test_a_routine_refresh_of_a_ready_ledger_holds_nobody_up(client):
    company = factories.make_company()
    _ready_ledger(company)
    LedgerRead.objects.create(
        company=company, status=LedgerRead.Status.READING, reason=LedgerRead.Reason.SCHEDULE
    )
    client.force_login(_member(company, Role.VIEWER))
    url = reverse("portal:company", args=[company.pk])
    assert "Fetching your ledger" not in client.get(url).content.decode()
    assert client.get(url, **HTMX).headers.get("HX-Refresh") == "true"
    # A viewer cannot ask for a refresh.
    assert client.post(url).status_code == 403


# --- Connect, and who may ---


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.VIEWER])
def test_only_owners_and_members_may_connect_or_unlink(client, role):
    company = factories.make_company()
    factories.make_connection(company)
    client.force_login(_member(company, role))
    assert client.get(reverse("portal:connect", args=[company.pk])).status_code == 403
    post = client.post(reverse("portal:connect", args=[company.pk]), {"platform": "qhyg"})
    assert post.status_code == 403
    unlink = client.post(
        reverse("portal:connection", args=[company.pk]), {"action": "unlink", "confirm": "on"}
    )
    assert unlink.status_code == 403
    # Both may still look at the connection.
    assert client.get(reverse("portal:connection", args=[company.pk])).status_code == 200


@pytest.mark.django_db
def test_connect_lists_the_eight_platforms_and_refuses_an_unknown_one(client):
    company = factories.make_company()
    client.force_login(_member(company))
    page = client.get(reverse("portal:connect", args=[company.pk]))
    html = page.content.decode()
    for name in (
        "QuickBooks Online",
        "Xero",
        "Oracle NetSuite",
        "Sage Intacct",
        "QuickBooks Desktop",
        "Dynamics 365 Business Central",
        "FreeAgent",
        "Zoho Books",
    ):
        assert name in html
    refused = client.post(reverse("portal:connect", args=[company.pk]), {"platform": "evil"})
    assert refused.status_code == 400
    assert "Choose one of the accounting software listed." in refused.content.decode()
    assert not company.connections.exists()


@pytest.mark.django_db
def test_a_linked_company_is_sent_to_the_connection_page(client):
    company = factories.make_company()
    factories.make_connection(company)
    client.force_login(_member(company))
    response = client.get(reverse("portal:connect", args=[company.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:connection", args=[company.pk])


# --- Link's return refuses what is not this user's ---


def _return(client, **params):
    return client.get(reverse("link-return"), params)


@pytest.mark.django_db
def test_link_return_refuses_another_companys_ids(client):
    mine = factories.make_company(codat_company_id=uuid.uuid4())
    theirs = factories.make_company("Theirs Ltd", codat_company_id=uuid.uuid4())
    their_connection = factories.make_connection(theirs)
    client.force_login(_member(mine))
    response = _return(
        client,
        companyId=theirs.codat_company_id,
        connectionId=their_connection.codat_connection_id,
        statusCode=200,
    )
    assert response.status_code == 404
    assert "does not belong to any of your companies" in response.content.decode()
    assert "Theirs Ltd" not in response.content.decode()


@pytest.mark.django_db
def test_link_return_refuses_a_connection_of_another_company(client):
    mine = factories.make_company("Mine Ltd", codat_company_id=uuid.uuid4())
    factories.make_connection(mine, status=Connection.Status.PENDING_AUTH)
    theirs = factories.make_company(codat_company_id=uuid.uuid4())
    their_connection = factories.make_connection(theirs, status=Connection.Status.PENDING_AUTH)
    client.force_login(_member(mine))
    response = _return(
        client,
        companyId=mine.codat_company_id,
        connectionId=their_connection.codat_connection_id,
        statusCode=200,
    )
    assert response.status_code == 400
    assert "names a connection Mine Ltd does not have" in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"companyId": "not-a-uuid", "connectionId": str(uuid.uuid4()), "statusCode": 200},
        {"statusCode": 200},
        {"companyId": "{companyId}", "statusCode": "{statusCode}"},
    ],
)
def test_link_return_refuses_a_malformed_query_with_a_clear_message(client, params):
    company = factories.make_company(codat_company_id=uuid.uuid4())
    client.force_login(_member(company))
    response = _return(client, **params)
    assert response.status_code == 400
    assert "incomplete or malformed" in response.content.decode()


@pytest.mark.django_db
def test_link_return_refuses_a_status_codat_never_sends(client):
    company = factories.make_company(codat_company_id=uuid.uuid4())
    connection = factories.make_connection(company, status=Connection.Status.PENDING_AUTH)
    client.force_login(_member(company))
    response = _return(
        client,
        companyId=company.codat_company_id,
        connectionId=connection.codat_connection_id,
        statusCode=302,
    )
    assert response.status_code == 400
    assert "status the portal does not know (302)" in response.content.decode()


@pytest.mark.django_db
def test_link_return_needs_the_connect_capability(client):
    company = factories.make_company(codat_company_id=uuid.uuid4())
    connection = factories.make_connection(company, status=Connection.Status.PENDING_AUTH)
    client.force_login(_member(company, Role.ACCOUNTANT))
    response = _return(
        client,
        companyId=company.codat_company_id,
        connectionId=connection.codat_connection_id,
        statusCode=200,
    )
    assert response.status_code == 403


def test_link_return_needs_a_login(client):
    response = _return(client, companyId=uuid.uuid4(), statusCode=200)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_only_links_to_codats_link_hosts_are_followed(settings):
    from integrations.portal import links

    settings.CODAT_BASE_URL = settings.CODAT_PRODUCTION_URL = "https://api.codat.io"
    settings.CODAT_LINK_ORIGINS = []
    good = "https://link-api.codat.io/companies/a/connections/b/start?otp=123456"
    assert links.safe_link_url(good) == good
    for bad in ("https://evil.example/start", "//evil.example", "javascript:alert(1)", ""):
        assert links.safe_link_url(bad) is None
    # Real Codat has no ledger viewer.
    assert links.ledger_viewer_url(uuid.uuid4(), "123") == ""
    settings.CODAT_LINK_ORIGINS = ["https://link.partner.example"]
    assert links.safe_link_url("https://link.partner.example/x") == "https://link.partner.example/x"
    assert links.safe_link_url(good) is None


# --- Review, automatic sync and the connection page without Codat ---


@pytest.mark.django_db
def test_review_links_each_missing_item_to_where_it_is_fixed(client):
    company = factories.make_company()
    _ready_ledger(company)
    category = factories.make_category(company, name="Meals")
    card = factories.make_card(company, name="Ops card")
    client.force_login(_member(company))
    html = client.get(reverse("portal:review", args=[company.pk])).content.decode()
    categories = reverse("portal:categories", args=[company.pk])
    accounts = reverse("portal:accounts", args=[company.pk])
    assert f'href="{categories}?q={category.code}#cat-{category.pk}"' in html
    assert f'href="{accounts}#defaults-title"' in html
    # The card has no bank account of its own and there is no default either.
    assert f'href="{accounts}#cards-title"' in html
    assert card.name in html
    assert "Category “Meals”" in html


@pytest.mark.django_db
def test_confirming_the_review_completes_the_step(client):
    company = factories.make_company()
    _ready_ledger(company)
    _mapped(company)
    user = _member(company, Role.ACCOUNTANT)
    client.force_login(user)
    response = client.post(reverse("portal:review", args=[company.pk]), {"action": "confirm"})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.onboarding_reviewed_at is not None
    assert _states(company)["review"] == "done"
    assert AuditEvent.objects.filter(action="onboarding.review", actor=user).exists()


@pytest.mark.django_db
def test_a_test_post_of_another_companys_transaction_is_refused(client):
    company = factories.make_company()
    _ready_ledger(company)
    other = factories.make_transaction(status=Transaction.Status.READY)
    client.force_login(_member(company))
    response = client.post(
        reverse("portal:review", args=[company.pk]),
        {"action": "test-post", "transaction": other.pk},
    )
    assert response.status_code == 400
    assert not Sync.objects.exists()
    # Following another company's transaction shows nothing about it.
    page = client.get(reverse("portal:review", args=[company.pk]), {"test": other.pk})
    assert "Pret A Manger" not in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"action": "save", "enabled": "on", "interval": "7"}, "Choose one of the intervals"),
        ({"action": "save", "interval": "60"}, "Choose on or off."),
    ],
)
def test_the_automatic_sync_form_keeps_bad_input_and_changes_nothing(client, data, error):
    company = factories.make_company()
    factories.make_connection(company)
    client.force_login(_member(company))
    response = client.post(reverse("portal:automatic-sync", args=[company.pk]), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    company.refresh_from_db()
    assert company.auto_sync_chosen_at is None
    assert (company.auto_sync_enabled, company.auto_sync_interval_minutes) == (True, 15)


@pytest.mark.django_db
def test_choosing_the_automatic_sync_saves_it_and_completes_the_step(client):
    company = factories.make_company()
    factories.make_connection(company)
    client.force_login(_member(company))
    response = client.post(
        reverse("portal:automatic-sync", args=[company.pk]),
        {"action": "save", "enabled": "on", "interval": "60"},
        follow=True,
    )
    assert "Automatic sync is on: ready spend goes every hour." in response.content.decode()
    company.refresh_from_db()
    assert (company.auto_sync_enabled, company.auto_sync_interval_minutes) == (True, 60)
    assert company.auto_sync_due_at is not None
    assert _states(company)["automatic_sync"] == "done"
    client.post(
        reverse("portal:automatic-sync", args=[company.pk]),
        {"action": "save", "enabled": "off", "interval": "60"},
    )
    company.refresh_from_db()
    assert company.auto_sync_enabled is False


@pytest.mark.django_db
def test_sync_now_without_a_connection_says_why(client):
    company = factories.make_company()
    client.force_login(_member(company))
    response = client.post(
        reverse("portal:automatic-sync", args=[company.pk]), {"action": "sync-now"}, follow=True
    )
    assert "Connect your accounting software before syncing." in response.content.decode()


@pytest.mark.django_db
def test_sync_now_queues_what_is_ready_and_says_so(client, monkeypatch):
    pushed = []
    monkeypatch.setattr("integrations.syncs.tasks.enqueue_push", pushed.append)
    company = factories.make_company(codat_company_id=uuid.uuid4())
    _ready_ledger(company)
    _mapped(company)
    CompanyInfo.objects.create(company=company, base_currency="GBP")
    factories.make_transaction(
        company, status=Transaction.Status.READY, category=company.expense_categories.get()
    )
    client.force_login(_member(company))
    response = client.post(
        reverse("portal:automatic-sync", args=[company.pk]), {"action": "sync-now"}, follow=True
    )
    assert "Sync started: 1 transaction on the way to your ledger." in response.content.decode()
    assert pushed == [company.pk]


@pytest.mark.django_db
def test_unlinking_asks_for_confirmation_first(client):
    company = factories.make_company()
    connection = factories.make_connection(company)
    client.force_login(_member(company))
    url = reverse("portal:connection", args=[company.pk])
    confirm = client.get(url, {"unlink": "1"}).content.decode()
    assert "Disconnect QuickBooks Online?" in confirm
    unticked = client.post(url, {"action": "unlink"})
    assert unticked.status_code == 400
    assert "Tick the box to confirm." in unticked.content.decode()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED


@pytest.mark.django_db
def test_anyone_who_maps_may_refresh_the_ledger_from_the_connection_page(client, monkeypatch):
    opened = []
    monkeypatch.setattr(
        ledger_services, "request_refresh", lambda company, **kw: opened.append(kw["actor"])
    )
    company = factories.make_company()
    _ready_ledger(company)
    url = reverse("portal:connection", args=[company.pk])
    accountant = _member(company, Role.ACCOUNTANT)
    client.force_login(accountant)
    assert "Refresh now" in client.get(url).content.decode()
    response = client.post(url, {"action": "refresh-ledger"}, follow=True)
    assert "Fetching your ledger again" in response.content.decode()
    assert opened == [accountant]
    # ...but not re-authorise or unlink, and a viewer nothing at all.
    assert client.post(url, {"action": "reauthorise"}).status_code == 403
    client.force_login(_member(company, Role.VIEWER))
    assert "Refresh now" not in client.get(url).content.decode()
    assert client.post(url, {"action": "refresh-ledger"}).status_code == 403


# --- Against the sandbox ---


@pytest.fixture
def on_sandbox(settings, sandbox_url):  # noqa: F811
    settings.CODAT_SANDBOX_URL = sandbox_url
    settings.CODAT_BASE_URL = sandbox_url
    settings.CODAT_API_KEY = API_KEY
    settings.CODAT_TIMEOUT_SECONDS = 10
    settings.SYNC_POLL_DELAY_SECONDS = 0
    settings.SYNC_RETRY_BASE_SECONDS = 0
    settings.CODAT_LINK_ORIGINS = []
    return sandbox_url


@pytest.fixture
def enqueued(monkeypatch):
    """Celery hand-offs, captured instead of sent: (task name, args)."""
    calls: list[tuple[str, tuple]] = []

    def capture(task, args=None, kwargs=None, **options):
        calls.append((task.name.rsplit(".", 1)[-1], tuple(args or ())))

    monkeypatch.setattr("celery.app.task.Task.apply_async", capture)
    return calls


def link_decision(link_url: str, decision: str) -> dict[str, str]:
    """Open the Link page like a browser, press `decision`; the query Link redirects with."""
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(link_url)
        assert page.status_code == 200, page.status_code
        parser = _LinkFormParser()
        parser.feed(page.text)
        answer = browser.post(
            str(page.url),
            data={
                "csrfmiddlewaretoken": parser.hidden["csrfmiddlewaretoken"],
                "decision": decision,
            },
        )
    assert answer.status_code == 302, answer.text[:300]
    return redirect_query(answer)


def _connect(client, company, platform="qhyg") -> str:
    response = client.post(reverse("portal:connect", args=[company.pk]), {"platform": platform})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


LIVE = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_connect_link_and_return_then_the_ledger_arrives_live(client, on_sandbox, enqueued):
    company = factories.make_company("Flow Coffee Ltd")
    owner = _member(company)
    client.force_login(owner)

    page = client.get(reverse("portal:connect", args=[company.pk]))
    # The connect form's redirect goes to Link's origin: CSP's form-action must allow it.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(on_sandbox))
    assert origin in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]

    link_url = _connect(client, company)
    assert link_url.startswith(on_sandbox + "/link/")
    connection = company.connections.get()
    assert connection.status == Connection.Status.PENDING_AUTH
    assert _states(company)["connect"] == "current"

    query = link_decision(link_url, "approve")
    assert query["statusCode"] == "200"
    back = client.get(reverse("link-return"), query)
    assert back.status_code == 302
    assert back["Location"] == reverse("portal:company", args=[company.pk])
    connection.refresh_from_db()
    assert connection.status == Connection.Status.LINKED
    assert ("connect_partner_expense", (company.pk,)) in enqueued
    read = LedgerRead.objects.get(company=company)
    assert read.is_open

    # The overview shows the fetch, polling its partial; the mapping steps wait for it.
    overview = client.get(back["Location"]).content.decode()
    assert "Fetching your ledger" in overview
    assert 'hx-trigger="every 2s"' in overview
    assert _states(company)["accounts"] == "locked"
    partial = client.get(back["Location"], **HTMX)
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="ledger-progress"')
    assert 'Partner expense connection created<span class="visually-hidden">: waiting' in body

    # The worker's part: the partner-expense connection, then the read finishes.
    from integrations.companies import services as connect_services

    company.refresh_from_db()
    connect_services.connect_partner_expense(company)
    deadline = time.monotonic() + WAIT_SECONDS
    while not ledger_services.check_read(read.pk):
        assert time.monotonic() < deadline, "the ledger read never finished"
        engine.advance()
        time.sleep(0.05)
    partial = client.get(back["Location"], **HTMX).content.decode()
    assert 'Codat read your ledger<span class="visually-hidden">: done' in partial
    assert ledger_services.import_read(read.pk)

    done = client.get(back["Location"], **HTMX)
    assert done.headers.get("HX-Refresh") == "true"
    states = _states(company)
    assert (states["connect"], states["accounts"]) == ("done", "current")
    assert states["review"] == states["automatic_sync"] == "todo"

    # The same return link again: Codat says nothing changed, still linked, nothing doubled.
    again = client.get(reverse("link-return"), query)
    assert again.status_code == 302
    assert LedgerRead.objects.filter(company=company).count() == 1


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("decision", "words"),
    [("cancel", "You cancelled connecting"), ("error", "Codat could not connect")],
)
def test_a_cancelled_or_failed_link_changes_nothing(client, on_sandbox, enqueued, decision, words):
    company = factories.make_company()
    client.force_login(_member(company))
    query = link_decision(_connect(client, company), decision)
    back = client.get(reverse("link-return"), query, follow=True)
    assert back.redirect_chain[-1][0] == reverse("portal:connect", args=[company.pk])
    assert words in back.content.decode()
    assert company.connections.get().status == Connection.Status.PENDING_AUTH
    assert not LedgerRead.objects.exists()
    assert not enqueued


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_forged_success_is_checked_with_codat(client, on_sandbox, enqueued):
    company = factories.make_company()
    client.force_login(_member(company))
    _connect(client, company)
    connection = company.connections.get()
    company.refresh_from_db()
    # Never approved in Link, but the query string claims success.
    response = client.get(
        reverse("link-return"),
        {
            "companyId": company.codat_company_id,
            "connectionId": connection.codat_connection_id,
            "statusCode": 200,
        },
        follow=True,
    )
    assert "is not authorised yet" in response.content.decode()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.PENDING_AUTH
    assert not LedgerRead.objects.exists()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_test_post_lands_and_links_to_the_ledger_viewer(client, codat, on_sandbox, enqueued):  # noqa: F811
    portal = linked_portal(codat)
    company = portal.company
    LedgerRead.objects.create(
        company=company, status=LedgerRead.Status.DONE, reason=LedgerRead.Reason.LINK
    )
    txn = portal.expense(net_amount="42.00", merchant_name="Trainline", issue_date=date.today())
    client.force_login(_member(company))

    page = client.get(reverse("portal:review", args=[company.pk])).content.decode()
    assert "Trainline" in page and "Nothing is missing" in page
    response = client.post(
        reverse("portal:review", args=[company.pk]),
        {"action": "test-post", "transaction": txn.pk},
    )
    assert response.status_code == 302
    result_url = response["Location"]
    assert result_url.endswith(f"?test={txn.pk}")
    assert ("push_company", (company.pk,)) in enqueued
    AuditEvent.objects.get(action="sync.test_post")

    moving = client.get(result_url, **HTMX)
    assert moving.status_code == 200
    assert "Sending…" in moving.content.decode()

    # The worker pushes it and follows the sync.
    push.push_company(company.pk)
    sync = Sync.objects.get(company=company)
    deadline = time.monotonic() + WAIT_SECONDS
    while not Sync.code_is_terminal(follow.follow_sync(sync.pk).status_code):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    txn.refresh_from_db()
    assert txn.status == Transaction.Status.COMPLETED and txn.ledger_record_id

    landed = client.get(result_url, **HTMX)
    assert landed.status_code == 286  # stop polling
    html = landed.content.decode()
    assert f"<code>{txn.ledger_record_id}</code>" in html
    viewer = f"{on_sandbox}/ledger/{company.codat_company_id}/#record-{txn.ledger_record_id}"
    assert viewer in html
    # The viewer (staff only outside debug) has that row, under that anchor.
    client.force_login(factories.make_user(is_staff=True))
    ledger_page = client.get(urlsplit(viewer).path).content.decode()
    assert f'id="record-{txn.ledger_record_id}"' in ledger_page


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_unlink_then_reauthorise_with_a_fresh_link(client, on_sandbox, enqueued):
    company = factories.make_company()
    client.force_login(_member(company))
    query = link_decision(_connect(client, company), "approve")
    client.get(reverse("link-return"), query)
    connection = company.connections.get(source_type=Connection.SourceType.ACCOUNTING)
    assert connection.status == Connection.Status.LINKED
    url = reverse("portal:connection", args=[company.pk])

    done = client.post(url, {"action": "unlink", "confirm": "on"}, follow=True)
    assert "is disconnected" in done.content.decode()
    connection.refresh_from_db()
    assert connection.status == Connection.Status.UNLINKED
    assert _states(company)["connect"] == "current"

    again = client.post(url, {"action": "reauthorise"})
    assert again.status_code == 302
    assert again["Location"].startswith(on_sandbox + "/link/")
    assert company.connections.filter(source_type="Accounting").count() == 1
    history = client.get(url).content.decode()
    assert "Disconnected" in history and "Authorised through Codat Link" in history
