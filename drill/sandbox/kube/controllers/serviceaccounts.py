"""The simulated ServiceAccount controller: every namespace has a ``default`` ServiceAccount.

As kube-controller-manager's ServiceAccountsController does, each pass makes ``default`` in
every namespace that lacks it and is not being deleted: a new namespace gets it at once, and
one deleted comes back. This module must not refuse requests; pods that name an account are
checked by admission (``api/admission``).
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.admission import DEFAULT_SERVICE_ACCOUNT
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import dig, name_of
from drill.sandbox.kube.controllers.context import World


class ServiceAccountController:
    def __init__(self, world: World) -> None:
        self._world = world
        self._namespaces = world.rt("v1", "Namespace")
        self._accounts = world.rt("v1", "ServiceAccount")

    def tick(self, now: float) -> None:
        del now  # nothing here waits
        store = self._world.store
        for namespace in store.items(self._namespaces):
            name = name_of(namespace)
            if dig(namespace, "status", "phase") == "Terminating":
                continue
            if store.read(self._accounts, name, DEFAULT_SERVICE_ACCOUNT) is not None:
                continue
            body = {"metadata": {"name": DEFAULT_SERVICE_ACCOUNT}}
            with contextlib.suppress(ApiError):  # deleted or made meanwhile: the next pass sees
                self._world.api.create(self._accounts, name, body)
