"""The simulated kubelet: moves every pod through its lifecycle and serves pod logs.

A pod is Pending (ContainerCreating) when first seen. A pod owned by a Job runs at once and
ends Succeeded (exit 0) or Failed (exit 1, when a fault says so) ``job_duration_s`` later; when
it succeeds running a program the sandbox knows (``programs``), what it printed is its log. Any
other pod is Running and Ready ``ready_after_s`` after it was first seen, unless a fault says
its workload never becomes ready: then it runs with Ready False forever. Deleting a pod removes
it at once (no graceful termination).

Workload and job status are not this module's business: their controllers derive it from the
pods. This module must not create or delete pods.
"""

from __future__ import annotations

import itertools
import threading

from drill.sandbox.kube.api.objects import (
    Obj,
    dig,
    labels_of,
    name_of,
    namespace_of,
    rfc3339,
    uid_of,
)
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.programs import Programs

PENDING, READY, UNREADY, SUCCEEDED, FAILED = "pending", "ready", "unready", "succeeded", "failed"


class PodLogs:
    """Log text per pod, or per job (served for the job's pods). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pods: dict[tuple[str, str], str] = {}
        self._jobs: dict[tuple[str, str], str] = {}

    def set_pod_log(self, namespace: str, pod: str, text: str) -> None:
        with self._lock:
            self._pods[(namespace, pod)] = text

    def set_job_log(self, namespace: str, job: str, text: str) -> None:
        with self._lock:
            self._jobs[(namespace, job)] = text

    def text_for(self, pod: Obj) -> str:
        namespace, job = namespace_of(pod), labels_of(pod).get("job-name", "")
        with self._lock:
            found = self._pods.get((namespace, name_of(pod)))
            return found if found is not None else self._jobs.get((namespace, job), "")


def owner_name(pod: Obj) -> str:
    refs = pod["metadata"].get("ownerReferences") or []
    return str(refs[0].get("name", "")) if refs else ""


def is_job_pod(pod: Obj) -> bool:
    return any(ref.get("kind") == "Job" for ref in pod["metadata"].get("ownerReferences") or [])


class Kubelet:
    def __init__(self, world: World, logs: PodLogs, programs: Programs) -> None:
        self._world = world
        self._logs = logs
        self._programs = programs
        self._pods = world.rt("v1", "Pod")
        self._config_maps = world.rt("v1", "ConfigMap")
        self._first_seen: dict[str, float] = {}
        self._states: dict[str, str] = {}
        self._ready_since: dict[str, float] = {}  # uid -> monotonic time it became Ready
        self._ips = (f"10.244.{n // 250}.{n % 250 + 2}" for n in itertools.count())

    def tick(self, now: float) -> None:
        live = set()
        for pod in self._world.store.items(self._pods):
            uid = uid_of(pod)
            live.add(uid)
            self._first_seen.setdefault(uid, now)
            self._advance(pod, self._target_state(pod, now - self._first_seen[uid]), now)
        for uid in set(self._first_seen) - live:
            self._first_seen.pop(uid, None)
            self._states.pop(uid, None)
            self._ready_since.pop(uid, None)

    def ready_since(self, pod_uid: str) -> float | None:
        """Ground truth: when the pod became Ready (monotonic, at full precision), if it is."""
        return self._ready_since.get(pod_uid)

    def _target_state(self, pod: Obj, age_s: float) -> str:
        profile, faults = self._world.profile, self._world.faults
        namespace = namespace_of(pod)
        if is_job_pod(pod):
            if age_s < profile.job_duration_s:
                return READY
            job = labels_of(pod).get("job-name", owner_name(pod))
            return FAILED if faults.job_fails(namespace, job) else SUCCEEDED
        if age_s < profile.ready_after_s:
            return PENDING
        never = faults.is_never_ready(namespace, owner_name(pod)) or faults.is_never_ready(
            namespace, name_of(pod)
        )
        return UNREADY if never else READY

    def _advance(self, pod: Obj, state: str, now_mono: float) -> None:
        uid = uid_of(pod)
        if self._states.get(uid) == state or dig(pod, "status", "phase") in ("Succeeded", "Failed"):
            return
        self._states[uid] = state
        if state == SUCCEEDED:
            self._keep_output(pod)
        if state == READY:
            self._ready_since[uid] = now_mono
        else:
            self._ready_since.pop(uid, None)
        now = rfc3339(self._world.clock.now())
        status = _status(pod, state, now, dig(pod, "status", "podIP") or next(self._ips))

        def write(found: Obj) -> None:
            found["status"] = status

        self._world.store.mutate(self._pods, namespace_of(pod), name_of(pod), write)

    def _keep_output(self, pod: Obj) -> None:
        def read(namespace: str, name: str) -> Obj | None:
            return self._world.store.read(self._config_maps, namespace, name)

        printed = self._programs.output_of(pod, read)
        if printed is not None:
            self._logs.set_pod_log(namespace_of(pod), name_of(pod), printed)


def _condition(kind: str, ok: bool, now: str, reason: str | None = None) -> Obj:
    condition: Obj = {
        "type": kind,
        "status": "True" if ok else "False",
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }
    if reason:
        condition["reason"] = reason
    return condition


def _container_status(container: Obj, state: str, now: str) -> Obj:
    image = str(container.get("image", ""))
    running = state in (READY, UNREADY)
    found: Obj = {
        "name": str(container.get("name", "")),
        "image": image,
        "imageID": f"sandbox://{image}",
        "ready": state == READY,
        "started": running,
        "restartCount": 0,
    }
    if state == PENDING:
        found["state"] = {"waiting": {"reason": "ContainerCreating"}}
    elif running:
        found["state"] = {"running": {"startedAt": now}}
        found["containerID"] = f"sandbox://{found['name']}"
    else:
        code = 0 if state == SUCCEEDED else 1
        reason = "Completed" if code == 0 else "Error"
        found["state"] = {
            "terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now}
        }
    return found


_PHASES = {
    PENDING: "Pending",
    READY: "Running",
    UNREADY: "Running",
    SUCCEEDED: "Succeeded",
    FAILED: "Failed",
}


def _status(pod: Obj, state: str, now: str, ip: str) -> Obj:
    ready = state == READY
    not_ready_reason = (
        None
        if ready
        else ("PodCompleted" if state in (SUCCEEDED, FAILED) else "ContainersNotReady")
    )
    status: Obj = {
        "phase": _PHASES[state],
        "conditions": [
            _condition("PodReadyToStartContainers", state != PENDING, now),
            _condition("Initialized", True, now),
            _condition("Ready", ready, now, not_ready_reason),
            _condition("ContainersReady", ready, now, not_ready_reason),
            _condition("PodScheduled", True, now),
        ],
        "hostIP": "10.0.0.1",
        "hostIPs": [{"ip": "10.0.0.1"}],
        "qosClass": "BestEffort",
        "startTime": dig(pod, "status", "startTime") or now,
        "containerStatuses": [
            _container_status(c, state, now) for c in dig(pod, "spec", "containers") or []
        ],
    }
    if state != PENDING:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return status
