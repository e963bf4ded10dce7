"""The simulated Deployment and StatefulSet controllers.

Each pass brings the number of pods a workload owns to ``spec.replicas`` (creating pods from
the template, deleting the newest or highest-ordinal extras; a rollout may surge above it, see
below) and derives the workload's status from its pods: ``replicas``, ``updatedReplicas``,
``readyReplicas``, ``availableReplicas``, ``observedGeneration``, and for Deployments the
``Available`` and ``Progressing`` conditions (Available uses the real rule: at least replicas
- maxUnavailable available). A pod is available once it has been ready for the workload's
``minReadySeconds`` (a pass is run then, however still the store). The kubelet decides when
pods become ready, so a workload is ready ``ready_after_s`` after its pods were created. Each
time a workload comes to exactly its desired count of pods, all of the current template and
ready, the moment is recorded as ground truth. A pod the API refuses (admission: a
ServiceAccount that does not exist) is not made, so the workload never gets ready: the refusal
is a Warning ``FailedCreate`` event, worded as the ReplicaSet's or StatefulSet's controller
words it, and for a Deployment its ``ReplicaFailure`` condition, as the real one copies it from
its ReplicaSet; the next pass tries again.

A changed template rolls the pods as the strategy says. A Deployment's RollingUpdate makes
new pods up to maxSurge above the desired count and deletes old ones (unready first) only while
``desired - maxUnavailable`` stay ready; Recreate deletes every old pod first. A StatefulSet's
RollingUpdate replaces one pod at a time, highest ordinal first, down to its partition, and only
while every pod is ready; OnDelete replaces none. Scaling a StatefulSet whose
``podManagementPolicy`` is ``OrderedReady`` (the default) goes one pod at a time too: ordinal
N is made once 0..N-1 are ready, and a scale down removes one pod a pass, highest first;
``Parallel`` makes and removes them all at once. ``updatedReplicas`` counts the pods of the
current template, and a StatefulSet's ``currentRevision`` stays the older one until all run it.

A paused Deployment (``spec.paused``) rolls nothing out: it makes no pod of a template that
has none (so one restored or created paused has no pods) and retires no old pod; its
``Progressing`` condition is Unknown, ``DeploymentPaused``, then ``DeploymentResumed``.

A Deployment's ``Progressing`` condition is renewed at each step of a rollout and turns False
with ``ProgressDeadlineExceeded`` once ``progressDeadlineSeconds`` pass without one (a pass is
run then, however still the store), as `kubectl rollout status` expects.

Approximations: Deployment pods are owned by the Deployment directly (no ReplicaSets, so their
events are the Deployment's and `kubectl rollout history` has nothing to show), StatefulSets
have no conditions (as in Kubernetes).
This module must not change pod status (that is the kubelet's).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from drill.sandbox.kube.api.defaults import pod_spec
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import (
    Obj,
    clone,
    dig,
    labels_of,
    name_of,
    namespace_of,
    parse_time,
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
    """Kubernetes' rule for the Available condition: 0 unless RollingUpdate."""
    if dig(workload, "spec", "strategy", "type") != "RollingUpdate" or desired == 0:
        return 0
    return _fenceposts(workload, desired)[1]


# The Progressing condition's reasons (the deployment controller's).
PROGRESS_DONE, PROGRESSING, TIMED_OUT, PAUSED, RESUMED = (
    "NewReplicaSetAvailable",
    "ReplicaSetUpdated",
    "ProgressDeadlineExceeded",
    "DeploymentPaused",
    "DeploymentResumed",
)
TEMPLATE_HASH_LABEL = "pod-template-hash"  # a Deployment pod's template revision
REVISION_LABEL = "controller-revision-hash"  # a StatefulSet pod's


