"""The customer's pages. Everything about one company lives under c/<company_id>/, and every
view there starts with `access.company_access` (tests/test_isolation.py walks these routes).

Areas, one views module each: onboarding (overview checklist, connect, Link's return, review,
automatic sync, the connection), mapping (accounts and contacts, categories, records created
in the ledger), transactions (list, one transaction, receipts) and team (people, invitations,
switching company).
"""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    # The invitation page proper is tokenless: the link's token waits in the session (so it is
    # not in the history or a Referer); "accept/" must come before the token route.
    path("invitations/accept/", views.invitation, name="invitation"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("switch/", views.switch_company, name="switch-company"),
    # --- onboarding and the connection
    path("c/<int:company_id>/", views.company_overview, name="company"),
    path("c/<int:company_id>/connect/", views.connect, name="connect"),
    path("c/<int:company_id>/review/", views.review, name="review"),
    path("c/<int:company_id>/automatic-sync/", views.automatic_sync, name="automatic-sync"),
    path("c/<int:company_id>/connection/", views.connection, name="connection"),
    # --- mapping: where spend lands
    path("c/<int:company_id>/accounts/", views.accounts, name="accounts"),
    path("c/<int:company_id>/accounts/new/<str:data_type>/", views.record_new, name="record-new"),
    path(
        "c/<int:company_id>/accounts/writes/<int:write_id>/",
        views.record_write,
        name="record-write",
    ),
    path("c/<int:company_id>/categories/", views.categories, name="categories"),
    path("c/<int:company_id>/categories/bulk/", views.categories_bulk, name="categories-bulk"),
    path(
        "c/<int:company_id>/categories/<int:category_id>/",
        views.category_save,
        name="category-save",
    ),
    # --- day to day
    path("c/<int:company_id>/transactions/", views.transactions, name="transactions"),
    path(
        "c/<int:company_id>/transactions/sync/",
        views.transactions_sync,
        name="transactions-sync",
    ),
    path(
        "c/<int:company_id>/transactions/<uuid:transaction_id>/",
        views.transaction_detail,
        name="transaction",
    ),
    path(
        "c/<int:company_id>/transactions/<uuid:transaction_id>/receipts/",
        views.transaction_receipts,
        name="transaction-receipts",
    ),
    path(
        "c/<int:company_id>/transactions/<uuid:transaction_id>/sync/",
        views.transaction_sync,
        name="transaction-sync",
    ),
    # --- the team
    path("c/<int:company_id>/team/", views.team, name="team"),
    path("c/<int:company_id>/team/invite/", views.team_invite, name="team-invite"),
    path(
        "c/<int:company_id>/team/members/<int:membership_id>/",
        views.member_role,
        name="team-member-role",
    ),
    path(
        "c/<int:company_id>/team/members/<int:membership_id>/remove/",
        views.member_remove,
        name="team-member-remove",
    ),
    path(
        "c/<int:company_id>/team/invitations/<int:invitation_id>/withdraw/",
        views.invitation_withdraw,
        name="team-invitation-withdraw",
    ),
]
