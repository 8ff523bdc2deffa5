from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "integrations.syncs"
    label = "syncs"
