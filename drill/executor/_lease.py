"""One run of a plan at a time: a coordination.k8s.io Lease in the plan's DR context.

The lease is short (60 s) and renewed every 20 s by a thread while the run lasts, so a run that
crashes or is killed stops renewing and its lease expires within a minute; the next run then
takes it over. A run that finds a live lease held by someone else exits 2, naming the holder.

Transient faults (429, 5xx, resets) on taking or renewing the lease are retried with a growing
pause (the server's Retry-After when it gives one) instead of ending the run. A run that can no
longer be sure it holds the lease (a renewal found another holder, or no renewal succeeded for
a whole lease duration, as after the process was paused) says so on ``lost``: whoever runs
forward work watches it and stops (fencing). Once lost, the lease is never renewed again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from drill.clock import Clock
from drill.errors import (
    Conflict,
    DrillError,
    ExitCode,
    Interrupted,
    ProviderError,
    TransientError,
)
from drill.steps._changes import patiently, poll_intervals
from providers.protocols import KubeApi

LEASE_DURATION_S = 60
RENEW_EVERY_S = LEASE_DURATION_S / 3
# How long taking the lease at the start may keep meeting transient faults before the run
# gives up (exit 2): one renewal interval.
TAKE_PATIENCE_S = RENEW_EVERY_S


class RunLocked(DrillError):
    """Another run holds the plan's lease."""

    exit_code = ExitCode.INVALID


class LeaseUnavailable(DrillError):
    """The lease could not be read or taken at all (forbidden, unreachable): nothing ran, and
    no other run is to blame."""

    exit_code = ExitCode.INVALID


class RunLease:
    def __init__(
        self,
        connect: Callable[[], KubeApi],
        namespace: str,
        name: str,
        holder: str,
        clock: Clock,
        log: Any,
    ) -> None:
        self.connect, self.namespace, self.name, self.holder = connect, namespace, name, holder
        self.kube: KubeApi | None = None
        self.clock, self.log = clock, log
        # Set once this run may no longer hold the lease; ``lost_reason`` then says why.
        self.lost = threading.Event()
        self.lost_reason: str | None = None
        self._renewed_at: float | None = None  # monotonic start of the last renewal that held
        self._retries: Iterator[float] = poll_intervals()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_forever, name="lease", daemon=True)

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __enter__(self) -> RunLease:
        try:
            self.kube = self.connect()
            self._take_patiently()
        except Conflict as exc:
            raise RunLocked(str(exc)) from None
        except ProviderError as exc:
            raise LeaseUnavailable(f"cannot take the run lease {self.where}: {exc}") from None
        self.log.info("lease_taken", lease=self.where)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.kube is None:
            return
        try:
            self.kube.release_lease(self.namespace, self.name, self.holder)
        except ProviderError as error:
            # It expires by itself within a minute; the run's outcome does not depend on it.
            self.log.warning("lease_not_released", reason=str(error))

    def _take(self) -> None:
        if self.kube is None:
            raise RuntimeError("lease used before it was entered")
        started = self.clock.monotonic()
        self.kube.acquire_lease(self.namespace, self.name, self.holder, LEASE_DURATION_S)
        self._renewed_at = started
        self._retries = poll_intervals()

    def _take_patiently(self) -> None:
        """Take the lease, retrying transient faults for up to ``TAKE_PATIENCE_S``."""

        def retrying(exc: TransientError) -> None:
            self.log.warning("lease_retrying", lease=self.where, reason=str(exc))

        patiently(self._take, self.clock, TAKE_PATIENCE_S, self._stop, retrying)

    def _renew_forever(self) -> None:
        wait_s = RENEW_EVERY_S
        while True:
            try:
                self.clock.sleep(wait_s, self._stop)
            except Interrupted:
                return
            wait_s = self.renew()
            if self.lost.is_set():
                return

    def renew(self) -> float:
        """One renewal; the seconds until the next. Sets ``lost`` when the lease is another's,
        or when it has gone a whole lease duration without a renewal that held."""
        if self._renewed_at is not None and self._unrenewed_s() >= LEASE_DURATION_S:
            self._lose(f"not renewed for {self._unrenewed_s():.0f}s, past its {LEASE_DURATION_S}s")
            return RENEW_EVERY_S
        try:
            self._take()
        except Conflict as exc:
            self._lose(str(exc))
            return RENEW_EVERY_S
        except ProviderError as exc:
            self.log.warning("lease_renewal_failed", lease=self.where, reason=str(exc))
            pause = self._pause_after(exc) if isinstance(exc, TransientError) else RENEW_EVERY_S
            # Never sleep past the moment the lease would expire without a renewal.
            return max(min(pause, LEASE_DURATION_S - self._unrenewed_s()), 0.0)
        return RENEW_EVERY_S

    def _unrenewed_s(self) -> float:
        return self.clock.monotonic() - (self._renewed_at or self.clock.monotonic())

    def _pause_after(self, exc: TransientError) -> float:
        pause = next(self._retries)
        return exc.retry_after_s if exc.retry_after_s is not None else pause

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()
        self.log.error("lease_lost", lease=self.where, reason=reason)
