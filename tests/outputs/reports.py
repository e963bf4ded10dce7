"""Run reports built directly, as the executor would leave them: one passed, one failed live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drill.report import (
    RollbackCheck,
    RollbackReport,
    Rpo,
    Rto,
    RunReport,
    StepReport,
    UndoReport,
)

STARTED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
FINISHED = STARTED + timedelta(minutes=9, seconds=30)


def step(step_id: str, phase: str, status: str = "passed", **kw: object) -> StepReport:
    ran = status not in ("skipped", "not_run")
    fields: dict[str, object] = {
        "id": step_id,
        "type": "http.check",
        "phase": phase,
        "description": f"{step_id} does its thing",
        "status": status,
        "duration_s": 12.5 if ran else None,
        "attempts": 1 if ran else 0,
    }
    return StepReport.model_validate({**fields, **kw})


def passed_report(**kw: object) -> RunReport:
    fields: dict[str, object] = {
        "run_id": "region-failure-20260301-020000-ab12",
        "plan": "region-failure",
        "plan_file": "plans/region-failure.yaml",
        "service": "api-server",
        "tier": "high",
        "mode": "drill",
        "outcome": "passed",
        "exit_code": 0,
        "started_at": STARTED,
        "finished_at": FINISHED,
        "disaster_at": STARTED,
        "disaster_at_source": "run start",
        "rpo": Rpo(
            target_s=3600, measured_s=720, margin_s=2880, met=True, source="velero backup b-1"
        ),
        "rto": Rto(target_s=14400, measured_s=310, margin_s=14090, met=True, source="verify"),
        "contexts": {"dr": "dr-cluster"},
        "steps": [
            step("backup-fresh", "preflight", duration_s=0.4),
            step("restore-production", "restore", type="velero.restore", duration_s=95.25),
            step("public-endpoint", "verify", status="skipped", skip_reason="serves users"),
            step("smoke", "verify", duration_s=3.0),
        ],
    }
    return RunReport.model_validate({**fields, **kw})


LONG_ERROR = "restore ended PartiallyFailed: " + "x" * 2000


def failed_report() -> RunReport:
    """A live run whose restore failed, whose RTO was not measured, and one undo failed."""
    return passed_report(
        mode="live",
        outcome="failed",
        exit_code=3,
        rto=Rto(target_s=14400, measured_s=None, margin_s=None, met=False, source="verify failed"),
        steps=[
            step("backup-fresh", "preflight"),
            step("restore-production", "restore", status="failed", error=LONG_ERROR),
            step("smoke", "verify", status="timed_out", error="no answer <b>&</b> within 5m"),
            step("late-check", "verify", status="not_run"),
        ],
        undo=[
            UndoReport(
                step_id="scale-up",
                type="kube.scale",
                status="failed",
                detail="replicas changed since",
                started_at=FINISHED,
                duration_s=0.2,
            )
        ],
        rollback_command="drill rollback region-failure-20260301-020000-ab12 --report-dir r",
    )


def rolled_back(verified: bool | None) -> RollbackReport:
    """A drill's rollback of 4.5 s: the DNS record read back equal, the backend as verified."""
    backend = {True: "equal", False: "differs", None: "not verified"}[verified]
    return RollbackReport(
        started_at=FINISHED - timedelta(seconds=5),
        finished_at=FINISHED - timedelta(seconds=0.5),
        duration_s=4.5,
        verified=verified,
        checks=[
            RollbackCheck(
                step_id="switch-dns",
                target="A record drill-api.example.com.",
                status="equal",
                detail="203.0.113.10 ttl 300, as drill found it",
            ),
            RollbackCheck(
                step_id="switch-backend",
                target="backend service api-backend-drill",
                status=backend,
                detail=f"read back: {backend}",
            ),
        ],
    )
