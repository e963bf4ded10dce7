"""The run report: what happened, measured against the targets. Schema version 2.

These models are the JSON report's schema (``drill/report/schema.json`` is generated from
them and checked by a test); change them only together with ``SCHEMA_VERSION``.

Version 2 added, each defaulted so a version 1 document still reads as one: RPO from data
beside RPO from backup metadata (``rpo.from_data_s``, ``rpo.points``), the two RTO clocks
(``rto.service_restored_s``, ``rto.users_served_s``), ``probes``, ``client_cutover``,
``restores`` (restore completeness), ``rollback`` (verified and timed), ``kind`` (a
``drill rollback`` writes a report of its own, of kind ``rollback``) and where each target
came from (``target_source``, ``tier_default_s``, ``config_target_s``: a plan's or the config
file's override, and the tier default it replaced).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from drill.tiers import TargetOrigin, TargetSource

SCHEMA_VERSION: Literal[2] = 2
# Versions this drill reads: every field version 2 added has a default.
READABLE_SCHEMA_VERSIONS = (1, 2)

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
    # Built on first use: a run builds its report when it ends, not before its first request.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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
    target_source: TargetSource = Field(
        default="tier default",
        description="what set target_s: the tier's built-in default, the config file, or the "
        "plan's own targets",
    )
    tier_default_s: float | None = Field(
        default=None,
        description="when target_source is not 'tier default': the tier's built-in target that "
        "target_s replaced; null for a tier only the config file defines",
    )
    config_target_s: float | None = Field(
        default=None,
        description="when the plan overrode a target the config file set: the config's value",
    )
    measured_s: float | None = Field(description="None when the run could not measure it")
    margin_s: float | None = Field(description="target minus measured; negative means missed")
    met: bool | None
    source: str = Field(description="what set the measured value, or why there is none")

    def target_origin(self) -> TargetOrigin:
        return TargetOrigin(self.target_source, self.tier_default_s, self.config_target_s)

    def with_target_origin(self, origin: TargetOrigin) -> Self:
        """This objective, saying where its target came from."""
        return self.model_copy(
            update={
                "target_source": origin.source,
                "tier_default_s": origin.tier_default_s,
                "config_target_s": origin.config_s,
            }
        )


RecoveryPointKind = Literal["data", "backup metadata"]


class RecoveryPointReport(_Model):
    """One source's recovery point: the newest moment whose data the recovery brought back."""

    step_id: str
    at: datetime
    kind: RecoveryPointKind = Field(
        description="data: read inside the recovered data (a heartbeat); "
        "backup metadata: when a backup says it was taken"
    )
    source: str = Field(description="what said so, in words")


class Rpo(Objective):
    """RPO: ``measured_s`` (pass/fail) is from data when a data source measured it."""

    from_data_s: float | None = Field(
        default=None, description="t0 minus the oldest recovery point read inside the data"
    )
    from_backup_s: float | None = Field(
        default=None,
        description="t0 minus the oldest recovery point from backup metadata. Velero and S3 "
        "keep those times in whole seconds, so this may exceed the truth by up to 1 s, never "
        "fall short of it",
    )
    points: list[RecoveryPointReport] = Field(default_factory=list)


class Rto(Objective):
    """RTO: ``measured_s`` (pass/fail) is the service-restored clock."""

    service_restored_s: float | None = Field(
        default=None, description="t0 to the last verify step passing"
    )
    users_served_s: float | None = Field(
        default=None,
        description="RTO as users see it: t0 to the start of the run of probe successes that "
        "lasted to the end of verify; None when not measured (see users_served_source)",
    )
    users_served_source: str | None = Field(
        default=None, description="how users_served_s was measured, or why it was not"
    )


class ProbeAttempt(_Model):
    """One request of a probe: when it started, and how it was answered."""

    at: datetime
    ok: bool
    latency_ms: float | None = Field(default=None, description="None when nothing answered")
    status: int | None = None
    error: str | None = Field(default=None, description="why the attempt failed")
    phase: str | None = Field(default=None, description="the phase running when it started")


class ProbePhase(_Model):
    """A probe's results while one phase ran; latencies are those of successful attempts."""

    phase: str
    attempts: int
    successes: int
    success_ratio: float | None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None


