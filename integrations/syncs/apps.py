from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "integrations.syncs"
    label = "syncs"

    def ready(self):
        # The webhook handlers for expenses.sync.* register on import; every process (web,
        # worker) must have them before it processes its first event.
        from integrations.syncs.services import follow  # noqa: F401
