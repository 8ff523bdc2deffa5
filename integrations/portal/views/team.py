"""The team: who is in a company with which role, invitations by email, joining through an
invitation link, and switching between one's companies.

Owners (the TEAM capability) invite, change roles, remove people and withdraw invitations;
everyone else sees the page. The rules (single-use links, never the last owner) live in
integrations.companies.services; these views validate input and report the outcome.
"""

import logging
import smtplib

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.companies import services
from integrations.companies.models import Membership

from ..access import CURRENT_COMPANY_SESSION_KEY, Capability, company_access
from ..forms.team import InvitationSignUpForm, InviteForm, RoleForm, SwitchCompanyForm

logger = logging.getLogger(__name__)

# The invitation link's token is kept here between opening the link and accepting, so the page
# the person reads (and signs in on) has no secret in its address, its history entry or the
# Referer it sends.
INVITATION_SESSION_KEY = "portal_invitation_token"

ROLE_ORDER = {role: index for index, role in enumerate(Membership.Role)}


def _team_page(request, membership, *, invite_form=None, status=200):
    company = membership.company
    members = sorted(
        company.memberships.select_related("user"),
        key=lambda m: (ROLE_ORDER.get(m.role, 99), m.user.get_username().lower()),
    )
    now = timezone.now()
    invitations = list(
        company.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )
    for invitation in invitations:
        invitation.expired = invitation.expires_at <= now
    owners = sum(1 for m in members if m.role == Membership.Role.OWNER)
    can_manage = membership.can_manage_team
    if can_manage and invite_form is None:
        invite_form = InviteForm(company=company)
    return render(
        request,
        "portal/team.html",
        {
            "membership": membership,
            "company": company,
            "section": "team",
            "members": members,
            "invitations": invitations,
            "only_one_owner": owners <= 1,
            "can_manage": can_manage,
            "invite_form": invite_form,
            "roles": [
                (role.value, role.label, Membership.ROLE_DESCRIPTIONS[role])
                for role in Membership.Role
            ],
        },
        status=status,
    )


@login_required
def team(request, company_id):
    membership = company_access(request, company_id)
    return _team_page(request, membership)


@login_required
def team_invite(request, company_id):
    membership = company_access(request, company_id, Capability.TEAM)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    company = membership.company
    form = InviteForm(request.POST, company=company)
    if not form.is_valid():
        return _team_page(request, membership, invite_form=form)
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    try:
        services.invite(company, email, role, invited_by=request.user)
    except (smtplib.SMTPException, OSError):
        # The invitation row exists but its only link is lost with the email: take it back.
        logger.exception("Could not send the invitation email to company %s", company.pk)
        for invitation in company.invitations.filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ):
            services.withdraw_invitation(invitation, actor=request.user)
        messages.error(request, f"The email to {email} could not be sent. Please try again.")
        return redirect("portal:team", company.pk)
    messages.success(
        request,
        f"Invitation sent to {email} as {Membership.Role(role).label.lower()}. "
        f"The link works once and expires in {services.INVITATION_LIFETIME.days} days.",
    )
    return redirect("portal:team", company.pk)


