"""deploy/base/rbac.yaml: least privilege, no wildcard, cluster scope only where unavoidable."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from drill.steps.velero_restore import RESTORED_KINDS
from providers.kube import _KIND_PATHS
from tests.child import REPO
from tests.deploy.kustomize import Manifest

RBAC = "rbac.authorization.k8s.io/v1"
SUBJECT = {"kind": "ServiceAccount", "name": "drill", "namespace": "drill"}
# Every (scope, group, resource, verb) the ServiceAccount is granted: exactly the calls
# providers/kube.py and providers/velero.py make. A new call needs a new line here and a rule.
EXPECTED_GRANTS = (
    {("cluster", "", "namespaces", verb) for verb in ("get", "create", "delete")}
    | {
        ("cluster", "apps", resource, verb)
        for resource in ("deployments", "statefulsets")
        for verb in ("list", "watch")
    }
    | {
        ("cluster", "apps", resource, verb)
        for resource in ("deployments/scale", "statefulsets/scale")
        for verb in ("get", "patch")
    }
    | {("cluster", "batch", "jobs", verb) for verb in ("create", "list", "watch", "delete")}
    | {
        ("cluster", "", "configmaps", "get"),
        ("cluster", "", "pods", "list"),
        ("cluster", "", "pods/log", "get"),
        ("cluster", "", "services/proxy", "get"),
        ("cluster", "autoscaling", "horizontalpodautoscalers", "list"),
        ("velero", "velero.io", "backups", "get"),
        ("velero", "velero.io", "backups", "list"),
        ("velero", "velero.io", "backupstoragelocations", "get"),
    }
    | {("velero", "velero.io", "restores", verb) for verb in ("create", "list", "watch", "delete")}
    | {("velero", "velero.io", "downloadrequests", verb) for verb in ("create", "get", "delete")}
    | {
        ("default", "coordination.k8s.io", "leases", verb)
        for verb in ("get", "create", "update", "delete")
    }
)


def rbac_objects(rendered: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in rendered if m["apiVersion"] == RBAC and m["kind"] == kind]


def roles(rendered: list[Manifest]) -> list[Manifest]:
    return rbac_objects(rendered, "Role") + rbac_objects(rendered, "ClusterRole")


def granted(rendered: list[Manifest]) -> set[tuple[str, str, str, str]]:
    """What the bindings of the drill ServiceAccount grant, by scope."""
    by_ref = {(r["kind"], r["metadata"]["name"]): r for r in roles(rendered)}
    found = set()
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in rbac_objects(rendered, kind):
            assert binding["subjects"] == [SUBJECT]
            role = by_ref[(binding["roleRef"]["kind"], binding["roleRef"]["name"])]
            scope = binding["metadata"].get("namespace", "cluster")
            found |= {
                (scope, group, resource, verb)
                for rule in role["rules"]
                for group in rule["apiGroups"]
                for resource in rule["resources"]
                for verb in rule["verbs"]
            }
    return found


def test_no_rule_grants_a_wildcard(rendered: list[Manifest]) -> None:
    for role in roles(rendered):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert not any("*" in value for value in rule.get(field, [])), (
                    role["metadata"]["name"],
                    rule,
                )
            assert "nonResourceURLs" not in rule


def test_the_service_account_gets_exactly_the_calls_drill_makes(rendered: list[Manifest]) -> None:
    assert granted(rendered) == EXPECTED_GRANTS


def test_cluster_scope_only_for_namespaces_and_workloads(rendered: list[Manifest]) -> None:
    cluster_roles = {r["metadata"]["name"] for r in rbac_objects(rendered, "ClusterRole")}
    assert cluster_roles == {"drill-namespaces", "drill-workloads"}
    namespaced = {
        (r["metadata"]["namespace"], r["metadata"]["name"])
        for r in roles(rendered)
        if r["kind"] == "Role"
    }
    assert namespaced == {("velero", "drill-velero"), ("default", "drill-lease")}


def test_no_rule_escalates(rendered: list[Manifest]) -> None:
    """Nothing that would let drill widen its own rights or read secrets."""
    dangerous_verbs = {"bind", "escalate", "impersonate"}
    dangerous_resources = {
        "secrets",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
    }
    for role in roles(rendered):
        for rule in role["rules"]:
            assert not dangerous_verbs & set(rule["verbs"]), role["metadata"]["name"]
            assert not dangerous_resources & set(rule["resources"]), role["metadata"]["name"]


LIVE_UNDO = REPO / "deploy" / "components" / "live-undo"


def live_undo() -> list[Manifest]:
    text = (LIVE_UNDO / "rbac-live-undo.yaml").read_text(encoding="utf-8")
    return [m for m in yaml.safe_load_all(text) if m]


def restored_resources() -> set[tuple[str, str]]:
    """(group, resource) of every kind a live restore's undo lists and deletes."""
    found = set()
    for kind in RESTORED_KINDS:
        parts = _KIND_PATHS[kind].split("/")  # /api/v1/... or /apis/GROUP/VERSION/...
        group = "" if parts[1] == "api" else parts[2]
        found.add((group, parts[-1]))
    return found


def test_the_live_undo_component_grants_exactly_the_undo_of_a_live_restore() -> None:
    """Listing and deleting what Velero restores, in production only, and nothing else."""
    expected = {
        ("production", group, resource, verb)
        for group, resource in restored_resources()
        for verb in ("list", "delete")
    }
    assert granted(live_undo()) == expected
    assert rbac_objects(live_undo(), "ClusterRoleBinding") == []


def test_the_live_undo_component_is_not_in_the_base(rendered: list[Manifest]) -> None:
    names = {m["metadata"]["name"] for m in rendered}
    assert "drill-live-undo" not in names


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_an_overlay_can_add_the_live_undo_component(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(REPO / "deploy" / "base", overlay)],
                "components": [os.path.relpath(LIVE_UNDO, overlay)],
            }
        )
    )
    built = subprocess.run(
        ["kubectl", "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    manifests = [m for m in yaml.safe_load_all(built.stdout) if m]
    assert granted(manifests) == EXPECTED_GRANTS | granted(live_undo())
