"""The simulated Job controller: a pod per attempt, retries with back-off, status from pods.

A new Job gets ``startTime``, ``active: 1`` and a pod built from its template. When its pod
ends (the kubelet decides when, and how), a success completes the Job: ``succeeded``,
``completionTime`` and the conditions ``SuccessCriteriaMet`` + ``Complete``. A failure is
counted in ``failed`` and, while the failures do not exceed ``spec.backoffLimit`` (6 unless
set), a new pod is made after the real controller's back-off: ``job_backoff_s`` after the
first failure, doubling with each one, at most ``job_backoff_max_s``. Past the limit the Job
gets ``FailureTarget`` + ``Failed`` with reason ``BackoffLimitExceeded``; its failed pods stay,
with their logs, as in a cluster. A Job still running after ``spec.activeDeadlineSeconds``
(counted from its start) fails with reason ``DeadlineExceeded`` and its running pod is
deleted. The moment a Job finishes is recorded as ground truth, with its number of pods. A
pod the API refuses (its ServiceAccount does not exist) is a Warning ``FailedCreate`` event on
the Job, and is tried again on the next pass; the Job has started all the same (``startTime``
is set before its first pod is made, as the real controller does), so its
``activeDeadlineSeconds`` still ends it.

Approximations: no parallelism or completions above 1, no pod failure policy, and
``restartPolicy: OnFailure`` retries in new pods as ``Never`` does (a real kubelet restarts
the container in the same pod).
This module must not change pod status (that is the kubelet's).
"""

from __future__ import annotations

from dataclasses import dataclass

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, name_of, namespace_of, rfc3339, uid_of
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.events import FAILED_CREATE, Recorder
from drill.sandbox.kube.controllers.truth import JobFinished
from drill.sandbox.kube.controllers.workloads import is_ready, owned_by, pod_from_template

_DONE = ("Complete", "Failed")
_ENDED = ("Succeeded", "Failed")


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


@dataclass(frozen=True)
class _Failures:
    """How many of a Job's pods have failed, and when the controller saw the latest one."""

    count: int
    seen_at: float


class JobController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._jobs = world.rt("batch/v1", "Job")
        self._pods = world.rt("v1", "Pod")
        self._started: dict[str, float] = {}  # uid -> when it started (clock)
        self._failures: dict[str, _Failures] = {}  # uid -> its failed pods so far
        self._events = Recorder(world)

    def tick(self, now: float) -> None:
        live = set()
        for job in self._world.store.items(self._jobs):
            live.add(uid_of(job))
            if not is_finished(job) and not dig(job, "metadata", "deletionTimestamp"):
                self._reconcile(job, now)
        self._started = {uid: at for uid, at in self._started.items() if uid in live}
        self._failures = {uid: f for uid, f in self._failures.items() if uid in live}

    def _reconcile(self, job: Obj, now: float) -> None:
        pods = owned_by(self._world.store.items(self._pods, namespace_of(job)), uid_of(job))
        if not pods and dig(job, "status", "startTime") is None:
            self._start(job, now)
            return
        phases = [dig(p, "status", "phase") for p in pods]
        failed = phases.count("Failed")
        running = [p for p, phase in zip(pods, phases, strict=True) if phase not in _ENDED]
        if "Succeeded" in phases:
            self._finish(job, SUCCEEDED, failed, len(pods))
        elif self._past_deadline(job, now):
            for pod in running:
                self._world.store.remove(self._pods, namespace_of(pod), name_of(pod))
            self._finish(job, DEADLINE, failed + len(running), len(pods))
        elif failed > _backoff_limit(job):
            self._finish(job, BACKOFF, failed, len(pods))
        elif running:
            ready = sum(1 for p in running if is_ready(p))
            counts = {"active": len(running), "ready": ready, "failed": failed or None}
            self._set_status(job, counts)
        else:
            self._retry_after_backoff(job, failed, now)

    def _retry_after_backoff(self, job: Obj, failed: int, now: float) -> None:
        """After a failure, a new pod once the back-off has passed; until then none is active."""
        uid = uid_of(job)
        seen = self._failures.get(uid)
        if seen is None or seen.count != failed:
            seen = self._failures[uid] = _Failures(failed, now)
            self._set_status(job, {"active": None, "ready": 0, "failed": failed or None})
        profile = self._world.profile
        delay_s = min(profile.job_backoff_s * 2 ** max(failed - 1, 0), profile.job_backoff_max_s)
        if failed == 0 or now - seen.seen_at >= delay_s:
            self._create_pod(job)

    def _past_deadline(self, job: Obj, now: float) -> bool:
        deadline_s = dig(job, "spec", "activeDeadlineSeconds")
        started = self._started.get(uid_of(job))
        return isinstance(deadline_s, int) and started is not None and now - started >= deadline_s

    def _start(self, job: Obj, now: float) -> None:
        """startTime first, as the real controller sets it before making a pod: a Job whose
        pods are refused still runs out its activeDeadlineSeconds."""
        self._started[uid_of(job)] = now
        started = {"startTime": rfc3339(self._world.clock.now()), "active": None, "ready": 0}
        self._set_status(job, {**started, "terminating": 0, "uncountedTerminatedPods": {}})
        self._create_pod(job)

    def _create_pod(self, job: Obj) -> bool:
        body = pod_from_template(job, {}, generate_name=f"{name_of(job)}-")
        try:
            self._world.api.create(self._pods, namespace_of(job), body)
        except ApiError as error:
            # Refused (its ServiceAccount is missing; its namespace is going): the pod control's
            # event, and another try on the next pass.
            self._events.warn(
                "job-controller", job, FAILED_CREATE, f"Error creating: {error.message}"
            )
            return False
        self._set_status(job, {"active": 1})
        return True

    def _finish(self, job: Obj, verdict: _Verdict, failed: int, pods: int) -> None:
        moment = self._world.clock.now()
        outcome = _outcome(verdict, rfc3339(moment), failed)
        self._set_status(job, {"active": None, "ready": 0, **outcome})
        finished = JobFinished(namespace_of(job), name_of(job), verdict.succeeded, moment, pods)
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


def _backoff_limit(job: Obj) -> int:
    limit = dig(job, "spec", "backoffLimit")
    return limit if isinstance(limit, int) else 6


def _outcome(verdict: _Verdict, now: str, failed: int) -> Obj:
    conditions = [
        _condition(kind, verdict.reason, verdict.message, now)
        for kind in (verdict.target, verdict.verdict)
    ]
    if verdict.succeeded:
        counts = {"succeeded": 1, "failed": failed or None}
        return {**counts, "completionTime": now, "conditions": conditions}
    return {"failed": failed, "conditions": conditions}


def _condition(kind: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }
