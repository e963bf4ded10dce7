"""The simulated Job controller: one pod per Job, and Job status derived from that pod.

A new Job gets ``startTime``, ``active: 1`` and a pod built from its template. When the pod
ends (the kubelet decides when, and whether it fails), the Job gets ``succeeded`` or
``failed``, ``completionTime`` (on success) and the conditions the real controller sets
(``SuccessCriteriaMet`` + ``Complete``, or ``FailureTarget`` + ``Failed`` with reason
``BackoffLimitExceeded``). A Job still running after ``spec.activeDeadlineSeconds`` fails
with reason ``DeadlineExceeded`` and its pod is deleted. The moment a Job finishes is recorded
as ground truth.

Approximation: one attempt only (no retries up to ``backoffLimit``, no parallelism).
This module must not change pod status (that is the kubelet's).
"""

from __future__ import annotations

from dataclasses import dataclass

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, name_of, namespace_of, rfc3339, uid_of
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.truth import JobFinished
from drill.sandbox.kube.controllers.workloads import is_ready, owned_by, pod_from_template

_DONE = ("Complete", "Failed")


@dataclass(frozen=True)
class _Verdict:
    """The conditions the real controller sets, in its order: the target, then the verdict."""

    succeeded: bool
    target: str
    verdict: str
    reason: str
    message: str


SUCCEEDED = _Verdict(
    True,
    "SuccessCriteriaMet",
    "Complete",
    "CompletionsReached",
    "Reached expected number of succeeded pods",
)
BACKOFF = _Verdict(
    False,
    "FailureTarget",
    "Failed",
    "BackoffLimitExceeded",
    "Job has reached the specified backoff limit",
)
DEADLINE = _Verdict(
    False,
    "FailureTarget",
    "Failed",
    "DeadlineExceeded",
    "Job was active longer than specified deadline",
)


def is_finished(job: Obj) -> bool:
    conditions = dig(job, "status", "conditions") or []
    return any(c.get("type") in _DONE and c.get("status") == "True" for c in conditions)


class JobController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._jobs = world.rt("batch/v1", "Job")
        self._pods = world.rt("v1", "Pod")
        self._started: dict[str, float] = {}  # uid -> when its pod was created (clock)

    def tick(self, now: float) -> None:
        live = set()
        for job in self._world.store.items(self._jobs):
            live.add(uid_of(job))
            if not is_finished(job) and not dig(job, "metadata", "deletionTimestamp"):
                self._reconcile(job, now)
        self._started = {uid: at for uid, at in self._started.items() if uid in live}

    def _reconcile(self, job: Obj, now: float) -> None:
        pods = owned_by(self._world.store.items(self._pods, namespace_of(job)), uid_of(job))
        if not pods and dig(job, "status", "startTime") is None:
            self._start(job, now)
            return
        phase = dig(pods[0], "status", "phase") if pods else None
        if phase in ("Succeeded", "Failed"):
            self._finish(job, SUCCEEDED if phase == "Succeeded" else BACKOFF)
        elif self._past_deadline(job, now):
            for pod in pods:
                self._world.store.remove(self._pods, namespace_of(pod), name_of(pod))
            self._finish(job, DEADLINE)
        elif pods:
            self._set_status(job, {"ready": 1 if is_ready(pods[0]) else 0})

    def _past_deadline(self, job: Obj, now: float) -> bool:
        deadline_s = dig(job, "spec", "activeDeadlineSeconds")
        started = self._started.get(uid_of(job))
        return isinstance(deadline_s, int) and started is not None and now - started >= deadline_s

    def _start(self, job: Obj, now: float) -> None:
        name = f"{name_of(job)}-{self._world.api.random_suffix()}"
        try:
            self._world.api.create(self._pods, namespace_of(job), pod_from_template(job, name, {}))
        except ApiError:
            return  # the namespace is going away; the job will go with it
        self._started[uid_of(job)] = now
        started = {"startTime": rfc3339(self._world.clock.now()), "active": 1, "ready": 0}
        self._set_status(job, {**started, "terminating": 0, "uncountedTerminatedPods": {}})

    def _finish(self, job: Obj, verdict: _Verdict) -> None:
        moment = self._world.clock.now()
        self._set_status(job, {"active": None, "ready": 0, **_outcome(verdict, rfc3339(moment))})
        finished = JobFinished(namespace_of(job), name_of(job), verdict.succeeded, moment)
        self._world.truth.record_job(finished)

    def _set_status(self, job: Obj, changes: Obj) -> None:
        """Merge ``changes`` into the Job's status; a None value removes the key."""

        def write(found: Obj) -> None:
            status = found.setdefault("status", {})
            for key, value in changes.items():
                if value is None:
                    status.pop(key, None)
                else:
                    status[key] = value

        self._world.store.mutate(self._jobs, namespace_of(job), name_of(job), write)


def _outcome(verdict: _Verdict, now: str) -> Obj:
    conditions = [
        _condition(kind, verdict.reason, verdict.message, now)
        for kind in (verdict.target, verdict.verdict)
    ]
    if verdict.succeeded:
        return {"succeeded": 1, "completionTime": now, "conditions": conditions}
    return {"failed": 1, "conditions": conditions}


def _condition(kind: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }
