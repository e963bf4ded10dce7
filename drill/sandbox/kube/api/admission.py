"""Admission: what the real server's admission plugins do to a request before it is stored.

NamespaceLifecycle: the namespaces a cluster cannot do without (``default``, ``kube-system``,
``kube-public``) may not be deleted (``namespaces "default" is forbidden: this namespace may
not be deleted``); its other half, no new objects in a Terminating namespace, lives with the
verbs.

ServiceAccount (``plugin/pkg/admission/serviceaccount``): a pod that names no
``serviceAccountName`` runs as ``default``, and a pod whose account does not exist in its
namespace is refused with a 403 (``pods "x" is forbidden: error looking up service account
NS/NAME: serviceaccount "NAME" not found``). The ``default`` account of a namespace that is
not being deleted passes: the ServiceAccount controller makes it, and the plugin waits for it
(it retries the look-up of ``default``, and of no other account).

Approximation: no token volume is mounted. This module must not store anything.
"""

from __future__ import annotations

from drill.sandbox.kube.api.errors import forbidden_object
from drill.sandbox.kube.api.objects import Obj, dig, name_of, namespace_of
from drill.sandbox.kube.api.resources import Registry, ResourceType
from drill.sandbox.kube.api.store import Store

DEFAULT_SERVICE_ACCOUNT = "default"
# NamespaceLifecycle's immortal namespaces (plugin/pkg/admission/namespace/lifecycle).
IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class Admission:
    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._accounts = registry.get("v1", "ServiceAccount")

    def on_create(self, rt: ResourceType, obj: Obj) -> None:
        """Admit (or refuse) ``obj``, a create of ``rt`` in an open namespace."""
        if rt.plural == "pods" and isinstance(obj.get("spec"), dict):
            self._service_account(rt, obj)

    def on_delete(self, rt: ResourceType, name: str) -> None:
        """Admit (or refuse) the delete of ``rt`` object ``name``, dry run or not."""
        if rt.plural == "namespaces" and name in IMMORTAL_NAMESPACES:
            raise forbidden_object(rt, name, "this namespace may not be deleted")

    def _service_account(self, rt: ResourceType, pod: Obj) -> None:
        spec = pod["spec"]
        # v1's deprecated serviceAccount stands in for a missing serviceAccountName.
        account = (
            spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SERVICE_ACCOUNT
        )
        spec["serviceAccountName"] = account
        spec["serviceAccount"] = account  # v1's deprecated copy, as conversion fills it
        namespace = namespace_of(pod)
        if account == DEFAULT_SERVICE_ACCOUNT:
            return
        if self._store.read(self._accounts, namespace, str(account)) is not None:
            return
        # Named as NewForbidden names an object admission sees before its name is generated.
        name = name_of(pod) or str(dig(pod, "metadata", "generateName") or "Unknown")
        why = (
            f"error looking up service account {namespace}/{account}: "
            f'serviceaccount "{account}" not found'
        )
        raise forbidden_object(rt, name, why)