class ProbeReport(_Model):
    """One probe of what users reach, run from the run's start to the end of verify."""

    name: str
    url: str = Field(description="secrets in it masked")
    through: str | None = Field(
        default=None,
        description="the context role whose API server the probe asked the url's Service "
        "through (services/proxy); null when asked directly",
    )
    interval_s: float
    successes_needed: int = Field(
        default=1, description="successes in a row that count as users being served"
    )
    attempts: int
    successes: int
    success_ratio: float | None
    downtime_s: float | None = Field(
        description="client-observed time without a success: from each failed attempt to the "
        "next attempt (or the end of verify)"
    )
    users_served_at: datetime | None = Field(
        default=None,
        description="start of the run of successes that lasted to the end of verify, when it "
        "was at least successes_needed long",
    )
    not_served: str | None = Field(default=None, description="why users_served_at is None")
    started_at: datetime | None = None
    stopped_at: datetime | None = Field(default=None, description="the end of verify")
    phases: list[ProbePhase] = Field(default_factory=list)
    timeline: list[ProbeAttempt] = Field(default_factory=list)


class ClientCutover(_Model):
    """A DNS switch as clients see it: they may cache the old answer for its TTL."""

    step_id: str
    record: str
    visible_after_s: float | None = Field(
        description="from the change to the nameservers answering it; None when not measured"
    )
    old_ttl_s: int | None = Field(description="the replaced record's TTL; None when none was")
    worst_case_s: float | None = Field(description="visible_after_s plus the old record's TTL")
    not_measured: str | None = Field(default=None, description="why worst_case_s is None")


class RestoredKind(_Model):
    """One resource kind (``group/version/Kind``) of a restore, counted from Velero's lists."""

    kind: str
    in_backup: int | None = Field(
        description="items of this kind in the backup, in the namespaces the restore covers; "
        "null when the backup's resource list could not be read"
    )
    restored: int | None = Field(
        description="created or updated by the restore; null when its list could not be read"
    )
    skipped: int = Field(
        default=0,
        description="asked for and not restored (an existing object that differs, a failure)",
    )
    why_skipped: list[str] = Field(
        default_factory=list, description="the first skipped items, each with Velero's reason"
    )
    excluded: int = Field(
        default=0,
        description="left out by a rule, not lost: a kind Velero never restores, the plan's "
        "filters, a namespace or an equal object that was already there",
    )
    why_excluded: list[str] = Field(default_factory=list)


class RestoreCompleteness(_Model):
    """Items restored against items in the backup, per resource kind."""

    step_id: str
    backup: str
    restore: str = ""
    complete: bool | None = Field(
        description="true: every backed-up item the restore asked for was restored; false: "
        "some were skipped; null: the backup's or the restore's resource list could not be read"
    )
    reason: str = ""
    kinds: list[RestoredKind] = Field(default_factory=list)


RollbackCheckStatus = Literal["equal", "differs", "not verified"]


class RollbackCheck(_Model):
    """One object drill changed, re-read after undo and compared with its journaled prior."""

    step_id: str
    target: str
    status: RollbackCheckStatus
    detail: str


class RollbackReport(_Model):
    started_at: datetime
    finished_at: datetime
    duration_s: float
    verified: bool | None = Field(
        description="true: every object equals its prior state; false: one differs; "
        "null: one could not be checked"
    )
    checks: list[RollbackCheck] = Field(default_factory=list)


ReportKind = Literal["run", "rollback"]


class RunReport(_Model):
    schema_version: Literal[1, 2] = SCHEMA_VERSION
    kind: ReportKind = Field(
        default="run",
        description="run: a run's report; rollback: the report of a `drill rollback` of run "
        "run_id (rollback-report.json beside the run's report): started_at and finished_at "
        "are the rollback's, steps its rollback phase, rpo and rto not measured",
    )
    run_id: str
    plan: str
    plan_file: str
    service: str
    tier: str
    mode: Literal["drill", "live"]
    sandbox: bool = Field(
        default=False,
        description="a `--sandbox` run: against drill's local simulated world, never a real "
        "cluster or cloud",
    )
    outcome: Outcome
    exit_code: int
    started_at: datetime
    finished_at: datetime
    disaster_at: datetime = Field(description="t0: run start, or --disaster-at")
    disaster_at_source: Literal["run start", "--disaster-at"]
    recovery_point: datetime | None = None
    recovered_at: datetime | None = None
    rpo: Rpo
    rto: Rto
    contexts: dict[str, str]
    steps: list[StepReport]
    undo: list[UndoReport] = Field(default_factory=list)
    rollback: RollbackReport | None = None
    probes: list[ProbeReport] = Field(default_factory=list)
    client_cutover: list[ClientCutover] = Field(default_factory=list)
    restores: list[RestoreCompleteness] = Field(default_factory=list)
    rollback_command: str | None = None
    journal: str | None = None
    notes: list[str] = Field(default_factory=list)
