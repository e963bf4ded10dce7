"""The simulated Deployment and StatefulSet controllers.

Each pass keeps the number of pods a workload owns equal to ``spec.replicas`` (creating pods
from the template, deleting the newest or highest-ordinal extras) and derives the workload's
status from its pods: ``replicas``, ``updatedReplicas``, ``readyReplicas``,
``availableReplicas``, ``observedGeneration``, and for Deployments the ``Available`` and
``Progressing`` conditions (Available uses the real rule: at least replicas - maxUnavailable
available). The kubelet decides when pods become ready, so a workload is ready
``ready_after_s`` after its pods were created. Each time a workload's ready replicas reach the
desired count, the moment is recorded as ground truth. A pod the API refuses (admission: a
ServiceAccount that does not exist) is not made, so the workload never gets ready: the
refusal is a Warning ``FailedCreate`` event, worded as the ReplicaSet's or StatefulSet's
controller words it, and for a Deployment its ``ReplicaFailure`` condition, as the real one
copies it from its ReplicaSet; the next pass tries again.

Approximations: Deployment pods are owned by the Deployment directly (no ReplicaSets, so their
events are the Deployment's), a template change does not roll pods, StatefulSets have no
conditions (as in Kubernetes).
This module must not change pod status (that is the kubelet's).
"""

from __future__ import annotations

import hashlib
import json
import math

from drill.sandbox.kube.api.defaults import pod_spec
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import (
    Obj,
    clone,
    dig,
    labels_of,
    name_of,
    namespace_of,
    rfc3339,
    uid_of,
)
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.events import FAILED_CREATE, Recorder
from drill.sandbox.kube.controllers.truth import WorkloadReady

_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# A pass reads only the store, so when nothing was written since the last one it would change
# nothing and is skipped; after RESYNC_PASSES skipped in a row one runs anyway (real
# controllers resync too), retrying what the API refused for reasons the store does not show.
RESYNC_PASSES = 25


def template_hash(template: object) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_HASH_ALPHABET[b % len(_HASH_ALPHABET)] for b in digest[:10])


class _TemplateHashes:
    """``template_hash`` of the templates of stored workloads, each computed once.

    Stored objects are never changed in place (a write stores a new object), so a template
    that is the same object has the same hash. The template is kept with its hash, so its id
    cannot be reused by another object while it is remembered."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[object, str]] = {}

    def of(self, template: object) -> str:
        known = self._known.get(id(template))
        if known is not None and known[0] is template:
            return known[1]
        if len(self._known) > 1000:
            self._known.clear()
        found = template_hash(template)
        self._known[id(template)] = (template, found)
        return found


def is_ready(pod: Obj) -> bool:
    conditions = dig(pod, "status", "conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def owned_by(pods: list[Obj], owner_uid: str) -> list[Obj]:
    return [
        p
        for p in pods
        if any(r.get("uid") == owner_uid for r in p["metadata"].get("ownerReferences") or [])
    ]


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(
    owner: Obj, extra_labels: dict[str, str], *, name: str = "", generate_name: str = ""
) -> Obj:
    """A pod of ``owner``'s template, named ``name`` or, by the API, from ``generate_name``."""
    template = dig(owner, "spec", "template") or {}
    spec = clone(template.get("spec") or {})
    pod_spec(spec)
    naming = {"name": name} if name else {"generateName": generate_name}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **naming,
            "namespace": namespace_of(owner),
            "labels": {**(dig(template, "metadata", "labels") or {}), **extra_labels},
            "annotations": dict(dig(template, "metadata", "annotations") or {}),
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": spec,
    }


def _max_unavailable(workload: Obj, desired: int) -> int:
    """Kubernetes' rule: 0 unless RollingUpdate; a percentage rounds down."""
    if dig(workload, "spec", "strategy", "type") != "RollingUpdate" or desired == 0:
        return 0
    value = dig(workload, "spec", "strategy", "rollingUpdate", "maxUnavailable")
    if isinstance(value, str) and value.endswith("%"):
        return math.floor(desired * int(value[:-1]) / 100)
    return int(value or 0)


