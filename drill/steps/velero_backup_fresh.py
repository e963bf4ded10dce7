"""``velero.backup_fresh``: the newest Completed backup is young enough, on a usable location."""

from __future__ import annotations

from pydantic import model_validator

from drill.durations import format_duration
from drill.errors import StepFailed
from drill.fieldtypes import Duration, KubeName, exactly_one
from drill.steps._base import RecoveryPoint, StepEnv, StepParams, StepResult, StepType
from drill.steps._velero import newest_completed, require_available_location


class VeleroBackupFreshParams(StepParams):
    schedule: str | None = None
    backup: str | None = None
    selector: str | None = None
    max_age: Duration
    velero_namespace: KubeName = "velero"
    check_storage_location: bool = True

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

    def describe(self, params: VeleroBackupFreshParams) -> str:
        age = format_duration(params.max_age)
        return f"newest Completed backup of {params.source()} is under {age} old"

    def run(self, params: VeleroBackupFreshParams, env: StepEnv) -> StepResult:
        velero = env.providers.velero(env.cluster(), params.velero_namespace)
        newest = newest_completed(velero, params.schedule, params.backup, params.selector)
        if newest is None or newest.started_at is None:
            raise StepFailed(
                f"no Completed backup of {params.source()} in {params.velero_namespace}"
            )
        age_s = (env.clock.now() - newest.started_at).total_seconds()
        if age_s > params.max_age:
            raise StepFailed(
                f"newest Completed backup {newest.name} is {format_duration(age_s)} old, "
                f"over max_age {format_duration(params.max_age)}"
            )
        if params.check_storage_location:
            require_available_location(velero, newest)
        return StepResult(
            summary=f"backup {newest.name} completed, {format_duration(age_s)} old",
            facts={
                "backup": newest.name,
                "age_s": round(age_s, 3),
                "location": newest.storage_location,
            },
            recovery_point=RecoveryPoint(
                at=newest.started_at, source=f"velero backup {newest.name} startTimestamp"
            ),
        )
