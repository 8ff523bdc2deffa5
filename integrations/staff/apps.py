from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The staff's sync-health pages, under /staff/ (a delivery app: views, forms, templates)."""

    name = "integrations.staff"
    label = "staff"
    verbose_name = "Sync health (staff)"
