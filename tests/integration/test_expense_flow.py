"""The portal's Codat client driving a whole expense sync against the sandbox over real HTTP."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest

from codat_sandbox.models import LedgerRecord
from integrations.codat.errors import CodatAlreadyProcessedError, CodatValidationError

from .helpers import (
    INTEGRATION_DB,
    expense,
    link_company,
    tiny_png,
    wait_for_push,
    wait_for_sync,
)

pytestmark = INTEGRATION_DB


def test_full_expense_flow(codat):
    lc = link_company(codat, name="Flow Ltd")

    # The Link redirect named this company and connection with statusCode=200 (asserted in
    # link_company); the company now has both connections, each Linked.
    connections = codat.list_connections(lc.company_id)["results"]
    assert {c["id"]: c["status"] for c in connections} == {
        lc.connection_id: "Linked",
        lc.partner_connection_id: "Linked",
    }
    source_types = {c["id"]: c["sourceType"] for c in connections}
    assert source_types[lc.connection_id] == "Accounting"
    assert codat.get_company(lc.company_id)["name"] == "Flow Ltd"

    first = expense(lc, net="12.34")
    second = expense(lc, net="0.10")
    created = codat.create_expense_transactions(lc.company_id, [first, second])
    sync_id = created["syncId"]
    assert uuid.UUID(sync_id)

    final = wait_for_sync(codat, lc.company_id, sync_id)
    assert final["syncStatusCode"] == 2000, final
    assert final["syncId"] == sync_id
    assert final["dataPushed"] is True
    assert codat.get_latest_sync(lc.company_id)["syncId"] == sync_id
    assert [s["syncId"] for s in codat.list_syncs(lc.company_id)] == [sync_id]

    statuses = codat.list_sync_transactions(lc.company_id, sync_id)["results"]
    by_id = {s["transactionId"]: s for s in statuses}
    assert set(by_id) == {first["id"], second["id"]}
    for status in statuses:
        assert status["status"] == "Completed", status
        # For a completed transaction Codat's message carries the record id in the ledger.
        assert status["message"], status
    [one] = codat.get_sync_transaction(lc.company_id, sync_id, first["id"])
    assert one == by_id[first["id"]]

    # The amounts went over the wire as exact decimals (no float rounding on the way).
    written = {
        row.data["transactionId"]: row.data
        for row in LedgerRecord.objects.filter(company_id=lc.company_id, data_type="expenses")
    }
    assert written[first["id"]]["netAmount"] == Decimal("12.34")
    assert written[second["id"]]["netAmount"] == Decimal("0.10")
    assert written[first["id"]]["id"] == by_id[first["id"]]["message"]

    receipt = tiny_png()
    attachment = codat.upload_attachment(
        lc.company_id,
        sync_id,
        first["id"],
        io.BytesIO(receipt),
        filename="receipt.png",
        content_type="image/png",
    )
    assert attachment["id"]
    assert attachment["transactionId"] == first["id"]
    assert attachment["companyId"] == lc.company_id

    # Re-sending a completed transaction id is refused, and the client says which id it was
    # so the portal reconciles it instead of marking it failed.
    with pytest.raises(CodatAlreadyProcessedError) as excinfo:
        codat.create_expense_transactions(lc.company_id, [expense(lc) | {"id": first["id"]}])
    assert excinfo.value.transaction_ids == [first["id"]]
    assert excinfo.value.status_code == 400
    assert not isinstance(excinfo.value, CodatValidationError)
    assert not excinfo.value.retryable


def test_expense_on_archived_account_fails_with_readable_validation_error(codat):
    lc = link_company(codat)

    # Archive an account in the ledger through the client's own push endpoint, reading the
    # options the platform offers; its id then comes from the push operation's answer.
    model = codat.get_create_account_model(lc.company_id, lc.connection_id)
    category_options = (model.get("properties") or {}).get("fullyQualifiedCategory") or {}
    categories = [
        o["value"]
        for o in category_options.get("options") or []
        if str(o.get("value", "")).startswith("Expense")
    ]
    pushed = codat.create_account(
        lc.company_id,
        lc.connection_id,
        {
            "name": f"Closed travel {uuid.uuid4().hex[:6]}",
            "nominalCode": str(7000 + uuid.uuid4().int % 999),
            "fullyQualifiedCategory": (categories or ["Expense.Travel"])[0],
            "fullyQualifiedName": "Expense.Travel.Closed",
            "currency": lc.currency,
            "type": "Expense",
            "status": "Archived",
            "isBankAccount": False,
        },
    )
    done = wait_for_push(codat, lc.company_id, pushed["pushOperationKey"])
    assert done["status"] == "Success", done
    [change] = done["changes"]
    archived_id = change["recordRef"]["id"]
    mapping = codat.get_mapping_options(lc.company_id)
    assert archived_id not in {a["id"] for a in mapping["accounts"]}, "archived yet offered"

    bad = expense(lc, account_id=archived_id)
    sync_id = codat.create_expense_transactions(lc.company_id, [bad])["syncId"]
    final = wait_for_sync(codat, lc.company_id, sync_id)
    assert final["syncStatusCode"] not in (2000, 2040), final
    assert final["dataPushed"] is False
    assert final["errorMessage"], final

    [status] = codat.list_sync_transactions(lc.company_id, sync_id)["results"]
    assert status["transactionId"] == bad["id"]
    assert status["status"] == "ValidationError"
    message = status["message"] or ""
    assert archived_id in message and "archived" in message.lower(), message

    # A failed transaction was never booked, so sending it again (fixed) is allowed.
    fixed = bad | {"lines": expense(lc)["lines"]}
    retry = codat.create_expense_transactions(lc.company_id, [fixed])["syncId"]
    assert wait_for_sync(codat, lc.company_id, retry)["syncStatusCode"] == 2000
