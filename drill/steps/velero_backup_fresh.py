"""``velero.backup_fresh``: the newest Completed backup is young enough, on a usable location.

Judged at t0: the backup is the newest that had completed by then, and its age is t0 minus its
start, so ``--disaster-at`` checks the backup a recovery to that moment would use.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from drill.durations import format_duration
from drill.errors import StepFailed
from drill.fieldtypes import KubeName, KubeObjectName, LabelSelector, PositiveDuration, exactly_one
from drill.steps._base import RecoveryPoint, StepEnv, StepParams, StepResult, StepType
from drill.steps._velero import (
    ScheduleName,
    completed_backups,
    latest_at_t0,
    require_available_location,
)


class VeleroBackupFreshParams(StepParams):
    schedule: ScheduleName | None = Field(
        default=None,
        description="The Velero Schedule whose backups count. Give exactly one of schedule, "
        "backup or selector.",
        examples=["daily-backup"],
    )
    backup: KubeObjectName | None = Field(
        default=None,
        description="One Velero Backup by name, instead of a schedule's newest.",
        examples=["daily-backup-20260101020000"],
    )
    selector: LabelSelector | None = Field(
        default=None,
        description="A label selector: the newest of the backups it matches counts.",
        examples=["app=api-server"],
    )
    max_age: PositiveDuration = Field(
        description="How old the newest Completed backup may be, by its start time (which "
        "becomes the recovery point).",
        examples=["26h"],
    )
    velero_namespace: KubeName = Field(
        default="velero", description="The namespace Velero runs in.", examples=["velero"]
    )
    check_storage_location: bool = Field(
        default=True,
        description="Also require the backup's storage location to be Available: a restore "
        "from an unavailable one fails validation.",
        examples=[False],
    )

    @model_validator(mode="after")
    def _one_source(self) -> VeleroBackupFreshParams:
        exactly_one(self, "schedule", "backup", "selector")
        return self

    def source(self) -> str:
        if self.schedule:
            return f"schedule {self.schedule}"
        return f"backup {self.backup}" if self.backup else f"backups matching {self.selector}"


class VeleroBackupFresh(StepType[VeleroBackupFreshParams]):
    name = "velero.backup_fresh"
    params_model = VeleroBackupFreshParams
    summary = "newest Completed Velero backup is younger than max_age; sets the recovery point"
    needs_context = True
    default_timeout_s = 60.0
    recovery_point_kind = "backup metadata"

    def describe(self, params: VeleroBackupFreshParams) -> str:
        age = format_duration(params.max_age)
        return f"newest Completed backup of {params.source()} is under {age} old"

    def run(self, params: VeleroBackupFreshParams, env: StepEnv) -> StepResult:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        backups = completed_backups(velero, params.schedule, params.backup, params.selector)
        if not backups:
            raise StepFailed(
                f"no Completed backup of {params.source()} in {params.velero_namespace}"
            )
        newest = latest_at_t0(backups, params.source(), env)
        assert newest.started_at is not None, "completed_backups keeps only started ones"
        age_s = (env.t0() - newest.started_at).total_seconds()
        if age_s > params.max_age:
            raise StepFailed(
                f"newest Completed backup {newest.name} is {format_duration(age_s)} old, "
                f"over max_age {format_duration(params.max_age)}"
            )
        if params.check_storage_location:
            require_available_location(velero, newest)
        return StepResult(
            summary=f"backup {newest.name} completed, {format_duration(age_s)} old at t0",
            facts={
                "backup": newest.name,
                "age_s": round(age_s, 3),
                "location": newest.storage_location,
            },
            recovery_point=RecoveryPoint(
                at=newest.started_at, source=f"velero backup {newest.name} startTimestamp"
            ),
        )
