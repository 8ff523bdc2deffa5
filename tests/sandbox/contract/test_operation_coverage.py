"""Every operation of Codat's Expenses spec is exercised by some test of this suite.

Each test declares what it sends with `@pytest.mark.operations(...)`; the conftest fails a passing
test that did not actually send every operation it declares. This test fails when an operationId of
the spec is declared by no collected test, or a test declares one the spec does not have.
"""

import hashlib

from .helpers import SPEC_PATH, SPEC_SHA256, spec_operation_ids


def test_vendored_spec_is_codats_unchanged_file():
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == SPEC_SHA256


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
