"""Connecting a company's accounting software through Codat, and taking it away again.

The browser journey calls these in order: `connect_accounting` (which creates the Codat company
on first use) hands back the Link URL; Link sends the user back to the portal, which calls
`record_link_outcome`; once linked, `connect_partner_expense` and the first ledger read follow
in the background. `unlink_accounting` ends it. What a person does is written to the audit
trail here, the one place it happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations.codat.errors import CodatNotFoundError
from integrations.codat.factory import codat_client
from integrations.ledger import services as ledger
from integrations.syncs import events

from . import tasks
from .models import AuditEvent, Company, Connection, Invitation, Membership

# Codat strips anything else from a company name on create; doing it first keeps the name we
# send the name it stores.
_CODAT_NAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9 \-',&@.?!]")

# Codat Link's statusCode values that mean the connection was (or already was) authorised.
LINK_APPROVED = (200, 201)


class ConnectError(Exception):
    """A connect step the person asked for cannot be done; the message says why, in plain words."""


def _codat_name(company: Company) -> str:
    name = _CODAT_NAME_FORBIDDEN.sub("", company.name).strip()
    return name or f"Company {company.pk}"


def ensure_codat_company(company: Company) -> Company:
    """Create the company at Codat on first use and keep its id; a no-op afterwards.

    Two requests racing here both create a Codat company, but only one id is stored (the
    conditional UPDATE decides), and the loser's company is deleted again at Codat.
    """
    if company.codat_company_id:
        return company
    with codat_client() as client:
        created = client.create_company(
            {"name": _codat_name(company), "tags": {"portalCompanyId": str(company.pk)}}
        )
        codat_id = uuid.UUID(created["id"])
        won = Company.objects.filter(pk=company.pk, codat_company_id__isnull=True).update(
            codat_company_id=codat_id
        )
        if not won:
            client.delete_company(str(codat_id))
    company.refresh_from_db(fields=["codat_company_id"])
    return company


def connect_accounting(company: Company, platform_key: str, *, actor=None) -> Connection:
    """The company's accounting connection for `platform_key`, with the Link URL to authorise it.

    Asking again for the same platform hands back the same connection: a person pressing
    "Connect" twice gets one Link URL, and one who unlinked gets the old connection back to
    authorise again (Codat keeps it). Codat allows one accounting connection per company, so
    a connection to another platform that is not linked is removed at Codat first.
    """
    connections = company.connections.filter(source_type=Connection.SourceType.ACCOUNTING)
    current = connections.filter(status__in=Connection.ACTIVE_STATUSES).first()
    if current is not None and current.status == Connection.Status.LINKED:
        raise ConnectError(
            f"{current.platform_name or current.platform_key} is already connected. "
            "Disconnect it before connecting other accounting software."
        )
    if current is not None and current.platform_key == platform_key:
        return current

    ensure_codat_company(company)
    codat_company_id = str(company.codat_company_id)
    previous = (
        None
        if current is not None
        else connections.order_by("-created_at", "-pk").first()  # unlinked or deauthorised
    )
    with codat_client() as client:
        if previous is not None and previous.platform_key == platform_key:
            return _reconnect(client, codat_company_id, previous, actor=actor)
        if current is not None:
            _withdraw(client, codat_company_id, current, actor=actor)
        elif previous is not None:
            with contextlib.suppress(CodatNotFoundError):  # already removed: nothing to do
                client.delete_connection(codat_company_id, str(previous.codat_connection_id))
        created = client.create_connection(codat_company_id, platform_key)
    connection = Connection.objects.create(
        company=company,
        codat_connection_id=created["id"],
        platform_key=platform_key,
        platform_name=created.get("platformName") or "",
        source_type=Connection.SourceType.ACCOUNTING,
        status=Connection.Status(created["status"]),
        link_url=created.get("linkUrl") or "",
    )
    AuditEvent.record(
        actor,
        "connection.create",
        obj=connection,
        after=AuditEvent.snapshot(connection, ["platform_key", "status"]),
    )
    return connection


def _reconnect(client, codat_company_id: str, connection: Connection, *, actor) -> Connection:
    # Link URLs expire, so the current one is read from Codat rather than reused.
    remote = client.get_connection(codat_company_id, str(connection.codat_connection_id))
    connection.link_url = remote.get("linkUrl") or connection.link_url
    connection.status = Connection.Status(remote["status"])
    connection.save(update_fields=["link_url", "status", "updated_at"])
    AuditEvent.record(actor, "connection.reconnect", obj=connection)
    return connection


def record_link_outcome(
    company: Company,
    *,
    status_code: int,
    connection_id: uuid.UUID | str | None = None,
    error_message: str = "",
    actor=None,
) -> Connection | None:
    """Take in what Codat Link reported when it sent the person back to the portal.

    The query string is only a hint (anyone can type statusCode=200): the connection's state
    is read from Codat, and that is what is stored. Once linked, the partner-expense
    connection and the first ledger read are started in the background. Returns the
    connection, or None when the company has no such accounting connection.
    """
    connections = company.connections.filter(source_type=Connection.SourceType.ACCOUNTING)
    if connection_id:
        connection = connections.filter(codat_connection_id=connection_id).first()
    else:
        connection = connections.order_by("-created_at", "-pk").first()
    if connection is None or not company.codat_company_id:
        return None

    before = AuditEvent.snapshot(connection, ["status"])
    with codat_client() as client:
        remote = client.get_connection(
            str(company.codat_company_id), str(connection.codat_connection_id)
        )
    connection.status = Connection.Status(remote["status"])
    connection.platform_name = remote.get("platformName") or connection.platform_name
    connection.save(update_fields=["status", "platform_name", "updated_at"])
    AuditEvent.record(
        actor,
        "connection.link" if status_code in LINK_APPROVED else "connection.link_failed",
        obj=connection,
        label=" ".join(filter(None, [f"{connection}: Link answered {status_code}", error_message])),
        before=before,
        after=AuditEvent.snapshot(connection, ["status"]),
    )
    if connection.status == Connection.Status.LINKED:
        transaction.on_commit(lambda: tasks.connect_partner_expense.delay(company.pk))
        ledger.await_initial_read(company)
    _health_changed(company.pk)
    return connection


def connect_partner_expense(company: Company) -> Connection:
    """The company's partner-expense connection (Codat's side of the partner), made once."""
    existing = company.connections.filter(
        source_type=Connection.SourceType.EXPENSE, status__in=Connection.ACTIVE_STATUSES
    ).first()
    if existing is not None:
        return existing
    if not company.codat_company_id:
        raise ConnectError("Connect the accounting software first.")
    with codat_client() as client:
        created = client.create_partner_expense_connection(str(company.codat_company_id))
    try:
        with transaction.atomic():
            connection, _ = Connection.objects.update_or_create(
                codat_connection_id=created["id"],
                defaults={
                    "company": company,
                    "platform_key": created.get("integrationKey") or "",
                    "platform_name": created.get("platformName") or "",
                    "source_type": Connection.SourceType.EXPENSE,
                    "status": Connection.Status(created["status"]),
                },
            )
    except IntegrityError:
        # A concurrent call stored it first.
        connection = company.connections.get(codat_connection_id=created["id"])
    return connection


def unlink_accounting(company: Company, *, actor=None) -> Connection:
    """Stop reaching the company's ledger; the connection stays as history, Codat keeps its data.

    Codat only unlinks a Linked connection; one still waiting for Link is deleted instead.
    """
    connection = company.connections.filter(
        source_type=Connection.SourceType.ACCOUNTING, status__in=Connection.ACTIVE_STATUSES
    ).first()
    if connection is None:
        raise ConnectError("There is no accounting software connected.")
    with codat_client() as client:
        _withdraw(client, str(company.codat_company_id), connection, actor=actor)
    return connection


def _withdraw(client, codat_company_id: str, connection: Connection, *, actor) -> None:
    before = AuditEvent.snapshot(connection, ["status"])
    connection_id = str(connection.codat_connection_id)
    try:
        if connection.status == Connection.Status.LINKED:
            remote = client.unlink_connection(codat_company_id, connection_id)
            connection.status = Connection.Status(remote["status"])
        else:
            client.delete_connection(codat_company_id, connection_id)
            connection.status = Connection.Status.UNLINKED
    except CodatNotFoundError:
        # Already gone at Codat (deleted there): our row just catches up.
        connection.status = Connection.Status.UNLINKED
    connection.save(update_fields=["status", "updated_at"])
    AuditEvent.record(
        actor,
        "connection.unlink",
        obj=connection,
        before=before,
        after=AuditEvent.snapshot(connection, ["status"]),
    )
    _health_changed(connection.company_id)


# --- Codat's lifecycle webhooks (registered with the webhook registry at merge) ----------------


@events.handles(
    "connection.connected",
    "connection.disconnected",
    "connection.reconnected",
    "connection.deleted",
    "connection.failed",
)
def on_connection_event(event) -> None:
    """connection.connected / .disconnected / .reconnected / .deleted / .failed: Codat's state
    of one of our connections wins over ours. Unknown connections are ignored."""
    remote = event.data.get("connection") or {}
    try:
        status = Connection.Status(remote.get("status"))
    except ValueError:
        return
    changed = Connection.objects.filter(
        codat_connection_id=_uuid_or_none(remote.get("id"))
    ).exclude(status=status)
    company_ids = list(changed.values_list("company_id", flat=True))
    changed.update(status=status)
    for company_id in company_ids:
        _health_changed(company_id)


@events.handles("company.deleted")
def on_company_deleted(event) -> None:
    """company.deleted: every connection is gone with it, and the next connect must create a
    new Codat company, so the stored id is cleared (the portal's company and history stay)."""
    codat_id = _uuid_or_none(event.data.get("id"))
    if codat_id is None:
        return
    with transaction.atomic():
        Connection.objects.filter(
            company__codat_company_id=codat_id, status__in=Connection.ACTIVE_STATUSES
        ).update(status=Connection.Status.UNLINKED)
        Company.objects.filter(codat_company_id=codat_id).update(codat_company_id=None)


def _health_changed(company_id: int) -> None:
    """The staff pages' summary of the company follows its connection (after commit)."""
    from integrations.syncs.services import health  # syncs imports this app's models

    health.refresh_soon(company_id)


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# The team: invitations by email, single-use and expiring.

INVITATION_LIFETIME = timedelta(days=7)


class InvitationError(Exception):
    """An invitation link that cannot be used; the message says why, in plain words."""


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def invite(company: Company, email: str, role: str, *, invited_by=None) -> tuple[Invitation, str]:
    """Invite `email` to `company` with `role`, and email them the link.

    Returns the invitation and the raw token (the only time it exists outside the email).
    Inviting an address again revokes its open invitations, so only the newest link works.
    """
    email = email.strip().lower()
    raw_token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        company.invitations.filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            company=company,
            email=email,
            role=role,
            token_hash=_token_hash(raw_token),
            invited_by=invited_by if invited_by and invited_by.is_authenticated else None,
            expires_at=now + INVITATION_LIFETIME,
        )
        AuditEvent.record(
            invited_by, "team.invite", obj=invitation, company=company, after={"role": role}
        )
    path = reverse("portal:invitation-accept", args=[raw_token])
    link = f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"
    inviter = ""
    if invited_by and invited_by.is_authenticated:
        inviter = invited_by.get_full_name() or invited_by.get_username()
    send_mail(
        subject=f"You are invited to {company.name} on the Expenses Portal",
        message=render_to_string(
            "portal/email/invitation.txt",
            {
                "company": company,
                "invitation": invitation,
                "link": link,
                "inviter": inviter,
                "role_description": Membership.ROLE_DESCRIPTIONS.get(role, ""),
            },
        ),
        from_email=None,
        recipient_list=[email],
    )
    return invitation, raw_token


