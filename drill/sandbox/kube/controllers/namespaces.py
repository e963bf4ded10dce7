"""The simulated namespace controller: empties Terminating namespaces, then lets them go.

A deleted namespace is Terminating (``deletionTimestamp`` set, ``status.phase: Terminating``;
new objects in it are refused meanwhile, by the API's verbs) for ``namespace_delete_s``. As in
a cluster, its content goes first: when the controller sees it Terminating, every object in it
is deleted (a DELETED event each) except its pods, which are shut down gracefully: marked
with ``deletionTimestamp`` and kept (running, no longer Ready) until the time is up, as pods'
termination grace is what keeps a real namespace Terminating. Meanwhile the namespace carries
the conditions the real controller sets (``NamespaceContentRemaining`` says how many pods are
left). When the time is up the pods go, the ``kubernetes`` finalizer is removed from
``spec.finalizers`` (a MODIFIED event) and the namespace is deleted; the moment is recorded as
ground truth.

This module must not refuse requests; it only cleans up.
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, name_of, parse_time, rfc3339
from drill.sandbox.kube.controllers.context import World
from drill.sandbox.kube.controllers.truth import NamespaceGone

GRACE_PERIOD_S = 30  # what the pods of a deleted namespace are given, as by default


class NamespaceController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._namespaces = world.rt("v1", "Namespace")
        self._pods = world.rt("v1", "Pod")
        self._due: dict[str, float] = {}

    def tick(self, now: float) -> None:
        terminating = [
            ns
            for ns in self._world.store.items(self._namespaces)
            if dig(ns, "status", "phase") == "Terminating"
        ]
        for namespace in terminating:
            name = name_of(namespace)
            if name not in self._due:
                self._due[name] = now + self._world.profile.namespace_delete_s
                self._delete_content(name)
            elif now >= self._due[name]:
                self._remove(namespace)
        names = {name_of(ns) for ns in terminating}
        self._due = {k: v for k, v in self._due.items() if k in names}

    def _delete_content(self, namespace: str) -> None:
        store = self._world.store
        stamp = rfc3339(self._world.clock.now())

        def shut_down(pod: Obj) -> None:
            pod["metadata"].setdefault("deletionTimestamp", stamp)
            pod["metadata"].setdefault("deletionGracePeriodSeconds", GRACE_PERIOD_S)

        with store.lock:
            for rt in self._world.api.registry.resources:
                if not rt.namespaced:
                    continue
                for obj in store.items(rt, namespace):
                    if rt is self._pods:
                        store.mutate(rt, namespace, name_of(obj), shut_down)
                    else:
                        store.remove(rt, namespace, name_of(obj))
        self._set_conditions(namespace, len(store.items(self._pods, namespace)), stamp)

    def _set_conditions(self, namespace: str, pods_left: int, now: str) -> None:
        conditions = _conditions(pods_left, now)

        def write(found: Obj) -> None:
            found.setdefault("status", {})["conditions"] = conditions

        self._world.store.mutate(self._namespaces, "", namespace, write)

    def _remove(self, namespace: Obj) -> None:
        name = name_of(namespace)
        store = self._world.store
        with store.lock:
            for pod in store.items(self._pods, name):
                store.remove(self._pods, name, name_of(pod))
            self._set_conditions(name, 0, rfc3339(self._world.clock.now()))

            def finalize(found: Obj) -> None:
                found.setdefault("spec", {})["finalizers"] = []

            with contextlib.suppress(ApiError):  # already gone is fine
                store.mutate(self._namespaces, "", name, finalize)
                store.remove(self._namespaces, "", name)
        deleted_at = str(dig(namespace, "metadata", "deletionTimestamp") or "")
        gone = NamespaceGone(name, parse_time(deleted_at), self._world.clock.now())
        self._world.truth.record_namespace_gone(gone)


def _conditions(pods_left: int, now: str) -> list[Obj]:
    """The real controller's deletion conditions: all is well but for the pods left."""
    remaining = (
        (
            True,
            "SomeResourcesRemain",
            f"Some resources are remaining: pods. has {pods_left} resource instances",
        )
        if pods_left
        else (False, "ContentRemoved", "All content successfully removed")
    )
    found = [
        (
            "NamespaceDeletionDiscoveryFailure",
            False,
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            False,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        (
            "NamespaceDeletionContentFailure",
            False,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        ("NamespaceContentRemaining", *remaining),
        (
            "NamespaceFinalizersRemaining",
            False,
            "ContentHasNoFinalizers",
            "All content-preserving finalizers finished",
        ),
    ]
    return [
        {
            "type": kind,
            "status": "True" if status else "False",
            "reason": reason,
            "message": message,
            "lastTransitionTime": now,
        }
        for kind, status, reason, message in found
    ]
