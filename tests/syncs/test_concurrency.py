"""Two workers pushing the same company at once never send a transaction twice."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from codat_sandbox.models import SyncTransaction as SandboxItem
from integrations.codat.client import CodatClient
from integrations.syncs.models import SyncTransaction
from integrations.syncs.services import claims, preflight, push
from integrations.transactions.models import Transaction

from .helpers import PIPELINE, linked_portal

pytestmark = PIPELINE


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's shared in-memory test database locks whole tables between threads",
)
def test_two_concurrent_pushers_split_the_work(codat):
    portal = linked_portal(codat)
    for _ in range(120):
        portal.expense()
    assert preflight.preflight_company(portal.company.pk).queued == 120
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait()
            push.push_company(portal.company.pk)
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    sent = Counter(SandboxItem.objects.values_list("transaction_id", flat=True))
    assert len(sent) == 120 and set(sent.values()) == {1}
    carried = Counter(SyncTransaction.objects.values_list("transaction_id", flat=True))
    assert set(carried.values()) == {1}
    assert not Transaction.objects.exclude(status="syncing").exists()


def test_a_second_pusher_running_while_the_first_sends_takes_only_the_rest(codat, monkeypatch):
    """The same race, interleaved by hand so it runs on every database: worker B runs in full
    while worker A's first request is on the wire."""
    portal = linked_portal(codat)
    for _ in range(70):
        portal.expense()
    preflight.preflight_company(portal.company.pk)
    real_send = CodatClient.create_expense_transactions
    seen = []

    def send_with_rival(self, *args, **kwargs):
        seen.append(len(args[1]))
        if len(seen) == 1:
            seen.append(push.push_company(portal.company.pk).transactions)
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(CodatClient, "create_expense_transactions", send_with_rival)
    first = push.push_company(portal.company.pk)

    # A claimed 50 and sent them after B claimed and sent the other 20; A found nothing more.
    assert seen == [50, 20, 20] and first.transactions == 50
    sent = Counter(SandboxItem.objects.values_list("transaction_id", flat=True))
    assert len(sent) == 70 and set(sent.values()) == {1}


def test_a_claim_only_wins_rows_still_in_the_state_it_leaves(codat):
    portal = linked_portal(codat)
    rows = [portal.expense(status="queued") for _ in range(3)]
    queued = Transaction.objects.filter(status="queued")

    first = claims.claim(queued, 2, status="pushing")
    second = claims.claim(queued, 5, status="pushing")

    assert len(first) == 2 and len(second) == 1
    assert set(first) | set(second) == {row.pk for row in rows}
    assert claims.claim(queued, 5, status="pushing") == []
