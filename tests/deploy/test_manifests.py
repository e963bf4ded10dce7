"""deploy/: the base renders, matches kubectl's rendering, is valid Kubernetes, ships the plans."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.child import REPO
from tests.deploy.conftest import BASE, OVERLAY, only, plan_files
from tests.deploy.kustomize import Manifest, key_of, render

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
# The oldest Kubernetes the manifests support (CronJob timeZone is GA since 1.27) and the
# newest schemas kubernetes-validate knows.
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def kubectl_kustomize(directory: Path) -> list[Manifest]:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_the_base_holds_what_a_weekly_cronjob_needs(rendered: list[Manifest]) -> None:
    kinds = sorted(m["kind"] for m in rendered)
    assert kinds == sorted(
        ["Namespace", "ServiceAccount", "Secret", "ConfigMap", "CronJob"]
        + ["ClusterRole", "ClusterRoleBinding"] * 2
        + ["Role", "RoleBinding"] * 2
    )
    assert len({key_of(m) for m in rendered}) == len(rendered)


def test_every_manifest_carries_the_common_labels(rendered: list[Manifest]) -> None:
    for manifest in rendered:
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "drill", key_of(manifest)
        assert labels["app.kubernetes.io/part-of"] == "drill", key_of(manifest)


@needs_kubectl
def test_the_python_rendering_matches_kubectl_kustomize(rendered: list[Manifest]) -> None:
    ours = {key_of(m): m for m in rendered}
    theirs = {key_of(m): m for m in kubectl_kustomize(BASE)}
    assert ours.keys() == theirs.keys()
    assert [k for k in ours if ours[k] != theirs[k]] == []


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nnamespace: drill\n")
    with pytest.raises(NotImplementedError, match="namespace"):
        render(tmp_path)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_manifest_is_valid_kubernetes_without_unknown_fields(
    rendered: list[Manifest], version: str
) -> None:
    for manifest in rendered:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{key_of(manifest)} on Kubernetes {version}: {error.message}")


def test_the_schema_check_catches_an_unknown_field(rendered: list[Manifest]) -> None:
    cronjob = yaml.safe_load(yaml.safe_dump(only(rendered, "CronJob")))
    cronjob["spec"]["jobTemplate"]["spec"]["backofLimit"] = 0
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(cronjob, K8S_VERSIONS[0], strict=True)


def test_the_configmap_carries_exactly_the_shipped_plans(rendered: list[Manifest]) -> None:
    config_map = only(rendered, "ConfigMap")
    assert config_map["metadata"] == {
        "name": "drill-plans",
        "namespace": "drill",
        "labels": {"app.kubernetes.io/name": "drill", "app.kubernetes.io/part-of": "drill"},
    }
    assert config_map["data"] == plan_files(REPO / "plans")


def test_the_plan_copies_under_deploy_match_plans() -> None:
    copies, shipped = plan_files(BASE / "plans"), plan_files(REPO / "plans")
    stale = sorted(
        name for name in copies.keys() | shipped.keys() if copies.get(name) != shipped.get(name)
    )
    assert stale == [], (
        f"deploy/base/plans differs from plans/ in {stale}: run `make deploy-plans` and list "
        "every plan under configMapGenerator in deploy/base/kustomization.yaml"
    )


def test_the_kubeconfig_secret_is_an_empty_placeholder(rendered: list[Manifest]) -> None:
    secret = only(rendered, "Secret")
    assert secret["metadata"]["name"] == "drill-kubeconfig"
    assert "data" not in secret
    assert "stringData" not in secret


@needs_kubectl
def test_the_example_overlay_sets_image_schedule_contexts_and_kubeconfig() -> None:
    manifests = kubectl_kustomize(OVERLAY)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, K8S_VERSIONS[0], strict=True)
    cronjob = only(manifests, "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example-org/drill:v0.1.0"
    assert cronjob["spec"]["schedule"] != only(render(BASE), "CronJob")["spec"]["schedule"]
    assert "dr=dr-cluster" in container["args"]
    # The patch kept the rest of the container: only args changed.
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert set(only(manifests, "Secret")["data"]) == {"config"}
