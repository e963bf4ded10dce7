"""Whether each host of a sandbox world serves users now, and the ground truth of when it did.

The gateway (the public endpoints' stand-in) asks ``why_not`` at every request: a host answers
200 only while its record, as the nameservers answer it, points at a site whose workloads have
a Ready pod and whose backends send traffic to a healthy target (``drill.sandbox.worlds
.serving`` says what each site needs). Each emulator says since when its part has held, at full
precision by the sandbox's clock, so a host has served since the latest of those moments.

``ServingMonitor`` keeps that truth as it happens: every few milliseconds it asks each host
and records when it began serving (the exact moment its last needed part fell into place, not
when the monitor noticed) and when it stopped (when the monitor noticed). Tests and benches
compare drill's users-served clock with these records.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from drill.clock import Anchor, Clock
from drill.sandbox.kube import KubeEmulator
from drill.sandbox.worlds.serving import BackendBehind, ServingWorld, Site, answer_of, host_name

if TYPE_CHECKING:
    from drill.sandbox.clouds import CloudSandbox

MONITOR_PERIOD_S = 0.01


@dataclass(frozen=True)
class Verdict:
    """Whether a host serves; ``since``: from when (monotonic; -inf: since the world began);
    ``why``: why not."""

    serving: bool
    since: float = -math.inf
    why: str = ""


@dataclass(frozen=True)
class ServingPeriod:
    """Ground truth: a host served users from ``began`` until ``ended`` (None: still does)."""

    host: str
    began: datetime
    ended: datetime | None = None


class ServingTruth:
    def __init__(
        self,
        world: ServingWorld,
        clusters: Mapping[str, KubeEmulator],
        cloud: CloudSandbox,
        clock: Clock,
    ) -> None:
        self.world = world
        self.clusters = clusters  # filled as the sandbox starts its clusters
        self.cloud = cloud
        self.clock = clock

    def why_not(self, host: str) -> str | None:
        """For the gateway: None when ``host`` serves now, else why it does not."""
        verdict = self.verdict(host)
        return None if verdict.serving else verdict.why

    def verdict(self, host: str) -> Verdict:
        sites = self.world.sites_of(host)
        if not sites:
            return Verdict(False, why=f"no record of {host_name(host)} is switched by a plan")
        verdicts = [self._site(site) for site in sites]
        serving = [v for v in verdicts if v.serving]
        if serving:
            return min(serving, key=lambda v: v.since)
        return Verdict(False, why="; ".join(v.why for v in verdicts))

    def _site(self, site: Site) -> Verdict:
        values, since = self._answered(site)
        if values is None:
            return Verdict(False, why=f"{site.record} has no {site.type} record")
        answers = {answer_of(value) for value in values}
        if answers & self.world.primary_answers:
            return Verdict(True, since)  # the primary region serves
        if not answers & site.addresses:
            shown = ", ".join(sorted(answers))
            return Verdict(False, why=f"{site.record} points at {shown}, where nothing serves")
        parts = [Verdict(True, since), *self._workloads(site), *self._backends(site)]
        failing = [part.why for part in parts if not part.serving]
        if failing:
            return Verdict(False, why="; ".join(failing))
        return Verdict(True, max(part.since for part in parts))

    def _answered(self, site: Site) -> tuple[tuple[str, ...] | None, float]:
        """What the nameservers of the record's cloud answer now, and since when."""
        if site.cloud == "gcp" and self.cloud.dns is not None:
            record, since = self.cloud.dns.served(site.record, site.type)
            return (record.rrdatas if record else None), since
        if site.cloud == "aws" and self.cloud.aws is not None:
            return self.cloud.aws.answered(site.record, site.type)
        return None, -math.inf

    def _workloads(self, site: Site) -> list[Verdict]:
        found = []
        for workload in site.workloads:
            cluster = self.clusters.get(workload.role)
            since = cluster.ready_since(workload.namespace, workload.name) if cluster else None
            where = f"{workload.namespace}/{workload.name}"
            found.append(
                Verdict(True, since)
                if since is not None
                else Verdict(False, why=f"no Ready pod of {where} behind {site.record}")
            )
        return found

    def _backends(self, site: Site) -> list[Verdict]:
        found = []
        for backend in site.backends:
            since = self._backend_since(backend)
            found.append(
                Verdict(True, since)
                if since is not None
                else Verdict(False, why=f"{backend.ref.name} sends no traffic to a healthy target")
            )
        return found

    def _backend_since(self, backend: BackendBehind) -> float | None:
        ref = backend.ref
        if ref.provider == "gcp" and self.cloud.compute is not None:
            project = ref.project or "sandbox"
            return self.cloud.compute.serving_since(project, ref.name, ref.region, backend.targets)
        if ref.provider == "aws" and self.cloud.aws is not None:
            if ref.kind == "listener":
                return self.cloud.aws.forwarding_since(ref.name, backend.targets)
            return self.cloud.aws.registered_since(ref.name, backend.targets)
        return None


class ServingMonitor:
    """Records, for every host of the world, each period it served users."""

    def __init__(self, truth: ServingTruth, period_s: float = MONITOR_PERIOD_S) -> None:
        self.truth = truth
        self.period_s = period_s
        self._anchor = Anchor(truth.clock)
        self._lock = threading.Lock()
        self._periods: list[ServingPeriod] = []
        self._open: dict[str, int] = {}  # host -> index of its period still open
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ServingMonitor:
        self.check()
        self._thread = threading.Thread(target=self._watch, name="sandbox-serving", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def periods(self, host: str | None = None) -> list[ServingPeriod]:
        with self._lock:
            return [p for p in self._periods if host is None or p.host == host_name(host)]

    def check(self) -> None:
        """One look at every host; a change is recorded at once."""
        for host in sorted(self.truth.world.hosts()):
            verdict = self.truth.verdict(host)
            with self._lock:
                self._note(host, verdict)

    def _note(self, host: str, verdict: Verdict) -> None:
        is_open = host in self._open
        if verdict.serving and not is_open:
            began = self._anchor.at(max(verdict.since, self._anchor.mono))
            self._open[host] = len(self._periods)
            self._periods.append(ServingPeriod(host, began))
        elif not verdict.serving and is_open:
            index = self._open.pop(host)
            ended = self.truth.clock.now()
            self._periods[index] = ServingPeriod(host, self._periods[index].began, ended)

    def _watch(self) -> None:
        while not self._stop.wait(self.period_s):
            self.check()
