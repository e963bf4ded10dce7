"""The weekly DR test (namespace-restore) in the sandbox: truth, cleanup, faults, the lock."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drill.sandbox.kube.api.objects import Obj
from tests.child import REPO
from tests.drills.conftest import FAST, Drill, snapshot, start_drill_sandbox
from tests.sandbox.helpers import deployment

# Whole drills with real (if short) simulated waits: seconds each.
pytestmark = pytest.mark.slow

WATCHED = ("production", "default", "velero")


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def wait_gone(drill: Drill, namespace: str) -> None:
    deadline = time.monotonic() + 10
    while drill.dr.get("v1", "Namespace", namespace) is not None:
        assert time.monotonic() < deadline, f"namespace {namespace} still exists"
        time.sleep(0.05)


def test_drill_passes_and_matches_ground_truth(namespace_restore: Drill) -> None:
    before = snapshot(namespace_restore.dr, WATCHED)
    report, result = namespace_restore.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    assert report["outcome"] == "passed"
    t0 = parse(report["disaster_at"])

    # RPO from data: t0 minus the heartbeat the restored backup captured, as the sandbox
    # wrote it; from backup metadata: its start, of which the API keeps whole seconds only.
    backup_name = step(report, "restore-production")["facts"]["backup"]
    truth = namespace_restore.dr.truth.backup(backup_name)
    assert truth is not None
    (beat,) = truth.heartbeats
    assert abs(report["rpo"]["from_data_s"] - (t0 - beat.written_at).total_seconds()) < 0.25
    assert report["rpo"]["measured_s"] == report["rpo"]["from_data_s"]
    assert parse(report["recovery_point"]) == beat.written_at
    backup_error_s = report["rpo"]["from_backup_s"] - (t0 - truth.started_at).total_seconds()
    assert 0 <= backup_error_s < 1

    # RTO: the emulator knows when the smoke-test job really finished.
    jobs = namespace_restore.dr.truth.jobs()
    assert len(jobs) == 1
    assert jobs[0].succeeded
    truth_rto = (jobs[0].finished_at - t0).total_seconds()
    assert abs(report["rto"]["measured_s"] - truth_rto) < 0.25
    restores = namespace_restore.dr.truth.restores()
    assert [r.phase for r in restores] == ["Completed"]

    # Everything the run made is gone; everything that existed is as it was.
    wait_gone(namespace_restore, "dr-test")
    assert namespace_restore.dr.get("velero.io/v1", "Restore", restores[0].name, "velero") is None
    after = snapshot(namespace_restore.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before


def test_the_rollback_is_read_back_and_a_rebuilt_report_says_so(namespace_restore: Drill) -> None:
    report, result = namespace_restore.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    rollback = report["rollback"]
    assert rollback["verified"] is True
    restore = next(s for s in report["steps"] if s["id"] == "restore-production")
    checks = {c["target"]: c for c in rollback["checks"]}
    assert set(checks) == {
        "namespace dr-test",
        f"restore {restore['facts']['restore']}",
        *(c["target"] for c in rollback["checks"] if c["step_id"] == "smoke-test"),
    }
    assert checks["namespace dr-test"]["detail"] == "gone, absent as drill found it"
    # Ground truth: what the read-back called gone is gone, without waiting any further.
    assert namespace_restore.dr.get("v1", "Namespace", "dr-test") is None
    assert rollback["duration_s"] > 0

    run_dir = namespace_restore.commands.reports / report["run_id"]
    (run_dir / "report.json").unlink()  # as if the run had been killed before writing it
    rebuilt = namespace_restore.commands.report(report["run_id"], output_format="json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["rollback"] == rollback


def test_restore_completeness_per_kind_in_the_report_and_its_rebuild(
    namespace_restore: Drill,
) -> None:
    report, result = namespace_restore.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    [restore] = report["restores"]
    assert restore["step_id"] == "restore-production"
    assert restore["complete"] is True
    kinds = {k["kind"]: k for k in restore["kinds"]}
    # Ground truth: what the backup the restore used holds, by kind, as the emulator keeps it.
    held = namespace_restore.dr.velero.contents.backup(restore["backup"])
    assert held is not None
    for kind, count in Counter(f"{o['apiVersion']}/{o['kind']}" for o in held).items():
        assert kinds[kind]["in_backup"] == count, (kind, restore)
    deployments = kinds["apps/v1/Deployment"]
    assert (deployments["restored"], deployments["skipped"]) == (deployments["in_backup"], 0)
    assert kinds["v1/Event"]["why_excluded"] == ["Velero never restores this kind"]

    run_dir = namespace_restore.commands.reports / report["run_id"]
    (run_dir / "report.json").unlink()
    rebuilt = namespace_restore.commands.report(report["run_id"], output_format="json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["restores"] == report["restores"]


def fault_run(
    drill: Drill, inject: Callable[[], object], plan: str = "namespace-restore"
) -> tuple[dict[str, Any], int]:
    before = snapshot(drill.dr, WATCHED)
    inject()
    report, result = drill.run_json(plan)
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before, "a pre-existing object changed"
    return report, result.returncode


def step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["id"] == step_id)


def test_restore_partially_failed_fails_the_step(namespace_restore: Drill) -> None:
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.fail_restore(phase="PartiallyFailed", errors=2),
    )
    assert code == 3
    assert "ended PartiallyFailed" in step(report, "restore-production")["error"]
    assert "2 errors" in step(report, "restore-production")["error"]
    assert [u["status"] for u in report["undo"]] == ["undone", "undone"]


def test_restore_failed(namespace_restore: Drill) -> None:
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.fail_restore(
            phase="Failed", failure_reason="disk full"
        ),
    )
    assert code == 3
    assert "ended Failed: disk full" in step(report, "restore-production")["error"]


def test_stuck_restore_names_its_phase(namespace_restore: Drill, tmp_path: Path) -> None:
    plan = tmp_path / "short.yaml"
    plan.write_text(
        (REPO / "plans" / "namespace-restore.yaml")
        .read_text()
        .replace("timeout: 30m", "timeout: 1s")
    )
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.hang_restore(phase="WaitingForPluginOperations"),
        str(plan),
    )
    assert code == 3
    restore = step(report, "restore-production")
    assert restore["status"] == "timed_out"
    assert "stuck in phase WaitingForPluginOperations" in restore["error"]


def test_pods_that_never_become_ready(namespace_restore: Drill, tmp_path: Path) -> None:
    plan = tmp_path / "short.yaml"
    plan.write_text(
        (REPO / "plans" / "namespace-restore.yaml")
        .read_text()
        .replace("timeout: 5m", "timeout: 1s")
    )
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.never_ready("dr-test", "api-server"),
        str(plan),
    )
    assert code == 3
    ready = step(report, "workloads-ready")
    assert ready["status"] == "timed_out"
    assert "Deployment api-server 0/3 ready" in ready["error"]
    assert report["rto"]["met"] is False


def test_api_server_5xx_burst_is_retried(namespace_restore: Drill) -> None:
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.fail_requests(2, status=503, path_contains="/backups"),
    )
    assert code == 0, report
    assert step(report, "backup-fresh")["attempts"] == 3


def test_dropped_watches_do_not_lose_the_restore(namespace_restore: Drill) -> None:
    report, code = fault_run(
        namespace_restore, lambda: namespace_restore.dr.faults.drop_watches(after_events=1)
    )
    assert code == 0, report
    assert step(report, "restore-production")["facts"]["phase"] == "Completed"


def test_unavailable_storage_location_fails_preflight(namespace_restore: Drill) -> None:
    # Changed before the snapshot: the location is the fault, not something the run did.
    namespace_restore.dr.velero.set_storage_location("default", available=False)
    report, code = fault_run(namespace_restore, lambda: None)
    assert code == 3
    assert "is Unavailable" in step(report, "backup-fresh")["error"]
    assert report["undo"] == []


def test_a_held_lease_keeps_a_second_run_out(namespace_restore: Drill) -> None:
    now = datetime.now(UTC)
    namespace_restore.dr.apply(lease("someone-elses-run", now))
    result = namespace_restore.run("namespace-restore")
    assert result.returncode == 2
    assert "someone-elses-run" in result.stderr
    assert not (namespace_restore.workdir / "reports").exists()


def test_an_expired_lease_is_taken_over(namespace_restore: Drill) -> None:
    namespace_restore.dr.apply(lease("crashed-run", datetime.now(UTC) - timedelta(minutes=5)))
    _, result = namespace_restore.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-2000:]
    # released at the end of the run
    assert (
        namespace_restore.dr.get(
            "coordination.k8s.io/v1", "Lease", "drill-namespace-restore", "default"
        )
        is None
    )


def lease(holder: str, renewed: datetime) -> Obj:
    stamp = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "drill-namespace-restore", "namespace": "default"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 60,
            "acquireTime": stamp,
            "renewTime": stamp,
        },
    }


def test_live_leaves_changes_and_rollback_undoes_them(namespace_restore: Drill) -> None:
    namespace_restore.dr.delete("v1", "Namespace", "production")  # the disaster: it is lost
    wait_gone(namespace_restore, "production")
    report, result = namespace_restore.run_json("namespace-restore", live=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["undo"] == []
    assert namespace_restore.dr.get("apps/v1", "Deployment", "api-server", "production") is not None
    rollback = namespace_restore.rollback(report["run_id"])
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "undone" in rollback.stdout
    wait_gone(namespace_restore, "production")


def test_backup_older_than_max_age_fails_preflight(
    namespace_restore: Drill, tmp_path: Path
) -> None:
    plan = tmp_path / "strict.yaml"
    plan.write_text(
        (REPO / "plans" / "namespace-restore.yaml")
        .read_text()
        .replace("max_age: 26h", "max_age: 5m")
    )
    report, code = fault_run(namespace_restore, lambda: None, str(plan))
    assert code == 3
    assert "over max_age 5m00s" in step(report, "backup-fresh")["error"]
    assert report["undo"] == []


def test_partially_failed_restore_passes_when_the_plan_allows_it(
    namespace_restore: Drill, tmp_path: Path
) -> None:
    plan = tmp_path / "tolerant.yaml"
    plan.write_text(
        (REPO / "plans" / "namespace-restore.yaml")
        .read_text()
        .replace(
            "        schedule: ${schedule}\n        include_namespaces",
            "        schedule: ${schedule}\n        allow_partially_failed: true\n"
            "        include_namespaces",
        )
    )
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.faults.fail_restore(phase="PartiallyFailed", errors=1),
        str(plan),
    )
    assert code == 0, report
    assert step(report, "restore-production")["facts"]["phase"] == "PartiallyFailed"


def test_history_reads_the_runs_kept_in_the_report_directory(namespace_restore: Drill) -> None:
    """Three runs back to back against one sandbox, then `drill history` with no location."""
    run_ids = []
    for _ in range(3):
        report, result = namespace_restore.run_json("namespace-restore")
        assert result.returncode == 0, result.stderr[-3000:]
        run_ids.append(report["run_id"])
    shown = namespace_restore.commands.history("namespace-restore", None, output="json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert [row["run_id"] for row in document["runs"]] == run_ids
    assert {row["outcome"] for row in document["runs"]} == {"passed"}


# A namespace Terminating for a noticeable time, as a real one with running pods is.
SLOW_TO_TERMINATE = replace(FAST, namespace_delete_s=1.0)


@pytest.fixture
def slow_namespaces(tmp_path: Path) -> Iterator[Drill]:
    plans = [REPO / "plans" / "namespace-restore.yaml"]
    yield from start_drill_sandbox(plans, tmp_path, SLOW_TO_TERMINATE)


def test_two_runs_back_to_back_both_pass(slow_namespaces: Drill) -> None:
    first, result = slow_namespaces.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    # The rollback called the namespace gone only once it was: the truth says when it went.
    (gone,) = slow_namespaces.dr.truth.namespaces_gone("dr-test")
    assert gone.deleted_at is not None
    assert (gone.gone_at - gone.deleted_at).total_seconds() >= 1.0  # Terminating all along
    assert first["rollback"]["verified"] is True
    assert parse(first["finished_at"]) >= gone.gone_at

    second, result = slow_namespaces.run_json("namespace-restore")
    assert result.returncode == 0, result.stderr[-3000:]
    assert second["outcome"] == "passed"
    created = parse(step(second, "create-namespace")["finished_at"])
    assert created >= gone.gone_at  # made afresh, after the first run's copy had gone
    assert [r.phase for r in slow_namespaces.dr.truth.restores()] == ["Completed", "Completed"]


def test_a_smoke_target_answering_500_fails_the_drill_with_curls_words(
    namespace_restore: Drill,
) -> None:
    report, code = fault_run(
        namespace_restore,
        lambda: namespace_restore.dr.answer_http("dr-test", "api-server", 500, path="/healthz"),
    )
    assert code == 3
    smoke = step(report, "smoke-test")
    assert smoke["status"] == "failed"
    assert "curl: (22) The requested URL returned error: 500" in smoke["error"]
    (job,) = namespace_restore.dr.truth.jobs()
    assert (job.succeeded, job.pods) == (False, 1)  # drill's Jobs never retry: backoffLimit 0


def test_a_restore_that_meets_another_restores_objects_fails_instead_of_verifying_them(
    namespace_restore: Drill,
) -> None:
    """Another run restoring into the same namespace at once (another plan with the same
    drill namespace): what verify would read there is that restore's, so this one fails
    rather than measure RPO and readiness from objects it did not bring back."""
    drill = namespace_restore
    before = snapshot(drill.dr, WATCHED)
    # The workload another restore brought: what this run's readiness check would wait for.
    other = deployment("api-server", replicas=3)
    other["metadata"] = {
        "name": "api-server",
        "namespace": "dr-test",
        "labels": {"app": "api-server", "velero.io/restore-name": "drill-0123456789"},
    }

    def restore_elsewhere() -> None:
        deadline = time.monotonic() + 30
        while drill.dr.get("v1", "Namespace", "dr-test") is None:
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)
        drill.dr.apply(other)  # before this run's restore brings its own

    racer = threading.Thread(target=restore_elsewhere, daemon=True)
    racer.start()
    report, result = drill.run_json("namespace-restore")
    racer.join(timeout=10)
    assert result.returncode == 3, result.stderr[-3000:]
    restore = step(report, "restore-production")
    assert restore["status"] == "failed"
    assert "Deployment api-server" in restore["error"]
    assert "another Velero restore brought" in restore["error"]
    assert report["rpo"]["from_data_s"] is None
    assert report["rollback"]["verified"] is True
    wait_gone(drill, "dr-test")
    after = snapshot(drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before
