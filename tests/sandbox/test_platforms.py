"""Platform capability data and the support -> HTTP status mapping."""

import pytest

from codat_sandbox.platforms import (
    ATTACHMENT_KINDS,
    EXPENSE_TYPES,
    MB,
    OPERATIONS,
    PLATFORMS,
    get_platform,
    support_error,
)

KEYS = {
    "qhyg": "QuickBooks Online",
    "gbol": "Xero",
    "akxx": "Oracle NetSuite",
    "knfz": "Sage Intacct",
    "pqsw": "QuickBooks Desktop",
    "trji": "Dynamics 365 Business Central",
    "fbrh": "FreeAgent",
    "rwuv": "Zoho Books",
}

# codat-api.md 6.5, with adjustments per the spec (QBD only) and supplier updates per
# the spec's update-supplier table (FreeAgent, QBO, Xero).
SUPPORT = {
    "qhyg": {
        "expense",
        "expense_update",
        "reimbursable",
        "reimbursable_update",
        "transfer_create",
        "transfer_update",
        "attachments",
        "supplier_update",
        "customer_update",
    },
    "gbol": {
        "expense",
        "expense_update",
        "transfer_create",
        "attachments",
        "supplier_update",
        "customer_update",
    },
    "akxx": {"expense", "expense_update", "reimbursable", "reimbursable_update", "attachments"},
    "knfz": {"expense", "expense_update", "reimbursable"},
    "pqsw": {"expense", "expense_update", "reimbursable", "transfer_create", "adjustment"},
    "trji": {"expense", "attachments"},
    "fbrh": {
        "expense",
        "expense_update",
        "reimbursable",
        "reimbursable_update",
        "transfer_create",
        "transfer_update",
        "attachments",
        "supplier_update",
        "customer_update",
    },
    "rwuv": {"expense", "expense_update", "reimbursable", "reimbursable_update", "attachments"},
}


def test_eight_platforms_with_their_keys_and_names():
    assert {k: p.name for k, p in PLATFORMS.items()} == KEYS
    for key, platform in PLATFORMS.items():
        assert platform.key == key
        assert len(key) == 4 and key.isalpha() and key.islower()


def test_get_platform():
    assert get_platform("gbol") is PLATFORMS["gbol"]
    assert get_platform("mqjo") is None  # Codat's own Sandbox cannot take expenses


@pytest.mark.parametrize("key", sorted(KEYS))
def test_support_matrix(key):
    assert set(PLATFORMS[key].supports) == SUPPORT[key]
    assert PLATFORMS[key].supports <= OPERATIONS


@pytest.mark.parametrize("key", sorted(KEYS))
def test_support_error_status_codes(key):
    platform = PLATFORMS[key]
    for operation in OPERATIONS:
        result = support_error(platform, operation)
        if operation in SUPPORT[key]:
            assert result is None
        else:
            status, message = result
            # The spec declares 422 only on update-expense-transaction.
            assert status == (422 if operation == "expense_update" else 400)
            assert message.endswith(f"not supported for {platform.name}.")


def test_support_error_wording_and_unknown_operation():
    assert support_error(PLATFORMS["trji"], "expense_update") == (
        422,
        "Expense transaction updates are not supported for Dynamics 365 Business Central.",
    )
    assert support_error(PLATFORMS["gbol"], "reimbursable") == (
        400,
        "Reimbursable expense transactions are not supported for Xero.",
    )
    with pytest.raises(ValueError):
        support_error(PLATFORMS["gbol"], "teleport")


def test_expense_types_and_card_restrictions():
    for key in ("qhyg", "gbol", "akxx", "trji"):
        assert PLATFORMS[key].expense_types == frozenset(EXPENSE_TYPES)
        assert not PLATFORMS[key].credit_card_only_types
    qbd = PLATFORMS["pqsw"]
    assert qbd.expense_types == frozenset(EXPENSE_TYPES)
    assert qbd.credit_card_only_types == {"Refund", "Reward", "Chargeback"}
    intacct = PLATFORMS["knfz"]
    assert intacct.expense_types == intacct.credit_card_only_types == {"Payment", "Refund"}
    for key in ("fbrh", "rwuv"):
        assert PLATFORMS[key].expense_types == {"Payment"}


def test_no_tax_ids_and_flags():
    assert {k: p.no_tax_rate_id for k, p in PLATFORMS.items()} == {
        "qhyg": "NON",
        "gbol": "NONE",
        "akxx": "-7",
        "knfz": None,
        "pqsw": None,
        "trji": "ZERO",
        "fbrh": None,
        "rwuv": None,
    }
    assert [k for k, p in PLATFORMS.items() if p.supports_draft] == ["trji"]
    assert {k for k, p in PLATFORMS.items() if p.supports_invoice_to} == {"qhyg", "pqsw"}


def test_contacts_per_type():
    xero = PLATFORMS["gbol"]
    assert xero.contact_for("Payment") == "Supplier"
    assert {xero.contact_for(t) for t in ("Refund", "Reward", "Chargeback")} == {"Customer"}
    for key in ("trji", "fbrh"):
        assert {PLATFORMS[key].contact_for(t) for t in EXPENSE_TYPES} == {None}
    for key in ("qhyg", "akxx", "pqsw"):
        assert {PLATFORMS[key].contact_for(t) for t in EXPENSE_TYPES} == {"Supplier"}


def test_attachment_limits():
    sizes = {k: p.attachment_max_bytes for k, p in PLATFORMS.items()}
    assert sizes["qhyg"] == sizes["akxx"] == 100 * MB
    assert sizes["trji"] == 350 * MB
    assert sizes["fbrh"] == sizes["rwuv"] == 5 * MB
    assert sizes["gbol"] == 10 * MB  # docs (newer) over the spec's 3 MB
    assert PLATFORMS["pqsw"].attachment_kinds == frozenset()
    assert PLATFORMS["trji"].attachment_extensions is None
    assert PLATFORMS["qhyg"].attachment_kinds == {
        "expense.Payment",
        "expense.Refund",
        "reimbursable",
    }
    assert PLATFORMS["akxx"].attachment_kinds == {"expense.Payment", "expense.Refund"}
    for platform in PLATFORMS.values():
        assert platform.attachment_kinds <= ATTACHMENT_KINDS
        # Kinds only for transactions the platform can create at all.
        if "reimbursable" in platform.attachment_kinds:
            assert "reimbursable" in platform.supports


def test_platform_is_immutable_and_hashable():
    platform = PLATFORMS["gbol"]
    with pytest.raises(AttributeError):
        platform.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        platform.contact_for_type["Payment"] = None  # type: ignore[index]
    assert hash(platform) == hash(PLATFORMS["gbol"])
