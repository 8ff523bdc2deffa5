from django.apps import AppConfig


class CompaniesConfig(AppConfig):
    name = "integrations.companies"
    label = "companies"
