"""What every namespace holds because the cluster's controllers put it there: the ``default``
ServiceAccount (tests/sandbox/test_service_accounts.py) and ``kube-root-ca.crt``, the CA bundle
that verifies the cluster's API server, kept as published."""

from __future__ import annotations

from typing import Any

from drill.sandbox.kube.controllers.namespace_defaults import ROOT_CA_DESCRIPTION
from tests.sandbox.helpers import ROOT_CA, Cluster, wait_for


def bundle(cluster: Cluster, namespace: str) -> Any:
    return cluster.core.read_namespaced_config_map(ROOT_CA, namespace)


def test_a_new_namespace_gets_the_cluster_s_ca_bundle(cluster: Cluster) -> None:
    namespace = cluster.namespace("fresh")
    published = wait_for(lambda: cluster.emulator.get("v1", "ConfigMap", ROOT_CA, namespace))
    assert published is not None
    assert published["data"] == {"ca.crt": cluster.emulator.ca_pem}
    assert published["metadata"]["annotations"] == {
        "kubernetes.io/description": ROOT_CA_DESCRIPTION
    }
    # What it holds verifies the API server the clients reach: the kubeconfig's own CA.
    assert cluster.emulator.ca_pem.startswith("-----BEGIN CERTIFICATE-----")
    for seeded in ("default", "kube-system", "velero"):
        assert bundle(cluster, seeded).data == {"ca.crt": cluster.emulator.ca_pem}


def test_a_changed_bundle_is_set_back_and_a_deleted_one_comes_back(cluster: Cluster) -> None:
    cluster.core.patch_namespaced_config_map(ROOT_CA, "default", {"data": {"ca.crt": "mine"}})
    wait_for(lambda: bundle(cluster, "default").data == {"ca.crt": cluster.emulator.ca_pem})
    cluster.core.delete_namespaced_config_map(ROOT_CA, "default")
    wait_for(lambda: cluster.emulator.get("v1", "ConfigMap", ROOT_CA, "default"))
    assert bundle(cluster, "default").data == {"ca.crt": cluster.emulator.ca_pem}
