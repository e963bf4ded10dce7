"""One row per run: when, how it ended, RTO and RPO against target, the slowest step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from drill.report import Objective, Outcome, RunReport, StepReport

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
    rpo: Objective
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
        slowest_step=slowest_step(report.steps),
    )


def slowest_step(steps: Sequence[StepReport]) -> SlowestStep | None:
    timed = [s for s in steps if s.status in RAN and s.duration_s is not None]
    if not timed:
        return None
    slowest = max(timed, key=lambda s: s.duration_s or 0.0)
    return SlowestStep(id=slowest.id, duration_s=slowest.duration_s or 0.0)
