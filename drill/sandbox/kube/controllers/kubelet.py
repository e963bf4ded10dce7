"""The simulated kubelet: moves every pod through its lifecycle and serves pod logs.

A pod is Pending (ContainerCreating) when first seen. A pod with an image the kubelet cannot
parse (``images``) stays Pending for good, that container waiting with ``InvalidImageName``.
A pod owned by a Job runs at once and, ``job_duration_s`` later, runs its container's command
(``programs``: against the cluster as it is at that moment) and ends Succeeded (exit 0) or
Failed (its exit code), with what the command printed as its log; a fault can make it exit 1
instead, without running anything. Any
other pod is Running and Ready ``ready_after_s`` after it was first seen, unless a fault says
its workload never becomes ready: then it runs with Ready False forever. A pod being deleted
with its namespace (``deletionTimestamp`` set) keeps running, no longer Ready, until it is
gone; a pod deleted by itself is removed at once (no graceful termination).

Logs set by hand (``set_pod_log``, ``set_job_log``: a test's or a world's) take precedence over
what a command printed.

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
from drill.sandbox.kube.controllers.clients import Ran
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.images import unparseable
from drill.sandbox.kube.controllers.network import Network
from drill.sandbox.kube.controllers.programs import Programs, Reach
from drill.sandbox.kube.controllers.truth import PodReady

PENDING, READY, UNREADY, SUCCEEDED, FAILED = "pending", "ready", "unready", "succeeded", "failed"
INVALID_IMAGE = "invalid-image"  # Pending for good: an image the kubelet cannot parse


class PodLogs:
    """Log text per pod, or per job (served for the job's pods), set by hand; and what each
    pod's command printed, served when nothing was set by hand. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pods: dict[tuple[str, str], str] = {}
        self._jobs: dict[tuple[str, str], str] = {}
        self._printed: dict[tuple[str, str], str] = {}

    def set_pod_log(self, namespace: str, pod: str, text: str) -> None:
        with self._lock:
            self._pods[(namespace, pod)] = text

    def set_job_log(self, namespace: str, job: str, text: str) -> None:
        with self._lock:
            self._jobs[(namespace, job)] = text

    def set_printed(self, namespace: str, pod: str, text: str) -> None:
        with self._lock:
            self._printed[(namespace, pod)] = text

    def text_for(self, pod: Obj) -> str:
        namespace, job = namespace_of(pod), labels_of(pod).get("job-name", "")
        key = (namespace, name_of(pod))
        with self._lock:
            for found in (self._pods.get(key), self._jobs.get((namespace, job))):
                if found is not None:
                    return found
            return self._printed.get(key, "")


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
        self._services = world.rt("v1", "Service")
        self._config_maps = world.rt("v1", "ConfigMap")
        self._first_seen: dict[str, float] = {}
        self._states: dict[str, str] = {}
        self._ready_since: dict[str, float] = {}  # uid -> monotonic time it became Ready
        self._ended: dict[str, Ran] = {}  # uid -> how a Job pod's container ended
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
            self._ended.pop(uid, None)

    def ready_since(self, pod_uid: str) -> float | None:
        """Ground truth: when the pod became Ready (monotonic, at full precision), if it is."""
        return self._ready_since.get(pod_uid)

    def _target_state(self, pod: Obj, age_s: float) -> str:
        profile, faults = self._world.profile, self._world.faults
        namespace = namespace_of(pod)
        if dig(pod, "metadata", "deletionTimestamp"):
            return UNREADY  # shutting down: out of its Services' endpoints until it is gone
        if any(unparseable(str(c.get("image", ""))) for c in _containers(pod)):
            return INVALID_IMAGE
        if is_job_pod(pod):
            if age_s < profile.job_duration_s:
                return READY
            return SUCCEEDED if self._run_container(pod).exit_code == 0 else FAILED
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
        if state == READY:
            self._ready_since[uid] = now_mono
            self._world.truth.record_pod_ready(
                PodReady(
                    namespace_of(pod),
                    name_of(pod),
                    tuple(sorted(labels_of(pod).items())),
                    self._world.clock.now(),
                )
            )
        else:
            self._ready_since.pop(uid, None)
        ended = self._ended.get(uid)
        if ended is not None and state in (SUCCEEDED, FAILED):
            self._logs.set_printed(namespace_of(pod), name_of(pod), ended.log)
        now = rfc3339(self._world.clock.now())
        ip = dig(pod, "status", "podIP") or next(self._ips)
        status = _status(pod, state, now, ip, ended.exit_code if ended else 0)

        def write(found: Obj) -> None:
            found["status"] = status

        self._world.store.mutate(self._pods, namespace_of(pod), name_of(pod), write)

    def _run_container(self, pod: Obj) -> Ran:
        """How the Job pod's container ends, worked out once: a fault, or its command run."""
        uid = uid_of(pod)
        if uid not in self._ended:
            job = labels_of(pod).get("job-name", owner_name(pod))
            if self._world.faults.job_fails(namespace_of(pod), job):
                self._ended[uid] = Ran(1)
            else:
                self._ended[uid] = self._programs.run(pod, self._reach())
        return self._ended[uid]

    def _reach(self) -> Reach:
        store = self._world.store

        def read(namespace: str, name: str) -> Obj | None:
            return store.read(self._config_maps, namespace, name)

        return Reach(read, self.network())

    def network(self) -> Network:
        """The cluster's Services and pods as they are now."""
        store = self._world.store
        return self._programs.network(store.items(self._services), store.items(self._pods))


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


def _container_status(container: Obj, state: str, now: str, exit_code: int) -> Obj:
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
    refused = unparseable(image) if state == INVALID_IMAGE else None
    if refused is not None:
        found["state"] = {"waiting": {"reason": "InvalidImageName", "message": refused}}
    elif state in (PENDING, INVALID_IMAGE):
        found["state"] = {"waiting": {"reason": "ContainerCreating"}}
    elif running:
        found["state"] = {"running": {"startedAt": now}}
        found["containerID"] = f"sandbox://{found['name']}"
    else:
        code = 0 if state == SUCCEEDED else exit_code or 1
        reason = "Completed" if code == 0 else "Error"
        found["state"] = {
            "terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now}
        }
    return found


_PHASES = {
    PENDING: "Pending",
    INVALID_IMAGE: "Pending",
    READY: "Running",
    UNREADY: "Running",
    SUCCEEDED: "Succeeded",
    FAILED: "Failed",
}


def _status(pod: Obj, state: str, now: str, ip: str, exit_code: int) -> Obj:
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
            _container_status(c, state, now, exit_code) for c in _containers(pod)
        ],
    }
    if state != PENDING:
        status.update(podIP=ip, podIPs=[{"ip": ip}])
    return status


def _containers(pod: Obj) -> list[Obj]:
    containers: list[Obj] = dig(pod, "spec", "containers") or []
    return containers