def open_invitation(raw_token: str) -> Invitation:
    """The invitation behind a link, or InvitationError saying why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("company")
        .filter(token_hash=_token_hash(raw_token))
        .first()
    )
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation was withdrawn; ask for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired; ask for a new one.")
    return invitation


def accept_invitation(raw_token: str, user) -> Membership:
    """Make `user` a member with the invited role; the link works once (conditional UPDATE)."""
    invitation = open_invitation(raw_token)
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if not claimed:
            raise InvitationError("This invitation has already been used.")
        membership, created = Membership.objects.get_or_create(
            user=user, company=invitation.company, defaults={"role": invitation.role}
        )
        AuditEvent.record(
            user,
            "team.join" if created else "team.join-existing",
            obj=membership,
            company=invitation.company,
            after={"role": membership.role},
        )
    return membership


# ---------------------------------------------------------------------------------------------
# Onboarding decisions (the checklist itself is computed in integrations/portal/onboarding.py).


def confirm_onboarding_review(company: Company, *, actor=None) -> None:
    """The person looked at what is mapped and what is missing and said it is right."""
    company.onboarding_reviewed_at = timezone.now()
    company.save(update_fields=["onboarding_reviewed_at"])
    AuditEvent.record(actor, "onboarding.review", obj=company)


class TeamError(Exception):
    """A change to the team that cannot be made; the message says why, in plain words."""


def _owners_left_after(company: Company, membership: Membership) -> int:
    """How many owners `company` keeps if `membership` stops being one (rows locked on PostgreSQL,
    so two owners demoting each other at once cannot both succeed)."""
    owners = list(
        Membership.objects.select_for_update()
        .filter(company=company, role=Membership.Role.OWNER)
        .values_list("pk", flat=True)
    )
    return len([pk for pk in owners if pk != membership.pk])


def change_role(membership: Membership, role: str, *, actor=None) -> Membership:
    """Give a member another role; the company's last owner keeps theirs."""
    role = Membership.Role(role)
    if membership.role == role:
        return membership
    with transaction.atomic():
        if membership.role == Membership.Role.OWNER and not _owners_left_after(
            membership.company, membership
        ):
            raise TeamError(
                f"{membership.user.get_username()} is the only owner of {membership.company}: "
                "make someone else an owner first."
            )
        before = AuditEvent.snapshot(membership, ["role"])
        membership.role = role
        membership.save(update_fields=["role"])
        AuditEvent.record(
            actor,
            "team.role",
            obj=membership,
            before=before,
            after=AuditEvent.snapshot(membership, ["role"]),
        )
    return membership


def remove_member(membership: Membership, *, actor=None) -> None:
    """Take a person out of the company (their account stays); never the last owner."""
    with transaction.atomic():
        if membership.role == Membership.Role.OWNER and not _owners_left_after(
            membership.company, membership
        ):
            raise TeamError(
                f"{membership.user.get_username()} is the only owner of {membership.company} "
                "and cannot be removed: make someone else an owner first."
            )
        AuditEvent.record(
            actor,
            "team.remove",
            obj=membership,
            before={"role": membership.role},
        )
        membership.delete()


def withdraw_invitation(invitation: Invitation, *, actor=None) -> Invitation:
    """Make an open invitation's link stop working (conditional UPDATE: a link being accepted
    at this moment is either accepted or withdrawn, never both)."""
    now = timezone.now()
    with transaction.atomic():
        withdrawn = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if not withdrawn:
            raise TeamError(f"The invitation to {invitation.email} was already used or withdrawn.")
        invitation.revoked_at = now
        AuditEvent.record(actor, "team.withdraw", obj=invitation, company=invitation.company)
    return invitation
