from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from integrations.companies import services

from .placeholder import planned


@login_required
def invitation_accept(request, token):
    """Accept an invitation as the signed-in user (the team helper builds the full page)."""
    try:
        invitation = services.open_invitation(token)
    except services.InvitationError as exc:
        return render(request, "portal/invitation.html", {"error": str(exc)}, status=404)
    if request.method == "POST":
        try:
            membership = services.accept_invitation(token, request.user)
        except services.InvitationError as exc:
            return render(request, "portal/invitation.html", {"error": str(exc)}, status=404)
        messages.success(request, f"You have joined {membership.company}.")
        return redirect("home")
    return render(request, "portal/invitation.html", {"invitation": invitation})


team = planned("Team")
