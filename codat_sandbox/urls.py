from django.urls import path  # noqa: F401

app_name = "codat_sandbox"
urlpatterns: list = []
