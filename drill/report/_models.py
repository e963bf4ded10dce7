"""The run report: what happened, measured against the targets. Schema version 1.

These models are the JSON report's schema (``drill/report/schema.json`` is generated from
them and checked by a test); change them only together with ``SCHEMA_VERSION``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

StepStatus = Literal["passed", "failed", "timed_out", "skipped", "interrupted", "not_run"]
UndoStatus = Literal["undone", "failed", "skipped"]
Outcome = Literal["passed", "target_missed", "failed", "interrupted", "rollback_incomplete"]
Fact = str | int | float | bool | None

# How every renderer and notification words an outcome.
VERDICTS: dict[Outcome, str] = {
    "passed": "PASSED",
    "target_missed": "TARGET MISSED",
    "failed": "FAILED",
    "interrupted": "INTERRUPTED",
    "rollback_incomplete": "ROLLBACK INCOMPLETE - a human is needed",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepReport(_Model):
    id: str
    type: str
    phase: str
    description: str
    status: StepStatus
    skip_reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    attempts: int = 0
    error: str | None = None
    summary: str | None = None
    facts: dict[str, Fact] = Field(default_factory=dict)


class UndoReport(_Model):
    step_id: str
    type: str
    status: UndoStatus
    detail: str
    started_at: datetime
    duration_s: float


class Objective(_Model):
    """One of RPO and RTO: the target, what was measured, and by how much it was met."""

    target_s: float
    measured_s: float | None = Field(description="None when the run could not measure it")
    margin_s: float | None = Field(description="target minus measured; negative means missed")
    met: bool | None
    source: str = Field(description="what set the measured value, or why there is none")


class RunReport(_Model):
    schema_version: Literal[1] = 1
    run_id: str
    plan: str
    plan_file: str
    service: str
    tier: str
    mode: Literal["drill", "live"]
    outcome: Outcome
    exit_code: int
    started_at: datetime
    finished_at: datetime
    disaster_at: datetime = Field(description="t0: run start, or --disaster-at")
    disaster_at_source: Literal["run start", "--disaster-at"]
    recovery_point: datetime | None = None
    recovered_at: datetime | None = None
    rpo: Objective
    rto: Objective
    contexts: dict[str, str]
    steps: list[StepReport]
    undo: list[UndoReport] = Field(default_factory=list)
    rollback_command: str | None = None
    journal: str | None = None
    notes: list[str] = Field(default_factory=list)
