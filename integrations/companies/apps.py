from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "integrations.companies"
    label = "companies"

    def ready(self):
        # The webhook handlers for connection.* and company.deleted register on import; every
        # process (web, worker) must have them before it processes its first event.
        from integrations.companies import services  # noqa: F401
