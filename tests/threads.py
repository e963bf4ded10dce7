"""Emulator servers must not outlive the test that started them."""

from __future__ import annotations

import threading
import time

import pytest


def wait_threads_gone(prefix: str, within_s: float = 3.0) -> None:
    """Fail the test if threads named ``prefix...`` are still running after ``within_s``."""
    deadline = time.monotonic() + within_s
    while left := [t.name for t in threading.enumerate() if t.name.startswith(prefix)]:
        if time.monotonic() > deadline:
            pytest.fail(f"emulator threads outlived the test: {left}")
        time.sleep(0.02)
