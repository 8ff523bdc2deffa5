from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """The Codat webhook receiver: a delivery app (a view and its tasks), no models of its own."""

    name = "integrations.webhooks"
    label = "webhooks"

    def ready(self):
        # Handlers register on import; the worker must have them all before the first event.
        # (Each app that owns handlers imports its own modules the same way.)
        from integrations.syncs import limits  # noqa: F401
