from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    name = "integrations.transactions"
    label = "transactions"
