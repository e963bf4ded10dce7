"""SIGINT/SIGTERM become cancellation, never an exception in the middle of a journal write.

First signal: stop forward work; the run rolls back (drill mode) and writes its report.
Second: say that rollback is running and that one more signal abandons it.
Third: abandon the rollback (the run then exits 4: a human is needed).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from drill.executor._runner import Cancellation


@contextmanager
def cancel_on_signals(cancellation: Cancellation, log: Any) -> Iterator[None]:
    received = 0

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        name = signal.Signals(signum).name
        if received == 1:
            log.warning("stopping", signal=name, next="undoing what this run changed")
            cancellation.stop_work.set()
        elif received == 2:
            log.warning("rollback_in_progress", signal=name, next="send once more to abandon it")
        else:
            log.error("abandoning_rollback", signal=name)
            cancellation.abandon_undo.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
