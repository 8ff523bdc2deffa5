from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "integrations.ledger"
    label = "ledger"
