from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("codat/", views.codat_webhook, name="codat"),
]
