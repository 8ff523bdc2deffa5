import time

import pytest

from integrations.codat.factory import codat_client, webhook_verifier
from integrations.codat.webhooks import sign_webhook

from .helpers import API_KEY, SANDBOX_URL

SECRET = "whsec_c2FuZGJveC1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA=="


@pytest.fixture
def codat_settings(settings):
    settings.CODAT_SANDBOX_URL = SANDBOX_URL
    settings.CODAT_BASE_URL = SANDBOX_URL
    settings.CODAT_API_KEY = API_KEY
    settings.CODAT_TIMEOUT_SECONDS = 7
    settings.CODAT_WEBHOOK_SECRET = SECRET
    return settings


def test_the_client_is_built_from_settings(codat_settings):
    with codat_client() as client:
        assert client.base_url == SANDBOX_URL
        assert client.timeout.read == 7
        assert client.timeout.connect == 7


def test_a_base_url_outside_settings_is_refused(codat_settings):
    codat_settings.CODAT_BASE_URL = "https://codat.example.com"

    with pytest.raises(ValueError, match="Refusing"):
        codat_client()


def test_the_verifier_uses_the_configured_secret(codat_settings):
    now = int(time.time())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": sign_webhook(SECRET, "msg_1", now, b"{}"),
    }

    assert webhook_verifier().verify(b"{}", headers).webhook_id == "msg_1"
