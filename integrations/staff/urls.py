"""Sync health for staff, under /staff/. Every view is wrapped in `access.staff_required`;
tests/staff/test_access.py walks these routes as a customer and as nobody."""

from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("liveness/", views.liveness, name="liveness"),
    path("companies/", views.triage, name="triage"),
    path("companies/<int:company_id>/", views.company_detail, name="company"),
    path("companies/<int:company_id>/<slug:action>/", views.company_action, name="company-action"),
    path("clusters/", views.clusters, name="clusters"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster"),
    path("clusters/<int:cluster_id>/<slug:action>/", views.cluster_action, name="cluster-action"),
    path("status-codes/", views.legend, name="legend"),
]
