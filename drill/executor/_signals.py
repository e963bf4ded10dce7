"""SIGINT/SIGTERM become cancellation, never an exception in the middle of a journal write.

First signal: stop forward work; the run rolls back (drill mode) and writes its report.
Second: say that rollback is running and that one more signal abandons it.
Third, at least ``DELIBERATE_S`` after the second: abandon the rollback (the run then exits 4
and lists what is still changed). One sooner is taken as the same impatient key press as the
second (three Ctrl-C in a row must not throw the whole rollback away).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Literal

from drill.clock import Clock, SystemClock

DELIBERATE_S = 1.0

Action = Literal["stop", "warn", "abandon"]


@dataclass
class Cancellation:
    """Two levels of stop: the first signal stops forward work, a later one gives up undoing.

    ``fail`` stops forward work for a reason of drill's own (its journal cannot be written,
    it lost its run lease): the run then undoes and ends as failed, not as interrupted.
    """

    stop_work: threading.Event = field(default_factory=threading.Event)
    abandon_undo: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
        self.stop_work.set()


@dataclass
class SignalLadder:
    """Which step of the ladder a signal climbs to; time from the injected clock."""

    clock: Clock
    received: int = 0
    second_at: float | None = None

    def climb(self) -> Action:
        now = self.clock.monotonic()
        if self.received == 0:
            self.received = 1
            return "stop"
        if self.received == 1 or self.second_at is None or now - self.second_at < DELIBERATE_S:
            self.received = 2
            self.second_at = now if self.second_at is None else self.second_at
            return "warn"
        self.received = 3
        return "abandon"


@contextmanager
def cancel_on_signals(
    cancellation: Cancellation, log: Any, clock: Clock | None = None
) -> Iterator[None]:
    ladder = SignalLadder(clock or SystemClock())

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        action = ladder.climb()
        # The flag before the log line: a terminal view redraws as the line is printed above
        # it, and that frame must already say what the signal did.
        if action == "stop":
            cancellation.stop_work.set()
            log.warning("stopping", signal=name, next="undoing what this run changed")
        elif action == "warn":
            log.warning(
                "rollback_in_progress",
                signal=name,
                next=f"send once more, {DELIBERATE_S:g}s or more from now, to abandon it",
            )
        else:
            cancellation.abandon_undo.set()
            log.error("abandoning_rollback", signal=name)

    with stop_signals_to(handle):
        yield


@contextmanager
def stop_signals_to(handle: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handle`` while the block runs; the handlers they had come
    back after it. Only the main thread may call this."""
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
