"""The partner API object: authentication, errors, docs; the operations are in views.py."""

from ninja import NinjaAPI

from . import errors
from .auth import PartnerKeyAuth

DESCRIPTION = """\
How the card company's systems provision customers, push their spend, receipts, categories and
cards into the Expenses Portal, and read back what became of each transaction.

Authenticate with `Authorization: Bearer <key>` (keys are created in the admin; in development
the key in `.env.example` works). Money is a decimal string, dates are ISO 8601. Errors are JSON:
`{"code": ..., "message": ..., "fields": [{"field", "message", "index"}]}`.
"""

api = NinjaAPI(
    title="Expenses Portal partner API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="partner_api",
    auth=PartnerKeyAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
)
errors.install(api)

from . import views  # noqa: E402, F401  (registers the operations on `api`)
