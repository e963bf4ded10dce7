"""One run of a plan at a time: a coordination.k8s.io Lease in the plan's DR context.

The lease is short (60 s) and renewed every 20 s by a thread while the run lasts, so a run that
crashes or is killed stops renewing and its lease expires within a minute; the next run then
takes it over. A run that finds a live lease held by someone else exits 2, naming the holder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from drill.clock import Clock
from drill.errors import Conflict, DrillError, ExitCode, Interrupted, ProviderError
from providers.protocols import KubeApi

LEASE_DURATION_S = 60


class RunLocked(DrillError):
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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew_forever, name="lease", daemon=True)

    def __enter__(self) -> RunLease:
        try:
            self.kube = self.connect()
            self._take()
        except Conflict as exc:
            raise RunLocked(str(exc)) from None
        except ProviderError as exc:
            raise RunLocked(
                f"cannot take the run lease {self.namespace}/{self.name}: {exc}"
            ) from None
        self.log.info("lease_taken", lease=f"{self.namespace}/{self.name}")
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
        self.kube.acquire_lease(self.namespace, self.name, self.holder, LEASE_DURATION_S)

    def _renew_forever(self) -> None:
        while True:
            try:
                self.clock.sleep(LEASE_DURATION_S / 3, self._stop)
            except Interrupted:
                return
            try:
                self._take()
            except ProviderError as exc:
                self.log.warning("lease_renewal_failed", reason=str(exc))