@dataclass(frozen=True)
class _Counts:
    """A workload's pods as its status counts them."""

    pods: int  # of every template
    updated: int  # of the current template
    ready: int  # of every template
    updated_ready: int
    available: int  # ready for at least minReadySeconds, of every template
    older_revision: str  # the revision label of a pod of an earlier template ("": none)

    @classmethod
    def of(
        cls,
        pods: list[Obj],
        revision_of: Callable[[Obj], str],
        revision: str,
        available_by: datetime,
    ) -> _Counts:
        """``available_by``: a pod ready since then (or before) is available."""
        current = [p for p in pods if revision_of(p) == revision]
        older = [p for p in pods if revision_of(p) != revision]
        return cls(
            pods=len(pods),
            updated=len(current),
            ready=sum(1 for p in pods if is_ready(p)),
            updated_ready=sum(1 for p in current if is_ready(p)),
            available=sum(1 for p in pods if (since := ready_since(p)) and since <= available_by),
            older_revision=revision_of(older[0]) if older else "",
        )

    def rolled_out(self, desired: int) -> bool:
        """Exactly the desired pods, all of the current template and ready: serving."""
        return self.pods == self.updated == self.updated_ready == desired

    def complete(self, desired: int) -> bool:
        """Rolled out, and every pod available: the rollout is over, as the controller says."""
        return self.rolled_out(desired) and self.available >= desired


def ready_since(pod: Obj) -> datetime | None:
    """When the pod last became Ready; None while it is not."""
    for condition in dig(pod, "status", "conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return parse_time(condition.get("lastTransitionTime"))
    return None


def _revision_of(rt: ResourceType, pod: Obj) -> str:
    label = REVISION_LABEL if rt.kind == "StatefulSet" else TEMPLATE_HASH_LABEL
    return labels_of(pod).get(label, "")


def _ordinal(pod: Obj) -> int:
    return int(labels_of(pod).get("apps.kubernetes.io/pod-index", "-1"))


def _fenceposts(workload: Obj, desired: int) -> tuple[int, int]:
    """maxSurge (a percentage rounds up) and maxUnavailable (rounds down) of a RollingUpdate,
    as Kubernetes resolves them: when both come to 0, maxUnavailable is 1."""
    rolling = dig(workload, "spec", "strategy", "rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge", "25%"), desired, math.ceil)
    unavailable = _scaled(rolling.get("maxUnavailable", "25%"), desired, math.floor)
    return (surge, 1) if surge == 0 and unavailable == 0 else (surge, unavailable)


def _scaled(value: object, desired: int, rounding: Callable[[float], int]) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return rounding(desired * int(value[:-1]) / 100)
    return int(str(value or 0))


def _condition_now(workload: Obj, kind: str) -> Obj:
    """The workload's condition of that type as stored ({}: none)."""
    conditions = dig(workload, "status", "conditions") or []
    found: Obj = next((c for c in conditions if c.get("type") == kind), {})
    return found


def _stepped(workload: Obj, counts: _Counts) -> bool:
    """Whether the rollout moved since the status last written, by the deployment
    controller's measure: a spec not yet acted on, more updated, ready or available replicas,
    or fewer old ones."""
    before = workload.get("status") or {}
    if before.get("observedGeneration") != dig(workload, "metadata", "generation"):
        return True
    old_before = int(before.get("replicas") or 0) - int(before.get("updatedReplicas") or 0)
    return (
        counts.updated > int(before.get("updatedReplicas") or 0)
        or counts.ready > int(before.get("readyReplicas") or 0)
        or counts.available > int(before.get("availableReplicas") or 0)
        or counts.pods - counts.updated < old_before
    )