class WorkloadController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._pods = world.rt("v1", "Pod")
        self._kinds = (world.rt("apps/v1", "Deployment"), world.rt("apps/v1", "StatefulSet"))
        self._was_ready: dict[str, bool] = {}
        self._hashes = _TemplateHashes()
        self._events = Recorder(world)
        self._passed_at_rv = -1  # the store's resourceVersion when the last pass began
        self._skipped = 0

    def tick(self, now: float) -> None:
        del now  # readiness timing lives in the kubelet; this pass only reconciles counts
        written = self._world.store.current_rv()
        if written == self._passed_at_rv and self._skipped < RESYNC_PASSES:
            self._skipped += 1
            return
        self._passed_at_rv, self._skipped = written, 0
        live = set()
        for rt in self._kinds:
            for workload in self._world.store.items(rt):
                live.add(uid_of(workload))
                self._reconcile(rt, workload)
        for uid in set(self._was_ready) - live:
            del self._was_ready[uid]

    def _reconcile(self, rt: ResourceType, workload: Obj) -> None:
        if dig(workload, "metadata", "deletionTimestamp"):
            return
        desired = int(dig(workload, "spec", "replicas") or 0)
        pods = owned_by(
            self._world.store.items(self._pods, namespace_of(workload)), uid_of(workload)
        )
        pods, failure = self._scale_pods(rt, workload, pods, desired)
        ready = sum(1 for p in pods if is_ready(p))
        self._write_status(rt, workload, (len(pods), ready), failure)
        self._record_readiness(rt, workload, desired, ready)

    def _scale_pods(
        self, rt: ResourceType, workload: Obj, pods: list[Obj], desired: int
    ) -> tuple[list[Obj], str | None]:
        """The pods after scaling, and why a pod could not be made (None: none failed)."""
        while len(pods) < desired:
            body = self._pod_body(rt, workload, pods)
            try:
                pods.append(self._world.api.create(self._pods, namespace_of(workload), body))
            except ApiError as error:
                return pods, self._failed_create(rt, workload, body, error)
        extras = sorted(pods, key=_removal_order, reverse=True)[: max(len(pods) - desired, 0)]
        for pod in extras:
            self._world.store.remove(self._pods, namespace_of(pod), name_of(pod))
        return [p for p in pods if p not in extras], None

    def _failed_create(self, rt: ResourceType, workload: Obj, pod: Obj, error: ApiError) -> str:
        """Record the refusal as the ReplicaSet's pod control (``Error creating: ...``) or
        the StatefulSet controller's recordPodEvent words it; the error's message."""
        if rt.kind == "StatefulSet":
            said = f"create Pod {name_of(pod)} in StatefulSet {name_of(workload)} failed error: "
            component = "statefulset-controller"
        else:
            said, component = "Error creating: ", "replicaset-controller"
        self._events.warn(component, workload, FAILED_CREATE, said + error.message)
        return error.message

    def _pod_body(self, rt: ResourceType, workload: Obj, pods: list[Obj]) -> Obj:
        revision = self._hashes.of(dig(workload, "spec", "template"))
        name = name_of(workload)
        if rt.kind != "StatefulSet":
            labels = {"pod-template-hash": revision}
            return pod_from_template(workload, labels, generate_name=f"{name}-{revision}-")
        taken = {name_of(p) for p in pods}
        ordinal = next(i for i in range(len(pods) + 1) if f"{name}-{i}" not in taken)
        pod_name = f"{name}-{ordinal}"
        labels = {
            "controller-revision-hash": f"{name}-{revision}",
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        return pod_from_template(workload, labels, name=pod_name)

    def _write_status(
        self, rt: ResourceType, workload: Obj, counts: tuple[int, int], failure: str | None
    ) -> None:
        count, ready = counts
        status = self._status(rt, workload, count, ready)
        if failure is not None and rt.kind == "Deployment":
            status["conditions"].append(
                self._condition(workload, "ReplicaFailure", True, FAILED_CREATE, failure)
            )
        if status == workload.get("status"):
            return

        def write(found: Obj) -> None:
            found["status"] = status

        self._world.store.mutate(rt, namespace_of(workload), name_of(workload), write)

    def _status(self, rt: ResourceType, workload: Obj, count: int, ready: int) -> Obj:
        status: Obj = {
            "observedGeneration": int(workload["metadata"].get("generation", 1)),
            "replicas": count,
            "updatedReplicas": count,
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if rt.kind == "StatefulSet":
            revision = f"{name_of(workload)}-{self._hashes.of(dig(workload, 'spec', 'template'))}"
            status.update(
                currentReplicas=count,
                currentRevision=revision,
                updateRevision=revision,
                collisionCount=0,
            )
            return status
        if count > ready:
            status["unavailableReplicas"] = count - ready
        status["conditions"] = self._conditions(workload, ready)
        return status

    def _conditions(self, workload: Obj, ready: int) -> list[Obj]:
        desired = int(dig(workload, "spec", "replicas") or 0)
        available = ready >= desired - _max_unavailable(workload, desired)
        rs_name = f"{name_of(workload)}-{self._hashes.of(dig(workload, 'spec', 'template'))}"
        settled = ready >= desired
        return [
            self._condition(
                workload,
                "Available",
                available,
                "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            ),
            self._condition(
                workload,
                "Progressing",
                True,
                "NewReplicaSetAvailable" if settled else "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" has successfully progressed.'
                if settled
                else f'ReplicaSet "{rs_name}" is progressing.',
            ),
        ]

    def _condition(self, workload: Obj, kind: str, ok: bool, reason: str, message: str) -> Obj:
        """A condition; its timestamps stay put while status and reason do not change."""
        status = "True" if ok else "False"
        conditions = dig(workload, "status", "conditions") or []
        old: Obj = next((c for c in conditions if c.get("type") == kind), {})
        now = rfc3339(self._world.clock.now())
        same = old.get("status") == status and old.get("reason") == reason
        return {
            "type": kind,
            "status": status,
            "lastUpdateTime": old.get("lastUpdateTime", now) if same else now,
            "lastTransitionTime": old.get("lastTransitionTime", now)
            if old.get("status") == status
            else now,
            "reason": reason,
            "message": message,
        }

    def _record_readiness(self, rt: ResourceType, workload: Obj, desired: int, ready: int) -> None:
        uid = uid_of(workload)
        now_ready = ready == desired
        if now_ready and not self._was_ready.get(uid, False):
            self._world.truth.record_ready(
                WorkloadReady(
                    rt.kind,
                    namespace_of(workload),
                    name_of(workload),
                    desired,
                    self._world.clock.now(),
                )
            )
        self._was_ready[uid] = now_ready


def _removal_order(pod: Obj) -> tuple[str, int, str]:
    """Newest first for Deployments; highest ordinal first for StatefulSets."""
    index = labels_of(pod).get("apps.kubernetes.io/pod-index", "-1")
    return (str(pod["metadata"].get("creationTimestamp", "")), int(index), name_of(pod))
