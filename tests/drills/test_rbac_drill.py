"""drill's own RBAC, proven: whole drills run as the ServiceAccount of deploy/base/rbac.yaml.

The sandbox's clusters get deploy/base's namespace, ServiceAccount and RBAC objects; the
kubeconfig the runs use carries a token of ``system:serviceaccount:drill:drill`` (from the
TokenRequest API, as the CronJob's pod gets one) instead of the admin's. A drill with its
rollback then passes under exactly those rules, and without any one of them it fails (exit 3
or 4), saying which request was forbidden.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from drill.sandbox.kube import write_kubeconfig
from drill.sandbox.state import SandboxState, write_state
from tests.child import REPO
from tests.drills.conftest import FAST, Drill, lose_workloads, start_drill_sandbox
from tests.drills.test_namespace_restore import wait_gone

pytestmark = pytest.mark.slow

BASE = REPO / "deploy" / "base"
LIVE_UNDO = REPO / "deploy" / "components" / "live-undo" / "rbac-live-undo.yaml"
NAMESPACE_RESTORE = REPO / "plans" / "namespace-restore.yaml"
REGION_FAILURE = REPO / "plans" / "region-failure.yaml"
ACCOUNT = "system:serviceaccount:drill:drill"


def base_manifests() -> list[dict[str, Any]]:
    """deploy/base's namespace, ServiceAccount and RBAC, in the order an apply makes them."""
    found: list[dict[str, Any]] = []
    for name in ("namespace.yaml", "serviceaccount.yaml", "rbac.yaml"):
        found += [m for m in yaml.safe_load_all((BASE / name).read_text()) if m]
    return found


def live_undo_manifests() -> list[dict[str, Any]]:
    return [m for m in yaml.safe_load_all(LIVE_UNDO.read_text()) if m]


def rbac_rules() -> list[tuple[str, int, dict[str, Any]]]:
    """(role, index, rule) for every rule of every Role and ClusterRole in rbac.yaml."""
    return [
        (manifest["metadata"]["name"], index, rule)
        for manifest in base_manifests()
        if manifest["kind"] in ("Role", "ClusterRole")
        for index, rule in enumerate(manifest["rules"])
    ]


def as_drill_account(drill: Drill, manifests: list[dict[str, Any]]) -> Drill:
    """Apply ``manifests`` to every cluster and point the sandbox's state at a kubeconfig whose
    user is the drill ServiceAccount (one token per cluster: each signs its own)."""
    servers, tokens = {}, {}
    for role, emulator in drill.sandbox.clusters.items():
        for manifest in manifests:
            emulator.apply(manifest)
        context = drill.sandbox.contexts[role]
        servers[context] = emulator.url
        tokens[context] = emulator.token_for("drill", "drill")
    kubeconfig = write_kubeconfig(
        drill.workdir / "kubeconfig-drill-sa", servers, tokens=tokens, user="drill"
    )
    point_state_at(drill, kubeconfig, [NAMESPACE_RESTORE, REGION_FAILURE])
    return drill