def _new_pods_wanted(workload: Obj, desired: int, current: int, old: int) -> int:
    """How many pods of the current template a Deployment should have now: all it wants once
    no old pod is left; Recreate none before that; RollingUpdate up to maxSurge above."""
    if old == 0:
        return desired
    if dig(workload, "spec", "strategy", "type") == "Recreate":
        return 0
    surge, _ = _fenceposts(workload, desired)
    return min(desired, max(current, desired + surge - old))


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
        # The soonest a progress deadline passes or a pod's minReadySeconds are up: a pass is
        # due then, written or not.
        self._wake_at: datetime | None = None

    def tick(self, now: float) -> None:
        del now  # readiness timing lives in the kubelet; this pass only reconciles counts
        written = self._world.store.current_rv()
        wake_due = self._wake_at is not None and self._world.clock.now() >= self._wake_at
        if written == self._passed_at_rv and self._skipped < RESYNC_PASSES and not wake_due:
            self._skipped += 1
            return
        self._passed_at_rv, self._skipped, self._wake_at = written, 0, None
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
        revision = self._revision(rt, workload)
        if rt.kind == "StatefulSet":
            pods = self._replace_one_statefulset_pod(workload, pods, revision, desired)
            pods, failure = self._scale_pods(rt, workload, pods, desired)
        else:
            current = [p for p in pods if _revision_of(rt, p) == revision]
            old = [p for p in pods if p not in current]
            if dig(workload, "spec", "paused"):
                current, old, failure = self._while_paused(rt, workload, current, old, desired)
            else:
                old = self._retire_old_deployment_pods(workload, old, current, desired)
                wanted = _new_pods_wanted(workload, desired, len(current), len(old))
                current, failure = self._scale_pods(rt, workload, current, wanted)
            pods = old + current
        min_ready = timedelta(seconds=int(dig(workload, "spec", "minReadySeconds") or 0))
        now = self._world.clock.now()
        counts = _Counts.of(pods, lambda pod: _revision_of(rt, pod), revision, now - min_ready)
        self._wake_when_available(pods, min_ready, now)
        self._write_status(rt, workload, counts, failure)
        self._record_readiness(rt, workload, desired, counts)

    def _while_paused(
        self, rt: ResourceType, workload: Obj, current: list[Obj], old: list[Obj], desired: int
    ) -> tuple[list[Obj], list[Obj], str | None]:
        """A paused Deployment rolls nothing out: no pod of a template that has none yet (a
        paused Deployment restored or created afresh has no pods at all) and no old pod
        retired. Only the count changes: the current template's pods, where there are some,
        are scaled, and extra old ones removed."""
        if not current:
            return current, self._deleted(old, len(old) - desired), None
        scaled, failure = self._scale_pods(rt, workload, current, max(desired - len(old), 0))
        return scaled, old, failure

    def _wake_when_available(self, pods: list[Obj], min_ready: timedelta, now: datetime) -> None:
        """A pass is due when a ready pod's minReadySeconds are up, store written or not."""
        for pod in pods:
            since = ready_since(pod)
            if since is not None and since + min_ready > now:
                self._wake(since + min_ready)

    def _wake(self, at: datetime) -> None:
        self._wake_at = at if self._wake_at is None else min(self._wake_at, at)

    def _revision(self, rt: ResourceType, workload: Obj) -> str:
        """The revision label's value for pods of the workload's template as it is now."""
        revision = self._hashes.of(dig(workload, "spec", "template"))
        return f"{name_of(workload)}-{revision}" if rt.kind == "StatefulSet" else revision

    def _retire_old_deployment_pods(
        self, workload: Obj, old: list[Obj], current: list[Obj], desired: int
    ) -> list[Obj]:
        """Deletes the pods of earlier templates the strategy lets go now; those left.

        Recreate deletes them all at once. RollingUpdate keeps ``desired - maxUnavailable``
        pods available: unready old pods go first, then ready ones while enough stay ready,
        as the deployment controller's scale-down of old ReplicaSets does."""
        if not old:
            return old
        if dig(workload, "spec", "strategy", "type") == "Recreate":
            return self._deleted(old, len(old))
        _, max_unavailable = _fenceposts(workload, desired)
        least_available = desired - max_unavailable
        ready_current = sum(1 for p in current if is_ready(p))
        unready_old = [p for p in old if not is_ready(p)]
        ready_old = [p for p in old if is_ready(p)]
        budget = len(old) + ready_current - least_available
        unready_left = self._deleted(unready_old, budget)
        budget -= len(unready_old) - len(unready_left)
        budget = min(budget, len(ready_old) + ready_current - least_available)
        return unready_left + self._deleted(ready_old, budget)

    def _replace_one_statefulset_pod(
        self, workload: Obj, pods: list[Obj], revision: str, desired: int
    ) -> list[Obj]:
        """A RollingUpdate deletes one pod of an earlier template at a time, the highest
        ordinal at or above the partition first, and only while every pod is ready; the scale
        step then makes it again from the current template. OnDelete leaves that to people."""
        strategy = dig(workload, "spec", "updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return pods
        if len(pods) != desired or not all(is_ready(p) for p in pods):
            return pods
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        stale = [
            p
            for p in pods
            if labels_of(p).get(REVISION_LABEL) != revision and _ordinal(p) >= partition
        ]
        if not stale:
            return pods
        replaced = max(stale, key=_ordinal)
        self._world.store.remove(self._pods, namespace_of(replaced), name_of(replaced))
        return [p for p in pods if p is not replaced]

    def _deleted(self, pods: list[Obj], count: int) -> list[Obj]:
        """Deletes ``count`` of ``pods``, newest (or highest ordinal) first; the pods left."""
        doomed = sorted(pods, key=_removal_order, reverse=True)[: max(count, 0)]
        for pod in doomed:
            self._world.store.remove(self._pods, namespace_of(pod), name_of(pod))
        return [p for p in pods if not any(p is d for d in doomed)]

    def _scale_pods(
        self, rt: ResourceType, workload: Obj, pods: list[Obj], desired: int
    ) -> tuple[list[Obj], str | None]:
        """The pods after scaling, and why a pod could not be made (None: none failed).

        A StatefulSet whose podManagementPolicy is OrderedReady (the default) makes the next
        ordinal only once every earlier pod is ready, and removes one pod a pass."""
        ordered = (
            rt.kind == "StatefulSet" and dig(workload, "spec", "podManagementPolicy") != "Parallel"
        )
        while len(pods) < desired:
            if ordered and not all(is_ready(p) for p in pods):
                break
            body = self._pod_body(rt, workload, pods)
            try:
                pods.append(self._world.api.create(self._pods, namespace_of(workload), body))
            except ApiError as error:
                return pods, self._failed_create(rt, workload, body, error)
        extra = len(pods) - desired
        return self._deleted(pods, min(extra, 1) if ordered else extra), None

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
        revision = self._revision(rt, workload)
        name = name_of(workload)
        if rt.kind != "StatefulSet":
            labels = {TEMPLATE_HASH_LABEL: revision}
            return pod_from_template(workload, labels, generate_name=f"{name}-{revision}-")
        taken = {name_of(p) for p in pods}
        ordinal = next(i for i in range(len(pods) + 1) if f"{name}-{i}" not in taken)
        pod_name = f"{name}-{ordinal}"
        labels = {
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        return pod_from_template(workload, labels, name=pod_name)

    def _write_status(
        self, rt: ResourceType, workload: Obj, counts: _Counts, failure: str | None
    ) -> None:
        status = self._status(rt, workload, counts)
        if failure is not None and rt.kind == "Deployment":
            status["conditions"].append(
                self._condition(workload, "ReplicaFailure", True, FAILED_CREATE, failure)
            )
        if status == workload.get("status"):
            return

        def write(found: Obj) -> None:
            found["status"] = status

        self._world.store.mutate(rt, namespace_of(workload), name_of(workload), write)

    def _status(self, rt: ResourceType, workload: Obj, counts: _Counts) -> Obj:
        status: Obj = {
            "observedGeneration": int(workload["metadata"].get("generation", 1)),
            "replicas": counts.pods,
            "updatedReplicas": counts.updated,
            "readyReplicas": counts.ready,
            "availableReplicas": counts.available,
        }
        if rt.kind == "StatefulSet":
            revision = self._revision(rt, workload)
            # The current revision stays the earlier one until every pod runs the update.
            current = revision if counts.updated == counts.pods else counts.older_revision
            status.update(
                currentReplicas=counts.pods - counts.updated
                if current != revision
                else counts.pods,
                currentRevision=current,
                updateRevision=revision,
                collisionCount=0,
            )
            return status
        if counts.pods > counts.available:
            status["unavailableReplicas"] = counts.pods - counts.available
        status["conditions"] = self._conditions(workload, counts)
        return status

    def _conditions(self, workload: Obj, counts: _Counts) -> list[Obj]:
        desired = int(dig(workload, "spec", "replicas") or 0)
        available = counts.available >= desired - _max_unavailable(workload, desired)
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
            self._progressing(workload, counts, desired),
        ]

    def _progressing(self, workload: Obj, counts: _Counts, desired: int) -> Obj:
        """The Progressing condition as the deployment controller keeps it: True while the
        rollout moves (its lastUpdateTime renewed at each step), False with
        ProgressDeadlineExceeded once progressDeadlineSeconds pass without a step."""
        rs_name = f"{name_of(workload)}-{self._hashes.of(dig(workload, 'spec', 'template'))}"
        if dig(workload, "spec", "paused"):
            return self._condition(workload, "Progressing", None, PAUSED, "Deployment is paused")
        if _condition_now(workload, "Progressing").get("reason") == PAUSED:
            return self._condition(workload, "Progressing", None, RESUMED, "Deployment is resumed")
        if counts.complete(desired):
            said = f'ReplicaSet "{rs_name}" has successfully progressed.'
            return self._condition(workload, "Progressing", True, PROGRESS_DONE, said)
        if _stepped(workload, counts):
            said = f'ReplicaSet "{rs_name}" is progressing.'
            return self._condition(workload, "Progressing", True, PROGRESSING, said, renew=True)
        if self._past_deadline(workload):
            said = f'ReplicaSet "{rs_name}" has timed out progressing.'
            return self._condition(workload, "Progressing", False, TIMED_OUT, said)
        said = f'ReplicaSet "{rs_name}" is progressing.'
        return self._condition(workload, "Progressing", True, PROGRESSING, said)

    def _past_deadline(self, workload: Obj) -> bool:
        deadline = dig(workload, "spec", "progressDeadlineSeconds")
        last = _condition_now(workload, "Progressing")
        if last.get("reason") == TIMED_OUT:
            return True  # it stays timed out until the rollout moves again
        since = parse_time(last.get("lastUpdateTime"))
        if deadline is None or since is None:
            return False
        due = since + timedelta(seconds=int(deadline))
        if due >= self._world.clock.now():
            self._wake(due)
            return False
        return True

    def _condition(
        self,
        workload: Obj,
        kind: str,
        ok: bool | None,
        reason: str,
        message: str,
        renew: bool = False,
    ) -> Obj:
        """A condition (``ok`` None: status Unknown); its timestamps stay put while status and
        reason do not change (and ``renew`` is not asked: a Progressing step renews
        lastUpdateTime)."""
        status = "Unknown" if ok is None else "True" if ok else "False"
        old = _condition_now(workload, kind)
        now = rfc3339(self._world.clock.now())
        same = old.get("status") == status and old.get("reason") == reason and not renew
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

    def _record_readiness(
        self, rt: ResourceType, workload: Obj, desired: int, counts: _Counts
    ) -> None:
        uid = uid_of(workload)
        now_ready = counts.rolled_out(desired)
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
    return (str(pod["metadata"].get("creationTimestamp", "")), _ordinal(pod), name_of(pod))
