"""World files: `drill sandbox world PLAN` prints the derived world, which reads back equal;
a world file's problems are named by file, line and column; a run built from an edited world
meets that world (a plan that does not fit it fails as it would for real), with the world's
faults armed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from drill.commands.sandbox import sandbox_world
from drill.errors import PlanError
from drill.sandbox.worlds.clusters import derive
from drill.sandbox.worlds.faults import FaultSpec
from drill.sandbox.worlds.files import load_world, serving_from_plans, world_yaml
from drill.sandbox.worlds.plans import resolve_both_modes
from tests.child import REPO
from tests.drills.conftest import fast_private_sandbox
from tests.inprocess import BriefSleeps, InProcess

PLANS = sorted((REPO / "plans").glob("*.yaml"))


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_a_derived_world_reads_back_equal(plan: Path, tmp_path: Path) -> None:
    world = derive(resolve_both_modes([plan]))
    faults = [FaultSpec("restore-stuck", "restore-namespace"), FaultSpec("api-5xx", None, 30.0)]
    path = tmp_path / "world.yaml"
    path.write_text(world_yaml(world, faults))
    read, read_faults = load_world(path)
    assert (serving_from_plans(read, [plan]), read_faults) == (world, faults)


# A world file's first lines: cluster dr holds backup "daily" (its fields follow).
DAILY_BACKUP_IN_DR = (
    "version: 1\nclusters:\n  dr:\n    backups:\n      daily:\n        schedule: daily\n"
)


def test_sandbox_world_prints_what_the_sandbox_assumes(tmp_path: Path) -> None:
    commands = InProcess(tmp_path)
    printed = commands.call(lambda c: sandbox_world(commands.settings(), ("region-failure",), c))
    assert printed.returncode == 0, printed.stderr
    document = yaml.safe_load(printed.stdout)
    backup = document["clusters"]["dr"]["backups"]["api-server-5m"]
    assert backup == {
        "schedule": "api-server-5m",
        "age": "1m",
        "namespaces": ["production"],
        "taken_in": "primary",  # a DR cluster restores the primary's backups
    }
    (zone,) = document["cloud"]["zones"]
    assert {r["name"] for r in zone["records"]} == {"api.example.com.", "drill-api.example.com."}
    path = tmp_path / "world.yaml"
    path.write_text(printed.stdout)
    plan = REPO / "plans" / "region-failure.yaml"
    assert serving_from_plans(load_world(path)[0], [plan]) == derive(resolve_both_modes([plan]))


def test_a_world_files_problems_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(
        DAILY_BACKUP_IN_DR + "        age: 3600\n"
        "faults:\n"
        "  - name: restore-stuk\n"
        "    at_step: restore\n"
        "colour: blue\n"
    )
    with pytest.raises(PlanError) as raised:
        load_world(path)
    text = str(raised.value)
    assert f"{path}:7:14: clusters.dr.backups.daily.age: 3600 has no unit" in text
    assert f"{path}:9:11: faults[0].name: no fault 'restore-stuk'" in text
    assert f"{path}:11:1: colour:" in text


def test_a_backup_taken_in_a_cluster_the_world_lacks_is_named(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(DAILY_BACKUP_IN_DR + "        age: 1h\n        taken_in: primry\n")
    with pytest.raises(PlanError) as raised:
        load_world(path)
    assert str(raised.value) == (
        f"{path}:8:19: clusters.dr.backups.daily.taken_in: no cluster 'primry' in this world; "
        "its clusters: dr"
    )


@pytest.mark.slow
def test_a_run_meets_the_world_file_as_edited_with_its_faults(tmp_path: Path) -> None:
    """The derived world of namespace-restore, edited: its newest backup 30 h old (the plan
    checks for 26 h) and a fault armed at the smoke test. The backup check fails as it would
    in a cluster whose schedule stopped; with the age put back, the world's fault fails the
    smoke test."""
    plan = REPO / "plans" / "namespace-restore.yaml"
    document = yaml.safe_load(world_yaml(derive(resolve_both_modes([plan]))))
    document["clusters"]["dr"]["backups"]["daily-backup"]["age"] = "30h"
    stale = tmp_path / "stale.yaml"
    stale.write_text(yaml.safe_dump(document))
    commands = InProcess(
        tmp_path,
        {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")},
        clock=BriefSleeps(),
        start_sandbox=fast_private_sandbox,
    )
    result = commands.run("namespace-restore", sandbox=True, output="json", world=stale)
    assert result.returncode == 3, result.stderr[-2000:]
    failed = [s for s in json.loads(result.stdout)["steps"] if s["status"] == "failed"]
    assert [s["id"] for s in failed] == ["backup-fresh"]
    assert "30h" in failed[0]["error"] or "1d06h" in failed[0]["error"], failed[0]["error"]

    document["clusters"]["dr"]["backups"]["daily-backup"]["age"] = "2h"
    document["faults"] = [{"name": "job-fails", "at_step": "smoke-test"}]
    faulty = tmp_path / "faulty.yaml"
    faulty.write_text(yaml.safe_dump(document))
    result = commands.run("namespace-restore", sandbox=True, output="json", world=faulty)
    assert result.returncode == 3, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert [s["id"] for s in report["steps"] if s["status"] == "failed"] == ["smoke-test"]
    assert (
        "sandbox fault job-fails@smoke-test: armed when step smoke-test started"
        in (report["notes"])
    )


def test_a_world_without_the_plans_cluster_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text("version: 1\nclusters:\n  primary: {}\n")
    commands = InProcess(
        tmp_path, {"DRILL_SANDBOX_DIR": str(tmp_path / "sandbox")}, clock=BriefSleeps()
    )
    result = commands.run("namespace-restore", sandbox=True, world=path)
    assert result.returncode == 2
    assert "the sandbox's world has no cluster for role(s) dr" in result.stderr


def test_a_world_backup_ttl_is_how_long_its_schedule_keeps_each_backup(tmp_path: Path) -> None:
    plan = REPO / "plans" / "region-failure.yaml"
    document = yaml.safe_load(world_yaml(derive(resolve_both_modes([plan]))))
    backups = document["clusters"]["dr"]["backups"]
    backups["api-server-5m"]["ttl"] = "30m"
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(document))
    read, _ = load_world(path)
    kept = read.clusters["dr"].backups["api-server-5m"]
    assert (kept.ttl_s, kept.kept_s) == (1800.0, 1800.0)
    assert (
        yaml.safe_load(world_yaml(read))["clusters"]["dr"]["backups"]["api-server-5m"]["ttl"]
        == "30m"
    )
    # Untold, ten of its two-minute periods fall short of the hour it keeps at least.
    assert derive(resolve_both_modes([plan])).clusters["dr"].backups["api-server-5m"].kept_s == 3600