def point_state_at(drill: Drill, kubeconfig: Path, plans: list[Path]) -> None:
    """The sandbox's state file, for drill's commands, now naming ``kubeconfig``."""
    write_state(
        drill.state_dir,
        SandboxState(
            os.getpid(),
            str(kubeconfig),
            drill.sandbox.contexts,
            [str(plan) for plan in plans],
            asdict(drill.sandbox.cloud_settings),
        ),
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([NAMESPACE_RESTORE, REGION_FAILURE], tmp_path)


@pytest.mark.parametrize("plan", [NAMESPACE_RESTORE, REGION_FAILURE], ids=lambda p: p.stem)
def test_a_drill_and_its_rollback_pass_as_the_drill_service_account(
    sandbox: Drill, plan: Path
) -> None:
    drill = as_drill_account(sandbox, base_manifests())
    report, result = drill.run_json(str(plan))
    assert result.returncode == 0, result.stderr[-3000:]
    assert report["outcome"] == "passed"
    assert all(u["status"] == "undone" for u in report["undo"]), report["undo"]
    wait_gone(drill, "dr-test")
    # It really ran as the account: the admin did nothing the account could not.
    assert "forbidden" not in result.stdout + result.stderr


def without(manifests: list[dict[str, Any]], role: str, index: int) -> list[dict[str, Any]]:
    trimmed = copy.deepcopy(manifests)
    for manifest in trimmed:
        if manifest["kind"] in ("Role", "ClusterRole") and manifest["metadata"]["name"] == role:
            del manifest["rules"][index]
    return trimmed


SCALING = ("deployments/scale", "statefulsets/scale", "horizontalpodautoscalers")


def plan_for(rule: dict[str, Any]) -> Path:
    """Only region-failure scales a workload (and looks for its autoscalers first);
    namespace-restore makes every other call."""
    scales = any(r in SCALING for r in rule["resources"])
    return REGION_FAILURE if scales else NAMESPACE_RESTORE


@pytest.mark.parametrize(
    ("role", "index", "rule"),
    rbac_rules(),
    ids=[f"{role}-{'+'.join(rule['resources'])}" for role, _, rule in rbac_rules()],
)
def test_without_any_one_rule_the_drill_fails_saying_what_was_forbidden(
    sandbox: Drill, role: str, index: int, rule: dict[str, Any]
) -> None:
    drill = as_drill_account(sandbox, without(base_manifests(), role, index))
    result = drill.run(str(plan_for(rule)), output="json")
    said = result.stdout + result.stderr
    if "leases" in rule["resources"]:
        # Without its lease a run never starts: nothing to undo, so a usage error.
        assert result.returncode == 2, said[-3000:]
        assert "cannot take the run lease" in result.stderr
        assert "let it finish" not in result.stderr  # no other run is to blame
    elif "downloadrequests" in rule["resources"]:
        # Restore completeness cannot be read: the run still recovers, and its report says
        # completeness was not measured, and why, rather than calling the restore complete.
        assert result.returncode == 0, said[-3000:]
        [restore] = json.loads(result.stdout)["restores"]
        assert restore["complete"] is None
        said = restore["reason"]
    elif "services/proxy" in rule["resources"]:
        # The probe cannot reach the restored Service: the run still recovers (pass/fail stays
        # on verify), and users served is not measured, saying why.
        assert result.returncode == 0, said[-3000:]
        rto = json.loads(result.stdout)["rto"]
        assert rto["users_served_s"] is None
        said = rto["users_served_source"]
    else:
        assert result.returncode in (3, 4), said[-3000:]
        assert json.loads(result.stdout)["outcome"] != "passed"
    verbs = "|".join(rule["verbs"])
    resources = "|".join(re.escape(r) for r in rule["resources"])
    refused = re.compile(
        rf'permission denied: .*User \\?"{ACCOUNT}\\?" cannot ({verbs}) resource '
        rf'\\?"({resources})\\?"'
    )
    assert refused.search(said), said[-3000:]


def restored_in_production(drill: Drill) -> list[str]:
    """Objects in production that a Velero restore labelled as its own."""
    return [
        f"{kind}/{item['metadata']['name']}"
        for api_version, kind in (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "Pod"))
        for item in drill.dr.list(api_version, kind, "production")
        if "velero.io/restore-name" in item["metadata"].get("labels", {})
    ]


