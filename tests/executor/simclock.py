"""Virtual time shared by a run and its probe threads, so whole runs with probes repeat exactly.

``FakeClock`` moves whenever anything sleeps, so a probe thread sleeping on it would race the
steps through time. Here only the driving thread (the one running the steps) moves time; a
probe thread's sleep waits until the driver's sleeps carry time to its wake-up. Before moving
time on, the driver waits until every probe thread is asleep again, so each attempt happens
at exactly the moment its schedule says, whatever the threads' real speed.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from drill.clock import FakeClock
from drill.errors import Interrupted

_REAL_WAIT_S = 0.005
_STUCK_S = 10.0  # real seconds: a probe thread that never sleeps again is a test bug


class SimClock(FakeClock):
    def __init__(self, start: datetime | None = None, *, prefix: str = "probe-") -> None:
        super().__init__(start)
        self.prefix = prefix
        self._cond = threading.Condition()
        self._wakes: dict[int, float] = {}  # sleeping probe thread -> monotonic wake-up

    def sleep(self, seconds: float, cancel: threading.Event) -> None:
        if cancel.is_set():
            raise Interrupted("interrupted while waiting")
        if threading.current_thread().name.startswith(self.prefix):
            self._nap(seconds, cancel)
        else:
            self._drive(seconds)

    def _nap(self, seconds: float, cancel: threading.Event) -> None:
        me = threading.get_ident()
        with self._cond:
            self._wakes[me] = self.monotonic() + max(seconds, 0.0)
            self._cond.notify_all()
            try:
                while self.monotonic() < self._wakes[me]:
                    if cancel.is_set():
                        raise Interrupted("interrupted while waiting")
                    self._cond.wait(_REAL_WAIT_S)
            finally:
                del self._wakes[me]
                self._cond.notify_all()

    def _drive(self, seconds: float) -> None:
        target = self.monotonic() + max(seconds, 0.0)
        with self._cond:
            while True:
                self._await_sleepers()
                due = [wake for wake in self._wakes.values() if wake <= target]
                self.advance(min(due, default=target) - self.monotonic())
                self._cond.notify_all()
                if not due:
                    return

    def _await_sleepers(self) -> None:
        """Until every live probe thread sleeps towards a moment still to come."""
        deadline = time.monotonic() + _STUCK_S
        while not self._all_asleep():
            if time.monotonic() > deadline:
                raise AssertionError("a probe thread never went back to sleep")
            self._cond.wait(_REAL_WAIT_S)

    def _all_asleep(self) -> bool:
        now = self.monotonic()
        probes = [t for t in threading.enumerate() if t.name.startswith(self.prefix)]
        return all(
            t.ident in self._wakes and self._wakes[t.ident] > now for t in probes if t.is_alive()
        )
