"""What the sandbox knows about each accounting platform Codat's Expenses API writes to.

Pure data, no Django: the views, the sync state machine and the rules module read it.

Sources (see /work/shared/codat-api.md): the support matrices in section 6.5, the
attachment table in 4.9 (spec description of `upload-expense-attachment`), the contact
rules in 6.3 and the "no tax" ids in 6.4. Where Codat's own sources disagree, the
choice made is written next to the value, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

# The fixed vocabulary of operations a platform may support. The core engineer maps
# HTTP operations onto these names.
OPERATIONS = frozenset(
    {
        "expense",
        "expense_update",
        "reimbursable",
        "reimbursable_update",
        "transfer_create",
        "transfer_update",
        "adjustment",
        "attachments",
        "supplier_update",
        "customer_update",
    }
)

EXPENSE_TYPES = ("Payment", "Refund", "Reward", "Chargeback")

# Keys of `Platform.attachment_kinds`. They follow the spec's own wording for the
# "Supported transactions" column ("expense-transactions.Payment" etc.), shortened.
ATTACHMENT_KINDS = frozenset(
    {"expense.Payment", "expense.Refund", "expense.Reward", "expense.Chargeback", "reimbursable"}
)

MB = 1024 * 1024

ContactType = Literal["Supplier", "Customer"]


@dataclass(frozen=True)
class Platform:
    key: str
    name: str
    supports: frozenset[str]
    # Expense `type` values the platform accepts at all.
    expense_types: frozenset[str]
    # Of those, the types the ledger only accepts against a credit card (bank account
    # with accountType "Credit"). QBD: Refund/Reward/Chargeback; Sage Intacct: all.
    credit_card_only_types: frozenset[str]
    attachment_max_bytes: int | None
    # Upper-case extensions (and, for FreeAgent, MIME subtypes); None = anything.
    attachment_extensions: frozenset[str] | None
    attachment_kinds: frozenset[str]
    # Tax rate id meaning "no tax"; None = send no taxRateRef at all.
    no_tax_rate_id: str | None
    # Which contact an expense of each type is written against (None = no contact).
    # A mapping proxy keeps the dataclass immutable; it is left out of the hash.
    contact_for_type: MappingProxyType[str, ContactType | None] = field(hash=False)
    supports_draft: bool = False
    supports_invoice_to: bool = False
    # QBD lines may carry an itemRef instead of an accountRef, and reimbursables an
    # apAccountRef; everywhere else accountRef is needed on every line.
    supports_item_ref: bool = False
    supports_ap_account_ref: bool = False
    # QBO treats a missing currencyRate as 1 instead of refusing the transaction.
    missing_rate_means_one: bool = False
    # Realistic base currency for seeded companies on this platform.
    default_base_currency: str = "USD"
    # Bank account details cannot be changed by an expense update (FreeAgent).
    update_can_change_bank_account: bool = True

    def allows_expense_type(self, expense_type: str) -> bool:
        return expense_type in self.expense_types

    def contact_for(self, expense_type: str) -> ContactType | None:
        return self.contact_for_type.get(expense_type)


def _words(text: str) -> frozenset[str]:
    # Extension lists are copied from the spec's table as space-separated words.
    return frozenset(text.split())


def _contacts(payment: ContactType | None, others: ContactType | None) -> MappingProxyType:
    return MappingProxyType(
        {"Payment": payment, "Refund": others, "Reward": others, "Chargeback": others}
    )


ALL_TYPES = frozenset(EXPENSE_TYPES)

PLATFORMS: dict[str, Platform] = {
    "qhyg": Platform(
        key="qhyg",
        name="QuickBooks Online",
        # Adjustments: the overview matrix ticks QBO, but the endpoint description and the
        # 2024-06 blog say QBD only. We follow the spec (the contract clients code against).
        supports=frozenset(
            {
                "expense",
                "expense_update",
                "reimbursable",
                "reimbursable_update",
                "transfer_create",
                "transfer_update",
                "attachments",
                "supplier_update",
                "customer_update",
            }
        ),
        expense_types=ALL_TYPES,
        credit_card_only_types=frozenset(),
        attachment_max_bytes=100 * MB,
        attachment_extensions=_words(
            "AI CSV DOC DOCX EPS GIF JPEG JPG ODS PAGES PDF PNG RTF TIF TXT XLS XLSX XML"
        ),
        attachment_kinds=frozenset({"expense.Payment", "expense.Refund", "reimbursable"}),
        no_tax_rate_id="NON",
        contact_for_type=_contacts("Supplier", "Supplier"),
        supports_invoice_to=True,
        missing_rate_means_one=True,
        default_base_currency="USD",
    ),
    "gbol": Platform(
        key="gbol",
        name="Xero",
        # Xero: no reimbursables, transfer create only, expense update yes (6.5).
        supports=frozenset(
            {
                "expense",
                "expense_update",
                "transfer_create",
                "attachments",
                "supplier_update",
                "customer_update",
            }
        ),
        expense_types=ALL_TYPES,
        credit_card_only_types=frozenset(),
        # The spec says 3 MB; the docs page was deliberately corrected to 10 MB in
        # April 2026 (codat-docs PR 1802), which is also Xero's own API limit. We use the
        # newer, deliberate figure.
        attachment_max_bytes=10 * MB,
        attachment_extensions=_words(
            "7Z BMP CSV DOC DOCX EML GIF JPEG JPG KEYNOTE MSG NUMBERS ODF ODS ODT PAGES PDF "
            "PNG PPT PPTX RAR RTF TIF TIFF TXT XLS XLSX ZIP"
        ),
        # "All supported types": all expense types. Xero has no reimbursables.
        attachment_kinds=frozenset(
            {"expense.Payment", "expense.Refund", "expense.Reward", "expense.Chargeback"}
        ),
        no_tax_rate_id="NONE",
        # Xero writes spend money against a supplier and receive money against a customer.
        contact_for_type=_contacts("Supplier", "Customer"),
        default_base_currency="GBP",
    ),
    "akxx": Platform(
        key="akxx",
        name="Oracle NetSuite",
        supports=frozenset(
            {"expense", "expense_update", "reimbursable", "reimbursable_update", "attachments"}
        ),
        expense_types=ALL_TYPES,
        credit_card_only_types=frozenset(),
        attachment_max_bytes=100 * MB,
        attachment_extensions=_words(
            "BMP CSV XLS XLSX JSON PDF PJPG PJPEG PNG TXT SVG TIF TIFF DOC DOCX ZIP"
        ),
        attachment_kinds=frozenset({"expense.Payment", "expense.Refund"}),
        # US subsidiaries; Canada uses "114" and other countries "UNDEF-{country}".
        no_tax_rate_id="-7",
        contact_for_type=_contacts("Supplier", "Supplier"),
        default_base_currency="USD",
    ),
    "knfz": Platform(
        key="knfz",
        name="Sage Intacct",
        supports=frozenset({"expense", "expense_update", "reimbursable"}),
        # Payment and Refund, on credit cards only (6.5). A debit card works only when set
        # up in Intacct as a Credit Card object, which reaches Codat as a credit card.
        expense_types=frozenset({"Payment", "Refund"}),
        credit_card_only_types=frozenset({"Payment", "Refund"}),
        # Sage Intacct is absent from the attachment table in both the spec and the docs,
        # so the sandbox treats attachments as unsupported there.
        attachment_max_bytes=None,
        attachment_extensions=None,
        attachment_kinds=frozenset(),
        # Not listed in the docs' "no tax" table; Intacct AP lines normally carry no tax.
        no_tax_rate_id=None,
        # The docs name only QBO/NetSuite/QBD/Xero/Dynamics/FreeAgent; Intacct credit card
        # charges carry a vendor, so we treat it like the supplier-for-everything group.
        contact_for_type=_contacts("Supplier", "Supplier"),
        default_base_currency="USD",
    ),
    "pqsw": Platform(
        key="pqsw",
        name="QuickBooks Desktop",
        supports=frozenset(
            {"expense", "expense_update", "reimbursable", "transfer_create", "adjustment"}
        ),
        expense_types=ALL_TYPES,
        credit_card_only_types=frozenset({"Refund", "Reward", "Chargeback"}),
        attachment_max_bytes=None,
        attachment_extensions=None,
        attachment_kinds=frozenset(),  # QBD does not support attachment upload at all
        no_tax_rate_id=None,
        contact_for_type=_contacts("Supplier", "Supplier"),
        supports_invoice_to=True,
        supports_item_ref=True,
        supports_ap_account_ref=True,
        default_base_currency="USD",
    ),
    "trji": Platform(
        key="trji",
        name="Dynamics 365 Business Central",
        # Adjustments: overview ticks Dynamics, the spec does not; spec wins (see QBO).
        # Expense update: Dynamics is not in the spec's update table.
        supports=frozenset({"expense", "attachments"}),
        expense_types=ALL_TYPES,
        credit_card_only_types=frozenset(),
        attachment_max_bytes=350 * MB,
        attachment_extensions=None,  # "no explicit requirements"
        attachment_kinds=frozenset(
            {"expense.Payment", "expense.Refund", "expense.Reward", "expense.Chargeback"}
        ),
        # The docs say "use a 0% rate"; the seeded ledger's 0% VAT posting group is ZERO.
        no_tax_rate_id="ZERO",
        # Dynamics attaches no supplier to expense transactions (docs 6.3).
        contact_for_type=_contacts(None, None),
        supports_draft=True,
        default_base_currency="GBP",
    ),
    "fbrh": Platform(
        key="fbrh",
        name="FreeAgent",
        supports=frozenset(
            {
                "expense",
                "expense_update",
                "reimbursable",
                "reimbursable_update",
                "transfer_create",
                "transfer_update",
                "attachments",
                "supplier_update",
                "customer_update",
            }
        ),
        expense_types=frozenset({"Payment"}),
        credit_card_only_types=frozenset(),
        attachment_max_bytes=5 * MB,
        # The spec lists "PNG, X-PNG, JPEG, PJG, GIF, X-PDF", which are FreeAgent's MIME
        # subtypes (image/x-png, application/x-pdf) rather than extensions. We keep them
        # and add the plain extensions a client actually sends for those files.
        attachment_extensions=_words("PNG X-PNG JPEG PJG GIF X-PDF JPG PDF"),
        attachment_kinds=frozenset({"expense.Payment", "reimbursable"}),
        no_tax_rate_id=None,  # FreeAgent takes no taxRateRef
        contact_for_type=_contacts(None, None),
        default_base_currency="GBP",
        update_can_change_bank_account=False,
    ),
    "rwuv": Platform(
        key="rwuv",
        name="Zoho Books",
        supports=frozenset(
            {"expense", "expense_update", "reimbursable", "reimbursable_update", "attachments"}
        ),
        expense_types=frozenset({"Payment"}),
        credit_card_only_types=frozenset(),
        attachment_max_bytes=5 * MB,
        attachment_extensions=_words("GIF PNG JPEG JPG BMP PDF"),
        attachment_kinds=frozenset({"expense.Payment", "reimbursable"}),
        no_tax_rate_id=None,
        # Not named in the docs' contact list; Zoho expenses carry a vendor.
        contact_for_type=_contacts("Supplier", "Supplier"),
        default_base_currency="USD",
    ),
}


def get_platform(key: str) -> Platform | None:
    return PLATFORMS.get(key)


# Human wording of each operation for error messages.
_OPERATION_WORDS = {
    "expense": "Expense transactions are",
    "expense_update": "Expense transaction updates are",
    "reimbursable": "Reimbursable expense transactions are",
    "reimbursable_update": "Reimbursable expense transaction updates are",
    "transfer_create": "Transfer transactions are",
    "transfer_update": "Transfer transaction updates are",
    "adjustment": "Adjustment transactions are",
    "attachments": "Attachments are",
    "supplier_update": "Supplier updates are",
    "customer_update": "Customer updates are",
}


def support_error(platform: Platform, operation: str) -> tuple[int, str] | None:
    """HTTP status and ErrorMessage text when `platform` cannot do `operation`.

    The spec declares 422 ("can't be processed ... differences in platform support") only
    on update-expense-transaction; every other operation lists 400 as its only client
    error, so unsupported creates and other updates answer 400.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if operation in platform.supports:
        return None
    # Wording modelled on the spec's 422 example, "Expense transaction updates are not
    # supported for platforms other than Xero.", but naming the platform in question,
    # since that example's claim (Xero only) contradicts the spec's own support table.
    message = f"{_OPERATION_WORDS[operation]} not supported for {platform.name}."
    status = 422 if operation == "expense_update" else 400
    return status, message
