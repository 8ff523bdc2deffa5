from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer's pages: onboarding, mapping, transactions, the team (a delivery app)."""

    name = "integrations.portal"
    label = "portal"
