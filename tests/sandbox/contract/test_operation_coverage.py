"""Every operation of Codat's Expenses spec is exercised by some test of this suite.

Each test declares what it sends with `@pytest.mark.operations(...)`; the conftest fails a passing
test that did not actually send every operation it declares. This test fails when an operationId of
the spec is declared by no collected test, or a test declares one the spec does not have.
"""

import hashlib

import pytest

from .helpers import (
    SHARED_SPEC_PATH,
    SPEC_SHA256,
    operations_in_spec_file,
    spec_operation_ids,
    spec_operations,
)


def test_the_operation_list_matches_codats_spec():
    # The list is committed so a checkout on its own can run this suite; wherever the shared
    # folder sits beside the checkout (CI does), the list is checked against Codat's own file.
    if not SHARED_SPEC_PATH.exists():
        pytest.skip(f"{SHARED_SPEC_PATH} is not beside this checkout")
    raw = SHARED_SPEC_PATH.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SPEC_SHA256, "the shared spec changed; re-list"
    assert spec_operations() == operations_in_spec_file(raw.decode("utf-8"))


def test_spec_has_48_operations():
    assert len(spec_operation_ids()) == 48


def test_every_spec_operation_is_exercised(request):
    declared: dict[str, list[str]] = {}
    for item in request.session.items:
        for mark in item.iter_markers("operations"):
            for op in mark.args:
                declared.setdefault(op, []).append(item.nodeid)
    spec = spec_operation_ids()
    missing = sorted(spec - declared.keys())
    unknown = sorted(declared.keys() - spec)
    assert not unknown, f"tests declare operations the spec does not have: {unknown}"
    assert not missing, f"spec operations no test exercises: {missing}"
