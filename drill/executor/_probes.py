"""The plan's probes, asked on threads of their own from the run's start to the end of verify.

Each probe sends its request every ``interval`` (the next one once the previous answered, if
that took longer) and hands every attempt, as it ends, to ``keep`` (the recorder: journal and
log). Nothing a probe meets reaches the run: a refused connection, a timeout, an unset header
variable or a bug in a client is a failed attempt, never an exception. ``stop`` returns at
once: a probe thread caught in a request is left to finish it, and what it finds is dropped,
so undoing never waits for a slow endpoint and no attempt counts after the end of verify.

Time comes from the injected clock only; the moment of each attempt is taken with the run's
``stamp`` (its anchor), like every other moment of the report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from drill.clock import Clock
from drill.errors import Interrupted
from drill.executor._events import ProbeAttempted, ProbePlanned, ProbesStarted, ProbesStopped
from drill.executor._recorder import Recorder
from drill.executor._served import probe_reports
from drill.executor._stepcall import classify
from drill.plan import ProbeSettings, ResolvedProbe
from drill.redact import redact_url
from drill.report import ProbeReport
from drill.steps import Mode, expand_env
from providers.protocols import HttpClient

Stamp = Callable[[], tuple[float, datetime]]  # (monotonic, UTC): Anchor.stamp
# How long ``stop`` lets a thread that is between attempts notice; one in a request is not
# waited for.
_JOIN_S = 0.05


def attempt_once(
    name: str, settings: ProbeSettings, http: Callable[[], HttpClient], stamp: Stamp, phase: str
) -> ProbeAttempted:
    """One request of a probe, judged by its status. Never raises."""
    started_mono, started_at = stamp()
    status: int | None = None
    error: str | None = None
    try:
        response = http().request(
            settings.method,
            settings.url,
            headers=expand_env(settings.headers),
            body=None,
            timeout_s=settings.timeout,
        )
        status = response.status
    except Exception as exc:  # noqa: BLE001 - whatever a probe meets is a failed attempt
        error = classify(exc).message
    ok = status in settings.expect_status
    if status is not None and not ok:
        error = f"answered {status}, expected {settings.expected()}"
    latency_ms = round((stamp()[0] - started_mono) * 1000, 1) if status is not None else None
    return ProbeAttempted(
        probe=name,
        at=started_at,
        phase=phase,
        ok=ok,
        status=status,
        latency_ms=latency_ms,
        error=error,
    )


class ProbeRunner:
    """Runs ``probes`` (those that run in this mode) from ``start`` to ``stop``.

    ``phase`` is read at each attempt: the executor sets it as the run moves on.
    """

    def __init__(
        self,
        probes: Sequence[ResolvedProbe],
        http: Callable[[], HttpClient],
        clock: Clock,
        stamp: Stamp,
        keep: Callable[[ProbeAttempted], None],
    ) -> None:
        self.probes = [p for p in probes if p.settings is not None]
        self.http = http
        self.clock = clock
        self.stamp = stamp
        self.keep = keep
        self.phase = "preflight"
        self.attempts: list[ProbeAttempted] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for probe in self.probes:
            thread = threading.Thread(
                target=self.run_probe, args=(probe,), name=f"probe-{probe.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> datetime:
        """Stop every probe; the moment from which no attempt counts."""
        with self._lock:
            self._stopped.set()
            stopped_at = self.stamp()[1]
        for thread in self._threads:
            thread.join(_JOIN_S)
        return stopped_at

    def run_probe(self, probe: ResolvedProbe) -> None:
        """Ask until stopped; each attempt is kept as it ends, unless the probes stopped."""
        settings = probe.settings
        assert settings is not None, "only probes that run in this mode are started"
        while not self._stopped.is_set():
            started = self.clock.monotonic()
            attempt = attempt_once(probe.name, settings, self.http, self.stamp, self.phase)
            self._record(attempt)
            pause_s = settings.interval - (self.clock.monotonic() - started)
            try:
                self.clock.sleep(max(pause_s, 0.0), self._stopped)
            except Interrupted:
                return

    def _record(self, attempt: ProbeAttempted) -> None:
        with self._lock:
            if self._stopped.is_set():
                return  # ended after the end of verify: not part of the run
            self.attempts.append(attempt)
            self.keep(attempt)


class ProbeSession:
    """A run's probes, journaled: started before preflight, stopped at the end of verify.

    A plan without probes starts no thread and journals nothing; one whose probes are all
    skipped in this mode journals why, so its rebuilt report says so too.
    """

    def __init__(
        self,
        probes: Sequence[ResolvedProbe],
        mode: Mode,
        http: Callable[[], HttpClient],
        clock: Clock,
        stamp: Stamp,
        record: Recorder,
    ) -> None:
        self.record = record
        self.stamp = stamp
        self.skipped = [
            f"probe {p.name} does not run in {mode} mode: {p.skip_reason}"
            for p in probes
            if p.settings is None
        ]
        self.runner = ProbeRunner(probes, http, clock, stamp, record.probe_attempted)
        self.started: ProbesStarted | None = None
        self.stopped_at: datetime | None = None

    def start(self) -> None:
        if not self.runner.probes and not self.skipped:
            return
        self.started = ProbesStarted(
            at=self.stamp()[1],
            probes=[_planned(probe) for probe in self.runner.probes],
            skipped=self.skipped,
        )
        self.record.probes_started(self.started)
        self.runner.start()

    def enter(self, phase: str) -> None:
        self.runner.phase = phase

    def stop(self) -> None:
        if self.started is None or self.stopped_at is not None:
            return
        self.stopped_at = self.runner.stop()
        self.record.probes_stopped(ProbesStopped(at=self.stopped_at))

    def abandon(self) -> None:
        """Stop the threads of a run that is going down, journaling nothing more."""
        self.runner.stop()

    def reports(self) -> list[ProbeReport]:
        if self.started is None or self.stopped_at is None:
            return []
        return probe_reports(self.started, self.runner.attempts, self.stopped_at)


def _planned(probe: ResolvedProbe) -> ProbePlanned:
    settings = probe.settings
    assert settings is not None
    return ProbePlanned(
        name=probe.name,
        url=redact_url(settings.url),
        interval_s=settings.interval,
        successes=settings.successes,
    )
