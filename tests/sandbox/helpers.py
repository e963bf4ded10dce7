"""Helpers shared by the sandbox tests: real clients for an emulator, manifests, polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import urllib3
from kubernetes import client, config

from drill.sandbox.kube import KubeEmulator, Profile, write_kubeconfig
from drill.sandbox.kube.controllers.namespace_defaults import ROOT_CA_CONFIG_MAP

# The ConfigMap every namespace of a cluster holds (its CA bundle), as in a real cluster.
ROOT_CA = ROOT_CA_CONFIG_MAP

T = TypeVar("T")

MakeCluster = Callable[..., "Cluster"]

FAST = Profile(
    ready_after_s=0.2, job_duration_s=0.2, restore_duration_s=0.3, namespace_delete_s=0.2
)


def wait_for(probe: Callable[[], T], timeout_s: float = 5.0, every_s: float = 0.02) -> T:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s}s (last value: {found!r})")
        time.sleep(every_s)


def autoscaler(target: str, least: int | None, most: int, kind: str = "Deployment") -> Any:
    """A HorizontalPodAutoscaler named as its target, holding it between ``least`` and ``most``."""
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
        "maxReplicas": most,
    }
    if least is not None:
        spec["minReplicas"] = least
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target},
        "spec": spec,
    }


def deployment(
    name: str, replicas: int = 1, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def raw_http(emulator: KubeEmulator, token: str | None = None) -> urllib3.PoolManager:
    """A bare HTTPS client that trusts ``emulator``'s CA, sending ``token`` (if any) as the
    bearer token: for requests the typed client cannot make (or must not authenticate)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return urllib3.PoolManager(retries=False, ca_cert_data=emulator.ca_pem, headers=headers)


def service(
    name: str,
    namespace: str = "dr-test",
    *,
    port: int = 80,
    target: int | str = 8080,
    app: str | None = None,
    cluster_ip: str = "10.96.0.10",
    **spec: Any,
) -> dict[str, Any]:
    """A stored Service as the network reads it (plain data, no emulator)."""
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterIP": cluster_ip,
            "selector": {"app": app or name},
            "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}],
            **spec,
        },
    }


def pod(
    name: str,
    namespace: str = "dr-test",
    *,
    app: str = "api",
    ready: bool = True,
    ports: list[dict[str, Any]] | None = None,
    owner: str = "api",
    ip: str = "10.244.0.5",
    deleting: bool = False,
) -> dict[str, Any]:
    """A stored, scheduled pod as the network reads it (plain data, no emulator)."""
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {"app": app},
        "ownerReferences": [{"kind": "Deployment", "name": owner}],
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": metadata,
        "spec": {"containers": [{"name": "c", "ports": ports or [{"containerPort": 8080}]}]},
        "status": {
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


class Cluster:
    """An emulator plus real clients for it."""

    def __init__(self, emulator: KubeEmulator, kubeconfig: Path) -> None:
        self.emulator = emulator
        self.kubeconfig = kubeconfig
        self.api_client = config.new_client_from_config(
            config_file=str(kubeconfig), context="sandbox"
        )
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.batch = client.BatchV1Api(self.api_client)
        self.leases = client.CoordinationV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)

    def namespace(self, name: str) -> str:
        self.core.create_namespace({"metadata": {"name": name}})
        return name

    def velero(self, plural: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.custom.get_namespaced_custom_object(
            "velero.io", "v1", "velero", plural, name
        )
        return found


def service_account(cluster: Cluster, namespace: str, name: str) -> str:
    """Make ServiceAccount ``namespace/name`` (and its namespace) as the admin; its username."""
    if cluster.emulator.get("v1", "Namespace", namespace) is None:
        cluster.namespace(namespace)
    cluster.core.create_namespaced_service_account(namespace, {"metadata": {"name": name}})
    return f"system:serviceaccount:{namespace}:{name}"


def token_of(cluster: Cluster, namespace: str, name: str, **spec: Any) -> str:
    """A token for a ServiceAccount, from the TokenRequest API (``kubectl create token``)."""
    request = cluster.core.create_namespaced_service_account_token(name, namespace, {"spec": spec})
    return str(request.status.token)


def client_with_token(cluster: Cluster, token: str, path: Path) -> client.ApiClient:
    """A real client whose kubeconfig carries ``token`` instead of the admin's."""
    kubeconfig = write_kubeconfig(
        path, {"sandbox": cluster.emulator.url}, tokens={"sandbox": token}
    )
    return config.new_client_from_config(config_file=str(kubeconfig), context="sandbox")
