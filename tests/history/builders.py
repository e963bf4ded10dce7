"""Run reports built in code, one per day, for history tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from drill.report import Objective, Outcome, Rpo, Rto, RunReport, StepReport, StepStatus

PLAN = "region-failure"
FIRST_RUN_AT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
TARGET_S = 3600.0
STEADY = {"backup-fresh": 2.0, "restore-db": 180.0, "switch-dns": 30.0, "smoke-test": 12.0}


def run_id(index: int) -> str:
    return f"{PLAN}-{started_at(index):%Y%m%d-%H%M%S}-{index:04x}"


def started_at(index: int) -> datetime:
    return FIRST_RUN_AT + timedelta(days=index)


def objective(measured_s: float | None, target_s: float = TARGET_S) -> Objective:
    margin_s = None if measured_s is None else target_s - measured_s
    return Objective(
        target_s=target_s,
        measured_s=measured_s,
        margin_s=margin_s,
        met=None if margin_s is None else margin_s >= 0,
        source="built in a test",
    )


def step(step_id: str, duration_s: float, status: StepStatus = "passed") -> StepReport:
    return StepReport(
        id=step_id,
        type="http.check",
        phase="verify",
        description=f"{step_id} (test)",
        status=status,
        duration_s=duration_s,
        attempts=1,
    )


def report(
    index: int,
    durations: Mapping[str, float] = STEADY,
    *,
    statuses: Mapping[str, StepStatus] | None = None,
    rto_s: float | None = 600.0,
    rpo_s: float | None = 1200.0,
    outcome: Outcome = "passed",
    plan: str = PLAN,
) -> RunReport:
    """Run ``index`` (one a day from FIRST_RUN_AT) with these step durations."""
    start = started_at(index)
    return RunReport(
        run_id=run_id(index),
        plan=plan,
        plan_file=f"plans/{plan}.yaml",
        service="api",
        tier="high",
        mode="drill",
        outcome=outcome,
        exit_code={"passed": 0, "target_missed": 1}.get(outcome, 3),
        started_at=start,
        finished_at=start + timedelta(seconds=900),
        disaster_at=start,
        disaster_at_source="run start",
        rpo=Rpo(**objective(rpo_s).model_dump()),
        rto=Rto(**objective(rto_s).model_dump()),
        contexts={"dr": "gke_dr"},
        steps=[step(i, d, (statuses or {}).get(i, "passed")) for i, d in durations.items()],
    )


def steady(count: int) -> list[RunReport]:
    """``count`` runs whose step times wobble a little around STEADY, oldest first."""
    wobble = (1.0, 1.08, 0.95, 1.03, 0.97, 1.05, 0.99)
    return [
        report(i, {k: v * wobble[i % len(wobble)] for k, v in STEADY.items()}) for i in range(count)
    ]


def with_durations(index: int, **changed: float) -> RunReport:
    """Run ``index`` with STEADY times except ``changed`` (step ids with _ for -)."""
    return report(index, {**STEADY, **{k.replace("_", "-"): v for k, v in changed.items()}})
