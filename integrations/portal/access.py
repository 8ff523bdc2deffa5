"""Who may see and change which company: the first call of every company-scoped view.

A view starts with `membership = company_access(request, company_id, Capability.MAP)` and
uses `membership.company`. The company is found only through the signed-in user's own
membership, so another tenant's id answers 404 exactly like an id that does not exist.
Any unsafe request (POST, PUT, PATCH, DELETE) needs at least the MAP capability whatever the
view asked for, so a viewer is refused (403) on every change even if a view forgets to ask.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from integrations.companies.models import Membership

Capability = Membership.Capability

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# The session key of the company the user last worked in (the company switcher sets it).
CURRENT_COMPANY_SESSION_KEY = "portal_company_id"


def company_access(request, company_id, capability=Capability.VIEW) -> Membership:
    """The user's membership of company `company_id` (with `.company` loaded), or 404 / 403."""
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such company.")
    membership = (
        Membership.objects.select_related("company")
        .filter(user=user, company_id=company_id)
        .first()
    )
    if membership is None:
        raise Http404("No such company.")
    if request.method not in SAFE_METHODS and capability == Capability.VIEW:
        capability = Capability.MAP
    if not membership.can(capability):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) cannot do this in {membership.company}."
        )
    if request.session.get(CURRENT_COMPANY_SESSION_KEY) != membership.company_id:
        request.session[CURRENT_COMPANY_SESSION_KEY] = membership.company_id
    return membership
