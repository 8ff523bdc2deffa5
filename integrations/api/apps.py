from django.apps import AppConfig


class PartnerApiConfig(AppConfig):
    name = "integrations.api"
    label = "partner_api"
    verbose_name = "Partner API"

    def ready(self):
        # The deploy check that refuses the development key in production registers on import.
        from integrations.api import checks  # noqa: F401
