from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Development-only machinery around the demo companies: connecting them to the embedded
    sandbox and simulating their card spend. No models; nothing here runs against real Codat."""

    name = "integrations.demo"
    label = "demo"
    verbose_name = "Demo"
