# A made-up sandbox host: even if a route were left unmocked, nothing could reach real Codat.
SANDBOX_URL = "http://codat-sandbox.test/api"
API_KEY = "test-key-Zq8vX2pL"
# What the key looks like inside the Authorization header; it must not leak either.
API_KEY_B64 = "dGVzdC1rZXktWnE4dlgycEw="
COMPANY_ID = "8a210b68-6988-11ed-a1eb-0242ac120002"
SYNC_ID = "6fb40d5e-b13e-11ed-afa1-0242ac120002"
TRANSACTION_ID = "336694d8-2dca-4cb5-a28d-3ccb83e55eee"
CONNECTION_ID = "2e9d2c44-f675-40ba-8049-353bfcb5e171"
CORRELATION_ID = "bc997528a9d7abb9161ef45f05d38599"


def error_body(status, error, **extra):
    return {
        "statusCode": status,
        "service": "PublicApi",
        "error": error,
        "correlationId": CORRELATION_ID,
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
        **extra,
    }
