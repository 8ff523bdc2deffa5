from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """The Codat webhook receiver: a delivery app (a view and its tasks), no models of its own."""

    name = "integrations.webhooks"
    label = "webhooks"
