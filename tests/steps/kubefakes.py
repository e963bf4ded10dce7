"""An in-memory cluster with Velero behind drill's own provider Protocols, for step logic tests.

Watches hand out scripted items; an item that is an exception is raised instead, so a test can
put a 503 or a 429 with Retry-After in the middle of a wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from drill.clock import FakeClock
from drill.errors import Conflict, PermanentError
from drill.logs import build_logger
from drill.steps import Mode, StepEnv
from providers.protocols import (
    AutoscalerInfo,
    BackupInfo,
    JobSpec,
    JobStatus,
    NamespaceInfo,
    RestoreRequest,
    RestoreStatus,
    StorageLocationInfo,
    WorkloadStatus,
)
from tests.steps.cloudfakes import START

Scripted = list[object]  # items to yield, or exceptions to raise, in order


CLOCK = FakeClock(START)


def _play(script: Scripted, timeout_s: float) -> Iterator[object]:
    """Hands out the script's next items until one is an exception (raised) or it runs out;
    then, like a real watch with nothing to say, the window passes (on the shared fake clock)."""
    while script:
        item = script.pop(0)
        if isinstance(item, Exception):
            raise item
        yield item
    CLOCK.advance(timeout_s)


@dataclass
class FakeKube:
    replicas: dict[str, int] = field(default_factory=dict)  # "ns/name" -> count
    namespaces: dict[str, NamespaceInfo] = field(default_factory=dict)
    # Polls a Terminating namespace survives before it is gone.
    terminating_polls: int = 0
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    job_script: Scripted = field(default_factory=list)
    workload_script: Scripted = field(default_factory=list)
    created_jobs: int = 0
    deleted_namespaces: list[str] = field(default_factory=list)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)  # "ns/name" -> data
    job_log: str = "ok"
    autoscalers: dict[str, list[AutoscalerInfo]] = field(default_factory=dict)  # "ns/name" ->
    # Objects by namespace, as (kind, name, labels, created at).
    objects: dict[str, list[tuple[str, str, dict[str, str], datetime]]] = field(
        default_factory=dict
    )

    def get_replicas(self, kind: str, namespace: str, name: str) -> int:
        return self.replicas[f"{namespace}/{name}"]

    def set_replicas(self, kind: str, namespace: str, name: str, replicas: int) -> None:
        self.replicas[f"{namespace}/{name}"] = replicas

    def autoscalers_of(self, kind: str, namespace: str, name: str) -> list[AutoscalerInfo]:
        return self.autoscalers.get(f"{namespace}/{name}", [])

    def get_namespace(self, name: str) -> NamespaceInfo | None:
        found = self.namespaces.get(name)
        if found is not None and found.phase == "Terminating":
            if self.terminating_polls <= 0:
                del self.namespaces[name]
                return None
            self.terminating_polls -= 1
        return found

    def create_namespace(self, name: str, labels: Mapping[str, str]) -> None:
        if name in self.namespaces:
            raise Conflict(f"namespace {name} already exists")
        self.namespaces[name] = NamespaceInfo(name, "Active", dict(labels))

    def delete_namespace(self, name: str) -> None:
        self.deleted_namespaces.append(name)
        self.namespaces.pop(name, None)

    def create_job(self, spec: JobSpec) -> None:
        if spec.name in self.jobs:
            raise Conflict(f"job {spec.name} already exists")
        self.jobs[spec.name] = spec
        self.created_jobs += 1

    def watch_job(self, namespace: str, name: str, timeout_s: float) -> Iterator[JobStatus]:
        for item in _play(self.job_script, timeout_s):
            assert isinstance(item, JobStatus)
            yield item

    def job_logs(self, namespace: str, name: str, tail_lines: int) -> str:
        return "\n".join(self.job_log.split("\n")[-tail_lines:])

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self.config_maps.get(f"{namespace}/{name}")

    def put_config_map_value(
        self, namespace: str, name: str, key: str, value: str, labels: Mapping[str, str]
    ) -> None:
        self.config_maps.setdefault(f"{namespace}/{name}", {})[key] = value

    def job_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        found = self.jobs.get(name)
        return None if found is None else found.labels

    def delete_job(self, namespace: str, name: str) -> None:
        self.jobs.pop(name, None)

    def delete_labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        listed = self.objects.get(namespace, [])
        goes = self._matcher(selector, kinds, created_since)
        deleted = [f"{kind} {name}" for kind, name, labels, at in listed if goes(kind, labels, at)]
        self.objects[namespace] = [o for o in listed if not goes(o[0], o[2], o[3])]
        return deleted

    def labelled(
        self,
        namespace: str,
        selector: str,
        kinds: Sequence[str],
        *,
        created_since: datetime | None = None,
    ) -> list[str]:
        matches = self._matcher(selector, kinds, created_since)
        listed = self.objects.get(namespace, [])
        return [f"{kind} {name}" for kind, name, labels, at in listed if matches(kind, labels, at)]

    @staticmethod
    def _matcher(
        selector: str, kinds: Sequence[str], created_since: datetime | None
    ) -> Callable[[str, Mapping[str, str], datetime], bool]:
        key, value = selector.split("=", 1)

        def matches(kind: str, labels: Mapping[str, str], created: datetime) -> bool:
            recent = created_since is None or created >= created_since
            return kind in kinds and labels.get(key) == value and recent

        return matches

    def watch_workloads(
        self, namespace: str, selector: str, timeout_s: float
    ) -> Iterator[list[WorkloadStatus]]:
        for item in _play(self.workload_script, timeout_s):
            assert isinstance(item, list)
            yield item


@dataclass
class FakeVelero:
    backups_: list[BackupInfo] = field(default_factory=list)
    restores: dict[str, RestoreRequest] = field(default_factory=dict)
    restore_script: Scripted = field(default_factory=list)
    creates: int = 0
    started_at: datetime | None = START

    def backups(self, *, schedule: str | None, selector: str | None) -> list[BackupInfo]:
        return [b for b in self.backups_ if b.schedule == schedule]

    def backup(self, name: str) -> BackupInfo | None:
        return next((b for b in self.backups_ if b.name == name), None)

    def storage_location(self, name: str) -> StorageLocationInfo | None:
        return StorageLocationInfo(name, "Available", START)

    def create_restore(self, request: RestoreRequest) -> None:
        self.creates += 1
        if request.name in self.restores:
            raise Conflict(f"restore {request.name} already exists")
        self.restores[request.name] = request

    def watch_restore(self, name: str, timeout_s: float) -> Iterator[RestoreStatus]:
        for item in _play(self.restore_script, timeout_s):
            assert isinstance(item, RestoreStatus)
            yield item

    def restore(self, name: str) -> RestoreStatus | None:
        if name not in self.restores:
            return None
        return RestoreStatus(name, "Completed", started_at=self.started_at)

    def delete_restore(self, name: str) -> None:
        self.restores.pop(name, None)

    def download(self, kind: str, name: str, timeout_s: float) -> bytes:
        # No bucket behind this fake: the step must say completeness was not measured.
        raise PermanentError(f"{kind} of {name}: this fake keeps no bucket")


@dataclass
class FakeCluster:
    kube_api: FakeKube = field(default_factory=FakeKube)
    velero_api: FakeVelero = field(default_factory=FakeVelero)

    def kube(self, context: str) -> FakeKube:
        return self.kube_api

    def velero(self, context: str, namespace: str) -> FakeVelero:
        return self.velero_api


def kube_env(cluster: FakeCluster, timeout_s: float = 60, mode: Mode = "drill") -> StepEnv:
    clock = CLOCK
    return StepEnv(
        run_id="run-1",
        step_id="step",
        mode=mode,
        context="dr-cluster",
        clock=clock,
        cancel=threading.Event(),
        deadline=clock.monotonic() + timeout_s,
        providers=cluster,  # type: ignore[arg-type]
        log=build_logger(-1),
    )