@login_required
def member_role(request, company_id, membership_id):
    membership = company_access(request, company_id, Capability.TEAM)
    target = get_object_or_404(
        membership.company.memberships.select_related("user", "company"), pk=membership_id
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles in the list.")
        return redirect("portal:team", membership.company_id)
    try:
        services.change_role(target, form.cleaned_data["role"], actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{target.user.get_username()} is now {target.get_role_display().lower()}."
        )
    return redirect("portal:team", membership.company_id)


@login_required
def member_remove(request, company_id, membership_id):
    membership = company_access(request, company_id, Capability.TEAM)
    target = get_object_or_404(
        membership.company.memberships.select_related("user", "company"), pk=membership_id
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    company = membership.company
    try:
        services.remove_member(target, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
        return redirect("portal:team", company.pk)
    if target.user_id == request.user.pk:
        messages.success(request, f"You have left {company}.")
        return redirect("home")
    messages.success(request, f"{target.user.get_username()} no longer has access to {company}.")
    return redirect("portal:team", company.pk)


@login_required
def invitation_withdraw(request, company_id, invitation_id):
    membership = company_access(request, company_id, Capability.TEAM)
    invitation = get_object_or_404(membership.company.invitations, pk=invitation_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.withdraw_invitation(invitation, actor=request.user)
    except services.TeamError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("portal:team", membership.company_id)


# --- Joining through an invitation link -----------------------------------------------------


def invitation_accept(request, token):
    """The link in the email: keep its token in the session and continue on a tokenless page."""
    request.session[INVITATION_SESSION_KEY] = token
    return redirect("portal:invitation")


def _invitation_refused(request, message, status):
    request.session.pop(INVITATION_SESSION_KEY, None)
    return render(request, "portal/invitation.html", {"error": message}, status=status)


def invitation(request):
    """Who invited you to which company with which role; sign in or create an account, and join.

    Anyone holding the link may open this page; joining needs an account, either an existing
    one (signed in here, so django-axes throttles guesses as on the sign-in page) or a new one
    for the invited address.
    """
    token = request.session.get(INVITATION_SESSION_KEY)
    if not token:
        return _invitation_refused(
            request, "Open the link in your invitation email to join a company.", 404
        )
    try:
        invitation = services.open_invitation(token)
    except services.InvitationError as exc:
        return _invitation_refused(request, str(exc), 410)

    user = request.user
    signin_form = AuthenticationForm(request)
    # Two forms share the page: neither grabs the focus (it would leave the other's errors).
    signin_form.fields["username"].widget.attrs.pop("autofocus", None)
    signup_form = InvitationSignUpForm(invitation.email)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "signin" and not user.is_authenticated:
            signin_form = AuthenticationForm(request, data=request.POST)
            signin_form.fields["username"].widget.attrs.pop("autofocus", None)
            if signin_form.is_valid():
                user = signin_form.get_user()
                login(request, user)
                return _join(request, token, user)
        elif action == "signup" and not user.is_authenticated:
            signup_form = InvitationSignUpForm(invitation.email, data=request.POST)
            if signup_form.is_valid():
                user = signup_form.save()
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return _join(request, token, user)
        elif action == "accept" and user.is_authenticated:
            return _join(request, token, user)

    # Someone who already has an account for the invited address is only offered to sign in.
    has_account = not user.is_authenticated and (
        get_user_model()
        .objects.filter(Q(email__iexact=invitation.email) | Q(username__iexact=invitation.email))
        .exists()
    )
    already_member = (
        user.is_authenticated
        and Membership.objects.filter(user=user, company=invitation.company).exists()
    )
    inviter = invitation.invited_by
    return render(
        request,
        "portal/invitation.html",
        {
            "invitation": invitation,
            "inviter": (inviter.get_full_name() or inviter.get_username()) if inviter else "",
            "role_description": Membership.ROLE_DESCRIPTIONS.get(invitation.role, ""),
            "signin_form": signin_form,
            "signup_form": signup_form,
            "other_address": user.is_authenticated
            and (user.email or "").lower() != invitation.email.lower(),
            "already_member": already_member,
            "has_account": has_account,
        },
    )


def _join(request, token, user):
    try:
        membership = services.accept_invitation(token, user)
    except services.InvitationError as exc:
        return _invitation_refused(request, str(exc), 410)
    request.session.pop(INVITATION_SESSION_KEY, None)
    messages.success(
        request,
        f"You have joined {membership.company} as {membership.get_role_display().lower()}.",
    )
    return redirect("portal:company", membership.company_id)


# --- Switching company ------------------------------------------------------------------------


@login_required
@require_POST
def switch_company(request):
    """The top bar's company switcher: only the user's own companies are accepted (404 else)."""
    form = SwitchCompanyForm(request.POST, user=request.user)
    if not form.is_valid():
        raise Http404("No such company.")
    company = form.cleaned_data["company"]
    request.session[CURRENT_COMPANY_SESSION_KEY] = company.pk
    return redirect("portal:company", company.pk)
