"""Scale, wait, smoke Job, namespaces and reachability, through a whole drill in the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.drills.conftest import Drill, snapshot, start_drill_sandbox
from tests.drills.test_namespace_restore import WATCHED, step, wait_gone

# Whole drills with real (if short) simulated waits: seconds each.
pytestmark = pytest.mark.slow

PLAN = Path(__file__).parent / "plans" / "scale-drill.yaml"


@pytest.fixture
def scale_drill(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([PLAN], tmp_path)


def replicas(drill: Drill, namespace: str) -> int:
    found = drill.dr.get("apps/v1", "Deployment", "api-server", namespace)
    assert found is not None
    return int(found["spec"]["replicas"])


def test_drill_scales_the_restored_copy_and_undoes_everything(scale_drill: Drill) -> None:
    before = snapshot(scale_drill.dr, WATCHED)
    report, result = scale_drill.run_json(str(PLAN))
    assert result.returncode == 0, result.stderr[-3000:]
    assert step(report, "scale-up")["facts"] == {"from": 3, "to": 5}
    assert "api-server 5/5" in step(report, "ready")["summary"]
    # The smoke Job really reached the restored Service: one of its pods answered.
    answer = step(report, "smoke")["facts"]["log_tail"]
    assert answer.startswith('{"status": "ok", "pod": "api-server-')
    assert [u["step_id"] for u in report["undo"]] == [
        "smoke",
        "scale-up",
        "restore",
        "create-namespace",
    ]
    assert all(u["status"] == "undone" for u in report["undo"])
    wait_gone(scale_drill, "dr-test")
    after = snapshot(scale_drill.dr, WATCHED)
    assert {key: after.get(key) for key in before} == before


def test_live_scales_the_standby_and_rollback_puts_it_back(scale_drill: Drill) -> None:
    assert replicas(scale_drill, "production") == 2  # the warm standby the world started with
    report, result = scale_drill.run_json(str(PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert replicas(scale_drill, "production") == 5
    rollback = scale_drill.rollback(report["run_id"])
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert replicas(scale_drill, "production") == 2
    # a second rollback finds nothing left to undo
    again = scale_drill.rollback(report["run_id"])
    assert "nothing left to undo" in again.stdout


def test_failed_smoke_job_fails_the_drill_and_is_deleted(scale_drill: Drill) -> None:
    scale_drill.dr.faults.fail_job("dr-test", "drill-smoke-*")
    scale_drill.dr.set_job_log("dr-test", "*", "curl: (7) Failed to connect")
    report, result = scale_drill.run_json(str(PLAN))
    assert result.returncode == 3
    smoke = step(report, "smoke")
    assert smoke["status"] == "failed"
    assert "failed" in smoke["error"]
    wait_gone(scale_drill, "dr-test")
    assert scale_drill.dr.list("batch/v1", "Job") == []


def test_unreachable_context_is_named_before_the_lease_and_nothing_runs(
    scale_drill: Drill,
) -> None:
    scale_drill.sandbox.clusters["primary"].stop()
    result = scale_drill.run(str(PLAN))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(
        "drill: context role 'primary': kube context 'sandbox-primary' ("
    ), result.stderr
    assert f"{scale_drill.sandbox.kubeconfig}): API server http" in result.stderr
    assert result.stderr.rstrip().endswith("connection refused or host unreachable")
    assert len(result.stderr.strip().splitlines()) == 1
    # No lease was taken and no run began: no journal, no namespace, no Lease object.
    assert not list(scale_drill.commands.reports.glob("*/journal.jsonl"))
    assert scale_drill.dr.list("coordination.k8s.io/v1", "Lease") == []


def test_refuses_to_delete_a_namespace_the_run_did_not_create(
    scale_drill: Drill, tmp_path: Path
) -> None:
    plan = tmp_path / "greedy.yaml"
    plan.write_text(
        PLAN.read_text()
        + "  cleanup:\n    - id: delete-default\n      type: kube.namespace\n      context: dr\n"
        "      live: {skip: only drills clean up}\n"
        "      with: {action: delete, name: default}\n"
    )
    report, result = scale_drill.run_json(str(plan))
    assert result.returncode == 4  # cleanup incomplete: a human decides
    assert "not created by this run" in step(report, "delete-default")["error"]
    assert scale_drill.dr.get("v1", "Namespace", "default") is not None


def test_a_drill_deleting_what_it_restores_from_never_starts(
    scale_drill: Drill, tmp_path: Path
) -> None:
    plan = tmp_path / "greedy.yaml"
    plan.write_text(
        PLAN.read_text()
        + "  cleanup:\n    - id: delete-production\n      type: kube.namespace\n      context: dr\n"
        "      with: {action: delete, name: production}\n"
    )
    result = scale_drill.run(str(plan))
    assert result.returncode == 2
    assert "would change namespace production (context role dr), which is production" in (
        result.stderr
    )
    assert scale_drill.dr.get("v1", "Namespace", "production") is not None
