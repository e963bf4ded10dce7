"""Events the simulated controllers record, as their EventRecorders do (``kubectl describe``
and ``kubectl get events`` show them): a Warning ``FailedCreate`` when a pod cannot be made.

Each distinct (object, reason, message) is recorded once: a real recorder counts repeats, and
its controller backs off between them; here a pass that fails again the same way writes
nothing, so a failing workload does not keep the store (and every watch) busy. This module
must not decide when something failed; its callers do.
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, name_of, namespace_of, rfc3339, uid_of
from drill.sandbox.kube.controllers.context import World

FAILED_CREATE = "FailedCreate"
_REMEMBERED = 1000  # distinct events remembered, so a long-lived sandbox holds a bounded set


class Recorder:
    """Records Events on behalf of the controllers (each names itself: the event's source)."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._events = world.rt("v1", "Event")
        self._recorded: set[tuple[str, str, str]] = set()

    def warn(self, component: str, involved: Obj, reason: str, message: str) -> None:
        self._record("Warning", component, involved, reason, message)

    def normal(self, component: str, involved: Obj, reason: str, message: str) -> None:
        self._record("Normal", component, involved, reason, message)

    def _record(self, kind: str, component: str, involved: Obj, reason: str, message: str) -> None:
        key = (uid_of(involved), reason, message)
        if key in self._recorded:
            return
        if len(self._recorded) >= _REMEMBERED:
            self._recorded.clear()
        self._recorded.add(key)
        moment = self._world.clock.now()
        stamp = rfc3339(moment)
        body = {
            "metadata": {"name": f"{name_of(involved)}.{int(moment.timestamp() * 1e9):x}"},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion"),
                "kind": involved.get("kind"),
                "name": name_of(involved),
                "namespace": namespace_of(involved),
                "uid": uid_of(involved),
                "resourceVersion": involved["metadata"].get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": kind,
            "reportingComponent": component,
            "reportingInstance": "",
        }
        with contextlib.suppress(ApiError):  # its namespace is going: so is the event
            self._world.api.create(self._events, namespace_of(involved), body)
