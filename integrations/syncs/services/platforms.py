"""What each accounting platform accepts through Codat's Expenses API, as plain data.

From Codat's support matrices, FX table, contact rules and attachment table (see
shared/codat-api.md sections 4.9, 6.3, 6.5, 6.6). Where Codat's own sources disagree the spec
wins, as it is what the API enforces (adjustments: QuickBooks Desktop only; Xero attachments:
the docs' 10 MB, Xero's own limit since April 2026).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

MB = 1024 * 1024
EXPENSE_TYPES = frozenset({"Payment", "Refund", "Reward", "Chargeback"})

# Operation names used below and by the pre-flight.
EXPENSE = "expense"
EXPENSE_UPDATE = "expense_update"
REIMBURSABLE = "reimbursable"
REIMBURSABLE_UPDATE = "reimbursable_update"
TRANSFER_CREATE = "transfer_create"
TRANSFER_UPDATE = "transfer_update"
ADJUSTMENT = "adjustment"
ATTACHMENTS = "attachments"


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    supports: frozenset[str]
    expense_types: frozenset[str] = EXPENSE_TYPES
    # Types the ledger only books against a credit card (QBD's refunds, Intacct's everything).
    credit_card_only_types: frozenset[str] = frozenset()
    # Which contact an expense of each type is written against; a type missing means none.
    contact_for_type: MappingProxyType = field(
        default=MappingProxyType(dict.fromkeys(EXPENSE_TYPES, "Supplier")), hash=False
    )
    # A missing currencyRate is read as 1 (QBO) instead of refused.
    missing_rate_means_one: bool = False
    attachment_max_bytes: int | None = None
    # Upper-case extensions the ledger accepts; None means anything.
    attachment_extensions: frozenset[str] | None = None
    # "expense.Payment" ... and "reimbursable": which transactions take attachments.
    attachment_kinds: frozenset[str] = frozenset()

    def contact_for(self, expense_type: str) -> str | None:
        return self.contact_for_type.get(expense_type)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NO_CONTACT = MappingProxyType({})
_ALL_EXPENSE_KINDS = frozenset(f"expense.{t}" for t in EXPENSE_TYPES)

PLATFORMS: dict[str, Platform] = {
    platform.key: platform
    for platform in (
        Platform(
            key="qhyg",
            name="QuickBooks Online",
            supports=_words(
                "expense expense_update reimbursable reimbursable_update transfer_create "
                "transfer_update attachments"
            ),
            missing_rate_means_one=True,
            attachment_max_bytes=100 * MB,
            attachment_extensions=_words(
                "AI CSV DOC DOCX EPS GIF JPEG JPG ODS PAGES PDF PNG RTF TIF TXT XLS XLSX XML"
            ),
            attachment_kinds=frozenset({"expense.Payment", "expense.Refund", "reimbursable"}),
        ),
        Platform(
            key="gbol",
            name="Xero",
            supports=_words("expense expense_update transfer_create attachments"),
            # Spend money against a supplier, receive money against a customer.
            contact_for_type=MappingProxyType(
                {"Payment": "Supplier", "Refund": "Customer", "Reward": "Customer"}
                | {"Chargeback": "Customer"}
            ),
            attachment_max_bytes=10 * MB,
            attachment_extensions=_words(
                "7Z BMP CSV DOC DOCX EML GIF JPEG JPG KEYNOTE MSG NUMBERS ODF ODS ODT PAGES PDF "
                "PNG PPT PPTX RAR RTF TIF TIFF TXT XLS XLSX ZIP"
            ),
            attachment_kinds=_ALL_EXPENSE_KINDS,
        ),
        Platform(
            key="akxx",
            name="Oracle NetSuite",
            supports=_words("expense expense_update reimbursable reimbursable_update attachments"),
            attachment_max_bytes=100 * MB,
            attachment_extensions=_words(
                "BMP CSV XLS XLSX JSON PDF PJPG PJPEG PNG TXT SVG TIF TIFF DOC DOCX ZIP"
            ),
            attachment_kinds=frozenset({"expense.Payment", "expense.Refund"}),
        ),
        Platform(
            key="knfz",
            name="Sage Intacct",
            supports=_words("expense expense_update reimbursable"),
            expense_types=frozenset({"Payment", "Refund"}),
            credit_card_only_types=frozenset({"Payment", "Refund"}),
        ),
        Platform(
            key="pqsw",
            name="QuickBooks Desktop",
            supports=_words("expense expense_update reimbursable transfer_create adjustment"),
            credit_card_only_types=frozenset({"Refund", "Reward", "Chargeback"}),
        ),
        Platform(
            key="trji",
            name="Dynamics 365 Business Central",
            supports=_words("expense attachments"),
            contact_for_type=_NO_CONTACT,
            attachment_max_bytes=350 * MB,
            attachment_kinds=_ALL_EXPENSE_KINDS,
        ),
        Platform(
            key="fbrh",
            name="FreeAgent",
            supports=_words(
                "expense expense_update reimbursable reimbursable_update transfer_create "
                "transfer_update attachments"
            ),
            expense_types=frozenset({"Payment"}),
            contact_for_type=_NO_CONTACT,
            attachment_max_bytes=5 * MB,
            # Codat lists FreeAgent's MIME subtypes (X-PNG, X-PDF) beside the extensions.
            attachment_extensions=_words("PNG X-PNG JPEG PJG GIF X-PDF JPG PDF"),
            attachment_kinds=frozenset({"expense.Payment", "reimbursable"}),
        ),
        Platform(
            key="rwuv",
            name="Zoho Books",
            supports=_words("expense expense_update reimbursable reimbursable_update attachments"),
            expense_types=frozenset({"Payment"}),
            attachment_max_bytes=5 * MB,
            attachment_extensions=_words("GIF PNG JPEG JPG BMP PDF"),
            attachment_kinds=frozenset({"expense.Payment", "reimbursable"}),
        ),
    )
}


def get_platform(key: str) -> Platform | None:
    return PLATFORMS.get(key)


def update_operation(kind: str, expense_type: str) -> str | None:
    """The operation that changes a transaction already in the ledger, or None if none can.

    Codat updates expenses of the Payment type only, reimbursables, and transfers (the same
    PUT that created them); adjustments cannot be changed at all.
    """
    if kind == "expense":
        return EXPENSE_UPDATE if expense_type == "Payment" else None
    return {"reimbursable": REIMBURSABLE_UPDATE, "transfer": TRANSFER_UPDATE}.get(kind)


def fx_class(base: str, bank: str, txn: str) -> str:
    """Codat's FX combination (docs fx-management): O1 base/base, O2 same foreign, O3 foreign
    bank with base spend, O4 base bank with foreign spend, O5 two different foreign currencies.
    For transfers `bank` is the from side and `txn` the to side."""
    if bank == base:
        return "O1" if txn == base else "O4"
    if txn == base:
        return "O3"
    return "O2" if bank == txn else "O5"


def expense_fx_refused(platform: Platform, base: str, bank: str, txn: str, card_type: str) -> bool:
    """Whether the ledger refuses card spend in `txn` currency on a `bank` currency account."""
    if platform.key == "gbol":
        return False  # Xero books in the bank account's currency and ignores the spend's
    combination = fx_class(base, bank, txn)
    if combination in ("O3", "O5"):
        return True
    if combination == "O2":
        return platform.key == "knfz" or (platform.key == "akxx" and card_type != "Debit")
    if combination == "O4":
        return platform.key == "trji"
    return False


def transfer_fx_refused(platform: Platform, base: str, source: str, target: str) -> bool:
    combination = fx_class(base, source, target)
    if platform.key == "gbol":
        return source != target
    if platform.key == "pqsw":
        return combination != "O1"
    return combination == "O5"


def rate_needed(platform: Platform, base: str, currencies: tuple[str, ...]) -> bool:
    """A currencyRate is required when a currency in play is not the base currency."""
    if platform.missing_rate_means_one:
        return False
    return any(currency and currency != base for currency in currencies)
