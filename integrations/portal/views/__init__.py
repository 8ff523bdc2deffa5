"""The customer's pages, one module per area; this package re-exports the views for urls.py."""

from .mapping import accounts, categories, categories_bulk, category_save, record_new, record_write
from .onboarding import automatic_sync, company_overview, connect, connection, review
from .team import (
    invitation,
    invitation_accept,
    invitation_withdraw,
    member_remove,
    member_role,
    switch_company,
    team,
    team_invite,
)
from .transactions import (
    transaction_detail,
    transaction_receipts,
    transaction_sync,
    transactions,
    transactions_sync,
)

__all__ = [
    "accounts",
    "automatic_sync",
    "categories",
    "categories_bulk",
    "category_save",
    "company_overview",
    "connect",
    "connection",
    "invitation",
    "invitation_accept",
    "invitation_withdraw",
    "member_remove",
    "member_role",
    "record_new",
    "record_write",
    "review",
    "switch_company",
    "team",
    "team_invite",
    "transaction_detail",
    "transaction_receipts",
    "transaction_sync",
    "transactions",
    "transactions_sync",
]
