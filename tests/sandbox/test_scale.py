"""The scale subresource of deployments and statefulsets, through AppsV1Api."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster, deployment


def test_read_and_patch_deployment_scale(still_cluster: Cluster) -> None:
    apps = still_cluster.apps
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert (scale.kind, scale.api_version) == ("Scale", "autoscaling/v1")
    assert scale.spec.replicas == 2
    assert scale.status.selector == "app=web"

    patched = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 5}})
    assert patched.spec.replicas == 5
    after = apps.read_namespaced_deployment("web", "default")
    assert after.spec.replicas == 5
    assert after.metadata.generation == 2


def test_replace_deployment_scale_checks_the_resource_version(still_cluster: Cluster) -> None:
    apps = still_cluster.apps
    apps.create_namespaced_deployment("default", deployment("web"))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    scale.spec.replicas = 3
    assert apps.replace_namespaced_deployment_scale("web", "default", scale).spec.replicas == 3
    scale.spec.replicas = 4  # the same, now stale, resourceVersion
    with pytest.raises(ApiException) as caught:
        apps.replace_namespaced_deployment_scale("web", "default", scale)
    assert caught.value.status == 409


def test_a_negative_scale_is_422(still_cluster: Cluster) -> None:
    still_cluster.apps.create_namespaced_deployment("default", deployment("web"))
    with pytest.raises(ApiException) as caught:
        still_cluster.apps.patch_namespaced_deployment_scale(
            "web", "default", {"spec": {"replicas": -2}}
        )
    assert caught.value.status == 422


def test_scale_of_a_missing_deployment_is_404(still_cluster: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        still_cluster.apps.read_namespaced_deployment_scale("ghost", "default")
    assert caught.value.status == 404


def test_statefulset_scale(still_cluster: Cluster) -> None:
    sts = deployment("db")
    sts["kind"] = "StatefulSet"
    still_cluster.apps.create_namespaced_stateful_set("default", sts)
    patched = still_cluster.apps.patch_namespaced_stateful_set_scale(
        "db", "default", {"spec": {"replicas": 3}}
    )
    assert patched.spec.replicas == 3
    assert still_cluster.apps.read_namespaced_stateful_set_scale("db", "default").spec.replicas == 3


def test_a_scale_names_its_own_workload_and_without_replicas_asks_for_none(
    still_cluster: Cluster,
) -> None:
    """The update handler's checkName holds for the Scale too; autoscaling/v1's replicas is
    omitempty, so a Scale without it is a scale to 0."""
    apps = still_cluster.apps
    apps.create_namespaced_deployment("default", deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", "default").to_dict(serialize=True)
    scale["metadata"]["name"] = "other"
    with pytest.raises(ApiException) as caught:
        apps.replace_namespaced_deployment_scale("web", "default", scale)
    assert caught.value.status == 400
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 2
    emptied = apps.patch_namespaced_deployment_scale(
        "web",
        "default",
        [{"op": "remove", "path": "/spec/replicas"}],
        _content_type="application/json-patch+json",
    )
    assert emptied.to_dict()["spec"] == {"replicas": None}, "0 is omitted, as Go encodes it"
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 0
