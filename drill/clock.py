"""Time, injected. Nothing else in drill reads ``time.*`` or ``datetime.now``.

Durations come from ``monotonic`` so a wall-clock jump during a drill cannot bend the measured
RTO; timestamps come from ``now`` (UTC, aware). ``sleep`` wakes early, raising ``Interrupted``,
when the cancel event is set: that is how SIGINT reaches a step that is waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from drill.errors import Interrupted


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    def sleep(self, seconds: float, cancel: threading.Event) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        if cancel.wait(max(seconds, 0.0)):
            raise Interrupted("interrupted while waiting")


class FakeClock:
    """A clock that only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed_s = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return 1000.0 + self._elapsed_s

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed_s)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed_s += seconds

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        if cancel.is_set():
            raise Interrupted("interrupted while waiting")
        self.advance(max(seconds, 0.0))


class Anchor:
    """Turns monotonic readings into UTC timestamps from one fixed point.

    Every timestamp in a run's report is derived this way, so durations and timestamps agree
    even if the wall clock is stepped mid-run.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.wall = clock.now()
        self.mono = clock.monotonic()

    def at(self, mono: float) -> datetime:
        return self.wall + timedelta(seconds=mono - self.mono)

    def stamp(self) -> tuple[float, datetime]:
        mono = self.clock.monotonic()
        return mono, self.at(mono)
