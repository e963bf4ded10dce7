"""RPO in whole sandbox drills: from data and from backup metadata against the sandbox's truth,
point-in-time drills (``--disaster-at``), and sources that leave RPO not measured.

The truth is the sandbox's own record at full precision (``drill.sandbox.truth``): when each
backup really started and which heartbeat it captured, when each heartbeat object was written.
drill reads the restored heartbeat to the microsecond, so RPO from data is within 0.25 s of the
truth; Velero and S3 keep whole seconds of a start, so RPO from backup metadata is late by less
than a second (never early).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drill.sandbox.truth import StepSeen, TrueRpo, true_rpo
from tests.child import REPO
from tests.drills.conftest import Drill, start_drill_sandbox
from tests.drills.test_namespace_restore import step, wait_gone

# Whole drills with real (if short) simulated waits: seconds each.
pytestmark = pytest.mark.slow

SHIPPED = ("namespace-restore", "region-failure", "region-failure-aws")
TEST_PLAN = Path(__file__).parent / "plans" / "recovery-points.yaml"


def plan_file(name: str) -> Path:
    return REPO / "plans" / f"{name}.yaml"


def run_json(drill: Drill, plan: Path, disaster_at: datetime | None = None) -> dict[str, Any]:
    given = disaster_at.isoformat() if disaster_at else None
    result = drill.commands.run(str(plan), sandbox=True, output="json", disaster_at=given)
    assert result.stdout, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    return report


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def truth_of(drill: Drill, report: dict[str, Any]) -> TrueRpo:
    steps = [StepSeen(s["id"], s["type"], s["facts"]) for s in report["steps"]]
    return true_rpo(drill.sandbox, steps, parse(report["disaster_at"]))


def assert_matches_truth(drill: Drill, report: dict[str, Any]) -> TrueRpo:
    rpo, truth = report["rpo"], truth_of(drill, report)
    assert truth.from_data_s is not None
    assert truth.from_backup_s is not None
    assert abs(rpo["from_data_s"] - truth.from_data_s) < 0.25
    # Velero writes a backup's start to the whole second, and the report rounds seconds to
    # the millisecond: a start at .999767 reads up to a second and half a millisecond long.
    assert -0.0005 <= rpo["from_backup_s"] - truth.from_backup_s < 1.0005
    assert rpo["measured_s"] == rpo["from_data_s"]  # pass/fail is judged on data
    assert parse(report["recovery_point"]) <= parse(report["disaster_at"])
    return truth


@pytest.fixture
def namespace_restore(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([plan_file("namespace-restore")], tmp_path)


@pytest.fixture
def probes(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([TEST_PLAN], tmp_path)


@pytest.mark.parametrize("plan", SHIPPED)
def test_every_shipped_plan_reports_both_rpos_within_the_truth(plan: str, tmp_path: Path) -> None:
    for drill in start_drill_sandbox([plan_file(plan)], tmp_path):
        report = run_json(drill, plan_file(plan))
        assert report["outcome"] == "passed", report["steps"]
        truth = assert_matches_truth(drill, report)
        kinds = {p["step_id"]: p["kind"] for p in report["rpo"]["points"]}
        assert kinds["restored-heartbeat"] == "data"
        assert set(truth.data_points) <= {k for k, v in kinds.items() if v == "data"}
        assert {k for k, v in kinds.items() if v == "backup metadata"} == set(truth.backup_points)
        # The heartbeat is not the backup's start: the two figures differ, as for real.
        assert report["rpo"]["from_data_s"] != report["rpo"]["from_backup_s"]


def test_disaster_at_before_the_newest_backup_restores_an_older_one(
    namespace_restore: Drill,
) -> None:
    backups = sorted(namespace_restore.dr.truth.backups(), key=lambda b: b.started_at)
    assert len(backups) >= 3  # the schedule's history
    newest, middle = backups[-1], backups[-2]
    t0 = newest.started_at - timedelta(minutes=20)  # after the middle one completed
    assert middle.completed_at < t0
    report = run_json(namespace_restore, plan_file("namespace-restore"), t0)
    assert report["outcome"] == "passed", report["steps"]
    assert report["disaster_at_source"] == "--disaster-at"
    assert step(report, "restore-production")["facts"]["backup"] == middle.name
    assert step(report, "backup-fresh")["facts"]["backup"] == middle.name
    assert parse(report["recovery_point"]) <= parse(report["disaster_at"])
    truth = assert_matches_truth(namespace_restore, report)
    (beat,) = middle.heartbeats
    assert truth.data_points["restored-heartbeat"] == beat.written_at
    wait_gone(namespace_restore, "dr-test")


def test_disaster_at_before_every_backup_fails_naming_t0_and_the_oldest(
    namespace_restore: Drill,
) -> None:
    oldest = min(namespace_restore.dr.truth.backups(), key=lambda b: b.started_at)
    t0 = oldest.started_at - timedelta(hours=1)
    report = run_json(namespace_restore, plan_file("namespace-restore"), t0)
    assert report["exit_code"] == 3
    failed = step(report, "backup-fresh")
    assert failed["status"] == "failed"
    said = f"by t0 {t0.astimezone(UTC):%Y-%m-%d %H:%M:%S}"
    assert said in failed["error"]
    assert f"the oldest of 3, {oldest.name}, completed" in failed["error"]
    assert step(report, "restore-production")["status"] == "not_run"
    assert report["rpo"]["measured_s"] is None
    assert report["rpo"]["source"].startswith("not measured: step backup-fresh failed")


def test_a_failed_backup_check_leaves_rpo_not_measured_beside_a_passing_one(
    tmp_path: Path,
) -> None:
    for drill in start_drill_sandbox([plan_file("region-failure")], tmp_path):
        drill.dr.velero.set_storage_location("default", available=False)
        report = run_json(drill, plan_file("region-failure"))
        assert report["exit_code"] == 3
        assert step(report, "velero-backup-fresh")["status"] == "failed"
        assert step(report, "database-export-fresh")["status"] == "passed"
        rpo = report["rpo"]
        assert (rpo["measured_s"], rpo["met"], rpo["from_backup_s"]) == (None, None, None)
        assert rpo["source"] == (
            "not measured: step velero-backup-fresh failed, so the recovery point (backup "
            "metadata) of what it checks is unknown"
        )
        assert [p["step_id"] for p in rpo["points"]] == ["database-export-fresh"]
        assert report["recovery_point"] is None


def test_every_probe_reads_the_recovered_data_and_the_job_goes(probes: Drill) -> None:
    report = run_json(probes, TEST_PLAN)
    assert report["outcome"] == "passed", report["steps"]
    points = {p["step_id"]: p for p in report["rpo"]["points"]}
    # The Job's kubectl read the same restored heartbeat as the ConfigMap probe.
    assert points["query"]["at"] == points["heartbeat"]["at"]
    assert points["query"]["kind"] == points["uploads-heartbeat"]["kind"] == "data"
    truth = assert_matches_truth(probes, report)
    for probe in ("uploads-heartbeat", "db-query"):
        read = parse(points[probe]["at"])
        assert abs((read - truth.data_points[probe]).total_seconds()) < 0.25, probe
    # psql cannot run here: the sandbox's stand-in database (a heartbeat the restore brought
    # back, written on its own schedule) is what the query Job printed.
    assert points["db-query"]["at"] != points["heartbeat"]["at"]
    # The oldest data source decides: a restored one, never the live replica.
    restored = min(parse(points[p]["at"]) for p in ("heartbeat", "query", "db-query"))
    assert parse(report["recovery_point"]) == restored < parse(points["uploads-heartbeat"]["at"])
    assert {u["step_id"]: u["status"] for u in report["undo"]} == {
        "query": "undone",
        "db-query": "undone",
        "restore": "undone",
    }
    assert probes.dr.list("batch/v1", "Job") == []
    wait_gone(probes, "dr-test")
