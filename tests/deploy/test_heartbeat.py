"""deploy/heartbeat: the `drill heartbeat` Deployment, allowed its one ConfigMap and no more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client, config, utils

from drill.cli._heartbeat import heartbeat_command
from drill.commands.heartbeat import HeartbeatOptions, heartbeat_params
from drill.sandbox.kube import KubeEmulator, write_kubeconfig
from tests.child import REPO
from tests.deploy.conftest import BASE, only
from tests.deploy.kustomize import Manifest, key_of, render
from tests.deploy.test_manifests import K8S_VERSIONS, kubectl_kustomize, needs_kubectl

HEARTBEAT = REPO / "deploy" / "heartbeat"
NAMESPACE = "production"


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return render(HEARTBEAT)


def container(manifests: list[Manifest]) -> dict[str, Any]:
    found: dict[str, Any] = only(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][
        0
    ]
    return found


def test_it_holds_a_writer_its_account_and_its_role(manifests: list[Manifest]) -> None:
    assert sorted(m["kind"] for m in manifests) == [
        "Deployment",
        "Role",
        "RoleBinding",
        "ServiceAccount",
    ]
    for manifest in manifests:
        assert manifest["metadata"]["namespace"] == NAMESPACE, key_of(manifest)
        assert manifest["metadata"]["labels"]["app.kubernetes.io/part-of"] == "drill"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_is_valid_kubernetes(manifests: list[Manifest], version: str) -> None:
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{key_of(manifest)} on Kubernetes {version}: {error.message}")


def test_the_role_allows_exactly_the_one_config_map(manifests: list[Manifest]) -> None:
    role = only(manifests, "Role")
    grants = {
        (group, resource, verb, tuple(rule.get("resourceNames", ())))
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    named = ("drill-heartbeat",)
    assert grants == {
        ("", "configmaps", "get", named),
        ("", "configmaps", "update", named),
        ("", "configmaps", "patch", named),
        ("", "configmaps", "create", ()),  # RBAC cannot name what a create makes
    }
    binding = only(manifests, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    account = only(manifests, "ServiceAccount")["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]
    spec = only(manifests, "Deployment")["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == account


def test_the_writer_runs_drill_heartbeat_on_what_the_role_allows(
    manifests: list[Manifest],
) -> None:
    writer = container(manifests)
    args = [str(a).replace("$(POD_NAMESPACE)", NAMESPACE) for a in writer["args"]]
    assert args[0] == "heartbeat"
    parsed = heartbeat_command.make_context("heartbeat", args[1:]).params
    options = HeartbeatOptions(
        parsed["namespace"], parsed["name"], parsed["key"], parsed["interval"], parsed["context"]
    )
    params = heartbeat_params(options)  # the flags the real command accepts
    assert (params.namespace, params.name, options.context) == (
        NAMESPACE,
        "drill-heartbeat",
        "in-cluster",
    )
    assert only(manifests, "Role")["rules"][0]["resourceNames"] == [params.name]
    env = {e["name"]: e for e in writer["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    cronjob = only(render(BASE), "CronJob")
    run = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert writer["image"] == run["image"]
    hardened = writer["securityContext"]
    assert hardened["readOnlyRootFilesystem"] is True
    assert hardened["capabilities"] == {"drop": ["ALL"]}


@pytest.fixture
def api_client(tmp_path: Path) -> Iterator[client.ApiClient]:
    with KubeEmulator() as emulator:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"sandbox": emulator.url})
        api = config.new_client_from_config(config_file=str(kubeconfig), context="sandbox")
        try:
            yield api
        finally:
            api.close()
        assert emulator.errors == []


def test_the_api_accepts_every_manifest(
    api_client: client.ApiClient, manifests: list[Manifest]
) -> None:
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": NAMESPACE}})
    for manifest in manifests:
        utils.create_from_dict(api_client, manifest)
    deployment = client.AppsV1Api(api_client).read_namespaced_deployment(
        "drill-heartbeat", NAMESPACE
    )
    assert deployment.spec.template.spec.containers[0].args[0] == "heartbeat"


@needs_kubectl
def test_the_python_rendering_matches_kubectl_kustomize(manifests: list[Manifest]) -> None:
    ours = {key_of(m): m for m in manifests}
    theirs = {key_of(m): m for m in kubectl_kustomize(HEARTBEAT)}
    assert ours == theirs
