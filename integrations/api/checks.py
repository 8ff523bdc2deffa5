from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def development_key_not_in_production(app_configs, **kwargs):
    """The development key is published in .env.example: it must never open a real server."""
    if not settings.DEBUG and settings.PARTNER_API_DEV_KEY:
        return [
            checks.Error(
                "PARTNER_API_DEV_KEY is set while DJANGO_DEBUG is false.",
                hint="Unset it; create partner API keys in the admin instead.",
                id="partner_api.E001",
            )
        ]
    return []
