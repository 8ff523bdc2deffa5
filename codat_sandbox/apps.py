from django.apps import AppConfig


class CodatSandboxConfig(AppConfig):
    name = "codat_sandbox"
    verbose_name = "Codat sandbox"
