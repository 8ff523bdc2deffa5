"""What the API views share, and the answer for paths Codat does not have.

The API views are plain functions, one per operation of Codat's Expenses API
(Codat-Sync-Expenses.yaml), grouped in modules by the spec's tags and wired to paths through
`http.endpoint` (see urls.py), which does auth, limits, idempotency, fault injection and error
bodies. Status codes follow the spec exactly: 200 for creates (never 201), 202 for the expense
update, 204 for delete-company and refresh-all-data-types.
"""

from ..errors import ApiError
from ..http import api_path

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def base_url(request) -> str:
    """Scheme and host of this request, which the links in a response point at."""
    return request.build_absolute_uri("/")


def unknown_path(request):
    raise ApiError(404, f"No resource was found at {api_path(request)}.")
