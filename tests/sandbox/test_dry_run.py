"""Server-side dry run (``dryRun=All``): checked and answered as the write, stored nowhere."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from tests.sandbox.helpers import Cluster, deployment, raw_http

DRY = "All"


def status_of(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def list_rv(cluster: Cluster, ns: str) -> str:
    return str(cluster.core.list_namespaced_config_map(ns).metadata.resource_version)


def first_event_after(cluster: Cluster, ns: str, rv: str) -> tuple[str, str]:
    """The first config-map event in ``ns`` after ``rv``: (type, name)."""
    watcher = watch.Watch()
    stream = watcher.stream(
        cluster.core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5
    )
    for event in stream:
        watcher.stop()
        return event["type"], event["object"].metadata.name
    pytest.fail("no event")


def test_a_dry_run_create_answers_the_object_and_stores_nothing(still_cluster: Cluster) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    cluster.emulator.tick()  # its default ServiceAccount is made
    before = list_rv(cluster, ns)
    answered = cluster.apps.create_namespaced_deployment(ns, deployment("web"), dry_run=DRY)
    assert answered.metadata.uid
    assert answered.metadata.creation_timestamp
    assert answered.metadata.generation == 1
    assert answered.metadata.resource_version is None  # nothing was written
    assert answered.spec.strategy.type == "RollingUpdate"  # defaulted as a create is
    cm = {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    cluster.core.create_namespaced_config_map(ns, cm, dry_run=DRY)
    cluster.emulator.tick()

    assert list_rv(cluster, ns) == before
    with pytest.raises(ApiException) as missing:
        cluster.apps.read_namespaced_deployment("web", ns)
    assert missing.value.status == 404
    assert cluster.core.list_namespaced_pod(ns).items == []  # no controller saw it
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "marker"}})
    assert first_event_after(cluster, ns, before) == ("ADDED", "marker")


def test_a_dry_run_create_is_refused_as_the_create_would_be(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "taken"}})
    with pytest.raises(ApiException) as taken:
        cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "taken"}}, dry_run=DRY)
    assert (taken.value.status, status_of(taken.value)["reason"]) == (409, "AlreadyExists")
    bad = deployment("web")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    with pytest.raises(ApiException) as invalid:
        cluster.apps.create_namespaced_deployment(ns, bad, dry_run=DRY)
    assert invalid.value.status == 422
    assert "`selector` does not match template `labels`" in status_of(invalid.value)["message"]


def test_a_dry_run_service_reserves_no_cluster_ip(cluster: Cluster) -> None:
    ns = cluster.namespace("shop")
    svc = {"metadata": {"name": "a"}, "spec": {"ports": [{"port": 80}]}}
    tried = cluster.core.create_namespaced_service(ns, svc, dry_run=DRY)
    made = cluster.core.create_namespaced_service(ns, {**svc, "metadata": {"name": "b"}})
    assert tried.spec.cluster_ip == made.spec.cluster_ip


def test_dry_run_updates_and_patches_answer_the_change_and_keep_the_stored_object(
    still_cluster: Cluster,
) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    stored = cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    before = list_rv(cluster, ns)

    patched = cluster.core.patch_namespaced_config_map("c", ns, {"data": {"a": "2"}}, dry_run=DRY)
    assert patched.data == {"a": "2"}
    assert cluster.core.read_namespaced_config_map("c", ns).data == {"a": "1"}

    body = stored.to_dict(serialize=True)
    body["spec"]["replicas"] = 4
    replaced = cluster.apps.replace_namespaced_deployment("web", ns, body, dry_run=DRY)
    assert (replaced.spec.replicas, replaced.metadata.generation) == (4, 2)
    assert replaced.metadata.resource_version == stored.metadata.resource_version
    assert cluster.apps.read_namespaced_deployment("web", ns).metadata.generation == 1
    scaled = cluster.apps.patch_namespaced_deployment_scale(
        "web", ns, {"spec": {"replicas": 7}}, dry_run=DRY
    )
    assert scaled.spec.replicas == 7
    assert cluster.apps.read_namespaced_deployment("web", ns).spec.replicas == 1

    body["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    body["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    with pytest.raises(ApiException) as immutable:
        cluster.apps.replace_namespaced_deployment("web", ns, body, dry_run=DRY)
    assert immutable.value.status == 422
    assert "field is immutable" in status_of(immutable.value)["message"]
    assert list_rv(cluster, ns) == before


def test_a_dry_run_delete_deletes_nothing(still_cluster: Cluster) -> None:
    cluster = still_cluster
    ns = cluster.namespace("shop")
    cluster.apps.create_namespaced_deployment(ns, deployment("web"))
    cluster.emulator.tick()
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    held = {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}
    cluster.core.create_namespaced_config_map(ns, held)
    before = list_rv(cluster, ns)

    done = cluster.core.delete_namespaced_config_map("c", ns, dry_run=DRY)
    assert done["status"] == "Success"
    marked = cluster.core.delete_namespaced_config_map("held", ns, dry_run=DRY)
    assert marked["metadata"]["deletionTimestamp"]
    cluster.apps.delete_namespaced_deployment("web", ns, dry_run=DRY)
    terminating = cluster.core.delete_namespace(ns, dry_run=DRY)
    assert terminating["status"]["phase"] == "Terminating"
    cluster.emulator.tick()

    assert cluster.core.read_namespace(ns).status.phase == "Active"
    assert cluster.core.read_namespaced_config_map("held", ns).metadata.deletion_timestamp is None
    assert cluster.core.read_namespaced_config_map("c", ns).metadata.name == "c"
    assert cluster.apps.read_namespaced_deployment("web", ns).metadata.name == "web"
    assert len(cluster.core.list_namespaced_pod(ns).items) == 1  # nothing cascaded
    assert list_rv(cluster, ns) == before
    with pytest.raises(ApiException) as missing:
        cluster.core.delete_namespaced_config_map("absent", ns, dry_run=DRY)
    assert missing.value.status == 404


@pytest.mark.parametrize(
    ("method", "suffix", "body", "kind"),
    [
        ("POST", "", {"metadata": {"name": "x"}}, "CreateOptions"),
        ("PUT", "/c", {"metadata": {"name": "c"}}, "UpdateOptions"),
        ("PATCH", "/c", {"data": {"a": "b"}}, "PatchOptions"),
        ("DELETE", "/c", None, "DeleteOptions"),
    ],
)
def test_a_dry_run_other_than_all_is_invalid(
    cluster: Cluster, method: str, suffix: str, body: object, kind: str
) -> None:
    """The handlers' ValidateCreateOptions (and Update, Patch, Delete): NewInvalid of the
    options' kind, naming the values as field.NotSupported prints a []string."""
    ns = cluster.namespace("shop")
    cluster.core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    url = f"{cluster.emulator.url}/api/v1/namespaces/{ns}/configmaps{suffix}?dryRun=Yes"
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    token = cluster.emulator.admin_token
    answer = raw_http(cluster.emulator, token).request(
        method,
        url,
        body=None if body is None else json.dumps(body),
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
    )
    assert answer.status == 422
    status = json.loads(answer.data)
    assert status["message"] == (
        f'{kind}.meta.k8s.io "" is invalid: '
        'dryRun: Unsupported value: []string{"Yes"}: supported values: "All"'
    )
    assert status["details"]["causes"][0]["field"] == "dryRun"
    assert cluster.core.read_namespaced_config_map("c", ns).data is None
