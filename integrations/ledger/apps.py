from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "integrations.ledger"
    label = "ledger"

    def ready(self):
        # The webhook handlers for read.completed* register on import; every process (web,
        # worker) must have them before it processes its first event.
        from integrations.ledger import services, writes  # noqa: F401
