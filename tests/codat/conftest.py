import httpx
import pytest
import respx

from integrations.codat import CodatClient

from .helpers import API_KEY, SANDBOX_URL


@pytest.fixture(scope="session")
def http_client():
    # One shared httpx.Client: building the TLS context per test costs ~0.1 s each. respx patches
    # below the client, so sharing it does not share any fake state between tests.
    with httpx.Client() as http:
        yield http


@pytest.fixture
def codat():
    """The fake Codat: routes are added per test; unmatched requests fail the test."""
    with respx.mock(base_url=SANDBOX_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(codat, http_client):
    with CodatClient(
        base_url=SANDBOX_URL, api_key=API_KEY, sandbox_url=SANDBOX_URL, http_client=http_client
    ) as client:
        yield client
