"""The whole suite's set-up: byte-code caches its processes share, by node id the slow tests
of directories whose files mark nothing themselves, how many workers run them, and workers
that end without tearing down what they loaded.

`pytest -m "not slow"` is the quick loop; the whole suite still runs everything. A test is slow
when it takes over a second here however the machine is loaded: hypothesis searches, real
kubectl, emulators started per test.
"""

from __future__ import annotations

import atexit
import compileall
import logging
import math
import os
import sys
from pathlib import Path

import pytest

from tests.child import REPO

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


def pytest_configure(config: pytest.Config) -> None:
    """Byte-code caches for the whole suite, even where PYTHONDONTWRITEBYTECODE is set.

    Without them every pytest worker compiles drill and rewrites every test module anew, and
    every `python -m drill` child compiles what it imports: ~4 s of CPU a worker, ~0.5 s a
    child, on a suite that is CPU-bound on two cores. The first process (the controller, or
    the only one) compiles drill, providers and the test helpers before any worker starts;
    each process then keeps the test modules pytest rewrites, as Python does by default.
    """
    if not hasattr(config, "workerinput"):
        for package in ("drill", "providers", "tests"):
            compileall.compile_dir(REPO / package, quiet=1)
    sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for ``-n auto`` (the default, in pyproject): three a core for the whole suite,
    whose drills spend much of their time waiting on emulators, two a core for the quick loop.

    Each worker pays some 4-7 s of CPU of its own (collecting every test, the SDKs its first
    tests import), which the quick loop's short tests do not win back: on two cores it took
    ~41 s with four workers against ~55 s with six, where the whole suite is fastest with six.
    """
    quick = "not slow" in (config.option.markexpr or "")
    return (2 if quick else 3) * usable_cores()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity, less where a cgroup's CPU quota
    (a container's limit, in /sys/fs/cgroup/cpu.max) allows fewer."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return max(cores or 1, 1)
    if quota != "max" and quota.isdigit() and period.isdigit() and int(period) > 0:
        cores = min(cores or 1, math.ceil(int(quota) / int(period)))
    return max(cores or 1, 1)


def _exit_without_teardown() -> None:
    """Ends a pytest worker once everything registered after this has run.

    Registered when the worker loads this file, so every handler libraries and tests register
    later (the kubernetes client's removal of its certificate files, temporary directories'
    clean-up) has run before it; of the two registered earlier, logging's is called here and
    execnet's has no gateway of the worker's own to close. What is skipped is the interpreter's
    teardown of every module the worker loaded, which the controller waits out for all six
    before it reports: 5.5-7.4 s from the last test's end to the suite's, 1.7-2.0 s without it.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_exit_without_teardown)
