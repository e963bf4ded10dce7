"""Marks, by node id, the slow tests of directories whose files mark nothing themselves.

`pytest -m "not slow"` is the quick loop; the whole suite still runs everything. A test is slow
when it takes over a second here however the machine is loaded: hypothesis searches, real
kubectl, emulators started per test.
"""

from __future__ import annotations

import pytest

SLOW = (
    "tests/plan/test_properties.py::",
    "tests/providers/test_aws_elbv2.py::",
    "tests/deploy/test_cluster_apply.py::",
    "tests/sandbox/test_kubectl.py::",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
