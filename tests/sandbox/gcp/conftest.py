"""Fixtures shared by the Google emulators' tests: a clock the test moves, and a check that no
emulator thread outlives its test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drill.clock import FakeClock
from tests.threads import wait_threads_gone


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    yield
    wait_threads_gone("cloud-dns")
    wait_threads_gone("gcp-compute")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
