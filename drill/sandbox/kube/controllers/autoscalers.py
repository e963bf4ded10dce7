"""The simulated HorizontalPodAutoscaler controller, without metrics.

Each pass holds every autoscaler's target (a Deployment or StatefulSet) within its bounds, as
the real controller does before it looks at a metric: more replicas than ``maxReplicas`` are
scaled down to it, fewer than ``minReplicas`` up to it, and a target scaled to 0 is left alone
(scaling is disabled then). Within the bounds the count stays as it is: the sandbox has no
metrics server, so ``ScalingActive`` is False, as in a cluster without one. A rescale is a
``SuccessfulRescale`` event on the autoscaler, worded as the real one's.

Approximations: the real controller syncs every 15 s; this one on every pass, so a count out
of bounds is put back at once.
This module must not touch pods (the workload controller's) or read the wall clock.
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, name_of, namespace_of, rfc3339
from drill.sandbox.kube.api.resources import ResourceType
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.events import Recorder

COMPONENT = "horizontal-pod-autoscaler"
_TARGET_KINDS = ("Deployment", "StatefulSet")
Condition = tuple[str, str, str, str]  # type, status, reason, message


class AutoscalerController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._autoscalers = world.rt("autoscaling/v2", "HorizontalPodAutoscaler")
        self._events = Recorder(world)

    def tick(self, now: float) -> None:
        del now  # the bounds hold at every pass; nothing here is timed
        for autoscaler in self._world.store.items(self._autoscalers):
            with contextlib.suppress(ApiError):  # it or its target went meanwhile
                self._hold(autoscaler)

    def _hold(self, autoscaler: Obj) -> None:
        spec = autoscaler.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        kind = str(target.get("kind", ""))
        rt = self._world.rt("apps/v1", kind) if kind in _TARGET_KINDS else None
        found = None
        if rt is not None:
            found = self._world.store.read(rt, namespace_of(autoscaler), str(target.get("name")))
        if rt is None or found is None:
            self._write_status(autoscaler, 0, 0, _unable(target))
            return
        current = int(dig(found, "spec", "replicas") or 0)
        least, most = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
        wanted = current if current == 0 else min(max(current, least), most)
        if wanted != current:
            self._rescale(rt, found, wanted)
            why = "above Spec.MaxReplicas" if current > most else "below Spec.MinReplicas"
            said = f"New size: {wanted}; reason: Current number of replicas {why}"
            self._events.normal(COMPONENT, autoscaler, "SuccessfulRescale", said)
        self._write_status(autoscaler, current, wanted, _conditions(current, least, most))

    def _rescale(self, rt: ResourceType, workload: Obj, replicas: int) -> None:
        def write(found: Obj) -> None:
            found.setdefault("spec", {})["replicas"] = replicas

        self._world.store.mutate(rt, namespace_of(workload), name_of(workload), write)

    def _write_status(
        self, autoscaler: Obj, current: int, desired: int, conditions: list[Condition]
    ) -> None:
        now = rfc3339(self._world.clock.now())
        before = {c.get("type"): c for c in dig(autoscaler, "status", "conditions") or []}
        status: Obj = {
            "currentReplicas": current,
            "desiredReplicas": desired,
            "conditions": [
                _condition(kind, ok, reason, message, before.get(kind), now)
                for kind, ok, reason, message in conditions
            ],
        }
        last_scale = dig(autoscaler, "status", "lastScaleTime")
        if desired != current:
            status["lastScaleTime"] = now
        elif last_scale:
            status["lastScaleTime"] = last_scale

        def write(found: Obj) -> None:
            found["status"] = status

        self._world.store.mutate(
            self._autoscalers, namespace_of(autoscaler), name_of(autoscaler), write
        )


def _unable(target: Obj) -> list[Condition]:
    kind, name = str(target.get("kind", "")).lower(), target.get("name", "")
    said = (
        "the HPA controller was unable to get the target's current scale: "
        f'{kind}s.apps "{name}" not found'
    )
    return [("AbleToScale", "False", "FailedGetScale", said)]


# The real controller's words (pkg/controller/podautoscaler).
_DISABLED = "scaling is disabled since the replica count of the target is zero"
_NO_METRICS = (
    "the HPA was unable to compute the replica count: no metrics returned from resource metrics API"
)
_TOO_MANY = "the desired replica count is more than the maximum replica count"
_TOO_FEW = "the desired replica count is less than the minimum replica count"
_IN_RANGE = "the desired count is within the acceptable range"


def _conditions(current: int, least: int, most: int) -> list[Condition]:
    if current == 0:
        active = ("ScalingDisabled", _DISABLED)
    else:
        active = ("FailedGetResourceMetric", _NO_METRICS)
    if current > most:
        limited = ("True", "TooManyReplicas", _TOO_MANY)
    elif 0 < current < least:
        limited = ("True", "TooFewReplicas", _TOO_FEW)
    else:
        limited = ("False", "DesiredWithinRange", _IN_RANGE)
    return [
        ("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"),
        ("ScalingActive", "False", *active),
        ("ScalingLimited", *limited),
    ]


def _condition(kind: str, ok: str, reason: str, message: str, before: Obj | None, now: str) -> Obj:
    """A condition whose lastTransitionTime moves only when its status does."""
    kept = before is not None and before.get("status") == ok
    return {
        "type": kind,
        "status": ok,
        "lastTransitionTime": before.get("lastTransitionTime", now) if kept and before else now,
        "reason": reason,
        "message": message,
    }
