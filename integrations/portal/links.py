"""Where the portal may send a person outside itself: Codat Link, and the sandbox's ledger viewer.

Both are read from settings at request time (tests point the portal at a live sandbox), and a
Link URL is only followed when its origin is one of these, so a stored or forged URL cannot turn
the connect page into an open redirect.
"""

from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

# Codat's hosted Link pages (docs auth-flow/authorize-hosted-link): the company's Hosted Link
# and the connection's linkUrl.
CODAT_LINK_HOSTS = ("https://link-api.codat.io", "https://link.codat.io")


def origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def uses_sandbox() -> bool:
    return settings.CODAT_BASE_URL.rstrip("/") != settings.CODAT_PRODUCTION_URL


def link_origins() -> list[str]:
    if settings.CODAT_LINK_ORIGINS:
        return [origin(o) or o for o in settings.CODAT_LINK_ORIGINS]
    if uses_sandbox():
        return [origin(settings.CODAT_SANDBOX_URL)]
    return list(CODAT_LINK_HOSTS)


def safe_link_url(url: str) -> str | None:
    """`url` if it is a Link URL the portal may redirect to, else None."""
    return url if url and origin(url) in link_origins() else None


def with_link_csp(request, response):
    """`response` with form-action also allowing Link's origins: browsers apply form-action to
    the redirect that follows a form POST, so the page holding a "connect" form needs it."""
    config = {**settings.SECURE_CSP, "form-action": [CSP.SELF, *link_origins()]}
    return csp_override(config)(lambda _request: response)(request)


def ledger_viewer_url(codat_company_id, record_id: str = "") -> str:
    """The sandbox's page showing what landed in the company's ledger (and the row of
    `record_id`), or "" with real Codat, which has no such page."""
    if not uses_sandbox() or not codat_company_id:
        return ""
    url = f"{settings.CODAT_SANDBOX_URL.rstrip('/')}/ledger/{codat_company_id}/"
    if record_id:
        url += "#record-" + quote(record_id, safe="")
    return url
