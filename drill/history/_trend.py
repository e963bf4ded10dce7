"""One row per run: when, how it ended, RTO and RPO against target, the rollback's time and
whether it was verified, the slowest step.

RPO is the report's own: judged on the figure from data when the run read one, with the
figures from data and from backup metadata beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from drill.report import Objective, Outcome, Rpo, RunReport, StepReport

# Steps that ran; a skipped or unstarted step's duration says nothing about speed.
RAN = ("passed", "failed", "timed_out")


class SlowestStep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    duration_s: float


class TrendRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    started_at: datetime
    mode: str
    outcome: Outcome
    exit_code: int
    rto: Objective
    # RTO as users see it (probes), beside rto (service restored); None: not measured
    users_served_s: float | None = None
    rpo: Rpo
    # How long the drill's rollback took and whether every object read back as before; None
    # when nothing was rolled back (live runs, reports from before read-backs).
    rollback_s: float | None = None
    rollback_verified: bool | None = None
    slowest_step: SlowestStep | None


def trend_rows(reports: Sequence[RunReport]) -> list[TrendRow]:
    return [trend_row(report) for report in reports]


def trend_row(report: RunReport) -> TrendRow:
    return TrendRow(
        run_id=report.run_id,
        started_at=report.started_at,
        mode=report.mode,
        outcome=report.outcome,
        exit_code=report.exit_code,
        rto=report.rto,
        users_served_s=report.rto.users_served_s,
        rpo=report.rpo,
        rollback_s=report.rollback.duration_s if report.rollback else None,
        rollback_verified=report.rollback.verified if report.rollback else None,
        slowest_step=slowest_step(report.steps),
    )


def slowest_step(steps: Sequence[StepReport]) -> SlowestStep | None:
    timed = [s for s in steps if s.status in RAN and s.duration_s is not None]
    if not timed:
        return None
    slowest = max(timed, key=lambda s: s.duration_s or 0.0)
    return SlowestStep(id=slowest.id, duration_s=slowest.duration_s or 0.0)
