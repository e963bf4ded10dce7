"""The region-failure runbooks (GCP and AWS) in the sandbox: drill, live, rollback, faults.

After a drill every record, backend and replica count equals its value before the run; after
--live they equal the plan's targets; after `drill rollback RUN` they are back to their values
before the live run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.child import REPO
from tests.drills.conftest import Drill, snapshot, start_drill_sandbox
from tests.drills.test_namespace_restore import parse, step, wait_gone

# Whole drills with real (if short) simulated waits: seconds each.
pytestmark = pytest.mark.slow

GCP_PLAN = REPO / "plans" / "region-failure.yaml"
AWS_PLAN = REPO / "plans" / "region-failure-aws.yaml"
WATCHED = ("production", "default", "velero")


@pytest.fixture
def gcp(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([GCP_PLAN], tmp_path)


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([AWS_PLAN], tmp_path)


def world(drill: Drill) -> dict[str, Any]:
    """Every record, backend set and object in the sandbox, plus the DR cluster's objects."""
    return {"cloud": drill.sandbox.cloud.snapshot(), "dr": snapshot(drill.dr, WATCHED)}


def replicas(drill: Drill, namespace: str, name: str) -> int:
    found = drill.dr.get("apps/v1", "Deployment", name, namespace)
    assert found is not None
    return int(found["spec"]["replicas"])


def drill_leaves_everything_as_it_was(drill: Drill, plan: Path) -> dict[str, Any]:
    before = world(drill)
    report, result = drill.run_json(str(plan))
    assert result.returncode == 0, result.stderr[-3000:]
    assert report["outcome"] == "passed"
    assert all(u["status"] == "undone" for u in report["undo"]), report["undo"]
    rollback_verified_object_by_object(report)
    # The read-back waited for the namespace to go: it is gone when the report says so.
    assert drill.dr.get("v1", "Namespace", "dr-test") is None
    after = world(drill)
    assert after["cloud"] == before["cloud"]
    assert {key: after["dr"].get(key) for key in before["dr"]} == before["dr"]
    return report


def rollback_verified_object_by_object(report: dict[str, Any]) -> None:
    """Every undone step was read back equal, and the rollback's time spans its undos."""
    rollback = report["rollback"]
    assert rollback["verified"] is True
    checked = {c["step_id"] for c in rollback["checks"]}
    assert checked == {u["step_id"] for u in report["undo"]}
    assert all(c["status"] == "equal" for c in rollback["checks"]), rollback["checks"]
    started, finished = parse(rollback["started_at"]), parse(rollback["finished_at"])
    assert (finished - started).total_seconds() == pytest.approx(rollback["duration_s"], abs=0.002)
    assert sum(u["duration_s"] for u in report["undo"]) <= rollback["duration_s"]
    # A drill rolls back after its verify phase; `drill rollback` from its own start.
    verified = [
        parse(s["finished_at"])
        for s in report["steps"]
        if s["phase"] == "verify" and s["finished_at"]
    ]
    assert max(verified, default=parse(report["started_at"])) <= started
    assert finished <= parse(report["finished_at"])


def test_gcp_drill_switches_only_shadow_targets_and_puts_them_back(gcp: Drill) -> None:
    report = drill_leaves_everything_as_it_was(gcp, GCP_PLAN)
    assert step(report, "switch-dns")["facts"]["to"] == "34.56.78.90 ttl 60"
    dns = next(c for c in report["rollback"]["checks"] if c["step_id"] == "switch-dns")
    assert dns["target"] == "A record drill-api.example.com."
    cloud = gcp.sandbox.cloud
    assert cloud.dns is not None
    shadow = cloud.dns.record("example-prod", "example-com", "drill-api.example.com.", "A")
    assert shadow is not None
    shown = f"{', '.join(shadow.rrdatas)} ttl {shadow.ttl}"
    assert dns["detail"] == f"{shown}, as drill found it"  # what the emulator holds
    export = step(report, "database-export-fresh")["facts"]["object"]
    assert export.startswith("gs://prod-backups/db/")
    # Only the shadow record and the drill backend moved, each once there and once back.
    cloud = gcp.sandbox.cloud
    assert cloud.dns is not None
    assert cloud.compute is not None
    changed = [{r.name for r in (*c.additions, *c.deletions)} for c in cloud.dns.truth]
    assert changed == [{"drill-api.example.com."}] * 2
    targets = [op.target.rsplit("/", 1)[-1] for op in cloud.compute.truth.operations]
    assert targets == ["api-backend-drill"] * 2


def gcp_serving(drill: Drill) -> tuple[Any, list[str], int]:
    """(the production record, the production backend groups, the standby's replicas)."""
    cloud = drill.sandbox.cloud
    assert cloud.dns is not None
    assert cloud.compute is not None
    record = cloud.dns.record("example-prod", "example-com", "api.example.com.", "A")
    groups = [b["group"] for b in cloud.compute.backends("example-prod", "api-backend")]
    return record, groups, replicas(drill, "production", "api-server-standby")


