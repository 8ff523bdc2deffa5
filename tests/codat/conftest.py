import pytest
import respx

from integrations.codat import CodatClient

from .helpers import API_KEY, SANDBOX_URL


@pytest.fixture
def codat():
    """The fake Codat: routes are added per test; unmatched requests fail the test."""
    with respx.mock(base_url=SANDBOX_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(codat):
    with CodatClient(base_url=SANDBOX_URL, api_key=API_KEY, sandbox_url=SANDBOX_URL) as client:
        yield client
