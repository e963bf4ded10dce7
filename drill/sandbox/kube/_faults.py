"""Faults a test (or a sandbox world file) injects into one emulated cluster.

Request faults act in the HTTP layer (an error status for the next N matching requests, added
latency); watch faults end open or new watch streams after N more events, or expire them as
an API server does after compaction (a 410 ``Expired`` answer, or an ``ERROR`` event carrying a
410 ``Status`` in the stream); world faults steer
the simulated controllers (a restore that ends PartiallyFailed, Failed or hangs, a workload
whose pods never become ready, a job whose pod fails). Every method is thread-safe: tests call
them while request threads and the controller thread read them.

This module must not act on anything itself: it only holds what was asked for and answers the
questions the server and the controllers ask.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

from drill.sandbox.faults import FaultQueue
from drill.sandbox.kube.api.errors import EXPIRED, ApiError, gone, injected

# The real server's 429s (API priority and fairness) carry "Retry-After: 1"; its 503s usually
# carry none. urllib3 under the kubernetes client retries GET/PUT/DELETE up to 3 times on a
# 429 or 503 that has Retry-After, so the header changes what the caller sees.
_RETRY_AFTER_BY_DEFAULT = (429,)


@dataclass
class _RequestFailure:
    status: int
    remaining: int
    path_contains: str | None
    method: str | None
    retry_after_s: int | None

    def matches(self, method: str, path: str) -> bool:
        method_ok = self.method is None or self.method.upper() == method
        return method_ok and (self.path_contains or "") in path


@dataclass(frozen=True)
class RestoreFault:
    """How one restore goes wrong. ``hang`` leaves it in ``phase`` for good."""

    restore_name: str | None
    phase: str
    errors: int = 0
    failure_reason: str = ""
    hang: bool = False


@dataclass(frozen=True)
class _DropRule:
    serial: int
    after_events: int
    abrupt: bool
    expired: bool = False  # end with an ERROR event carrying 410 Expired, as after compaction


class WatchBudget:
    """How many more events one open watch may send before a drop fault ends it."""

    def __init__(self, faults: Faults, serial: int, rule: _DropRule | None) -> None:
        self._faults = faults
        self._serial = serial
        self.remaining = rule.after_events if rule else None
        self.abrupt = rule.abrupt if rule else False
        self.expired = rule.expired if rule else False

    def exhausted(self) -> bool:
        rule = self._faults._open_rule_after(self._serial)
        if rule is not None:
            self._serial, self.remaining = rule.serial, rule.after_events
            self.abrupt, self.expired = rule.abrupt, rule.expired
        return self.remaining is not None and self.remaining <= 0

    def spend(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Forget every fault, including ones not yet triggered."""
        with self._lock:
            self._failures: FaultQueue[_RequestFailure] = FaultQueue()
            self._latency: list[tuple[float, str | None]] = []
            self._open_rule: _DropRule | None = None
            self._serial = 0
            self._new_watch_drops: list[_DropRule] = []
            self._refused_watches = 0
            self._restores: list[RestoreFault] = []
            self._never_ready: set[tuple[str, str]] = set()
            self._failing_jobs: set[tuple[str, str]] = set()

    # -- requests ------------------------------------------------------------------------------

    def fail_requests(
        self,
        count: int = 1,
        *,
        status: int = 503,
        path_contains: str | None = None,
        method: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        """The next ``count`` requests (matching path substring and method) answer ``status``.

        A 429 carries ``Retry-After: 1`` unless ``retry_after_s`` says otherwise; other
        statuses carry it only when ``retry_after_s`` is given.
        """
        if retry_after_s is None and status in _RETRY_AFTER_BY_DEFAULT:
            retry_after_s = 1
        self._failures.add(_RequestFailure(status, count, path_contains, method, retry_after_s))

    def add_latency(self, seconds: float, *, path_contains: str | None = None) -> None:
        """Every matching request waits ``seconds`` before it is handled (rules add up)."""
        with self._lock:
            self._latency.append((seconds, path_contains))

    def take_request_failure(self, method: str, path: str) -> ApiError | None:
        failure = self._failures.take(lambda f: f.matches(method, path))
        return None if failure is None else injected(failure.status, failure.retry_after_s)

    def latency_for(self, path: str) -> float:
        with self._lock:
            return sum(s for s, part in self._latency if (part or "") in path)

    # -- watches -------------------------------------------------------------------------------

    def drop_watches(self, after_events: int = 0, *, abrupt: bool = False) -> None:
        """End every watch open now after ``after_events`` more events (0: at once).

        ``abrupt`` closes the connection mid-stream (the client sees a protocol error) instead
        of ending the chunked response cleanly (the client sees the stream end).
        """
        with self._lock:
            self._serial += 1
            self._open_rule = _DropRule(self._serial, after_events, abrupt)

    def drop_new_watches(
        self, count: int = 1, *, after_events: int = 0, abrupt: bool = False
    ) -> None:
        """The next ``count`` watches to open end after ``after_events`` events."""
        with self._lock:
            self._new_watch_drops += [_DropRule(0, after_events, abrupt)] * count

    def expire_watches(
        self, count: int = 1, *, after_events: int = 0, in_stream: bool = True
    ) -> None:
        """The next ``count`` watches find their history compacted, as a real API server tells
        it: ``in_stream`` (its usual way) sends ``after_events`` events, then an ``ERROR`` event
        whose object is a 410 ``Status``, and ends the stream; otherwise the watch request
        itself is answered 410 ``Expired``. Either way the client must list again."""
        with self._lock:
            if in_stream:
                self._new_watch_drops += [_DropRule(0, after_events, False, True)] * count
            else:
                self._refused_watches += count

    def take_watch_refusal(self) -> ApiError | None:
        """Called when a watch request arrives: the 410 it must answer, if one is due."""
        with self._lock:
            if self._refused_watches <= 0:
                return None
            self._refused_watches -= 1
        return gone(EXPIRED)

    def watch_faults_left(self) -> int:
        """Watches still to be dropped or expired by ``drop_new_watches``/``expire_watches``."""
        with self._lock:
            return len(self._new_watch_drops) + self._refused_watches

    def watch_budget(self) -> WatchBudget:
        """Called when a watch opens; the budget then follows later ``drop_watches`` calls."""
        with self._lock:
            rule = self._new_watch_drops.pop(0) if self._new_watch_drops else None
            return WatchBudget(self, self._serial, rule)

    def _open_rule_after(self, serial: int) -> _DropRule | None:
        with self._lock:
            rule = self._open_rule
            return rule if rule is not None and rule.serial > serial else None

    # -- world ---------------------------------------------------------------------------------

    def fail_restore(
        self,
        restore_name: str | None = None,
        *,
        phase: str = "PartiallyFailed",
        errors: int = 1,
        failure_reason: str = "",
    ) -> None:
        """The named restore (or the next one to run) ends ``PartiallyFailed`` or ``Failed``."""
        if phase not in ("PartiallyFailed", "Failed"):
            raise ValueError(f"a restore fails as PartiallyFailed or Failed, not {phase!r}")
        reason = failure_reason or ("" if phase == "PartiallyFailed" else "injected by the sandbox")
        with self._lock:
            self._restores.append(RestoreFault(restore_name, phase, errors, reason))

    def hang_restore(self, restore_name: str | None = None, *, phase: str = "InProgress") -> None:
        """The named restore (or the next one) stops in ``phase`` and never finishes."""
        with self._lock:
            self._restores.append(RestoreFault(restore_name, phase, hang=True))

    def take_restore_fault(self, restore_name: str) -> RestoreFault | None:
        with self._lock:
            for fault in self._restores:
                if fault.restore_name in (restore_name, None):
                    self._restores.remove(fault)
                    return fault
        return None

    def never_ready(self, namespace: str, name: str) -> None:
        """Pods of workload ``namespace/name`` run but never pass their readiness check."""
        with self._lock:
            self._never_ready.add((namespace, name))

    def is_never_ready(self, namespace: str, name: str) -> bool:
        with self._lock:
            return (namespace, name) in self._never_ready

    def fail_job(self, namespace: str, name: str) -> None:
        """Job ``namespace/name``'s pod exits 1, so the job ends Failed.

        ``name`` may be a shell-style pattern (``drill-smoke-*``): drill names its jobs after
        the run, which a test cannot know in advance.
        """
        with self._lock:
            self._failing_jobs.add((namespace, name))

    def job_fails(self, namespace: str, name: str) -> bool:
        with self._lock:
            return any(
                namespace == ns and fnmatch.fnmatchcase(name, pattern)
                for ns, pattern in self._failing_jobs
            )
