"""RTO as users see it, against the sandbox's ground truth of when each host began serving.

The sandbox's public endpoint answers a host only while its record points at a site that
really serves (Ready pods, a backend with healthy targets); its monitor records, at full
precision, when each host began serving. drill's probes must find the same moment, give or
take their interval, and say why when the target never served.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.child import REPO
from tests.drills.conftest import Drill, start_drill_sandbox
from tests.drills.test_namespace_restore import parse

pytestmark = pytest.mark.slow

GCP_PLAN = REPO / "plans" / "region-failure.yaml"
AWS_PLAN = REPO / "plans" / "region-failure-aws.yaml"
NAMESPACE_PLAN = REPO / "plans" / "namespace-restore.yaml"
DR_GROUP = "projects/example-prod/zones/us-east1-b/instanceGroups/api-us-east1"
# The probes run every 200ms of the plan, a tenth of that with the tests' brief sleeps; the
# bound leaves room for a busy machine.
BOUND_S = 0.25


@pytest.fixture
def gcp(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([GCP_PLAN], tmp_path)


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([AWS_PLAN], tmp_path)


@pytest.fixture
def restore(tmp_path: Path) -> Iterator[Drill]:
    yield from start_drill_sandbox([NAMESPACE_PLAN], tmp_path)


def truly_served_from(drill: Drill, host: str, report: dict[str, Any]) -> datetime | None:
    """When ``host`` began the serving period that held at the end of verify, by the sandbox."""
    (probe,) = report["probes"]
    stopped = parse(probe["stopped_at"])
    holding = [
        period
        for period in drill.sandbox.served.periods(host)
        if period.began <= stopped and (period.ended is None or period.ended >= stopped)
    ]
    return holding[-1].began if holding else None


def bound_s(report: dict[str, Any]) -> float:
    """How far after the truth drill may say users were served: BOUND_S, or, when this busy
    machine starved the probe thread, the sampling gap it left at the transition (from the
    last failed attempt to the attempt after it). The truth lies inside that gap, so a figure
    beyond it is a wrong pick of attempt, and fails."""
    (probe,) = report["probes"]
    moments = [(parse(a["at"]), a["ok"]) for a in probe["timeline"]]
    moments.sort()
    failed = [index for index, (_, ok) in enumerate(moments) if not ok]
    if not failed or failed[-1] + 1 >= len(moments):
        return BOUND_S
    gap_s = (moments[failed[-1] + 1][0] - moments[failed[-1]][0]).total_seconds()
    return max(BOUND_S, gap_s + 0.05)


def assert_users_served_matches_truth(drill: Drill, host: str, report: dict[str, Any]) -> None:
    t0 = parse(report["disaster_at"])
    truth = truly_served_from(drill, host, report)
    assert truth is not None, drill.sandbox.served.periods(host)
    truth_s = (truth - t0).total_seconds()
    measured_s = report["rto"]["users_served_s"]
    assert measured_s is not None, report["rto"]["users_served_source"]
    # An attempt counts from when it was sent, the gateway judges it when it arrives: one sent
    # a moment before serving began may already be served.
    assert -0.05 <= measured_s - truth_s <= bound_s(report), (measured_s, truth_s)
    assert report["rto"]["users_served_source"].startswith("t0 to the first of 3")
    assert report["rto"]["measured_s"] == report["rto"]["service_restored_s"]


def test_a_gcp_drill_times_users_served_as_the_sandbox_saw_it(gcp: Drill) -> None:
    report, result = gcp.run_json(str(GCP_PLAN))
    assert result.returncode == 0, result.stderr[-3000:]
    host = "drill-api.example.com"
    # the shadow record's host did not serve before the drill's failover made it
    started = parse(report["started_at"])
    assert all(p.began > started for p in gcp.sandbox.served.periods(host))
    assert_users_served_matches_truth(gcp, host, report)
    (probe,) = report["probes"]
    phases = {p["phase"]: p for p in probe["phases"]}
    assert phases["restore"]["successes"] == 0
    assert phases["verify"]["success_ratio"] == 1.0
    # ...and stopped serving once the drill was undone
    assert gcp.sandbox.served.periods(host)[-1].ended is not None
    (cutover,) = report["client_cutover"]
    assert cutover["old_ttl_s"] == 300
    assert cutover["worst_case_s"] == pytest.approx(cutover["visible_after_s"] + 300, abs=0.001)


def test_an_aws_drill_times_users_served_as_the_sandbox_saw_it(aws: Drill) -> None:
    report, result = aws.run_json(str(AWS_PLAN))
    assert result.returncode == 0, result.stderr[-3000:]
    assert_users_served_matches_truth(aws, "drill-api.example.com", report)
    (cutover,) = report["client_cutover"]
    assert cutover["visible_after_s"] is None
    assert cutover["not_measured"] == "not measured: no verify nameservers"


def test_a_live_failover_counts_from_the_last_time_users_were_served_again(gcp: Drill) -> None:
    """The primary serves until the record moves to a DR backend that is not healthy yet:
    users are served, lose service, and are served again."""
    report, result = gcp.run_json(str(GCP_PLAN), live=True)
    assert result.returncode == 0, result.stderr[-3000:]
    host = "api.example.com"
    assert len(gcp.sandbox.served.periods(host)) == 2
    assert_users_served_matches_truth(gcp, host, report)
    (probe,) = report["probes"]
    assert probe["downtime_s"] > 0
    assert report["rto"]["users_served_s"] > 0


def test_a_target_that_never_serves_is_not_measured_and_says_why(
    tmp_path: Path, gcp: Drill
) -> None:
    """Verify passes (it never looks at the load balancer), but users were never served."""
    plan = tmp_path / "region-failure.yaml"
    plan.write_text(GCP_PLAN.read_text().replace("        wait_healthy: 5m\n", ""))
    compute = gcp.sandbox.cloud.compute
    assert compute is not None
    compute.never_healthy(DR_GROUP)
    report, result = gcp.run_json(str(plan))
    assert result.returncode == 0, result.stderr[-3000:]
    assert report["rto"]["service_restored_s"] is not None
    assert report["rto"]["users_served_s"] is None
    assert report["rto"]["users_served_source"] == (
        "not measured: probe users was not serving at the end of verify: "
        "its last attempt failed (answered 503)"
    )
    assert report["probes"][0]["successes"] == 0
    assert gcp.sandbox.served.periods("drill-api.example.com") == []


def test_a_restored_service_with_no_public_address_is_probed_through_the_api_server(
    restore: Drill,
) -> None:
    """The restored copy in dr-test has no public address: the probe asks its Service through
    the DR cluster's API server, and users are served from its first pod turning Ready."""
    report, result = restore.run_json(str(NAMESPACE_PLAN))
    assert result.returncode == 0, result.stderr[-3000:]
    (probe,) = report["probes"]
    assert probe["url"] == "http://api-server.dr-test.svc/healthz"
    assert probe["through"] == "dr"
    # before the restore the Service did not exist, then it had no Ready endpoint: the API
    # server's own refusals, quoted
    errors = [a["error"] for a in probe["timeline"] if not a["ok"]]
    assert any('services "api-server" not found' in e for e in errors), errors
    assert any('no endpoints available for service "api-server"' in e for e in errors), errors
    started, t0 = parse(report["started_at"]), parse(report["disaster_at"])
    ready = [
        r.ready_at
        for r in restore.dr.truth.pods_ready(
            "dr-test", {"app.kubernetes.io/instance": "api-server"}
        )
        if r.ready_at >= started
    ]
    assert ready, "no pod of the restored api-server turned Ready"
    truth_s = (min(ready) - t0).total_seconds()
    measured_s = report["rto"]["users_served_s"]
    assert measured_s is not None, report["rto"]["users_served_source"]
    assert -0.05 <= measured_s - truth_s <= bound_s(report), (measured_s, truth_s)
    assert measured_s <= report["rto"]["service_restored_s"]
