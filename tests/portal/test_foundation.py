"""The pieces every portal page stands on: roles, the access helper, invitations, plain status,
and "sync now" queuing only what was chosen."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from integrations.companies import services
from integrations.companies.models import Invitation, Membership
from integrations.portal.access import Capability, company_access
from integrations.syncs.services import manual
from integrations.transactions.models import Receipt, Transaction
from tests.models import factories

pytestmark = pytest.mark.django_db
Role = Membership.Role
Plain = Transaction.PlainStatus


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, {"view", "map", "connect", "team"}),
        (Role.MEMBER, {"view", "map", "connect"}),
        (Role.ACCOUNTANT, {"view", "map"}),
        (Role.VIEWER, {"view"}),
    ],
)
def test_each_role_has_exactly_its_capabilities(role, allowed):
    membership = Membership(role=role)
    assert {c.value for c in Capability if membership.can(c)} == allowed


def _request(user, method="get"):
    request = getattr(RequestFactory(), method)("/")
    request.user = user
    request.session = {}
    return request


def test_access_finds_the_company_only_through_the_users_membership():
    mine, theirs = factories.make_company(), factories.make_company()
    user = factories.make_user()
    factories.make_membership(user, mine, Role.ACCOUNTANT)
    assert company_access(_request(user), mine.pk).company == mine
    with pytest.raises(Http404):
        company_access(_request(user), theirs.pk)
    with pytest.raises(PermissionDenied):
        company_access(_request(user, "post"), mine.pk, Capability.CONNECT)


def test_a_viewers_unsafe_request_is_refused_even_if_the_view_asks_only_to_view():
    company, user = factories.make_company(), factories.make_user()
    factories.make_membership(user, company, Role.VIEWER)
    assert company_access(_request(user), company.pk).role == Role.VIEWER
    with pytest.raises(PermissionDenied):
        company_access(_request(user, "post"), company.pk)


def test_an_invitation_is_emailed_and_works_once():
    company, owner, joiner = factories.make_company(), factories.make_user(), factories.make_user()
    invitation, token = services.invite(
        company, " Ann@Example.com ", Role.ACCOUNTANT, invited_by=owner
    )
    assert invitation.email == "ann@example.com"
    assert token not in invitation.token_hash
    assert mail.outbox[0].to == ["ann@example.com"]
    assert f"/invitations/{token}/" in mail.outbox[0].body
    membership = services.accept_invitation(token, joiner)
    assert (membership.company, membership.role) == (company, Role.ACCOUNTANT)
    with pytest.raises(services.InvitationError, match="already been used"):
        services.accept_invitation(token, factories.make_user())


def test_an_expired_or_replaced_invitation_is_refused():
    company = factories.make_company()
    _, first = services.invite(company, "ann@example.com", Role.MEMBER)
    _, second = services.invite(company, "ann@example.com", Role.MEMBER)
    with pytest.raises(services.InvitationError, match="withdrawn"):
        services.open_invitation(first)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(services.InvitationError, match="expired"):
        services.open_invitation(second)
    with pytest.raises(services.InvitationError, match="not valid"):
        services.open_invitation("made-up")


@pytest.mark.parametrize(
    ("status", "plain"),
    [
        ("draft", Plain.DRAFT),
        ("ready", Plain.READY),
        ("queued", Plain.QUEUED),
        ("pushing", Plain.SYNCING),
        ("syncing", Plain.SYNCING),
        ("failed", Plain.FAILED),
    ],
)
def test_plain_status_of_unsynced_rows(status, plain):
    txn = factories.make_transaction(status=status)
    assert txn.plain_status == plain
    rows = Transaction.objects.with_receipt_state()
    assert list(rows.filter(Transaction.plain_status_filter(plain))) == [txn]


def test_a_synced_expense_without_a_usable_receipt_reads_receipt_missing():
    company = factories.make_company()
    bare = factories.make_transaction(company, status="completed")
    lost = factories.make_transaction(company, status="completed")
    factories.make_receipt(lost, upload_status=Receipt.UploadStatus.REJECTED)
    kept = factories.make_transaction(company, status="completed")
    factories.make_receipt(kept)
    transfer = factories.make_transaction(
        company, status="completed", kind="transfer", expense_type=""
    )
    rows = {t.pk: t for t in Transaction.objects.with_receipt_state()}
    for txn in (bare, lost, kept, transfer):
        # The annotated row and the row alone agree.
        assert rows[txn.pk].plain_status == Transaction.objects.get(pk=txn.pk).plain_status
    assert rows[bare.pk].plain_status == Plain.RECEIPT_MISSING
    assert rows[lost.pk].plain_status == Plain.RECEIPT_MISSING
    assert rows[kept.pk].plain_status == Plain.IN_LEDGER
    assert rows[transfer.pk].plain_status == Plain.IN_LEDGER
    missing = Transaction.objects.with_receipt_state().filter(
        Transaction.plain_status_filter(Plain.RECEIPT_MISSING)
    )
    assert set(missing) == {bare, lost}


def test_sync_now_refuses_an_unlinked_company():
    company = factories.make_company()
    with pytest.raises(manual.SyncNowError):
        manual.sync_now(company)


def test_sync_now_checks_only_the_chosen_rows_and_queues_the_push():
    company = factories.make_company()
    chosen = factories.make_transaction(company, status="ready")
    other = factories.make_transaction(company, status="ready")
    result = manual.PreflightResult(queued=1, needs_attention=0)
    with (
        mock.patch.object(manual, "can_push", return_value=True),
        mock.patch.object(manual, "preflight_company", return_value=result) as preflight,
        mock.patch.object(manual.tasks, "enqueue_push") as enqueue,
    ):
        assert manual.sync_now(company, transaction_ids=[chosen.pk]) == result
    preflight.assert_called_once_with(company.pk, transaction_ids=[str(chosen.pk)])
    enqueue.assert_called_once_with(company.pk)
    assert other.pk not in preflight.call_args.kwargs["transaction_ids"]
