"""The client's RequestGate hook: every request passes through it, errors stay CodatErrors."""

import contextlib

import httpx
import pytest

from integrations.codat import (
    CodatClient,
    CodatHeldBackError,
    CodatQuotaReservedError,
    CodatRateLimitedError,
    GateRefusal,
    RateLimit,
)

from .helpers import API_KEY, COMPANY_ID, SANDBOX_URL


class RecordingGate:
    def __init__(self, refuse=None):
        self.refuse = refuse
        self.log = []

    @contextlib.contextmanager
    def slot(self, company_id):
        if self.refuse:
            raise self.refuse
        self.log.append(("enter", company_id))
        try:
            yield
        finally:
            self.log.append(("leave", company_id))

    def record(self, company_id, status_code, rate_limit, retry_after):
        self.log.append(("record", company_id, status_code, rate_limit, retry_after))


def make(gate, answer):
    sent = []

    def handler(request):
        sent.append(request)
        gate.log.append(("sent", request.url.path))
        return answer

    client = CodatClient(
        base_url=SANDBOX_URL,
        sandbox_url=SANDBOX_URL,
        api_key=API_KEY,
        transport=httpx.MockTransport(handler),
        gate=gate,
    )
    return client, sent


def test_the_request_is_sent_inside_the_slot_and_the_answer_recorded():
    gate = RecordingGate()
    answer = httpx.Response(
        200,
        json={"id": COMPANY_ID},
        headers={"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "998"},
    )
    client, _ = make(gate, answer)

    client.get_company(COMPANY_ID)

    assert gate.log == [
        ("enter", COMPANY_ID),
        ("sent", f"/api/companies/{COMPANY_ID}"),
        ("leave", COMPANY_ID),
        ("record", COMPANY_ID, 200, RateLimit(limit=1000, remaining=998), None),
    ]


def test_the_company_comes_from_the_path_and_is_unquoted():
    gate = RecordingGate()
    client, _ = make(gate, httpx.Response(200, json={"results": [], "totalResults": 0}))

    client.list_companies()
    client.get_supplier("odd/company id", "s1")

    assert [entry[1] for entry in gate.log if entry[0] == "enter"] == [None, "odd/company id"]


def test_a_429_reports_its_retry_after_to_the_gate():
    gate = RecordingGate()
    client, _ = make(gate, httpx.Response(429, json={}, headers={"Retry-After": "17"}))

    with pytest.raises(CodatRateLimitedError):
        client.get_company(COMPANY_ID)

    assert gate.log[-1] == ("record", COMPANY_ID, 429, None, 17.0)


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [
        (GateRefusal("busy", retry_after=2.0), CodatHeldBackError),
        (GateRefusal("reserve", retry_after=3600.0, quota_reserved=True), CodatQuotaReservedError),
    ],
)
def test_a_refusal_is_a_retryable_codat_error_and_nothing_is_sent(refusal, expected):
    client, sent = make(RecordingGate(refuse=refusal), httpx.Response(200, json={}))

    with pytest.raises(expected) as caught:
        client.get_company(COMPANY_ID)

    assert sent == []
    error = caught.value
    assert isinstance(error, CodatRateLimitedError) and error.retryable
    assert error.retry_after == refusal.retry_after and error.status_code is None
    assert str(error) == f"GET /companies/{COMPANY_ID}: not sent: {refusal.reason}"


def test_without_a_gate_nothing_is_limited():
    client = CodatClient(
        base_url=SANDBOX_URL,
        sandbox_url=SANDBOX_URL,
        api_key=API_KEY,
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"id": COMPANY_ID})),
    )
    assert client.get_company(COMPANY_ID) == {"id": COMPANY_ID}
