"""``velero.backup_fresh``: the newest Completed backup is young enough, on a usable location."""

from __future__ import annotations

from pydantic import model_validator

from drill.durations import format_duration
from drill.fieldtypes import Duration, KubeName, exactly_one
from drill.steps._base import PlannedStepType, StepParams


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


class VeleroBackupFresh(PlannedStepType[VeleroBackupFreshParams]):
    name = "velero.backup_fresh"
    params_model = VeleroBackupFreshParams
    summary = "newest Completed Velero backup is younger than max_age; sets the recovery point"
    needs_context = True
    default_timeout_s = 60.0

    def describe(self, params: VeleroBackupFreshParams) -> str:
        source = (
            f"schedule {params.schedule}"
            if params.schedule
            else f"backup {params.backup}"
            if params.backup
            else f"backups matching {params.selector}"
        )
        return f"newest Completed backup of {source} is under {format_duration(params.max_age)} old"
