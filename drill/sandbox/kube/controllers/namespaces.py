"""The simulated namespace controller: empties and removes namespaces that are Terminating.

A deleted namespace stays ``Terminating`` for ``namespace_delete_s`` (new objects in it are
refused meanwhile, by ``_api``); then every object in it is deleted, with a DELETED event
each, and finally the namespace itself. This module must not refuse requests; it only cleans up.
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import dig, name_of
from drill.sandbox.kube.controllers.context import World


class NamespaceController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._namespaces = world.rt("v1", "Namespace")
        self._due: dict[str, float] = {}

    def tick(self, now: float) -> None:
        terminating = [
            name_of(ns)
            for ns in self._world.store.items(self._namespaces)
            if dig(ns, "status", "phase") == "Terminating"
        ]
        for name in terminating:
            due = self._due.setdefault(name, now + self._world.profile.namespace_delete_s)
            if now >= due:
                self._remove(name)
        self._due = {k: v for k, v in self._due.items() if k in terminating}

    def _remove(self, namespace: str) -> None:
        store = self._world.store
        with store.lock:
            for rt in self._world.api.registry.resources:
                if rt.namespaced:
                    for obj in store.items(rt, namespace):
                        store.remove(rt, namespace, name_of(obj))
            with contextlib.suppress(ApiError):  # already gone is fine
                store.remove(self._namespaces, "", namespace)
