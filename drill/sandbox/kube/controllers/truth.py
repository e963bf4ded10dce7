"""Ground truth: when things really happened inside one emulated cluster, by the injected clock.

The controllers append a record at the moment something happens (a restore reaches a terminal
phase, a workload's ready replicas reach the desired count, a job finishes, a schedule makes a
backup, with the heartbeats it captured, a deleted namespace is gone), so tests and benchmarks
can compare drill's measured RTO and RPO with the truth. This module must not decide
anything; it only keeps records and answers questions about them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RestoreFinished:
    name: str
    backup_name: str
    phase: str
    started_at: datetime | None
    finished_at: datetime
    items_restored: int
    warnings: int
    errors: int


@dataclass(frozen=True)
class WorkloadReady:
    kind: str
    namespace: str
    name: str
    replicas: int
    ready_at: datetime


@dataclass(frozen=True)
class PodReady:
    """A pod turning Ready: from then on it is an endpoint of the Services selecting it."""

    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    ready_at: datetime


@dataclass(frozen=True)
class JobFinished:
    namespace: str
    name: str
    succeeded: bool
    finished_at: datetime
    pods: int = 1  # one per attempt


@dataclass(frozen=True)
class NamespaceGone:
    """A deleted namespace, gone at last: when it was deleted (its ``deletionTimestamp``,
    whole seconds) and when it went."""

    name: str
    deleted_at: datetime | None
    gone_at: datetime


@dataclass(frozen=True)
class HeartbeatCaptured:
    """A heartbeat as a backup captured it: the moment of the write it holds, to the
    microsecond (what the restored copy will say)."""

    namespace: str
    name: str
    key: str
    written_at: datetime


@dataclass(frozen=True)
class BackupMade:
    """A schedule's backup: when it really started and completed (Velero's timestamps keep
    only whole seconds of these), and the heartbeats it captured."""

    name: str
    schedule: str
    started_at: datetime
    completed_at: datetime
    heartbeats: tuple[HeartbeatCaptured, ...] = ()


class GroundTruth:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._restores: list[RestoreFinished] = []
        self._ready: list[WorkloadReady] = []
        self._pods_ready: list[PodReady] = []
        self._jobs: list[JobFinished] = []
        self._backups: list[BackupMade] = []
        self._namespaces_gone: list[NamespaceGone] = []

    def record_restore(self, record: RestoreFinished) -> None:
        with self._lock:
            self._restores.append(record)

    def record_ready(self, record: WorkloadReady) -> None:
        with self._lock:
            self._ready.append(record)

    def record_pod_ready(self, record: PodReady) -> None:
        with self._lock:
            self._pods_ready.append(record)

    def pods_ready(self, namespace: str, selector: dict[str, str]) -> list[PodReady]:
        """Every time a pod of ``namespace`` that ``selector`` matches turned Ready, oldest
        first."""
        with self._lock:
            found = list(self._pods_ready)
        return [
            r
            for r in found
            if r.namespace == namespace and selector.items() <= dict(r.labels).items()
        ]

    def record_job(self, record: JobFinished) -> None:
        with self._lock:
            self._jobs.append(record)

    def record_backup(self, record: BackupMade) -> None:
        with self._lock:
            self._backups.append(record)

    def record_namespace_gone(self, record: NamespaceGone) -> None:
        with self._lock:
            self._namespaces_gone.append(record)

    def restores(self) -> list[RestoreFinished]:
        with self._lock:
            return list(self._restores)

    def restore(self, name: str) -> RestoreFinished | None:
        return next((r for r in self.restores() if r.name == name), None)

    def ready_events(
        self, namespace: str | None = None, name: str | None = None
    ) -> list[WorkloadReady]:
        """Every time a workload reached its desired ready count, oldest first."""
        with self._lock:
            found = list(self._ready)
        return [r for r in found if namespace in (None, r.namespace) and name in (None, r.name)]

    def ready_at(self, namespace: str, name: str) -> datetime | None:
        """When ``namespace/name`` last became fully ready, if it ever did."""
        events = self.ready_events(namespace, name)
        return events[-1].ready_at if events else None

    def jobs(self) -> list[JobFinished]:
        with self._lock:
            return list(self._jobs)

    def job(self, namespace: str, name: str) -> JobFinished | None:
        return next((j for j in self.jobs() if (j.namespace, j.name) == (namespace, name)), None)

    def namespaces_gone(self, name: str | None = None) -> list[NamespaceGone]:
        """Every time a deleted namespace (``name``, or any) went, oldest first."""
        with self._lock:
            found = list(self._namespaces_gone)
        return [g for g in found if name in (None, g.name)]

    def backups(self) -> list[BackupMade]:
        with self._lock:
            return list(self._backups)

    def backup(self, name: str) -> BackupMade | None:
        return next((b for b in self.backups() if b.name == name), None)
