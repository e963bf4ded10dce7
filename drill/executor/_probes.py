"""The plan's probes, asked on threads of their own from the run's start to the end of verify.

Each probe sends its request every ``interval`` (the next one once the previous answered, if
that took longer). Every attempt, as it ends, is queued for ``keep`` (the recorder: journal and
log), which a keeper thread of its own calls: a probe's cadence is what measures when users
were served again, so it never waits for a journal write (each one is synced to disk, and
under disk pressure a sync can take longer than an interval). Nothing a probe meets reaches
the run: a refused connection, a timeout, an unset header variable or a bug in a client is a
failed attempt, never an exception. ``stop`` does not wait for a request in flight: a probe
thread caught in one is left to finish it, and what it finds is dropped, so undoing never
waits for a slow endpoint and no attempt counts after the end of verify. ``stop`` does wait
until every counted attempt has been kept, so the journal holds them all before it says the
probes stopped.

Time comes from the injected clock only; the moment of each attempt is taken with the run's
``stamp`` (its anchor), like every other moment of the report.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from drill.clock import Clock
from drill.errors import Interrupted
from drill.executor._events import ProbeAttempted, ProbePlanned, ProbesStarted, ProbesStopped
from drill.executor._recorder import Recorder
from drill.executor._served import probe_reports
from drill.executor._stepcall import classify
from drill.plan import ProbeSettings, ResolvedProbe, service_address
from drill.redact import redact_url
from drill.report import ProbeReport
from drill.steps import Mode, expand_env
from providers.protocols import HttpClient, HttpResponse, KubeApi

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


class ThroughApiServer:
    """An HttpClient for a ``through:`` probe: each request goes to the Service its URL names,
    through the API server of the probe's context role (services/proxy)."""

    def __init__(self, kube: KubeApi) -> None:
        self.kube = kube

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout_s: float,
    ) -> HttpResponse:
        address = service_address(url)
        assert address is not None, "ProbeSettings checked that the URL names a Service"
        return self.kube.service_request(
            address.namespace,
            address.proxy_segment(),
            method,
            address.path,
            headers=headers,
            timeout_s=timeout_s,
        )


class ProbeRunner:
    """Runs ``probes`` (those that run in this mode) from ``start`` to ``stop``.

    ``phase`` is read at each attempt: the executor sets it as the run moves on. ``kube``
    gives the cluster of a context role, for probes asked ``through:`` one.
    """

    def __init__(
        self,
        probes: Sequence[ResolvedProbe],
        http: Callable[[], HttpClient],
        clock: Clock,
        stamp: Stamp,
        keep: Callable[[ProbeAttempted], None],
        kube: Callable[[str], KubeApi] | None = None,
    ) -> None:
        self.probes = [p for p in probes if p.settings is not None]
        self.http = http
        self.kube = kube
        self.clock = clock
        self.stamp = stamp
        self.keep = keep
        self.phase = "preflight"
        self.attempts: list[ProbeAttempted] = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._to_keep: queue.SimpleQueue[ProbeAttempted | None] = queue.SimpleQueue()
        self._keeper: threading.Thread | None = None

    def start(self) -> None:
        if not self.probes:
            return
        self._keeper = threading.Thread(target=self._keep_queued, name="probes-keeper", daemon=True)
        self._keeper.start()
        for probe in self.probes:
            thread = threading.Thread(
                target=self.run_probe, args=(probe,), name=f"probe-{probe.name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> datetime:
        """Stop every probe; the moment from which no attempt counts. Returns once every
        attempt that counts has been kept."""
        with self._lock:
            already_stopped = self._stopped.is_set()
            self._stopped.set()
            stopped_at = self.stamp()[1]
        for thread in self._threads:
            thread.join(_JOIN_S)
        if already_stopped:
            return stopped_at
        self._to_keep.put(None)
        if self._keeper is not None:
            self._keeper.join()
        else:  # probes run by hand, as tests do, are kept by whoever stops them
            self._keep_queued()
        return stopped_at

    def run_probe(self, probe: ResolvedProbe) -> None:
        """Ask every ``interval`` until stopped; each attempt is counted as it ends, unless the
        probes stopped."""
        settings = probe.settings
        assert settings is not None, "only probes that run in this mode are started"
        http = self._client_of(settings)
        while not self._stopped.is_set():
            started = self.clock.monotonic()
            self._count(attempt_once(probe.name, settings, http, self.stamp, self.phase))
            pause_s = settings.interval - (self.clock.monotonic() - started)
            try:
                self.clock.sleep(max(pause_s, 0.0), self._stopped)
            except Interrupted:
                return

    def _client_of(self, settings: ProbeSettings) -> Callable[[], HttpClient]:
        role, kube = settings.through, self.kube
        if role is None:
            return self.http
        assert kube is not None, "a run with through: probes passes its clusters"
        return lambda: ThroughApiServer(kube(role))

    def _count(self, attempt: ProbeAttempted) -> None:
        with self._lock:
            if self._stopped.is_set():
                return  # ended after the end of verify: not part of the run
            self.attempts.append(attempt)
            self._to_keep.put(attempt)

    def _keep_queued(self) -> None:
        """The keeper thread: hands each counted attempt to ``keep``, in the order counted."""
        while (attempt := self._to_keep.get()) is not None:
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
        kube: Callable[[str], KubeApi] | None = None,
    ) -> None:
        self.record = record
        self.stamp = stamp
        self.skipped = [
            f"probe {p.name} does not run in {mode} mode: {p.skip_reason}"
            for p in probes
            if p.settings is None
        ]
        self.runner = ProbeRunner(probes, http, clock, stamp, record.probe_attempted, kube)
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
        through=settings.through,
    )
