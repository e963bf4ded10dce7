"""`drill sandbox capture`: a running sandbox read into a world file, run against, and edited.

The sandbox stands in for a real estate: capture reads its clusters and cloud emulators through
the same clients as it would read real ones; every shipped plan then passes against what it
captured, and fails (exit 3, naming the mismatch) once the captured world no longer fits it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from drill.commands.capture import CaptureOptions, sandbox_capture
from tests.child import REPO
from tests.drills.conftest import Drill, fast_private_sandbox, start_drill_sandbox
from tests.inprocess import InProcess, Result

pytestmark = pytest.mark.slow  # whole drills against captured worlds: seconds each

PLANS = ("namespace-restore", "region-failure", "region-failure-aws")
# Production's autoscaler: region-failure scales the restored api-server to 20, within it.
AUTOSCALER = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "api-server", "namespace": "production"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api-server"},
        "minReplicas": 3,
        "maxReplicas": 30,
    },
}
SECRET_VALUE = "hunter2-captured-never"


@dataclass
class Captured:
    worlds: dict[str, Path]  # plan -> its captured world file
    refused: Result  # an existing --output without --force
    forced: Result  # the same with --force
    kept: str  # the existing file's text after the refusal
    wrong_context: Result  # --context dr=no-such-context


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    """Each shipped plan's world, captured from one sandbox of them all (with a Secret where
    capture looks), which is gone once they are: a run against a world starts a sandbox of
    its own, and moto keeps one state per process."""
    tmp_path = tmp_path_factory.mktemp("estate")
    plans = [REPO / "plans" / f"{name}.yaml" for name in PLANS]
    estate = start_drill_sandbox(plans, tmp_path)
    drill = next(estate)
    try:
        drill.dr.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "api-server-db-password", "namespace": "production"},
                "data": {"password": base64.b64encode(SECRET_VALUE.encode()).decode()},
            }
        )
        for cluster in drill.sandbox.clusters.values():  # where production runs and is backed up
            if cluster.get("v1", "Namespace", "production") is not None:
                cluster.apply(AUTOSCALER)
        worlds = {}
        for plan in PLANS:
            worlds[plan] = tmp_path / f"{plan}.yaml"
            result = capture(drill, plan, output=worlds[plan])
            assert result.returncode == 0, result.stderr
            assert "drill: capture:" not in result.stderr  # all the plan touches was read
        mine = tmp_path / "mine.yaml"
        mine.write_text("mine\n")
        refused = capture(drill, "namespace-restore", output=mine)
        kept = mine.read_text()
        forced = capture(drill, "namespace-restore", output=mine, force=True)
        commands = drill.commands
        kubeconfig = str(drill.sandbox.kubeconfig)
        wrong = CaptureOptions(
            "namespace-restore", contexts=("dr=no-such-context",), kubeconfig=kubeconfig
        )
        wrong_context = commands.call(
            lambda console: sandbox_capture(commands.settings(), wrong, console)
        )
    finally:
        estate.close()
    return Captured(worlds, refused, forced, kept, wrong_context)


def capture(drill: Drill, plan: str, **options: Any) -> Result:
    given = CaptureOptions(plan, sandbox=True, **options)
    commands = drill.commands
    return commands.call(lambda console: sandbox_capture(commands.settings(), given, console))


def run_with_world(tmp_path: Path, plan: str, world: Path) -> Result:
    """`drill run PLAN --sandbox --world FILE`, with no sandbox up (it starts one)."""
    alone = InProcess(
        tmp_path,
        {"DRILL_SANDBOX_DIR": str(tmp_path / "none-up")},
        start_sandbox=fast_private_sandbox,
    )
    return alone.run(plan, sandbox=True, world=world, output="json")


def impatient_plan(tmp_path: Path) -> Path:
    """region-failure, waiting seconds rather than minutes for what will never come."""
    text = (REPO / "plans" / "region-failure.yaml").read_text()
    for old, new in (("timeout: 10m", "timeout: 3s"), ("within: 2m", "within: 3s")):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "region-failure.yaml"
    path.write_text(text)
    return path


def document_of(captured: Captured, plan: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(captured.worlds[plan].read_text())
    return document


def edited(
    tmp_path: Path, document: dict[str, Any], change: Callable[[dict[str, Any]], None]
) -> Path:
    change(document)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize("plan", PLANS)
def test_every_shipped_plan_passes_against_the_world_captured_from_its_estate(
    captured: Captured, plan: str, tmp_path: Path
) -> None:
    run = run_with_world(tmp_path, plan, captured.worlds[plan])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_capture_never_holds_a_secret(captured: Captured) -> None:
    text = captured.worlds["namespace-restore"].read_text()
    assert "kind: Deployment" in text  # production's workloads were read
    assert SECRET_VALUE not in text
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in text
    assert "api-server-db-password" not in text
    assert "Secret" not in text


def test_capture_keeps_an_autoscaler_s_target_and_bounds(captured: Captured) -> None:
    document = document_of(captured, "region-failure")
    [kept] = [
        obj
        for obj in document["clusters"]["primary"]["standing"]
        if obj["kind"] == "HorizontalPodAutoscaler"
    ]
    assert kept["spec"] == AUTOSCALER["spec"]
    assert kept["apiVersion"] == "autoscaling/v2"
    # What a backup of production holds, restored in dr, brings the autoscaler along.
    contents = document["clusters"]["dr"]["contents"]["production"]
    assert kept in contents


def test_capture_keeps_what_sets_the_pace_of_a_rollout(captured: Captured) -> None:
    document = document_of(captured, "region-failure")
    [kept] = [
        obj
        for obj in document["clusters"]["primary"]["standing"]
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "api-server"
    ]
    rolling = {"maxSurge": "25%", "maxUnavailable": "25%"}
    assert kept["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": rolling}
    assert kept["spec"]["progressDeadlineSeconds"] == 600
    assert "env" not in str(kept)


def test_capture_reads_the_schedule_cadence_and_the_zone_nameservers(captured: Captured) -> None:
    document = document_of(captured, "region-failure")
    backup = document["clusters"]["dr"]["backups"]["api-server-5m"]
    assert {"age", "every", "takes"} <= set(backup)
    assert backup["namespaces"] == ["production"]
    zone = document["cloud"]["zones"][0]
    assert "ns-cloud-a1.googledomains.com." in zone["nameservers"]
    names = {record["name"] for record in zone["records"]}
    assert names == {"drill-api.example.com.", "api.example.com."}
    assert document["clusters"]["dr"]["storage_locations"] == [{"name": "default"}]


def _backup_too_old(document: dict[str, Any]) -> None:
    backup = document["clusters"]["dr"]["backups"]["api-server-5m"]
    backup["age"], backup["every"] = "2h", "4h"


def _zone_gone(document: dict[str, Any]) -> None:
    document["cloud"]["zones"][0]["zone"] = "example-org"


def _record_missing(document: dict[str, Any]) -> None:
    # The shadow record the drill switches is not in the zone (a misspelt name, say).
    zone = document["cloud"]["zones"][0]
    zone["records"] = [r for r in zone["records"] if r["name"] != "drill-api.example.com."]


def _nameserver_not_serving(document: dict[str, Any]) -> None:
    document["cloud"]["zones"][0]["nameservers"] = ["ns-cloud-b1.googledomains.com."]


def _labels_not_selected(document: dict[str, Any]) -> None:
    for cluster in document["clusters"].values():
        for objects in [*cluster.get("contents", {}).values(), cluster.get("standing", [])]:
            for obj in objects:
                if obj["kind"] == "Deployment":
                    for labels in (
                        obj["metadata"]["labels"],
                        obj["spec"]["template"]["metadata"]["labels"],
                        obj["spec"]["selector"]["matchLabels"],
                    ):
                        labels["app"] = "api"


def _autoscaler_capped(document: dict[str, Any]) -> None:
    for cluster in document["clusters"].values():
        for objects in [*cluster.get("contents", {}).values(), cluster.get("standing", [])]:
            for obj in objects:
                if obj["kind"] == "HorizontalPodAutoscaler":
                    obj["spec"]["maxReplicas"] = 10


def _location_unavailable(document: dict[str, Any]) -> None:
    document["clusters"]["dr"]["storage_locations"] = [{"name": "default", "phase": "Unavailable"}]


@pytest.mark.parametrize(
    ("change", "step", "said"),
    [
        (_backup_too_old, "velero-backup-fresh", "max_age"),
        (_zone_gone, "clouds-reachable", "example-com"),
        (_record_missing, "switch-dns", "drill-api.example.com. A does not exist in zone"),
        (_nameserver_not_serving, "switch-dns", "ns-cloud-a1"),
        (_labels_not_selected, "workloads-ready", "app=api-server"),
        (_location_unavailable, "velero-backup-fresh", "Unavailable"),
        (_autoscaler_capped, "scale-up-standby", "(min 3, max 10): it would move 20 replicas"),
    ],
    ids=[
        "backup-too-old",
        "zone-gone",
        "record-missing",
        "nameserver-not-serving",
        "labels",
        "bsl-unavailable",
        "autoscaler-capped",
    ],
)
def test_a_captured_world_edited_out_of_fit_fails_the_run_naming_the_mismatch(
    captured: Captured,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    step: str,
    said: str,
) -> None:
    world = edited(tmp_path, document_of(captured, "region-failure"), change)
    run = run_with_world(tmp_path, str(impatient_plan(tmp_path)), world)
    assert run.returncode == 3, run.stderr[-3000:]
    report = yaml.safe_load(run.stdout)
    failed = {s["id"]: s for s in report["steps"] if s["status"] == "failed"}
    assert step in failed, [(s["id"], s["status"]) for s in report["steps"]]
    assert said in (failed[step].get("error") or ""), failed[step]


def test_an_existing_output_file_is_kept_unless_forced(captured: Captured) -> None:
    assert captured.refused.returncode == 2
    assert "exists; add --force" in captured.refused.stderr
    assert captured.kept == "mine\n"
    assert captured.forced.returncode == 0, captured.forced.stderr


def test_a_context_that_does_not_exist_is_one_clear_line(captured: Captured) -> None:
    result = captured.wrong_context
    assert result.returncode == 2
    assert "no-such-context" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
