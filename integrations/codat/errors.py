"""Every way a Codat call can fail, classified once.

Callers decide retry / give up / "needs attention" from the class (or ``retryable``) and never
look at raw status codes. The messages carry what an operator needs (method, path, status,
Codat's error text, correlationId) and nothing secret: the client never hands the API key or
the Authorization header to an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .types import ValidationItem


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Codat's ``X-Rate-Limit-*`` headers from one response (any of them may be absent)."""

    limit: int | None = None
    remaining: int | None = None
    reset: datetime | None = None


class CodatError(Exception):
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status_code: int | None = None,
        error: str | None = None,
        correlation_id: str | None = None,
        rate_limit: RateLimit | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status_code = status_code
        self.error = error
        self.correlation_id = correlation_id
        self.rate_limit = rate_limit
        # Only set when Codat sent Retry-After (429, sometimes 503); callers fall back to backoff.
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self) -> str:
        status = f" -> {self.status_code}" if self.status_code is not None else ""
        text = f"{self.method} {self.path}{status}: {self.message}"
        if self.correlation_id:
            text += f" (correlationId {self.correlation_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):
        # Keyword-only constructors do not survive the default Exception pickling, and Celery
        # pickles exceptions that escape a task.
        return (_restore, (type(self), self.__dict__.copy()))


class CodatTransientError(CodatError):
    """5xx, 408, timeouts, connection failures, or a 2xx whose body is not the JSON promised."""

    retryable = True


class CodatRateLimitedError(CodatError):
    """429. Codat does not cache 429s against an Idempotency-Key, so retry with the same key."""

    retryable = True


class CodatHeldBackError(CodatRateLimitedError):
    """Never sent: our own limiter held the request back (no status code; ``retry_after`` set).

    Raised when every one of the company's request slots stayed busy for the whole wait.
    """


class CodatQuotaReservedError(CodatHeldBackError):
    """Never sent: only the daily quota's reserve is left, and that is kept for people.

    ``retry_after`` runs to the quota's reset (00:00 UTC at Codat).
    """


class GateRefusal(Exception):
    """What a request gate raises to hold a request back; the client turns it into one of the
    two errors above, so callers only ever see CodatError subclasses."""

    def __init__(self, reason: str, retry_after: float, *, quota_reserved: bool = False) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.quota_reserved = quota_reserved
        super().__init__(reason)


class CodatAuthError(CodatError):
    """401/403: bad or outdated key, or a key not allowed to see the resource."""


class CodatNotFoundError(CodatError):
    pass


class CodatConflictError(CodatError):
    """409: a request with the same Idempotency-Key still in flight, or a dataset not fetched yet.

    Both clear up on their own (the first request finishes; the first pull completes), so a
    bounded, delayed retry is the right answer.
    """

    retryable = True


class CodatValidationError(CodatError):
    """400/422: Codat refused the request as sent; re-sending it unchanged cannot succeed."""

    def __init__(
        self,
        message: str,
        *,
        validation_errors: list[ValidationItem] | None = None,
        validation_warnings: list[ValidationItem] | None = None,
        **kwargs,
    ) -> None:
        self.validation_errors: list[ValidationItem] = list(validation_errors or [])
        self.validation_warnings: list[ValidationItem] = list(validation_warnings or [])
        super().__init__(message, **kwargs)


class CodatAlreadyProcessedError(CodatError):
    """A 400 saying some transaction ids "have previously been processed".

    Deliberately not a CodatValidationError: the transactions are already in the ledger, so the
    caller must reconcile them, never mark them failed or re-send them.
    """

    def __init__(self, message: str, *, transaction_ids: list[str], **kwargs) -> None:
        self.transaction_ids = transaction_ids
        super().__init__(message, **kwargs)


class CodatRequestError(CodatError):
    """Any other 4xx (402 plan limits, 405, 413, ...): permanent until someone changes something."""


class CodatRedirectError(CodatRequestError):
    """A 3xx. The client never follows redirects, so the key cannot be replayed to another host."""


def _restore(cls: type[CodatError], state: dict) -> CodatError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error


_PREVIOUSLY_PROCESSED = re.compile(r"have previously been processed", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_previously_processed(text: str | None) -> bool:
    return bool(text and _PREVIOUSLY_PROCESSED.search(text))


def previously_processed_ids(text: str) -> list[str]:
    """Transaction ids from "One or more transactions have previously been processed: a, b"."""
    _, _, tail = text.partition(":")
    ids = _UUID.findall(tail or text)
    if ids:
        return ids
    # Our ids are UUIDs, but do not drop information if Codat ever echoes something else.
    return [part.strip(" .'\"") for part in re.split(r"[,\s]+", tail) if part.strip(" .'\"")]
