"""The OpenAPI v3 documents: kubectl validates and applies against them as against a real
server, and their index and shapes are those kube-apiserver publishes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from drill.sandbox.kube.api.openapi import OpenApi
from drill.sandbox.kube.api.resources import RESOURCES, Registry
from tests.sandbox.helpers import Cluster, deployment, raw_http, service_account

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl on PATH")
PROTOBUF = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"


def kubectl(cluster: Cluster, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "--context", "sandbox"]
    command += ["--cache-dir", str(tmp_path / "kube-cache"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def manifest(tmp_path: Path, name: str, obj: dict[str, Any]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(obj), encoding="utf-8")
    return str(path)


def backup(name: str, **spec: object) -> dict[str, Any]:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": "velero"},
        "spec": {"includedNamespaces": ["default"], **spec},
    }


def get(cluster: Cluster, path: str, token: str | None = None, **headers: str) -> Any:
    # Headers given to a request replace the pool's, so the token goes with them.
    headers["Authorization"] = f"Bearer {cluster.emulator.admin_token if token is None else token}"
    url = f"{cluster.emulator.url}{path}"
    return raw_http(cluster.emulator).request("GET", url, headers=headers, redirect=False)


# -- kubectl ------------------------------------------------------------------------------------


@needs_kubectl
def test_kubectl_apply_validates_then_creates_and_updates_a_deployment(
    cluster: Cluster, tmp_path: Path
) -> None:
    web = deployment("web", replicas=1)
    web["metadata"]["namespace"] = "default"
    created = kubectl(cluster, tmp_path, "apply", "-f", manifest(tmp_path, "web", web))
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "deployment.apps/web created"

    web["spec"]["replicas"] = 3
    updated = kubectl(cluster, tmp_path, "apply", "-f", manifest(tmp_path, "web", web))
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.strip() == "deployment.apps/web configured"
    assert updated.stderr == ""
    assert cluster.apps.read_namespaced_deployment("web", "default").spec.replicas == 3
    # kubectl found fieldValidation in the documents, so the server did the validating.
    writes = cluster.emulator.received("POST", "/deployments")
    writes += cluster.emulator.received("PATCH", "/deployments/web")
    assert [w.query.get("fieldValidation") for w in writes] == ["Strict", "Strict"]
    patch = cluster.emulator.received("PATCH", "/deployments/web")[0].json()
    assert patch["spec"]["replicas"] == 3


@needs_kubectl
def test_kubectl_apply_creates_a_velero_backup(cluster: Cluster, tmp_path: Path) -> None:
    applied = kubectl(
        cluster, tmp_path, "apply", "-f", manifest(tmp_path, "b", backup("nightly", ttl="24h0m0s"))
    )
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "backup.velero.io/nightly created"
    assert cluster.velero("backups", "nightly")["spec"]["ttl"] == "24h0m0s"


@needs_kubectl
def test_kubectl_apply_of_an_unknown_field_is_refused_by_the_servers_strict_validation(
    cluster: Cluster, tmp_path: Path
) -> None:
    applied = kubectl(
        cluster, tmp_path, "apply", "-f", manifest(tmp_path, "b", backup("typo", ttlz="24h"))
    )
    assert applied.returncode == 1
    assert 'strict decoding error: unknown field "spec.ttlz"' in applied.stderr
    assert cluster.emulator.get("velero.io/v1", "Backup", "typo", "velero") is None


@needs_kubectl
def test_kubectl_explain_reads_a_velero_kinds_fields(cluster: Cluster, tmp_path: Path) -> None:
    explained = kubectl(cluster, tmp_path, "explain", "backup.spec.ttl")
    assert explained.returncode == 0, explained.stderr
    assert "FIELD: ttl <string>" in explained.stdout


# -- the documents over HTTP --------------------------------------------------------------------


def test_the_index_names_each_served_group_version_with_its_documents_hash(
    cluster: Cluster,
) -> None:
    index = get(cluster, "/openapi/v3")
    assert index.status == 200
    assert index.headers["Content-Type"] == "application/json"
    paths = index.json()["paths"]
    assert set(paths) == {
        "api/v1",
        "apis/apps/v1",
        "apis/autoscaling/v2",
        "apis/batch/v1",
        "apis/coordination.k8s.io/v1",
        "apis/rbac.authorization.k8s.io/v1",
        "apis/authorization.k8s.io/v1",
        "apis/authentication.k8s.io/v1",
        "apis/velero.io/v1",
    }
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    document = get(cluster, url, Accept="application/json")
    assert document.status == 200
    assert url.endswith("?hash=" + hashlib.sha512(document.data).hexdigest().upper())
    assert document.headers["Cache-Control"] == "public, immutable"


def test_a_patch_operation_lists_field_validation_with_its_kind(cluster: Cluster) -> None:
    document = get(cluster, "/openapi/v3/apis/apps/v1", Accept="application/json").json()
    item = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    patch = item["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    queried = {p["name"] for p in patch["parameters"] if p["in"] == "query"}
    assert queried == {"dryRun", "fieldManager", "fieldValidation", "force"}
    assert {p["name"] for p in item["parameters"] if p["in"] == "path"} == {"name", "namespace"}
    collection = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert "fieldValidation" in {p["name"] for p in collection["post"]["parameters"]}
    # Every PATCH of the kind (status too) lists it: kubectl checks whichever it meets first.
    status = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert "fieldValidation" in {p["name"] for p in status["patch"]["parameters"]}
    schema = document["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "version": "v1", "kind": "Deployment"}
    ]
    assert_refs_resolve(document, document)


def test_a_crds_document_holds_its_paths_and_schema(cluster: Cluster) -> None:
    document = get(cluster, "/openapi/v3/apis/velero.io/v1", Accept="application/json").json()
    for plural, kind in [
        ("backups", "Backup"),
        ("restores", "Restore"),
        ("schedules", "Schedule"),
        ("backupstoragelocations", "BackupStorageLocation"),
        ("downloadrequests", "DownloadRequest"),
    ]:
        patch = document["paths"][f"/apis/velero.io/v1/namespaces/{{namespace}}/{plural}/{{name}}"]
        gvk = patch["patch"]["x-kubernetes-group-version-kind"]
        assert gvk == {"group": "velero.io", "version": "v1", "kind": kind}
        assert f"io.velero.v1.{kind}" in document["components"]["schemas"]
    backup_schema = document["components"]["schemas"]["io.velero.v1.Backup"]
    assert "ttl" in backup_schema["properties"]["spec"]["properties"]
    assert_refs_resolve(document, document)


def test_core_paths_are_scoped_as_the_real_servers(cluster: Cluster) -> None:
    paths = get(cluster, "/openapi/v3/api/v1", Accept="application/json").json()["paths"]
    assert set(paths["/api/v1/namespaces/{namespace}/pods"]) == {
        "get",
        "post",
        "delete",
        "parameters",
    }
    assert paths["/api/v1/pods"]["get"]["operationId"] == "listCoreV1PodForAllNamespaces"
    namespace = paths["/api/v1/namespaces/{name}"]
    assert namespace["patch"]["operationId"] == "patchCoreV1Namespace"
    assert "delete" not in paths["/api/v1/namespaces"]  # namespaces have no deletecollection


def test_a_document_is_served_as_json_only_and_an_old_hash_is_moved(cluster: Cluster) -> None:
    assert get(cluster, "/openapi/v3/api/v1", Accept=PROTOBUF).status == 406
    assert get(cluster, "/openapi/v3/api/v1", Accept=f"{PROTOBUF}, */*").status == 200
    assert get(cluster, "/openapi/v3/apis/example.com/v1").status == 404
    moved = get(cluster, "/openapi/v3/api/v1?hash=OLD", Accept="application/json")
    current = get(cluster, "/openapi/v3").json()["paths"]["api/v1"]["serverRelativeURL"]
    assert (moved.status, moved.headers["Location"]) == (301, current)


def test_any_authenticated_account_may_read_the_documents(cluster: Cluster) -> None:
    service_account(cluster, "team", "robot")
    token = cluster.emulator.token_for("team", "robot")
    assert get(cluster, "/openapi/v3", token=token).status == 200
    assert get(cluster, "/openapi/v3/apis/apps/v1", token=token).status == 200
    assert get(cluster, "/openapi/v3", token="not-a-token").status == 401


def test_a_documents_hash_changes_with_its_content() -> None:
    everything = OpenApi(Registry())
    fewer = OpenApi(Registry(tuple(r for r in RESOURCES if r.kind != "StatefulSet")))
    apps, fewer_apps = everything.document("apis/apps/v1"), fewer.document("apis/apps/v1")
    assert apps is not None
    assert fewer_apps is not None
    assert apps.hash != fewer_apps.hash
    assert everything.index().body != fewer.index().body
    assert everything.document("api/v1") == fewer.document("api/v1")


def assert_refs_resolve(node: Any, document: dict[str, Any]) -> None:
    """Every ``$ref`` names a schema the document holds, as a client resolving it needs."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            name = ref.removeprefix("#/components/schemas/")
            assert name in document["components"]["schemas"], ref
        for value in node.values():
            assert_refs_resolve(value, document)
    elif isinstance(node, list):
        for value in node:
            assert_refs_resolve(value, document)
