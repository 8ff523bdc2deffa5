"""Sync status: by id, latest, last successful, list (a bare JSON array)."""

import time

import pytest

from .helpers import (
    CONTRACT_DB,
    IN_PROGRESS_CODES,
    UNKNOWN_ID,
    assert_sync_succeeded,
    expense_body,
    push_expense,
    raises_codat_error,
    wait_for_sync,
)

pytestmark = CONTRACT_DB


@pytest.mark.operations("get-sync-by-id")
def test_a_sync_progresses_to_success(sdk, linked_company):
    lc = linked_company
    created = sdk.expenses.create(
        request={"company_id": lc.company_id, "request_body": [expense_body(lc)]}
    )
    first = sdk.sync.get(request={"company_id": lc.company_id, "sync_id": created.sync_id})
    assert first.sync_id == created.sync_id
    assert first.company_id == lc.company_id
    assert first.sync_status_code in IN_PROGRESS_CODES | {2000}
    started = time.monotonic()
    final = wait_for_sync(sdk, lc.company_id, created.sync_id)
    assert_sync_succeeded(final)
    assert time.monotonic() - started < 5, "a one-transaction sync should finish in ~1 s"
    assert final.sync_utc
    # Terminal states stay put.
    again = sdk.sync.get(request={"company_id": lc.company_id, "sync_id": created.sync_id})
    assert again.sync_status_code == final.sync_status_code


@pytest.mark.operations("get-latest-sync", "get-last-successful-sync", "list-syncs")
def test_latest_last_successful_and_list(sdk, linked_company):
    lc = linked_company
    _, good_sync = push_expense(sdk, lc)

    # A second sync that fails: its only line books to an account the ledger does not have.
    bad = expense_body(lc)
    bad["lines"][0]["account_ref"] = {"id": "no-such-account"}
    failed = sdk.expenses.create(request={"company_id": lc.company_id, "request_body": [bad]})
    final = wait_for_sync(sdk, lc.company_id, failed.sync_id)
    assert final.sync_status_code not in (2000, 2040)

    latest = sdk.sync.get_latest_sync(request={"company_id": lc.company_id})
    assert latest.sync_id == failed.sync_id
    last_ok = sdk.sync.get_last_successful_sync(request={"company_id": lc.company_id})
    assert last_ok.sync_id == good_sync
    assert last_ok.sync_status_code == 2000

    syncs = sdk.sync.list(request={"company_id": lc.company_id})
    assert isinstance(syncs, list)
    assert {s.sync_id for s in syncs} == {good_sync, failed.sync_id}


@pytest.mark.operations(
    "get-sync-by-id", "get-latest-sync", "get-last-successful-sync", "list-syncs"
)
def test_unknown_company_or_sync_is_404(sdk, company):
    with raises_codat_error(404):
        sdk.sync.get(request={"company_id": company.id, "sync_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.sync.get_latest_sync(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.sync.get_last_successful_sync(request={"company_id": UNKNOWN_ID})
    with raises_codat_error(404):
        sdk.sync.list(request={"company_id": UNKNOWN_ID})


@pytest.mark.operations("list-syncs")
def test_company_without_syncs_lists_none(sdk, linked_company):
    assert sdk.sync.list(request={"company_id": linked_company.company_id}) == []
