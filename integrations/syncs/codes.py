"""Codat's sync status codes: what each means and what usually fixes it, in one table.

From Codat's "syncing expenses" docs (shared/codat-api.md 4.7); the fixes are ours, in the
words a member of staff acts on. The staff legend page renders this table, and every code
shown on a staff page links to its row. A code Codat adds later is described by its leading
digit, the way `Sync.code_is_terminal` classifies it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatusCode:
    code: int | None
    meaning: str
    fix: str
    tone: str  # a pill tone word (integrations/portal/templatetags/portal.py TONES)

    @property
    def anchor(self) -> str:
        return f"code-{self.code}" if self.code is not None else "code-refused"

    @property
    def label(self) -> str:
        return str(self.code) if self.code is not None else "Refused"


_ROWS = [
    StatusCode(
        1000,
        "In progress: Codat is writing to the ledger.",
        "Nothing yet. The webhook or the poller closes it; Poll now asks at once.",
        "syncing",
    ),
    StatusCode(
        1010,
        "In progress for over 10 minutes: long running.",
        "Usually a slow ledger. Poll now; still 1010 after an hour, send Codat's support the "
        "sync id.",
        "needs_attention",
    ),
    StatusCode(2000, "Success: data written.", "Nothing to do.", "ok"),
    StatusCode(
        2040,
        "Success, nothing written (dataPushed false).",
        "Nothing to do: there was nothing new to write.",
        "ok",
    ),
    StatusCode(
        4000,
        "Configuration error: the company's settings at Codat are missing or invalid.",
        "Check the company's defaults (bank account, supplier, customer) and mappings, refresh "
        "ledger data, then retry failed.",
        "failed",
    ),
    StatusCode(
        4040,
        "Company deleted or de-authorised.",
        "The customer must reconnect their accounting software (Link); sending stops until "
        "then and resumes on its own after.",
        "needs_auth",
    ),
    StatusCode(
        4220,
        "Company deleted or de-authorised.",
        "As 4040: the customer reconnects, then the waiting spend is sent again.",
        "needs_auth",
    ),
    StatusCode(
        4260,
        "Accounting software billing expired.",
        "The customer renews their subscription with the accounting software; then retry failed.",
        "needs_attention",
    ),
    StatusCode(
        5000,
        "Codat server error.",
        "Usually passes: retry failed later. If it repeats, send Codat the sync id.",
        "failed",
    ),
    StatusCode(
        5080,
        "Duplication protection: the data is already in the ledger.",
        "Nothing to do: the portal reconciles it from the sync that wrote it, never re-sends.",
        "ok",
    ),
    StatusCode(
        5120,
        "Data processing error: Codat could not process the data.",
        "Read the message (often an unexpected value), fix the transaction or mapping, retry "
        "failed.",
        "failed",
    ),
    StatusCode(
        5130,
        "Data write error: the accounting software refused the write.",
        "Read the message: an archived account, a locked period or an invalid tax rate. Fix "
        "the mapping (or the ledger), refresh ledger data, retry failed.",
        "failed",
    ),
    StatusCode(
        None,
        "Refused: Codat turned the request down (HTTP 400) before a sync began.",
        "Validation of the transactions themselves: read the message, fix, retry failed.",
        "failed",
    ),
]

STATUS_CODES: dict[int | None, StatusCode] = {row.code: row for row in _ROWS}

_BY_FAMILY = {
    1: ("Still in progress.", "Wait, or poll now.", "syncing"),
    2: ("Success.", "Nothing to do.", "ok"),
    3: ("Not finished as expected.", "Read Codat's message.", "needs_attention"),
    4: (
        "The sync could not start or finish because of the company's setup.",
        "Read the message and check the connection and configuration.",
        "failed",
    ),
    5: ("The sync failed while processing or writing.", "Read the message, fix, retry.", "failed"),
}


def describe(code: int | None) -> StatusCode:
    """The row for `code`; an unlisted code described by its family (leading digit)."""
    if code in STATUS_CODES:
        return STATUS_CODES[code]
    meaning, fix, tone = _BY_FAMILY.get(code // 1000 if code else 0, ("Unknown.", "", "failed"))
    return StatusCode(code, f"Not in Codat's published list. {meaning}", fix, tone)
