from django.apps import AppConfig


class ExpensesPortalConfig(AppConfig):
    """The project package as an app, only so its system checks are registered at start-up."""

    name = "expenses_portal"
    verbose_name = "Expenses Portal"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
