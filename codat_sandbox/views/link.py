"""The sandbox's Link: the page a connection's linkUrl opens, where the "SMB" approves or
cancels access, then goes back to the partner's redirect URL with Codat's reserved
placeholders filled in (docs: auth-flow/customize/set-up-redirects)."""

import re
from urllib.parse import quote, urlsplit

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_http_methods

from .. import conf, services
from ..forms import LinkDecisionForm, PlatformChoiceForm
from ..models import SandboxCompany, SandboxConnection

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")

ERROR_MESSAGES = {200: "", 201: "", 403: "User cancelled.", 500: "Unknown error occurred."}


def redirect_url(conn: SandboxConnection, status_code: int, custom: dict[str, str]) -> str:
    """The configured redirect URL with every {placeholder} replaced by its URL-encoded value.

    Reserved names come from the connection; any other name is a custom placeholder filled
    from the Link URL's query string, and one that is missing becomes an empty string.
    """
    template = conf.redirect_url_template()
    reserved = {
        "clientId": "00000000-0000-0000-0000-000000000000",
        "companyId": str(conn.company_id),
        "connectionId": str(conn.id),
        "integrationId": str(conn.integration_id),
        "sourceId": str(conn.source_id),
        "platform": conn.platform_key,
        "platformName": conn.platform_name,
        "sourceType": conn.source_type,
        "statusCode": str(status_code),
        "errorMessage": ERROR_MESSAGES.get(status_code, ""),
        "statusText": "Linked" if status_code in (200, 201) else "",
        "data.company.companyName": conn.company.name,
    }

    def fill(match):
        name = match.group(1)
        value = reserved[name] if name in reserved else custom.get(name, "")
        return quote(value, safe="")

    return _PLACEHOLDER.sub(fill, template)


def _redirect_origin() -> str:
    parts = urlsplit(conf.redirect_url_template())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Browsers apply the CSP form-action directive to the redirect that follows a form POST, so
# Approve/Cancel must be allowed to land on the partner's redirect origin even when that is not
# this host (say the portal is opened as localhost and the redirect names 127.0.0.1).
LINK_CSP = {
    **conf.portal_csp(),
    "form-action": [CSP.SELF, *filter(None, [_redirect_origin()])],
}


@csp_override(LINK_CSP)
@require_http_methods(["GET", "POST"])
def start(request, company_id, connection_id):
    conn = get_object_or_404(
        SandboxConnection.objects.select_related("company"),
        pk=connection_id,
        company_id=company_id,
    )
    form = LinkDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["decision"] == "cancel":
            status_code = 403
        elif form.cleaned_data["decision"] == "error":
            status_code = 500  # nothing changes: the connection stays as it was (PendingAuth)
        elif conn.status == SandboxConnection.Status.LINKED:
            status_code = 201  # Codat's "nothing changed"
        else:
            with transaction.atomic():
                services.approve_link(conn)
            status_code = 200
        custom = {key: value for key, value in request.GET.items()}
        return HttpResponseRedirect(redirect_url(conn, status_code, custom))
    return render(
        request,
        "codat_sandbox/link.html",
        {"connection": conn, "company": conn.company, "form": form},
    )


@require_http_methods(["GET", "POST"])
def company_start(request, company_id):
    """Hosted Link for a company (its `redirect`): pick the accounting platform first."""
    company = get_object_or_404(SandboxCompany, pk=company_id)
    existing = company.accounting_connection()
    if existing is not None:
        return redirect(
            "codat_sandbox:link-start", company_id=company.id, connection_id=existing.id
        )
    form = PlatformChoiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            conn = services.create_connection(company, form.cleaned_data["platform"])
        return redirect("codat_sandbox:link-start", company_id=company.id, connection_id=conn.id)
    return render(request, "codat_sandbox/link_company.html", {"company": company, "form": form})
