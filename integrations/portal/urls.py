"""The customer's pages. Everything about one company lives under c/<company_id>/, and every
view there starts with `access.company_access` (tests/test_isolation.py walks these routes)."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
