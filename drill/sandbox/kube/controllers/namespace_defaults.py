"""What kube-controller-manager puts in every namespace, simulated.

- The ServiceAccounts controller: a ``default`` ServiceAccount.
- The root CA publisher: ConfigMap ``kube-root-ca.crt`` whose ``ca.crt`` is the CA bundle that
  verifies the cluster's API server, annotated ``kubernetes.io/description``; set back when
  changed.

Each pass furnishes every namespace that is not being deleted with what it lacks: a new
namespace gets both at once, and what is deleted comes back. The real controllers act within
milliseconds of a namespace's creation, while a Velero restore creates its namespaces first and
their ServiceAccounts and ConfigMaps well after: so the restore controller calls ``furnish`` on
each namespace it creates, and the items it restores then meet these objects, as in a cluster.

This module must not refuse requests; pods that name an account are checked by admission
(``api/admission``).
"""

from __future__ import annotations

import contextlib

from drill.sandbox.kube.api.admission import DEFAULT_SERVICE_ACCOUNT
from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.objects import Obj, dig, name_of
from drill.sandbox.kube.controllers.context import World

ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
ROOT_CA_KEY = "ca.crt"
# The root CA publisher's annotation (pkg/controller/certificates/rootcacertpublisher).
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)
_DESCRIPTION_KEY = "kubernetes.io/description"


def namespace_defaults(namespace: str, ca_pem: str) -> list[Obj]:
    """The objects a cluster whose API server ``ca_pem`` verifies keeps in ``namespace``, as
    ``kubectl get -o yaml`` (or a Velero backup of the namespace) shows them."""
    account: Obj = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": namespace},
    }
    return [account, {"apiVersion": "v1", **_root_ca(ca_pem, namespace)}]


def _root_ca(ca_pem: str, namespace: str) -> Obj:
    return {
        "kind": "ConfigMap",
        "metadata": {
            "name": ROOT_CA_CONFIG_MAP,
            "namespace": namespace,
            "annotations": {_DESCRIPTION_KEY: ROOT_CA_DESCRIPTION},
        },
        "data": {ROOT_CA_KEY: ca_pem},
    }


class NamespaceDefaults:
    def __init__(self, world: World, ca_pem: str) -> None:
        self._world = world
        self._ca_pem = ca_pem
        self._namespaces = world.rt("v1", "Namespace")
        self._accounts = world.rt("v1", "ServiceAccount")
        self._config_maps = world.rt("v1", "ConfigMap")

    def tick(self, now: float) -> None:
        del now  # nothing here waits
        for namespace in self._world.store.items(self._namespaces):
            if dig(namespace, "status", "phase") != "Terminating":
                self.furnish(name_of(namespace))

    def furnish(self, namespace: str) -> None:
        """Give ``namespace`` what it lacks, and its CA bundle back as published."""
        store = self._world.store
        # Deleted or made meanwhile, or the namespace going: the next pass sees to it.
        with contextlib.suppress(ApiError):
            if store.read(self._accounts, namespace, DEFAULT_SERVICE_ACCOUNT) is None:
                body = {"metadata": {"name": DEFAULT_SERVICE_ACCOUNT}}
                self._world.api.create(self._accounts, namespace, body)
            self._publish_root_ca(namespace)

    def _publish_root_ca(self, namespace: str) -> None:
        found = self._world.store.read(self._config_maps, namespace, ROOT_CA_CONFIG_MAP)
        wanted = _root_ca(self._ca_pem, namespace)
        if found is None:
            self._world.api.create(self._config_maps, namespace, wanted)
            return
        described = dig(found, "metadata", "annotations", _DESCRIPTION_KEY)
        if found.get("data") == wanted["data"] and described == ROOT_CA_DESCRIPTION:
            return

        def publish(current: Obj) -> None:
            current["data"] = dict(wanted["data"])
            annotations = current["metadata"].setdefault("annotations", {})
            annotations[_DESCRIPTION_KEY] = ROOT_CA_DESCRIPTION

        self._world.store.mutate(self._config_maps, namespace, ROOT_CA_CONFIG_MAP, publish)