def test_a_live_restore_is_undone_as_the_account_with_the_live_undo_component(
    sandbox: Drill,
) -> None:
    drill = as_drill_account(sandbox, base_manifests() + live_undo_manifests())
    lose_workloads(drill, "production")
    report, result = drill.run_json(str(NAMESPACE_RESTORE), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert restored_in_production(drill) != []
    rollback = drill.rollback(report["run_id"])
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert restored_in_production(drill) == []
    # Production outlives the run (it was there before): only what the restore made went.
    assert drill.dr.get("v1", "Namespace", "production") is not None


def test_without_the_live_undo_component_a_live_rollback_is_forbidden(sandbox: Drill) -> None:
    drill = as_drill_account(sandbox, base_manifests())
    drill.dr.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "production"}})
    lose_workloads(drill, "production")
    report, result = drill.run_json(str(NAMESPACE_RESTORE), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    rollback = drill.rollback(report["run_id"])
    assert rollback.returncode == 4
    assert (
        f'User "{ACCOUNT}" cannot delete resource "deployments" in API group "apps" in the '
        'namespace "production"'
    ) in rollback.stdout


# --- credentials that expire during the run ---------------------------------------------------


class RotatingCredentials:
    """An exec credential plugin, as `aws eks get-token` or `gke-gcloud-auth-plugin` are: it
    prints the current short-lived token of the drill ServiceAccount, which a thread replaces
    every ``rotate_s``. Every call is counted."""

    def __init__(self, drill: Drill, lifetime_s: int, rotate_s: float) -> None:
        self.drill, self.lifetime_s, self.rotate_s = drill, lifetime_s, rotate_s
        self.directory = drill.workdir / "exec-plugin"
        self.directory.mkdir()
        self.calls = self.directory / "calls"
        self.plugin = self.directory / "get-token"
        self.plugin.write_text(
            f"#!/bin/sh\necho >> {self.calls}\ncat {self.directory}/credential.json\n"
        )
        self.plugin.chmod(0o755)
        self.stop = threading.Event()
        self.tokens: set[str] = set()

    def write(self) -> None:
        token = self.drill.dr.token_for("drill", "drill", expiration_s=self.lifetime_s)
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        expiry = datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        credential = {
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": {"token": token, "expirationTimestamp": expiry},
        }
        staged = self.directory / "credential.json.new"
        staged.write_text(json.dumps(credential))
        staged.replace(self.directory / "credential.json")  # never half-written
        self.tokens.add(token)

    def kubeconfig(self) -> Path:
        """The sandbox's kubeconfig with its dr context's user replaced by the plugin."""
        dr = self.drill.sandbox.contexts["dr"]
        document = yaml.safe_load(Path(str(self.drill.sandbox.kubeconfig)).read_text())
        user = next(c["context"]["user"] for c in document["contexts"] if c["name"] == dr)
        document["users"] = [u for u in document["users"] if u["name"] != user] + [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": str(self.plugin),
                        "interactiveMode": "Never",
                    }
                },
            }
        ]
        path = self.directory / "kubeconfig"
        path.write_text(yaml.safe_dump(document))
        return path

    @contextmanager
    def rotating(self) -> Iterator[None]:
        self.write()
        thread = threading.Thread(target=self._rotate, daemon=True)
        thread.start()
        try:
            yield
        finally:
            self.stop.set()
            thread.join(5)

    def _rotate(self) -> None:
        while not self.stop.wait(self.rotate_s):
            self.write()


@pytest.fixture
def restore_only(tmp_path: Path) -> Iterator[Drill]:
    # A restore of 5 s: the run outlasts a 2 s token twice over.
    yield from start_drill_sandbox(
        [NAMESPACE_RESTORE], tmp_path, profile=replace(FAST, restore_duration_s=5.0)
    )


def test_a_drill_outlives_its_short_lived_credentials_through_the_exec_plugin(
    restore_only: Drill,
) -> None:
    """Tokens live 2 s; the run takes longer. The client runs the exec plugin again for an
    expired credential, the API server takes the new token, and the drill passes."""
    drill = restore_only
    for manifest in base_manifests():
        drill.dr.apply(manifest)
    credentials = RotatingCredentials(drill, lifetime_s=2, rotate_s=0.5)
    point_state_at(drill, credentials.kubeconfig(), [NAMESPACE_RESTORE])
    with credentials.rotating():
        report, result = drill.run_json(str(NAMESPACE_RESTORE))
    assert result.returncode == 0, result.stderr[-3000:]
    started = datetime.fromisoformat(report["started_at"])
    finished = datetime.fromisoformat(report["finished_at"])
    assert (finished - started).total_seconds() > 2 * credentials.lifetime_s
    assert len(credentials.calls.read_text().splitlines()) > 2
    assert len(credentials.tokens) > 2


def test_a_token_that_expires_mid_run_is_refused_by_the_sandbox(restore_only: Drill) -> None:
    """The control: the same short-lived token written into the kubeconfig, with nothing to
    renew it, stops working once it expires, and drill says the cluster refused it."""
    drill = restore_only
    for manifest in base_manifests():
        drill.dr.apply(manifest)
    servers = {drill.sandbox.contexts["dr"]: drill.dr.url}
    token = drill.dr.token_for("drill", "drill", expiration_s=2)
    kubeconfig = write_kubeconfig(
        drill.workdir / "kubeconfig-static", servers, tokens={drill.sandbox.contexts["dr"]: token}
    )
    point_state_at(drill, kubeconfig, [NAMESPACE_RESTORE])
    report, result = drill.run_json(str(NAMESPACE_RESTORE))
    # The restore's wait was refused once the token expired, and so was every undo: the drill
    # namespace could not be removed, which is exit 4, each step naming the refusal.
    assert result.returncode == 4, result.stderr[-3000:]
    failed = [s for s in report["steps"] if s["status"] == "failed"]
    assert failed, report["steps"]
    assert "credentials were rejected (401)" in failed[0]["error"]
