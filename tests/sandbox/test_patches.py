"""The three patch content types through the real client, and the patch functions on their own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from drill.sandbox.kube.api.errors import ApiError
from drill.sandbox.kube.api.patches import json_patch, merge_patch, strategic_merge_patch
from tests.sandbox.helpers import Cluster, deployment

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@pytest.fixture
def web(still_cluster: Cluster) -> Cluster:
    body = deployment("web")
    body["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}]
    body["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    still_cluster.apps.create_namespaced_deployment("default", body)
    return still_cluster


def containers_patch() -> dict[str, Any]:
    env = [{"name": "B", "value": "2"}]
    return {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "image": "nginx:1.28", "env": env}]}
            }
        }
    }


def test_strategic_merge_patch_merges_containers_and_env_by_name(web: Cluster) -> None:
    patched = web.apps.patch_namespaced_deployment(
        "web", "default", containers_patch(), _content_type=STRATEGIC
    )
    containers = patched.spec.template.spec.containers
    assert [c.name for c in containers] == ["app", "sidecar"]
    assert containers[0].image == "nginx:1.28"
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "2")]


def test_the_client_default_for_a_dict_body_is_strategic(web: Cluster) -> None:
    patched = web.apps.patch_namespaced_deployment("web", "default", containers_patch())
    assert [c.name for c in patched.spec.template.spec.containers] == ["app", "sidecar"]


def test_merge_patch_replaces_lists(web: Cluster) -> None:
    patched = web.apps.patch_namespaced_deployment(
        "web", "default", containers_patch(), _content_type=MERGE
    )
    containers = patched.spec.template.spec.containers
    assert [c.name for c in containers] == ["app"]
    assert [e.name for e in containers[0].env] == ["B"]


def test_merge_patch_null_removes_a_key(web: Cluster) -> None:
    web.apps.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"x": "1"}}}, _content_type=MERGE
    )
    patched = web.apps.patch_namespaced_deployment(
        "web", "default", {"metadata": {"labels": {"x": None}}}, _content_type=MERGE
    )
    assert "x" not in patched.metadata.labels


def test_json_patch_operations(web: Cluster) -> None:
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/tier", "value": "fe"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ]
    patched = web.apps.patch_namespaced_deployment("web", "default", ops)  # a list: json-patch
    assert patched.spec.replicas == 3
    assert patched.metadata.labels["tier"] == "fe"
    assert [c.name for c in patched.spec.template.spec.containers] == ["app"]
    assert patched.metadata.generation == 2


def test_a_failing_json_patch_test_is_422(web: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        web.apps.patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 9}]
        )
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["reason"] == "Invalid"


def test_a_patch_that_breaks_validation_is_422(web: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        web.apps.patch_namespaced_deployment(
            "web", "default", {"spec": {"replicas": -1}}, _content_type=MERGE
        )
    assert caught.value.status == 422


def test_a_patch_carrying_a_stale_resource_version_is_409(web: Cluster) -> None:
    patch = {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 2}}
    with pytest.raises(ApiException) as caught:
        web.apps.patch_namespaced_deployment("web", "default", patch, _content_type=MERGE)
    assert caught.value.status == 409


def test_server_side_apply_is_refused_clearly(web: Cluster) -> None:
    with pytest.raises(ApiException) as caught:
        web.apps.patch_namespaced_deployment(
            "web",
            "default",
            {"spec": {"replicas": 2}},
            _content_type="application/apply-patch+yaml",
        )
    assert caught.value.status == 415


def test_custom_objects_take_merge_patches(still_cluster: Cluster) -> None:
    body = {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "s"},
        "spec": {"schedule": "0 * * * *", "template": {}},
    }
    still_cluster.custom.create_namespaced_custom_object(
        "velero.io", "v1", "velero", "schedules", body
    )
    still_cluster.custom.patch_namespaced_custom_object(
        "velero.io", "v1", "velero", "schedules", "s", {"spec": {"paused": True}}
    )
    assert still_cluster.velero("schedules", "s")["spec"] == {
        "schedule": "0 * * * *",
        "template": {},
        "paused": True,
    }


# -- the functions on their own ---------------------------------------------------------------


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None, "e": 3}, "d": [2]}) == {
        "a": {"c": 2, "e": 3},
        "d": [2],
    }


def test_strategic_delete_directive_and_service_ports() -> None:
    current = {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}
    patch = {
        "ports": [{"port": 443, "$patch": "delete"}, {"port": 8080}],
        "$setElementOrder/ports": [],
    }
    assert strategic_merge_patch(current, patch) == {
        "ports": [{"port": 80, "name": "http"}, {"port": 8080}]
    }


def test_json_patch_move_copy_and_escaped_pointers() -> None:
    doc = {"metadata": {"annotations": {"a/b": "1"}}, "x": [1, 2]}
    ops = [
        {"op": "copy", "from": "/metadata/annotations/a~1b", "path": "/y"},
        {"op": "move", "from": "/x/0", "path": "/x/-"},
    ]
    assert json_patch(doc, ops) == {
        "metadata": {"annotations": {"a/b": "1"}},
        "x": [2, 1],
        "y": "1",
    }
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "remove", "path": "/nope"}])
