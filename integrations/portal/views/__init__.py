"""The customer's pages, one module per area; this package re-exports the views for urls.py."""

from .mapping import accounts, categories
from .onboarding import automatic_sync, company_overview, connect, connection, review
from .team import invitation_accept, team
from .transactions import transaction_detail, transactions

__all__ = [
    "accounts",
    "automatic_sync",
    "categories",
    "company_overview",
    "connect",
    "connection",
    "invitation_accept",
    "review",
    "team",
    "transaction_detail",
    "transactions",
]