def test_gcp_live_switches_for_real_and_rollback_puts_everything_back(gcp: Drill) -> None:
    before = world(gcp)
    old_record, old_groups, old_replicas = gcp_serving(gcp)
    report, result = gcp.run_json(str(GCP_PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert report["undo"] == []
    record, groups, standby = gcp_serving(gcp)
    assert (record.ttl, record.rrdatas) == (60, ("34.56.78.90",))
    assert groups == ["projects/example-prod/zones/us-east1-b/instanceGroups/api-us-east1"]
    assert standby == 20
    assert report["rollback_command"].startswith(f"drill rollback {report['run_id']}")

    run_dir = gcp.commands.reports / report["run_id"]
    run_report = (run_dir / "report.json").read_text()
    rollback = gcp.rollback(report["run_id"])
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert gcp_serving(gcp) == (old_record, old_groups, old_replicas)
    assert world(gcp)["cloud"] == before["cloud"]

    # The rollback is reported like a run, beside the run's own report, which stays as it was.
    assert (run_dir / "report.json").read_text() == run_report
    reported = json.loads((run_dir / "rollback-report.json").read_text())
    assert (reported["kind"], reported["outcome"], reported["exit_code"]) == (
        "rollback",
        "passed",
        0,
    )
    assert reported["run_id"] == report["run_id"]
    rollback_verified_object_by_object(reported)
    assert [s["id"] for s in reported["steps"]] == ["primary-serving"]  # failback confirmed
    assert "Rollback report: " in rollback.stdout
    assert "verified: all 6 objects read back as drill found them" in rollback.stdout
    page = (run_dir / "rollback-report.html").read_text()
    assert 'data-verified="verified"' in page


def test_rollback_leaves_a_record_someone_changed_since_and_says_so(gcp: Drill) -> None:
    _, old_groups, old_replicas = gcp_serving(gcp)
    report, result = gcp.run_json(str(GCP_PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    cloud = gcp.sandbox.cloud
    assert cloud.dns is not None
    # Back at the primary, but not as drill found it (TTL 30, not 300): the primary serves, so
    # the rollback phase's check passes, and the read-back still finds the record changed.
    cloud.dns.set_record(
        "example-prod", "example-com", "api.example.com.", "A", 30, ["203.0.113.10"]
    )
    rollback = gcp.rollback(report["run_id"])
    assert rollback.returncode == 4
    assert "someone changed it since; left as is" in rollback.stdout
    reported = json.loads(
        (gcp.commands.reports / report["run_id"] / "rollback-report.json").read_text()
    )
    assert (reported["outcome"], reported["exit_code"]) == ("rollback_incomplete", 4)
    assert reported["rollback"]["verified"] is False
    statuses = {c["target"]: c["status"] for c in reported["rollback"]["checks"]}
    assert statuses.pop("A record api.example.com.") == "differs"
    assert set(statuses.values()) == {"equal"}  # everything else was put back
    [dns] = [c for c in reported["rollback"]["checks"] if c["step_id"] == "switch-dns"]
    assert dns["detail"] == "203.0.113.10 ttl 30, not 203.0.113.10 ttl 300 as drill found it"
    assert reported["rollback_command"] == (
        f"drill rollback {report['run_id']} --report-dir {gcp.commands.reports} --sandbox"
    )
    record, groups, standby = gcp_serving(gcp)
    assert (record.ttl, record.rrdatas) == (30, ("203.0.113.10",))
    assert (groups, standby) == (old_groups, old_replicas)


def test_a_refused_backend_permission_fails_the_drill_and_undoes_dns(gcp: Drill) -> None:
    before = world(gcp)
    cloud = gcp.sandbox.cloud
    assert cloud.compute is not None
    cloud.compute.forbid("compute.backendServices.update")
    report, result = gcp.run_json(str(GCP_PLAN))
    assert result.returncode == 3
    failed = step(report, "switch-backend")
    assert failed["status"] == "failed"
    assert "permission denied" in failed["error"]
    assert "compute.backendServices.update" in failed["error"]
    assert failed["attempts"] == 1  # a refused permission is not retried
    assert {u["step_id"]: u["status"] for u in report["undo"]} == {
        "switch-backend": "undone",
        "switch-dns": "undone",
        "restore-namespace": "undone",
    }
    wait_gone(gcp, "dr-test")
    assert world(gcp)["cloud"] == before["cloud"]


def aws_serving(drill: Drill) -> tuple[Any, dict[str, int], int]:
    """(the production record, the production listener's weights, the standby's replicas)."""
    aws = drill.sandbox.cloud.aws
    assert aws is not None
    record = aws.record(aws.zone_id("example.com."), "api.example.com.", "CNAME")
    weights = aws.listener_weights("api-alb:443")
    return record, weights, replicas(drill, "production", "api-server-standby")


def test_aws_drill_switches_only_shadow_targets_and_puts_them_back(aws: Drill) -> None:
    report = drill_leaves_everything_as_it_was(aws, AWS_PLAN)
    export = step(report, "database-export-fresh")["facts"]["object"]
    assert export.startswith("s3://example-prod-backups/db/")
    listener = step(report, "switch-listener")["facts"]
    assert listener["to"] == "api-drill-us-west-2@100, api-drill-us-east-1@0"
    assert step(report, "switch-dns")["facts"]["to"] == (
        "dr-alb-123456.us-west-2.elb.amazonaws.com. ttl 60"
    )


def test_aws_live_switches_for_real_and_rollback_puts_everything_back(aws: Drill) -> None:
    before = world(aws)
    old = aws_serving(aws)
    assert old[1] == {"api-us-east-1": 100, "api-us-west-2": 0}
    report, result = aws.run_json(str(AWS_PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    record, weights, standby = aws_serving(aws)
    assert (record.ttl, record.rrdatas) == (60, ("dr-alb-123456.us-west-2.elb.amazonaws.com.",))
    assert weights == {"api-us-east-1": 0, "api-us-west-2": 100}
    assert standby == 20
    rollback = aws.rollback(report["run_id"])
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert aws_serving(aws) == old
    assert world(aws)["cloud"] == before["cloud"]


def test_an_unreadable_dns_zone_stops_the_run_in_preflight(gcp: Drill) -> None:
    before = world(gcp)
    cloud = gcp.sandbox.cloud
    assert cloud.dns is not None
    cloud.dns.deny(
        "dns.resourceRecordSets.list",
        "projects/example-prod/managedZones/example-com",
        count=10,
        path_pattern="*/rrsets*",
    )
    report, result = gcp.run_json(str(GCP_PLAN))
    assert result.returncode == 3
    check = step(report, "clouds-reachable")
    assert check["status"] == "failed"
    assert "switch-dns: " in check["error"]
    assert "permission denied" in check["error"]
    assert "dns.resourceRecordSets.list" in check["error"]
    assert step(report, "restore-namespace")["status"] == "not_run"
    assert report["undo"] == []
    assert world(gcp) == before


def journal_of(drill: Drill, run_id: str) -> Path:
    return drill.commands.reports / run_id / "journal.jsonl"


def test_rollback_refuses_a_journal_pointed_at_something_the_plan_never_changes(
    gcp: Drill,
) -> None:
    report, result = gcp.run_json(str(GCP_PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    journal = journal_of(gcp, report["run_id"])
    journal.write_text(journal.read_text().replace('"api.example.com."', '"www.example.com."'))
    serving = gcp_serving(gcp)
    rollback = gcp.rollback(report["run_id"])
    assert rollback.returncode == 2
    assert "refused: the journal's change of step 'switch-dns' would change DNS record" in (
        rollback.stderr
    )
    assert gcp_serving(gcp) == serving  # nothing undone, nothing else touched


def test_rollback_refuses_a_plan_changed_since_the_run_and_says_how_to_go_on(
    gcp: Drill, tmp_path: Path
) -> None:
    plan = tmp_path / "region-failure.yaml"
    plan.write_text(GCP_PLAN.read_text())
    report, result = gcp.run_json(str(plan), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    as_run = tmp_path / "as-run.yaml"
    as_run.write_text(plan.read_text())
    plan.write_text(plan.read_text().replace("replicas: 20", "replicas: 30"))
    refused = gcp.rollback(report["run_id"])
    assert refused.returncode == 2
    assert "changed since run" in refused.stderr
    assert "--plan FILE" in refused.stderr
    rolled_back = gcp.commands.rollback(report["run_id"], sandbox=True, yes=True, plan=as_run)
    assert rolled_back.returncode == 0, rolled_back.stdout + rolled_back.stderr


def test_a_job_reaches_the_worlds_public_endpoint_and_nothing_else_outside(gcp: Drill) -> None:
    dr = gcp.dr
    script = "curl -fsS https://api.example.com/healthz && echo && curl -fsS https://example.org/"
    dr.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "outside", "namespace": "default"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {
                                "name": "c",
                                "image": "curlimages/curl",
                                "command": ["sh", "-c", script],
                            }
                        ],
                    }
                },
            },
        }
    )
    deadline = time.monotonic() + 10
    while dr.truth.job("default", "outside") is None:
        assert time.monotonic() < deadline, "the Job did not finish"
        time.sleep(0.05)
    (pod,) = dr.list("v1", "Pod", "default")
    assert dr.logs.text_for(pod) == (
        '{"status": "ok", "host": "api.example.com"}\n'
        "curl: (6) Could not resolve host: example.org\n"
    )
    gateway = gcp.sandbox.cloud.gateway
    assert gateway is not None
    assert ("GET", "api.example.com", "/healthz") in gateway.requests
